use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn create_use_list_get_and_delete_a_permanent_token() {
    let app = spawn_app().await;
    let id = app.create_user("worker", "worker-password").await;
    let bootstrap = app.token_for("worker", "bootstrap", &["0-0-0-0-0"]);

    let response = app
        .post_json(
            "/api/rest/users/me/permanenttokens",
            &bootstrap,
            &json!({"name": "ci", "scope": "0-0-0-0-0"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("perm:d29ya2Vy.Y2k."), "{token}");
    assert_eq!(created["name"], "ci");
    assert_eq!(
        created["scope"],
        json!([{"id": "0-0-0-0-0", "name": "Hub"}])
    );
    assert!(created["creationTime"].is_i64());

    let me: Value = app
        .get("/api/rest/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], id.as_str());

    let listed: Value = app
        .get(&format!("/api/rest/users/{id}/permanenttokens"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 2);
    let ci = listed["permanenttokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()
        .clone();
    assert!(ci.get("token").is_none(), "the token is shown once");
    assert!(ci["lastAccessTime"].is_i64(), "used once already");

    let token_path = format!(
        "/api/rest/users/me/permanenttokens/{}",
        created["id"].as_str().unwrap()
    );
    let fetched: Value = app.get(&token_path, &bootstrap).await.json().await.unwrap();
    assert_eq!(fetched["name"], "ci");
    assert!(fetched.get("token").is_none());

    let mut conn = app.pool.get().unwrap();
    let (_, stored) = idhub::users::permanent_tokens::authenticate(
        &mut conn,
        &token,
        chrono::Utc::now().naive_utc(),
    )
    .unwrap();
    assert_eq!(stored.token_hash, idhub::secrets::hash(&token));
    assert!(!stored.token_hash.contains(&token[token.len() - 20..]));

    assert_eq!(app.delete(&token_path, &bootstrap).await.status(), 200);
    assert_error(app.get("/api/rest/users/me", &token).await, 401, None).await;
    assert_error(app.get(&token_path, &bootstrap).await, 404, None).await;
}

#[tokio::test]
async fn scope_forms_unknown_services_and_duplicate_names() {
    let app = spawn_app().await;
    let service = app.create_service(json!({"name": "Reports"})).await;
    let service_id = service["id"].as_str().unwrap();
    let path = "/api/rest/users/me/permanenttokens";

    let listed_form: Value = app
        .post_json(
            path,
            &app.admin_token,
            &json!({"name": "two", "scope": [{"id": "0-0-0-0-0"}, {"id": service_id}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed_form["scope"][1],
        json!({"id": service_id, "name": "Reports"})
    );

    // A token without the Hub in its scope cannot call idhub's REST API.
    let reports_only: Value = app
        .post_json(
            path,
            &app.admin_token,
            &json!({"name": "reports", "scope": service_id}),
        )
        .await
        .json()
        .await
        .unwrap();
    let narrow = reports_only["token"].as_str().unwrap();
    assert_error(app.get("/api/rest/users/me", narrow).await, 403, None).await;

    assert_error(
        app.post_json(
            path,
            &app.admin_token,
            &json!({"name": "bad", "scope": "no-such-service"}),
        )
        .await,
        400,
        Some("scope"),
    )
    .await;
    assert_error(
        app.post_json(path, &app.admin_token, &json!({"name": "two"}))
            .await,
        409,
        Some("name"),
    )
    .await;
    assert_error(
        app.post_json(path, &app.admin_token, &json!({"scope": "0-0-0-0-0"}))
            .await,
        400,
        Some("name"),
    )
    .await;
    assert_error(
        app.post_json(path, &app.admin_token, &json!({"name": "e", "scope": ""}))
            .await,
        400,
        Some("scope"),
    )
    .await;
}

#[tokio::test]
async fn tokens_of_other_users_need_an_admin() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", "alice-password").await;
    app.create_user("bob", "bob-password").await;
    let bob = app.token_for("bob", "t", &["0-0-0-0-0"]);
    let alice_tokens = format!("/api/rest/users/{alice}/permanenttokens");
    assert_error(app.get(&alice_tokens, &bob).await, 403, None).await;
    assert_error(
        app.post_json(&alice_tokens, &bob, &json!({"name": "x"}))
            .await,
        403,
        None,
    )
    .await;

    let made: Value = app
        .post_json(
            &alice_tokens,
            &app.admin_token,
            &json!({"name": "by-admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        made["scope"][0]["id"], "0-0-0-0-0",
        "Hub is the default scope"
    );
    let listed: Value = app
        .get(&alice_tokens, &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
    assert_error(
        app.get("/api/rest/users/nobody/permanenttokens", &app.admin_token)
            .await,
        404,
        None,
    )
    .await;
}
