//! Signing in through an `oidc` auth module against an upstream OpenID
//! provider no one here wrote: node-oidc-provider (npm, unmodified, its
//! development sign-in pages), started by the test. A new user is created
//! and put in the mapped group; a tampered `state`, a replayed callback and
//! a provider that is down each end on a sign-in page naming the problem,
//! never a 500, and the password still signs local users in.
//!
//! Needs Node and `npm ci` in tests/upstream (.ci/run does it and sets
//! IDHUB_BROWSER_TESTS=required); elsewhere the test says it is skipped.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use regex::Regex;
use serde_json::{json, Value};

use crate::browser::{location, unescape};
use crate::helpers::{spawn_app, TestApp};

fn upstream_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upstream")
}

fn prerequisites_present() -> bool {
    let library = upstream_dir().join("node_modules/oidc-provider/package.json");
    let node = Command::new("node").arg("--version").output().is_ok();
    if library.exists() && node {
        return true;
    }
    if std::env::var("IDHUB_BROWSER_TESTS").as_deref() == Ok("required") {
        panic!("the upstream provider is required but missing: node, or npm ci in tests/upstream");
    }
    crate::helpers::skipped("needs node and `npm ci` in tests/upstream (see .ci/run)");
    false
}

struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_provider(port: u16, secret: &str, redirect_uri: &str) -> Provider {
    let child = Command::new("node")
        .arg(upstream_dir().join("provider.mjs"))
        .args([&port.to_string(), "idhub", secret, redirect_uri])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let provider = Provider(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return provider;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the upstream provider did not listen");
}

/// Follows the browser's redirects, across idhub and the provider, and
/// fills in the provider's development pages (any password signs `login`
/// in; then consent), until an answer that is not a redirect, one that
/// leads back into idhub's pages after the callback, or one to `stop_at`.
async fn drive(
    app: &TestApp,
    browser: &reqwest::Client,
    mut answer: reqwest::Response,
    login: &str,
    stop_at: Option<&str>,
) -> reqwest::Response {
    let form = Regex::new(r#"<form[^>]*action="([^"]+)"[^>]*method="post""#).unwrap();
    // The provider's inputs close with `/>`.
    let hidden =
        Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)"\s*/?>"#).unwrap();
    for _ in 0..20 {
        let here = answer.url().clone();
        if answer.status().is_redirection() {
            let next = here.join(&location(&answer)).unwrap();
            let stop = stop_at.is_some_and(|prefix| next.as_str().starts_with(prefix));
            if stop || next.path().starts_with("/account") || next.path() == "/" {
                return answer;
            }
            answer = browser.get(next).send().await.unwrap();
            continue;
        }
        let on_provider = !here.as_str().starts_with(&app.address);
        if answer.status() != 200 || !on_provider {
            return answer;
        }
        let html = answer.text().await.unwrap();
        let action = unescape(&form.captures(&html).expect("a provider form")[1]);
        let mut fields: Vec<(String, String)> = hidden
            .captures_iter(&html)
            .map(|c| (c[1].to_owned(), unescape(&c[2])))
            .collect();
        if html.contains(r#"name="password""#) {
            fields.push(("login".into(), login.into()));
            fields.push(("password".into(), "any password".into()));
        }
        answer = browser
            .post(here.join(&action).unwrap())
            .form(&fields)
            .send()
            .await
            .unwrap();
    }
    panic!("the round trip did not end");
}

/// "Sign in with NAME" from idhub's sign-in page.
async fn press(app: &TestApp, browser: &reqwest::Client, module: &str) -> reqwest::Response {
    app.submit(
        browser,
        "/login?return_to=%2Faccount",
        &format!("/login/with/{module}"),
        &[],
    )
    .await
}

#[tokio::test]
async fn a_user_signs_in_through_an_upstream_openid_provider() {
    if !prerequisites_present() {
        return;
    }
    let app = spawn_app().await;
    let engineers: Value = app
        .post_json(
            "/api/rest/usergroups",
            &app.admin_token,
            &json!({"name": "Engineers"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let engineers = engineers["id"].as_str().unwrap().to_owned();
    let port = free_port();
    let secret = "upstream-client-secret";
    crate::run_log::saw(secret);
    let created: Value = app
        .post_json(
            "/api/rest/authmodules",
            &app.admin_token,
            &json!({"name": "Corp SSO", "type": "oidc", "issuer": format!("http://127.0.0.1:{port}"),
                    "clientId": "idhub", "clientSecret": secret, "autoCreateUsers": true,
                    "scopes": "openid email profile groups",
                    "groupMappings": [{"external": "eng", "group": {"id": engineers}}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let module = created["id"].as_str().expect("a module").to_owned();
    let callback = format!(
        "{}/api/rest/oauth2/authmodules/{module}/callback",
        app.address
    );
    let provider = start_provider(port, secret, &callback).await;

    // The sign-in page shows the module; the round trip signs grace in.
    let browser = app.browser();
    let (_, page) = app.page(&browser, "/login").await;
    assert!(page.contains("Sign in with Corp SSO"), "{page}");
    let started = press(&app, &browser, &module).await;
    assert_eq!(started.status(), 303);
    assert!(location(&started).starts_with(&format!("http://127.0.0.1:{port}/auth?")));
    let back = drive(&app, &browser, started, "grace", None).await;
    assert_eq!(back.status(), 303, "{:?}", back.url());
    assert_eq!(location(&back), "/account");
    let (status, account) = app.page(&browser, "/account").await;
    assert_eq!(status, 200);
    assert!(
        account.contains("(grace)") && account.contains("Corp SSO"),
        "{account}"
    );
    let me: Value = app
        .get("/api/rest/users?query=grace", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let grace = me["users"][0]["id"]
        .as_str()
        .expect("grace was created")
        .to_owned();
    let identities: Value = app
        .get(
            &format!("/api/rest/users/{grace}/identities"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        identities[0]["subject"], "grace",
        "the provider's account id"
    );
    let members: Value = app
        .get(
            &format!("/api/rest/usergroups/{engineers}/users"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["users"][0]["id"], grace.as_str(), "{members}");

    // A callback with a state this browser did not start, and the same
    // callback twice: a page saying so.
    let stranger = app.browser();
    let forged = stranger
        .get(format!("{callback}?code=x&state=forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(forged
        .text()
        .await
        .unwrap()
        .contains("not started in this browser"));
    let again = app.browser();
    let started = press(&app, &again, &module).await;
    let at_callback = drive(&app, &again, started, "grace", Some(&callback)).await;
    let callback_url = at_callback.url().join(&location(&at_callback)).unwrap();
    assert!(
        callback_url.as_str().starts_with(&callback),
        "{callback_url}"
    );
    let first = again.get(callback_url.clone()).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let replayed = again.get(callback_url).send().await.unwrap();
    assert_eq!(replayed.status(), 400);

    // Linking by email, not creating: a verified address links its local
    // user; an unverified one (ada's address, claimed by mallory) links
    // nobody.
    app.create_user("lin", "lin-password").await; // lin@example.com
    app.create_user("ada", "ada-password").await; // ada@example.com
    let changed = app
        .post_json(
            &format!("/api/rest/authmodules/{module}"),
            &app.admin_token,
            &json!({"autoCreateUsers": false, "linkByEmail": true}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let lin = app.browser();
    let started = press(&app, &lin, &module).await;
    let back = drive(&app, &lin, started, "lin", None).await;
    assert_eq!(location(&back), "/account");
    let (_, account) = app.page(&lin, "/account").await;
    assert!(account.contains("(lin)"), "{account}");
    let mallory = app.browser();
    let started = press(&app, &mallory, &module).await;
    let refused = drive(&app, &mallory, started, "mallory", None).await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Nobody here signs in with that Corp SSO account"));

    // The provider down: a page naming the module, and the password still
    // signs local users in.
    drop(provider);
    let down = press(&app, &app.browser(), &module).await;
    assert_eq!(down.status(), 502);
    assert!(down
        .text()
        .await
        .unwrap()
        .contains("Sign in with Corp SSO did not work"));
    let local = app.browser();
    let signed = app
        .sign_in(&local, "/login", "admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    assert_eq!(signed.status(), 303);
}
