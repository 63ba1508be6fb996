//! Users cached by id for their profile (name, login, email) on the hot paths.
//! Whether a user is banned is never taken from here: token checks ask the
//! database, so a ban works at once everywhere.
use diesel::prelude::*;

use super::model::User;
use super::repo;
use crate::cache::{Load, TtlCache};
use crate::db::schema::users;
use crate::db::DbConn;
use crate::error::AppError;

pub type UserCache = TtlCache<User>;

impl Load for User {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, AppError> {
        match repo::find(conn, id) {
            Ok(user) => Ok(Some(user)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, AppError> {
        let found: Vec<User> = users::table
            .filter(users::id.eq_any(ids))
            .select(User::as_select())
            .load(conn)?;
        Ok(found.into_iter().map(|u| (u.id.clone(), u)).collect())
    }
}
