//! The console in a real headless Chromium, as an administrator uses it:
//! sign in, register a service and read its secret once, mark it trusted,
//! reset its secret, ban a user, rotate a key and delete the service, each
//! result checked through the REST API and each seen in the audit list.
//! On the way it takes the screenshots the README shows (docs/images/,
//! refreshed with IDHUB_UPDATE_SCREENSHOTS=1; always under target/).

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::chromium::{
    browser, click, fill, prerequisites_present, screenshot, start_chromedriver, wait_for, WAIT,
};
use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD};

async fn text(chrome: &Client, css: &str) -> String {
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn rest(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path, &app.admin_token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.oauth_post(
        "token",
        &[("grant_type", "client_credentials")],
        Some((id, secret)),
    )
    .await
    .status()
    .as_u16()
}

/// Whether the service's credentials open the introspection endpoint.
async fn introspection(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.oauth_post("introspect", &[("token", "anything")], Some((id, secret)))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_administrator_runs_the_console_in_chromium() {
    if !prerequisites_present(&[]) {
        return;
    }
    let app = spawn_app().await;
    let frank = app.create_user("frank", "frank-password").await;
    app.create_service(json!({"name": "Build server", "trusted": true}))
        .await;
    app.create_service(
        json!({"name": "Issue tracker", "redirectUris": ["https://issues.example/cb"]}),
    )
    .await;
    let driver = start_chromedriver().await;
    let chrome = browser(&driver).await;
    chrome.set_window_size(1100, 800).await.unwrap();

    // A stranger opening the console signs in first and comes back to it.
    chrome.goto(&app.url("/admin")).await.unwrap();
    fill(&chrome, "#login", "admin").await;
    fill(&chrome, "#password", ADMIN_PASSWORD).await;
    click(&chrome, "button[type=submit]").await;
    wait_for(&chrome, "//h1[.='Console']").await;
    chrome.goto(&app.url("/")).await.unwrap();
    assert!(text(&chrome, "body").await.contains("Console"));
    screenshot(&chrome, "home").await;

    // Register a service; its secret is shown once.
    chrome.goto(&app.url("/admin/services")).await.unwrap();
    click(&chrome, "#new-service").await;
    fill(&chrome, "#name", "Team wiki").await;
    fill(
        &chrome,
        "#redirect_uris",
        "https://wiki.example/callback\nhttps://wiki.example/silent",
    )
    .await;
    fill(&chrome, "#description", "The team's wiki").await;
    // A web application, the kind chosen unless another is picked.
    click(&chrome, "#type-web").await;
    click(&chrome, "button[type=submit]").await;
    let id = text(&chrome, "#client-id").await;
    let secret = text(&chrome, "#client-secret").await;
    assert!(text(&chrome, "body")
        .await
        .contains("Connect your application"));
    screenshot(&chrome, "service-created").await;
    let (status, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        service["redirectUris"],
        json!([
            "https://wiki.example/callback",
            "https://wiki.example/silent"
        ])
    );
    assert_eq!(
        service["pkceRequired"], true,
        "a web application's defaults"
    );
    assert_eq!(service["implicitFlowEnabled"], false);
    assert_eq!(
        client_credentials(&app, &id, &secret).await,
        400,
        "a web application signs users in; it gets no tokens of its own"
    );
    assert_eq!(introspection(&app, &id, &secret).await, 200);

    // Mark it trusted.
    click(&chrome, &format!("a[href='/admin/services/{id}']")).await;
    assert!(
        !chrome.source().await.unwrap().contains(&secret),
        "shown once"
    );
    click(&chrome, "#trust").await;
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#untrust"))
        .await
        .unwrap();
    assert_eq!(
        rest(&app, &format!("/api/rest/services/{id}")).await.1["trusted"],
        true
    );

    // Reset its secret, after the confirmation.
    click(&chrome, "#reset-secret").await;
    click(&chrome, "#confirm").await;
    let new_secret = text(&chrome, "#client-secret").await;
    assert_ne!(new_secret, secret);
    assert_eq!(introspection(&app, &id, &secret).await, 401);
    assert_eq!(introspection(&app, &id, &new_secret).await, 200);

    chrome.goto(&app.url("/admin/services")).await.unwrap();
    assert!(text(&chrome, "body").await.contains("1–4 of 4"));
    screenshot(&chrome, "services").await;

    // Ban a user.
    chrome.goto(&app.url("/admin/users")).await.unwrap();
    click(&chrome, &format!("a[href='/admin/users/{frank}']")).await;
    click(&chrome, "#ban").await;
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#unban"))
        .await
        .unwrap();
    assert_eq!(
        rest(&app, &format!("/api/rest/users/{frank}")).await.1["banned"],
        true
    );

    // Rotate the signing key.
    chrome.goto(&app.url("/admin/keys")).await.unwrap();
    click(&chrome, "#rotate").await;
    // The page comes back with the former key retired.
    wait_for(&chrome, "//td[contains(., 'still verifies')]").await;
    let keys: Value = app.public_json("/api/rest/oauth2/keys").await;
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(2));

    // Delete the service, after the confirmation.
    chrome
        .goto(&app.url(&format!("/admin/services/{id}")))
        .await
        .unwrap();
    click(&chrome, "#delete").await;
    wait_for(&chrome, "//p[contains(., 'revoked')]").await;
    click(&chrome, "#confirm").await;
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#new-service"))
        .await
        .unwrap();
    assert_eq!(rest(&app, &format!("/api/rest/services/{id}")).await.0, 404);

    // Every change is in the audit list.
    chrome.goto(&app.url("/admin/audit")).await.unwrap();
    let trail = text(&chrome, "table").await;
    for kind in [
        "service.created",
        "service.trusted",
        "service.secret_reset",
        "user.banned",
        "key.rotated",
        "service.deleted",
        "signin.succeeded",
    ] {
        assert!(trail.contains(kind), "{kind} in {trail}");
    }
    screenshot(&chrome, "audit").await;

    // The pages every user sees: consent for an application, and the account.
    let (client, _) = app
        .service_with(
            json!({"name": "Issue tracker app", "redirectUris": ["http://127.0.0.1:9/callback"]}),
        )
        .await;
    let authorize = format!(
        "/api/rest/oauth2/auth?response_type=code&client_id={client}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=0-0-0-0-0&state=s"
    );
    chrome.goto(&app.url(&authorize)).await.unwrap();
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap();
    screenshot(&chrome, "consent").await;
    click(&chrome, "button[value=allow]").await;
    // Let the redirect to the (closed) callback finish first, or it may land
    // after the next navigation and replace the account page.
    for _ in 0..50 {
        let at = chrome.current_url().await.unwrap();
        if at.as_str().starts_with("http://127.0.0.1:9/")
            || at.as_str().starts_with("chrome-error:")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.token_for("admin", "deploy script", &["0-0-0-0-0"]);
    chrome.goto(&app.url("/account")).await.unwrap();
    wait_for(&chrome, "//*[contains(text(), 'deploy script')]").await;
    assert!(text(&chrome, "body").await.contains("deploy script"));
    screenshot(&chrome, "account").await;
    chrome.close().await.unwrap();
}
