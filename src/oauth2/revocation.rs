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
use crate::db::DbPool;
use crate::registry::cache::ServiceCache;

/// Revokes `token` if it belongs to the caller. `claims` are the token's
/// verified claims when it is an access token of ours.
pub async fn revoke(
    pool: &DbPool,
    services: &Arc<ServiceCache>,
    revoked: &Arc<RevokedSet>,
    presented: PresentedClient,
    token: String,
    claims: Option<Arc<AccessClaims>>,
    now: NaiveDateTime,
) -> Result<(), OAuthError> {
    let services = Arc::clone(services);
    let revoked = Arc::clone(revoked);
    super::run(pool, move |conn| {
        let client = client_auth::authenticate(conn, &services, &presented)?;
        let caller = client.service.id.clone();
        match claims {
            Some(claims) if claims.client_id == caller => {
                access_token::revoke(conn, &revoked, &claims, now)?
            }
            Some(_) => {}
            None => {
                if let Some((_, grant)) = refresh_tokens::find(conn, &token)? {
                    if grant.service_id == caller {
                        grants::revoke(conn, &revoked, &grant.id, now)?;
                    }
                }
            }
        }
        Ok(())
    })
    .await
}
