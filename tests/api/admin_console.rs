//! The console at `/admin`: administrators read the registry and the audit
//! trail; anyone else signed in gets 403 on every page; strangers are sent
//! to the sign-in page and back.
use idhub::web::admin::FORMS;
use regex::Regex;
use serde_json::{json, Value};

use crate::browser::{hidden_inputs, location, unescape};
use crate::helpers::{spawn_app, TestApp, ADMIN_PASSWORD};

const PAGES: [&str; 11] = [
    "/admin",
    "/admin/groups",
    "/admin/roles",
    "/admin/projects",
    "/admin/services",
    "/admin/services/new",
    "/admin/services/0-0-0-0-0",
    "/admin/users",
    "/admin/users/new",
    "/admin/keys",
    "/admin/audit",
];

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
    // An administrator's account page leads to the console.
    let admin = signed_in_admin(&app).await;
    let (_, html) = app.page(&admin, "/account").await;
    assert!(html.contains(r#"<a href="/admin">Console</a>"#), "{html}");
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

/// The CSRF token of a page's forms (the page also sets its cookie).
async fn csrf_of(app: &TestApp, browser: &reqwest::Client, path: &str) -> String {
    let (status, html) = app.page(browser, path).await;
    assert_eq!(status, 200, "{path}: {html}");
    hidden_inputs(&html)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no form on {path}: {html}"))
}

/// The text of `<p class="secret" id="ID">` on a page.
fn shown(html: &str, id: &str) -> String {
    let pattern = Regex::new(&format!(r#"<p class="secret" id="{id}">([^<]*)</p>"#)).unwrap();
    let found = pattern
        .captures(html)
        .unwrap_or_else(|| panic!("no {id}: {html}"));
    unescape(&found[1])
}

async fn signed_in_admin(app: &TestApp) -> reqwest::Client {
    let admin = app.browser();
    let response = app.sign_in(&admin, "/login", "admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303);
    admin
}

async fn rest(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path, &app.admin_token).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn client_credentials(
    app: &TestApp,
    id: &str,
    secret: &str,
) -> impl std::future::Future<Output = u16> {
    let request = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send();
    async move { request.await.expect("request").status().as_u16() }
}

#[tokio::test]
async fn every_console_form_refuses_strangers_others_and_forged_posts() {
    // The list the test walks is the list of POST routes the console has.
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/admin/mod.rs"))
            .unwrap();
    let route = Regex::new(r#"post_page\(\s*"(/admin[^"]*)""#).unwrap();
    let param = Regex::new(r"\{[^}]+\}").unwrap();
    let normal = |path: &str| param.replace_all(path, "{}").into_owned();
    let mut routed: Vec<String> = route
        .captures_iter(&source)
        .map(|c| normal(&c[1]))
        .collect();
    let mut listed: Vec<String> = FORMS.iter().map(|path| normal(path)).collect();
    routed.sort();
    listed.sort();
    assert_eq!(routed, listed, "FORMS lists every console POST route");
    assert!(listed.len() >= 12);

    let app = spawn_app().await;
    let (service_id, _) = app.service_with(json!({"name": "Target"})).await;
    app.create_user("mallory", "mallory-password").await;
    let victim = app.create_user("victim", "victim-password").await;
    let admin = signed_in_admin(&app).await;
    let admin_csrf = csrf_of(&app, &admin, "/admin/keys").await;
    let mallory = app.browser();
    app.sign_in(&mallory, "/login", "mallory", "mallory-password")
        .await;
    let mallory_csrf = csrf_of(&app, &mallory, "/account").await;
    let stranger = app.browser();
    let stranger_csrf = hidden_inputs(&app.page(&stranger, "/login").await.1)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .unwrap()
        .1;
    let wrong = "w".repeat(43);
    for form in FORMS {
        let id = if form.starts_with("/admin/users") {
            &victim
        } else {
            &service_id
        };
        let path = form.replace("{id}", id).replace("{key}", &service_id);
        let tries: [(&str, &reqwest::Client, Option<&str>); 4] = [
            ("a stranger", &stranger, Some(&stranger_csrf)),
            (
                "a user who is no administrator",
                &mallory,
                Some(&mallory_csrf),
            ),
            ("an administrator's browser without a token", &admin, None),
            (
                "an administrator's browser with a wrong token",
                &admin,
                Some(&wrong),
            ),
        ];
        for (who, browser, token) in tries {
            let mut fields = vec![
                ("trusted", "on"),
                ("banned", "on"),
                ("name", "Hijacked"),
                ("login", "hijacker"),
                ("password", "hijacked-password"),
            ];
            if let Some(token) = token {
                fields.push(("csrf_token", token));
            }
            let response = browser
                .post(app.url(&path))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{who} posting to {path}");
        }
    }
    let (_, service) = rest(&app, &format!("/api/rest/services/{service_id}")).await;
    assert_eq!(
        (service["name"].as_str(), service["trusted"].as_bool()),
        (Some("Target"), Some(false))
    );
    let (_, user) = rest(&app, &format!("/api/rest/users/{victim}")).await;
    assert_eq!(user["banned"], false);
    let (_, users) = rest(&app, "/api/rest/users?query=hijacker").await;
    assert_eq!(users["total"], 0, "{users}");
    let keys: Value = app.public_json("/api/rest/oauth2/keys").await;
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(1));

    // The same post with the administrator's token goes through, so the
    // refusals above are the checks at work and not a broken form.
    let response = admin
        .post(app.url(&format!("/admin/services/{service_id}/trust")))
        .form(&[("csrf_token", admin_csrf.as_str()), ("trusted", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let (_, service) = rest(&app, &format!("/api/rest/services/{service_id}")).await;
    assert_eq!(service["trusted"], true);
}

#[tokio::test]
async fn administrators_register_edit_trust_reset_and_delete_services() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let new = "/admin/services/new";
    let refused = app
        .submit(
            &admin,
            new,
            "/admin/services",
            &[
                ("name", "Kept <name>"),
                ("redirect_uris", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\"") && html.contains("javascript:alert(1)"),
        "{html}"
    );
    assert!(
        html.contains("value=\"Kept &#60;name&#62;\""),
        "the form keeps what was sent: {html}"
    );

    let created = app
        .submit(
            &admin,
            new,
            "/admin/services",
            &[
                ("name", "Console app"),
                (
                    "redirect_uris",
                    "https://app.example/cb\r\nhttps://app.example/other\r\n",
                ),
                ("description", "made in the console"),
                ("consent_required", "on"),
                ("client_credentials_flow_enabled", "on"),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let csp = created.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'nonce-"),
        "only the copy script runs: {csp}"
    );
    assert_eq!(created.headers()["cache-control"], "no-store");
    let html = created.text().await.unwrap();
    let (id, secret) = (shown(&html, "client-id"), shown(&html, "client-secret"));
    assert!(html.contains("shown only this once"), "{html}");
    let (_, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(service["name"], "Console app");
    assert_eq!(
        service["redirectUris"],
        json!(["https://app.example/cb", "https://app.example/other"])
    );
    assert_eq!(service["description"], "made in the console");
    assert_eq!(service["implicitFlowEnabled"], false, "an empty box is off");
    assert_eq!(service["trusted"], false);
    let (_, page) = app.page(&admin, &format!("/admin/services/{id}")).await;
    assert!(!page.contains(&secret), "the secret is never shown again");
    assert_eq!(
        client_credentials(&app, &id, &secret).await,
        400,
        "not trusted yet"
    );

    let page = format!("/admin/services/{id}");
    let response = app
        .submit(
            &admin,
            &page,
            &format!("{page}/trust"),
            &[("trusted", "on")],
        )
        .await;
    assert_eq!(location(&response), page);
    assert_eq!(client_credentials(&app, &id, &secret).await, 200);

    let edit = format!("{page}/edit");
    let (_, form) = app.page(&admin, &edit).await;
    assert!(
        form.contains("https://app.example/cb\nhttps://app.example/other"),
        "{form}"
    );
    let response = app
        .submit(
            &admin,
            &edit,
            &page,
            &[
                ("name", "Renamed"),
                ("redirect_uris", "https://app.example/cb"),
                ("trusted", "on"),
                ("client_credentials_flow_enabled", "on"),
                ("pkce_required", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(
        (
            service["name"].as_str(),
            service["pkceRequired"].as_bool(),
            service["consentRequired"].as_bool()
        ),
        (Some("Renamed"), Some(true), Some(false))
    );
    assert_eq!(service["redirectUris"], json!(["https://app.example/cb"]));

    let confirm = format!("{page}/reset-secret");
    let (_, question) = app.page(&admin, &confirm).await;
    assert!(question.contains("stops working"), "{question}");
    let reset = app.submit(&admin, &confirm, &confirm, &[]).await;
    assert_eq!(reset.status(), 200);
    let new_secret = shown(&reset.text().await.unwrap(), "client-secret");
    assert_ne!(new_secret, secret);
    assert_eq!(
        client_credentials(&app, &id, &secret).await,
        401,
        "the old secret"
    );
    assert_eq!(client_credentials(&app, &id, &new_secret).await, 200);

    let confirm = format!("{page}/delete");
    let (_, question) = app.page(&admin, &confirm).await;
    assert!(
        question.contains("revoked"),
        "says its grants go: {question}"
    );
    let response = app.submit(&admin, &confirm, &confirm, &[]).await;
    assert_eq!(location(&response), "/admin/services");
    assert_eq!(rest(&app, &format!("/api/rest/services/{id}")).await.0, 404);
    assert_eq!(app.page(&admin, &page).await.0, 404);

    let (_, hub) = app.page(&admin, "/admin/services/0-0-0-0-0").await;
    assert!(
        !hub.contains("id=\"delete\""),
        "the Hub service offers no delete"
    );
    let hub_delete = "/admin/services/0-0-0-0-0/delete";
    let response = app
        .submit(&admin, "/admin/services/0-0-0-0-0", hub_delete, &[])
        .await;
    assert_eq!(response.status(), 403);

    let (_, trail) = app
        .page(&admin, &format!("/admin/audit?query=service%3A%20{id}"))
        .await;
    for kind in [
        "service.created",
        "service.trusted",
        "service.updated",
        "service.secret_reset",
        "service.deleted",
    ] {
        assert!(trail.contains(kind), "{kind} in {trail}");
    }
}

#[tokio::test]
async fn administrators_create_edit_ban_and_reset_users() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let new = "/admin/users/new";
    let created = app
        .submit(
            &admin,
            new,
            "/admin/users",
            &[
                ("login", "carol"),
                ("name", "Carol"),
                ("email", "carol@example.com"),
                ("password", "carol-password"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let page = location(&created);
    let id = page.trim_start_matches("/admin/users/").to_owned();
    let (_, user) = rest(&app, &format!("/api/rest/users/{id}")).await;
    assert_eq!(
        (user["login"].as_str(), user["admin"].as_bool()),
        (Some("carol"), Some(false))
    );
    let duplicate = app
        .submit(
            &admin,
            new,
            "/admin/users",
            &[("login", "carol"), ("password", "another-password")],
        )
        .await;
    assert_eq!(duplicate.status(), 400);
    assert!(duplicate.text().await.unwrap().contains("taken"));
    let (_, list) = app.page(&admin, "/admin/users?query=caro").await;
    assert!(
        list.contains(">carol<") && !list.contains(">admin<"),
        "{list}"
    );

    let saved = app
        .submit(
            &admin,
            &page,
            &page,
            &[("name", "Carol C."), ("email", ""), ("admin", "on")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let (_, user) = rest(&app, &format!("/api/rest/users/{id}")).await;
    assert_eq!(
        (
            user["name"].as_str(),
            user["email"].is_null(),
            user["admin"].as_bool()
        ),
        (Some("Carol C."), true, Some(true))
    );

    let carol = app.browser();
    assert_eq!(
        app.sign_in(&carol, "/login", "carol", "carol-password")
            .await
            .status(),
        303
    );
    let token = app.token_for("carol", "script", &["0-0-0-0-0"]);
    let (_, html) = app.page(&admin, &page).await;
    assert!(
        html.contains(">script<") && html.contains(">never<"),
        "{html}"
    );
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 200);

    let banned = app
        .submit(&admin, &page, &format!("{page}/ban"), &[("banned", "on")])
        .await;
    assert_eq!(banned.status(), 303);
    assert_eq!(
        rest(&app, &format!("/api/rest/users/{id}")).await.1["banned"],
        true
    );
    assert_eq!(
        app.page(&carol, "/account").await.0,
        303,
        "a banned user's session ends"
    );
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 401);
    app.submit(&admin, &page, &format!("{page}/ban"), &[("banned", "off")])
        .await;
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 200);

    let set = app
        .submit(
            &admin,
            &page,
            &format!("{page}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(set.status(), 400, "the password rules hold here too");
    let set = app
        .submit(
            &admin,
            &page,
            &format!("{page}/password"),
            &[("password", "carol-new-password")],
        )
        .await;
    assert_eq!(set.status(), 303);
    let again = app.browser();
    let refused = app
        .sign_in(&again, "/login", "carol", "carol-password")
        .await;
    assert_eq!(refused.status(), 401, "the old password fails");
    assert_eq!(
        app.sign_in(&again, "/login", "carol", "carol-new-password")
            .await
            .status(),
        303
    );

    let (_, html) = app.page(&admin, &page).await;
    let token_id = Regex::new(r#"/tokens/([^/"]+)/delete"#)
        .unwrap()
        .captures(&html)
        .unwrap()[1]
        .to_owned();
    assert!(
        !html.contains(">never<"),
        "the token's use is shown: {html}"
    );
    let deleted = app
        .submit(
            &admin,
            &page,
            &format!("{page}/tokens/{token_id}/delete"),
            &[],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(app.get("/api/rest/users/me", &token).await.status(), 401);

    let admin_id = rest(&app, "/api/rest/users/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = format!("/admin/users/{admin_id}");
    let (_, html) = app.page(&admin, &own).await;
    assert!(
        !html.contains("id=\"ban\""),
        "no ban button on one's own page"
    );
    let refused = app
        .submit(&admin, &own, &format!("{own}/ban"), &[("banned", "on")])
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("cannot demote or ban themselves"));

    let (_, trail) = app
        .page(&admin, &format!("/admin/audit?query=user%3A%20{id}"))
        .await;
    for kind in [
        "user.created",
        "user.updated",
        "user.admin_granted",
        "user.banned",
        "user.unbanned",
        "user.password_set",
        "permanent_token.deleted",
    ] {
        assert!(trail.contains(kind), "{kind} in {trail}");
    }
}

#[tokio::test]
async fn administrators_revoke_a_users_application() {
    let app = spawn_app().await;
    let user_id = app.create_user("dave", "dave-password").await;
    let (service, secret) = app.service_with(json!({"name": "Dave's tool"})).await;
    let issued = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "dave"),
                ("password", "dave-password"),
                ("scope", &service),
            ],
            (&service, &secret),
        )
        .await;
    let access = issued["access_token"].as_str().unwrap();
    assert_eq!(
        app.introspect(access, (&service, &secret)).await["active"],
        true
    );
    let admin = signed_in_admin(&app).await;
    let (_, html) = app
        .page(&admin, &format!("/admin/services/{service}"))
        .await;
    assert!(
        html.contains(">dave<"),
        "the service's active grants: {html}"
    );
    let page = format!("/admin/users/{user_id}");
    let (_, html) = app.page(&admin, &page).await;
    assert!(
        html.contains("Dave&#39;s tool") || html.contains("Dave&#x27;s tool"),
        "{html}"
    );
    let revoked = app
        .submit(&admin, &page, &format!("{page}/apps/{service}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(
        app.introspect(access, (&service, &secret)).await["active"],
        false
    );
}

#[tokio::test]
async fn administrators_rotate_the_signing_key() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let (_, html) = app.page(&admin, "/admin/keys").await;
    assert_eq!(
        html.matches("current: signs new tokens").count(),
        1,
        "{html}"
    );
    let rotated = app
        .submit(&admin, "/admin/keys", "/admin/keys/rotate", &[])
        .await;
    assert_eq!(location(&rotated), "/admin/keys");
    let (_, html) = app.page(&admin, "/admin/keys").await;
    assert!(html.contains("still verifies"), "{html}");
    let keys: Value = app.public_json("/api/rest/oauth2/keys").await;
    assert_eq!(
        keys["keys"].as_array().map(Vec::len),
        Some(2),
        "both published at once"
    );
    let (_, trail) = app
        .page(&admin, "/admin/audit?query=type%3A%20key.rotated")
        .await;
    assert!(trail.contains("key.rotated"), "{trail}");
}

#[tokio::test]
async fn users_change_their_own_password_with_the_current_one() {
    let app = spawn_app().await;
    app.create_user("erin", "erin-password").await;
    let erin = app.browser();
    app.sign_in(&erin, "/login", "erin", "erin-password").await;
    let elsewhere = app.browser();
    app.sign_in(&elsewhere, "/login", "erin", "erin-password")
        .await;
    let (_, html) = app.page(&erin, "/account").await;
    assert!(html.contains("Change password"), "{html}");
    let wrong = app
        .submit(
            &erin,
            "/account",
            "/account/password",
            &[
                ("current_password", "not-the-password"),
                ("password", "erin-new-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("current password is wrong"));
    let changed = app
        .submit(
            &erin,
            "/account",
            "/account/password",
            &[
                ("current_password", "erin-password"),
                ("password", "erin-new-password"),
            ],
        )
        .await;
    assert_eq!(location(&changed), "/account?changed=password");
    let (status, html) = app.page(&erin, "/account?changed=password").await;
    assert_eq!(status, 200, "this browser stays signed in");
    assert!(html.contains("Your password is changed"), "{html}");
    assert_eq!(
        app.page(&elsewhere, "/account").await.0,
        303,
        "other sessions end"
    );
    let fresh = app.browser();
    assert_eq!(
        app.sign_in(&fresh, "/login", "erin", "erin-new-password")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn page_titles_are_plain_text() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let title = Regex::new(r"<title>([^<]*)</title>").unwrap();
    let mut paths = vec!["/", "/account", "/logout"];
    paths.extend(PAGES);
    for path in paths {
        let (status, html) = app.page(&admin, path).await;
        assert_eq!(status, 200, "{path}");
        let found = title
            .captures(&html)
            .unwrap_or_else(|| panic!("{path}: a plain <title>: {html}"));
        assert!(found[1].ends_with("idhub"), "{path}: {}", &found[1]);
    }
}

#[tokio::test]
async fn forms_posted_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let (service_id, _) = app.service_with(json!({"name": "Target"})).await;
    let admin = signed_in_admin(&app).await;
    let page = format!("/admin/services/{service_id}");
    let csrf = csrf_of(&app, &admin, &page).await;
    // The cookie and token pair is right; the browser says the form came
    // from a sibling subdomain or another site.
    for site in ["same-site", "cross-site"] {
        let response = admin
            .post(app.url(&format!("{page}/trust")))
            .header("Sec-Fetch-Site", site)
            .form(&[("csrf_token", csrf.as_str()), ("trusted", "on")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{site}");
    }
    assert_eq!(
        rest(&app, &format!("/api/rest/services/{service_id}"))
            .await
            .1["trusted"],
        false
    );
    let response = admin
        .post(app.url(&format!("{page}/trust")))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf_token", csrf.as_str()), ("trusted", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

#[tokio::test]
async fn administrators_setting_their_own_password_stay_signed_in() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let elsewhere = signed_in_admin(&app).await;
    let admin_id = rest(&app, "/api/rest/users/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = format!("/admin/users/{admin_id}");
    let refused = app
        .submit(
            &admin,
            &own,
            &format!("{own}/password"),
            &[("password", "admin-new-password")],
        )
        .await;
    assert_eq!(refused.status(), 400, "one's own needs the current one");
    let set = app
        .submit(
            &admin,
            &own,
            &format!("{own}/password"),
            &[
                ("current_password", ADMIN_PASSWORD),
                ("password", "admin-new-password"),
            ],
        )
        .await;
    assert_eq!(location(&set), own);
    assert_eq!(app.page(&admin, &own).await.0, 200, "still signed in");
    assert_eq!(
        app.page(&elsewhere, &own).await.0,
        303,
        "the other session ended"
    );
}

#[tokio::test]
async fn the_service_form_sets_sign_out_urls_and_client_keys() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let key = json!({"kty": "EC", "crv": "P-256", "kid": "k1",
                     "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
    let jwks = json!({"keys": [key]}).to_string();
    let refused = app
        .submit(
            &admin,
            "/admin/services/new",
            "/admin/services",
            &[("name", "Keys"), ("jwks", "{not json")],
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("not JSON"));
    let created = app
        .submit(
            &admin,
            "/admin/services/new",
            "/admin/services",
            &[
                ("name", "Keys"),
                ("post_logout_redirect_uris", "https://k.example/bye"),
                ("backchannel_logout_uri", "https://k.example/backchannel"),
                ("jwks", &jwks),
            ],
        )
        .await;
    let id = shown(&created.text().await.unwrap(), "client-id");
    let (_, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(
        service["postLogoutRedirectUris"],
        json!(["https://k.example/bye"])
    );
    assert_eq!(
        service["backchannelLogoutUri"],
        "https://k.example/backchannel"
    );
    assert_eq!(service["jwks"]["keys"][0]["kid"], "k1");
}

#[tokio::test]
async fn a_service_saved_in_the_console_applies_to_its_next_request() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    // The service is now cached.
    assert_eq!(client_credentials(&app, &id, &secret).await, 200);
    let page = format!("/admin/services/{id}");
    let edit = format!("{page}/edit");
    let saved = app
        .submit(&admin, &edit, &page, &[("name", "No flows")])
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        client_credentials(&app, &id, &secret).await,
        400,
        "the client credentials box was cleared"
    );
}

#[tokio::test]
async fn the_console_sets_and_clears_the_client_authentication_method() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let page = format!("/admin/services/{id}");
    let edit = format!("{page}/edit");
    let kept = [
        ("name", "Posts its secret"),
        ("trusted", "on"),
        ("client_credentials_flow_enabled", "on"),
    ];
    let mut post_only = kept.to_vec();
    post_only.push(("token_endpoint_auth_method", "client_secret_post"));
    assert_eq!(
        app.submit(&admin, &edit, &page, &post_only).await.status(),
        303
    );
    let (_, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(service["tokenEndpointAuthMethod"], "client_secret_post");
    let (_, html) = app.page(&admin, &page).await;
    assert!(html.contains("client_secret_post only"), "{html}");
    let (_, form) = app.page(&admin, &edit).await;
    assert!(
        form.contains(r#"<option value="client_secret_post" selected>"#),
        "the edit form shows the stored method: {form}"
    );
    assert_eq!(
        client_credentials(&app, &id, &secret).await,
        401,
        "HTTP Basic is no longer allowed"
    );

    let mut refused = kept.to_vec();
    refused.push(("token_endpoint_auth_method", "client_secret_jwt"));
    let response = app.submit(&admin, &edit, &page, &refused).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("is not supported"));

    let mut any = kept.to_vec();
    any.push(("token_endpoint_auth_method", ""));
    assert_eq!(app.submit(&admin, &edit, &page, &any).await.status(), 303);
    let (_, service) = rest(&app, &format!("/api/rest/services/{id}")).await;
    assert_eq!(service["tokenEndpointAuthMethod"], Value::Null);
    assert_eq!(client_credentials(&app, &id, &secret).await, 200);
}

#[tokio::test]
async fn administrators_delete_users_after_confirming() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let id = app.create_user("departed", "departed-password").await;
    let page = format!("/admin/users/{id}");
    let (_, html) = app.page(&admin, &page).await;
    assert!(html.contains(r#"id="delete-user""#), "{html}");
    let confirm = format!("{page}/delete");
    let (status, asked) = app.page(&admin, &confirm).await;
    assert_eq!(status, 200);
    assert!(asked.contains("Delete departed?"), "{asked}");
    let deleted = app.submit(&admin, &confirm, &confirm, &[]).await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(location(&deleted), "/admin/users");
    let (status, _) = rest(&app, &format!("/api/rest/users/{id}")).await;
    assert_eq!(status, 404);

    let (_, me) = rest(&app, "/api/rest/users/me").await;
    let mine = format!("/admin/users/{}", me["id"].as_str().unwrap());
    let (_, html) = app.page(&admin, &mine).await;
    assert!(!html.contains(r#"id="delete-user""#), "no deleting oneself");
    let refused = app
        .submit(&admin, &mine, &format!("{mine}/delete"), &[])
        .await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn the_authorization_pages_show_refusals_and_apply_changes() {
    let app = spawn_app().await;
    let admin = signed_in_admin(&app).await;
    let ida = app.create_user("ida", "ida-password").await;
    // A group, then a second one inside it.
    let created = app
        .submit(
            &admin,
            "/admin/groups",
            "/admin/groups",
            &[("name", "Ops"), ("parent", "")],
        )
        .await;
    assert_eq!(created.status(), 303);
    let ops = location(&created)
        .trim_start_matches("/admin/groups/")
        .to_owned();
    let inner = app
        .submit(
            &admin,
            "/admin/groups",
            "/admin/groups",
            &[("name", "Oncall"), ("parent", &ops)],
        )
        .await;
    assert_eq!(inner.status(), 303);
    // A name taken, and an unknown login, are said on the page.
    let taken = app
        .submit(
            &admin,
            "/admin/groups",
            "/admin/groups",
            &[("name", "ops"), ("parent", "")],
        )
        .await;
    assert_eq!(taken.status(), 400);
    assert!(taken.text().await.unwrap().contains("already exists"));
    let group_page = format!("/admin/groups/{ops}");
    let unknown = app
        .submit(
            &admin,
            &group_page,
            &format!("{group_page}/members"),
            &[("login", "nobody")],
        )
        .await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("no user with that login"));
    // A member, a role and a grant in Global; the member's page shows it.
    let added = app
        .submit(
            &admin,
            &group_page,
            &format!("{group_page}/members"),
            &[("login", "ida")],
        )
        .await;
    assert_eq!(added.status(), 303);
    let role = app
        .submit(
            &admin,
            "/admin/roles",
            "/admin/roles",
            &[("key", "viewer"), ("name", "")],
        )
        .await;
    let role_id = location(&role)
        .trim_start_matches("/admin/roles/")
        .to_owned();
    let granted = app
        .submit(
            &admin,
            &group_page,
            &format!("{group_page}/projectroles"),
            &[("role", &role_id), ("project", "")],
        )
        .await;
    assert_eq!(granted.status(), 303);
    let (_, html) = app
        .page(&admin, &format!("/admin/users/{ida}/access"))
        .await;
    assert!(html.contains("through Ops"), "{html}");
    let (_, roles) = rest(
        &app,
        &format!("/api/rest/users/{ida}/transitiveprojectroles"),
    )
    .await;
    assert_eq!(roles["projectroles"][0]["project"]["id"], "0-0-0-0-0");
    // A group with subgroups is not deleted; the reason is shown.
    let refused = app
        .submit(
            &admin,
            &format!("{group_page}/delete"),
            &format!("{group_page}/delete"),
            &[],
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("subgroups"));
    let (_, events) = rest(
        &app,
        "/api/rest/auditevents?query=type:%20project_role.granted",
    )
    .await;
    assert_eq!(events["events"].as_array().map(Vec::len), Some(1));
}
