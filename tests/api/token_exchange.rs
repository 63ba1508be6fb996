//! Token exchange (RFC 8693): a service that received a user's token trades
//! it for a token to another service the user allowed, acting for the user
//! (`act`), no longer lived than the original; only with the admin's switch.
use serde_json::{json, Value};

use crate::dpop_keys::DpopKey;
use crate::helpers::{assert_oauth_error, peek, spawn_app, TestApp};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A user's token for `scope`, got by a trusted front end with the password grant.
async fn user_token(app: &TestApp, front: (&str, &str), scope: &str) -> String {
    let answer = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "uma"),
                ("password", "uma-password"),
                ("scope", scope),
            ],
            front,
        )
        .await;
    answer["access_token"].as_str().unwrap().to_owned()
}

async fn exchange(
    app: &TestApp,
    caller: (&str, &str),
    subject: &str,
    audience: &str,
) -> reqwest::Response {
    app.oauth_post(
        "token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN),
            ("audience", audience),
        ],
        Some(caller),
    )
    .await
}

#[tokio::test]
async fn a_service_exchanges_a_users_token_for_one_to_a_service_the_user_allowed() {
    let app = spawn_app().await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert!(discovery["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!(EXCHANGE)));
    app.create_user("uma", "uma-password").await;
    let (front, front_secret) = app.service_with(json!({"trusted": true})).await;
    let front = (front.as_str(), front_secret.as_str());
    let (api, api_secret) = app
        .service_with(json!({"tokenExchangeEnabled": true}))
        .await;
    let api_client = (api.as_str(), api_secret.as_str());
    let (backend, backend_secret) = app.service_with(json!({})).await;
    let (other, _) = app.service_with(json!({})).await;

    // The user allowed the front end to reach the API and the back end.
    let subject = user_token(&app, front, &format!("{api} {backend}")).await;
    let answer = exchange(&app, api_client, &subject, &backend).await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["access_token"].as_str().unwrap();
    let claims = peek(token, 1);
    let original = peek(&subject, 1);
    assert_eq!(claims["sub"], original["sub"]);
    assert_eq!(claims["aud"], backend);
    assert_eq!(claims["client_id"], api);
    assert_eq!(claims["act"]["sub"], api);
    assert!(claims["exp"].as_i64() <= original["exp"].as_i64());
    let seen = app.introspect(token, (&backend, &backend_secret)).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["act"]["sub"], api);
    assert_eq!(seen["username"], "uma");

    // A service the user never allowed to anyone.
    let never = exchange(&app, api_client, &subject, &other).await;
    assert_oauth_error(never, 400, "invalid_target").await;
}

#[tokio::test]
async fn only_allowed_services_exchange_only_tokens_meant_for_them() {
    let app = spawn_app().await;
    app.create_user("uma", "uma-password").await;
    let (front, front_secret) = app.service_with(json!({"trusted": true})).await;
    let front = (front.as_str(), front_secret.as_str());
    let (plain, plain_secret) = app.service_with(json!({})).await;
    let (api, api_secret) = app
        .service_with(json!({"tokenExchangeEnabled": true}))
        .await;
    let (backend, _) = app.service_with(json!({})).await;

    // Without the switch.
    let for_plain = user_token(&app, front, &format!("{plain} {backend}")).await;
    let refused = exchange(&app, (&plain, &plain_secret), &for_plain, &backend).await;
    assert_oauth_error(refused, 400, "unauthorized_client").await;
    // A token whose audience is another service.
    let refused = exchange(&app, (&api, &api_secret), &for_plain, &backend).await;
    assert_oauth_error(refused, 400, "invalid_request").await;
    // Garbage, a wrong token type, an unknown audience.
    let for_api = user_token(&app, front, &format!("{api} {backend}")).await;
    let refused = exchange(&app, (&api, &api_secret), "not-a-token", &backend).await;
    assert_oauth_error(refused, 400, "invalid_request").await;
    let wrong_type = app
        .oauth_post(
            "token",
            &[
                ("grant_type", EXCHANGE),
                ("subject_token", &for_api),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
                ("audience", &backend),
            ],
            Some((&api, &api_secret)),
        )
        .await;
    assert_oauth_error(wrong_type, 400, "invalid_request").await;
    let unknown = exchange(&app, (&api, &api_secret), &for_api, "no-such-service").await;
    assert_oauth_error(unknown, 400, "invalid_target").await;
    // The Hub's own API: the user granted it (every password grant without
    // a scope does), but the subject token does not reach it.
    user_token(&app, front, "").await;
    let hub = exchange(&app, (&api, &api_secret), &for_api, "0-0-0-0-0").await;
    assert_oauth_error(hub, 400, "invalid_target").await;
    // An impersonation token (client_credentials with user:) has no grant.
    let (boss, boss_secret) = app
        .service_with(json!({"trusted": true, "impersonation": true, "tokenExchangeEnabled": true}))
        .await;
    let impersonating = app
        .token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", &format!("{boss} user:uma")),
            ],
            (&boss, &boss_secret),
        )
        .await;
    let refused = exchange(
        &app,
        (&boss, &boss_secret),
        impersonating["access_token"].as_str().unwrap(),
        &backend,
    )
    .await;
    assert_oauth_error(refused, 400, "invalid_request").await;
    // A DPoP-bound subject token yields only a bound token.
    let key = DpopKey::es256();
    let url = app.url("/api/rest/oauth2/token");
    let bound = app
        .client
        .post(&url)
        .basic_auth(front.0, Some(front.1))
        .header("DPoP", key.proof("POST", &url, None, json!({})))
        .form(&[
            ("grant_type", "password"),
            ("username", "uma"),
            ("password", "uma-password"),
            ("scope", &format!("{api} {backend}")),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let bound = bound["access_token"].as_str().unwrap();
    let refused = exchange(&app, (&api, &api_secret), bound, &backend).await;
    assert_oauth_error(refused, 400, "invalid_dpop_proof").await;
    // Off unless an admin turns it on.
    let service: Value = app
        .get(&format!("/api/rest/services/{plain}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["tokenExchangeEnabled"], false);
}

/// Each exchange of an exchanged token adds a service to `act`; a chain of
/// more than five is refused, so a token cannot grow without end.
#[tokio::test]
async fn a_chain_of_exchanges_stops_at_five_acting_services() {
    let app = spawn_app().await;
    app.create_user("uma", "uma-password").await;
    let (front, front_secret) = app.service_with(json!({"trusted": true})).await;
    let (a, a_secret) = app
        .service_with(json!({"tokenExchangeEnabled": true}))
        .await;
    let (b, b_secret) = app
        .service_with(json!({"tokenExchangeEnabled": true}))
        .await;
    let mut token = user_token(&app, (&front, &front_secret), &format!("{a} {b}")).await;
    // A for B, B for A, … : each passes the token on to the other.
    let turns = [((&a, &a_secret), &b), ((&b, &b_secret), &a)];
    for round in 0..5 {
        let ((caller, secret), audience) = turns[round % 2];
        let answer = exchange(&app, (caller, secret), &token, audience).await;
        assert_eq!(answer.status(), 200, "exchange {}", round + 1);
        let answer: Value = answer.json().await.unwrap();
        token = answer["access_token"].as_str().unwrap().to_owned();
    }
    let mut depth = 0;
    let mut act = &peek(&token, 1)["act"];
    while act.is_object() {
        depth += 1;
        act = &act["act"];
    }
    assert_eq!(depth, 5);
    let ((caller, secret), audience) = turns[1];
    let sixth = exchange(&app, (caller, secret), &token, audience).await;
    assert_oauth_error(sixth, 400, "invalid_request").await;
}
