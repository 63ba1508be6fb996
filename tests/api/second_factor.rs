//! Second factors: an authenticator app set up on the account page with
//! its recovery codes, the sign-in step that asks for a code after the
//! password (each code good once, wrong ones locking like wrong
//! passwords), the password grant's refusal, and the REST status and an
//! admin's removal.
use idhub::factors::totp;
use regex::Regex;
use serde_json::{json, Value};

use crate::browser::{hidden_inputs, location, unescape};
use crate::helpers::{spawn_app, TestApp};

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

/// Signs `login` up for an authenticator app: the secret, and the recovery codes.
async fn enrol(app: &TestApp, login: &str, password: &str) -> (Vec<u8>, Vec<String>) {
    let browser = app.browser();
    let signed = app.sign_in(&browser, "/login", login, password).await;
    assert_eq!(signed.status(), 303);
    let (_, html) = app.page(&browser, "/account/second-factor").await;
    assert!(html.contains("id=\"totp-off\""), "{html}");
    let started = app
        .submit(
            &browser,
            "/account/second-factor",
            "/account/second-factor/totp",
            &[],
        )
        .await;
    assert_eq!(started.status(), 200);
    let html = started.text().await.unwrap();
    assert!(html.contains("<svg"), "a QR code: {html}");
    let secret_text = Regex::new(r#"<code id="totp-secret">([^<]*)</code>"#).unwrap();
    let text = unescape(&secret_text.captures(&html).unwrap()[1]);
    let uri = Regex::new(r#"<code id="otpauth-uri">([^<]*)</code>"#).unwrap();
    let uri = unescape(&uri.captures(&html).unwrap()[1]);
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let secret = totp::secret_from_text(&text).expect("a base32 key");
    // A wrong code does not turn it on.
    let wrong = app
        .submit(
            &browser,
            "/account/second-factor",
            "/account/second-factor/totp/confirm",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let code = totp::code_at(&secret, now()).unwrap();
    let confirmed = app
        .submit(
            &browser,
            "/account/second-factor",
            "/account/second-factor/totp/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let html = confirmed.text().await.unwrap();
    let codes: Vec<String> = Regex::new(r"<li><code>([A-Z0-9-]{19})</code></li>")
        .unwrap()
        .captures_iter(&html)
        .map(|c| c[1].to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{html}");
    (secret, codes)
}

/// Signs in with the password; the browser, and where it was sent.
async fn password_step(app: &TestApp, login: &str, password: &str) -> (reqwest::Client, String) {
    let browser = app.browser();
    let answer = app
        .sign_in(&browser, "/login?return_to=%2Faccount", login, password)
        .await;
    assert_eq!(answer.status(), 303);
    let to = location(&answer);
    (browser, to)
}

async fn code_step(app: &TestApp, browser: &reqwest::Client, code: &str) -> reqwest::Response {
    app.submit(
        browser,
        "/login/second-factor?return_to=%2Faccount",
        "/login/second-factor",
        &[("code", code)],
    )
    .await
}

#[tokio::test]
async fn an_app_code_or_a_recovery_code_completes_the_sign_in_once_each() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", "ada-password").await;
    let (secret, codes) = enrol(&app, "ada", "ada-password").await;
    let status: Value = app
        .get(
            &format!("/api/rest/users/{ada}/twofactorauthentication"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        status,
        json!({"enabled": true, "totp": true, "passkeys": 0, "recoveryCodesLeft": 10, "required": false})
    );

    // The password alone no longer signs in: it leads to the code page.
    let (browser, to) = password_step(&app, "ada", "ada-password").await;
    assert_eq!(to, "/login/second-factor?return_to=%2Faccount");
    assert_eq!(
        app.page(&browser, "/account").await.0,
        303,
        "not signed in yet"
    );
    let wrong = code_step(&app, &browser, "000000").await;
    assert_eq!(wrong.status(), 401);
    // The code of the step used to confirm is spent; the next one is not.
    let later = totp::code_at(&secret, now() + 30).unwrap();
    let passed = code_step(&app, &browser, &later).await;
    assert_eq!(passed.status(), 303);
    assert_eq!(location(&passed), "/account");
    assert_eq!(app.page(&browser, "/account").await.0, 200);

    // The same code again, in another browser: refused.
    let (other, _) = password_step(&app, "ada", "ada-password").await;
    assert_eq!(code_step(&app, &other, &later).await.status(), 401);
    // A recovery code, typed loosely, works once.
    let loose = codes[0].replace('-', " ").to_lowercase();
    assert_eq!(code_step(&app, &other, &loose).await.status(), 303);
    let (third, _) = password_step(&app, "ada", "ada-password").await;
    assert_eq!(code_step(&app, &third, &codes[0]).await.status(), 401);
    let status: Value = app
        .get(
            "/api/rest/users/me/twofactorauthentication",
            &app.token_for("ada", "t", &["0-0-0-0-0"]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["recoveryCodesLeft"], 9);

    // Without the pending cookie, the code page sends to the sign-in page.
    let stranger = app.browser();
    let (status, _) = app.page(&stranger, "/login/second-factor").await;
    assert_eq!(status, 303);

    // The password grant cannot ask for the code: refused, saying why.
    let (client, secret_of_client) = app.service_with(json!({"trusted": true})).await;
    let refused = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", "ada-password"),
            ],
            Some((&client, &secret_of_client)),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("second factor"));

    // Every step is in the audit trail.
    let events: Value = app
        .get(
            &format!("/api/rest/auditevents?query=user:%20{ada}&$top=100"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["type"].as_str().unwrap(),
                e["details"]["reason"].as_str().unwrap_or("")
            )
        })
        .collect();
    for kind in [
        "second_factor.enrolled ",
        "recovery_code.used ",
        "signin.failed wrong_second_factor",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn wrong_codes_lock_like_wrong_passwords_and_admins_remove_factors() {
    let app = spawn_app().await;
    let bob = app.create_user("bob", "bob-password").await;
    let (secret, _) = enrol(&app, "bob", "bob-password").await;
    let (browser, _) = password_step(&app, "bob", "bob-password").await;
    let mut locked = false;
    for _ in 0..30 {
        let answer = code_step(&app, &browser, "111111").await;
        assert_eq!(answer.status(), 401);
        if answer
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
        {
            locked = true;
            break;
        }
    }
    assert!(locked, "wrong codes end in the lockout");
    // Locked: even the right code waits.
    let right = totp::code_at(&secret, now() + 30).unwrap();
    assert_eq!(code_step(&app, &browser, &right).await.status(), 401);

    // Only admins remove someone's factors; then the password is enough.
    let bob_token = app.token_for("bob", "t", &["0-0-0-0-0"]);
    let path = format!("/api/rest/users/{bob}/twofactorauthentication");
    assert_eq!(app.delete(&path, &bob_token).await.status(), 403);
    assert_eq!(app.delete(&path, &app.admin_token).await.status(), 200);
    let status: Value = app.get(&path, &bob_token).await.json().await.unwrap();
    assert_eq!(status["enabled"], false);
    app.cli(&["users", "unlock", "bob"]);
    let (_, to) = password_step(&app, "bob", "bob-password").await;
    assert_eq!(to, "/account");
}

/// An authorization code flow for `client` in `browser`, already signed
/// in; the ID token's claims.
const CALLBACK: &str = "https://app.example/cb";

/// The browser asks `client`'s authorization with `extra` parameters.
async fn ask(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &(String, String),
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let challenge = idhub::oauth2::pkce::s256(&"v".repeat(50));
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.0.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    app.authorize(browser, &params).await
}

async fn id_token_claims(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &(String, String),
) -> Value {
    let answer = ask(app, browser, client, &[]).await;
    assert_eq!(answer.status(), 303);
    claims_of_code(app, &location(&answer), client).await
}

/// The ID token's claims for the code in `back` (the client's callback).
async fn claims_of_code(app: &TestApp, back: &str, client: &(String, String)) -> Value {
    let tokens = tokens_of_code(app, back, client).await;
    crate::helpers::peek(tokens["id_token"].as_str().unwrap(), 1)
}

/// The token response for the code in `back`.
async fn tokens_of_code(app: &TestApp, back: &str, client: &(String, String)) -> Value {
    let verifier = "v".repeat(50);
    let code = url::Url::parse(back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {back}"));
    app.token(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", &verifier),
        ],
        (&client.0, &client.1),
    )
    .await
}

#[tokio::test]
async fn id_tokens_say_how_the_user_signed_in() {
    let app = spawn_app().await;
    app.create_user("cid", "cid-password").await;
    app.create_user("dot", "dot-password").await;
    let client = app
        .web_client("https://app.example/cb", json!({"trusted": true}))
        .await;
    let (secret, _) = enrol(&app, "cid", "cid-password").await;
    let (browser, _) = password_step(&app, "cid", "cid-password").await;
    let code = totp::code_at(&secret, now() + 30).unwrap();
    assert_eq!(code_step(&app, &browser, &code).await.status(), 303);
    let answer = ask(&app, &browser, &client, &[]).await;
    let tokens = tokens_of_code(&app, &location(&answer), &client).await;
    let claims = crate::helpers::peek(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "mfa");
    // The access token says it too (RFC 9068), and so does introspection.
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(crate::helpers::peek(access_token, 1)["acr"], "mfa");
    let seen = app.introspect(access_token, (&client.0, &client.1)).await;
    assert_eq!(seen["amr"], json!(["pwd", "otp", "mfa"]), "{seen}");
    assert_eq!(seen["acr"], "mfa");
    assert_eq!(seen["auth_time"], claims["auth_time"]);

    let (plain, _) = password_step(&app, "dot", "dot-password").await;
    let claims = id_token_claims(&app, &plain, &client).await;
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
    assert_eq!(claims["acr"], "pwd");

    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["acr_values_supported"], json!(["pwd", "mfa"]));
    assert_eq!(discovery["claims_parameter_supported"], true);
    for claim in ["amr", "acr", "auth_time"] {
        assert!(discovery["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(claim)));
    }
}

/// The error the client hears at its callback.
fn callback_error(answer: &reqwest::Response) -> String {
    let back = location(answer);
    assert!(back.starts_with(CALLBACK), "{back}");
    url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no error in {back}"))
}

#[tokio::test]
async fn a_request_for_two_factors_steps_a_password_session_up() {
    let app = spawn_app().await;
    app.create_user("sam", "sam-password").await;
    let client = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let (browser, _) = password_step(&app, "sam", "sam-password").await;
    let mfa = [("acr_values", "mfa")];
    let essential = [(
        "claims",
        r#"{"id_token":{"acr":{"essential":true,"values":["mfa"]}}}"#,
    )];
    // No second factor: a requirement sam cannot meet, told to the client.
    for extra in [&mfa[..], &essential[..]] {
        let refused = ask(&app, &browser, &client, extra).await;
        assert_eq!(
            callback_error(&refused),
            "unmet_authentication_requirements"
        );
    }
    // `pwd mfa` takes either.
    let either = ask(&app, &browser, &client, &[("acr_values", "pwd mfa")]).await;
    let claims = claims_of_code(&app, &location(&either), &client).await;
    assert_eq!(claims["acr"], "pwd");
    let sid = claims["sid"].clone();
    assert!(sid.is_string(), "{claims}");

    // With an app set up, the password session steps up: the code step,
    // then back to the request, which now issues with two factors.
    let (_, codes) = enrol(&app, "sam", "sam-password").await;
    let silent = ask(
        &app,
        &browser,
        &client,
        &[("acr_values", "mfa"), ("prompt", "none")],
    )
    .await;
    assert_eq!(callback_error(&silent), "login_required");
    let step = ask(&app, &browser, &client, &mfa).await;
    let to = location(&step);
    assert!(to.starts_with("/login/second-factor?return_to="), "{to}");
    let wrong = app
        .submit(&browser, &to, "/login/second-factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), 401);
    let passed = app
        .submit(
            &browser,
            &to,
            "/login/second-factor",
            &[("code", &codes[0])],
        )
        .await;
    assert_eq!(passed.status(), 303);
    let back_to = location(&passed);
    assert!(back_to.starts_with("/api/rest/oauth2/auth?"), "{back_to}");
    let issued = browser.get(app.url(&back_to)).send().await.unwrap();
    let claims = claims_of_code(&app, &location(&issued), &client).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "mfa");
    // The same session, stepped up: services that know it keep it.
    assert_eq!(claims["sid"], sid);
    // The session is a two-factor one now: asked again, issued at once.
    let again = ask(&app, &browser, &client, &essential).await;
    let claims = claims_of_code(&app, &location(&again), &client).await;
    assert_eq!(claims["acr"], "mfa");
    // A claims parameter that is not JSON is the client's error.
    let bad = ask(&app, &browser, &client, &[("claims", "acr=mfa")]).await;
    assert_eq!(callback_error(&bad), "invalid_request");
}

async fn enabled(app: &TestApp, path: &str) -> bool {
    let status: Value = app.get(path, &app.admin_token).await.json().await.unwrap();
    status["enabled"].as_bool().unwrap()
}

#[tokio::test]
async fn admins_remove_a_second_factor_in_the_console_and_the_cli() {
    let app = spawn_app().await;
    let eve = app.create_user("eve", "eve-password").await;
    let status_path = format!("/api/rest/users/{eve}/twofactorauthentication");
    enrol(&app, "eve", "eve-password").await;
    assert!(enabled(&app, &status_path).await);
    let admin = app.browser();
    app.sign_in(&admin, "/login", "admin", crate::helpers::ADMIN_PASSWORD)
        .await;
    let page = format!("/admin/users/{eve}");
    let (_, html) = app.page(&admin, &page).await;
    assert!(html.contains("recovery codes left"), "{html}");
    let removed = app
        .submit(&admin, &page, &format!("{page}/second-factor/remove"), &[])
        .await;
    assert_eq!(removed.status(), 303);
    assert!(!enabled(&app, &status_path).await);

    enrol(&app, "eve", "eve-password").await;
    assert!(enabled(&app, &status_path).await);
    let said = app.cli(&["users", "remove-second-factor", "eve"]);
    assert!(said.contains("second factors removed for eve"), "{said}");
    assert!(!enabled(&app, &status_path).await);
    let (_, to) = password_step(&app, "eve", "eve-password").await;
    assert_eq!(to, "/account");

    // The console requires one of eve (the REST API's rule): her next
    // sign-in sets one up; then no longer.
    let (_, html) = app.page(&admin, &page).await;
    assert!(html.contains("id=\"require-second-factor\""), "{html}");
    let required_path = format!("{page}/second-factor/required");
    let required = app
        .submit(&admin, &page, &required_path, &[("required", "on")])
        .await;
    assert_eq!(required.status(), 303);
    let status: Value = app
        .get(&status_path, &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["required"], true);
    let (_, to) = password_step(&app, "eve", "eve-password").await;
    assert!(to.starts_with("/login/set-up-second-factor"), "{to}");
    let lifted = app
        .submit(&admin, &page, &required_path, &[("required", "off")])
        .await;
    assert_eq!(lifted.status(), 303);
    let (_, to) = password_step(&app, "eve", "eve-password").await;
    assert_eq!(to, "/account");
    let nonsense = app
        .submit(&admin, &page, &required_path, &[("required", "maybe")])
        .await;
    assert_eq!(nonsense.status(), 400);
}

/// Opens the set-up page at `to` (a new secret each time) and sends the
/// code `code_for` makes from the secret it shows.
async fn set_up_with(
    app: &TestApp,
    browser: &reqwest::Client,
    to: &str,
    code_for: impl Fn(&[u8]) -> String,
) -> reqwest::Response {
    let (status, html) = app.page(browser, to).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<svg"), "{html}");
    let key = Regex::new(r#"<code id="totp-secret">([^<]*)</code>"#).unwrap();
    let secret = totp::secret_from_text(&unescape(&key.captures(&html).unwrap()[1])).unwrap();
    let mut form: Vec<(String, String)> = Vec::new();
    for (name, value) in hidden_inputs(&html) {
        if !form.iter().any(|(seen, _)| *seen == name) {
            form.push((name, value));
        }
    }
    form.push(("code".into(), code_for(&secret)));
    browser
        .post(app.url("/login/set-up-second-factor"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_policy_has_admins_set_up_a_factor_before_going_on() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.require_second_factor = idhub::config::SecondFactorPolicy::Admins;
    })
    .await;
    app.create_user("fay", "fay-password").await;
    // Not an admin: the password is enough.
    let (_, to) = password_step(&app, "fay", "fay-password").await;
    assert_eq!(to, "/account");

    // An admin without a factor sets one up first.
    let admin_password = crate::helpers::ADMIN_PASSWORD;
    let (browser, to) = password_step(&app, "admin", admin_password).await;
    assert_eq!(to, "/login/set-up-second-factor?return_to=%2Faccount");
    assert_eq!(
        app.page(&browser, "/account").await.0,
        303,
        "not signed in yet"
    );
    let wrong = set_up_with(&app, &browser, &to, |_| "000000".into()).await;
    assert_eq!(wrong.status(), 400);
    let done = set_up_with(&app, &browser, &to, |secret| {
        totp::code_at(secret, now()).unwrap()
    })
    .await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("id=\"recovery-codes\""), "{html}");
    assert!(html.contains(r#"href="/account" id="continue""#), "{html}");
    assert_eq!(app.page(&browser, "/account").await.0, 200, "signed in");

    // Next time, the code is asked for.
    let (_, to) = password_step(&app, "admin", admin_password).await;
    assert_eq!(to, "/login/second-factor?return_to=%2Faccount");
}

#[tokio::test]
async fn the_password_grant_refuses_a_user_who_must_set_up_a_factor() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.require_second_factor = idhub::config::SecondFactorPolicy::All;
    })
    .await;
    app.create_user("gus", "gus-password").await;
    let (client, secret) = app.service_with(json!({"trusted": true})).await;
    let refused = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "gus"),
                ("password", "gus-password"),
            ],
            Some((&client, &secret)),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let (_, to) = password_step(&app, "gus", "gus-password").await;
    assert!(to.starts_with("/login/set-up-second-factor"), "{to}");
}

#[tokio::test]
async fn a_secret_being_set_up_is_seen_and_confirmed_by_its_own_browser_only() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.require_second_factor = idhub::config::SecondFactorPolicy::All;
    })
    .await;
    app.create_user("hal", "hal-password").await;
    let (first, to) = password_step(&app, "hal", "hal-password").await;
    let (second, _) = password_step(&app, "hal", "hal-password").await;
    // The first browser opens the page; the second opens it after, which
    // replaces the secret; the first one's code is then for nothing.
    let (_, first_page) = app.page(&first, &to).await;
    let key = Regex::new(r#"<code id="totp-secret">([^<]*)</code>"#).unwrap();
    let first_secret =
        totp::secret_from_text(&unescape(&key.captures(&first_page).unwrap()[1])).unwrap();
    let confirmed = set_up_with(&app, &second, &to, |secret| {
        assert_ne!(
            secret,
            first_secret.as_slice(),
            "never the same secret twice"
        );
        totp::code_at(secret, now()).unwrap()
    })
    .await;
    assert_eq!(confirmed.status(), 200);
    // The first browser's code confirms nothing and shows no secret.
    let csrf = hidden_inputs(&first_page)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .unwrap()
        .1;
    let code = totp::code_at(&first_secret, now()).unwrap();
    let late = first
        .post(app.url("/login/set-up-second-factor"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("code", code.as_str()),
            ("return_to", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 303);
    assert!(
        location(&late).starts_with("/login/set-up-second-factor"),
        "{}",
        location(&late)
    );
    // Set up meanwhile: the page asks for a code instead.
    let again = first.get(app.url(&location(&late))).send().await.unwrap();
    assert_eq!(again.status(), 303);
    assert!(
        location(&again).starts_with("/login/second-factor"),
        "{}",
        location(&again)
    );
    assert_eq!(app.page(&first, "/account").await.0, 303, "not signed in");
}

#[tokio::test]
async fn a_forged_pending_cookie_names_nobody() {
    let app = spawn_app().await;
    for value in [
        "%00",
        "x.y.z",
        &"a".repeat(300),
        "..",
        "0-0-0-0-0.9999999999.AAAA",
    ] {
        let response = app
            .client
            .get(app.url("/login/second-factor"))
            .header("Cookie", format!("idhub_pending={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{value}");
    }
}

#[tokio::test]
async fn a_factor_the_policy_requires_cannot_be_turned_off_by_its_user() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.require_second_factor = idhub::config::SecondFactorPolicy::All;
    })
    .await;
    app.create_user("ivy", "ivy-password").await;
    let (browser, to) = password_step(&app, "ivy", "ivy-password").await;
    let done = set_up_with(&app, &browser, &to, |secret| {
        totp::code_at(secret, now()).unwrap()
    })
    .await;
    assert_eq!(done.status(), 200);
    let refused = app
        .submit(
            &browser,
            "/account/second-factor",
            "/account/second-factor/remove",
            &[("code", "anything")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("cannot be turned off"));
}

#[tokio::test]
async fn an_admin_requires_one_user_to_have_a_second_factor() {
    let app = spawn_app().await;
    let jon = app.create_user("jon", "jon-password").await;
    let path = format!("/api/rest/users/{jon}/twofactorauthentication");
    let jon_token = app.token_for("jon", "t", &["0-0-0-0-0"]);
    let refused = app
        .post_json(&path, &jon_token, &json!({"required": false}))
        .await;
    assert_eq!(refused.status(), 403, "only admins");
    let set: Value = app
        .post_json(&path, &app.admin_token, &json!({"required": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["required"], true);
    assert_eq!(set["enabled"], false);
    // The next sign-in sets one up first.
    let (browser, to) = password_step(&app, "jon", "jon-password").await;
    assert!(to.starts_with("/login/set-up-second-factor"), "{to}");
    let done = set_up_with(&app, &browser, &to, |secret| {
        totp::code_at(secret, now()).unwrap()
    })
    .await;
    assert_eq!(done.status(), 200);
    // Required: its user cannot turn it off.
    let refused = app
        .submit(
            &browser,
            "/account/second-factor",
            "/account/second-factor/remove",
            &[("code", "anything")],
        )
        .await;
    assert_eq!(refused.status(), 403);
    // No longer required: the password alone again once the factor is removed.
    app.post_json(&path, &app.admin_token, &json!({"required": false}))
        .await;
    assert_eq!(app.delete(&path, &app.admin_token).await.status(), 200);
    let (_, to) = password_step(&app, "jon", "jon-password").await;
    assert_eq!(to, "/account");
}

/// The names of the cookies an answer sets.
fn cookies_set(answer: &reqwest::Response) -> Vec<String> {
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split('=').next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_browser_becomes_familiar_once_its_second_step_is_passed() {
    let app = spawn_app().await;
    let fin = app.create_user("fin", "fin-password").await;
    let (secret, _) = enrol(&app, "fin", "fin-password").await;
    let browser = app.browser();
    let password = app
        .sign_in(
            &browser,
            "/login?return_to=%2Faccount",
            "fin",
            "fin-password",
        )
        .await;
    assert_eq!(password.status(), 303);
    let device = idhub::sessions::familiar_devices::DEVICE_COOKIE.to_owned();
    assert!(
        !cookies_set(&password).contains(&device),
        "the password alone"
    );
    let code = totp::code_at(&secret, now() + 30).unwrap();
    let passed = code_step(&app, &browser, &code).await;
    assert_eq!(passed.status(), 303);
    assert!(cookies_set(&passed).contains(&device), "the sign-in done");
    // The audit trail tells the password step from the completed sign-in.
    let audit = |kind: &str| {
        let query = format!("type: {kind} user: {fin}");
        let url = format!(
            "/api/rest/auditevents?query={}",
            url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
        );
        let app = &app;
        async move {
            let found: Value = app.get(&url, &app.admin_token).await.json().await.unwrap();
            found["events"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(audit("signin.password_verified").await, 1);
    // The sign-in before the app was set up, and the second step now.
    assert_eq!(audit("signin.succeeded").await, 2);
}

#[tokio::test]
async fn a_password_change_keeps_when_and_how_the_session_signed_in() {
    let app = spawn_app().await;
    app.create_user("gil", "gil-password").await;
    let client = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let (browser, _) = password_step(&app, "gil", "gil-password").await;
    let before = id_token_claims(&app, &browser, &client).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let changed = app
        .submit(
            &browser,
            "/account",
            "/account/password",
            &[
                ("current_password", "gil-password"),
                ("password", "gil-password-2"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 303);
    let after = id_token_claims(&app, &browser, &client).await;
    assert_eq!(after["auth_time"], before["auth_time"], "{before} {after}");
    assert_eq!(after["amr"], json!(["pwd"]));
}
