//! Services cached by id (see `crate::cache` for the rules).
use super::model::Service;
use super::repo;
use crate::cache::{Load, TtlCache};
use crate::db::DbConn;
use crate::error::AppError;

pub type ServiceCache = TtlCache<Service>;

impl Load for Service {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, AppError> {
        match repo::find(conn, id) {
            Ok(service) => Ok(Some(service)),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, AppError> {
        Ok(repo::find_many(conn, ids)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect())
    }
}
