//! openid-client (Node, pinned in tests/rp/package-lock.json) as the relying
//! party, unmodified: it registers itself dynamically (RFC 7591) with its
//! public key, pushes its authorization request (PAR) and signs a user in
//! with code + PKCE authenticating with `private_key_jwt`, validates the ID token, reads userinfo and signs out
//! through the end_session_endpoint with its post_logout_redirect_uri.
//! This test plays the browser between its steps.
//!
//! Needs `node` and `npm ci` in tests/rp (.ci/run does both and sets
//! IDHUB_BROWSER_TESTS=required); elsewhere it says it is skipped.
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::browser::{hidden_inputs, location};
use crate::helpers::{peek, spawn_app, TestApp};

fn rp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rp")
}

fn prerequisites_present() -> bool {
    let library = rp_dir().join("node_modules/openid-client/package.json");
    let node = Command::new("node").arg("--version").output().is_ok();
    if node && library.exists() {
        return true;
    }
    if std::env::var("IDHUB_BROWSER_TESTS").as_deref() == Ok("required") {
        panic!(
            "the openid-client test is required but node or {} is missing",
            library.display()
        );
    }
    crate::helpers::skipped(
        "the openid-client test needs node and `npm ci` in tests/rp (see .ci/run)",
    );
    false
}

/// The next step the RP reports: `(step, value)`.
fn step(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> (String, Value) {
    let line = lines
        .next()
        .expect("the RP reports another step (see its stderr above)")
        .expect("a line");
    let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("RP said: {line}"));
    (
        parsed["step"].as_str().unwrap_or_default().to_owned(),
        parsed["value"].clone(),
    )
}

/// Runs `script` against `app`: the child, its step lines and its stdin.
fn start_rp(
    script: &str,
    app: &TestApp,
) -> (
    std::process::Child,
    impl Iterator<Item = std::io::Result<String>>,
    std::process::ChildStdin,
) {
    let mut rp = Command::new("node")
        .arg(rp_dir().join(script))
        .arg(&app.address)
        .arg(&app.admin_token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let lines = BufReader::new(rp.stdout.take().unwrap()).lines();
    let to_rp = rp.stdin.take().unwrap();
    (rp, lines, to_rp)
}

#[tokio::test]
async fn openid_client_registers_pushes_signs_in_with_pkce_and_private_key_jwt_and_signs_out() {
    if !prerequisites_present() {
        return;
    }
    let app = spawn_app().await;
    let user_id = app.create_user("olivia", "olivia-password").await;
    // A group inside another, for the `groups` scope.
    let mut parent = None;
    for name in ["Staff", "Readers"] {
        let body = match &parent {
            Some(id) => serde_json::json!({"name": name, "parent": {"id": id}}),
            None => serde_json::json!({"name": name}),
        };
        let group: Value = app
            .post_json("/api/rest/usergroups", &app.admin_token, &body)
            .await
            .json()
            .await
            .unwrap();
        parent = group["id"].as_str().map(str::to_owned);
    }
    let readers = parent.unwrap();
    let joined = app
        .post_json(
            &format!("/api/rest/usergroups/{readers}/users"),
            &app.admin_token,
            &serde_json::json!({"id": user_id}),
        )
        .await;
    assert_eq!(joined.status(), 200);
    let (mut rp, mut lines, mut to_rp) = start_rp("rp.mjs", &app);

    let (name, client_id) = step(&mut lines);
    assert_eq!(name, "registered");
    let client_id = client_id.as_str().unwrap().to_owned();
    let service: Value = app
        .get(&format!("/api/rest/services/{client_id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["name"], "openid-client RP");
    assert_eq!(service["jwks"]["keys"][0]["kid"], "openid-client-rp-key");

    let (name, authorize) = step(&mut lines);
    assert_eq!(name, "authorize");
    let pushed = authorize.as_str().unwrap();
    assert!(
        pushed.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"),
        "{pushed}"
    );
    assert!(
        !pushed.contains("code_challenge"),
        "only the request_uri travels: {pushed}"
    );
    let (browser, consent) = app
        .signed_in_at(authorize.as_str().unwrap(), "olivia", "olivia-password")
        .await;
    assert_eq!(
        consent.status(),
        200,
        "a registered client is not trusted: consent is asked"
    );
    let back = app.decide(&browser, consent, "allow").await;
    let callback = location(&back);
    assert!(
        callback.starts_with("https://rp.example/callback?"),
        "{callback}"
    );
    writeln!(to_rp, "{callback}").unwrap();

    let (name, claims) = step(&mut lines);
    assert_eq!(name, "claims", "{claims}");
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["aud"], client_id.as_str());
    assert!(claims["sid"].is_string(), "{claims}");
    assert_eq!(claims["groups"], serde_json::json!(["Readers", "Staff"]));
    // How she signed in (RFC 8176): the password alone.
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]), "{claims}");
    assert_eq!(claims["acr"], "pwd");
    let (name, userinfo) = step(&mut lines);
    assert_eq!(name, "userinfo");
    assert_eq!(userinfo["preferred_username"], "olivia");
    assert_eq!(userinfo["groups"], serde_json::json!(["Readers", "Staff"]));

    let (name, end_session) = step(&mut lines);
    assert_eq!(name, "end_session");
    let response = browser
        .get(end_session.as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&response),
        "https://rp.example/signed-out?state=signed-out-state"
    );
    assert_eq!(
        app.page(&browser, "/account").await.0,
        303,
        "signed out of idhub"
    );
    assert!(rp.wait().unwrap().success());
}

/// openid-client as a public client: the device flow while this test plays
/// the user at `/device`, then code + PKCE with DPoP-bound tokens, a DPoP
/// userinfo call and a DPoP refresh.
#[tokio::test]
async fn openid_client_uses_the_device_flow_and_dpop_bound_tokens() {
    if !prerequisites_present() {
        return;
    }
    let app = spawn_app().await;
    let user_id = app.create_user("dora", "dora-password").await;
    let (mut rp, mut lines, mut to_rp) = start_rp("device_dpop.mjs", &app);

    let (name, device) = step(&mut lines);
    assert_eq!(name, "device", "{device}");
    assert_eq!(device["verification_uri"], app.url("/device"));
    let (browser, entry) = app
        .signed_in_at(
            device["verification_uri_complete"].as_str().unwrap(),
            "dora",
            "dora-password",
        )
        .await;
    let entry = entry.text().await.unwrap();
    let user_code = device["user_code"].as_str().unwrap();
    assert!(entry.contains(&format!("value=\"{user_code}\"")), "{entry}");
    let mut form = hidden_inputs(&entry);
    form.push(("user_code".into(), user_code.into()));
    let consent = browser
        .post(app.url("/device"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = hidden_inputs(&consent);
    form.push(("decision".into(), "allow".into()));
    let done = browser
        .post(app.url("/device/decide"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(done.text().await.unwrap().contains("Device connected"));
    let (name, device_tokens) = step(&mut lines);
    assert_eq!(name, "device_tokens", "{device_tokens}");
    assert_eq!(device_tokens["claims"]["sub"], user_id.as_str());
    assert_eq!(device_tokens["refresh"], true);

    let (name, authorize) = step(&mut lines);
    assert_eq!(name, "authorize");
    // A new browser: the first one's connection idled while the device polled.
    let (browser, consent) = app
        .signed_in_at(authorize.as_str().unwrap(), "dora", "dora-password")
        .await;
    let back = app.decide(&browser, consent, "allow").await;
    writeln!(to_rp, "{}", location(&back)).unwrap();
    let (name, tokens) = step(&mut lines);
    assert_eq!(name, "dpop_tokens", "{tokens}");
    assert_eq!(tokens["token_type"], "dpop");
    let jkt = peek(tokens["access_token"].as_str().unwrap(), 1)["cnf"]["jkt"].clone();
    assert!(jkt.is_string(), "bound: {tokens}");
    let (name, userinfo) = step(&mut lines);
    assert_eq!(name, "dpop_userinfo", "{userinfo}");
    assert_eq!(userinfo["preferred_username"], "dora");
    let (name, refreshed) = step(&mut lines);
    assert_eq!(name, "dpop_refreshed", "{refreshed}");
    assert_eq!(refreshed["token_type"], "dpop");
    assert_eq!(
        peek(refreshed["access_token"].as_str().unwrap(), 1)["cnf"]["jkt"],
        jkt
    );
    assert!(rp.wait().unwrap().success());
}
