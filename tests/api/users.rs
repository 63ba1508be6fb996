use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn admin_creates_reads_lists_updates_and_deletes_users() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/rest/users",
            &app.admin_token,
            &json!({"login": "jane", "password": "jane-password", "name": "Jane Doe", "email": "Jane@Example.com"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let jane: Value = response.json().await.unwrap();
    assert_eq!(jane["login"], "jane");
    assert_eq!(jane["name"], "Jane Doe");
    assert_eq!(jane["banned"], false);
    assert!(jane.get("password").is_none() && jane.get("passwordHash").is_none());
    let id = jane["id"].as_str().unwrap().to_owned();
    let path = format!("/api/rest/users/{id}");

    let mut conn = app.pool.get().unwrap();
    let stored = idhub::users::repo::find(&mut conn, &id).unwrap();
    assert!(stored
        .password_hash
        .as_deref()
        .unwrap()
        .starts_with("$argon2id$"));

    let fetched: Value = app
        .get(&format!("{path}?fields=login,email"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        fetched,
        json!({"login": "jane", "email": "Jane@Example.com"})
    );

    app.create_user("john", "john-password").await;
    let listed: Value = app
        .get("/api/rest/users?query=jane", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["users"][0]["login"], "jane");
    let all: Value = app
        .get("/api/rest/users?$top=2", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 4, "admin, guest, jane, john");
    assert_eq!(all["users"].as_array().unwrap().len(), 2);

    let updated: Value = app
        .post_json(
            &path,
            &app.admin_token,
            &json!({"name": "Jane Roe", "email": null, "admin": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["name"], "Jane Roe");
    assert_eq!(updated["email"], Value::Null);
    assert_eq!(updated["admin"], true);

    assert_eq!(app.delete(&path, &app.admin_token).await.status(), 200);
    assert_error(app.get(&path, &app.admin_token).await, 404, None).await;
    assert_error(app.delete(&path, &app.admin_token).await, 404, None).await;
}

#[tokio::test]
async fn duplicates_and_bad_input_are_rejected_with_the_field() {
    let app = spawn_app().await;
    app.create_user("dup", "dup-password").await;
    let cases = [
        (
            json!({"login": "DUP", "password": "another-password"}),
            409,
            "login",
        ),
        (
            json!({"login": "other", "email": "dup@example.com"}),
            409,
            "email",
        ),
        (json!({"login": "has space"}), 400, "login"),
        (json!({}), 400, "login"),
        (
            json!({"login": "shortpw", "password": "short"}),
            400,
            "password",
        ),
        (json!({"login": "bademail", "email": "nope"}), 400, "email"),
        (json!({"login": "typed", "admin": "yes"}), 400, "admin"),
    ];
    for (body, status, field) in cases {
        let response = app
            .post_json("/api/rest/users", &app.admin_token, &body)
            .await;
        assert_error(response, status, Some(field)).await;
    }
}

#[tokio::test]
async fn me_and_the_limits_of_a_plain_user() {
    let app = spawn_app().await;
    let id = app.create_user("plain", "plain-password").await;
    let token = app.token_for("plain", "t", &["0-0-0-0-0"]);
    let me: Value = app
        .get("/api/rest/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["login"], "plain");

    let renamed: Value = app
        .post_json(
            "/api/rest/users/me",
            &token,
            &json!({"name": "Plain Person"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Plain Person");

    assert_error(
        app.post_json("/api/rest/users/me", &token, &json!({"admin": true}))
            .await,
        403,
        None,
    )
    .await;
    assert_error(app.get("/api/rest/users", &token).await, 403, None).await;
    assert_error(
        app.post_json("/api/rest/users", &token, &json!({"login": "x"}))
            .await,
        403,
        None,
    )
    .await;
    let admin: Value = app
        .get("/api/rest/users/me", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let admin_path = format!("/api/rest/users/{}", admin["id"].as_str().unwrap());
    assert_error(app.get(&admin_path, &token).await, 403, None).await;
    assert_error(app.delete(&admin_path, &token).await, 403, None).await;

    // Admins cannot lock themselves out.
    assert_error(
        app.post_json(
            "/api/rest/users/me",
            &app.admin_token,
            &json!({"banned": true}),
        )
        .await,
        400,
        Some("banned"),
    )
    .await;
    assert_error(
        app.post_json(
            "/api/rest/users/me",
            &app.admin_token,
            &json!({"admin": false}),
        )
        .await,
        400,
        Some("admin"),
    )
    .await;
    assert_error(app.delete(&admin_path, &app.admin_token).await, 400, None).await;
}

#[tokio::test]
async fn banning_stops_a_users_tokens_and_unbanning_restores_them() {
    let app = spawn_app().await;
    let id = app.create_user("naughty", "naughty-password").await;
    let token = app.token_for("naughty", "t", &["0-0-0-0-0"]);
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 200);

    let path = format!("/api/rest/users/{id}");
    let banned: Value = app
        .post_json(&path, &app.admin_token, &json!({"banned": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(banned["banned"], true);
    assert_error(app.get("/api/rest/users/me", &token).await, 401, None).await;

    app.post_json(&path, &app.admin_token, &json!({"banned": false}))
        .await;
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 200);
}

#[tokio::test]
async fn guest_serves_anonymous_calls_only_when_unbanned() {
    let app = spawn_app().await;
    let anonymous = || app.client.get(app.url("/api/rest/users/me")).send();
    assert_error(anonymous().await.unwrap(), 401, None).await;

    let guests: Value = app
        .get("/api/rest/users?query=guest", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    let guest = &guests["users"][0];
    assert_eq!(guest["guest"], true);
    assert_eq!(guest["banned"], true);
    let path = format!("/api/rest/users/{}", guest["id"].as_str().unwrap());
    assert_error(app.delete(&path, &app.admin_token).await, 403, None).await;

    app.post_json(&path, &app.admin_token, &json!({"banned": false}))
        .await;
    let me: Value = anonymous().await.unwrap().json().await.unwrap();
    assert_eq!(me["login"], "guest");
    let listing = app
        .client
        .get(app.url("/api/rest/services"))
        .send()
        .await
        .unwrap();
    assert_error(listing, 403, None).await;
}

#[tokio::test]
async fn changing_your_own_password_needs_the_current_one_and_signs_you_out() {
    let app = spawn_app().await;
    let jane_id = app.create_user("jane", "jane-password").await;
    let token = app.token_for("jane", "jane-token", &["0-0-0-0-0"]);

    // Jane is signed in in a browser.
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let mut form = crate::browser::hidden_inputs(&page.text().await.unwrap());
    form.push(("login".into(), "jane".into()));
    form.push(("password".into(), "jane-password".into()));
    let signed_in = browser
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let account = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 200);

    let without = app
        .post_json(
            "/api/rest/users/me",
            &token,
            &json!({"password": "new-password-1"}),
        )
        .await;
    assert_error(without, 400, Some("currentPassword")).await;
    let wrong = app
        .post_json(
            "/api/rest/users/me",
            &token,
            &json!({"password": "new-password-1", "currentPassword": "not-it-at-all"}),
        )
        .await;
    assert_error(wrong, 400, Some("currentPassword")).await;
    let right = app
        .post_json(
            "/api/rest/users/me",
            &token,
            &json!({"password": "new-password-1", "currentPassword": "jane-password"}),
        )
        .await;
    assert_eq!(right.status(), 200);

    // The browser session made with the old password has ended.
    let account = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 303);
    // An administrator sets another user's password without knowing it.
    let by_admin = app
        .post_json(
            &format!("/api/rest/users/{jane_id}"),
            &app.admin_token,
            &json!({"password": "set-by-admin-1"}),
        )
        .await;
    assert_eq!(by_admin.status(), 200);
}

#[tokio::test]
async fn after_pages_through_users_as_skip_does() {
    let app = spawn_app().await;
    for login in ["bob", "Alice", "carol", "alice2", "Bob2", "dave", "erin"] {
        app.create_user(login, &format!("{login}-password")).await;
    }
    let ids = |page: &Value| -> Vec<String> {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut by_skip = Vec::new();
    for skip in (0..12).step_by(3) {
        let page: Value = app
            .get(
                &format!("/api/rest/users?$top=3&$skip={skip}"),
                &app.admin_token,
            )
            .await
            .json()
            .await
            .unwrap();
        by_skip.extend(ids(&page));
    }
    let mut by_after: Vec<String> = Vec::new();
    loop {
        let after = by_after
            .last()
            .map(|id| format!("&$after={id}"))
            .unwrap_or_default();
        let page: Value = app
            .get(&format!("/api/rest/users?$top=3{after}"), &app.admin_token)
            .await
            .json()
            .await
            .unwrap();
        let found = ids(&page);
        if found.is_empty() {
            break;
        }
        by_after.extend(found);
    }
    assert_eq!(by_after, by_skip);
    assert_eq!(by_after.len(), by_skip.len());
    assert!(by_after.len() >= 9, "the seven, admin and guest");
    let unknown = app
        .get("/api/rest/users?$after=nobody-at-all", &app.admin_token)
        .await;
    assert_error(unknown, 400, Some("$after")).await;
}

/// The sign-in form takes a login or an email, so neither may name another
/// user: an email that is someone's login, or a login that is someone's
/// email, is a 409 naming the field (both were accepted).
#[tokio::test]
async fn a_login_or_email_never_names_another_user() {
    let app = spawn_app().await;
    let bob = json!({"login": "bob@corp.example", "password": "bob-password-1"});
    let created = app
        .post_json("/api/rest/users", &app.admin_token, &bob)
        .await;
    assert_eq!(created.status(), 200);
    let jane_id = app.create_user("jane", "jane-password").await;

    let taken = app
        .post_json(
            &format!("/api/rest/users/{jane_id}"),
            &app.admin_token,
            &json!({"email": "BOB@corp.example"}),
        )
        .await;
    assert_error(taken, 409, Some("email")).await;
    let twin = json!({"login": "Jane@Example.com", "password": "twin-password-1"});
    let taken = app
        .post_json("/api/rest/users", &app.admin_token, &twin)
        .await;
    assert_error(taken, 409, Some("login")).await;
    let by_id = json!({"login": jane_id, "password": "twin-password-1"});
    let taken = app
        .post_json("/api/rest/users", &app.admin_token, &by_id)
        .await;
    assert_error(taken, 409, Some("login")).await;

    // One's own login as one's email stays fine.
    let own = json!({"login": "kim@corp.example", "password": "kim-password-1", "email": "kim@corp.example"});
    assert_eq!(
        app.post_json("/api/rest/users", &app.admin_token, &own)
            .await
            .status(),
        200
    );
}

/// Logins are one thing on both databases: NFKC, letters beyond ASCII in
/// lower case, so `Ädmin` signs in and has no lowercase twin; lookalikes
/// mixing scripts are refused, and a fullwidth `ａｄｍｉｎ` is `admin`.
/// Names refuse invisible and direction-changing characters.
#[tokio::test]
async fn logins_are_normalized_and_lookalikes_refused() {
    let app = spawn_app().await;
    let created = app
        .post_json(
            "/api/rest/users",
            &app.admin_token,
            &json!({"login": "Ädmin", "password": "umlaut-password-1"}),
        )
        .await;
    assert_eq!(created.status(), 200);
    let user: Value = created.json().await.unwrap();
    assert_eq!(user["login"], "ädmin");
    let browser = app.browser();
    let signed_in = app
        .sign_in(&browser, "/login", "Ädmin", "umlaut-password-1")
        .await;
    assert_eq!(
        signed_in.status(),
        303,
        "signed in with the capital it was made with"
    );
    let mut conn = app.pool.get().unwrap();
    let found = idhub::users::repo::find_by_login(&mut conn, "ÄDMIN").unwrap();
    assert!(found.is_some(), "found whatever the case");
    for (login, status) in [("ädmin", 409), ("ａｄｍｉｎ", 409), ("\u{0430}dmin", 400)] {
        let response = app
            .post_json(
                "/api/rest/users",
                &app.admin_token,
                &json!({"login": login, "password": "another-password-1"}),
            )
            .await;
        assert_error(response, status, Some("login")).await;
    }
    let reversed = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "idhub\u{202E}elosnoC"}),
        )
        .await;
    assert_error(reversed, 400, Some("name")).await;
}
