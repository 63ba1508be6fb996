//! Turning a requested `scope` into what a grant may issue: an empty scope
//! means the Hub service, every service id must be registered
//! (`invalid_scope` otherwise), and the access token's audience is exactly the
//! service ids.
use std::sync::Arc;

use super::error::OAuthError;
use crate::db::{DbConn, DbPool};
use crate::registry::cache::ServiceCache;
use crate::registry::model::{Service, HUB_SERVICE_ID};
use crate::registry::repo::{self as services_repo, UnknownService};
use crate::scope::{self, Requested, ServiceId};

/// The scope entries of a request; Hub's default, when none are named, is a
/// token for Hub itself.
pub fn parse(text: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let entries = scope::parse("scope", text.unwrap_or(""))
        .map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if entries.is_empty() {
        return Ok(vec![HUB_SERVICE_ID.to_owned()]);
    }
    Ok(entries)
}

fn unknown(error: UnknownService) -> OAuthError {
    OAuthError::invalid_scope(error.to_string())
}

/// The names of the requested services, all of which must be registered.
pub fn registered_names(
    conn: &mut DbConn,
    services: &[ServiceId],
) -> Result<Vec<(String, String)>, OAuthError> {
    services_repo::registered_names(conn, services)?.map_err(unknown)
}

/// The registration check answered from the service cache, reading only misses.
pub async fn require_registered_cached(
    pool: &DbPool,
    cache: &Arc<ServiceCache>,
    services: &[ServiceId],
) -> Result<(), OAuthError> {
    let mut misses = Vec::new();
    for id in services.iter().map(ServiceId::as_str) {
        match cache.fresh(id) {
            Some(Some(_)) => {}
            Some(None) => return Err(unknown(UnknownService(id.to_owned()))),
            None => misses.push(id.to_owned()),
        }
    }
    if misses.is_empty() {
        return Ok(());
    }
    let cache = Arc::clone(cache);
    super::run(pool, move |conn| {
        for id in misses {
            if cache.lookup(conn, &id)?.is_none() {
                return Err(unknown(UnknownService(id)));
            }
        }
        Ok(())
    })
    .await
}

/// The audience of a user's token: the requested services, or the client itself
/// when only OpenID Connect scopes were asked for.
pub fn audience(requested: &Requested, client_id: &str) -> Vec<ServiceId> {
    if requested.services.is_empty() {
        vec![ServiceId::new(client_id)]
    } else {
        requested.services.clone()
    }
}

/// The scope of a request by `client` for a token acting for a user
/// (authorization, device, password): no `user:` entries, and the Hub
/// service only for a client an administrator vouched for. A token for Hub
/// acts as the user in idhub itself; one consent click on a client anybody
/// registered under a name like "idhub Console" must not hand that over.
pub fn for_user(
    client: &Service,
    text: Option<&str>,
) -> Result<(Vec<String>, Requested), OAuthError> {
    let entries = parse(text)?;
    let requested = Requested::from_entries(entries.clone());
    if !requested.users.is_empty() {
        return Err(OAuthError::invalid_scope(
            "user: scopes are only for the client_credentials grant",
        ));
    }
    hub_allowed(client, &requested.services)?;
    Ok((entries, requested))
}

/// The Hub service only for a client an administrator vouched for, also
/// when a grant made before (or before its client lost `verified`) is
/// refreshed.
pub fn hub_allowed(client: &Service, services: &[ServiceId]) -> Result<(), OAuthError> {
    match refused_service(client) {
        Some(refused) if services.iter().any(|s| s.as_str() == refused) => Err(refusal_of(refused)),
        _ => Ok(()),
    }
}

/// The service this client may not ask for: the Hub service, unless an
/// administrator vouched for the client.
pub fn refused_service(client: &Service) -> Option<&'static str> {
    (!client.vouched_for()).then_some(HUB_SERVICE_ID)
}

/// The answer to a client asking for the service `refused_service` names.
pub fn refusal_of(service: &str) -> OAuthError {
    OAuthError::invalid_scope(format!(
        "an unverified client may not use the Hub service ({service}); an administrator can verify it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_scope_means_hub_and_audience_falls_back_to_client() {
        assert_eq!(parse(None).ok(), Some(vec![HUB_SERVICE_ID.to_owned()]));
        let requested = Requested::from_entries(vec!["openid".into()]);
        assert_eq!(
            audience(&requested, "client"),
            vec![ServiceId::new("client")]
        );
        let requested = Requested::from_entries(vec!["a".into(), "openid".into()]);
        assert_eq!(audience(&requested, "client"), vec![ServiceId::new("a")]);
        let mut client = Service::new("c".into(), String::new(), chrono::NaiveDateTime::default());
        assert!(for_user(&client, Some("a user:x")).is_err());
        assert!(for_user(&client, None).is_ok());
        client.verified = false;
        assert!(for_user(&client, None).is_err(), "empty means Hub");
        assert!(for_user(&client, Some("openid a")).is_ok());
        client.trusted = true;
        assert!(for_user(&client, Some(HUB_SERVICE_ID)).is_ok());
    }
}
