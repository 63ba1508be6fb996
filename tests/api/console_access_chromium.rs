//! The console's pages of the authorization model in a real headless
//! Chromium: declare a service's permission, make a role of it, a project
//! and a group, add a member, grant the role to the group in the project,
//! and see the permission on the member's page and in the permission cache
//! the service reads. Screenshots for docs/console.md (docs/images/ with
//! IDHUB_UPDATE_SCREENSHOTS=1; always under target/screenshots).

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::chromium::{
    browser, choose, click, fill, prerequisites_present, screenshot, start_chromedriver, wait_for,
};
use crate::helpers::{spawn_app, ADMIN_PASSWORD};

#[tokio::test]
async fn an_administrator_grants_a_role_to_a_group_in_chromium() {
    if !prerequisites_present(&[]) {
        return;
    }
    let app = spawn_app().await;
    let grace = app.create_user("grace", "grace-password").await;
    let (tracker, tracker_secret) = app
        .service_with(json!({"name": "Issue tracker", "trusted": true}))
        .await;
    let driver = start_chromedriver().await;
    let chrome = browser(&driver).await;
    chrome.set_window_size(1100, 900).await.unwrap();
    chrome.goto(&app.url("/admin")).await.unwrap();
    fill(&chrome, "#login", "admin").await;
    fill(&chrome, "#password", ADMIN_PASSWORD).await;
    click(&chrome, "button[type=submit]").await;
    wait_for(&chrome, "//h1[.='Console']").await;

    // The tracker's permission, declared on its page.
    chrome
        .goto(&app.url(&format!("/admin/services/{tracker}")))
        .await
        .unwrap();
    click(&chrome, "#permissions").await;
    fill(&chrome, "#key", "issue.write").await;
    fill(&chrome, "#name", "Write issues").await;
    click(&chrome, "#declare button[type=submit]").await;
    wait_for(&chrome, "//td[.='Write issues']").await;

    // A Developer role with it.
    chrome.goto(&app.url("/admin/roles")).await.unwrap();
    fill(&chrome, "#key", "developer").await;
    fill(&chrome, "#name", "Developer").await;
    click(&chrome, "#new-role button[type=submit]").await;
    wait_for(&chrome, "//h1[.='Developer']").await;
    choose(&chrome, "#permission", "issue.write").await;
    click(&chrome, "#add-permission button[type=submit]").await;
    wait_for(&chrome, "//td[contains(., 'Issue tracker: issue.write')]").await;

    // A project.
    chrome.goto(&app.url("/admin/projects")).await.unwrap();
    fill(&chrome, "#key", "TRACK").await;
    fill(&chrome, "#name", "Tracker").await;
    click(&chrome, "#new-project button[type=submit]").await;
    wait_for(&chrome, "//td[.='Tracker']").await;

    // A group inside another; Grace joins it; it gets Developer in Tracker.
    chrome.goto(&app.url("/admin/groups")).await.unwrap();
    fill(&chrome, "#name", "Engineering").await;
    click(&chrome, "#new-group button[type=submit]").await;
    wait_for(&chrome, "//h1[.='Engineering']").await;
    chrome.goto(&app.url("/admin/groups")).await.unwrap();
    fill(&chrome, "#name", "Backend").await;
    choose(&chrome, "#parent", "Engineering").await;
    click(&chrome, "#new-group button[type=submit]").await;
    wait_for(&chrome, "//h1[.='Backend']").await;
    fill(&chrome, "#login", "grace").await;
    click(&chrome, "#add-member button[type=submit]").await;
    wait_for(&chrome, "//td/a[.='grace']").await;
    choose(&chrome, "#role", "Developer").await;
    choose(&chrome, "#project", "Tracker").await;
    click(&chrome, "#grant button[type=submit]").await;
    wait_for(&chrome, "//td[.='Tracker']").await;
    assert!(
        chrome.source().await.unwrap().contains("/revoke"),
        "the group's own grant can be revoked on its page"
    );
    screenshot(&chrome, "group").await;

    chrome.goto(&app.url("/admin/groups")).await.unwrap();
    wait_for(&chrome, "//td[.='Engineering']").await;

    // Grace's page shows the permission, through the group.
    chrome
        .goto(&app.url(&format!("/admin/users/{grace}")))
        .await
        .unwrap();
    click(&chrome, "#access").await;
    wait_for(
        &chrome,
        "//table[@id='permissions']//td[contains(., 'issue.write')]",
    )
    .await;
    let where_held = chrome
        .find(Locator::Css("#permissions"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(where_held.contains("TRACK"), "{where_held}");
    assert!(chrome.source().await.unwrap().contains("through Backend"));
    chrome.set_window_size(1100, 1150).await.unwrap();
    screenshot(&chrome, "user-access").await;

    // The tracker reads the same in the permission cache.
    let token = app
        .token(
            &[("grant_type", "client_credentials")],
            (&tracker, &tracker_secret),
        )
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer: Value = app
        .get("/api/rest/permissions/cache?principal=grace", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer[0]["permission"]["key"], "issue.write", "{answer}");
    assert_eq!(answer[0]["projects"][0]["key"], "TRACK");

    // Removing her from the group takes it away, in the page and the cache.
    click(&chrome, "form[action$='/leave'] button").await;
    wait_for(&chrome, "//p[@id='no-permissions']").await;
    let answer: Value = app
        .get("/api/rest/permissions/cache?principal=grace", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!([]));
    chrome.close().await.unwrap();
}
