//! Implicit flow, consent memory, prompts, errors, form_post, authorized
//! applications and the account page, driven through the real HTML.
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::browser::{callback_params, hidden_inputs, location, param};
use crate::helpers::{peek, spawn_app, TestApp};
use crate::independent::verify_with_jwks;

const CALLBACK: &str = "https://spa.example.com/callback";

/// Signs `login` in through an authorization request and returns the browser
/// and the first answer after the sign-in (consent page or redirect).
async fn sign_in_through(
    app: &TestApp,
    params: &[(&str, &str)],
    login: &str,
) -> (reqwest::Client, reqwest::Response) {
    let browser = app.browser();
    let first = app.authorize(&browser, params).await;
    assert_eq!(first.status(), 303);
    let signed_in = app
        .sign_in(
            &browser,
            &location(&first),
            login,
            &format!("{login}-password"),
        )
        .await;
    let next = app.follow(&browser, signed_in).await;
    (browser, next)
}

#[tokio::test]
async fn implicit_token_and_id_token_in_the_fragment() {
    let app = spawn_app().await;
    let user_id = app.create_user("ida", "ida-password").await;
    let (id, _) = app
        .web_client(CALLBACK, json!({"publicClient": true}))
        .await;
    let params = [
        ("response_type", "id_token token"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile"),
        ("state", "st-1"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    let (_, consent) = sign_in_through(&app, &params, "ida").await;
    assert_eq!(consent.status(), 200);
    let html = consent.text().await.unwrap();
    assert!(html.contains("See your name and login"), "{html}");
    let mut form = hidden_inputs(&html);
    form.push(("decision".into(), "allow".into()));
    // Reuse the same browser cookies: post through a new browser would fail CSRF.
    let browser = app.browser();
    let forged = browser
        .post(app.url("/api/rest/oauth2/auth/consent"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a consent POST without the CSRF cookie is refused"
    );

    let (browser, consent) = sign_in_through(&app, &params, "ida").await;
    let back = app.decide(&browser, consent, "allow").await;
    let callback = location(&back);
    assert!(callback.starts_with(&format!("{CALLBACK}#")), "{callback}");
    let fragment = callback_params(&callback);
    assert_eq!(param(&fragment, "state"), Some("st-1"));
    assert_eq!(param(&fragment, "token_type"), Some("Bearer"));
    assert!(
        param(&fragment, "refresh_token").is_none(),
        "implicit never issues refresh tokens"
    );
    let access_token = param(&fragment, "access_token").unwrap();
    let id_token = param(&fragment, "id_token").unwrap();

    let claims = verify_with_jwks(&app, id_token).await;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["aud"], id.as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert!(claims["auth_time"].is_i64());
    let digest = Sha256::digest(access_token.as_bytes());
    let at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(peek(id_token, 1)["at_hash"], at_hash);

    let userinfo: Value = app.userinfo(access_token).await.json().await.unwrap();
    assert_eq!(userinfo["preferred_username"], "ida");

    // Plain `token` needs no nonce without openid; a remembered consent skips the page.
    let again = app
        .authorize(
            &browser,
            &[
                ("response_type", "token"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid profile"),
                ("nonce", "x"),
            ],
        )
        .await;
    assert_eq!(again.status(), 303);
    assert!(param(&callback_params(&location(&again)), "access_token").is_some());
}

#[tokio::test]
async fn consent_is_remembered_per_scope_and_deny_is_access_denied() {
    let app = spawn_app().await;
    app.create_user("rob", "rob-password").await;
    let (resource, _) = app.service_with(json!({"name": "Reports"})).await;
    let (id, _) = app.web_client(CALLBACK, json!({"name": "Dashboard"})).await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "s1"),
    ];
    let (browser, consent) = sign_in_through(&app, &base, "rob").await;
    let back = app.decide(&browser, consent, "allow").await;
    assert!(param(&callback_params(&location(&back)), "code").is_some());

    let remembered = app.authorize(&browser, &base).await;
    assert_eq!(
        remembered.status(),
        303,
        "the same scope is not asked again"
    );
    assert!(location(&remembered).starts_with(CALLBACK));

    let mut wider = base.to_vec();
    let scope = format!("0-0-0-0-0 {resource}");
    wider.push(("scope", &scope));
    let asked = app.authorize(&browser, &wider).await;
    assert_eq!(asked.status(), 200, "a new service in the scope asks again");
    let html_check = app.authorize(&browser, &wider).await.text().await.unwrap();
    assert!(
        html_check.contains("Reports") && html_check.contains("Dashboard"),
        "services named: {html_check}"
    );
    let denied = app.decide(&browser, asked, "deny").await;
    let params = callback_params(&location(&denied));
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("s1"));

    // prompt=consent asks even when remembered.
    let mut forced = base.to_vec();
    forced.push(("prompt", "consent"));
    assert_eq!(app.authorize(&browser, &forced).await.status(), 200);
}

#[tokio::test]
async fn silent_and_required_credentials() {
    let app = spawn_app().await;
    app.create_user("sid", "sid-password").await;
    let (id, _) = app.web_client(CALLBACK, json!({})).await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("state", "q"),
    ];
    let fresh = app.browser();

    let mut silent = base.to_vec();
    silent.push(("request_credentials", "silent"));
    let answer = app.authorize(&fresh, &silent).await;
    let params = callback_params(&location(&answer));
    assert_eq!(param(&params, "error"), Some("login_required"));
    assert_eq!(param(&params, "state"), Some("q"));
    let mut prompt_none = base.to_vec();
    prompt_none.push(("prompt", "none"));
    assert_eq!(
        param(
            &callback_params(&location(&app.authorize(&fresh, &prompt_none).await)),
            "error"
        ),
        Some("login_required")
    );

    // Signed in but consent never given: consent_required, silently.
    let (browser, consent_page) = sign_in_through(&app, &base, "sid").await;
    assert_eq!(consent_page.status(), 200);
    let answer = app.authorize(&browser, &silent).await;
    assert_eq!(
        param(&callback_params(&location(&answer)), "error"),
        Some("consent_required")
    );
    app.decide(&browser, app.authorize(&browser, &base).await, "allow")
        .await;
    let answer = app.authorize(&browser, &silent).await;
    assert!(
        param(&callback_params(&location(&answer)), "code").is_some(),
        "silent works once signed in and allowed"
    );

    // required: sign in again although a session exists.
    let mut required = base.to_vec();
    required.push(("request_credentials", "required"));
    let answer = app.authorize(&browser, &required).await;
    assert!(
        location(&answer).starts_with("/login?"),
        "{}",
        location(&answer)
    );
    let signed_in = app
        .sign_in(&browser, &location(&answer), "sid", "sid-password")
        .await;
    let back = app.follow(&browser, signed_in).await;
    assert!(param(&callback_params(&location(&back)), "code").is_some());
}

#[tokio::test]
async fn a_consent_without_offline_access_does_not_cover_a_refresh_token() {
    let app = spawn_app().await;
    app.create_user("otto", "otto-password").await;
    let (id, _) = app.web_client(CALLBACK, json!({})).await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "0-0-0-0-0"),
    ];
    let (browser, consent_page) = sign_in_through(&app, &base, "otto").await;
    app.decide(&browser, consent_page, "allow").await;

    let mut offline_silently = base.to_vec();
    offline_silently.extend([("access_type", "offline"), ("prompt", "none")]);
    let answer = app.authorize(&browser, &offline_silently).await;
    assert_eq!(
        param(&callback_params(&location(&answer)), "error"),
        Some("consent_required"),
        "a refresh token needs its own consent (OIDC Core 11)"
    );

    let mut offline = base.to_vec();
    offline.push(("access_type", "offline"));
    let asked = app.authorize(&browser, &offline).await;
    assert_eq!(asked.status(), 200, "the consent page asks again");
    app.decide(&browser, asked, "allow").await;
    let answer = app.authorize(&browser, &offline_silently).await;
    assert!(
        param(&callback_params(&location(&answer)), "code").is_some(),
        "once allowed, silent offline requests pass"
    );
}

#[tokio::test]
async fn errors_before_the_client_is_verified_stay_on_idhub() {
    let app = spawn_app().await;
    let (id, _) = app.web_client(CALLBACK, json!({})).await;
    let browser = app.browser();
    for params in [
        vec![
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", "https://evil.example.com/cb"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", "no-such-client"),
            ("redirect_uri", CALLBACK),
        ],
        vec![("response_type", "code"), ("redirect_uri", CALLBACK)],
    ] {
        let answer = app.authorize(&browser, &params).await;
        assert_eq!(answer.status(), 400, "{params:?}");
        assert!(
            answer.headers().get("location").is_none(),
            "never redirected: {params:?}"
        );
        assert!(answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(answer.headers()["x-frame-options"], "DENY");
        assert!(answer.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(answer.headers()["referrer-policy"], "no-referrer");
    }
    let duplicated = browser
        .get(app.url(&format!(
            "/api/rest/oauth2/auth?client_id={id}&client_id={id}&response_type=code"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicated.status(), 400);

    // Once verified, errors go back to the client.
    let answer = app
        .authorize(
            &browser,
            &[
                ("response_type", "magic"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
                ("state", "z"),
            ],
        )
        .await;
    let params = callback_params(&location(&answer));
    assert_eq!(param(&params, "error"), Some("unsupported_response_type"));
    assert_eq!(param(&params, "state"), Some("z"));
    let answer = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
                ("scope", "unknown-service"),
            ],
        )
        .await;
    assert_eq!(
        param(&callback_params(&location(&answer)), "error"),
        Some("invalid_scope")
    );
}

#[tokio::test]
async fn sign_in_needs_the_csrf_token_and_the_right_password() {
    let app = spawn_app().await;
    app.create_user("cat", "cat-password").await;
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    let csrf = hidden_inputs(&html)
        .into_iter()
        .find(|(k, _)| k.contains("csrf"))
        .unwrap()
        .1;

    let without = browser
        .post(app.url("/login"))
        .form(&[("login", "cat"), ("password", "cat-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let wrong = browser
        .post(app.url("/login"))
        .form(&[
            ("login", "cat"),
            ("password", "nope-nope"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong login or password"));
    let right = browser
        .post(app.url("/login"))
        .form(&[
            ("login", "cat"),
            ("password", "cat-password"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    let cookie = right
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("idhub_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(location(&right), "/account");
}

#[tokio::test]
async fn form_post_answers_with_a_self_submitting_form() {
    let app = spawn_app().await;
    app.create_user("fay", "fay-password").await;
    let (id, _) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let (_, page) = sign_in_through(
        &app,
        &[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", CALLBACK),
            ("response_mode", "form_post"),
            ("state", "fp"),
        ],
        "fay",
    )
    .await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"action="{CALLBACK}""#))
            || html.contains("action=\"https:&#x2f;&#x2f;"),
        "{html}"
    );
    let fields = hidden_inputs(&html);
    assert!(param(&fields, "code").is_some());
    assert_eq!(param(&fields, "state"), Some("fp"));
}

#[tokio::test]
async fn revoking_an_authorized_application_ends_its_tokens_and_consent() {
    let app = spawn_app().await;
    app.create_user("amy", "amy-password").await;
    let (id, secret) = app.web_client(CALLBACK, json!({"name": "Planner"})).await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid 0-0-0-0-0"),
        ("access_type", "offline"),
    ];
    let (browser, consent) = sign_in_through(&app, &base, "amy").await;
    let back = app.decide(&browser, consent, "allow").await;
    let code = param(&callback_params(&location(&back)), "code")
        .unwrap()
        .to_owned();
    let tokens = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
            (&id, &secret),
        )
        .await;
    let access = tokens["access_token"].as_str().unwrap();

    let apps: Value = app
        .get("/api/rest/users/me/authorizedapps", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(apps["total"], 1);
    assert_eq!(apps["authorizedapps"][0]["service"]["name"], "Planner");
    assert_eq!(
        apps["authorizedapps"][0]["scope"],
        json!(["openid", "0-0-0-0-0", "offline_access"]),
        "access_type=offline is shown as the offline access it is"
    );

    let account = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("Planner") && account.contains(">Revoke<"),
        "{account}"
    );

    let admin_view: Value = app
        .get("/api/rest/users/me", access)
        .await
        .json()
        .await
        .unwrap();
    let revoke = app
        .delete(
            &format!(
                "/api/rest/users/{}/authorizedapps/{id}",
                admin_view["id"].as_str().unwrap()
            ),
            &app.admin_token,
        )
        .await;
    assert_eq!(revoke.status(), 200);
    assert_eq!(
        app.introspect(access, (&id, &secret)).await["active"],
        false
    );
    let userinfo = app.userinfo(access).await;
    assert_eq!(userinfo.status(), 401);
    let refresh = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(refresh.status(), 400);
    assert_eq!(
        app.authorize(&browser, &base).await.status(),
        200,
        "consent is asked again"
    );
}

#[tokio::test]
async fn the_account_page_revokes_apps_and_manages_tokens() {
    let app = spawn_app().await;
    app.create_user("max", "max-password").await;
    let (id, _) = app.web_client(CALLBACK, json!({"name": "Notes"})).await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let (browser, consent) = sign_in_through(&app, &base, "max").await;
    app.decide(&browser, consent, "allow").await;

    let html = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(r#"href="/admin""#),
        "no console link for a user"
    );
    let csrf = hidden_inputs(&html)
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .unwrap()
        .1;
    let created = browser
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "laptop"),
            ("scope", "0-0-0-0-0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let page = created.text().await.unwrap();
    let token = regex::Regex::new(r#"id="new-token">([^<]+)<"#)
        .unwrap()
        .captures(&page)
        .expect("token shown once")[1]
        .to_owned();
    let me: Value = app
        .get("/api/rest/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["login"], "max");
    let again = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.contains("laptop") && !again.contains(&token),
        "listed, never shown again"
    );

    let revoke = browser
        .post(app.url(&format!("/account/apps/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    assert_eq!(
        app.authorize(&browser, &base).await.status(),
        200,
        "consent asked again after Revoke"
    );
    let no_csrf = browser
        .post(app.url(&format!("/account/apps/{id}/revoke")))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);

    let logout = browser
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    let after = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(after.status(), 303, "signed out");
}

/// Hub's `request_credentials=skip`: nobody signed in, the (unbanned) guest
/// is who the request is for; a client that asks its users for consent gets
/// `consent_required` (the guest is never asked), also when a consent form
/// is posted in its name.
#[tokio::test]
async fn skip_falls_back_to_the_guest_who_is_never_asked() {
    let app = spawn_app().await;
    let guests: serde_json::Value = app
        .get("/api/rest/users?query=guest", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let guest_id = guests["users"][0]["id"].as_str().unwrap().to_owned();
    let (trusted, _) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let (asking, _) = app.web_client(CALLBACK, json!({})).await;
    let request = |client: &str| {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", client.to_owned()),
            ("redirect_uri", CALLBACK.to_owned()),
            ("request_credentials", "skip".to_owned()),
        ]
    };
    let browser = app.browser();
    let send = |client: &str| {
        let pairs = request(client);
        let browser = browser.clone();
        let url = app.url("/api/rest/oauth2/auth");
        async move { browser.get(url).query(&pairs).send().await.unwrap() }
    };

    // The guest is banned at first: skip falls back to the sign-in page.
    let banned = send(&trusted).await;
    assert!(
        location(&banned).starts_with("/login"),
        "{}",
        location(&banned)
    );
    app.post_json(
        &format!("/api/rest/users/{guest_id}"),
        &app.admin_token,
        &json!({"banned": false}),
    )
    .await;

    let to_trusted = send(&trusted).await;
    let params = callback_params(&location(&to_trusted));
    assert!(param(&params, "code").is_some(), "{params:?}");
    let to_asking = send(&asking).await;
    let params = callback_params(&location(&to_asking));
    assert_eq!(param(&params, "error"), Some("consent_required"));

    // A consent form posted in the guest's name is nobody's answer.
    let login_page = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden_inputs(&login_page.text().await.unwrap())
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .expect("a CSRF token")
        .1;
    let mut form = request(&asking);
    form.push(("csrf_token", csrf));
    form.push(("decision", "allow".into()));
    let posted = browser
        .post(app.url("/api/rest/oauth2/auth/consent"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let params = callback_params(&location(&posted));
    assert_eq!(
        param(&params, "error"),
        Some("consent_required"),
        "{params:?}"
    );
}
