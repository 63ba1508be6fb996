use diesel::RunQueryDsl;
use idhub::config::Settings;
use idhub::db::{self, DatabaseLocation, DbPool};
use idhub::startup::Application;
use reqwest::{Client, Response};
use serde_json::{json, Value};

use crate::run_log;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A fresh, empty database for one test; kept alive as long as this value.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server's URL and the database made there, dropped with this value.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => Self::postgres(&base),
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("idhub.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
        }
    }

    /// A new database per test; CI must fail, not skip, when PostgreSQL is down.
    fn postgres(base: &str) -> Self {
        let mut admin = idhub::db::establish_postgres(base).unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
        });
        let name = format!("idhub_t_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let mut url = url::Url::parse(base).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Self {
            url: url.to_string(),
            _dir: None,
            postgres: Some((base.to_owned(), name)),
        }
    }

    /// A SQLite database at `path`, which the caller cleans up.
    pub fn sqlite_at(path: &std::path::Path) -> Self {
        Self {
            url: format!("sqlite://{}", path.display()),
            _dir: None,
            postgres: None,
        }
    }

    pub fn location(&self) -> DatabaseLocation {
        DatabaseLocation::parse(&self.url).expect("test database URL")
    }
}

/// The test's PostgreSQL database goes with it. `FORCE` ends the connections
/// an in-process server still holds (its tasks stop only with the test's
/// runtime, after this). Never panics: a drop during a failing test's unwind
/// must not abort the run.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base, name)) = &self.postgres else {
            return;
        };
        let base = idhub::db::with_connect_timeout(base, std::time::Duration::from_secs(5));
        let dropped = idhub::db::establish_postgres(&base)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("test database {name} was left behind: {error}");
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub pool: DbPool,
    pub admin_token: String,
    // Held so the temp directory outlives the server.
    pub database: TestDatabase,
}

/// The `idhub` binary, set up for `database` as the tests set up the server:
/// no `IDHUB_*` from the caller's environment, the test admin password,
/// cheap Argon2.
pub fn idhub_command(database: &TestDatabase) -> std::process::Command {
    idhub_command_at(&database.url)
}

/// The `idhub` binary with a database URL and none of the shell's settings.
pub fn idhub_command_at(database_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_idhub"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("IDHUB_")) {
        command.env_remove(key);
    }
    // It would override IDHUB_LOG.
    command.env_remove("RUST_LOG");
    command
        .env("DATABASE_URL", database_url)
        .env("IDHUB_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("IDHUB_PASSWORD_HASH_MEMORY_KIB", "1024")
        .env("IDHUB_PASSWORD_HASH_ITERATIONS", "1");
    command
}

pub fn test_settings(database: &TestDatabase) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        database_url: database.url.clone(),
        pool_size: 3,
        workers: Some(1),
        admin_password: Some(ADMIN_PASSWORD.into()),
        // Cheap hashes keep the suite fast; the OWASP defaults have a unit test.
        password_hash_memory_kib: 1024,
        password_hash_iterations: 1,
        // Reread signing keys on every use so rotations show without waiting.
        key_cache_secs: 0,
        ..Settings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts one more idhub instance on `database`; returns its base URL.
pub fn start_instance(database: &TestDatabase, customize: impl FnOnce(&mut Settings)) -> String {
    run_log::begin();
    let mut settings = test_settings(database);
    customize(&mut settings);
    let app = Application::build(settings).expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDatabase::new(), customize).await
}

/// The application with its issuer at `http://localhost:PORT`, as passkeys
/// need (WebAuthn names a relying party by host name, never by address).
pub async fn spawn_app_at_localhost(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let mut app = spawn_app_with(|settings| {
        settings.listen = "localhost:0".into();
        customize(settings);
    })
    .await;
    let port = app
        .address
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    app.address = format!("http://localhost:{port}");
    let discovery: serde_json::Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["issuer"],
        app.address.as_str(),
        "the issuer names localhost"
    );
    app
}

/// The application on a given database (a SQLite file somewhere special).
pub async fn spawn_app_on(
    database: TestDatabase,
    customize: impl FnOnce(&mut Settings),
) -> TestApp {
    let address = start_instance(&database, customize);
    let pool = db::build_pool(database.location(), 2, std::time::Duration::from_secs(5))
        .expect("test pool");
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client");
    let mut test_app = TestApp {
        address,
        client,
        pool,
        admin_token: String::new(),
        database,
    };
    test_app.admin_token = test_app.token_for("admin", "tests", &["0-0-0-0-0"]);
    test_app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A permanent token made the way `idhub tokens create` makes one.
    pub fn token_for(&self, login: &str, name: &str, scope: &[&str]) -> String {
        let mut conn = self.pool.get().expect("connection");
        let user = idhub::users::repo::find_by_login(&mut conn, login)
            .expect("query")
            .expect("user exists");
        let scope: Vec<String> = scope.iter().map(|s| s.to_string()).collect();
        let now = chrono::Utc::now().naive_utc();
        let caller = idhub::audit::Caller::cli();
        let token = idhub::users::permanent_tokens::create(
            &mut conn,
            &user,
            name.into(),
            &scope,
            now,
            &caller,
        )
        .expect("token")
        .1;
        run_log::saw(&token);
        token
    }

    /// Runs the `idhub` binary on this app's database; its stdout, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = idhub_command(&self.database)
            .args(args)
            .output()
            .expect("run idhub");
        assert!(
            output.status.success(),
            "idhub {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        run_log::saw_cli_output(args, &stdout);
        stdout
    }

    /// GET without credentials, answer as JSON (discovery, JWKS).
    pub async fn public_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        response.json().await.expect("JSON answer")
    }

    /// GET userinfo with a bearer token.
    pub async fn userinfo(&self, token: &str) -> Response {
        run_log::saw(token);
        self.client
            .get(self.url("/api/rest/oauth2/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        run_log::saw(token);
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        run_log::saw(token);
        run_log::saw_json(body);
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        run_log::saw(token);
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// Registers a service as the admin; returns the whole answer (with secret).
    pub async fn create_service(&self, body: Value) -> Value {
        let response = self
            .post_json("/api/rest/services", &self.admin_token, &body)
            .await;
        assert_eq!(response.status(), 200, "create service {body}");
        let created = response.json().await.expect("json");
        run_log::saw_json(&created);
        created
    }

    /// Registers a service with the given extra fields; returns `(id, secret)`.
    pub async fn service_with(&self, extra: Value) -> (String, String) {
        let mut body = json!({"name": format!("svc-{}", uuid::Uuid::new_v4().simple())});
        if let (Some(target), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        let created = self.create_service(body).await;
        (
            created["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// POSTs a form to an OAuth endpoint, authenticating with HTTP Basic if given.
    pub async fn oauth_post(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Response {
        run_log::saw_form(form);
        let mut request = self
            .client
            .post(self.url(&format!("/api/rest/oauth2/{endpoint}")))
            .form(form);
        if let Some((id, secret)) = basic {
            run_log::saw_basic(id, secret);
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.expect("request")
    }

    /// A successful token request; returns the JSON answer.
    pub async fn token(&self, form: &[(&str, &str)], basic: (&str, &str)) -> Value {
        let response = self.oauth_post("token", form, Some(basic)).await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        run_log::saw_json(&body);
        assert_eq!(status, 200, "token request {form:?} failed: {body}");
        body
    }

    pub async fn introspect(&self, token: &str, caller: (&str, &str)) -> Value {
        let response = self
            .oauth_post("introspect", &[("token", token)], Some(caller))
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    /// Creates a user as the admin; returns its id.
    pub async fn create_user(&self, login: &str, password: &str) -> String {
        let body = json!({ "login": login, "password": password, "email": format!("{login}@example.com") });
        let response = self
            .post_json("/api/rest/users", &self.admin_token, &body)
            .await;
        assert_eq!(response.status(), 200, "create user {login}");
        let user: Value = response.json().await.expect("json");
        user["id"].as_str().expect("id").to_owned()
    }
}

/// Asserts a Hub-shaped JSON error and returns it.
pub async fn assert_error(response: Response, status: u16, field: Option<&str>) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let body: Value = response.json().await.expect("error body is JSON");
    assert!(body["error"].is_string(), "error: {body}");
    assert!(
        body["error_description"].is_string(),
        "error_description: {body}"
    );
    if let Some(field) = field {
        assert_eq!(body["error_field"], field, "error_field: {body}");
    }
    body
}

/// Asserts an RFC 6749 error and returns its body.
pub async fn assert_oauth_error(response: Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(
        (actual, body["error"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(body["error_description"].is_string(), "{body}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    body
}

/// The claims of a JWT, read without checking it (for assertions only).
pub fn peek(token: &str, part: usize) -> Value {
    use base64::Engine;
    let segment = token.split('.').nth(part).expect("JWT part");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Says that a test is skipped and why, on the terminal even without
/// `--nocapture`: the test harness captures `println!`, not the raw stderr.
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
