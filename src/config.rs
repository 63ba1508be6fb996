//! Typed settings: defaults, then an optional TOML file (`IDHUB_CONFIG`), then
//! `DATABASE_URL` and `IDHUB_*` environment variables, later sources winning.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::db::DatabaseLocation;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server binds to (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// Public base URL of this server; `http://<listen>` when unset.
    pub issuer: Option<String>,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Connections per instance.
    pub pool_size: u32,
    /// HTTP worker threads; the number of cores when unset.
    pub workers: Option<usize>,
    /// Password for the bootstrap `admin` user; generated and printed once when unset.
    pub admin_password: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Argon2id memory cost in KiB (OWASP: 19456).
    pub password_hash_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    pub password_hash_iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub password_hash_parallelism: u32,
    /// `tracing` filter, e.g. `info` or `idhub=debug,actix_web=info`.
    pub log: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            issuer: None,
            database_url: "sqlite://idhub.db".into(),
            pool_size: 8,
            workers: None,
            admin_password: None,
            max_body_bytes: 64 * 1024,
            password_hash_memory_kib: 19_456,
            password_hash_iterations: 2,
            password_hash_parallelism: 1,
            log: "info".into(),
        }
    }
}

impl Settings {
    pub fn load() -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Ok(path) = std::env::var("IDHUB_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(format!("IDHUB_CONFIG names '{path}', which is not a file"));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("IDHUB_").ignore(&["CONFIG"]))
            .extract()
            .map_err(|e| format!("invalid settings: {e}"))
    }

    pub fn issuer(&self) -> String {
        match &self.issuer {
            Some(issuer) => issuer.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn database(&self) -> Result<DatabaseLocation, String> {
        DatabaseLocation::parse(&self.database_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_defaults_to_listen_address() {
        let settings = Settings::default();
        assert_eq!(settings.issuer(), "http://127.0.0.1:8080");
        let settings = Settings {
            issuer: Some("https://id.example.com/".into()),
            ..Settings::default()
        };
        assert_eq!(settings.issuer(), "https://id.example.com");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("idhub.toml", "pool_size = 3\nlisten = \"0.0.0.0:9000\"")?;
            jail.set_env("IDHUB_CONFIG", "idhub.toml");
            jail.set_env("IDHUB_POOL_SIZE", "5");
            jail.set_env("DATABASE_URL", "postgres://x@localhost/db");
            let settings = Settings::load().map_err(figment::Error::from)?;
            assert_eq!(settings.pool_size, 5);
            assert_eq!(settings.listen, "0.0.0.0:9000");
            assert_eq!(settings.database_url, "postgres://x@localhost/db");
            Ok(())
        });
    }
}
