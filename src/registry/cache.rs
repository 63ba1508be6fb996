//! Services cached by id (see `crate::cache` for the rules).
use super::model::Service;
use super::repo;
use crate::cache::{Load, TtlCache};
use crate::db::DbConn;
use crate::error::StoreError;

pub type ServiceCache = TtlCache<Service>;

impl Load for Service {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, StoreError> {
        repo::get(conn, id)
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, StoreError> {
        Ok(repo::find_many(conn, ids)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect())
    }
}
