//! Guessing passwords: throttled per address, per account and per pair, on
//! every instance; unknown and real logins answer alike, in words and in time.
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::browser::hidden_inputs;
use crate::helpers::{assert_oauth_error, spawn_app_with, TestApp};

const LOCKED: &str = "Too many failed attempts";
const WRONG: &str = "Wrong login or password";

/// Submits the sign-in page from `address` (behind the trusted proxy the
/// tests pretend to be); returns the status and the page.
async fn sign_in_from(app: &TestApp, address: &str, login: &str, password: &str) -> (u16, String) {
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let mut form = hidden_inputs(&page.text().await.unwrap());
    form.push(("login".into(), login.into()));
    form.push(("password".into(), password.into()));
    let answer = browser
        .post(app.url("/login"))
        .header("X-Forwarded-For", format!("203.0.113.99, {address}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

async fn behind_proxy(customize: impl FnOnce(&mut idhub::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.trusted_proxies = "127.0.0.1".into();
        customize(s);
    })
    .await
}

#[tokio::test]
async fn unknown_and_real_logins_lock_and_answer_alike() {
    let app = behind_proxy(|_| {}).await;
    app.create_user("carol", "carol-password").await;
    for login in ["carol", "nobody-at-all"] {
        for attempt in 0..5 {
            let (status, page) = sign_in_from(&app, "10.0.0.1", login, "wrong-guess").await;
            assert_eq!(status, 401);
            assert!(page.contains(WRONG), "{login} attempt {attempt}");
        }
        let (_, page) = sign_in_from(&app, "10.0.0.1", login, "wrong-guess").await;
        assert!(page.contains(LOCKED), "{login} is locked like any other");
    }
}

#[tokio::test]
async fn a_stranger_locks_out_only_their_own_address() {
    let app = behind_proxy(|_| {}).await;
    app.create_user("carol", "carol-password").await;
    for _ in 0..6 {
        sign_in_from(&app, "10.0.0.66", "carol", "wrong-guess").await;
    }
    let (_, page) = sign_in_from(&app, "10.0.0.66", "carol", "carol-password").await;
    assert!(page.contains(LOCKED), "the guessing address stays locked");
    let (status, _) = sign_in_from(&app, "10.0.0.7", "carol", "carol-password").await;
    assert_eq!(status, 303, "carol signs in from her own address");
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_proxy_is_trusted() {
    let app = spawn_app_with(|_| {}).await;
    app.create_user("carol", "carol-password").await;
    for n in 0..5 {
        sign_in_from(&app, &format!("10.1.0.{n}"), "carol", "wrong-guess").await;
    }
    let (_, page) = sign_in_from(&app, "10.1.0.200", "carol", "carol-password").await;
    assert!(
        page.contains(LOCKED),
        "a made-up X-Forwarded-For does not give a fresh address"
    );
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_locked() {
    let app = behind_proxy(|s| s.password_address_max_failures = 8).await;
    app.create_user("dave", "dave-password").await;
    for n in 0..8 {
        sign_in_from(&app, "10.0.0.9", &format!("user{n}"), "spray-guess").await;
    }
    let (_, page) = sign_in_from(&app, "10.0.0.9", "dave", "dave-password").await;
    assert!(page.contains(LOCKED), "the spraying address is locked");
    let (status, _) = sign_in_from(&app, "10.0.0.10", "dave", "dave-password").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn guesses_spread_over_addresses_lock_the_account() {
    let app = behind_proxy(|s| s.password_account_max_failures = 6).await;
    app.create_user("erin", "erin-password").await;
    for n in 0..6 {
        sign_in_from(&app, &format!("10.2.0.{n}"), "erin", "wrong-guess").await;
    }
    let (_, page) = sign_in_from(&app, "10.2.0.100", "erin", "erin-password").await;
    assert!(page.contains(LOCKED), "the account-wide backstop holds");
}

/// Guesses from many addresses cannot lock an account's owner out of a
/// browser they signed in with before (its device cookie), and the
/// operator's `idhub users unlock` lifts the lock for new browsers.
#[tokio::test]
async fn a_familiar_browser_is_not_locked_out_by_guesses_from_elsewhere() {
    let app = behind_proxy(|s| s.password_account_max_failures = 6).await;
    app.create_user("fern", "fern-password").await;
    let owner = app.browser();
    let sign_in = |browser: reqwest::Client, address: &'static str| {
        let app = &app;
        async move {
            let page = browser.get(app.url("/login")).send().await.unwrap();
            let mut form = hidden_inputs(&page.text().await.unwrap());
            form.push(("login".into(), "fern".into()));
            form.push(("password".into(), "fern-password".into()));
            browser
                .post(app.url("/login"))
                .header("X-Forwarded-For", address)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let first = sign_in(owner.clone(), "10.3.0.200").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert!(first
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("idhub_device=")));
    for n in 0..6 {
        sign_in_from(&app, &format!("10.3.0.{n}"), "fern", "wrong-guess").await;
    }
    let (_, stranger) = sign_in_from(&app, "10.3.0.100", "fern", "fern-password").await;
    assert!(stranger.contains(LOCKED), "a new browser waits");
    let again = sign_in(owner, "10.3.0.201").await;
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "the owner's browser signs in"
    );

    let said = app.cli(&["users", "unlock", "fern"]);
    assert!(said.contains("lifted"), "{said}");
    let (status, _) = sign_in_from(&app, "10.3.0.100", "fern", "fern-password").await;
    assert_eq!(status, 303, "unlocked for every browser");
}

#[tokio::test]
async fn parallel_guesses_are_all_counted() {
    let app = spawn_app_with(|s| {
        s.password_max_failures = 12;
        s.password_hash_concurrency = Some(12);
    })
    .await;
    app.create_user("fay", "fay-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (client, url) = (app.client.clone(), app.url("/api/rest/oauth2/token"));
        let (id, secret) = (id.clone(), secret.clone());
        guesses.spawn(async move {
            let form = [
                ("grant_type", "password"),
                ("username", "fay"),
                ("password", "wrong-guess"),
            ];
            let answer = client.post(url).basic_auth(id, Some(secret)).form(&form);
            answer.send().await.map(|a| a.status())
        });
    }
    while let Some(status) = guesses.join_next().await {
        assert_eq!(status.unwrap().unwrap(), StatusCode::BAD_REQUEST);
    }
    let right = [
        ("grant_type", "password"),
        ("username", "fay"),
        ("password", "fay-password"),
    ];
    let body = assert_oauth_error(
        app.oauth_post("token", &right, Some((&id, &secret))).await,
        400,
        "invalid_grant",
    )
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("too many"),
        "all 12 parallel failures counted: {body}"
    );
}

/// Median times of `n` wrong sign-ins for each login, each from a fresh
/// address. The logins take turns, so a burst of load from the tests running
/// beside this one slows both alike.
async fn median_sign_ins(app: &TestApp, logins: [&str; 2], n: u8) -> [Duration; 2] {
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..n {
        for (which, login) in logins.iter().enumerate() {
            let address = format!("10.3.{which}.{i}");
            let started = Instant::now();
            let (status, _) = sign_in_from(app, &address, login, "wrong-guess").await;
            times[which].push(started.elapsed());
            assert_eq!(status, 401);
        }
    }
    times.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    })
}

#[tokio::test]
async fn wrong_login_and_wrong_password_take_the_same_time() {
    // Real Argon2 costs, so that skipping the hash would show.
    let app = behind_proxy(|s| {
        s.password_hash_memory_kib = 19_456;
        s.password_hash_iterations = 2;
        s.password_account_max_failures = 1000;
    })
    .await;
    app.create_user("gina", "gina-password").await;
    median_sign_ins(&app, ["gina", "no-such-gina"], 2).await; // warm up
    let [known, unknown] = median_sign_ins(&app, ["gina", "no-such-gina"], 15).await;
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    println!("wrong password {known:?}, unknown login {unknown:?}, ratio {ratio:.2}");
    assert!(
        (0.5..2.0).contains(&ratio),
        "wrong password {known:?} vs unknown login {unknown:?}"
    );
}

/// A client-authenticated OAuth request from `address`: status and body.
async fn oauth_from(
    app: &TestApp,
    address: &str,
    endpoint: &str,
    form: &[(&str, &str)],
    (id, secret): (&str, &str),
) -> (u16, String) {
    let answer = app
        .client
        .post(app.url(&format!("/api/rest/oauth2/{endpoint}")))
        .header("X-Forwarded-For", address)
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

async fn client_credentials_from(
    app: &TestApp,
    address: &str,
    id: &str,
    secret: &str,
) -> (u16, String) {
    let form = [("grant_type", "client_credentials")];
    oauth_from(app, address, "token", &form, (id, secret)).await
}

async fn introspect_from(app: &TestApp, address: &str, id: &str, secret: &str) -> u16 {
    let form = [("token", "anything")];
    oauth_from(app, address, "introspect", &form, (id, secret))
        .await
        .0
}

#[tokio::test]
async fn failed_client_authentication_locks_the_source_not_the_client() {
    let app = behind_proxy(|s| {
        s.client_auth_max_failures = 3;
        s.password_lockout_secs = 2;
    })
    .await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let (other_id, other_secret) = app.service_with(json!({"trusted": true})).await;
    for _ in 0..3 {
        let (status, body) = client_credentials_from(&app, "10.0.1.1", &id, "wrong-secret").await;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("client authentication failed"), "{body}");
    }
    let (status, body) = client_credentials_from(&app, "10.0.1.1", &id, &secret).await;
    assert_eq!(
        status, 401,
        "the guessing address is locked even with the right secret"
    );
    assert!(
        body.contains("too many failed client authentications"),
        "{body}"
    );
    assert_eq!(introspect_from(&app, "10.0.1.1", &id, &secret).await, 401);
    let (status, _) = client_credentials_from(&app, "10.0.1.2", &id, &secret).await;
    assert_eq!(status, 200, "the client itself is not locked elsewhere");
    let (status, _) = client_credentials_from(&app, "10.0.1.1", &other_id, &other_secret).await;
    assert_eq!(
        status, 200,
        "another client from that address is not locked"
    );

    // Five times the pair's limit, over any clients, locks the address.
    for n in 0..15 {
        client_credentials_from(&app, "10.0.1.3", &format!("nobody-{n}"), "guess").await;
    }
    let (_, body) = client_credentials_from(&app, "10.0.1.3", &other_id, &other_secret).await;
    assert!(
        body.contains("too many failed client authentications"),
        "{body}"
    );

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _) = client_credentials_from(&app, "10.0.1.1", &id, &secret).await;
    assert_eq!(status, 200, "the lock ends");
}
