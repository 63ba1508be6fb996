//! Turning a requested `scope` into what a grant may issue: every service id
//! must be registered (`invalid_scope` otherwise), and the access token's
//! audience is exactly the service ids.
use std::sync::Arc;

use super::error::OAuthError;
use crate::db::DbConn;
use crate::registry::model::HUB_SERVICE_ID;
use crate::registry::repo as services_repo;
use crate::scopes::{self, Requested};
use crate::startup::AppState;

pub fn parse(text: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let entries = scopes::parse("scope", text.unwrap_or(""))
        .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if entries.is_empty() {
        // Hub's default: a token for Hub itself.
        return Ok(vec![HUB_SERVICE_ID.to_owned()]);
    }
    Ok(entries)
}

pub fn require_registered(conn: &mut DbConn, services: &[String]) -> Result<(), OAuthError> {
    let known = services_repo::names_of(conn, services)?;
    match services
        .iter()
        .find(|id| !known.iter().any(|(k, _)| k == *id))
    {
        Some(unknown) => Err(OAuthError::invalid_scope(format!(
            "'{unknown}' is not a registered service"
        ))),
        None => Ok(()),
    }
}

/// `require_registered` answered from the service cache, reading only misses.
pub async fn require_registered_cached(
    state: &AppState,
    services: &[String],
) -> Result<(), OAuthError> {
    let mut misses = Vec::new();
    for id in services {
        match state.services.fresh(id) {
            Some(Some(_)) => {}
            Some(None) => {
                return Err(OAuthError::invalid_scope(format!(
                    "'{id}' is not a registered service"
                )))
            }
            None => misses.push(id.clone()),
        }
    }
    if misses.is_empty() {
        return Ok(());
    }
    let cache = Arc::clone(&state.services);
    super::run(&state.pool, move |conn| {
        for id in &misses {
            if cache.lookup(conn, id)?.is_none() {
                return Err(OAuthError::invalid_scope(format!(
                    "'{id}' is not a registered service"
                )));
            }
        }
        Ok(())
    })
    .await
}

/// The audience of a user's token: the requested services, or the client itself
/// when only OpenID Connect scopes were asked for.
pub fn audience(requested: &Requested, client_id: &str) -> Vec<String> {
    if requested.services.is_empty() {
        vec![client_id.to_owned()]
    } else {
        requested.services.clone()
    }
}

/// A scope for a token acting for a user (password, code, refresh).
pub fn for_user(
    conn: &mut DbConn,
    text: Option<&str>,
) -> Result<(Vec<String>, Requested), OAuthError> {
    let entries = parse(text)?;
    let requested = Requested::from_entries(entries.clone());
    if !requested.users.is_empty() {
        return Err(OAuthError::invalid_scope(
            "user: scopes are only for the client_credentials grant",
        ));
    }
    require_registered(conn, &requested.services)?;
    Ok((entries, requested))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_scope_means_hub_and_audience_falls_back_to_client() {
        assert_eq!(parse(None).unwrap(), vec![HUB_SERVICE_ID]);
        let requested = Requested::from_entries(vec!["openid".into()]);
        assert_eq!(audience(&requested, "client"), vec!["client"]);
        let requested = Requested::from_entries(vec!["a".into(), "openid".into()]);
        assert_eq!(audience(&requested, "client"), vec!["a"]);
    }
}
