//! The console at `/admin`: administrators read the registry and the audit
//! trail; anyone else signed in gets 403 on every page; strangers are sent
//! to the sign-in page and back.
use serde_json::json;

use crate::browser::location;
use crate::helpers::{spawn_app, ADMIN_PASSWORD};

const PAGES: [&str; 3] = ["/admin", "/admin/services", "/admin/audit"];

#[tokio::test]
async fn only_administrators_see_the_console() {
    let app = spawn_app().await;
    let stranger = app.browser();
    for path in PAGES {
        let response = stranger.get(app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 303, "{path}");
        let back: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(location(&response), format!("/login?return_to={back}"));
    }
    app.create_user("mallory", "mallory-password").await;
    let user = app.browser();
    app.sign_in(&user, "/login", "mallory", "mallory-password")
        .await;
    for path in PAGES {
        let (status, html) = app.page(&user, path).await;
        assert_eq!(status, 403, "{path}: {html}");
        assert!(!html.contains("Audit events</h1>"));
    }
}

#[tokio::test]
async fn administrators_search_services_and_filter_the_audit_trail() {
    let app = spawn_app().await;
    app.create_service(
        json!({"name": "Findable <b>app</b>", "redirectUris": ["https://f.example/cb"]}),
    )
    .await;
    app.create_service(json!({"name": "Other"})).await;
    let admin = app.browser();
    app.sign_in(&admin, "/login", "admin", ADMIN_PASSWORD).await;

    let (status, html) = app.page(&admin, "/admin").await;
    assert_eq!(status, 200, "{html}");
    let (_, html) = app.page(&admin, "/admin/services").await;
    assert!(html.contains("Findable &#60;b&#62;app"), "escaped: {html}");
    assert!(!html.contains("<b>app"), "never raw: {html}");
    assert!(html.contains(">Other<") && html.contains(">Hub<"), "{html}");
    assert!(html.contains("1–3 of 3"), "{html}");
    let (_, html) = app.page(&admin, "/admin/services?query=findable").await;
    assert!(
        html.contains("1–1 of 1") && !html.contains(">Other<"),
        "{html}"
    );
    let (_, html) = app
        .page(&admin, "/admin/services?query=is%3A%20trusted")
        .await;
    assert!(
        html.contains(">Hub<") && !html.contains(">Other<"),
        "{html}"
    );
    let (status, _) = app
        .page(&admin, "/admin/services?query=owner%3A%20me")
        .await;
    assert_eq!(status, 400);

    let (_, html) = app.page(&admin, "/admin/audit").await;
    assert!(html.contains("service.created"), "{html}");
    assert!(html.contains("signin.succeeded"), "{html}");
    let (_, html) = app
        .page(&admin, "/admin/audit?query=type%3A%20signin.succeeded")
        .await;
    assert!(
        html.contains("signin.succeeded") && !html.contains("service.created"),
        "{html}"
    );
    let (status, _) = app
        .page(&admin, "/admin/audit?query=type%3A%20nothing")
        .await;
    assert_eq!(status, 400);
}
