//! JSON plumbing of the REST API: `fields`-aware responses, list envelopes,
//! and extractor configs that turn bad input into Hub-shaped 4xx errors.
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::AppError;
use crate::fields::Fields;
use crate::paging::Page;
use crate::rest::strict_json::StrictValue;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsParam {
    pub fields: Option<String>,
}

impl FieldsParam {
    pub fn parse(&self) -> Result<Option<Fields>, AppError> {
        Fields::from_param(self.fields.as_deref())
    }
}

pub fn to_json(value: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::internal_from("serialization", e))
}

pub fn respond(value: Value, fields: Option<&Fields>) -> HttpResponse {
    let body = match fields {
        Some(fields) => fields.apply(value),
        None => value,
    };
    HttpResponse::Ok().json(body)
}

/// Hub's `{skip, top, total, <items>}` envelope. A `fields` selection that names
/// an envelope key shapes the envelope; any other selection shapes each item.
/// The keys of a list answer's envelope: a `fields` selection naming any of
/// them shapes the envelope, any other shapes each item.
fn envelope_keys(items_key: &str) -> [&str; 4] {
    ["skip", "top", "total", items_key]
}

/// Whether a list answer shaped by `fields` shows its `total`.
pub fn shows_total(items_key: &str, fields: Option<&Fields>) -> bool {
    match fields {
        Some(f) if f.mentions_any(&envelope_keys(items_key)) => f.contains("total"),
        _ => true,
    }
}

pub fn respond_list(
    items_key: &str,
    items: Vec<Value>,
    total: i64,
    page: Page,
    fields: Option<&Fields>,
) -> HttpResponse {
    let (envelope_fields, item_fields) = match fields {
        Some(f) if f.mentions_any(&envelope_keys(items_key)) => (Some(f), None),
        other => (None, other),
    };
    let items: Vec<Value> = match item_fields {
        Some(f) => items.into_iter().map(|v| f.apply(v)).collect(),
        None => items,
    };
    let mut envelope = json!({ "skip": page.skip, "top": page.top, "total": total });
    envelope[items_key] = Value::Array(items);
    respond(envelope, envelope_fields)
}

/// For answers that carry a secret or token shown this once.
pub fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

/// A JSON body whose type errors name the offending field (`redirectUris[2]`),
/// which actix's `Json` cannot, and in which no object repeats a key; size,
/// content type and syntax are still checked by `json_config`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<StrictValue>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(StrictValue(value)) = value.await?;
            serde_path_to_error::deserialize(value)
                .map(JsonBody)
                .map_err(|error| {
                    let field = error.path().to_string();
                    let message = format!("invalid JSON body: {}", error.inner());
                    match field.as_str() {
                        "." | "" => AppError::bad_request(message),
                        path => AppError::bad_field(path, message),
                    }
                    .into()
                })
        })
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |error, _req: &HttpRequest| json_error(error, limit).into())
}

fn json_error(error: JsonPayloadError, limit: usize) -> AppError {
    match error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge(limit)
        }
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
            "the body must be JSON (Content-Type: application/json)".into(),
        ),
        JsonPayloadError::Deserialize(e) => {
            AppError::bad_request(format!("invalid JSON body: {e}"))
        }
        other => AppError::bad_request(format!("cannot read the body: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        let message = match error {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::bad_request(format!("invalid query string: {message}")).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|error, _req| AppError::bad_request(format!("invalid path: {error}")).into())
}
