//! Token revocation (RFC 7009). A client revokes its own tokens: an access
//! token by its `jti`, a refresh token together with its whole grant. Unknown
//! or foreign tokens change nothing, and the caller learns nothing either way.
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::access_token::AccessClaims;
use super::client_auth::{self, PresentedClient};
use super::error::OAuthError;
use super::revoked_set::RevokedSet;
use super::{access_token, grants, refresh_tokens};
use crate::audit::{self, Actor, Event, Kind, Origin};
use crate::db::DbPool;
use crate::registry::cache::ServiceCache;

/// A revocation request: the client, the token, and where it came from.
pub struct RevocationRequest {
    pub presented: PresentedClient,
    pub token: String,
    /// The token's verified claims when it is an access token of ours.
    pub claims: Option<Arc<AccessClaims>>,
    pub origin: Origin,
}

/// Revokes the token if it belongs to the caller, and records it.
pub async fn revoke(
    pool: &DbPool,
    services: &Arc<ServiceCache>,
    revoked: &Arc<RevokedSet>,
    request: RevocationRequest,
    now: NaiveDateTime,
) -> Result<(), OAuthError> {
    let services = Arc::clone(services);
    let revoked = Arc::clone(revoked);
    super::run(pool, move |conn| {
        let RevocationRequest {
            presented,
            token,
            claims,
            origin,
        } = request;
        let client = client_auth::authenticate(conn, &services, &presented)?;
        let caller = client.service.id.clone();
        let by_client =
            Event::new(Kind::TokenRevoked, Actor::Service(caller.clone()), origin).service(&caller);
        // The revocation and its record commit together; one that changes
        // nothing (already revoked) is not recorded again.
        crate::db::transaction(conn, |conn| {
            let event = match claims {
                Some(claims) if claims.client_id == caller => {
                    if !access_token::revoke(conn, &revoked, &claims, now)? {
                        return Ok(());
                    }
                    let event = by_client
                        .detail("tokenType", "access_token")
                        .detail("jti", claims.jti.as_str());
                    match claims.user_id() {
                        Some(user) => event.user(user),
                        None => event,
                    }
                }
                Some(_) => return Ok(()),
                None => match refresh_tokens::find(conn, &token)? {
                    Some((_, grant)) if grant.service_id == caller => {
                        if !grants::revoke(conn, &revoked, &grant.id, now)? {
                            return Ok(());
                        }
                        let event = by_client
                            .detail("tokenType", "refresh_token")
                            .detail("grantId", grant.id.as_str());
                        match grant.user_id {
                            Some(user) => event.user(user),
                            None => event,
                        }
                    }
                    _ => return Ok(()),
                },
            };
            audit::store::record(conn, &event, now)?;
            Ok(())
        })
    })
    .await
}
