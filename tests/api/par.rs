//! Pushed authorization requests (RFC 9126): the client pushes its request
//! (authenticated, checked like an authorization request) and sends the
//! browser with the `request_uri`, good once; services may be required to.
use serde_json::{json, Value};

use crate::browser::{callback_params, location, param};
use crate::helpers::{assert_oauth_error, spawn_app, spawn_app_with, TestApp};

const CALLBACK: &str = "https://par.example/callback";

async fn push(app: &TestApp, client: (&str, &str), extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "pushed-state"),
    ];
    form.extend_from_slice(extra);
    app.oauth_post("par", &form, Some(client)).await
}

/// The browser part with a request_uri: sign in, allow; the callback URL.
pub async fn browse(app: &TestApp, client_id: &str, request_uri: &str) -> reqwest::Response {
    let browser = app.browser();
    let first = app
        .authorize(
            &browser,
            &[("client_id", client_id), ("request_uri", request_uri)],
        )
        .await;
    if first.status() != 303 {
        return first;
    }
    app.create_user("pat", "pat-password").await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "pat", "pat-password")
        .await;
    let consent = app.follow(&browser, signed_in).await;
    app.decide(&browser, consent, "allow").await
}

#[tokio::test]
async fn a_pushed_request_is_used_once_and_its_code_exchanged() {
    let app = spawn_app().await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        app.url("/api/rest/oauth2/par")
    );
    assert_eq!(discovery["require_pushed_authorization_requests"], false);
    let (id, secret) = app.web_client(CALLBACK, json!({})).await;
    let pushed = push(&app, (&id, &secret), &[]).await;
    assert_eq!(pushed.status(), 201);
    assert_eq!(pushed.headers()["cache-control"], "no-store");
    let pushed: Value = pushed.json().await.unwrap();
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let back = browse(&app, &id, &request_uri).await;
    let callback = location(&back);
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let params = callback_params(&callback);
    assert_eq!(param(&params, "state"), Some("pushed-state"));
    let code = param(&params, "code").unwrap();
    let tokens = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
            ],
            (&id, &secret),
        )
        .await;
    assert!(tokens["id_token"].is_string());

    let again = app.browser().get(app.url(&format!(
        "/api/rest/oauth2/auth?client_id={id}&request_uri={}",
        url::form_urlencoded::byte_serialize(request_uri.as_bytes()).collect::<String>()
    )));
    assert_eq!(again.send().await.unwrap().status(), 400, "used once");
}

#[tokio::test]
async fn pushing_authenticates_the_client_and_checks_the_request() {
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({})).await;
    let (other, other_secret) = app.web_client("https://other.example/cb", json!({})).await;
    assert_oauth_error(
        push(&app, (&id, "wrong-secret"), &[]).await,
        401,
        "invalid_client",
    )
    .await;
    let bad_redirect = app
        .oauth_post(
            "par",
            &[
                ("response_type", "code"),
                ("redirect_uri", "https://evil.example/cb"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(bad_redirect, 400, "invalid_request").await;
    let bad_type = push(&app, (&id, &secret), &[("response_type", "nonsense")]).await;
    assert_eq!(bad_type.status(), 400);
    let nested = push(&app, (&id, &secret), &[("request_uri", "urn:x")]).await;
    assert_oauth_error(nested, 400, "invalid_request").await;

    // Another client cannot use it.
    let pushed: Value = push(&app, (&id, &secret), &[]).await.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap();
    let stolen = app
        .authorize(
            &app.browser(),
            &[("client_id", &other), ("request_uri", request_uri)],
        )
        .await;
    assert_eq!(stolen.status(), 400);
    let _ = other_secret;
}

#[tokio::test]
async fn services_and_servers_can_require_pushed_requests() {
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({"parRequired": true})).await;
    let direct = app
        .authorize(
            &app.browser(),
            &[
                ("client_id", &id),
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(direct.status(), 400, "sent directly");
    let pushed: Value = push(&app, (&id, &secret), &[]).await.json().await.unwrap();
    let back = browse(&app, &id, pushed["request_uri"].as_str().unwrap()).await;
    assert!(location(&back).starts_with(CALLBACK));

    let strict = spawn_app_with(|s| s.par_required = true).await;
    let discovery: Value = strict
        .public_json("/.well-known/openid-configuration")
        .await;
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    let (id, _) = strict.web_client(CALLBACK, json!({})).await;
    let direct = strict
        .authorize(
            &strict.browser(),
            &[
                ("client_id", &id),
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(direct.status(), 400);
}

#[tokio::test]
async fn an_expired_request_uri_is_refused() {
    use diesel::prelude::*;
    use idhub::db::schema::pushed_requests;
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({})).await;
    let pushed: Value = push(&app, (&id, &secret), &[]).await.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap();
    // A minute passes: the stored request's expiry is moved into the past
    // rather than waiting for it.
    let mut pooled = app.pool.get().unwrap();
    let conn: &mut idhub::db::DbConn = &mut pooled;
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let moved = diesel::update(pushed_requests::table)
        .set(pushed_requests::expires_at.eq(past))
        .execute(conn)
        .unwrap();
    assert_eq!(moved, 1);
    let refused = browse(&app, &id, request_uri).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("expired"));
}

/// A pushed request that forces a new sign-in (`prompt=login`) or limits
/// its age (`max_age`) is answered by the sign-in that follows it: the
/// browser comes back with the `request_uri` alone, so the request cannot
/// be changed on the way, and the sign-in, done after the push, counts.
#[tokio::test]
async fn a_pushed_request_forcing_a_sign_in_is_satisfied_by_it() {
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    app.create_user("pia", "pia-password").await;
    let browser = app.browser();
    // Signed in before the request was pushed.
    let (page, _) = app.page(&browser, "/login").await;
    assert_eq!(page, 200);
    let earlier = app
        .authorize(
            &browser,
            &[
                ("client_id", &id),
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&earlier), "pia", "pia-password")
        .await;
    let first_code = app.follow(&browser, signed_in).await;
    assert!(location(&first_code).starts_with(CALLBACK));

    for extra in [("prompt", "login"), ("max_age", "0")] {
        // max_age counts whole seconds: the last sign-in must be older than 0.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let pushed: Value = push(&app, (&id, &secret), &[extra])
            .await
            .json()
            .await
            .unwrap();
        let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
        let asked = app
            .authorize(
                &browser,
                &[("client_id", &id), ("request_uri", &request_uri)],
            )
            .await;
        assert_eq!(asked.status(), 303);
        assert!(
            location(&asked).starts_with("/login"),
            "{extra:?}: sign in again"
        );
        let signed_in = app
            .sign_in(&browser, &location(&asked), "pia", "pia-password")
            .await;
        let back = app.follow(&browser, signed_in).await;
        assert_eq!(back.status(), 303, "{extra:?}");
        let params = callback_params(&location(&back));
        assert!(param(&params, "code").is_some(), "{extra:?}: {params:?}");
    }
}

/// What the authorization endpoint would refuse, pushing refuses too: a
/// request object (`request`, not supported: `request_not_supported`, OIDC
/// Core §3.1.2.6) and a scope naming no registered service
/// (`invalid_scope`); both used to get a 201.
#[tokio::test]
async fn pushing_refuses_request_objects_and_unknown_services() {
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({})).await;
    let object = push(
        &app,
        (&id, &secret),
        &[("request", "eyJhbGciOiJub25lIn0.e30.")],
    )
    .await;
    assert_oauth_error(object, 400, "request_not_supported").await;
    let unknown = app
        .oauth_post(
            "par",
            &[
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid no-such-service"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(unknown, 400, "invalid_scope").await;

    // At the authorization endpoint, a request object goes back to the client.
    let browser = app.browser();
    let sent = app
        .authorize(
            &browser,
            &[
                ("client_id", &id),
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("state", "ro"),
                ("request", "eyJhbGciOiJub25lIn0.e30."),
            ],
        )
        .await;
    let params = callback_params(&location(&sent));
    assert_eq!(param(&params, "error"), Some("request_not_supported"));
    assert_eq!(param(&params, "state"), Some("ro"));
}
