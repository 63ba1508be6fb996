//! The "Sign in with NAME" buttons of the sign-in page: the enabled modules
//! a browser signs in through, read from the database at most every few
//! seconds (a change shows on every instance within that), so showing the
//! page costs no query.
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::model::ModuleKind;
use super::repo;
use crate::db::DbPool;
use crate::error::AppError;

const FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub id: String,
    pub name: String,
}

type Cached = Option<(Instant, Arc<Vec<Button>>)>;

#[derive(Default)]
pub struct SignInButtons {
    cached: RwLock<Cached>,
}

impl SignInButtons {
    /// The buttons as last read (none before the first read).
    pub fn shown(&self) -> Arc<Vec<Button>> {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .map(|(_, buttons)| Arc::clone(buttons))
            .unwrap_or_default()
    }

    /// Reads them again when the last read is older than a few seconds.
    pub async fn refresh(&self, pool: &DbPool) -> Result<(), AppError> {
        let stale = {
            let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
            cached
                .as_ref()
                .is_none_or(|(read, _)| read.elapsed() > FRESH_FOR)
        };
        if !stale {
            return Ok(());
        }
        let buttons = crate::db::run(pool, |conn| {
            Ok(repo::enabled(conn, ModuleKind::Oidc)?
                .into_iter()
                .map(|module| Button {
                    id: module.id,
                    name: module.name,
                })
                .collect::<Vec<_>>())
        })
        .await?;
        let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
        *cached = Some((Instant::now(), Arc::new(buttons)));
        Ok(())
    }
}
