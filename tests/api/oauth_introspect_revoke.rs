use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, spawn_app};

#[tokio::test]
async fn introspection_answers_the_client_and_the_audience_only() {
    let app = spawn_app().await;
    let (client, client_secret) = app.service_with(json!({"trusted": true})).await;
    let (resource, resource_secret) = app.service_with(json!({})).await;
    let (stranger, stranger_secret) = app.service_with(json!({})).await;
    let body = app
        .token(
            &[("grant_type", "client_credentials"), ("scope", &resource)],
            (&client, &client_secret),
        )
        .await;
    let token = body["access_token"].as_str().unwrap();

    let by_client = app.introspect(token, (&client, &client_secret)).await;
    assert_eq!(by_client["active"], true);
    assert_eq!(by_client["client_id"], client.as_str());
    assert_eq!(by_client["sub"], client.as_str());
    assert_eq!(by_client["scope"], resource.as_str());
    assert_eq!(by_client["token_type"], "Bearer");
    assert!(by_client["exp"].is_i64());
    assert_eq!(
        app.introspect(token, (&resource, &resource_secret)).await["active"],
        true
    );
    assert_eq!(
        app.introspect(token, (&stranger, &stranger_secret)).await,
        json!({"active": false})
    );
    assert_eq!(
        app.introspect("garbage", (&client, &client_secret)).await,
        json!({"active": false})
    );
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        app.introspect(&tampered, (&client, &client_secret)).await["active"],
        false
    );

    assert_oauth_error(
        app.oauth_post("introspect", &[("token", token)], None)
            .await,
        401,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.oauth_post("introspect", &[("token", token)], Some((&client, "bad")))
            .await,
        401,
        "invalid_client",
    )
    .await;
    assert_oauth_error(
        app.oauth_post("introspect", &[], Some((&client, &client_secret)))
            .await,
        400,
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn revoking_an_access_token_or_a_refresh_token() {
    let app = spawn_app().await;
    let user_id = app.create_user("rex", "rex-password").await;
    let (client, secret) = app.service_with(json!({})).await;
    let basic = (client.as_str(), secret.as_str());
    let login = || {
        app.token(
            &[
                ("grant_type", "password"),
                ("username", "rex"),
                ("password", "rex-password"),
                ("access_type", "offline"),
            ],
            basic,
        )
    };

    let first = login().await;
    let access = first["access_token"].as_str().unwrap();
    let introspected = app.introspect(access, basic).await;
    assert_eq!(introspected["username"], "rex");
    assert_eq!(introspected["sub"], user_id.as_str());
    let response = app
        .oauth_post("revoke", &[("token", access)], Some(basic))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.introspect(access, basic).await["active"], false);
    assert_eq!(app.get("/api/rest/users/me", access).await.status(), 401);
    let userinfo = app.userinfo(access).await;
    assert_eq!(userinfo.status(), 401);
    // The refresh token of that login still works: only the access token was revoked.
    let refresh = first["refresh_token"].as_str().unwrap();
    let refresh_state = app.introspect(refresh, basic).await;
    assert_eq!(refresh_state["active"], true);
    assert_eq!(refresh_state["token_type"], "refresh_token");
    // A wrong hint only orders the search (RFC 7662 §2.1).
    let hinted: serde_json::Value = app
        .oauth_post(
            "introspect",
            &[("token", refresh), ("token_type_hint", "access_token")],
            Some(basic),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hinted["active"], true, "{hinted}");

    // Revoking a refresh token ends its grant: the refresh token and its access tokens.
    let second = login().await;
    let (access, refresh) = (
        second["access_token"].as_str().unwrap(),
        second["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(
        app.oauth_post(
            "revoke",
            &[("token", refresh), ("token_type_hint", "refresh_token")],
            Some(basic)
        )
        .await
        .status(),
        200
    );
    assert_eq!(app.introspect(access, basic).await["active"], false);
    assert_eq!(app.introspect(refresh, basic).await["active"], false);
    let used = app
        .oauth_post(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            Some(basic),
        )
        .await;
    assert_oauth_error(used, 400, "invalid_grant").await;

    // Unknown tokens and other clients' tokens: 200, nothing happens.
    assert_eq!(
        app.oauth_post("revoke", &[("token", "unknown")], Some(basic))
            .await
            .status(),
        200
    );
    let third = login().await;
    let (other, other_secret) = app.service_with(json!({})).await;
    let access = third["access_token"].as_str().unwrap();
    assert_eq!(
        app.oauth_post(
            "revoke",
            &[("token", access)],
            Some((&other, &other_secret))
        )
        .await
        .status(),
        200
    );
    assert_eq!(app.introspect(access, basic).await["active"], true);
    assert_oauth_error(
        app.oauth_post("revoke", &[("token", access)], None).await,
        401,
        "invalid_client",
    )
    .await;
}

#[tokio::test]
async fn banning_the_user_or_deleting_the_client_deactivates_tokens() {
    let app = spawn_app().await;
    let user_id = app.create_user("ben", "ben-password").await;
    let (client, secret) = app.service_with(json!({})).await;
    let (resource, resource_secret) = app.service_with(json!({})).await;
    let scope = format!("openid {resource}");
    let body = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "ben"),
                ("password", "ben-password"),
                ("scope", &scope),
            ],
            (&client, &secret),
        )
        .await;
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        app.introspect(access, (&resource, &resource_secret)).await["active"],
        true
    );

    app.post_json(
        &format!("/api/rest/users/{user_id}"),
        &app.admin_token,
        &json!({"banned": true}),
    )
    .await;
    assert_eq!(
        app.introspect(access, (&resource, &resource_secret)).await["active"],
        false
    );
    let userinfo = app.userinfo(access).await;
    assert_eq!(userinfo.status(), 401);
    app.post_json(
        &format!("/api/rest/users/{user_id}"),
        &app.admin_token,
        &json!({"banned": false}),
    )
    .await;
    assert_eq!(
        app.introspect(access, (&resource, &resource_secret)).await["active"],
        true
    );

    app.delete(&format!("/api/rest/services/{client}"), &app.admin_token)
        .await;
    assert_eq!(
        app.introspect(access, (&resource, &resource_secret)).await["active"],
        false
    );
}

#[tokio::test]
async fn userinfo_returns_claims_by_scope() {
    let app = spawn_app().await;
    let user_id = app.create_user("uma", "uma-password").await;
    let (client, secret) = app.service_with(json!({})).await;
    let token_for = |scope: &'static str| {
        let (client, secret) = (client.clone(), secret.clone());
        let app = &app;
        async move {
            let body = app
                .token(
                    &[
                        ("grant_type", "password"),
                        ("username", "uma"),
                        ("password", "uma-password"),
                        ("scope", scope),
                    ],
                    (&client, &secret),
                )
                .await;
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let userinfo = |token: String| {
        let app = &app;
        async move { app.userinfo(&token).await }
    };

    let full: Value = userinfo(token_for("openid profile email").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        full,
        json!({"sub": user_id, "name": "uma", "preferred_username": "uma", "email": "uma@example.com", "email_verified": false})
    );
    let only_sub: Value = userinfo(token_for("openid").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(only_sub, json!({"sub": user_id}));
    let hub: Value = userinfo(token_for("0-0-0-0-0").await)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hub["preferred_username"], "uma");

    let (resource, _) = app.service_with(json!({})).await;
    let narrow = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "uma"),
                ("password", "uma-password"),
                ("scope", &resource),
            ],
            (&client, &secret),
        )
        .await;
    let refused = userinfo(narrow["access_token"].as_str().unwrap().to_owned()).await;
    assert!(refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
    assert_oauth_error(refused, 403, "insufficient_scope").await;

    // RFC 6750: form body works; header and body together do not; none is 401.
    let token = token_for("openid").await;
    let by_form = app
        .client
        .post(app.url("/api/rest/oauth2/userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(by_form.status(), 200);
    let both = app
        .client
        .post(app.url("/api/rest/oauth2/userinfo"))
        .bearer_auth(&token)
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_oauth_error(both, 400, "invalid_request").await;
    let none = app
        .client
        .get(app.url("/api/rest/oauth2/userinfo"))
        .send()
        .await
        .unwrap();
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    assert_oauth_error(none, 401, "invalid_token").await;
    assert_oauth_error(userinfo("not.a.jwt".into()).await, 401, "invalid_token").await;
}
