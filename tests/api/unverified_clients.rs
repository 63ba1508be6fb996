//! A client anybody registered (open RFC 7591 registration) is unverified
//! until an administrator verifies or trusts it: it cannot ask for the Hub
//! service, its consent page says it is unverified and where the answer
//! goes, and neither its errors nor its sign-outs send the browser to its
//! site without a click (RFC 9700 §4.11.2). Found by the hardening trial:
//! an anonymous "idhub Console" got an administrator's Hub token with one
//! Allow, and idhub's address redirected anywhere.
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::hidden_inputs;
use crate::helpers::{spawn_app_with, TestApp, ADMIN_PASSWORD};

const CALLBACK: &str = "https://phish.example/cb";
const SIGNED_OUT: &str = "https://phish.example/bye";

async fn anonymous_client(app: &TestApp) -> String {
    let response = app
        .client
        .post(app.url("/api/rest/oauth2/register"))
        .json(
            &json!({"client_name": "idhub Console", "redirect_uris": [CALLBACK],
                      "post_logout_redirect_uris": [SIGNED_OUT],
                      "token_endpoint_auth_method": "none"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    client["client_id"].as_str().unwrap().to_owned()
}

fn auth_url(client_id: &str, scope: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", scope),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("/api/rest/oauth2/auth?{query}")
}

#[tokio::test]
async fn an_unverified_client_cannot_ask_for_hub_and_is_marked_on_consent() {
    let app = spawn_app_with(|s| s.open_registration = true).await;
    let id = anonymous_client(&app).await;
    let service: Value = app
        .get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["verified"], false, "{service}");

    // Its own scope: the consent page names it unverified, with the host.
    let (browser, consent) = app
        .signed_in_at(&auth_url(&id, "openid"), "admin", ADMIN_PASSWORD)
        .await;
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.unwrap();
    assert!(
        html.contains("idhub Console (unverified) asks for access"),
        "{html}"
    );
    assert!(html.contains("<strong>phish.example</strong>"), "{html}");

    // Asking for Hub: refused, and shown here instead of sent to the client.
    let refused = browser
        .get(app.url(&auth_url(&id, "0-0-0-0-0")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get("location").is_none());
    let html = refused.text().await.unwrap();
    assert!(html.contains("may not use the Hub service"), "{html}");
    assert!(
        html.contains("unverified") && html.contains("phish.example"),
        "{html}"
    );
    assert!(
        html.contains(r#"href="https://phish.example/cb?error=invalid_scope"#),
        "{html}"
    );

    // An administrator verifies it: Hub may be asked for, no warning.
    let verified = app
        .post_json(
            &format!("/api/rest/services/{id}"),
            &app.admin_token,
            &json!({"verified": true}),
        )
        .await;
    assert_eq!(verified.status(), 200);
    let consent = browser
        .get(app.url(&auth_url(&id, "0-0-0-0-0")))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::OK);
    let html = consent.text().await.unwrap();
    assert!(html.contains("idhub Console asks for access"), "{html}");
    assert!(!html.contains("unverified"), "{html}");
}

#[tokio::test]
async fn an_unverified_clients_sign_out_offers_its_site_instead_of_going_there() {
    let app = spawn_app_with(|s| s.open_registration = true).await;
    let id = anonymous_client(&app).await;
    let (browser, _) = app
        .signed_in_at(&auth_url(&id, "openid"), "admin", ADMIN_PASSWORD)
        .await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", id.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ])
        .finish();
    let page = browser
        .get(app.url(&format!("/api/rest/oauth2/logout?{query}")))
        .send()
        .await
        .unwrap();
    let form = hidden_inputs(&page.text().await.unwrap());
    let done = browser
        .post(app.url("/api/rest/oauth2/logout/confirm"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK, "not a redirect");
    let html = done.text().await.unwrap();
    assert!(html.contains("You are signed out"), "{html}");
    assert!(
        html.contains(r#"href="https://phish.example/bye""#),
        "{html}"
    );

    // Without a session the same request would redirect at once for a
    // verified client; for this one it is a page too.
    let again = browser
        .get(app.url(&format!("/api/rest/oauth2/logout?{query}")))
        .send()
        .await
        .unwrap();
    assert!(again.headers().get("location").is_none());
}

/// What an administrator vouched for is what was registered then: a client
/// that changes its own registration (RFC 7592) is unverified again, and a
/// Hub grant it holds stops refreshing once its client is unverified
/// (found by review: the trial's phishing grant would have kept refreshing).
#[tokio::test]
async fn a_clients_own_update_unverifies_it_and_its_hub_grant_stops_refreshing() {
    let app = spawn_app_with(|s| s.open_registration = true).await;
    let registered: Value = app
        .post_json(
            "/api/rest/oauth2/register",
            &app.admin_token,
            &json!({"client_name": "Partner", "redirect_uris": [CALLBACK]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = registered["client_id"].as_str().unwrap();
    assert_eq!(
        service_of(&app, id).await["verified"],
        true,
        "an administrator registered it"
    );
    let mut update = registered.clone();
    update["client_name"] = json!("idhub Console");
    for key in [
        "registration_access_token",
        "registration_client_uri",
        "client_secret",
        "client_secret_expires_at",
        "client_id_issued_at",
    ] {
        update.as_object_mut().unwrap().remove(key);
    }
    let updated = app
        .client
        .put(registered["registration_client_uri"].as_str().unwrap())
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200, "{}", updated.text().await.unwrap());
    assert_eq!(service_of(&app, id).await["verified"], false);

    // A Hub grant made while a service was vouched for stops refreshing
    // when it no longer is.
    let (svc, secret) = app.service_with(json!({"passwordFlowEnabled": true})).await;
    app.create_user("hedy", "hedy-password").await;
    let tokens = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "hedy"),
                ("password", "hedy-password"),
                ("scope", "0-0-0-0-0 offline_access"),
            ],
            (&svc, &secret),
        )
        .await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let unverified = app
        .post_json(
            &format!("/api/rest/services/{svc}"),
            &app.admin_token,
            &json!({"verified": false}),
        )
        .await;
    assert_eq!(unverified.status(), 200);
    let refused = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ],
            Some((&svc, &secret)),
        )
        .await;
    crate::helpers::assert_oauth_error(refused, 400, "invalid_scope").await;
    // Refused, not used: narrowed to leave the Hub out, the same token rotates.
    let narrowed = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("scope", "offline_access"),
            ],
            (&svc, &secret),
        )
        .await;
    assert_eq!(narrowed["scope"], "offline_access", "{narrowed}");
}

async fn service_of(app: &TestApp, id: &str) -> Value {
    let path = format!("/api/rest/services/{id}");
    app.get(&path, &app.admin_token).await.json().await.unwrap()
}
