use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::users;

pub const GUEST_LOGIN: &str = "guest";
pub const ADMIN_LOGIN: &str = "admin";

/// A user, as stored and as inserted.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub admin: bool,
    pub guest: bool,
    pub banned: bool,
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
}

impl User {
    /// An administrator: the admin flag, and never the guest account.
    pub fn is_admin(&self) -> bool {
        self.admin && !self.guest
    }
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub password_hash: Option<Option<String>>,
    pub admin: Option<bool>,
    pub banned: Option<bool>,
    pub updated: Option<NaiveDateTime>,
}

/// The REST view of a user; never carries the password hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub admin: bool,
    pub guest: bool,
    pub banned: bool,
    pub created: i64,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            login: user.login.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            admin: user.admin,
            guest: user.guest,
            banned: user.banned,
            created: user.created.and_utc().timestamp_millis(),
        }
    }
}
