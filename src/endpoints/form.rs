//! The form body of the OAuth endpoints (RFC 6749 §3.2): URL-encoded only, each
//! parameter at most once, empty values treated as absent.
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, ResponseError};

use crate::oauth2::client_auth::{self, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::rest::request_log::note_client;
use crate::state::AppState;
use crate::web::page::PageError;

#[derive(Debug, Default)]
pub struct OAuthForm {
    params: Vec<(String, String)>,
}

impl OAuthForm {
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, OAuthError> {
        let media_type = content_type
            .map(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {}
            "" if body.is_empty() => {}
            "multipart/form-data" => {
                return Err(OAuthError::invalid_request(
                    "multipart bodies are not accepted; send application/x-www-form-urlencoded",
                ));
            }
            _ => {
                return Err(OAuthError::invalid_request(
                    "the body must be application/x-www-form-urlencoded",
                ));
            }
        }
        let mut seen: Vec<String> = Vec::new();
        let mut params: Vec<(String, String)> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            if key.contains('\0') || value.contains('\0') {
                return Err(OAuthError::invalid_request(
                    "parameters must not contain NUL characters",
                ));
            }
            // The decoder replaces bytes that are not UTF-8 with U+FFFD; no
            // OAuth parameter holds that character, so its presence means
            // the body was not UTF-8.
            if key.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                return Err(OAuthError::invalid_request("the body is not valid UTF-8"));
            }
            // A repeat is refused even when one copy is empty (RFC 6749 §3.2).
            if seen.iter().any(|k| *k == key) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter '{key}' is repeated"
                )));
            }
            seen.push(key.clone().into_owned());
            if !value.is_empty() {
                params.push((key.into_owned(), value.into_owned()));
            }
        }
        Ok(Self { params })
    }

    /// A browser endpoint's parameters, by the same rules, refused with a
    /// page rather than an OAuth error body. A GET passes its query string.
    pub fn for_page(req: &HttpRequest, body: &[u8]) -> Result<Self, PageError> {
        let content_type = match req.method() == actix_web::http::Method::GET {
            true => Some("application/x-www-form-urlencoded"),
            false => req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        };
        Self::parse(content_type, body).map_err(|e| PageError::bad_request(e.description))
    }

    /// The form as a request type (serde): unknown parameters are ignored,
    /// absent ones `None`.
    pub fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, OAuthError> {
        crate::oauth2::from_params(&self.params)
            .map_err(|e| OAuthError::invalid_request(format!("the request cannot be read: {e}")))
    }

    /// `read`, for a browser endpoint: a bad request gets a page.
    pub fn read_page<T: serde::de::DeserializeOwned>(&self) -> Result<T, PageError> {
        self.read()
            .map_err(|e| PageError::bad_request(e.description))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.params
    }

    /// The two parameters every token request (introspection, RFC 7662;
    /// revocation, RFC 7009) carries: a confidential client and the token.
    pub fn client_and_token(
        &self,
        req: &HttpRequest,
    ) -> Result<(PresentedClient, String), OAuthError> {
        let presented = client_auth::require_client(self.presented_client(req)?)?;
        Ok((presented, self.require("token")?.to_owned()))
    }

    /// The client's credentials, from the `Authorization` header or this form.
    pub fn presented_client(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<PresentedClient>, OAuthError> {
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or(""));
        let presented = client_auth::presented(client_auth::Credentials {
            authorization,
            form_id: self.get("client_id"),
            form_secret: self.get("client_secret"),
            form_assertion_type: self.get("client_assertion_type"),
            form_assertion: self.get("client_assertion"),
        })?;
        if let Some(client) = &presented {
            note_client(req, &client.client_id);
        }
        Ok(presented)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key)
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter '{key}' is missing")))
    }
}

impl FromRequest for OAuthForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(64 * 1024, |state| state.settings.max_body_bytes);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|error| {
                if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    // 413 as the status, and an OAuth error code as the body.
                    let mut response = OAuthError::invalid_request(format!(
                        "the body is larger than {limit} bytes"
                    ))
                    .error_response();
                    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
                    actix_web::error::InternalError::from_response("body too large", response)
                        .into()
                } else {
                    actix_web::Error::from(OAuthError::invalid_request(
                        "the body could not be read",
                    ))
                }
            })?;
            Ok(Self::parse(content_type.as_deref(), &body)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=UTF-8");

    #[test]
    fn parses_and_treats_empty_as_absent() {
        let form = OAuthForm::parse(FORM, b"grant_type=password&scope=a+b&state=").unwrap();
        assert_eq!(form.get("grant_type"), Some("password"));
        assert_eq!(form.get("scope"), Some("a b"));
        assert_eq!(form.get("state"), None);
        assert!(form.require("state").is_err());
    }

    #[test]
    fn repeats_and_other_media_types_are_refused() {
        assert!(OAuthForm::parse(FORM, b"scope=a&scope=b").is_err());
        assert!(OAuthForm::parse(Some("application/json"), b"{}").is_err());
        assert!(OAuthForm::parse(Some("multipart/form-data; boundary=x"), b"--x").is_err());
        assert!(OAuthForm::parse(None, b"").is_ok());
        assert!(OAuthForm::parse(FORM, b"username=&username=x").is_err());
        assert!(OAuthForm::parse(FORM, b"token=%FF%FE").is_err());
        assert!(OAuthForm::parse(FORM, b"token=a%00b").is_err());
    }
}
