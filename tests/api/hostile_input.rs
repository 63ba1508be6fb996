//! Input crafted to break out: redirects to other sites, hidden characters,
//! numbers too large for the clock. Each must get a clear 4xx or a safe
//! default, never a redirect elsewhere and never a 5xx.
use reqwest::StatusCode;

use crate::browser::{hidden_inputs, location};
use crate::helpers::{assert_oauth_error, spawn_app, ADMIN_PASSWORD};

#[tokio::test]
async fn sign_in_returns_only_to_local_paths() {
    let app = spawn_app().await;
    let browser = app.browser();
    for hostile in [
        "%2F%09%2Fevil.example%2Fphish",
        "%2F%0A%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%2Fevil.example",
    ] {
        let page = browser
            .get(app.url(&format!("/login?return_to={hostile}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{hostile}");
        let form = hidden_inputs(&page.text().await.unwrap());
        let kept = form
            .iter()
            .find(|(k, _)| k == "return_to")
            .map(|(_, v)| v.as_str());
        assert_eq!(kept, Some("/account"), "{hostile}");
    }
    // Posted directly, the hostile value is refused the same way.
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let mut form = hidden_inputs(&page.text().await.unwrap());
    form.retain(|(k, _)| k != "return_to");
    form.push(("return_to".into(), "/\t/evil.example/phish".into()));
    form.push(("login".into(), "admin".into()));
    form.push(("password".into(), ADMIN_PASSWORD.into()));
    let answer = browser
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), "/account");
}

#[tokio::test]
async fn a_huge_max_age_and_a_hidden_newline_get_answers_not_5xx() {
    let app = spawn_app().await;
    let (client_id, _) = app
        .web_client("http://127.0.0.1/cb", serde_json::json!({"trusted": true}))
        .await;
    let browser = app.browser();
    let start = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", "http://127.0.0.1:5000/cb"),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&start), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);

    let huge = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", "http://127.0.0.1:5000/cb"),
                ("max_age", "9223372036854775807"),
            ],
        )
        .await;
    assert_eq!(huge.status(), StatusCode::SEE_OTHER);
    assert!(location(&huge).starts_with("http://127.0.0.1:5000/cb?code="));

    let newline = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", "http://127.0.0.1:5000/c\nb"),
            ],
        )
        .await;
    assert_eq!(newline.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn nul_bytes_are_refused_with_4xx_on_every_backend() {
    let app = spawn_app().await;
    let (client_id, secret) = app
        .web_client("http://127.0.0.1/cb", serde_json::json!({"trusted": true}))
        .await;
    let token_url = app.url("/api/rest/oauth2/token");
    let form_answers = [
        app.client
            .post(&token_url)
            .form(&[("grant_type", "client_credentials"), ("client_id", "a\0b")])
            .send()
            .await
            .unwrap(),
        app.client
            .post(&token_url)
            .basic_auth("a\0b", Some("secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
        app.client
            .post(&token_url)
            .basic_auth(&client_id, Some(&secret))
            .form(&[
                ("grant_type", "password"),
                ("username", "a\0b"),
                ("password", "p"),
            ])
            .send()
            .await
            .unwrap(),
        app.client
            .post(app.url("/api/rest/oauth2/introspect"))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("token", "a\0b")])
            .send()
            .await
            .unwrap(),
    ];
    for answer in form_answers {
        let status = answer.status();
        assert!(
            status.is_client_error(),
            "{status}: {}",
            answer.text().await.unwrap()
        );
    }
    for path in [
        "/api/rest/users/%00",
        "/api/rest/services/%00",
        "/api/rest/services?query=%00",
        "/api/rest/oauth2/auth?client_id=%00&response_type=code",
    ] {
        let answer = app.get(path, &app.admin_token).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    // A browser following a link with a NUL gets a page, not JSON.
    let opened = app
        .client
        .get(app.url("/api/rest/oauth2/auth?client_id=%00&response_type=code"))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::BAD_REQUEST);
    assert!(opened.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(opened.text().await.unwrap().contains("NUL character"));
    let page = app.client.get(app.url("/login")).send().await.unwrap();
    let mut form = hidden_inputs(&page.text().await.unwrap());
    form.push(("login".into(), "ad\0min".into()));
    form.push(("password".into(), "whatever-password".into()));
    let answer = app
        .client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let registered = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &serde_json::json!({"name": "x", "redirectUris": ["https://a.example/c\u{0}b"]}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::BAD_REQUEST);
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_files_holding_the_keys_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let idhub::db::DatabaseLocation::Sqlite(path) = app.database.location() else {
        crate::helpers::skipped("PostgreSQL keeps its own files");
        return;
    };
    // A write, so the WAL and its index exist.
    app.create_user("perm-check", "perm-check-password").await;
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600, "{file}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_answered_with_a_json_error() {
    let app = spawn_app().await;
    let userinfo = app
        .client
        .delete(app.url("/api/rest/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert_oauth_error(userinfo, 405, "invalid_request").await;
    let services = app
        .client
        .put(app.url("/api/rest/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(services.status(), 405);
    let body: serde_json::Value = services.json().await.unwrap();
    assert_eq!(body["error"], "Method Not Allowed", "{body}");
}

#[tokio::test]
async fn errors_on_pages_are_pages_and_a_browser_lost_gets_one_too() {
    let app = spawn_app().await;
    let kind = |response: &reqwest::Response| {
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    // Routed to a page, with a method it lacks: the page's own error.
    for path in ["/login", "/api/rest/oauth2/auth", "/device"] {
        let wrong = app.client.put(app.url(path)).send().await.unwrap();
        assert_eq!(wrong.status(), 405, "{path}");
        assert!(
            kind(&wrong).starts_with("text/html"),
            "{path}: {}",
            kind(&wrong)
        );
    }
    // No route: a browser (asking for HTML) gets a page, a client JSON.
    for path in [
        "/admin/nothing-here",
        "/device/nothing-here",
        "/nothing-here",
    ] {
        let browser = app
            .client
            .get(app.url(path))
            .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        assert_eq!(browser.status(), 404, "{path}");
        assert!(
            kind(&browser).starts_with("text/html"),
            "{path}: {}",
            kind(&browser)
        );
        let page = browser.text().await.unwrap();
        assert!(page.contains("There is no page at this address."), "{page}");
        assert!(
            page.contains(r#"<a href="/">Home</a>"#),
            "a way home: {page}"
        );
        let client = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(client.status(), 404, "{path}");
        let body: serde_json::Value = client.json().await.unwrap();
        assert_eq!(body["error"], "Not Found", "{path}: {body}");
    }
}

/// A method an OAuth endpoint lacks is 405 with `Allow` (RFC 9110 §15.5.6),
/// not 404 as if the endpoint were not there: JSON on the API endpoints, a
/// page on the browser ones.
/// `Authorization: Bearer ` with nothing after it (a shell variable that
/// came out empty) says the token is empty, not that the header is malformed.
#[tokio::test]
async fn an_empty_bearer_token_is_named_as_such() {
    let app = spawn_app().await;
    for path in ["/api/rest/services", "/api/rest/oauth2/userinfo"] {
        let answer = app
            .client
            .get(app.url(path))
            .header("Authorization", "Bearer ")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        let said = body["error_description"].as_str().unwrap_or_default();
        assert!(
            said.contains("token in the Authorization header is empty"),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_on_an_oauth_endpoint_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::GET, "/api/rest/oauth2/token", "POST"),
        (reqwest::Method::GET, "/api/rest/oauth2/introspect", "POST"),
        (reqwest::Method::PUT, "/api/rest/oauth2/revoke", "POST"),
        (reqwest::Method::GET, "/api/rest/oauth2/par", "POST"),
        (reqwest::Method::GET, "/api/rest/oauth2/device", "POST"),
        (reqwest::Method::GET, "/api/rest/oauth2/register", "POST"),
        (reqwest::Method::POST, "/api/rest/oauth2/keys", "GET"),
    ] {
        let answer = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 405, "{method} {path}");
        assert_eq!(answer.headers()["allow"], allow, "{method} {path}");
        assert_oauth_error(answer, 405, "invalid_request").await;
    }
    for path in [
        "/api/rest/oauth2/auth/consent",
        "/api/rest/oauth2/logout/confirm",
    ] {
        let answer = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(answer.status(), 405, "{path}");
        assert_eq!(answer.headers()["allow"], "POST", "{path}");
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
    }
}

/// A key given twice in a JSON object is refused, not read as its last
/// value: a proxy in front may read the first (found by the hardening
/// trial). The same at RFC 7591 registration and deep inside a body.
#[tokio::test]
async fn json_with_a_repeated_key_is_refused() {
    let app = spawn_app().await;
    for (path, body) in [
        (
            "/api/rest/services",
            r#"{"name": "First", "name": "Second"}"#,
        ),
        (
            "/api/rest/services",
            r#"{"name": "Keys", "jwks": {"keys": [], "keys": []}}"#,
        ),
        (
            "/api/rest/oauth2/register",
            r#"{"redirect_uris": ["https://rp.example/cb"], "client_name": "a", "client_name": "b"}"#,
        ),
    ] {
        let response = app
            .client
            .post(app.url(path))
            .bearer_auth(&app.admin_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path} {body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert!(
            error["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("given twice")),
            "{error}"
        );
    }
}

/// A body that never finishes arriving is answered 408 (with a JSON body)
/// after the deadline, not held open for as long as the client likes.
#[tokio::test]
async fn a_body_that_stalls_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/rest/oauth2/token HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=cli"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the connection was held past 30 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("invalid_request"),
        "an OAuth error body: {text}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
}
