//! Sign-out: RP-initiated logout at the `end_session_endpoint` (hint,
//! registered return URIs, confirmation with CSRF) and back-channel logout
//! tokens posted to the services a session signed into, checked by a test
//! receiver against the JWKS, and retried from the outbox until taken.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use crate::browser::{callback_params, hidden_inputs, location, param};
use crate::helpers::{spawn_app, spawn_app_with, start_instance, TestApp};

const CALLBACK: &str = "https://app.example/callback";
const AFTER: &str = "https://app.example/signed-out";

/// How a test receiver answers.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    Fail,
    /// Holds the request until released.
    Hang,
    /// 503 to the first this many requests, then 200.
    FailFirst(usize),
}

struct Receiver {
    url: String,
    tokens: mpsc::UnboundedReceiver<String>,
    release: Arc<Notify>,
}

fn receiver(answer: Answer) -> Receiver {
    receiver_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), answer)
}

fn receiver_on(listener: std::net::TcpListener, answer: Answer) -> Receiver {
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let (sender, tokens) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let (sender, held) = (Arc::new(Mutex::new(sender)), Arc::clone(&release));
    let seen = Arc::new(AtomicUsize::new(0));
    let server = HttpServer::new(move || {
        let (sender, held, seen) = (Arc::clone(&sender), Arc::clone(&held), Arc::clone(&seen));
        App::new().route(
            "/backchannel",
            web::post().to(move |form: web::Form<Vec<(String, String)>>| {
                let (sender, held) = (Arc::clone(&sender), Arc::clone(&held));
                let earlier = seen.fetch_add(1, Ordering::SeqCst);
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
                        Answer::FailFirst(failures) if earlier < failures => {
                            HttpResponse::ServiceUnavailable().finish()
                        }
                        Answer::FailFirst(_) => HttpResponse::Ok().finish(),
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
    next_token_within(receiver, Duration::from_secs(10)).await
}

async fn next_token_within(receiver: &mut Receiver, limit: Duration) -> String {
    tokio::time::timeout(limit, receiver.tokens.recv())
        .await
        .unwrap_or_else(|_| panic!("a logout token within {limit:?}"))
        .expect("the receiver runs")
}

/// No more tokens arrive for a while.
async fn quiet(receiver: &mut Receiver, for_: Duration) {
    if let Ok(token) = tokio::time::timeout(for_, receiver.tokens.recv()).await {
        panic!("another request: {:?}", token.map(|t| claims(&t)));
    }
}

/// The audit events of one type, once there are `expected` of them.
async fn audit_events(app: &TestApp, kind: &str, expected: u64) -> Value {
    let query = format!("/api/rest/auditevents?query=type%3A%20{kind}");
    let mut events = Value::Null;
    for _ in 0..100 {
        events = app
            .get(&query, &app.admin_token)
            .await
            .json()
            .await
            .unwrap();
        if events["total"] == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events["total"], expected, "{events}");
    events
}

/// Logout tokens still owed.
fn outbox_rows(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use idhub::db::schema::logout_outbox;
    let mut pooled = app.pool.get().unwrap();
    let conn: &mut idhub::db::DbConn = &mut pooled;
    logout_outbox::table.count().get_result(conn).unwrap()
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
    // A window of seconds instead of minutes, to see idhub give up.
    let app = spawn_app_with(|settings| settings.backchannel_logout_window_secs = 4).await;
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
    let first = claims(&next_token(&mut failing).await);
    let retry = claims(&next_token(&mut failing).await);
    assert_eq!(retry["jti"], first["jti"], "a retry is the same logout");
    let events = audit_events(&app, "logout.delivery_failed", 1).await;
    let event = &events["events"][0];
    assert_eq!(event["serviceId"], client.as_str());
    assert_eq!(event["details"]["reason"], "answered 500");
    assert_eq!(event["details"]["jti"], first["jti"]);
    let attempts = event["details"]["attempts"].as_u64().unwrap();
    assert!((2..=3).contains(&attempts), "{event}");
    // Given up: no attempt after the one recorded, and once only.
    let mut told = 2;
    while let Ok(Some(_)) =
        tokio::time::timeout(Duration::from_millis(1500), failing.tokens.recv()).await
    {
        told += 1;
    }
    assert_eq!(told, attempts, "every attempt is counted");
    audit_events(&app, "logout.delivery_failed", 1).await;
    audit_events(&app, "logout.delivered", 0).await;
    assert_eq!(outbox_rows(&app), 0);
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

/// Signs `login` in and out through the logout endpoint; the session's `sid`.
async fn sign_in_and_out(app: &TestApp, client: &str, login: &str) -> String {
    let password = format!("{login}-password");
    app.create_user(login, &password).await;
    let (browser, id_token) = sign_in_to(app, client, login, &password).await;
    let response = browser
        .get(logout_url(app, &[("id_token_hint", &id_token)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    claims(&id_token)["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_receiver_that_fails_at_first_gets_the_same_logout_again_until_it_takes_it() {
    let app = spawn_app().await;
    let mut flaky = receiver(Answer::FailFirst(2));
    let client = relying_party(&app, Some(&flaky.url)).await;
    let started = Instant::now();
    let sid = sign_in_and_out(&app, &client, "gil").await;
    let mut attempts = Vec::new();
    for _ in 0..3 {
        let token = next_token(&mut flaky).await;
        attempts.push((verify_logout_token(&app, &token).await, started.elapsed()));
    }
    println!(
        "attempts at {:?}",
        attempts.iter().map(|(_, at)| *at).collect::<Vec<_>>()
    );
    let (first, _) = &attempts[0];
    assert_eq!(first["sid"], sid.as_str());
    for (claims, _) in &attempts {
        assert_eq!(
            claims["jti"], first["jti"],
            "one logout, however often sent"
        );
    }
    // 2 s, then 4 s, between attempts (plus jitter and the 1 s poll).
    let pause = |i: usize| attempts[i].1.saturating_sub(attempts[i - 1].1);
    assert!(pause(1) >= Duration::from_secs(2), "{:?}", pause(1));
    assert!(pause(2) >= Duration::from_secs(4), "{:?}", pause(2));
    let (last, _) = &attempts[2];
    assert!(
        last["iat"].as_i64() > first["iat"].as_i64(),
        "each attempt is signed afresh"
    );
    let events = audit_events(&app, "logout.delivered", 1).await;
    assert_eq!(events["events"][0]["serviceId"], client.as_str());
    assert_eq!(events["events"][0]["details"]["jti"], first["jti"]);
    assert_eq!(events["events"][0]["details"]["attempts"], 3);
    audit_events(&app, "logout.delivery_failed", 0).await;
    quiet(&mut flaky, Duration::from_millis(1500)).await;
    assert_eq!(outbox_rows(&app), 0, "delivered: nothing is owed");
}

#[tokio::test]
async fn a_receiver_down_when_the_session_ends_gets_the_logout_when_it_is_back() {
    let app = spawn_app().await;
    // A port nothing listens on, for now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/backchannel");
    let client = relying_party(&app, Some(&url)).await;
    let started = Instant::now();
    let sid = sign_in_and_out(&app, &client, "hal").await;
    // Down for longer than the old single retry waited (2 s), with several
    // attempts refused.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        outbox_rows(&app),
        1,
        "still owed while the receiver is down"
    );
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut back = receiver_on(listener, Answer::Ok);
    assert_eq!(back.url, url);
    let token = next_token_within(&mut back, Duration::from_secs(15)).await;
    println!("delivered {:?} after the sign-out", started.elapsed());
    let claims = verify_logout_token(&app, &token).await;
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["aud"], client.as_str());
    let events = audit_events(&app, "logout.delivered", 1).await;
    let attempts = events["events"][0]["details"]["attempts"].as_u64().unwrap();
    assert!(attempts >= 3, "refused twice at least before: {attempts}");
    assert_eq!(events["events"][0]["details"]["jti"], claims["jti"]);
    quiet(&mut back, Duration::from_millis(1500)).await;
    assert_eq!(outbox_rows(&app), 0);
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_attempt_once() {
    let app = spawn_app().await;
    // One issuer, as behind a load balancer: a hint signed for the first
    // instance is good at the second.
    let issuer = app.address.clone();
    let other = start_instance(&app.database, |settings| settings.issuer = Some(issuer));
    let mut flaky = receiver(Answer::FailFirst(2));
    let client = relying_party(&app, Some(&flaky.url)).await;
    let mut sign_outs = Vec::new();
    for (i, login) in ["ian", "jan", "kim", "lou", "max", "ned", "oda", "pat"]
        .into_iter()
        .enumerate()
    {
        let password = format!("{login}-password");
        app.create_user(login, &password).await;
        let (browser, id_token) = sign_in_to(&app, &client, login, &password).await;
        let url = logout_url(&app, &[("id_token_hint", &id_token)]);
        // Half through each instance: a sign-out wakes its own instance's
        // worker at once, so both go for the same notes and rows together.
        let url = match i % 2 {
            0 => url,
            _ => url.replacen(&app.address, &other, 1),
        };
        sign_outs.push((browser, url));
    }
    let mut signing_out = tokio::task::JoinSet::new();
    for (browser, url) in sign_outs {
        signing_out.spawn(async move { browser.get(url).send().await.unwrap().status() });
    }
    while let Some(status) = signing_out.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    // Eight logouts, two of whose attempts fail: ten requests, if no note is
    // claimed and no attempt sent by both instances.
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..10 {
        let token = next_token(&mut flaky).await;
        *sent
            .entry(claims(&token)["jti"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    quiet(&mut flaky, Duration::from_secs(3)).await;
    assert_eq!(sent.len(), 8, "one logout per session: {sent:?}");
    let events = audit_events(&app, "logout.delivered", 8).await;
    let recorded: std::collections::BTreeSet<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["details"]["jti"].as_str().unwrap())
        .collect();
    assert_eq!(
        recorded,
        sent.keys().map(String::as_str).collect(),
        "each delivery recorded once"
    );
    assert_eq!(outbox_rows(&app), 0);
}

/// Of callers racing for the same due rows, each row goes to one: the
/// conditional update decides, on both backends. Instances in step are
/// rare in a test (each polls on its own second), so the race is forced
/// here: rows due only at an instant the instance's own worker never asks
/// about, leased by several connections at once.
#[tokio::test]
async fn racing_leases_take_each_due_row_once() {
    use diesel::prelude::*;
    use idhub::db::schema::logout_outbox;
    use idhub::oidc::logout_outbox::lease;

    const ROWS: usize = 200;
    let app = spawn_app().await;
    let client = relying_party(&app, Some("http://127.0.0.1:9/backchannel")).await;
    let now = chrono::Utc::now().naive_utc();
    let due = now + chrono::TimeDelta::hours(1);
    let asked_at = due + chrono::TimeDelta::hours(1);
    let pool = idhub::db::build_pool(app.database.location(), 4, Duration::from_secs(10)).unwrap();
    {
        let mut pooled = pool.get().unwrap();
        let conn: &mut idhub::db::DbConn = &mut pooled;
        for i in 0..ROWS {
            diesel::insert_into(logout_outbox::table)
                .values((
                    logout_outbox::jti.eq(format!("jti-{i}")),
                    logout_outbox::sid.eq(format!("sid-{i}")),
                    logout_outbox::user_id.eq("someone"),
                    logout_outbox::service_id.eq(&client),
                    logout_outbox::uri.eq("http://127.0.0.1:9/backchannel"),
                    logout_outbox::public_only.eq(false),
                    logout_outbox::attempts.eq(0),
                    logout_outbox::next_attempt_at.eq(due),
                    logout_outbox::give_up_at.eq(asked_at),
                    logout_outbox::created.eq(now),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    let leased = tokio::task::spawn_blocking(move || {
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let racers: Vec<_> = (0..4)
                .map(|_| {
                    let (pool, start) = (pool.clone(), &start);
                    scope.spawn(move || {
                        let mut pooled = pool.get().unwrap();
                        let conn: &mut idhub::db::DbConn = &mut pooled;
                        let mut mine = Vec::new();
                        start.wait();
                        loop {
                            let batch = lease(conn, 8, asked_at).unwrap();
                            // Losing every race of a batch is not the end.
                            let left: i64 = logout_outbox::table
                                .filter(logout_outbox::next_attempt_at.le(asked_at))
                                .count()
                                .get_result(conn)
                                .unwrap();
                            if batch.is_empty() && left == 0 {
                                return mine;
                            }
                            mine.extend(batch.into_iter().map(|a| (a.notice.jti, a.number)));
                        }
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|racer| racer.join().unwrap())
                .collect::<Vec<_>>()
        })
    })
    .await
    .unwrap();
    println!(
        "leased per connection: {:?}",
        leased.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let all: Vec<&(String, i32)> = leased.iter().flatten().collect();
    let distinct: std::collections::BTreeSet<&String> = all.iter().map(|(jti, _)| jti).collect();
    assert_eq!(distinct.len(), ROWS, "every due row is leased");
    assert_eq!(all.len(), ROWS, "and none twice");
    assert!(all.iter().all(|(_, number)| *number == 1));
}
