//! The device flow (RFC 8628): a device gets a device code and a user code,
//! the user types the code at `/device`, signs in and allows or denies, and
//! the device polls the token endpoint meanwhile, hearing each answer the
//! RFC names.
use reqwest::Response;
use serde_json::{json, Value};

use crate::browser::hidden_inputs;
use crate::dpop_keys::DpopKey;
use crate::helpers::{assert_oauth_error, peek, spawn_app, spawn_app_with, TestApp};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_client(app: &TestApp, extra: Value) -> (String, String) {
    let mut fields = json!({"deviceFlowEnabled": true});
    if let (Some(fields), Some(extra)) = (fields.as_object_mut(), extra.as_object()) {
        fields.extend(extra.clone());
    }
    app.service_with(fields).await
}

async fn start(app: &TestApp, client: (&str, &str), scope: &str) -> Value {
    let answer = app
        .oauth_post("device", &[("scope", scope)], Some(client))
        .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    answer.json().await.unwrap()
}

async fn poll(app: &TestApp, client: (&str, &str), device_code: &str) -> Response {
    app.oauth_post(
        "token",
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
        Some(client),
    )
    .await
}

/// Signs `login` in through `/device?user_code=…` and lands on the code form.
async fn signed_in_at_device(app: &TestApp, login: &str, typed: &str) -> (reqwest::Client, String) {
    app.create_user(login, &format!("{login}-password")).await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user_code", typed)
        .finish();
    let (browser, form) = app
        .signed_in_at(
            &format!("/device?{query}"),
            login,
            &format!("{login}-password"),
        )
        .await;
    assert_eq!(form.status(), 200);
    (browser, form.text().await.unwrap())
}

async fn submit(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    html: &str,
    extra: &[(&str, &str)],
) -> Response {
    let mut form: Vec<(String, String)> = hidden_inputs(html)
        .into_iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    browser
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Signs `login` in at `/device` and types `user_code`: the answer.
async fn enter_code(app: &TestApp, login: &str, user_code: &str) -> (reqwest::Client, Response) {
    let (browser, html) = signed_in_at_device(app, login, user_code).await;
    let answer = submit(app, &browser, "/device", &html, &[("user_code", user_code)]).await;
    (browser, answer)
}

/// Allows or denies on the device consent page: the result page.
async fn decide_at_device(
    app: &TestApp,
    browser: &reqwest::Client,
    consent: Response,
    decision: &str,
) -> Response {
    let html = consent.text().await.unwrap();
    submit(
        app,
        browser,
        "/device/decide",
        &html,
        &[("decision", decision)],
    )
    .await
}

#[tokio::test]
async fn a_device_polls_while_the_user_allows_and_then_gets_tokens_once() {
    let app = spawn_app().await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["device_authorization_endpoint"],
        app.url("/api/rest/oauth2/device")
    );
    assert!(discovery["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(DEVICE_GRANT)));
    let (id, secret) = device_client(&app, json!({})).await;
    let client = (id.as_str(), secret.as_str());
    let started = start(&app, client, "openid profile offline_access").await;
    let user_code = started["user_code"].as_str().unwrap().to_owned();
    let pattern =
        regex::Regex::new("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$").unwrap();
    assert!(pattern.is_match(&user_code), "{user_code}");
    assert_eq!(started["verification_uri"], app.url("/device"));
    assert_eq!(
        started["verification_uri_complete"],
        app.url(&format!("/device?user_code={user_code}"))
    );
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 5);
    let device_code = started["device_code"].as_str().unwrap().to_owned();

    let pending = poll(&app, client, &device_code).await;
    assert_oauth_error(pending, 400, "authorization_pending").await;
    let too_fast = poll(&app, client, &device_code).await;
    assert_oauth_error(too_fast, 400, "slow_down").await;

    // The user types the code in lower case without the dash.
    let (browser, html) = signed_in_at_device(&app, "tess", "").await;
    assert!(html.contains("Connect a device"), "{html}");
    let typed = user_code.replace('-', "").to_lowercase();
    let consent = submit(&app, &browser, "/device", &html, &[("user_code", &typed)]).await;
    assert_eq!(consent.status(), 200);
    let consent = consent.text().await.unwrap();
    assert!(
        consent.contains(&user_code),
        "the page shows the code: {consent}"
    );
    assert!(consent.contains("Know who you are"), "{consent}");
    let done = submit(
        &app,
        &browser,
        "/device/decide",
        &consent,
        &[("decision", "allow")],
    )
    .await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Device connected"));

    // Once allowed, the next poll gets the tokens, however soon it comes.
    let tokens = poll(&app, client, &device_code).await;
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(peek(tokens["id_token"].as_str().unwrap(), 1)["aud"], id);
    let again = poll(&app, client, &device_code).await;
    assert_oauth_error(again, 400, "invalid_grant").await;

    // The same code cannot be allowed twice.
    let (browser, html) = signed_in_at_device(&app, "tom", &user_code).await;
    assert!(html.contains(&user_code), "the code is filled in: {html}");
    assert!(html.contains(&format!("value=\"{user_code}\"")), "{html}");
    let used = submit(
        &app,
        &browser,
        "/device",
        &html,
        &[("user_code", &user_code)],
    )
    .await;
    assert_eq!(used.status(), 400);
}

#[tokio::test]
async fn a_denied_request_is_access_denied_and_other_clients_cannot_poll_it() {
    let app = spawn_app().await;
    let (id, secret) = device_client(&app, json!({})).await;
    let client = (id.as_str(), secret.as_str());
    let started = start(&app, client, "openid").await;
    let device_code = started["device_code"].as_str().unwrap();
    let user_code = started["user_code"].as_str().unwrap();

    let (other_id, other_secret) = device_client(&app, json!({})).await;
    let foreign = poll(&app, (&other_id, &other_secret), device_code).await;
    assert_oauth_error(foreign, 400, "invalid_grant").await;

    let (browser, consent) = enter_code(&app, "dana", user_code).await;
    let denied = decide_at_device(&app, &browser, consent, "deny").await;
    assert!(denied.text().await.unwrap().contains("Access denied"));
    let answer = poll(&app, client, device_code).await;
    assert_oauth_error(answer, 400, "access_denied").await;
}

#[tokio::test]
async fn the_device_flow_is_off_unless_the_service_turns_it_on() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({})).await;
    let refused = app
        .oauth_post("device", &[("scope", "openid")], Some((&id, &secret)))
        .await;
    assert_oauth_error(refused, 400, "unauthorized_client").await;
    let (id, secret) = device_client(&app, json!({})).await;
    let unknown = app
        .oauth_post(
            "device",
            &[("scope", "no-such-service")],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(unknown, 400, "invalid_scope").await;
    let wrong = app
        .oauth_post("device", &[("scope", "openid")], Some((&id, "wrong")))
        .await;
    assert_oauth_error(wrong, 401, "invalid_client").await;
}

#[tokio::test]
async fn codes_expire() {
    let app = spawn_app_with(|s| s.device_code_ttl_secs = 1).await;
    let (id, secret) = device_client(&app, json!({})).await;
    let started = start(&app, (&id, &secret), "openid").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = poll(
        &app,
        (&id, &secret),
        started["device_code"].as_str().unwrap(),
    )
    .await;
    assert_oauth_error(expired, 400, "expired_token").await;
    let user_code = started["user_code"].as_str().unwrap();
    let (_, refused) = enter_code(&app, "eve", user_code).await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn wrong_codes_lock_the_page_for_a_while() {
    let app = spawn_app_with(|s| s.device_code_max_failures = 3).await;
    let (id, secret) = device_client(&app, json!({})).await;
    let started = start(&app, (&id, &secret), "openid").await;
    let (browser, html) = signed_in_at_device(&app, "gus", "").await;
    for wrong in ["BBBB-BBBB", "not a code", "CCCC-CCCC"] {
        let answer = submit(&app, &browser, "/device", &html, &[("user_code", wrong)]).await;
        assert_eq!(answer.status(), 400, "{wrong}");
    }
    let right = started["user_code"].as_str().unwrap();
    let locked = submit(&app, &browser, "/device", &html, &[("user_code", right)]).await;
    assert_eq!(locked.status(), 429);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many wrong codes"));
}

#[tokio::test]
async fn a_public_device_binds_its_refresh_token_to_its_dpop_key() {
    let app = spawn_app().await;
    let (id, _) = device_client(&app, json!({"publicClient": true})).await;
    let started = app
        .oauth_post(
            "device",
            &[
                ("client_id", id.as_str()),
                ("scope", "openid offline_access"),
            ],
            None,
        )
        .await;
    assert_eq!(started.status(), 200);
    let started: Value = started.json().await.unwrap();
    let user_code = started["user_code"].as_str().unwrap();
    let (browser, consent) = enter_code(&app, "pia", user_code).await;
    decide_at_device(&app, &browser, consent, "allow").await;

    let key = DpopKey::es256();
    let url = app.url("/api/rest/oauth2/token");
    let send = |form: Vec<(&'static str, String)>, proof: String| {
        app.client
            .post(&url)
            .header("DPoP", proof)
            .form(&form)
            .send()
    };
    let tokens = send(
        vec![
            ("grant_type", DEVICE_GRANT.into()),
            ("client_id", id.clone()),
            (
                "device_code",
                started["device_code"].as_str().unwrap().into(),
            ),
        ],
        key.proof("POST", &url, None, json!({})),
    )
    .await
    .unwrap();
    assert_eq!(tokens.status(), 200);
    let tokens: Value = tokens.json().await.unwrap();
    assert_eq!(tokens["token_type"], "DPoP");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = || {
        vec![
            ("grant_type", "refresh_token".into()),
            ("client_id", id.clone()),
            ("refresh_token", refresh.clone()),
        ]
    };
    // Another key, or no proof at all, cannot use it.
    let thief = send(
        refresh_form(),
        DpopKey::es256().proof("POST", &url, None, json!({})),
    )
    .await
    .unwrap();
    assert_oauth_error(thief, 400, "invalid_grant").await;
    let unproven = app
        .client
        .post(&url)
        .form(&refresh_form())
        .send()
        .await
        .unwrap();
    assert_oauth_error(unproven, 400, "invalid_grant").await;
    let refreshed = send(refresh_form(), key.proof("POST", &url, None, json!({})))
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(refreshed["token_type"], "DPoP");
    assert_eq!(
        peek(refreshed["access_token"].as_str().unwrap(), 1)["cnf"]["jkt"],
        key.thumbprint()
    );
}

#[tokio::test]
async fn a_request_naming_a_deleted_service_cannot_be_allowed() {
    let app = spawn_app().await;
    let (id, secret) = device_client(&app, json!({})).await;
    let (doomed, _) = app.service_with(json!({})).await;
    let started = start(&app, (&id, &secret), &format!("openid {doomed}")).await;
    let gone = app
        .delete(&format!("/api/rest/services/{doomed}"), &app.admin_token)
        .await;
    assert!(gone.status().is_success());
    let user_code = started["user_code"].as_str().unwrap();
    let (_, refused) = enter_code(&app, "vic", user_code).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("no longer exists"));
}
