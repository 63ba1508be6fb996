//! `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4): the device
//! polls with its device code until the user decides; once allowed, it gets
//! the tokens once.
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::context::{GrantCaches, GrantDeps};
use super::issued::{IdTokenRequest, Issued};
use crate::db::DbConn;
use crate::oauth2::access_token::{Grantable, SignedIn};
use crate::oauth2::client_auth::{Client, PresentedClient};
use crate::oauth2::error::OAuthError;
use crate::oauth2::{device, refresh_tokens, scope_rules};
use crate::scope::{Requested, StoredScope, OFFLINE_ACCESS, OPENID};
use crate::users::model::User;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeviceCodeRequest {
    pub device_code: String,
}

pub async fn grant(
    deps: &GrantDeps<'_>,
    presented: PresentedClient,
    request: DeviceCodeRequest,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    let ttl = deps.policy.refresh_token_ttl;
    deps.run_for_client(presented, move |conn, caches, client| {
        redeem(conn, caches, &client, &request, ttl, now)
    })
    .await
}

fn redeem(
    conn: &mut DbConn,
    caches: GrantCaches<'_>,
    client: &Client,
    request: &DeviceCodeRequest,
    ttl: Duration,
    now: NaiveDateTime,
) -> Result<Issued, OAuthError> {
    if !client.service.device_flow_enabled {
        return Err(OAuthError::unauthorized_client(
            "the device flow is turned off for this service",
        ));
    }
    // Not in a transaction: a refused poll still records when it came.
    let redeemed = device::poll(conn, &client.service.id, &request.device_code, now)?;
    let user = match caches.users.lookup(conn, &redeemed.user_id)? {
        Some(user) if !user.banned => User::clone(&user),
        _ => return Err(OAuthError::invalid_grant("the user is banned or gone")),
    };
    let entries = StoredScope(&redeemed.scope).to_vec();
    let requested = Requested::from_entries(entries.clone());
    let refresh_token = match requested.has(OFFLINE_ACCESS) {
        true => Some(refresh_tokens::issue(
            conn,
            &redeemed.grant_id,
            &redeemed.scope,
            caches.dpop_jkt.filter(|_| !client.confidential),
            ttl,
            now,
        )?),
        false => None,
    };
    let id_token = requested.has(OPENID).then(|| IdTokenRequest {
        user: user.clone(),
        auth_time: redeemed.auth_time,
        nonce: None,
        sid: redeemed.sid.clone(),
        groups: None,
        amr: redeemed.amr.clone(),
    });
    Ok(Issued {
        client_id: client.service.id.clone(),
        grantable: Grantable {
            subject: user.id,
            audience: scope_rules::audience(&requested, &client.service.id),
            scope: entries,
            signed_in: SignedIn::of(redeemed.auth_time, redeemed.amr.as_deref()),
            grant_id: Some(redeemed.grant_id),
            ..Grantable::default()
        },
        refresh_token,
        id_token,
    })
}
