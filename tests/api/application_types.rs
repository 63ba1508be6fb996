//! Application types at creation (REST, CLI, console): each sets the
//! switches RFC 9700 advises; what the request sets wins; without a type the
//! REST API keeps Hub's defaults. The console's new-service form acts once
//! on a form sent twice, and every service page says how to connect.
use serde_json::{json, Value};

use crate::browser::location;
use crate::helpers::{idhub_command, spawn_app, TestApp, ADMIN_PASSWORD};

const SWITCHES: [&str; 7] = [
    "publicClient",
    "pkceRequired",
    "implicitFlowEnabled",
    "passwordFlowEnabled",
    "clientCredentialsFlowEnabled",
    "deviceFlowEnabled",
    "trusted",
];

fn switches(service: &Value) -> Vec<bool> {
    SWITCHES
        .iter()
        .map(|name| service[name].as_bool().unwrap_or_else(|| panic!("{name}")))
        .collect()
}

async fn created(app: &TestApp, body: Value) -> Value {
    let made = app.create_service(body).await;
    let id = made["id"].as_str().unwrap();
    app.get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_type_sets_its_switches_and_the_request_wins() {
    let app = spawn_app().await;
    //                public pkce  implicit password cc    device trusted
    let expected = [
        ("web", [false, true, false, false, false, false, false]),
        ("spa", [true, true, false, false, false, false, false]),
        ("native", [true, true, false, false, false, true, false]),
        ("machine", [false, true, false, false, true, false, true]),
        (
            "resource-server",
            [false, true, false, false, false, false, false],
        ),
    ];
    for (kind, switched) in expected {
        let service = created(&app, json!({"name": kind, "applicationType": kind})).await;
        assert_eq!(switches(&service), switched, "{kind}");
    }
    let hub = created(&app, json!({"name": "no type"})).await;
    assert_eq!(
        switches(&hub),
        [false, false, true, true, true, false, false],
        "Hub's defaults without a type"
    );
    let asked = created(
        &app,
        json!({"name": "asked", "applicationType": "spa", "implicitFlowEnabled": true}),
    )
    .await;
    assert_eq!(asked["implicitFlowEnabled"], true, "the request wins");
    assert_eq!(asked["publicClient"], true);

    let unknown = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "x", "applicationType": "desktop"}),
        )
        .await;
    assert_eq!(unknown.status(), 400);
    let id = hub["id"].as_str().unwrap();
    let later = app
        .post_json(
            &format!("/api/rest/services/{id}"),
            &app.admin_token,
            &json!({"applicationType": "spa"}),
        )
        .await;
    assert_eq!(later.status(), 400);
    let said: Value = later.json().await.unwrap();
    assert!(
        said.to_string().contains("when a service is created"),
        "{said}"
    );
}

#[tokio::test]
async fn a_machine_client_gets_tokens_as_created() {
    let app = spawn_app().await;
    let made = app
        .create_service(json!({"name": "nightly job", "applicationType": "machine"}))
        .await;
    let (id, secret) = (
        made["id"].as_str().unwrap(),
        made["secret"].as_str().unwrap(),
    );
    let token = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
}

fn cli(app: &TestApp, args: &[&str]) -> String {
    let output = idhub_command(&app.database).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "idhub {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_cli_creates_by_type_shows_and_updates_services() {
    let app = spawn_app().await;
    let made: Value = serde_json::from_str(&cli(
        &app,
        &[
            "services",
            "add",
            "--name",
            "Terminal app",
            "--type",
            "native",
            "--json",
        ],
    ))
    .unwrap();
    let id = made["id"].as_str().unwrap();
    let shown: Value =
        serde_json::from_str(&cli(&app, &["services", "show", id, "--json"])).unwrap();
    assert_eq!(shown["deviceFlowEnabled"], true);
    assert_eq!(shown["publicClient"], true);
    assert_eq!(shown["implicitFlowEnabled"], false);
    assert!(shown["created"].is_i64(), "Hub's milliseconds: {shown}");
    let text = cli(&app, &["services", "show", id]);
    assert!(text.contains("name: Terminal app"), "{text}");
    assert!(text.contains("deviceFlowEnabled"), "{text}");
    assert!(!text.contains("implicitFlowEnabled"), "{text}");

    let updated: Value = serde_json::from_str(&cli(
        &app,
        &[
            "services",
            "update",
            id,
            r#"{"name": "Renamed", "deviceFlowEnabled": false}"#,
        ],
    ))
    .unwrap();
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["deviceFlowEnabled"], false);
    let refused = idhub_command(&app.database)
        .args([
            "services",
            "update",
            id,
            r#"{"redirectUris": ["javascript:x"]}"#,
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "the REST API's checks apply");

    // One date format: JSON in Hub's milliseconds, text in ISO 8601 UTC.
    let keys = cli(&app, &["keys", "list", "--json"]);
    let key: Value = serde_json::from_str(keys.lines().next().unwrap()).unwrap();
    assert!(key["created"].is_i64(), "{key}");
    assert!(key.get("retiredAt").is_some(), "{key}");
    let listed = cli(&app, &["keys", "list"]);
    assert!(
        regex::Regex::new(r"created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
            .unwrap()
            .is_match(&listed),
        "{listed}"
    );
}

#[tokio::test]
async fn the_cli_deletes_users_but_not_the_guest() {
    let app = spawn_app().await;
    let id = app.create_user("leaving", "leaving-password").await;
    let said = cli(&app, &["users", "delete", "leaving"]);
    assert!(said.contains("deleted"), "{said}");
    let gone = app
        .get(&format!("/api/rest/users/{id}"), &app.admin_token)
        .await;
    assert_eq!(gone.status(), 404);
    let guest = idhub_command(&app.database)
        .args(["users", "delete", "guest"])
        .output()
        .unwrap();
    assert!(!guest.status.success());
    assert!(String::from_utf8_lossy(&guest.stderr).contains("ban it instead"));
}

async fn admin_browser(app: &TestApp) -> reqwest::Client {
    let admin = app.browser();
    let response = app.sign_in(&admin, "/login", "admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303);
    admin
}

/// The value of hidden input `name` on a page.
fn hidden(html: &str, name: &str) -> String {
    let pattern = regex::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
    pattern
        .captures(html)
        .unwrap_or_else(|| panic!("no {name}: {html}"))[1]
        .to_owned()
}

#[tokio::test]
async fn the_console_creates_by_type_once_and_says_how_to_connect() {
    let app = spawn_app().await;
    let admin = admin_browser(&app).await;
    let (_, form) = app.page(&admin, "/admin/services/new").await;
    assert!(
        form.contains(r#"id="type-web" name="application_type" value="web" checked"#),
        "{form}"
    );
    let fields = [
        ("csrf_token", hidden(&form, "csrf_token")),
        ("submission", hidden(&form, "submission")),
        ("name", "Browser app".to_owned()),
        ("application_type", "spa".to_owned()),
        ("redirect_uris", "https://spa.example/callback".to_owned()),
    ];
    let send = || admin.post(app.url("/admin/services")).form(&fields).send();
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let page = first.text().await.unwrap();
    assert!(page.contains("Connect your application"), "{page}");
    assert!(page.contains("oidc-client-ts"), "{page}");
    assert!(page.contains("https://spa.example/callback"));
    assert!(page.contains("/.well-known/openid-configuration"));

    let again = send().await.unwrap();
    assert_eq!(again.status(), 303, "a second sending creates nothing");
    let services: Value = app
        .get(
            "/api/rest/services?query=Browser&fields=id,name,publicClient",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    let found = services["services"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{services}");
    assert_eq!(found[0]["publicClient"], true);
    let id = found[0]["id"].as_str().unwrap();
    assert_eq!(location(&again), format!("/admin/services/{id}?sent=twice"));
    let (_, shown) = app.page(&admin, &location(&again)).await;
    assert!(shown.contains("sent twice"), "{shown}");
    assert!(shown.contains("Connect your application"));

    // A refused form comes back as sent, and may be sent again once mended.
    let mut bad = fields.clone();
    bad[1].1 = hidden(
        &app.page(&admin, "/admin/services/new").await.1,
        "submission",
    );
    bad[4].1 = "javascript:alert(1)".to_owned();
    let refused = admin
        .post(app.url("/admin/services"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r#"value="spa" checked"#), "{html}");
    bad[4].1 = "https://mended.example/cb".to_owned();
    bad[2].1 = "Mended app".to_owned();
    let mended = admin
        .post(app.url("/admin/services"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(mended.status(), 200);
}
