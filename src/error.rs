//! The errors below HTTP: `StoreError` for storage, which keeps its cause,
//! and `AppError` for domain rules, which wraps it. The edges map them: the
//! REST API to Hub-shaped JSON (`rest::error_response`), the OAuth endpoints
//! to RFC 6749 errors, the pages to an error page; every 5xx logs the whole
//! cause chain (`cause_chain`).
use std::error::Error as StdError;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A failure of the database or of reaching it, with its cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had (pool timeout, refused, closed connection).
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// The database refused a write for lack of disk space.
    #[error("the database has no space left")]
    OutOfSpace(#[source] DieselError),
    /// A unique index refused the row: that value is taken.
    #[error("an entry with the same unique value already exists")]
    Duplicate(#[source] DieselError),
    /// A foreign key refused the row.
    #[error("a referenced entity does not exist")]
    MissingReference(#[source] DieselError),
    #[error("a database query failed")]
    Query(#[source] DieselError),
    /// The blocking task running the query did not finish (it panicked).
    #[error("a database task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

impl StoreError {
    /// A failure of the database, not of the request: answered with 503.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::OutOfSpace(_))
    }
}

/// Messages of errors that say the storage, not the query, failed: SQLite's
/// SQLITE_FULL, SQLITE_IOERR and SQLITE_BUSY past the busy timeout;
/// PostgreSQL's disk_full (53100) and statement_timeout cancellation.
fn storage_failure(message: &str) -> Option<bool> {
    const OUT_OF_SPACE: &[&str] = &["database or disk is full", "No space left on device"];
    const UNAVAILABLE: &[&str] = &[
        "disk I/O error",
        "database is locked",
        "canceling statement due to statement timeout",
        "terminating connection",
    ];
    if OUT_OF_SPACE.iter().any(|m| message.contains(m)) {
        return Some(true);
    }
    UNAVAILABLE
        .iter()
        .any(|m| message.contains(m))
        .then_some(false)
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | DieselError::BrokenTransactionManager => Self::Unavailable(Box::new(error)),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Duplicate(error)
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::MissingReference(error)
            }
            DieselError::DatabaseError(_, ref info) => match storage_failure(info.message()) {
                Some(true) => Self::OutOfSpace(error),
                Some(false) => Self::Unavailable(Box::new(error)),
                None => Self::Query(error),
            },
            other => Self::Query(other),
        }
    }
}

/// `error: cause: cause's cause`, for the log line of a 5xx.
pub fn cause_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    #[error("authentication required")]
    MissingCredentials,
    #[error("{0}")]
    InvalidToken(String),
    /// A token or DPoP proof refused with a `DPoP` challenge (RFC 9449 §7.1):
    /// `code` is `invalid_token` or `invalid_dpop_proof`.
    #[error("{message}")]
    DpopChallenge {
        code: String,
        message: String,
        /// A fresh nonce when the proof lacked one (`use_dpop_nonce`).
        nonce: Option<String>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A rate the caller went past; worth retrying after that many seconds.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("storage failed")]
    Store(#[source] StoreError),
    /// A failure that is idhub's fault, with its cause when there is one.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        cause: Option<Box<dyn StdError + Send + Sync>>,
    },
}

impl AppError {
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            field: None,
        }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn internal(context: impl Into<String>) -> Self {
        Self::Internal {
            context: context.into(),
            cause: None,
        }
    }

    /// An internal failure caused by `cause`, which the 5xx log line shows.
    pub fn internal_from(
        context: impl Into<String>,
        cause: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self::Internal {
            context: context.into(),
            cause: Some(cause.into()),
        }
    }

    /// The database could not be reached: a 503, worth retrying.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Store(store) if store.is_unavailable())
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadRequest { field, .. } | Self::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

/// What a storage outcome means to a caller that did not expect it: a taken
/// value is a conflict, a missing reference bad input, anything else a
/// storage failure (503 or 500).
impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate(_) => Self::Conflict {
                message: error.to_string(),
                field: None,
            },
            StoreError::MissingReference(_) => Self::bad_request(error.to_string()),
            other => Self::Store(other),
        }
    }
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound("not found".into()),
            other => Self::from(StoreError::from(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_failure_keeps_its_cause_for_the_log() {
        let error = AppError::from(DieselError::RollbackTransaction);
        assert!(matches!(error, AppError::Store(StoreError::Query(_))));
        let chain = cause_chain(&error);
        assert!(
            chain.starts_with("storage failed: a database query failed: "),
            "{chain}"
        );
        assert!(chain.len() > "storage failed: a database query failed: ".len());
    }

    #[test]
    fn taken_values_are_conflicts_and_lost_connections_unavailable() {
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(String::from("duplicate key")),
        );
        assert!(matches!(AppError::from(unique), AppError::Conflict { .. }));
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new(String::from("server closed the connection")),
        );
        assert!(AppError::from(closed).is_unavailable());
    }

    #[test]
    fn a_full_disk_or_a_busy_database_is_unavailable_not_a_bug() {
        let failure = |message: &str| {
            StoreError::from(DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(String::from(message)),
            ))
        };
        assert!(matches!(
            failure("database or disk is full"),
            StoreError::OutOfSpace(_)
        ));
        assert!(matches!(
            failure("could not extend file \"base/1/2\": No space left on device"),
            StoreError::OutOfSpace(_)
        ));
        assert!(failure("database is locked").is_unavailable());
        assert!(failure("canceling statement due to statement timeout").is_unavailable());
        assert!(!failure("syntax error").is_unavailable());
    }
}
