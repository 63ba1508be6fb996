use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, peek, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_email_or_id_trade_for_a_token_that_reaches_the_rest_api() {
    let app = spawn_app().await;
    let user_id = app.create_user("pat", "pat-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    for username in ["pat", "PAT@example.com", user_id.as_str()] {
        let body = app
            .token(
                &[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", "pat-password"),
                ],
                (&id, &secret),
            )
            .await;
        assert!(
            body.get("refresh_token").is_none(),
            "no refresh token unless offline"
        );
        assert_eq!(body["scope"], "0-0-0-0-0");
        let token = body["access_token"].as_str().unwrap();
        let claims = peek(token, 1);
        assert_eq!(claims["sub"], user_id.as_str());
        assert_eq!(claims["client_id"], id.as_str());
        let me: Value = app
            .get("/api/rest/users/me", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["id"], user_id.as_str());
    }
}

#[tokio::test]
async fn offline_access_or_access_type_offline_issue_refresh_tokens() {
    let app = spawn_app().await;
    app.create_user("olga", "olga-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let base = [
        ("grant_type", "password"),
        ("username", "olga"),
        ("password", "olga-password"),
    ];
    let mut hub_style = base.to_vec();
    hub_style.push(("access_type", "offline"));
    assert!(app.token(&hub_style, (&id, &secret)).await["refresh_token"].is_string());
    let mut oidc_style = base.to_vec();
    oidc_style.push(("scope", "openid offline_access"));
    let body = app.token(&oidc_style, (&id, &secret)).await;
    assert!(body["refresh_token"].is_string());
    assert_eq!(body["scope"], "openid offline_access");
    assert_eq!(
        peek(body["access_token"].as_str().unwrap(), 1)["aud"],
        id.as_str(),
        "OIDC-only scope: audience is the client"
    );
}

#[tokio::test]
async fn wrong_banned_public_and_disabled_are_refused() {
    let app = spawn_app().await;
    let user_id = app.create_user("bea", "bea-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let attempt = |password: &'static str| {
        [
            ("grant_type", "password"),
            ("username", "bea"),
            ("password", password),
        ]
    };

    let wrong = app
        .oauth_post("token", &attempt("nope-nope"), Some((&id, &secret)))
        .await;
    let wrong = assert_oauth_error(wrong, 400, "invalid_grant").await;
    let unknown = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "ghost"),
                ("password", "nope-nope"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(
        assert_oauth_error(unknown, 400, "invalid_grant").await,
        wrong,
        "unknown users answer alike"
    );
    let missing = app
        .oauth_post(
            "token",
            &[("grant_type", "password"), ("username", "bea")],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(missing, 400, "invalid_request").await;

    app.post_json(
        &format!("/api/rest/users/{user_id}"),
        &app.admin_token,
        &json!({"banned": true}),
    )
    .await;
    assert_oauth_error(
        app.oauth_post("token", &attempt("bea-password"), Some((&id, &secret)))
            .await,
        400,
        "invalid_grant",
    )
    .await;
    app.post_json(
        &format!("/api/rest/users/{user_id}"),
        &app.admin_token,
        &json!({"banned": false}),
    )
    .await;

    let (public, _) = app.service_with(json!({"publicClient": true})).await;
    let mut public_form = attempt("bea-password").to_vec();
    public_form.push(("client_id", &public));
    assert_oauth_error(
        app.oauth_post("token", &public_form, None).await,
        400,
        "unauthorized_client",
    )
    .await;

    let (off, off_secret) = app
        .service_with(json!({"passwordFlowEnabled": false}))
        .await;
    assert_oauth_error(
        app.oauth_post("token", &attempt("bea-password"), Some((&off, &off_secret)))
            .await,
        400,
        "unauthorized_client",
    )
    .await;

    let scoped = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "bea"),
                ("password", "bea-password"),
                ("scope", "user:bea"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(scoped, 400, "invalid_scope").await;
    assert_eq!(
        app.oauth_post("token", &attempt("bea-password"), Some((&id, &secret)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_password_grant_can_be_switched_off_server_wide() {
    let app = spawn_app_with(|s| s.password_grant_enabled = false).await;
    app.create_user("sam", "sam-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let form = [
        ("grant_type", "password"),
        ("username", "sam"),
        ("password", "sam-password"),
    ];
    assert_oauth_error(
        app.oauth_post("token", &form, Some((&id, &secret))).await,
        400,
        "unauthorized_client",
    )
    .await;
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert!(!discovery["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("password")));
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_locks_the_user_out_even_with_the_right_one() {
    let app = spawn_app_with(|s| {
        s.password_max_failures = 3;
        s.password_lockout_secs = 2;
    })
    .await;
    app.create_user("lou", "lou-password").await;
    app.create_user("other", "other-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let attempt = |user: &'static str, password: &'static str| {
        [
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ]
    };
    for _ in 0..3 {
        let response = app
            .oauth_post(
                "token",
                &attempt("lou", "bad-password"),
                Some((&id, &secret)),
            )
            .await;
        assert_oauth_error(response, 400, "invalid_grant").await;
    }
    let locked = app
        .oauth_post(
            "token",
            &attempt("lou", "lou-password"),
            Some((&id, &secret)),
        )
        .await;
    let body = assert_oauth_error(locked, 400, "invalid_grant").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many"),
        "{body}"
    );
    // Other users are not affected.
    assert_eq!(
        app.oauth_post(
            "token",
            &attempt("other", "other-password"),
            Some((&id, &secret))
        )
        .await
        .status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.oauth_post(
            "token",
            &attempt("lou", "lou-password"),
            Some((&id, &secret))
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn a_client_spraying_passwords_is_locked_out() {
    let app = spawn_app_with(|s| s.password_client_max_failures = 4).await;
    app.create_user("victim", "victim-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    for user in ["a", "b", "c", "d"] {
        let response = app
            .oauth_post(
                "token",
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", "guess-guess"),
                ],
                Some((&id, &secret)),
            )
            .await;
        assert_oauth_error(response, 400, "invalid_grant").await;
    }
    let right = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "victim"),
                ("password", "victim-password"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(right, 400, "invalid_grant").await;
}
