//! `/api/rest/authmodules`: admins create, list, change and delete the
//! modules that sign users in through other providers and directories;
//! each kind needs its fields, secrets are write-only, group mappings
//! name existing groups, every change is audited.
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn group(app: &TestApp, name: &str) -> String {
    let created: Value = app
        .post_json(
            "/api/rest/usergroups",
            &app.admin_token,
            &json!({"name": name}),
        )
        .await
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/api/rest/authmodules", &app.admin_token, &body)
        .await
}

#[tokio::test]
async fn admins_create_list_change_and_delete_auth_modules() {
    let app = spawn_app().await;
    let engineers = group(&app, "Engineers").await;
    let secret = "upstream-client-secret-1";
    crate::run_log::saw(secret);
    let created = create(
        &app,
        json!({"name": "Corp SSO", "type": "oidc", "issuer": "https://sso.example.com",
               "clientId": "idhub", "clientSecret": secret, "order": 2,
               "groupMappings": [{"external": "eng", "group": {"id": engineers}}]}),
    )
    .await;
    assert_eq!(created.status(), 200);
    let text = created.text().await.unwrap();
    assert!(!text.contains(secret), "the secret is never shown: {text}");
    let module: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(module["type"], "oidc");
    assert_eq!(module["issuer"], "https://sso.example.com");
    assert_eq!(module["scopes"], "openid email profile");
    assert_eq!(module["secretSet"], true);
    assert_eq!(module["enabled"], true);
    assert_eq!(module["autoCreateUsers"], false);
    assert_eq!(
        module["groupMappings"],
        json!([{"external": "eng", "group": {"id": engineers}}])
    );
    let id = module["id"].as_str().unwrap().to_owned();

    let directory = create(
        &app,
        json!({"name": "Directory", "type": "ldap", "url": "ldap://127.0.0.1:3890",
               "baseDn": "ou=people,dc=example,dc=org", "userFilter": "(uid={login})",
               "bindDn": "cn=reader,dc=example,dc=org", "bindPassword": "reader-pass"}),
    )
    .await;
    assert_eq!(directory.status(), 200);
    let directory: Value = directory.json().await.unwrap();
    assert_eq!(directory["loginAttribute"], "uid");
    assert_eq!(directory["emailAttribute"], "mail");
    assert!(directory.get("issuer").is_none(), "{directory}");

    // Listed in their order: the directory (0) before Corp SSO (2).
    let listed: Value = app
        .get("/api/rest/authmodules", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed["authmodules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Directory", "Corp SSO"]);
    assert_eq!(listed["total"], 2);

    // Changes: a field sent replaces the stored one, the rest stay; an
    // empty secret removes it; the type never changes.
    let path = format!("/api/rest/authmodules/{id}");
    let changed: Value = app
        .post_json(
            &path,
            &app.admin_token,
            &json!({"issuer": "https://sso2.example.com", "clientSecret": ""}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["issuer"], "https://sso2.example.com");
    assert_eq!(changed["clientId"], "idhub");
    assert_eq!(changed["secretSet"], false);
    assert_eq!(changed["groupMappings"].as_array().map(Vec::len), Some(1));
    for (body, field) in [
        (json!({"type": "ldap"}), "type"),
        (json!({"issuer": "not a url"}), "issuer"),
        (json!({"colour": "red"}), "colour"),
        (
            json!({"groupMappings": [{"external": "x", "group": {"id": "nope"}}]}),
            "groupMappings",
        ),
        (json!({"name": ""}), "name"),
    ] {
        let refused = app.post_json(&path, &app.admin_token, &body).await;
        assert_error(refused, 400, Some(field)).await;
    }
    let taken = app
        .post_json(&path, &app.admin_token, &json!({"name": "Directory"}))
        .await;
    assert_error(taken, 409, Some("name")).await;

    // Each kind needs its fields.
    for (body, field) in [
        (
            json!({"name": "A", "type": "ldap", "url": "ldap://h", "baseDn": "dc=x", "userFilter": "(uid=ada)"}),
            "userFilter",
        ),
        (
            json!({"name": "B", "type": "ldap", "url": "http://h", "baseDn": "dc=x", "userFilter": "(uid={login})"}),
            "url",
        ),
        (
            json!({"name": "C", "type": "oauth2", "clientId": "x", "tokenUrl": "https://h/t", "userInfoUrl": "https://h/u"}),
            "authorizationUrl",
        ),
        (
            json!({"name": "D", "type": "oidc", "issuer": "https://h"}),
            "clientId",
        ),
        (json!({"name": "E", "type": "saml"}), "type"),
    ] {
        let refused = create(&app, body.clone()).await;
        assert_eq!(refused.status(), 400, "{body}");
        let said: Value = refused.json().await.unwrap();
        assert!(said.to_string().contains(field), "{body}: {said}");
    }

    // Admins only.
    app.create_user("ann", "ann-password").await;
    let ann = app.token_for("ann", "t", &["0-0-0-0-0"]);
    assert_eq!(app.get("/api/rest/authmodules", &ann).await.status(), 403);

    // Deleted, with its mappings; audited all along.
    assert!(app
        .delete(&path, &app.admin_token)
        .await
        .status()
        .is_success());
    assert_eq!(app.get(&path, &app.admin_token).await.status(), 404);
    let audit: Value = app
        .get(
            "/api/rest/auditevents?query=type%3A%20authmodule.created",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"].as_array().map(Vec::len), Some(2), "{audit}");
    assert!(!audit.to_string().contains(secret));
}
