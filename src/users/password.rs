//! Argon2id for human passwords. Hashing is slow on purpose: callers run it on
//! the blocking pool, never on an async worker.
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};

use crate::config::Settings;
use crate::error::AppError;

pub const MIN_LENGTH: usize = 8;
/// Argon2 cost does not grow with input length, but reading and keeping huge inputs does.
pub const MAX_LENGTH: usize = 1024;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy: Arc<OnceLock<String>>,
    /// Each hash takes `memory_kib` of RAM; this caps how many run at once.
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let params = Params::new(
            settings.password_hash_memory_kib,
            settings.password_hash_iterations,
            settings.password_hash_parallelism,
            None,
        )
        .map_err(|e| format!("invalid password hash parameters: {e}"))?;
        let concurrency = settings
            .password_hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        Ok(Self {
            params,
            dummy: Arc::new(OnceLock::new()),
            permits: Arc::new(Semaphore::new(concurrency)),
        })
    }

    /// Runs Argon2 work on the blocking pool, at most `password_hash_concurrency`
    /// at a time; the rest wait their turn without holding memory.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Internal("password hashing is shut down".into()))?;
        let hasher = self.clone();
        actix_web::web::block(move || work(&hasher))
            .await
            .map_err(|_| AppError::Internal("password hashing task failed".into()))
    }

    /// Checks a sign-in attempt. Unknown users (no stored hash) cost a full
    /// verification too, so timing does not reveal whether a login exists.
    pub fn check(&self, password: &str, stored: Option<&str>) -> bool {
        if password.len() > MAX_LENGTH {
            return false;
        }
        match stored {
            Some(hash) => self.verify(password, hash),
            None => {
                self.verify(password, self.dummy_hash());
                false
            }
        }
    }

    /// A hash of nothing in particular, for spending the same time on unknown users.
    pub fn dummy_hash(&self) -> &str {
        self.dummy
            .get_or_init(|| self.hash("no such user").unwrap_or_default())
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash(&self, password: &str) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    }

    /// Verifies with the parameters stored in the hash, so older hashes keep working
    /// after the settings change.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

pub fn validate(password: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(AppError::bad_field(
            "password",
            format!("password must have at least {MIN_LENGTH} characters"),
        ));
    }
    if password.len() > MAX_LENGTH {
        return Err(AppError::bad_field(
            "password",
            format!("password must have at most {MAX_LENGTH} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::new(&Settings {
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            ..Settings::default()
        })
        .unwrap()
    }

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let hasher = fast();
        let hash = hasher.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("wrong horse", &hash));
        assert!(!hasher.verify("correct horse", "not a hash"));
    }

    #[test]
    fn length_limits() {
        assert!(validate("short").is_err());
        assert!(validate("long enough").is_ok());
        assert!(validate(&"x".repeat(MAX_LENGTH + 1)).is_err());
    }
}
