//! Sign-out: RP-initiated logout at the `end_session_endpoint` (hint,
//! registered return URIs, confirmation with CSRF) and back-channel logout
//! tokens posted to the services a session signed into, checked by a test
//! receiver against the JWKS.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::browser::{callback_params, hidden_inputs, location, param};
use crate::helpers::{spawn_app, TestApp};

const CALLBACK: &str = "https://app.example/callback";
const AFTER: &str = "https://app.example/signed-out";

/// How a test receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    Fail,
    /// Holds the request until released.
    Hang,
}

struct Receiver {
    url: String,
    tokens: mpsc::UnboundedReceiver<String>,
    release: Arc<Notify>,
}

fn receiver(answer: Answer) -> Receiver {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let (sender, tokens) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let (sender, held) = (Arc::new(Mutex::new(sender)), Arc::clone(&release));
    let server = HttpServer::new(move || {
        let (sender, held) = (Arc::clone(&sender), Arc::clone(&held));
        App::new().route(
            "/backchannel",
            web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                let (sender, held) = (Arc::clone(&sender), Arc::clone(&held));
                async move {
                    let token = form
                        .iter()
                        .find(|(k, _)| k == "logout_token")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let _ = sender.lock().unwrap().send(token);
                    match answer {
                        Answer::Ok => HttpResponse::Ok().finish(),
                        Answer::Fail => HttpResponse::InternalServerError().finish(),
                        Answer::Hang => {
                            held.notified().await;
                            HttpResponse::Ok().finish()
                        }
                    }
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver {
        url,
        tokens,
        release,
    }
}

async fn next_token(receiver: &mut Receiver) -> String {
    tokio::time::timeout(Duration::from_secs(10), receiver.tokens.recv())
        .await
        .expect("a logout token within 10 s")
        .expect("the receiver runs")
}

/// A service that signs users in and out: trusted (no consent page), with
/// the return URI registered and, if given, a back-channel URI.
async fn relying_party(app: &TestApp, backchannel: Option<&str>) -> String {
    let (id, _) = app
        .service_with(json!({
            "trusted": true,
            "redirectUris": [CALLBACK],
            "postLogoutRedirectUris": [AFTER],
            "backchannelLogoutUri": backchannel,
        }))
        .await;
    id
}

/// Signs `login` in through the implicit flow; returns the browser and the
/// ID token.
async fn sign_in_to(
    app: &TestApp,
    client: &str,
    login: &str,
    password: &str,
) -> (reqwest::Client, String) {
    let browser = app.browser();
    let first = app
        .authorize(
            &browser,
            &[
                ("response_type", "id_token"),
                ("client_id", client),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("nonce", "n-1"),
                ("state", "s-1"),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&first), login, password)
        .await;
    let back = app.follow(&browser, signed_in).await;
    let params = callback_params(&location(&back));
    let id_token = param(&params, "id_token").expect("an ID token").to_owned();
    (browser, id_token)
}

fn claims(token: &str) -> Value {
    crate::helpers::peek(token, 1)
}

async fn signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    app.page(browser, "/account").await.0 == 200
}

fn logout_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.url(&format!("/api/rest/oauth2/logout?{query}"))
}

#[tokio::test]
async fn discovery_announces_sign_out() {
    let app = spawn_app().await;
    let document: Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(
        document["end_session_endpoint"],
        app.url("/api/rest/oauth2/logout")
    );
    assert_eq!(document["backchannel_logout_supported"], true);
    assert_eq!(document["backchannel_logout_session_supported"], true);
    assert!(document["claims_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("sid")));
}

#[tokio::test]
async fn a_valid_hint_signs_out_and_returns_with_state() {
    let app = spawn_app().await;
    app.create_user("ann", "ann-password").await;
    let client = relying_party(&app, None).await;
    let (browser, id_token) = sign_in_to(&app, &client, "ann", "ann-password").await;
    assert!(claims(&id_token)["sid"].is_string(), "ID tokens carry sid");
    assert!(signed_in(&app, &browser).await);
    let url = logout_url(
        &app,
        &[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", AFTER),
            ("state", "bye 1"),
        ],
    );
    let response = browser.get(url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("{AFTER}?state=bye+1"));
    assert!(!signed_in(&app, &browser).await, "the session ended");
    let events = app
        .get(
            "/api/rest/auditevents?query=type%3A%20signout",
            &app.admin_token,
        )
        .await;
    let events: Value = events.json().await.unwrap();
    assert_eq!(events["total"], 1, "{events}");

    // The same by POST, with nobody signed in any more: straight back.
    let response = browser
        .post(app.url("/api/rest/oauth2/logout"))
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", AFTER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), AFTER);
}

#[tokio::test]
async fn without_a_hint_the_user_confirms_with_a_csrf_checked_form() {
    let app = spawn_app().await;
    app.create_user("ben", "ben-password").await;
    let client = relying_party(&app, None).await;
    let (browser, _) = sign_in_to(&app, &client, "ben", "ben-password").await;
    let url = logout_url(
        &app,
        &[
            ("client_id", &client),
            ("post_logout_redirect_uri", AFTER),
            ("state", "s"),
        ],
    );
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign out of idhub?"), "{html}");
    assert!(
        signed_in(&app, &browser).await,
        "nothing happens before the answer"
    );
    let form = hidden_inputs(&html);
    let confirm = app.url("/api/rest/oauth2/logout/confirm");
    let forged: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    let refused = browser.post(&confirm).form(&forged).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(signed_in(&app, &browser).await);
    let response = browser.post(&confirm).form(&form).send().await.unwrap();
    assert_eq!(location(&response), format!("{AFTER}?state=s"));
    assert!(!signed_in(&app, &browser).await);

    // A hint for someone else than the signed-in user asks too.
    app.create_user("bea", "bea-password").await;
    let (_, other) = sign_in_to(&app, &client, "bea", "bea-password").await;
    let (browser, _) = sign_in_to(&app, &client, "ben", "ben-password").await;
    let page = browser
        .get(logout_url(&app, &[("id_token_hint", &other)]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sign out of idhub?"));
    assert!(signed_in(&app, &browser).await);
}

#[tokio::test]
async fn unregistered_return_uris_and_mismatched_clients_are_refused_without_a_redirect() {
    let app = spawn_app().await;
    app.create_user("cy", "cy-password").await;
    let client = relying_party(&app, None).await;
    let other = relying_party(&app, None).await;
    let (browser, id_token) = sign_in_to(&app, &client, "cy", "cy-password").await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", &id_token),
            (
                "post_logout_redirect_uri",
                "https://app.example/signed-out/",
            ),
        ],
        vec![("id_token_hint", &id_token), ("client_id", &other)],
        vec![("post_logout_redirect_uri", AFTER)],
        vec![
            ("client_id", "no-such-client"),
            ("post_logout_redirect_uri", AFTER),
        ],
    ];
    for case in cases {
        let response = browser.get(logout_url(&app, &case)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{case:?}");
        assert!(response.headers().get("location").is_none());
        assert!(
            signed_in(&app, &browser).await,
            "still signed in after {case:?}"
        );
    }
    // A forged or garbled hint is no hint: the user is asked.
    let page = browser
        .get(logout_url(&app, &[("id_token_hint", "e30.e30.sig")]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(signed_in(&app, &browser).await);
}

async fn verify_logout_token(app: &TestApp, token: &str) -> Value {
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let jwks: JwkSet = app.public_json("/api/rest/oauth2/keys").await;
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the key is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&app.address]);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "iat"]);
    decode::<Value>(token, &key, &validation)
        .expect("the logout token verifies against the JWKS")
        .claims
}

#[tokio::test]
async fn services_the_session_signed_into_get_a_logout_token() {
    let app = spawn_app().await;
    let user = app.create_user("dee", "dee-password").await;
    let mut told = receiver(Answer::Ok);
    let client = relying_party(&app, Some(&told.url)).await;
    let bystander = receiver(Answer::Ok);
    relying_party(&app, Some(&bystander.url)).await;
    let (browser, id_token) = sign_in_to(&app, &client, "dee", "dee-password").await;
    let sid = claims(&id_token)["sid"].as_str().unwrap().to_owned();
    let response = browser
        .get(logout_url(&app, &[("id_token_hint", &id_token)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "signed out, on idhub's page");
    let token = next_token(&mut told).await;
    let claims = verify_logout_token(&app, &token).await;
    assert_eq!(claims["aud"], client.as_str());
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["sid"], sid.as_str());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none(), "a logout token has no nonce");
    assert!(claims["jti"].is_string());
    let mut bystander = bystander;
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), bystander.tokens.recv())
            .await
            .is_err(),
        "a service the session did not sign into hears nothing"
    );
}

#[tokio::test]
async fn a_ban_tells_the_services_and_a_failing_one_is_in_the_audit_trail() {
    let app = spawn_app().await;
    let user = app.create_user("eve", "eve-password").await;
    let mut failing = receiver(Answer::Fail);
    let client = relying_party(&app, Some(&failing.url)).await;
    let (browser, _) = sign_in_to(&app, &client, "eve", "eve-password").await;
    let banned = app
        .post_json(
            &format!("/api/rest/users/{user}"),
            &app.admin_token,
            &json!({"banned": true}),
        )
        .await;
    assert_eq!(banned.status(), 200);
    assert!(!signed_in(&app, &browser).await);
    next_token(&mut failing).await;
    next_token(&mut failing).await; // the one retry
    let query = "/api/rest/auditevents?query=type%3A%20logout.delivery_failed";
    let mut events = Value::Null;
    for _ in 0..100 {
        events = app.get(query, &app.admin_token).await.json().await.unwrap();
        if events["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events["total"], 1, "{events}");
    assert_eq!(events["events"][0]["serviceId"], client.as_str());
    assert_eq!(events["events"][0]["details"]["reason"], "answered 500");
}

#[tokio::test]
async fn a_service_that_hangs_does_not_hold_up_the_sign_out() {
    let app = spawn_app().await;
    app.create_user("fay", "fay-password").await;
    let mut hanging = receiver(Answer::Hang);
    let client = relying_party(&app, Some(&hanging.url)).await;
    let (browser, id_token) = sign_in_to(&app, &client, "fay", "fay-password").await;
    let url = logout_url(
        &app,
        &[
            ("id_token_hint", &id_token),
            ("post_logout_redirect_uri", AFTER),
        ],
    );
    // Under the 5 s a delivery may take: a sign-out that waited could not answer in time.
    let response = tokio::time::timeout(Duration::from_secs(4), browser.get(url).send())
        .await
        .expect("sign-out answers while the service holds its request")
        .unwrap();
    assert_eq!(location(&response), AFTER);
    // The service got the token and still holds the request: sign-out did
    // not wait for it.
    next_token(&mut hanging).await;
    hanging.release.notify_waiters();
}
