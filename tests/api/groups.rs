//! User groups (`/api/rest/usergroups`): nesting without cycles, members,
//! a user's direct and transitive groups, who may read them, deletes, the
//! audit trail and concurrent membership changes.
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{body}");
    body
}

/// `path` read as the admin; it must answer 200.
async fn admin_json(app: &TestApp, path: &str) -> Value {
    ok_json(app.get(path, &app.admin_token).await).await
}

async fn group(app: &TestApp, name: &str, parent: Option<&str>) -> String {
    let body = match parent {
        Some(id) => json!({"name": name, "parent": {"id": id}}),
        None => json!({"name": name}),
    };
    let created = ok_json(
        app.post_json("/api/rest/usergroups", &app.admin_token, &body)
            .await,
    )
    .await;
    created["id"].as_str().unwrap().to_owned()
}

async fn add(app: &TestApp, group: &str, user: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/rest/usergroups/{group}/users"),
        &app.admin_token,
        &json!({ "id": user }),
    )
    .await
}

fn names(list: &Value) -> Vec<String> {
    list["usergroups"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn groups_nest_without_cycles_and_users_inherit_their_ancestors() {
    let app = spawn_app().await;
    let company = group(&app, "Company", None).await;
    let engineering = group(&app, "Engineering", Some(&company)).await;
    let backend = group(&app, "Backend", Some(&engineering)).await;
    let shown = admin_json(&app, &format!("/api/rest/usergroups/{backend}")).await;
    assert_eq!(shown["parent"]["id"], engineering.as_str());
    assert!(shown["created"].is_i64());

    // No cycles: not itself, not one of its own subgroups; nor a missing parent.
    for parent in [&company, &backend] {
        let refused = app
            .post_json(
                &format!("/api/rest/usergroups/{company}"),
                &app.admin_token,
                &json!({"parent": {"id": parent}}),
            )
            .await;
        assert_eq!(refused.status(), 400);
        let said: Value = refused.json().await.unwrap();
        assert_eq!(said["error_field"], "parent", "{said}");
    }
    let orphan = app
        .post_json(
            "/api/rest/usergroups",
            &app.admin_token,
            &json!({"name": "Orphan", "parent": {"id": "no-such-group"}}),
        )
        .await;
    assert_eq!(orphan.status(), 400);
    let twin = app
        .post_json(
            "/api/rest/usergroups",
            &app.admin_token,
            &json!({"name": "company"}),
        )
        .await;
    assert_eq!(twin.status(), 409, "names are unique whatever their case");

    let carol = app.create_user("carol", "carol-password").await;
    ok_json(add(&app, &backend, &carol).await).await;
    ok_json(add(&app, &backend, &carol).await).await;
    let members = admin_json(&app, &format!("/api/rest/usergroups/{backend}/users")).await;
    assert_eq!(members["total"], 1, "adding twice is one membership");
    assert_eq!(members["users"][0]["login"], "carol");

    let carol_token = app.token_for("carol", "groups", &["0-0-0-0-0"]);
    let direct = ok_json(app.get("/api/rest/users/me/groups", &carol_token).await).await;
    assert_eq!(names(&direct), ["Backend"]);
    let transitive = ok_json(
        app.get(
            &format!("/api/rest/users/{carol}/transitivegroups"),
            &carol_token,
        )
        .await,
    )
    .await;
    assert_eq!(names(&transitive), ["Backend", "Company", "Engineering"]);

    // Moving a group moves its members' ancestry with it; null is top level.
    ok_json(
        app.post_json(
            &format!("/api/rest/usergroups/{backend}"),
            &app.admin_token,
            &json!({"parent": null, "description": "no longer in engineering"}),
        )
        .await,
    )
    .await;
    let transitive = admin_json(&app, &format!("/api/rest/users/{carol}/transitivegroups")).await;
    assert_eq!(names(&transitive), ["Backend"]);
}

#[tokio::test]
async fn only_admins_manage_groups_and_users_read_only_their_own() {
    let app = spawn_app().await;
    let team = group(&app, "Team", None).await;
    let dave = app.create_user("dave", "dave-password").await;
    let erin = app.create_user("erin", "erin-password").await;
    let dave_token = app.token_for("dave", "groups", &["0-0-0-0-0"]);
    for (status, response) in [
        (403, app.get("/api/rest/usergroups", &dave_token).await),
        (
            403,
            app.post_json(
                "/api/rest/usergroups",
                &dave_token,
                &json!({"name": "Mine"}),
            )
            .await,
        ),
        (403, add_as(&app, &dave_token, &team, &dave).await),
        (
            403,
            app.get(&format!("/api/rest/users/{erin}/groups"), &dave_token)
                .await,
        ),
        (
            200,
            app.get("/api/rest/users/me/transitivegroups", &dave_token)
                .await,
        ),
    ] {
        assert_eq!(response.status(), status);
    }
}

async fn add_as(app: &TestApp, token: &str, group: &str, user: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/rest/usergroups/{group}/users"),
        token,
        &json!({ "id": user }),
    )
    .await
}

#[tokio::test]
async fn deletes_keep_subtrees_and_take_memberships_along() {
    let app = spawn_app().await;
    let parent = group(&app, "Parent", None).await;
    let child = group(&app, "Child", Some(&parent)).await;
    let frank = app.create_user("frank", "frank-password").await;
    ok_json(add(&app, &child, &frank).await).await;

    let refused = app
        .delete(&format!("/api/rest/usergroups/{parent}"), &app.admin_token)
        .await;
    assert_eq!(refused.status(), 409, "a group with subgroups stays");
    let removed = app
        .delete(
            &format!("/api/rest/usergroups/{child}/users/{frank}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(removed.status(), 200);
    let again = app
        .delete(
            &format!("/api/rest/usergroups/{child}/users/{frank}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(again.status(), 404);
    ok_json(add(&app, &child, &frank).await).await;
    let deleted = app
        .delete(&format!("/api/rest/usergroups/{child}"), &app.admin_token)
        .await;
    assert_eq!(deleted.status(), 200);
    let groups = admin_json(&app, &format!("/api/rest/users/{frank}/groups")).await;
    assert_eq!(groups["usergroups"], json!([]));
    ok_json(
        app.delete(&format!("/api/rest/usergroups/{parent}"), &app.admin_token)
            .await,
    )
    .await;

    // A deleted user leaves their groups.
    let team = group(&app, "Team", None).await;
    let gone = app.create_user("gone", "gone-password").await;
    ok_json(add(&app, &team, &gone).await).await;
    ok_json(
        app.delete(&format!("/api/rest/users/{gone}"), &app.admin_token)
            .await,
    )
    .await;
    let members = admin_json(&app, &format!("/api/rest/usergroups/{team}/users")).await;
    assert_eq!(members["total"], 0);

    assert_eq!(audited(&app, "type: group.member_added").await, 3);
}

/// How many audit events `query` finds.
async fn audited(app: &TestApp, query: &str) -> usize {
    let path = format!(
        "/api/rest/auditevents?query={}",
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    );
    let events = admin_json(app, &path).await;
    events["events"].as_array().map_or(0, Vec::len)
}

/// Sends `requests` (method, path, body) at once, as the admin; their statuses.
async fn all_at_once(app: &TestApp, requests: Vec<(reqwest::Method, String, Value)>) -> Vec<u16> {
    let mut running = tokio::task::JoinSet::new();
    for (method, path, body) in requests {
        let request = app
            .client
            .request(method, app.url(&path))
            .bearer_auth(&app.admin_token)
            .json(&body);
        running.spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    }
    let mut statuses = Vec::new();
    while let Some(done) = running.join_next().await {
        statuses.push(done.unwrap().unwrap());
    }
    statuses
}

#[tokio::test]
async fn twenty_concurrent_membership_changes_count_exactly() {
    let app = spawn_app().await;
    let crowd = group(&app, "Crowd", None).await;
    let mut users = Vec::new();
    for n in 0..20 {
        users.push(
            app.create_user(&format!("member{n}"), "member-password")
                .await,
        );
    }
    let path = format!("/api/rest/usergroups/{crowd}/users");
    let adds = users
        .iter()
        .map(|user| (reqwest::Method::POST, path.clone(), json!({ "id": user })))
        .collect();
    assert!(all_at_once(&app, adds).await.iter().all(|s| *s == 200));
    let members = admin_json(&app, &path).await;
    assert_eq!(members["total"], 20);
    let removals = users
        .iter()
        .take(7)
        .map(|user| {
            (
                reqwest::Method::DELETE,
                format!("{path}/{user}"),
                Value::Null,
            )
        })
        .collect();
    assert!(all_at_once(&app, removals).await.iter().all(|s| *s == 200));
    let members = admin_json(&app, &path).await;
    assert_eq!(members["total"], 13);
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    crate::helpers::idhub_command(&app.database)
        .args(args)
        .output()
        .expect("run idhub")
}

fn cli_ok(app: &TestApp, args: &[&str]) -> String {
    let output = cli(app, args);
    assert!(
        output.status.success(),
        "idhub {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_cli_bootstraps_groups_by_name() {
    let app = spawn_app().await;
    let carol = app.create_user("carol", "carol-password").await;
    let ops = cli_ok(&app, &["groups", "add", "--name", "Ops"]);
    cli_ok(
        &app,
        &["groups", "add", "--name", "Night shift", "--parent", "ops"],
    );
    let said = cli_ok(&app, &["groups", "add-member", "Night shift", "carol"]);
    assert_eq!(said, "carol is in group Night shift");
    let transitive = admin_json(&app, &format!("/api/rest/users/{carol}/transitivegroups")).await;
    assert_eq!(names(&transitive), ["Night shift", "Ops"]);
    let listed = cli_ok(&app, &["groups", "list"]);
    assert!(
        listed.contains(&format!("Night shift  in {ops}")),
        "{listed}"
    );

    let refused = cli(&app, &["groups", "delete", "Ops"]);
    assert!(!refused.status.success(), "Ops still has a subgroup");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("subgroups"));
    cli_ok(&app, &["groups", "remove-member", "Night shift", "carol"]);
    cli_ok(&app, &["groups", "delete", "Night shift"]);
    cli_ok(&app, &["groups", "delete", &ops]);
    assert_eq!(cli_ok(&app, &["groups", "list"]), "");
    assert_eq!(audited(&app, "actor: cli type: group.deleted").await, 2);
}
