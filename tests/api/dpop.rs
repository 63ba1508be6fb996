//! DPoP (RFC 9449): a proof at the token endpoint binds the access token to
//! the client's key (`cnf.jkt`, `token_type` DPoP); userinfo, the REST API
//! and introspection honour the binding; every broken proof is refused with
//! the RFC's error and challenge; server nonces and codes bound with
//! `dpop_jkt` when asked for.
use idhub::oidc::keys::SigningAlgorithm;
use reqwest::Response;
use serde_json::{json, Value};

use crate::browser::{callback_params, location, param};
use crate::dpop_keys::DpopKey;
use crate::helpers::{assert_oauth_error, peek, spawn_app, spawn_app_with, TestApp};

const HUB: &str = "0-0-0-0-0";

async fn token_with_proof(
    app: &TestApp,
    form: &[(&str, &str)],
    client: (&str, &str),
    proof: Option<&str>,
) -> Response {
    let mut request = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

/// A user's DPoP-bound token for the Hub and OpenID Connect, by the password grant.
async fn bound_user_token(app: &TestApp, key: &DpopKey) -> (String, (String, String)) {
    let client = app
        .service_with(json!({"trusted": true, "passwordFlowEnabled": true}))
        .await;
    app.create_user("dee", "dee-password").await;
    let url = app.url("/api/rest/oauth2/token");
    let proof = key.proof("POST", &url, None, json!({}));
    let form = [
        ("grant_type", "password"),
        ("username", "dee"),
        ("password", "dee-password"),
        ("scope", &format!("openid profile {HUB}")),
    ];
    let answer = token_with_proof(app, &form, (&client.0, &client.1), Some(&proof)).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    (body["access_token"].as_str().unwrap().to_owned(), client)
}

async fn userinfo_with(app: &TestApp, scheme: &str, token: &str, proof: Option<&str>) -> Response {
    let mut request = app
        .client
        .get(app.url("/api/rest/oauth2/userinfo"))
        .header("Authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    request.send().await.unwrap()
}

/// A 401 with a DPoP challenge naming `code`.
async fn assert_dpop_refusal(response: Response, code: &str) {
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(&format!("error=\"{code}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("algs=\""), "{challenge}");
}

#[tokio::test]
async fn client_credentials_bound_with_a_proof_and_introspection_shows_the_binding() {
    let app = spawn_app().await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    for alg in ["ES256", "RS256", "EdDSA"] {
        assert!(
            discovery["dpop_signing_alg_values_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(alg)),
            "{alg}"
        );
    }
    let client = app.service_with(json!({"trusted": true})).await;
    let client = (client.0.as_str(), client.1.as_str());
    let url = app.url("/api/rest/oauth2/token");
    let form = [("grant_type", "client_credentials")];
    for algorithm in [
        SigningAlgorithm::Es256,
        SigningAlgorithm::Rs256,
        SigningAlgorithm::EdDsa,
    ] {
        let key = DpopKey::new(algorithm);
        let proof = key.proof("POST", &url, None, json!({}));
        let answer = token_with_proof(&app, &form, client, Some(&proof)).await;
        assert_eq!(answer.status(), 200, "{algorithm:?}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["token_type"], "DPoP");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(peek(token, 1)["cnf"]["jkt"], key.thumbprint());
        let seen = app.introspect(token, client).await;
        assert_eq!(seen["active"], true);
        assert_eq!(seen["token_type"], "DPoP");
        assert_eq!(seen["cnf"]["jkt"], key.thumbprint());

        // The same proof again is a replay.
        let again = token_with_proof(&app, &form, client, Some(&proof)).await;
        assert_oauth_error(again, 400, "invalid_dpop_proof").await;
    }

    // Without a proof the token is a plain bearer token.
    let plain = app.token(&form, client).await;
    assert_eq!(plain["token_type"], "Bearer");
    assert!(peek(plain["access_token"].as_str().unwrap(), 1)["cnf"].is_null());
}

#[tokio::test]
async fn broken_proofs_at_the_token_endpoint_are_refused() {
    let app = spawn_app().await;
    let client = app.service_with(json!({"trusted": true})).await;
    let client = (client.0.as_str(), client.1.as_str());
    let key = DpopKey::es256();
    let url = app.url("/api/rest/oauth2/token");
    let form = [("grant_type", "client_credentials")];
    let now = chrono::Utc::now().timestamp();
    let broken = [
        ("wrong htm", key.proof("GET", &url, None, json!({}))),
        (
            "wrong htu",
            key.proof(
                "POST",
                &app.url("/api/rest/oauth2/userinfo"),
                None,
                json!({}),
            ),
        ),
        (
            "old iat",
            key.proof("POST", &url, None, json!({"iat": now - 600})),
        ),
        (
            "future iat",
            key.proof("POST", &url, None, json!({"iat": now + 600})),
        ),
        ("no jti", key.proof("POST", &url, None, json!({"jti": ""}))),
        (
            "wrong typ",
            key.sign(
                json!({"typ": "JWT", "alg": "ES256", "jwk": peek_jwk(&key, &url)}),
                &json!({"jti": "x", "htm": "POST", "htu": url, "iat": now}),
            ),
        ),
        (
            "another key's signature",
            DpopKey::es256().sign(
                json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": peek_jwk(&key, &url)}),
                &json!({"jti": "y", "htm": "POST", "htu": url, "iat": now}),
            ),
        ),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (why, proof) in broken {
        let answer = token_with_proof(&app, &form, client, Some(&proof)).await;
        let body = assert_oauth_error(answer, 400, "invalid_dpop_proof").await;
        assert!(body["error_description"].is_string(), "{why}");
    }
    // Two DPoP headers.
    let answer = app
        .client
        .post(&url)
        .basic_auth(client.0, Some(client.1))
        .header("DPoP", key.proof("POST", &url, None, json!({})))
        .header("DPoP", key.proof("POST", &url, None, json!({})))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_oauth_error(answer, 400, "invalid_dpop_proof").await;
}

/// The public JWK a proof of `key` carries in its header.
fn peek_jwk(key: &DpopKey, url: &str) -> Value {
    let proof = key.proof("POST", url, None, json!({}));
    peek(&proof, 0)["jwk"].clone()
}

#[tokio::test]
async fn a_service_with_dpop_required_gets_no_token_without_a_proof() {
    let app = spawn_app().await;
    let (id, secret) = app
        .service_with(json!({"trusted": true, "dpopRequired": true}))
        .await;
    let service: Value = app
        .get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["dpopRequired"], true);
    let form = [("grant_type", "client_credentials")];
    let refused = token_with_proof(&app, &form, (&id, &secret), None).await;
    assert_oauth_error(refused, 400, "invalid_dpop_proof").await;
    let key = DpopKey::es256();
    let proof = key.proof("POST", &app.url("/api/rest/oauth2/token"), None, json!({}));
    let answer = token_with_proof(&app, &form, (&id, &secret), Some(&proof)).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn userinfo_and_the_rest_api_honour_the_binding() {
    let app = spawn_app().await;
    let key = DpopKey::es256();
    let (token, _) = bound_user_token(&app, &key).await;
    let userinfo = app.url("/api/rest/oauth2/userinfo");

    let good = key.proof("GET", &userinfo, Some(&token), json!({}));
    let answer = userinfo_with(&app, "DPoP", &token, Some(&good)).await;
    assert_eq!(answer.status(), 200);
    let claims: Value = answer.json().await.unwrap();
    assert_eq!(claims["preferred_username"], "dee");

    // The same proof twice is a replay.
    let replay = userinfo_with(&app, "DPoP", &token, Some(&good)).await;
    assert_dpop_refusal(replay, "invalid_dpop_proof").await;
    // A bound token sent as Bearer.
    let bearer = userinfo_with(&app, "Bearer", &token, None).await;
    assert_dpop_refusal(bearer, "invalid_token").await;
    // No proof.
    let bare = userinfo_with(&app, "DPoP", &token, None).await;
    assert_dpop_refusal(bare, "invalid_dpop_proof").await;
    // Proofs that do not fit this request or this token.
    let other_token = "x".repeat(40);
    let misfits = [
        key.proof("POST", &userinfo, Some(&token), json!({})),
        key.proof(
            "GET",
            &app.url("/api/rest/users/me"),
            Some(&token),
            json!({}),
        ),
        key.proof("GET", &userinfo, Some(&other_token), json!({})),
        key.proof("GET", &userinfo, None, json!({})),
        DpopKey::es256().proof("GET", &userinfo, Some(&token), json!({})),
    ];
    for proof in misfits {
        let refused = userinfo_with(&app, "DPoP", &token, Some(&proof)).await;
        assert_dpop_refusal(refused, "invalid_dpop_proof").await;
    }

    // The REST API: the same rules.
    let me = app.url("/api/rest/users/me");
    let proof = key.proof("GET", &me, Some(&token), json!({}));
    let answer = app
        .client
        .get(&me)
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", proof)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let user: Value = answer.json().await.unwrap();
    assert_eq!(user["login"], "dee");
    let as_bearer = app.get("/api/rest/users/me", &token).await;
    assert_dpop_refusal(as_bearer, "invalid_token").await;

    // An unbound token must not come with the DPoP scheme.
    let plain = app.admin_token.clone();
    let refused = app
        .client
        .get(&me)
        .header("Authorization", format!("DPoP {plain}"))
        .header("DPoP", key.proof("GET", &me, Some(&plain), json!({})))
        .send()
        .await
        .unwrap();
    assert_dpop_refusal(refused, "invalid_token").await;
}

#[tokio::test]
async fn with_server_nonces_every_proof_must_carry_a_fresh_one() {
    let app = spawn_app_with(|s| s.dpop_nonce_required = true).await;
    let key = DpopKey::es256();
    let client = app
        .service_with(json!({"trusted": true, "passwordFlowEnabled": true}))
        .await;
    let client = (client.0.as_str(), client.1.as_str());
    app.create_user("nina", "nina-password").await;
    let url = app.url("/api/rest/oauth2/token");
    let form = [
        ("grant_type", "password"),
        ("username", "nina"),
        ("password", "nina-password"),
        ("scope", "openid"),
    ];
    let bare = key.proof("POST", &url, None, json!({}));
    let refused = token_with_proof(&app, &form, client, Some(&bare)).await;
    let nonce = refused.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_oauth_error(refused, 400, "use_dpop_nonce").await;
    let forged = key.proof("POST", &url, None, json!({"nonce": "bm90LWEtbm9uY2U"}));
    let refused = token_with_proof(&app, &form, client, Some(&forged)).await;
    assert_oauth_error(refused, 400, "use_dpop_nonce").await;
    let good = key.proof("POST", &url, None, json!({"nonce": nonce}));
    let answer = token_with_proof(&app, &form, client, Some(&good)).await;
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().contains_key("dpop-nonce"));
    let token = answer.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let userinfo = app.url("/api/rest/oauth2/userinfo");
    let bare = key.proof("GET", &userinfo, Some(&token), json!({}));
    let refused = userinfo_with(&app, "DPoP", &token, Some(&bare)).await;
    let nonce = refused.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_dpop_refusal(refused, "use_dpop_nonce").await;
    let good = key.proof("GET", &userinfo, Some(&token), json!({"nonce": nonce}));
    let answer = userinfo_with(&app, "DPoP", &token, Some(&good)).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_code_pushed_with_a_proof_is_bound_to_that_key() {
    const CALLBACK: &str = "https://bound.example/callback";
    let app = spawn_app().await;
    let (id, secret) = app.web_client(CALLBACK, json!({})).await;
    let key = DpopKey::es256();
    let par = app.url("/api/rest/oauth2/par");
    let push = |proof: String, extra: Vec<(&'static str, String)>| {
        let mut form = vec![
            ("response_type", "code".to_owned()),
            ("redirect_uri", CALLBACK.to_owned()),
            ("scope", "openid".to_owned()),
        ];
        form.extend(extra);
        app.client
            .post(&par)
            .basic_auth(&id, Some(&secret))
            .header("DPoP", proof)
            .form(&form)
            .send()
    };
    // A dpop_jkt naming another key than the proof's.
    let other = DpopKey::es256().thumbprint();
    let refused = push(
        key.proof("POST", &par, None, json!({})),
        vec![("dpop_jkt", other)],
    )
    .await
    .unwrap();
    assert_oauth_error(refused, 400, "invalid_dpop_proof").await;

    let pushed = push(key.proof("POST", &par, None, json!({})), vec![])
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let request_uri = pushed.json::<Value>().await.unwrap()["request_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    // Signed in and allowed as the PAR tests do it.
    let back = crate::par::browse(&app, &id, &request_uri).await;
    let params = callback_params(&location(&back));
    let code = param(&params, "code").unwrap().to_owned();

    let url = app.url("/api/rest/oauth2/token");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let unproven = token_with_proof(&app, &form, (&id, &secret), None).await;
    assert_oauth_error(unproven, 400, "invalid_grant").await;
    let thief = DpopKey::es256().proof("POST", &url, None, json!({}));
    let refused = token_with_proof(&app, &form, (&id, &secret), Some(&thief)).await;
    assert_oauth_error(refused, 400, "invalid_grant").await;
    let proof = key.proof("POST", &url, None, json!({}));
    let answer = token_with_proof(&app, &form, (&id, &secret), Some(&proof)).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        peek(body["access_token"].as_str().unwrap(), 1)["cnf"]["jkt"],
        key.thumbprint()
    );
}

#[tokio::test]
async fn one_proof_sent_twenty_times_at_once_gets_one_token() {
    let app = spawn_app().await;
    let client = app.service_with(json!({"trusted": true})).await;
    let key = DpopKey::es256();
    let url = app.url("/api/rest/oauth2/token");
    let proof = key.proof("POST", &url, None, json!({}));
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = app
            .client
            .post(&url)
            .basic_auth(&client.0, Some(&client.1))
            .header("DPoP", &proof)
            .form(&[("grant_type", "client_credentials")]);
        racers.spawn(async move { request.send().await.expect("an answer").status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = racers.join_next().await {
        statuses.push(status.expect("racer finished"));
    }
    let issued = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(issued, 1, "statuses: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}
