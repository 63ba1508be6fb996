//! Hub permanent tokens: `perm:<b64url(login)>.<b64url(name)>.<random>`, shown
//! once at creation and stored only as a SHA-256 hash.
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::model::User;
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{permanent_tokens, users};
use crate::db::DbConn;
use crate::error::{AppError, StoreError};
use crate::paging::Page;
use crate::secrets;

pub const PREFIX: &str = "perm:";
/// Writing the last-access time on every request would turn each read into a write.
const LAST_ACCESS_RESOLUTION: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = permanent_tokens)]
pub struct PermanentToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub scope: String,
    pub token_hash: String,
    pub created: NaiveDateTime,
    pub last_access: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScopeEntry {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub scope: Vec<ScopeEntry>,
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_access_time: Option<i64>,
    /// Present only in the answer to the request that created the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

pub fn format_token(login: &str, name: &str) -> String {
    format!(
        "{PREFIX}{}.{}.{}",
        secrets::base64url(login.as_bytes()),
        secrets::base64url(name.as_bytes()),
        secrets::generate()
    )
}

/// Creates a token; returns the stored row and the plain token, which exists only here.
pub fn create(
    conn: &mut DbConn,
    user: &User,
    name: String,
    scope: &[String],
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(PermanentToken, String), AppError> {
    let plain = format_token(&user.login, &name);
    let row = PermanentToken {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        name,
        scope: crate::scope::join(scope),
        token_hash: secrets::hash(&plain),
        created: now,
        last_access: None,
    };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(permanent_tokens::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| match StoreError::from(e) {
                StoreError::Duplicate(_) => {
                    AppError::conflict("name", "this user already has a token with that name")
                }
                other => other.into(),
            })?;
        let created = caller
            .event(Kind::PermanentTokenCreated)
            .user(&row.user_id)
            .detail("tokenId", row.id.as_str())
            .detail("name", row.name.as_str())
            .detail("scope", row.scope.as_str());
        audit::store::record(conn, &created, now)?;
        Ok::<_, AppError>(())
    })?;
    Ok((row, plain))
}

pub fn list(
    conn: &mut DbConn,
    user_id: &str,
    page: Page,
) -> Result<(Vec<PermanentToken>, i64), StoreError> {
    let total = permanent_tokens::table
        .filter(permanent_tokens::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let items = permanent_tokens::table
        .filter(permanent_tokens::user_id.eq(user_id))
        .order((permanent_tokens::created.asc(), permanent_tokens::id.asc()))
        .offset(page.skip)
        .limit(page.top)
        .select(PermanentToken::as_select())
        .load(conn)?;
    Ok((items, total))
}

pub fn find(conn: &mut DbConn, user_id: &str, token_id: &str) -> Result<PermanentToken, AppError> {
    permanent_tokens::table
        .filter(permanent_tokens::user_id.eq(user_id))
        .filter(permanent_tokens::id.eq(token_id))
        .select(PermanentToken::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("permanent token"))
}

pub fn delete(
    conn: &mut DbConn,
    user_id: &str,
    token_id: &str,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let deleted = diesel::delete(
            permanent_tokens::table
                .filter(permanent_tokens::user_id.eq(user_id))
                .filter(permanent_tokens::id.eq(token_id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(AppError::not_found("permanent token"));
        }
        let event = caller
            .event(Kind::PermanentTokenDeleted)
            .user(user_id)
            .detail("tokenId", token_id);
        audit::store::record(conn, &event, crate::clock::now())?;
        Ok(())
    })
}

/// Turns a presented `perm:` token into its user and scope.
pub fn authenticate(
    conn: &mut DbConn,
    presented: &str,
    now: NaiveDateTime,
) -> Result<(User, PermanentToken), AppError> {
    if !presented.starts_with(PREFIX) {
        return Err(AppError::InvalidToken(
            "the token is not a permanent token".into(),
        ));
    }
    let found: Option<(PermanentToken, User)> = permanent_tokens::table
        .inner_join(users::table)
        .filter(permanent_tokens::token_hash.eq(secrets::hash(presented)))
        .select((PermanentToken::as_select(), User::as_select()))
        .first(conn)
        .optional()?;
    let (token, user) =
        found.ok_or_else(|| AppError::InvalidToken("the token is unknown or revoked".into()))?;
    if user.banned {
        return Err(AppError::InvalidToken("the token's user is banned".into()));
    }
    let stale = token
        .last_access
        .is_none_or(|seen| now - seen >= LAST_ACCESS_RESOLUTION);
    if stale {
        diesel::update(permanent_tokens::table.find(&token.id))
            .set(permanent_tokens::last_access.eq(now))
            .execute(conn)?;
    }
    Ok((user, token))
}

pub fn view(token: &PermanentToken, scope: Vec<ScopeEntry>, plain: Option<String>) -> TokenView {
    TokenView {
        id: token.id.clone(),
        name: token.name.clone(),
        scope,
        creation_time: token.created.and_utc().timestamp_millis(),
        last_access_time: token.last_access.map(|t| t.and_utc().timestamp_millis()),
        token: plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_hub_shape() {
        let token = format_token("admin", "setup");
        let rest = token.strip_prefix(PREFIX).unwrap();
        let parts: Vec<&str> = rest.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "YWRtaW4");
        assert_eq!(parts[1], "c2V0dXA");
        assert_eq!(parts[2].len(), 43);
    }
}
