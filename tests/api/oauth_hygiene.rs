use serde_json::json;

use crate::helpers::{assert_oauth_error, spawn_app};

#[tokio::test]
async fn bad_token_requests_get_rfc_errors_never_500() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let basic = Some((id.as_str(), secret.as_str()));

    assert_oauth_error(
        app.oauth_post("token", &[], basic).await,
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.oauth_post("token", &[("grant_type", "magic")], basic)
            .await,
        400,
        "unsupported_grant_type",
    )
    .await;
    assert_oauth_error(
        app.oauth_post("token", &[("grant_type", "authorization_code_x")], basic)
            .await,
        400,
        "unsupported_grant_type",
    )
    .await;

    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/rest/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let form = "application/x-www-form-urlencoded";
    assert_oauth_error(
        raw("grant_type=client_credentials&grant_type=password", form)
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        raw(
            "{\"grant_type\":\"client_credentials\"}",
            "application/json",
        )
        .await
        .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        raw("--b\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--b--", "multipart/form-data; boundary=b")
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        raw("%%%garbage\u{7f}=&&==", form).await.unwrap(),
        400,
        "invalid_request",
    )
    .await;

    let huge = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(100_000)
    );
    let response = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", form)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_oauth_error(response, 413, "invalid_request").await;

    let bad_basic = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .header("authorization", "Basic not-base64!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_oauth_error(bad_basic, 401, "invalid_client").await;
    let get = app
        .client
        .get(app.url("/api/rest/oauth2/token"))
        .send()
        .await
        .unwrap();
    assert!(get.status().is_client_error());
}
