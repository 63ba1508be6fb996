//! Users cached by id for their profile (name, login, email) and whether they
//! are banned, on the hot paths. A ban drops the entry at once on the instance
//! that wrote it and through the change feed on the others; if the feed
//! fails, within the one-second TTL.
use super::model::User;
use super::repo;
use crate::cache::{Load, TtlCache};
use crate::db::DbConn;
use crate::error::StoreError;

pub type UserCache = TtlCache<User>;

impl Load for User {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, StoreError> {
        repo::get(conn, id)
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, StoreError> {
        Ok(repo::get_many(conn, ids)?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }
}
