use serde_json::{json, Value};

use crate::helpers::{peek, spawn_app};
use crate::independent::verify_with_jwks;

#[tokio::test]
async fn discovery_lists_what_is_supported_at_both_paths() {
    let app = spawn_app().await;
    let root: Value = app.public_json("/.well-known/openid-configuration").await;
    let nested: Value = app
        .public_json("/api/rest/oauth2/.well-known/openid-configuration")
        .await;
    assert_eq!(root, nested);
    assert_eq!(root["issuer"], app.address.as_str());
    assert_eq!(
        root["token_endpoint"],
        format!("{}/api/rest/oauth2/token", app.address)
    );
    assert_eq!(
        root["jwks_uri"],
        format!("{}/api/rest/oauth2/keys", app.address)
    );
    assert_eq!(root["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        root["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(
        root["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    for grant in ["client_credentials", "password", "refresh_token"] {
        assert!(root["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(grant)));
    }
}

#[tokio::test]
async fn oauth_endpoints_answer_cors_with_preflight() {
    let app = spawn_app().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/rest/oauth2/token"))
        .header("Origin", "https://spa.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://spa.example.com"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let jwks = app
        .client
        .get(app.url("/api/rest/oauth2/keys"))
        .header("Origin", "https://spa.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        jwks.headers()["access-control-allow-origin"],
        "https://spa.example.com"
    );
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let before = app
        .token(&[("grant_type", "client_credentials")], (&id, &secret))
        .await;
    let old_token = before["access_token"].as_str().unwrap().to_owned();
    let old_kid = peek(&old_token, 0)["kid"].as_str().unwrap().to_owned();

    // What `idhub keys rotate` does, on the shared database.
    let new_kid = {
        let mut conn = app.pool.get().unwrap();
        let now = chrono::Utc::now().naive_utc();
        let policy = idhub::oidc::keystore::KeyPolicy {
            retention: chrono::Duration::hours(2),
            ..idhub::oidc::keystore::KeyPolicy::from_settings(&idhub::config::Settings::default())
                .unwrap()
        };
        let caller = idhub::audit::Caller::cli();
        idhub::oidc::keystore::rotate(&mut conn, &policy, now, &caller).unwrap()
    };
    // A request that arrives while another is already reloading the keys
    // signs with the cached set: the new key is used from the next reload on
    // (the contract gives every instance 10 s; here the cache is 0 s).
    let started = std::time::Instant::now();
    let new_token = loop {
        let after = app
            .token(&[("grant_type", "client_credentials")], (&id, &secret))
            .await;
        let token = after["access_token"].as_str().unwrap().to_owned();
        if peek(&token, 0)["kid"] == new_kid.as_str() {
            break token;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the new key is not used"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let new_token = new_token.as_str();
    assert_ne!(new_kid, old_kid);

    let jwks: Value = app.public_json("/api/rest/oauth2/keys").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    assert_eq!(
        app.introspect(&old_token, (&id, &secret)).await["active"],
        true
    );
    verify_with_jwks(&app, &old_token).await;
    verify_with_jwks(&app, new_token).await;
}
