//! Hub's authorization model: permissions a service declares (itself or
//! through an admin), roles, projects with the built-in Global one, roles
//! granted in projects to users and groups, and the permission cache a
//! service asks, on this instance and on another one; the `groups` claim.
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const GLOBAL: &str = "0-0-0-0-0";

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body}");
    body
}

async fn admin_post(app: &TestApp, path: &str, body: Value) -> Value {
    ok_json(app.post_json(path, &app.admin_token, &body).await).await
}

fn id(entity: &Value) -> String {
    entity["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {entity}"))
        .to_owned()
}

/// A client-credentials token of the service for the Hub.
async fn service_token(app: &TestApp, service: &(String, String)) -> String {
    let body = app
        .token(
            &[("grant_type", "client_credentials")],
            (&service.0, &service.1),
        )
        .await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// The worked example of docs/authorization.md: a tracker service declares
/// `issue.read` and `issue.write`, a Developer role bundles both, a Reader
/// role `issue.read`; projects Alpha and Beta; groups Company > Engineering.
struct Example {
    tracker: (String, String),
    read: String,
    write: String,
    developer: String,
    reader: String,
    alpha: String,
    beta: String,
    company: String,
    engineering: String,
}

async fn example(app: &TestApp) -> Example {
    let tracker = app.service_with(json!({"trusted": true})).await;
    let token = service_token(app, &tracker).await;
    // The service declares its own permissions with its own token.
    let mut declared = Vec::new();
    for key in ["issue.read", "issue.write"] {
        let made = ok_json(
            app.post_json(
                "/api/rest/permissions",
                &token,
                &json!({"key": key, "name": key.replace('.', " ")}),
            )
            .await,
        )
        .await;
        assert_eq!(made["service"]["id"], tracker.0.as_str());
        declared.push(id(&made));
    }
    let developer = admin_post(
        app,
        "/api/rest/roles",
        json!({"key": "developer", "name": "Developer",
               "permissions": [{"id": declared[0]}, {"id": declared[1]}]}),
    )
    .await;
    assert_eq!(developer["permissions"].as_array().unwrap().len(), 2);
    let reader = admin_post(
        app,
        "/api/rest/roles",
        json!({"key": "reader", "permissions": [{"id": declared[0]}]}),
    )
    .await;
    let alpha = admin_post(
        app,
        "/api/rest/projects",
        json!({"key": "ALPHA", "name": "Alpha"}),
    )
    .await;
    let beta = admin_post(
        app,
        "/api/rest/projects",
        json!({"key": "BETA", "name": "Beta"}),
    )
    .await;
    let company = admin_post(app, "/api/rest/usergroups", json!({"name": "Company"})).await;
    let engineering = admin_post(
        app,
        "/api/rest/usergroups",
        json!({"name": "Engineering", "parent": {"id": id(&company)}}),
    )
    .await;
    Example {
        tracker,
        read: declared[0].clone(),
        write: declared[1].clone(),
        developer: id(&developer),
        reader: id(&reader),
        alpha: id(&alpha),
        beta: id(&beta),
        company: id(&company),
        engineering: id(&engineering),
    }
}

/// The permission cache as `token` reads it, with `query` appended.
async fn cache(app: &TestApp, token: &str, query: &str) -> Value {
    ok_json(
        app.get(&format!("/api/rest/permissions/cache{query}"), token)
            .await,
    )
    .await
}

/// (key, global, project keys) of each permission in a cache answer.
fn summary(answer: &Value) -> Vec<(String, bool, Vec<String>)> {
    answer
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|held| {
            (
                held["permission"]["key"].as_str().unwrap().to_owned(),
                held["global"].as_bool().unwrap(),
                held["projects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["key"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn held(key: &str, global: bool, projects: &[&str]) -> (String, bool, Vec<String>) {
    (
        key.to_owned(),
        global,
        projects.iter().map(|p| p.to_string()).collect(),
    )
}

#[tokio::test]
async fn the_cache_follows_groups_nesting_project_roles_and_global_roles() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let alice = app.create_user("alice", "alice-password").await;
    let alice_token = app.token_for("alice", "cache", &[GLOBAL]);
    assert_eq!(cache(&app, &alice_token, "").await, json!([]));

    // Engineering holds Developer in Alpha; Alice is in Engineering's
    // parent only, so not yet.
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/projectroles", model.engineering),
        json!({"role": {"id": model.developer}, "project": {"id": model.alpha}}),
    )
    .await;
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/users", model.company),
        json!({"id": alice}),
    )
    .await;
    assert_eq!(cache(&app, &alice_token, "").await, json!([]));

    // A subgroup of Engineering: its members hold Engineering's roles.
    let backend = admin_post(
        &app,
        "/api/rest/usergroups",
        json!({"name": "Backend", "parent": {"id": model.engineering}}),
    )
    .await;
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/users", id(&backend)),
        json!({"id": alice}),
    )
    .await;
    assert_eq!(
        summary(&cache(&app, &alice_token, "").await),
        vec![
            held("issue.read", false, &["ALPHA"]),
            held("issue.write", false, &["ALPHA"])
        ]
    );

    // Her own Reader role in Beta, and then Reader in Global.
    let own = admin_post(
        &app,
        &format!("/api/rest/users/{alice}/projectroles"),
        json!({"role": {"id": model.reader}, "project": {"id": model.beta}}),
    )
    .await;
    assert_eq!(own["owner"], json!({"type": "user", "id": alice}));
    admin_post(
        &app,
        &format!("/api/rest/users/{alice}/projectroles"),
        json!({"role": {"id": model.reader}}),
    )
    .await;
    let answer = cache(&app, &alice_token, "").await;
    assert_eq!(
        summary(&answer),
        vec![
            held("issue.read", true, &["ALPHA", "BETA"]),
            held("issue.write", false, &["ALPHA"])
        ]
    );
    assert_eq!(
        answer[0]["permission"]["service"]["id"],
        model.tracker.0.as_str()
    );
    assert_eq!(answer[0]["permission"]["id"], model.read.as_str());

    // query=service:ID narrows; another service's filter finds nothing.
    let narrowed = cache(
        &app,
        &alice_token,
        &format!("?query=service:{}", model.tracker.0),
    )
    .await;
    assert_eq!(summary(&narrowed).len(), 2);
    assert_eq!(
        cache(&app, &alice_token, &format!("?query=service:{GLOBAL}")).await,
        json!([])
    );
    let bad = app
        .get("/api/rest/permissions/cache?query=issue", &alice_token)
        .await;
    assert_eq!(bad.status(), 400);

    // Her own and transitive project roles say who holds each.
    let own_roles = ok_json(
        app.get("/api/rest/users/me/projectroles", &alice_token)
            .await,
    )
    .await;
    assert_eq!(own_roles["total"], 2);
    let transitive = ok_json(
        app.get("/api/rest/users/me/transitiveprojectroles", &alice_token)
            .await,
    )
    .await;
    assert_eq!(transitive["total"], 3, "{transitive}");
    assert!(transitive["projectroles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["owner"] == json!({"type": "usergroup", "id": model.engineering})));

    // A role edit shows at once: Developer loses issue.write.
    ok_json(
        app.delete(
            &format!(
                "/api/rest/roles/{}/permissions/{}",
                model.developer, model.write
            ),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        summary(&cache(&app, &alice_token, "").await),
        vec![held("issue.read", true, &["ALPHA", "BETA"])]
    );
    // So does leaving the group.
    ok_json(
        app.delete(
            &format!("/api/rest/usergroups/{}/users/{alice}", id(&backend)),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(
        summary(&cache(&app, &alice_token, "").await),
        vec![held("issue.read", true, &["BETA"])]
    );
}

#[tokio::test]
async fn services_own_their_permissions_and_only_admins_manage_the_rest() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let other = app.service_with(json!({"trusted": true})).await;
    let other_token = service_token(&app, &other).await;
    let tracker_token = service_token(&app, &model.tracker).await;

    // Another service cannot declare, see, change or delete the tracker's.
    let foreign = app
        .post_json(
            "/api/rest/permissions",
            &other_token,
            &json!({"key": "issue.delete", "service": {"id": model.tracker.0}}),
        )
        .await;
    assert_eq!(foreign.status(), 403);
    for response in [
        app.get(
            &format!("/api/rest/permissions/{}", model.read),
            &other_token,
        )
        .await,
        app.post_json(
            &format!("/api/rest/permissions/{}", model.read),
            &other_token,
            &json!({"name": "mine now"}),
        )
        .await,
        app.delete(
            &format!("/api/rest/permissions/{}", model.read),
            &other_token,
        )
        .await,
    ] {
        assert_eq!(response.status(), 404);
    }
    let own_list = ok_json(app.get("/api/rest/permissions", &other_token).await).await;
    assert_eq!(own_list["total"], 0);
    let tracker_list = ok_json(app.get("/api/rest/permissions", &tracker_token).await).await;
    assert_eq!(tracker_list["total"], 2);

    // Keys are unique within a service, not across services.
    let again = app
        .post_json(
            "/api/rest/permissions",
            &tracker_token,
            &json!({"key": "issue.read"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    ok_json(
        app.post_json(
            "/api/rest/permissions",
            &other_token,
            &json!({"key": "issue.read"}),
        )
        .await,
    )
    .await;
    let bad_key = app
        .post_json(
            "/api/rest/permissions",
            &tracker_token,
            &json!({"key": "has space"}),
        )
        .await;
    assert_eq!(bad_key.status(), 400);

    // Admins see every service's, and one service's by query.
    let all = ok_json(app.get("/api/rest/permissions", &app.admin_token).await).await;
    assert_eq!(all["total"], 3);
    let query = format!(
        "/api/rest/permissions?query=service:{}%20write",
        model.tracker.0
    );
    let one = ok_json(app.get(&query, &app.admin_token).await).await;
    assert_eq!(one["total"], 1, "{one}");

    // A user who is not an admin manages nothing and reads no one else's.
    let bob = app.create_user("bob", "bob-password").await;
    let bob_token = app.token_for("bob", "t", &[GLOBAL]);
    for response in [
        app.get("/api/rest/permissions", &bob_token).await,
        app.post_json(
            "/api/rest/permissions",
            &bob_token,
            &json!({"key": "x", "service": {"id": model.tracker.0}}),
        )
        .await,
        app.get("/api/rest/roles", &bob_token).await,
        app.post_json("/api/rest/roles", &bob_token, &json!({"key": "boss"}))
            .await,
        app.get("/api/rest/projects", &bob_token).await,
        app.post_json("/api/rest/projects", &bob_token, &json!({"key": "MINE"}))
            .await,
        app.post_json(
            &format!("/api/rest/users/{bob}/projectroles"),
            &bob_token,
            &json!({"role": {"id": model.developer}}),
        )
        .await,
        app.get(
            &format!("/api/rest/users/{}/projectroles", model.tracker.0),
            &bob_token,
        )
        .await,
        app.get(
            &format!("/api/rest/permissions/cache?principal={}", "admin"),
            &bob_token,
        )
        .await,
        app.get(
            &format!("/api/rest/usergroups/{}/projectroles", model.company),
            &bob_token,
        )
        .await,
    ] {
        assert_eq!(response.status(), 403, "{}", response.url());
    }
    // A service's own token is not a user's: it may not use the user resources.
    let refused = app.get("/api/rest/roles", &tracker_token).await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn trusted_services_and_admins_ask_for_another_user() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let carol = app.create_user("carol", "carol-password").await;
    admin_post(
        &app,
        &format!("/api/rest/users/{carol}/projectroles"),
        json!({"role": {"id": model.developer}, "project": {"id": model.alpha}}),
    )
    .await;
    let expected = vec![
        held("issue.read", false, &["ALPHA"]),
        held("issue.write", false, &["ALPHA"]),
    ];
    let tracker_token = service_token(&app, &model.tracker).await;
    for principal in [carol.as_str(), "carol"] {
        let answer = cache(&app, &tracker_token, &format!("?principal={principal}")).await;
        assert_eq!(summary(&answer), expected);
        let answer = cache(&app, &app.admin_token, &format!("?principal={principal}")).await;
        assert_eq!(summary(&answer), expected);
    }
    let nobody = app
        .get(
            "/api/rest/permissions/cache?principal=nobody",
            &tracker_token,
        )
        .await;
    assert_eq!(nobody.status(), 400);
    // A service's token acts for no user of its own.
    let unnamed = app.get("/api/rest/permissions/cache", &tracker_token).await;
    assert_eq!(unnamed.status(), 400);
    // A service distrusted since its token was issued may no longer ask.
    admin_post(
        &app,
        &format!("/api/rest/services/{}", model.tracker.0),
        json!({"trusted": false}),
    )
    .await;
    let refused = app
        .get(
            "/api/rest/permissions/cache?principal=carol",
            &tracker_token,
        )
        .await;
    assert!(
        [401, 403].contains(&refused.status().as_u16()),
        "{}",
        refused.status()
    );
}

#[tokio::test]
async fn deletes_cascade_and_the_global_project_stays() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let dave = app.create_user("dave", "dave-password").await;
    let dave_token = app.token_for("dave", "t", &[GLOBAL]);
    for (role, project) in [
        (&model.developer, &model.alpha),
        (&model.reader, &model.beta),
    ] {
        admin_post(
            &app,
            &format!("/api/rest/users/{dave}/projectroles"),
            json!({"role": {"id": role}, "project": {"id": project}}),
        )
        .await;
    }
    let projects = ok_json(app.get("/api/rest/projects", &app.admin_token).await).await;
    assert_eq!(projects["projects"][0]["id"], GLOBAL);
    assert_eq!(projects["projects"][0]["global"], true);
    let global = app
        .delete(&format!("/api/rest/projects/{GLOBAL}"), &app.admin_token)
        .await;
    assert_eq!(global.status(), 403);

    // Deleting a project takes the roles granted in it.
    ok_json(
        app.delete(
            &format!("/api/rest/projects/{}", model.beta),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let roles = ok_json(
        app.get(
            &format!("/api/rest/users/{dave}/projectroles"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(roles["total"], 1);
    // Deleting a role takes its grants.
    ok_json(
        app.delete(
            &format!("/api/rest/roles/{}", model.developer),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let roles = ok_json(
        app.get(
            &format!("/api/rest/users/{dave}/projectroles"),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(roles["total"], 0);
    assert_eq!(cache(&app, &dave_token, "").await, json!([]));

    // Deleting a service takes its permissions, and the roles lose them.
    admin_post(
        &app,
        &format!("/api/rest/users/{dave}/projectroles"),
        json!({"role": {"id": model.reader}, "project": {"id": model.alpha}}),
    )
    .await;
    assert_eq!(summary(&cache(&app, &dave_token, "").await).len(), 1);
    ok_json(
        app.delete(
            &format!("/api/rest/services/{}", model.tracker.0),
            &app.admin_token,
        )
        .await,
    )
    .await;
    let gone = app
        .get(
            &format!("/api/rest/permissions/{}", model.read),
            &app.admin_token,
        )
        .await;
    assert_eq!(gone.status(), 404);
    let reader = ok_json(
        app.get(
            &format!("/api/rest/roles/{}", model.reader),
            &app.admin_token,
        )
        .await,
    )
    .await;
    assert_eq!(reader["permissions"], json!([]));
    assert_eq!(cache(&app, &dave_token, "").await, json!([]));

    // Deleting a group takes its project roles; deleting a user, theirs.
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/projectroles", model.engineering),
        json!({"role": {"id": model.reader}}),
    )
    .await;
    ok_json(
        app.delete(
            &format!("/api/rest/usergroups/{}", model.engineering),
            &app.admin_token,
        )
        .await,
    )
    .await;
    ok_json(
        app.delete(&format!("/api/rest/users/{dave}"), &app.admin_token)
            .await,
    )
    .await;
    let mut conn = app.pool.get().unwrap();
    use diesel::prelude::*;
    let left: i64 = idhub::db::schema::project_roles::table
        .count()
        .get_result(&mut **conn)
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn roles_replace_add_and_remove_permissions_and_changes_are_audited() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let path = format!("/api/rest/roles/{}", model.reader);
    let replaced = admin_post(&app, &path, json!({"permissions": [{"id": model.write}]})).await;
    let keys = |role: &Value| -> Vec<String> {
        role["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&replaced), vec!["issue.write"]);
    let added = admin_post(
        &app,
        &format!("{path}/permissions"),
        json!({"id": model.read}),
    )
    .await;
    assert_eq!(keys(&added), vec!["issue.read", "issue.write"]);
    let twice = admin_post(
        &app,
        &format!("{path}/permissions"),
        json!({"id": model.read}),
    )
    .await;
    assert_eq!(keys(&twice).len(), 2);
    let listed = ok_json(
        app.get(&format!("{path}/permissions"), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(listed["total"], 2);
    let missing = app
        .post_json(
            &path,
            &app.admin_token,
            &json!({"permissions": [{"id": "no-such"}]}),
        )
        .await;
    assert_eq!(missing.status(), 400);
    let renamed = admin_post(&app, &path, json!({"name": "Readers"})).await;
    assert_eq!(renamed["key"], "reader");
    assert_eq!(keys(&renamed).len(), 2, "a rename keeps the permissions");
    let taken = app
        .post_json(
            "/api/rest/roles",
            &app.admin_token,
            &json!({"key": "READER"}),
        )
        .await;
    assert_eq!(taken.status(), 409);

    let events = ok_json(
        app.get("/api/rest/auditevents?$top=200", &app.admin_token)
            .await,
    )
    .await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for kind in [
        "permission.created",
        "role.created",
        "role.updated",
        "project.created",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
}

#[tokio::test]
async fn another_instance_sees_a_membership_change_in_its_next_answers() {
    let app = spawn_app().await;
    let other = crate::helpers::start_instance(&app.database, |_| {});
    let model = example(&app).await;
    let erin = app.create_user("erin", "erin-password").await;
    let erin_token = app.token_for("erin", "t", &[GLOBAL]);
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/projectroles", model.company),
        json!({"role": {"id": model.developer}, "project": {"id": model.alpha}}),
    )
    .await;
    let at_other = || async {
        let response = app
            .client
            .get(format!("{other}/api/rest/permissions/cache"))
            .bearer_auth(&erin_token)
            .send()
            .await
            .unwrap();
        ok_json(response).await
    };
    // Cached there: nothing yet.
    assert_eq!(at_other().await, json!([]));
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/users", model.company),
        json!({"id": erin}),
    )
    .await;
    // The change feed carries it within milliseconds; a second at most.
    let started = std::time::Instant::now();
    loop {
        let answer = at_other().await;
        if summary(&answer).len() == 2 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "the other instance still answers {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // A role edit (shared structure) travels the same way.
    admin_post(
        &app,
        &format!("/api/rest/roles/{}", model.developer),
        json!({"permissions": []}),
    )
    .await;
    let started = std::time::Instant::now();
    while at_other().await != json!([]) {
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn the_groups_scope_puts_transitive_group_names_in_id_tokens_and_userinfo() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let frank = app.create_user("frank", "frank-password").await;
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{}/users", model.engineering),
        json!({"id": frank}),
    )
    .await;
    let (client, secret) = app.service_with(json!({"trusted": true})).await;
    let issued = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "frank"),
                ("password", "frank-password"),
                ("scope", "openid groups"),
            ],
            (&client, &secret),
        )
        .await;
    let id_token = issued["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{issued}"));
    let claims = crate::helpers::peek(id_token, 1);
    assert_eq!(claims["groups"], json!(["Company", "Engineering"]));
    let info: Value = app
        .userinfo(issued["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["groups"], json!(["Company", "Engineering"]));
    // Without the scope, no claim.
    let plain = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "frank"),
                ("password", "frank-password"),
                ("scope", "openid"),
            ],
            (&client, &secret),
        )
        .await;
    let claims = crate::helpers::peek(plain["id_token"].as_str().unwrap(), 1);
    assert!(claims.get("groups").is_none());
    let discovery: Value = app.public_json("/.well-known/openid-configuration").await;
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("groups")));
}

#[tokio::test]
async fn bounds_hold_for_queries_filters_distrusted_services_and_nesting() {
    let app = spawn_app().await;
    let model = example(&app).await;
    let tracker_token = service_token(&app, &model.tracker).await;
    let heidi = app.create_user("heidi", "heidi-password").await;
    let heidi_token = app.token_for("heidi", "t", &[GLOBAL]);

    // A search the databases could not run is a 400, not a 500.
    let words = vec!["a"; 17].join("%20");
    for path in [
        "/api/rest/permissions",
        "/api/rest/roles",
        "/api/rest/projects",
    ] {
        let response = app
            .get(&format!("{path}?query={words}"), &app.admin_token)
            .await;
        assert_eq!(response.status(), 400, "{path}");
    }
    let long = "x".repeat(300);
    let response = app
        .get(
            &format!("/api/rest/permissions/cache?query=service:{long}"),
            &heidi_token,
        )
        .await;
    assert_eq!(response.status(), 400);
    // A service that declares nothing holds nothing.
    assert_eq!(
        cache(&app, &heidi_token, "?query=service:made-up").await,
        json!([])
    );
    // Users name themselves as they like.
    for me in ["me", "heidi", heidi.as_str()] {
        assert_eq!(
            cache(&app, &heidi_token, &format!("?principal={me}")).await,
            json!([])
        );
    }

    // Nesting counts the subtree that moves: a chain of 31 takes a group
    // without subgroups at its foot, not one with a subgroup.
    let mut parent: Option<String> = None;
    for level in 0..31 {
        let body = match &parent {
            Some(id) => json!({"name": format!("level-{level}"), "parent": {"id": id}}),
            None => json!({"name": format!("level-{level}")}),
        };
        parent = Some(id(&admin_post(&app, "/api/rest/usergroups", body).await));
    }
    let foot = parent.unwrap();
    let top = id(&admin_post(&app, "/api/rest/usergroups", json!({"name": "movable"})).await);
    admin_post(
        &app,
        "/api/rest/usergroups",
        json!({"name": "below", "parent": {"id": top}}),
    )
    .await;
    let refused = app
        .post_json(
            &format!("/api/rest/usergroups/{top}"),
            &app.admin_token,
            &json!({"parent": {"id": foot}}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let leaf = id(&admin_post(&app, "/api/rest/usergroups", json!({"name": "leaf"})).await);
    admin_post(
        &app,
        &format!("/api/rest/usergroups/{leaf}"),
        json!({"parent": {"id": foot}}),
    )
    .await;

    // A distrusted service no longer manages its permissions.
    admin_post(
        &app,
        &format!("/api/rest/services/{}", model.tracker.0),
        json!({"trusted": false}),
    )
    .await;
    let refused = app
        .post_json(
            "/api/rest/permissions",
            &tracker_token,
            &json!({"key": "issue.close"}),
        )
        .await;
    assert!(
        [401, 403].contains(&refused.status().as_u16()),
        "{}",
        refused.status()
    );
}
