use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, peek, spawn_app, spawn_app_with};
use crate::independent::verify_with_jwks;

#[tokio::test]
async fn a_trusted_service_gets_an_rfc9068_token_that_verifies_independently() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let (resource, _) = app.service_with(json!({})).await;
    let response = app
        .oauth_post(
            "token",
            &[("grant_type", "client_credentials"), ("scope", &resource)],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], resource.as_str());
    assert!(body.get("refresh_token").is_none());

    let token = body["access_token"].as_str().unwrap();
    let header = peek(token, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
    let claims = verify_with_jwks(&app, token).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["aud"], resource.as_str());
    assert_eq!(claims["scope"], resource.as_str());
    assert_eq!(claims["iss"], app.address.as_str());
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}

#[tokio::test]
async fn scopes_are_registered_service_ids() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let (a, _) = app.service_with(json!({})).await;
    let (b, _) = app.service_with(json!({})).await;
    let both = format!("{a} {b}");
    let body = app
        .token(
            &[("grant_type", "client_credentials"), ("scope", &both)],
            (&id, &secret),
        )
        .await;
    let claims = peek(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["aud"], json!([a, b]));
    assert_eq!(body["scope"], both.as_str());

    let default = app
        .token(&[("grant_type", "client_credentials")], (&id, &secret))
        .await;
    assert_eq!(default["scope"], "0-0-0-0-0", "Hub's default scope");

    for scope in ["no-such-service", "openid", &format!("{a} nope")] {
        let response = app
            .oauth_post(
                "token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Some((&id, &secret)),
            )
            .await;
        assert_oauth_error(response, 400, "invalid_scope").await;
    }
    let many: Vec<String> = (0..60).map(|i| format!("s{i}")).collect();
    let response = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", &many.join(" ")),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(response, 400, "invalid_scope").await;
    let huge = "x".repeat(10_000);
    let response = app
        .oauth_post(
            "token",
            &[("grant_type", "client_credentials"), ("scope", &huge)],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(response, 400, "invalid_scope").await;
}

#[tokio::test]
async fn client_authentication_failures() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let form = [("grant_type", "client_credentials")];

    let wrong = app.oauth_post("token", &form, Some((&id, "wrong"))).await;
    assert_eq!(wrong.headers()["www-authenticate"], "Basic realm=\"idhub\"");
    let wrong = assert_oauth_error(wrong, 401, "invalid_client").await;
    let unknown = assert_oauth_error(
        app.oauth_post("token", &form, Some(("nobody", "x"))).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(wrong, unknown, "unknown client and bad secret answer alike");
    assert_oauth_error(
        app.oauth_post("token", &form, None).await,
        401,
        "invalid_client",
    )
    .await;
    let id_only = app
        .oauth_post(
            "token",
            &[("grant_type", "client_credentials"), ("client_id", &id)],
            None,
        )
        .await;
    assert_oauth_error(id_only, 401, "invalid_client").await;

    // client_secret_post works; both methods at once do not.
    let post = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await;
    assert_eq!(post.status(), 200);
    let both = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &secret),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(both, 400, "invalid_request").await;

    // A secret reset locks the old secret out at once.
    let reset = app
        .client
        .post(app.url(&format!("/api/rest/services/{id}/secret")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    let new_secret = reset.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_oauth_error(
        app.oauth_post("token", &form, Some((&id, &secret))).await,
        401,
        "invalid_client",
    )
    .await;
    assert_eq!(
        app.oauth_post("token", &form, Some((&id, &new_secret)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn only_trusted_services_with_the_flow_on() {
    let app = spawn_app().await;
    let form = [("grant_type", "client_credentials")];
    let (untrusted, secret) = app.service_with(json!({})).await;
    assert_oauth_error(
        app.oauth_post("token", &form, Some((&untrusted, &secret)))
            .await,
        400,
        "unauthorized_client",
    )
    .await;
    let (off, secret) = app
        .service_with(json!({"trusted": true, "clientCredentialsFlowEnabled": false}))
        .await;
    assert_oauth_error(
        app.oauth_post("token", &form, Some((&off, &secret))).await,
        400,
        "unauthorized_client",
    )
    .await;

    // Distrusting a service locks it out at once.
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    assert_eq!(
        app.oauth_post("token", &form, Some((&id, &secret)))
            .await
            .status(),
        200
    );
    app.post_json(
        &format!("/api/rest/services/{id}"),
        &app.admin_token,
        &json!({"trusted": false}),
    )
    .await;
    assert_oauth_error(
        app.oauth_post("token", &form, Some((&id, &secret))).await,
        400,
        "unauthorized_client",
    )
    .await;
}

#[tokio::test]
async fn impersonation_acts_as_the_user_and_reaches_the_rest_api() {
    let app = spawn_app().await;
    let user_id = app.create_user("ivy", "ivy-password").await;
    let (plain, plain_secret) = app.service_with(json!({"trusted": true})).await;
    let refused = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "0-0-0-0-0 user:ivy"),
            ],
            Some((&plain, &plain_secret)),
        )
        .await;
    assert_oauth_error(refused, 400, "invalid_scope").await;

    let (id, secret) = app
        .service_with(json!({"trusted": true, "impersonation": true}))
        .await;
    for who in ["ivy", user_id.as_str()] {
        let scope = format!("0-0-0-0-0 user:{who}");
        let body = app
            .token(
                &[("grant_type", "client_credentials"), ("scope", &scope)],
                (&id, &secret),
            )
            .await;
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(peek(token, 1)["sub"], user_id.as_str());
        let me: Value = app
            .get("/api/rest/users/me", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["login"], "ivy");
    }
    let nobody = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "user:nobody"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(nobody, 400, "invalid_scope").await;

    // A service acting as itself is not a user of the REST API.
    let own = app
        .token(&[("grant_type", "client_credentials")], (&id, &secret))
        .await;
    let response = app
        .get("/api/rest/users/me", own["access_token"].as_str().unwrap())
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn es256_and_eddsa_tokens_verify_independently() {
    for algorithm in ["ES256", "EdDSA"] {
        let app = spawn_app_with(|s| s.signing_algorithm = algorithm.into()).await;
        let (id, secret) = app.service_with(json!({"trusted": true})).await;
        let body = app
            .token(&[("grant_type", "client_credentials")], (&id, &secret))
            .await;
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(peek(token, 0)["alg"], algorithm);
        let claims = verify_with_jwks(&app, token).await;
        assert_eq!(claims["sub"], id.as_str());
    }
}

#[tokio::test]
async fn another_instance_sees_a_distrust_or_secret_reset_within_a_second() {
    let app = spawn_app().await;
    let other = crate::helpers::start_instance(&app.database, |_| {});
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let form = [("grant_type", "client_credentials")];
    let at_other = |basic: (String, String)| {
        let client = app.client.clone();
        let url = format!("{other}/api/rest/oauth2/token");
        async move {
            client
                .post(url)
                .form(&form)
                .basic_auth(basic.0, Some(basic.1))
                .send()
                .await
                .unwrap()
        }
    };
    // The other instance now has the service cached.
    assert_eq!(at_other((id.clone(), secret.clone())).await.status(), 200);

    app.post_json(
        &format!("/api/rest/services/{id}"),
        &app.admin_token,
        &json!({"trusted": false}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_oauth_error(
        at_other((id.clone(), secret.clone())).await,
        400,
        "unauthorized_client",
    )
    .await;

    app.post_json(
        &format!("/api/rest/services/{id}"),
        &app.admin_token,
        &json!({"trusted": true}),
    )
    .await;
    let reset = app
        .client
        .post(app.url(&format!("/api/rest/services/{id}/secret")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_oauth_error(
        at_other((id.clone(), secret.clone())).await,
        401,
        "invalid_client",
    )
    .await;
}
