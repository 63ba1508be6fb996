//! Typed settings: defaults, then an optional TOML file (`IDHUB_CONFIG`), then
//! `DATABASE_URL` and `IDHUB_*` environment variables, later sources winning.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A setting that must never appear in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A URL with any password removed (libpq takes one in the user info or as
/// a `password` parameter), fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(key, _)| key == "password") {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| match key == "password" {
                true => (key.into_owned(), "***".to_owned()),
                false => (key.into_owned(), value.into_owned()),
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// `IDHUB_*` variables that are not settings: the settings file's name, and
/// switches of the test suite and the bench scripts, which may be set in the
/// shell that starts a server.
const NOT_SETTINGS: &[&str] = &[
    "config",
    "browser_tests",
    "test_run",
    "update_screenshots",
    "profile_binary",
];

/// 0.0.0.0 or [::]: every interface, to a listener.
fn host_is_unspecified(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_unspecified(),
        _ => false,
    }
}

/// 127.0.0.0/8, [::1] or `localhost`: traffic that never leaves the machine.
fn host_is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// `IDHUB_PORT` is what container links set (`tcp://10.0.0.7:8080`), so it
/// is no setting; a bare port number there is somebody's guess at one, which
/// would otherwise be ignored without a word.
fn port_guess(value: Option<&str>) -> Result<(), String> {
    match value.map(str::trim).and_then(|v| v.parse::<u16>().ok()) {
        Some(port) => Err(format!(
            "IDHUB_PORT is not a setting: to listen on port {port}, set \
             IDHUB_LISTEN=127.0.0.1:{port} (or 0.0.0.0:{port} and IDHUB_ISSUER for every interface)"
        )),
        None => Ok(()),
    }
}

/// Whether an `IDHUB_*` variable (its name after the prefix) is meant as a
/// setting. Kubernetes and Docker links name a service's address in
/// variables like `IDHUB_SERVICE_HOST` and `IDHUB_PORT_8080_TCP` when the
/// service is called idhub: those are not settings either.
fn is_setting(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    !NOT_SETTINGS.contains(&key.as_str())
        && !key.starts_with("service_")
        && !key.starts_with("port")
}

/// The longest `backchannel_logout_window_secs`.
pub const MAX_BACKCHANNEL_LOGOUT_WINDOW_SECS: u64 = 24 * 3600;

/// Who must sign in with a second factor: a user it applies to who has
/// none sets one up at their next sign-in before going on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondFactorPolicy {
    #[default]
    None,
    Admins,
    All,
}

impl SecondFactorPolicy {
    /// Whether a user (an administrator or not) must have a second factor.
    pub fn requires(self, admin: bool) -> bool {
        match self {
            SecondFactorPolicy::None => false,
            SecondFactorPolicy::Admins => admin,
            SecondFactorPolicy::All => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Unknown keys are refused, in the file and as `IDHUB_*` variables alike: a
/// misspelt setting would otherwise be silently ignored.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server binds to (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// Address of a second listener for `/metrics` and `/health/*` only;
    /// when unset, `/metrics` is served on `listen`.
    pub metrics_listen: Option<String>,
    /// Public base URL of this server; `http://<listen>` when unset.
    pub issuer: Option<String>,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Connections per instance.
    pub pool_size: u32,
    /// The longest a request waits for the database, in milliseconds: for a
    /// pooled connection, a connect, and an answer. Past it the request gets 503.
    pub database_timeout_ms: u64,
    /// HTTP worker threads; the number of cores when unset.
    pub workers: Option<usize>,
    /// Password for the bootstrap `admin` user; generated and printed once when unset.
    pub admin_password: Option<Secret>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Argon2id memory cost in KiB (OWASP: 19456).
    pub password_hash_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2).
    pub password_hash_iterations: u32,
    /// Argon2id lanes (OWASP: 1).
    pub password_hash_parallelism: u32,
    /// Most Argon2 hashes computed at once (bounds memory); cores + 1 when unset.
    pub password_hash_concurrency: Option<usize>,
    /// `tracing` filter, e.g. `info` or `idhub=debug,actix_web=info`.
    pub log: String,
    /// `text` (coloured on a terminal only) or `json` (one object a line).
    pub log_format: LogFormat,
    /// Lifetime of access and ID tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a refresh token, in seconds; each use issues a new one.
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of an authorization code, in seconds.
    pub authorization_code_ttl_secs: i64,
    /// Lifetime of a device code and its user code (RFC 8628), in seconds.
    pub device_code_ttl_secs: i64,
    /// Wrong user codes typed at `/device`, within the password failure
    /// window, that lock that address (and that user) out of the page.
    pub device_code_max_failures: i32,
    /// Lifetime of a browser session, in seconds.
    pub session_ttl_secs: i64,
    /// JWT signing algorithm for new keys: `RS256`, `ES256` or `EdDSA`.
    pub signing_algorithm: String,
    /// A new signing key is made when the current one is this many days old.
    pub key_rotation_days: i64,
    /// Encrypts the signing keys in the database (AES-256-GCM): 32 bytes in
    /// base64. Every instance and CLI run needs it once keys are encrypted.
    pub key_encryption_key: Option<Secret>,
    /// Seconds an instance keeps its in-memory signing keys before rereading them
    /// (at most 10, so a rotation is seen everywhere within 10 s).
    pub key_cache_secs: u64,
    /// Server-wide switch for the password grant (RFC 9700 discourages it).
    pub password_grant_enabled: bool,
    /// Who must have a second factor: `none`, `admins` or `all`.
    pub require_second_factor: SecondFactorPolicy,
    /// Server-wide switch for the implicit grant (RFC 9700 discourages it).
    pub implicit_grant_enabled: bool,
    /// Anyone may register a client at the registration endpoint (RFC 7591);
    /// when off, registering needs an administrator's bearer token.
    pub open_registration: bool,
    /// Registrations without a token from one address (an IPv6 /64) per
    /// hour; past it the answer is 429 with `Retry-After`.
    pub open_registration_per_hour: i32,
    /// Registrations without a token from all addresses together per hour.
    pub open_registration_overall_per_hour: i32,
    /// Every authorization request must be pushed first (RFC 9126), whatever
    /// the service's `parRequired`.
    pub par_required: bool,
    /// DPoP proofs must carry a nonce idhub handed out (RFC 9449 §8).
    pub dpop_nonce_required: bool,
    /// Wrong passwords for one account from one address (or one client of the
    /// password grant), within the window, that lock that pair.
    pub password_max_failures: i32,
    /// Failed sign-ins from one address, any accounts, that lock the address.
    pub password_address_max_failures: i32,
    /// Failed password-grant attempts through one client, any accounts, that lock it.
    pub password_client_max_failures: i32,
    /// Failed sign-ins for one account from anywhere that lock the account:
    /// the backstop against guessing spread over many addresses.
    pub password_account_max_failures: i32,
    /// Failed client authentications for one client from one address, within
    /// the window, that lock that pair (five times as many lock the address).
    pub client_auth_max_failures: i32,
    /// Audit events older than this many days are deleted; 0 keeps them all.
    pub audit_retention_days: u32,
    /// Seconds between housekeeping passes, which delete expired rows (one
    /// instance at a time); 0: never (run `idhub housekeeping` instead).
    pub housekeeping_interval_secs: u64,
    /// How long after a session ended idhub keeps trying to deliver its
    /// back-channel logout tokens, in seconds (at most a day); at least one
    /// attempt is made whatever the window.
    pub backchannel_logout_window_secs: u64,
    /// The window in which failed attempts are counted, in seconds.
    pub password_failure_window_secs: i64,
    /// How long a lock lasts, in seconds.
    pub password_lockout_secs: i64,
    /// Addresses of reverse proxies, comma-separated: for a request from one
    /// of them the client's address is read from `X-Forwarded-For`.
    pub trusted_proxies: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            issuer: None,
            database_url: "sqlite://idhub.db".into(),
            pool_size: 8,
            database_timeout_ms: 2000,
            workers: None,
            admin_password: None,
            max_body_bytes: 64 * 1024,
            password_hash_memory_kib: 19_456,
            password_hash_iterations: 2,
            password_hash_parallelism: 1,
            password_hash_concurrency: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            authorization_code_ttl_secs: 60,
            device_code_ttl_secs: 600,
            device_code_max_failures: 10,
            session_ttl_secs: 8 * 3600,
            signing_algorithm: "RS256".into(),
            key_encryption_key: None,
            key_rotation_days: 90,
            key_cache_secs: 5,
            password_grant_enabled: true,
            require_second_factor: SecondFactorPolicy::None,
            open_registration: false,
            open_registration_per_hour: 10,
            open_registration_overall_per_hour: 500,
            par_required: false,
            dpop_nonce_required: false,
            implicit_grant_enabled: true,
            password_max_failures: 5,
            password_address_max_failures: 20,
            password_client_max_failures: 100,
            password_account_max_failures: 50,
            client_auth_max_failures: 10,
            audit_retention_days: 90,
            housekeeping_interval_secs: 300,
            backchannel_logout_window_secs: 600,
            password_failure_window_secs: 300,
            password_lockout_secs: 60,
            trusted_proxies: String::new(),
        }
    }
}

/// Everything but the secrets: the admin password is hidden and the database
/// URL loses its password.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("database_url", &redact_url(&self.database_url))
            .field("pool_size", &self.pool_size)
            .field("admin_password", &self.admin_password)
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub fn load() -> Result<Self, String> {
        port_guess(std::env::var("IDHUB_PORT").ok().as_deref())?;
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Ok(path) = std::env::var("IDHUB_CONFIG") {
            if !std::path::Path::new(&path).is_file() {
                return Err(format!("IDHUB_CONFIG names '{path}', which is not a file"));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("IDHUB_").filter(|key| is_setting(key.as_str())))
            .extract::<Settings>()
            .map_err(|e| format!("invalid settings: {e}"))
            .and_then(|settings| {
                settings.trusted_proxies()?;
                settings.check_issuer()?;
                settings.check_backchannel_logout_window()?;
                Ok(settings)
            })
    }

    /// A configured issuer must be an absolute http(s) URL without query or
    /// fragment: it prefixes every endpoint and is compared in tokens.
    fn check_issuer(&self) -> Result<(), String> {
        let Some(issuer) = &self.issuer else {
            return self.check_listen_as_issuer();
        };
        let refuse = |why: &str| Err(format!("invalid settings: issuer '{issuer}' {why}"));
        match url::Url::parse(issuer) {
            Err(_) => refuse("is not an absolute URL"),
            Ok(url) if !matches!(url.scheme(), "http" | "https") => refuse("must be http or https"),
            Ok(url) if !url.has_host() => refuse("has no host"),
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                refuse("may have no query or fragment")
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                refuse("may have no user or password")
            }
            // Used as written, in every token and endpoint: it must be the
            // URL's own form (lower-case scheme and host, no default port).
            Ok(url) if url.as_str().trim_end_matches('/') != issuer.trim_end_matches('/') => {
                refuse(&format!(
                    "must be written as '{}'",
                    url.as_str().trim_end_matches('/')
                ))
            }
            Ok(url) if host_is_unspecified(&url) => refuse(
                "names no host: 0.0.0.0 and [::] mean every interface to a \
                 listener and nothing to a client; use the name or address \
                 clients reach idhub at",
            ),
            Ok(_) => Ok(()),
        }
    }

    /// Without an issuer the listen address is the issuer, which every token
    /// and discovery carries: an every-interface address there would be
    /// announced to clients, who cannot use it.
    fn check_listen_as_issuer(&self) -> Result<(), String> {
        match url::Url::parse(&self.issuer()) {
            Ok(url) if host_is_unspecified(&url) => Err(format!(
                "invalid settings: IDHUB_LISTEN={} listens on every interface, \
                 so it cannot be the issuer clients are told to use: set \
                 IDHUB_ISSUER to the URL they reach idhub at (for example \
                 http://192.0.2.10:{}, or https://id.example.com behind a proxy)",
                self.listen,
                url.port().unwrap_or(80)
            )),
            _ => Ok(()),
        }
    }

    /// What an operator should hear about the issuer at start: a plain-http
    /// issuer on a host other than loopback sends passwords, tokens and
    /// session cookies (without `Secure`) over the network in the clear.
    pub fn issuer_warnings(&self) -> Vec<String> {
        let issuer = self.issuer();
        let Ok(url) = url::Url::parse(&issuer) else {
            return Vec::new();
        };
        if url.scheme() != "http" || host_is_loopback(&url) {
            return Vec::new();
        }
        vec![format!(
            "the issuer {issuer} is plain http on a host other than loopback: \
             passwords, tokens and session cookies cross the network in the \
             clear, and cookies lose Secure; serve idhub behind TLS and set \
             IDHUB_ISSUER to its https URL (docs/deployment.md)"
        )]
    }

    /// A logout token is worth sending while the service may still hold the
    /// session; a day is far past that, and keeps the time sums in range.
    fn check_backchannel_logout_window(&self) -> Result<(), String> {
        match self.backchannel_logout_window_secs {
            0..=MAX_BACKCHANNEL_LOGOUT_WINDOW_SECS => Ok(()),
            _ => Err(format!(
                "invalid settings: backchannel_logout_window_secs may be at most \
                 {MAX_BACKCHANNEL_LOGOUT_WINDOW_SECS} (a day)"
            )),
        }
    }

    /// `trusted_proxies` parsed; an entry that is not an IP address is an error.
    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, String> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry.parse().map_err(|_| {
                    format!("invalid settings: trusted_proxies: '{entry}' is not an IP address")
                })
            })
            .collect()
    }

    pub fn issuer(&self) -> String {
        match &self.issuer {
            Some(issuer) => issuer.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let settings = Settings {
            admin_password: Some("hunter2-hunter2".into()),
            database_url: "postgres://u:pgpass@h/db".into(),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("pgpass"), "{printed}");
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        let as_parameter = redact_url("postgres://u@h/db?sslmode=require&password=s3cret");
        assert!(!as_parameter.contains("s3cret"), "{as_parameter}");
        assert!(as_parameter.contains("sslmode=require"), "{as_parameter}");
    }

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
            // Variables of the shell running the tests (IDHUB_BROWSER_TESTS) are not settings.
            jail.clear_env();
            jail.create_file("idhub.toml", "pool_size = 3\nlisten = \"0.0.0.0:9000\"")?;
            jail.set_env("IDHUB_CONFIG", "idhub.toml");
            jail.set_env("IDHUB_ISSUER", "https://id.example.com");
            jail.set_env("IDHUB_POOL_SIZE", "5");
            jail.set_env("DATABASE_URL", "postgres://x@localhost/db");
            let settings = Settings::load().map_err(figment::Error::from)?;
            assert_eq!(settings.pool_size, 5);
            assert_eq!(settings.listen, "0.0.0.0:9000");
            assert_eq!(settings.database_url, "postgres://x@localhost/db");
            Ok(())
        });
    }

    #[test]
    fn a_port_number_in_idhub_port_names_the_setting_to_use() {
        let refused = port_guess(Some("8090")).err().unwrap_or_default();
        assert!(refused.contains("IDHUB_LISTEN=127.0.0.1:8090"), "{refused}");
        assert!(
            port_guess(Some("tcp://10.0.0.7:8080")).is_ok(),
            "a container link"
        );
        assert!(port_guess(None).is_ok());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn unknown_keys_are_refused_by_name_with_the_valid_ones() {
        figment::Jail::expect_with(|jail| {
            // Variables of the shell running the tests (IDHUB_BROWSER_TESTS) are not settings.
            jail.clear_env();
            jail.create_file(
                "idhub.toml",
                "pool_size = 3
pool_sise = 4",
            )?;
            jail.set_env("IDHUB_CONFIG", "idhub.toml");
            let refused = Settings::load().err().unwrap_or_default();
            assert!(refused.contains("pool_sise"), "{refused}");
            assert!(
                refused.contains("pool_size"),
                "lists the valid keys: {refused}"
            );

            jail.create_file("idhub.toml", "pool_size = 3")?;
            jail.set_env("IDHUB_BROWSER_TESTS", "required");
            jail.set_env("IDHUB_SERVICE_HOST", "10.0.0.7");
            jail.set_env("IDHUB_PORT_8080_TCP", "tcp://10.0.0.7:8080");
            Settings::load().map_err(figment::Error::from)?;
            jail.set_env("IDHUB_DATABASE_TIMEOUT", "5");
            let refused = Settings::load().err().unwrap_or_default();
            assert!(refused.contains("database_timeout"), "{refused}");
            assert!(refused.contains("database_timeout_ms"), "{refused}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_issuer_must_be_an_absolute_http_url() {
        figment::Jail::expect_with(|jail| {
            // Variables of the shell running the tests (IDHUB_BROWSER_TESTS) are not settings.
            jail.clear_env();
            for bad in [
                "id.example.com",
                "ftp://id.example.com",
                "https://id.example.com/?a=b",
                "/relative",
                "HTTPS://ID.example.com",
                "https://u:pw@id.example.com",
                "http:id.example.com",
                "http://0.0.0.0:8080",
                "http://[::]:8080",
            ] {
                jail.set_env("IDHUB_ISSUER", bad);
                let refused = Settings::load().err().unwrap_or_default();
                assert!(refused.contains("issuer"), "{bad}: {refused}");
            }
            jail.set_env("IDHUB_ISSUER", "https://id.example.com/hub/");
            let settings = Settings::load().map_err(figment::Error::from)?;
            assert_eq!(settings.issuer(), "https://id.example.com/hub");
            for good in ["http://[::1]:8080", "https://id.example.com:8443/a/b"] {
                jail.set_env("IDHUB_ISSUER", good);
                let settings = Settings::load().map_err(figment::Error::from)?;
                assert_eq!(settings.issuer(), good);
            }
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn an_every_interface_listen_address_needs_an_issuer() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            for every in ["0.0.0.0:8092", "[::]:8092"] {
                jail.set_env("IDHUB_LISTEN", every);
                let refused = Settings::load().err().unwrap_or_default();
                assert!(refused.contains("set IDHUB_ISSUER"), "{every}: {refused}");
                assert!(refused.contains(":8092"), "{refused}");
                jail.set_env("IDHUB_ISSUER", "https://id.example.com");
                let settings = Settings::load().map_err(figment::Error::from)?;
                assert_eq!(settings.issuer(), "https://id.example.com");
                jail.clear_env();
            }
            Ok(())
        });
    }

    #[test]
    fn plain_http_is_worth_a_warning_off_loopback_only() {
        let with = |issuer: &str| Settings {
            issuer: Some(issuer.into()),
            ..Settings::default()
        };
        for quiet in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
            "http://app.localhost",
            "https://id.example.com",
        ] {
            assert!(with(quiet).issuer_warnings().is_empty(), "{quiet}");
        }
        assert!(Settings::default().issuer_warnings().is_empty());
        for loud in ["http://id.example.com", "http://192.0.2.10:8080"] {
            let warned = with(loud).issuer_warnings().join(" ");
            assert!(
                warned.contains("plain http") && warned.contains(loud),
                "{warned}"
            );
        }
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_backchannel_logout_window_is_at_most_a_day() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("IDHUB_BACKCHANNEL_LOGOUT_WINDOW_SECS", "86401");
            let refused = Settings::load().err().unwrap_or_default();
            assert!(
                refused.contains("backchannel_logout_window_secs"),
                "{refused}"
            );
            jail.set_env("IDHUB_BACKCHANNEL_LOGOUT_WINDOW_SECS", "86400");
            let settings = Settings::load().map_err(figment::Error::from)?;
            assert_eq!(settings.backchannel_logout_window_secs, 86_400);
            Ok(())
        });
    }
}
