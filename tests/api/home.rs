//! `/`: a sign-in link for strangers; who is signed in, and where to go, for
//! users; the administration hints for admins only.
use crate::helpers::{spawn_app, ADMIN_PASSWORD};

#[tokio::test]
async fn the_home_page_greets_strangers_users_and_admins() {
    let app = spawn_app().await;
    let browser = app.browser();
    let page = browser.get(app.url("/")).send().await.expect("request");
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"href="/login?return_to=%2F""#), "{html}");
    assert!(!html.contains("Signed in as"));
    // Each link for developers answers with its JSON document.
    for link in [
        "/.well-known/openid-configuration",
        "/api/rest/oauth2/keys",
        "/api/openapi.json",
    ] {
        assert!(
            html.contains(&format!(r#"href="{link}""#)),
            "{link}: {html}"
        );
        let document = browser.get(app.url(link)).send().await.expect("request");
        assert_eq!(document.status(), 200, "{link}");
        let json: serde_json::Value = document.json().await.expect("JSON");
        assert!(json.is_object(), "{link}");
    }

    app.create_user("erin", "erin-password").await;
    let signed_in = app
        .sign_in(&browser, "/login?return_to=%2F", "erin", "erin-password")
        .await;
    assert_eq!(signed_in.status(), 303);
    let html = app.page(&browser, "/").await.1;
    assert!(
        html.contains("Signed in as <strong>erin</strong> (erin)"),
        "{html}"
    );
    assert!(html.contains(r#"href="/account""#));
    assert!(!html.contains("Administration"), "not for users: {html}");

    let admin_browser = app.browser();
    app.sign_in(
        &admin_browser,
        "/login?return_to=%2F",
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    let html = app.page(&admin_browser, "/").await.1;
    assert!(html.contains("an administrator"), "{html}");
    assert!(html.contains("Administration"), "{html}");
}

#[tokio::test]
async fn the_sign_in_page_names_the_application_that_asks() {
    let app = spawn_app().await;
    let callback = "https://named.example/cb";
    let (id, _) = app
        .web_client(callback, serde_json::json!({"name": "Planner <3"}))
        .await;
    let browser = app.browser();
    let request = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", callback),
    ];
    let first = app.authorize(&browser, &request).await;
    assert_eq!(first.status(), 303);
    let login = crate::browser::location(&first);
    let html = app.page(&browser, &login).await.1;
    assert!(
        html.contains("to continue to <strong>Planner &#60;3</strong>"),
        "{html}"
    );
    let plain = app.page(&browser, "/login").await.1;
    assert!(!plain.contains("to continue to"), "{plain}");
}
