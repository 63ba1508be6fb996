//! `device_authorization_endpoint` (RFC 8628 §3.1–3.2): a device's client
//! authenticates as at the token endpoint (public clients send their
//! `client_id`) and gets a device code to poll with and a user code for its
//! user to type at `/device`.
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Serialize;

use super::client_guard;
use super::form::OAuthForm;
use crate::oauth2::error::OAuthError;
use crate::oauth2::{client_auth, device, scope_rules};
use crate::state::AppState;
use crate::{clock, db};

/// Where users type their code.
pub const VERIFICATION_PATH: &str = "/device";

/// RFC 8628 §3.2.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = DeviceAuthorizationResponse)]
pub(crate) struct Answer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: i64,
    interval: i32,
}

/// The device authorization request (RFC 8628 §3.1) and the client's
/// authentication.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct DeviceAuthorizationForm {
    pub scope: Option<String>,
    #[serde(flatten)]
    pub client: super::api_doc::ClientAuthentication,
}

#[utoipa::path(
    operation_id = "device_authorization",
    post,
    path = "/api/rest/oauth2/device",
    tag = "oauth2",
    summary = "Device authorization (RFC 8628 §3.1)",
    request_body(content = DeviceAuthorizationForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = Answer), crate::endpoints::api_doc::OAuthErrors),
    security((), ("basic" = []))
)]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: OAuthForm,
) -> Result<HttpResponse, OAuthError> {
    let presented = form.presented_client(&req)?;
    let DeviceAuthorizationForm { scope, .. } = form.read()?;
    let address = state.client_address(&req);
    let client_id = presented
        .as_ref()
        .map(|p| p.client_id.clone())
        .unwrap_or_default();
    let ttl_secs = state.settings.device_code_ttl_secs;
    let work = async {
        let presented = client_guard::proven(&state, "device", presented)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        let client =
            client_auth::authenticate_cached(&state.pool, &state.services, &presented).await?;
        if !client.service.device_flow_enabled {
            return Err(OAuthError::unauthorized_client(
                "the device flow is turned off for this service (deviceFlowEnabled)",
            ));
        }
        let (entries, requested) = scope_rules::for_user(&client.service, scope.as_deref())?;
        scope_rules::require_registered_cached(&state.pool, &state.services, &requested.services)
            .await?;
        let (id, now) = (client.service.id.clone(), clock::now());
        let scope = crate::scope::join(&entries);
        db::run(&state.pool, move |conn| {
            Ok(device::start(
                conn,
                &id,
                &scope,
                Duration::seconds(ttl_secs),
                now,
            )?)
        })
        .await
        .map_err(OAuthError::from)
    };
    let issued = client_guard::guarded(&state, address, &client_id, work).await?;
    let verification_uri = format!("{}{VERIFICATION_PATH}", state.issuer);
    let complete = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user_code", &issued.user_code)
        .finish();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Answer {
            device_code: issued.device_code,
            verification_uri_complete: format!("{verification_uri}?{complete}"),
            verification_uri,
            user_code: issued.user_code,
            expires_in: ttl_secs,
            interval: issued.interval_secs,
        }))
}
