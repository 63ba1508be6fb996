//! `private_key_jwt` (RFC 7523): a service holding a public key (inline
//! `jwks` or at a `jwksUri`) authenticates with assertions it signs; every
//! wrong assertion answers like a wrong secret, and each `jti` works once.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use idhub::oidc::jwt;
use idhub::oidc::keys::{generate_pem, SigningAlgorithm, SigningKey};
use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, spawn_app, spawn_app_with, TestApp};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn client_key(kid: &str) -> SigningKey {
    let pem = generate_pem(SigningAlgorithm::Es256).unwrap();
    SigningKey::from_pem(kid, SigningAlgorithm::Es256, &pem).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An assertion by `client` for `aud`, with `changes` applied to the claims.
fn assertion(key: &SigningKey, client: &str, aud: &str, changes: Value) -> String {
    let mut claims = json!({
        "iss": client, "sub": client, "aud": aud,
        "iat": now(), "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
        claims.extend(changes.clone());
    }
    jwt::encode(key, "JWT", &claims).unwrap()
}

async fn token_with(app: &TestApp, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    app.oauth_post("token", &form, None).await
}

#[tokio::test]
async fn a_service_with_a_key_authenticates_with_signed_assertions_once_each() {
    let app = spawn_app().await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert!(discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("private_key_jwt")));
    assert!(
        discovery["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256"))
    );
    let key = client_key("client-key-1");
    let (id, secret) = app
        .service_with(json!({"trusted": true, "jwks": {"keys": [key.jwk]}}))
        .await;
    let token_url = app.url("/api/rest/oauth2/token");

    let good = assertion(&key, &id, &token_url, json!({}));
    let response = token_with(&app, &good, &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let replayed = token_with(&app, &good, &[]).await;
    assert_oauth_error(replayed, 401, "invalid_client").await;
    let to_issuer = assertion(&key, &id, &app.address, json!({}));
    assert_eq!(
        token_with(&app, &to_issuer, &[("client_id", &id)])
            .await
            .status(),
        200
    );

    let stranger = client_key("client-key-1");
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": id, "sub": id, "aud": token_url, "exp": now() + 60, "jti": "h"}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    let refused = [
        (
            "another key, same kid",
            assertion(&stranger, &id, &token_url, json!({})),
        ),
        (
            "expired",
            assertion(&key, &id, &token_url, json!({"exp": now() - 120})),
        ),
        (
            "ten minutes ahead",
            assertion(&key, &id, &token_url, json!({"exp": now() + 600})),
        ),
        (
            "another audience",
            assertion(&key, &id, "https://elsewhere.example/token", json!({})),
        ),
        (
            "iss is not the client",
            assertion(&key, &id, &token_url, json!({"iss": "someone"})),
        ),
        (
            "no jti",
            assertion(&key, &id, &token_url, json!({"jti": null})),
        ),
        ("an HMAC with the secret", hs256),
        ("not a JWT", "not.a.jwt".to_owned()),
    ];
    for (what, bad) in refused {
        let response = token_with(&app, &bad, &[]).await;
        assert_eq!(response.status(), 401, "{what}");
    }
    let other = assertion(&key, &id, &token_url, json!({}));
    assert_oauth_error(
        token_with(&app, &other, &[("client_id", "another-client")]).await,
        401,
        "invalid_client",
    )
    .await;
    let both = assertion(&key, &id, &token_url, json!({}));
    assert_oauth_error(
        token_with(&app, &both, &[("client_secret", &secret)]).await,
        400,
        "invalid_request",
    )
    .await;

    // Introspection and revocation take assertions for their own URLs.
    let access = app
        .token(&[("grant_type", "client_credentials")], (&id, &secret))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let for_introspection = assertion(
        &key,
        &id,
        &app.url("/api/rest/oauth2/introspect"),
        json!({}),
    );
    let introspected = app
        .oauth_post(
            "introspect",
            &[
                ("token", &access),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &for_introspection),
            ],
            None,
        )
        .await;
    assert_eq!(introspected.status(), 200);
    assert_eq!(introspected.json::<Value>().await.unwrap()["active"], true);
    let for_revocation = assertion(&key, &id, &app.url("/api/rest/oauth2/revoke"), json!({}));
    let revoked = app
        .oauth_post(
            "revoke",
            &[
                ("token", &access),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &for_revocation),
            ],
            None,
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        app.introspect(&access, (&id, &secret)).await["active"],
        false
    );
}

#[tokio::test]
async fn private_keys_are_refused_as_service_keys() {
    let app = spawn_app().await;
    let key = client_key("k");
    let mut private = serde_json::to_value(&key.jwk).unwrap();
    private["d"] = json!("c2VjcmV0");
    let response = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "Leaky", "jwks": {"keys": [private]}}),
        )
        .await;
    crate::helpers::assert_error(response, 400, Some("jwks")).await;
    // A 1024-bit RSA key would be stored and then never verify anything.
    let short = json!({"kty": "RSA", "kid": "short", "e": "AQAB",
                       "n": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [0xC5u8; 128])});
    let response = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "Short", "jwks": {"keys": [short]}}),
        )
        .await;
    let error = crate::helpers::assert_error(response, 400, Some("jwks")).await;
    assert!(error["error_description"]
        .as_str()
        .unwrap()
        .contains("2048"));
}

#[tokio::test]
async fn keys_at_a_jwks_uri_are_fetched_and_not_refetched_within_a_minute() {
    let app = spawn_app().await;
    let key = client_key("uri-key-1");
    let fetches = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let jwks_uri = format!("http://{}/jwks", listener.local_addr().unwrap());
    let (counted, set) = (Arc::clone(&fetches), json!({"keys": [key.jwk]}));
    let server = HttpServer::new(move || {
        let (counted, set) = (Arc::clone(&counted), set.clone());
        App::new().route(
            "/jwks",
            web::get().to(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let set = set.clone();
                async move { HttpResponse::Ok().json(set) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let (id, _) = app
        .service_with(json!({"trusted": true, "jwksUri": jwks_uri}))
        .await;
    let token_url = app.url("/api/rest/oauth2/token");
    for _ in 0..3 {
        let response = token_with(&app, &assertion(&key, &id, &token_url, json!({})), &[]).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "kept, not fetched per request"
    );
    let unknown = client_key("uri-key-2");
    let response = token_with(&app, &assertion(&unknown, &id, &token_url, json!({})), &[]).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "an unknown kid refetches at most once a minute"
    );
}

#[tokio::test]
async fn a_client_registered_with_private_key_jwt_gets_no_secret_and_uses_its_key() {
    let app = spawn_app().await;
    let key = client_key("registered-key");
    let response = app
        .post_json(
            "/api/rest/oauth2/register",
            &app.admin_token,
            &json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [key.jwk]}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    assert!(client.get("client_secret").is_none(), "{client}");
    assert_eq!(client["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(client["jwks"]["keys"][0]["kid"], "registered-key");
    let id = client["client_id"].as_str().unwrap();
    // Not trusted, so client credentials is refused, but only after the
    // assertion authenticated it (400, not 401).
    let refused = token_with(
        &app,
        &assertion(&key, id, &app.url("/api/rest/oauth2/token"), json!({})),
        &[],
    )
    .await;
    assert_oauth_error(refused, 400, "unauthorized_client").await;
    let missing_keys = app
        .post_json(
            "/api/rest/oauth2/register",
            &app.admin_token,
            &json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
        )
        .await;
    assert_oauth_error(missing_keys, 400, "invalid_client_metadata").await;
}

/// An assertion made ahead of time (`iat` or `nbf` in the future beyond the
/// leeway) is refused like a wrong secret, as one living too long is.
#[tokio::test]
async fn an_assertion_dated_in_the_future_is_refused() {
    let app = spawn_app().await;
    let key = client_key("client-key-ahead");
    let (id, _) = app
        .service_with(json!({"trusted": true, "jwks": {"keys": [key.jwk]}}))
        .await;
    let token_url = app.url("/api/rest/oauth2/token");
    for ahead in [
        json!({"iat": now() + 86_400}),
        json!({"nbf": now() + 86_400}),
    ] {
        let dated = assertion(&key, &id, &token_url, ahead);
        assert_oauth_error(token_with(&app, &dated, &[]).await, 401, "invalid_client").await;
    }
    let timely = assertion(&key, &id, &token_url, json!({"iat": now() + 10}));
    assert_eq!(
        token_with(&app, &timely, &[]).await.status(),
        200,
        "within the leeway"
    );
}

/// A client anybody registered (open RFC 7591 registration) has its
/// `jwksUri` called only on a public host, checked at the call, not only at
/// registration: here it points at this host, and idhub does not connect
/// until an administrator trusts the client.
#[tokio::test]
async fn an_unverified_clients_keys_are_not_fetched_from_an_internal_host() {
    let app = spawn_app_with(|s| s.open_registration = true).await;
    let key = client_key("self-registered-key");
    let fetches = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let jwks_uri = format!("http://{}/jwks", listener.local_addr().unwrap());
    let (counted, set) = (Arc::clone(&fetches), json!({"keys": [key.jwk]}));
    let server = HttpServer::new(move || {
        let (counted, set) = (Arc::clone(&counted), set.clone());
        App::new().route(
            "/jwks",
            web::get().to(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let set = set.clone();
                async move { HttpResponse::Ok().json(set) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let response = app
        .client
        .post(app.url("/api/rest/oauth2/register"))
        .json(&json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                       "jwks_uri": "https://keys.rp.example/jwks"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // As if its public name had come to resolve to this host.
    let moved = app
        .post_json(
            &format!("/api/rest/services/{id}"),
            &app.admin_token,
            &json!({"jwksUri": jwks_uri}),
        )
        .await;
    assert_eq!(moved.status(), 200, "{}", moved.text().await.unwrap());
    let token_url = app.url("/api/rest/oauth2/token");
    let refused = token_with(&app, &assertion(&key, &id, &token_url, json!({})), &[]).await;
    assert_oauth_error(refused, 401, "invalid_client").await;
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "no connection was made");

    let trusted = app
        .post_json(
            &format!("/api/rest/services/{id}"),
            &app.admin_token,
            &json!({"trusted": true, "jwksUri": format!("{jwks_uri}?trusted")}),
        )
        .await;
    assert_eq!(trusted.status(), 200);
    let accepted = token_with(&app, &assertion(&key, &id, &token_url, json!({})), &[]).await;
    assert_eq!(
        accepted.status(),
        200,
        "an administrator's choice is called"
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}
