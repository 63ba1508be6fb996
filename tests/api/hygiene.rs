use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn malformed_bodies_get_clear_4xx_json_errors() {
    let app = spawn_app().await;
    let post_raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/rest/services"))
            .bearer_auth(&app.admin_token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_error(
        post_raw("{\"name\": ", "application/json").await.unwrap(),
        400,
        None,
    )
    .await;
    assert_error(
        post_raw("name=x", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        None,
    )
    .await;
    assert_error(
        post_raw("[1,2]", "application/json").await.unwrap(),
        400,
        None,
    )
    .await;
    let error = assert_error(
        app.post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "x", "redirectUris": ["https://a.example/cb", 7]}),
        )
        .await,
        400,
        None,
    )
    .await;
    assert_eq!(error["error_field"], "redirectUris[1]");

    let huge = json!({"name": "x", "description": "d".repeat(200_000)});
    assert_error(
        app.post_json("/api/rest/services", &app.admin_token, &huge)
            .await,
        413,
        None,
    )
    .await;
}

#[tokio::test]
async fn unknown_endpoints_and_duplicate_parameters() {
    let app = spawn_app().await;
    assert_error(
        app.get("/api/rest/nothing-here", &app.admin_token).await,
        404,
        None,
    )
    .await;
    assert_error(
        app.get("/api/rest/services?$top=1&$top=2", &app.admin_token)
            .await,
        400,
        None,
    )
    .await;
    let long_id = "x".repeat(5000);
    assert_error(
        app.get(&format!("/api/rest/services/{long_id}"), &app.admin_token)
            .await,
        404,
        None,
    )
    .await;
}
