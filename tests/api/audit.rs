//! The audit trail: admin changes, sign-ins, tokens issued, replays and
//! revocations are recorded with who, what and from where, never a secret;
//! `GET /api/rest/auditevents` lists them for admins only.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

async fn events(app: &TestApp, query: &str) -> Value {
    let url = format!("/api/rest/auditevents?query={}", urlencode(query));
    let response = app.get(&url, &app.admin_token).await;
    assert_eq!(response.status(), 200, "audit list");
    response.json().await.expect("json")
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Events written off the request path appear within moments: wait for them.
async fn eventually(app: &TestApp, query: &str, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = events(app, query).await;
        let seen = found["events"].as_array().map_or(0, Vec::len);
        if seen >= count || Instant::now() > deadline {
            assert_eq!(seen, count, "events for '{query}': {found}");
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn types(found: &Value) -> Vec<String> {
    found["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn admin_id(app: &TestApp) -> String {
    let me: Value = app
        .get("/api/rest/users/me", &app.admin_token)
        .await
        .json()
        .await
        .expect("json");
    me["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn admin_changes_to_services_are_recorded_with_who_and_from_where() {
    let app = spawn_app().await;
    let admin = admin_id(&app).await;
    let service = app
        .create_service(json!({"name": "Audited", "redirectUris": ["https://a.example/cb"]}))
        .await;
    let id = service["id"].as_str().expect("id").to_owned();
    let secret = service["secret"].as_str().expect("secret").to_owned();
    let path = format!("/api/rest/services/{id}");
    let trusted = app
        .post_json(
            &path,
            &app.admin_token,
            &json!({"trusted": true, "name": "Audited 2"}),
        )
        .await;
    assert_eq!(trusted.status(), 200);
    let reset = app
        .post_json(&format!("{path}/secret"), &app.admin_token, &json!({}))
        .await;
    let new_secret: Value = reset.json().await.expect("json");
    assert_eq!(app.delete(&path, &app.admin_token).await.status(), 200);

    let found = events(&app, &format!("service: {id}")).await;
    assert_eq!(
        types(&found),
        [
            "service.deleted",
            "service.secret_reset",
            "service.trusted",
            "service.updated",
            "service.created"
        ],
        "newest first: {found}"
    );
    assert_eq!(found["total"], 5);
    for event in found["events"].as_array().expect("events") {
        assert_eq!(event["actor"], admin.as_str(), "{event}");
        assert_eq!(event["serviceId"], id.as_str());
        assert_eq!(event["ip"], "127.0.0.1");
        assert!(event["timestamp"].as_i64().unwrap_or(0) > 1_700_000_000_000);
    }
    assert_eq!(found["events"][3]["details"]["fields"], json!(["name"]));
    let text = found.to_string();
    assert!(!text.contains(&secret), "no secret in the trail");
    assert!(!text.contains(new_secret["secret"].as_str().expect("secret")));
}

#[tokio::test]
async fn sign_ins_bans_and_tokens_are_recorded_without_secrets() {
    let app = spawn_app().await;
    let user = app.create_user("carol", "carol-password").await;
    let (client_id, client_secret) = app
        .service_with(json!({"name": "Scripts", "passwordFlowEnabled": true}))
        .await;
    let wrong = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "not-carols-password"),
            ],
            Some((&client_id, &client_secret)),
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let issued = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "carol-password"),
            ],
            (&client_id, &client_secret),
        )
        .await;
    let access_token = issued["access_token"].as_str().expect("token").to_owned();
    let banned = app
        .post_json(
            &format!("/api/rest/users/{user}"),
            &app.admin_token,
            &json!({"banned": true}),
        )
        .await;
    assert_eq!(banned.status(), 200);

    let failed = events(&app, &format!("type: signin.failed user: {user}")).await;
    assert_eq!(failed["total"], 1, "{failed}");
    let failure = &failed["events"][0];
    assert_eq!(
        failure["actor"],
        Value::Null,
        "the one who failed is unknown"
    );
    assert_eq!(failure["serviceId"], client_id.as_str());
    assert_eq!(failure["details"]["reason"], "wrong_credentials");
    assert_eq!(failure["details"]["via"], "password_grant");

    let trail = eventually(&app, &format!("user: {user}"), 5).await;
    // Listed as recorded; a queued event (the token) may land after the ban.
    let mut recorded = types(&trail);
    recorded.sort();
    assert_eq!(
        recorded,
        [
            "signin.failed",
            "signin.succeeded",
            "token.issued",
            "user.banned",
            "user.created"
        ],
        "{trail}"
    );
    let token_issued = events(&app, &format!("type: token.issued user: {user}")).await;
    let token_issued = &token_issued["events"][0];
    assert_eq!(token_issued["details"]["grantType"], "password");
    assert_eq!(token_issued["actor"], user.as_str());
    let text = trail.to_string();
    for secret in [
        "carol-password",
        "not-carols-password",
        client_secret.as_str(),
        access_token.as_str(),
    ] {
        assert!(!text.contains(secret), "'{secret}' is not in the trail");
    }
}

#[tokio::test]
async fn client_credentials_tokens_and_refresh_reuse_are_recorded() {
    let app = spawn_app().await;
    let (client_id, secret) = app
        .service_with(json!({"name": "Batch", "trusted": true}))
        .await;
    for _ in 0..3 {
        app.token(
            &[("grant_type", "client_credentials")],
            (&client_id, &secret),
        )
        .await;
    }
    let found = eventually(&app, &format!("type: token.issued service: {client_id}"), 3).await;
    let event = &found["events"][0];
    assert_eq!(
        event["actor"],
        client_id.as_str(),
        "the service acted alone"
    );
    assert_eq!(event["userId"], Value::Null);
    assert_eq!(event["details"]["grantType"], "client_credentials");

    app.create_user("dave", "dave-password").await;
    let (public_id, public_secret) = app
        .service_with(json!({"name": "Offline", "passwordFlowEnabled": true}))
        .await;
    let first = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "dave"),
                ("password", "dave-password"),
                ("access_type", "offline"),
            ],
            (&public_id, &public_secret),
        )
        .await;
    let refresh = first["refresh_token"].as_str().expect("refresh token");
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    app.token(&form, (&public_id, &public_secret)).await;
    let reused = app
        .oauth_post("token", &form, Some((&public_id, &public_secret)))
        .await;
    assert_eq!(reused.status(), 400);
    let access = first["access_token"].as_str().expect("access token");
    for _ in 0..2 {
        let revoked = app
            .oauth_post(
                "revoke",
                &[("token", access)],
                Some((&public_id, &public_secret)),
            )
            .await;
        assert_eq!(revoked.status(), 200);
    }
    let found = events(&app, "type: token.revoked").await;
    assert_eq!(
        found["total"], 1,
        "a second revocation changes nothing: {found}"
    );
    assert_eq!(found["events"][0]["details"]["tokenType"], "access_token");
    let found = events(&app, "type: refresh_token.reused").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["events"][0]["serviceId"], public_id.as_str());
    assert!(found["events"][0]["details"]["grantId"].is_string());
}

#[tokio::test]
async fn the_list_pages_filters_and_is_for_admins_only() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.create_user(&format!("paged{n}"), "paged-password")
            .await;
    }
    let first = events(&app, "type: user.created").await;
    // The first start's admin and guest, and the five above.
    assert_eq!(first["total"], 7, "{first}");
    let page: Value = app
        .get(
            "/api/rest/auditevents?query=type:%20user.created&$top=2",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["events"].as_array().map(Vec::len), Some(2));
    let last_id = page["events"][1]["id"].as_str().expect("id");
    let next: Value = app
        .get(
            &format!("/api/rest/auditevents?query=type:%20user.created&$top=2&$after={last_id}"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(next["events"][0]["id"], first["events"][2]["id"], "{next}");
    let system = events(&app, "actor: system").await;
    assert!(system["total"].as_i64().unwrap_or(0) >= 3, "{system}");

    let refused = app
        .get(
            "/api/rest/auditevents?query=type:%20nothing",
            &app.admin_token,
        )
        .await;
    assert_error(refused, 400, Some("query")).await;
    let refused = app
        .get("/api/rest/auditevents?$after=x", &app.admin_token)
        .await;
    assert_error(refused, 400, Some("$after")).await;

    app.create_user("nosy", "nosy-password").await;
    let nosy = app.token_for("nosy", "mine", &["0-0-0-0-0"]);
    let forbidden = app.get("/api/rest/auditevents", &nosy).await;
    assert_eq!(forbidden.status(), 403);
}

#[tokio::test]
async fn the_cli_records_its_changes_and_tails_the_trail() {
    let app = spawn_app().await;
    let run = |args: &[&str]| app.cli(args);
    let added = run(&["services", "add", "--name", "From the CLI", "--json"]);
    let id = serde_json::from_str::<Value>(&added).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    run(&["services", "trust", &id]);
    let tail = run(&["audit", "tail", "-n", "2"]);
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 2, "{tail}");
    assert!(lines[0].contains(" service.created actor=cli"), "{tail}");
    assert!(lines[1].contains(" service.trusted actor=cli"), "{tail}");
    assert!(lines[1].contains(&format!("service={id}")), "{tail}");
    let as_json = run(&[
        "audit",
        "tail",
        "--query",
        "type: service.trusted",
        "--json",
    ]);
    let event: Value = serde_json::from_str(as_json.trim()).expect("one JSON line");
    assert_eq!(event["serviceId"], id.as_str());
    let found = events(&app, &format!("actor: cli service: {id}")).await;
    assert_eq!(
        found["total"], 2,
        "the server sees the CLI's events: {found}"
    );
}
