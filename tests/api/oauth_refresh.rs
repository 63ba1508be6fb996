use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, peek, spawn_app, TestApp};

struct Offline {
    client: (String, String),
    access_token: String,
    refresh_token: String,
}

async fn offline_login(app: &TestApp, scope: &str) -> Offline {
    app.create_user("rita", "rita-password").await;
    let client = app.service_with(json!({})).await;
    let body = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "rita"),
                ("password", "rita-password"),
                ("scope", scope),
                ("access_type", "offline"),
            ],
            (&client.0, &client.1),
        )
        .await;
    Offline {
        access_token: body["access_token"].as_str().unwrap().to_owned(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        client,
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_grant() {
    let app = spawn_app().await;
    let login = offline_login(&app, "0-0-0-0-0").await;
    let basic = (login.client.0.as_str(), login.client.1.as_str());
    let first = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
            ],
            basic,
        )
        .await;
    let rotated = first["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, login.refresh_token);
    assert_eq!(first["scope"], "0-0-0-0-0");
    let second = app
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", rotated)],
            basic,
        )
        .await;
    let newest_access = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.introspect(&newest_access, basic).await["active"], true);

    // Presenting the used token again: refused, and the whole family dies.
    let reused = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
            ],
            Some(basic),
        )
        .await;
    assert_oauth_error(reused, 400, "invalid_grant").await;
    let newest_refresh = second["refresh_token"].as_str().unwrap();
    let after = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", newest_refresh),
            ],
            Some(basic),
        )
        .await;
    assert_oauth_error(after, 400, "invalid_grant").await;
    assert_eq!(app.introspect(&newest_access, basic).await["active"], false);
    assert_eq!(
        app.introspect(&login.access_token, basic).await["active"],
        false
    );
}

#[tokio::test]
async fn scope_may_only_narrow() {
    let app = spawn_app().await;
    let (resource, _) = app.service_with(json!({})).await;
    let login = offline_login(&app, &format!("0-0-0-0-0 {resource}")).await;
    let basic = (login.client.0.as_str(), login.client.1.as_str());
    let wider = format!("0-0-0-0-0 {resource} openid");
    let response = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
                ("scope", &wider),
            ],
            Some(basic),
        )
        .await;
    assert_oauth_error(response, 400, "invalid_scope").await;
    let narrower = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
                ("scope", &resource),
            ],
            basic,
        )
        .await;
    assert_eq!(narrower["scope"], resource.as_str());
    // The rotated refresh token keeps the original grant's scope.
    let back = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", narrower["refresh_token"].as_str().unwrap()),
            ],
            basic,
        )
        .await;
    assert_eq!(back["scope"], format!("0-0-0-0-0 {resource}"));
}

#[tokio::test]
async fn a_foreign_or_unknown_token_is_refused_without_burning_it() {
    let app = spawn_app().await;
    let login = offline_login(&app, "0-0-0-0-0").await;
    let (other, other_secret) = app.service_with(json!({})).await;
    let foreign = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
            ],
            Some((&other, &other_secret)),
        )
        .await;
    assert_oauth_error(foreign, 400, "invalid_grant").await;
    let unknown = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up"),
            ],
            Some((&other, &other_secret)),
        )
        .await;
    assert_oauth_error(unknown, 400, "invalid_grant").await;
    let missing = app
        .oauth_post(
            "token",
            &[("grant_type", "refresh_token")],
            Some((&other, &other_secret)),
        )
        .await;
    assert_oauth_error(missing, 400, "invalid_request").await;
    let owner = app
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &login.refresh_token),
            ],
            (&login.client.0, &login.client.1),
        )
        .await;
    assert!(owner["refresh_token"].is_string());
}

#[tokio::test]
async fn two_simultaneous_refreshes_issue_tokens_once() {
    let app = spawn_app().await;
    let login = offline_login(&app, "0-0-0-0-0").await;
    let basic = Some((login.client.0.as_str(), login.client.1.as_str()));
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", login.refresh_token.as_str()),
    ];
    let (a, b) = tokio::join!(
        app.oauth_post("token", &form, basic),
        app.oauth_post("token", &form, basic)
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        1,
        "{statuses:?}"
    );
    let bodies: Vec<Value> = vec![a.json().await.unwrap(), b.json().await.unwrap()];
    assert!(bodies.iter().any(|b| b["error"] == "invalid_grant"));
}

#[tokio::test]
async fn a_banned_users_token_is_refused_without_being_used() {
    let app = spawn_app().await;
    let user_id = app.create_user("bea", "bea-password").await;
    let client = app.service_with(json!({})).await;
    let basic = (client.0.as_str(), client.1.as_str());
    let login = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "bea"),
                ("password", "bea-password"),
                ("scope", "openid"),
                ("access_type", "offline"),
            ],
            basic,
        )
        .await;
    let refresh = login["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let user_url = format!("/api/rest/users/{user_id}");
    app.post_json(&user_url, &app.admin_token, &json!({"banned": true}))
        .await;
    let refused = app.oauth_post("token", &form, Some(basic)).await;
    assert_oauth_error(refused, 400, "invalid_grant").await;
    // Refused, not used: once the ban is lifted the same token rotates, and
    // the ID token names the user read with it.
    app.post_json(&user_url, &app.admin_token, &json!({"banned": false}))
        .await;
    let rotated = app.token(&form, basic).await;
    assert!(rotated["refresh_token"].is_string());
    let claims = peek(rotated["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], user_id.as_str());
}
