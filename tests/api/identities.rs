//! Who a sign-in through an auth module is (`auth_modules::identities`,
//! the rule every module kind shares, called directly here on the test
//! database): a known subject is its user; a verified email links when the
//! module allows; a user is created when it allows; else refused; banned
//! stays banned; group mappings follow the provider's groups. Then the
//! identities over REST, and unlinking one.
use idhub::auth_modules::identities::{self, External, Refusal, Resolved};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn module(app: &TestApp, extra: Value) -> idhub::auth_modules::model::AuthModule {
    let mut body = json!({"name": format!("m-{}", uuid::Uuid::new_v4().simple()), "type": "oidc",
                          "issuer": "https://op.example", "clientId": "idhub"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let created: Value = app
        .post_json("/api/rest/authmodules", &app.admin_token, &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("a module").to_owned();
    let mut conn = app.pool.get().unwrap();
    idhub::auth_modules::repo::find(&mut conn, &id).unwrap()
}

fn resolve(
    app: &TestApp,
    module: &idhub::auth_modules::model::AuthModule,
    external: &External,
) -> Resolved {
    let mut conn = app.pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    identities::resolve(
        &mut conn,
        module,
        external,
        now,
        &idhub::audit::Caller::cli(),
    )
    .unwrap()
}

fn user_of(resolved: Resolved) -> (idhub::users::model::User, bool) {
    match resolved {
        Resolved::User(user, created) => (user, created),
        Resolved::Refused(why) => panic!("refused: {why:?}"),
    }
}

fn refusal(resolved: Resolved) -> Refusal {
    match resolved {
        Resolved::Refused(why) => why,
        Resolved::User(user, _) => panic!("signed in as {}", user.login),
    }
}

fn external(subject: &str, email: &str, verified: bool) -> External {
    External {
        subject: subject.into(),
        login: Some("ada".into()),
        email: Some(email.into()),
        email_verified: verified,
        name: Some("Ada L".into()),
        groups: Vec::new(),
    }
}

#[tokio::test]
async fn a_sign_in_through_a_module_finds_links_or_creates_as_the_module_allows() {
    let app = spawn_app().await;
    let ada = app.create_user("ada", "ada-password").await; // ada@example.com
    let strict = module(&app, json!({})).await;
    let linking = module(&app, json!({"linkByEmail": true})).await;
    let creating = module(&app, json!({"autoCreateUsers": true})).await;

    // Neither linking nor creating: nobody.
    let someone = external("sub-1", "ada@example.com", true);
    assert_eq!(
        refusal(resolve(&app, &strict, &someone)),
        Refusal::NoAccount
    );
    // Linking by email: only a verified one.
    let unverified = external("sub-1", "ada@example.com", false);
    assert_eq!(
        refusal(resolve(&app, &linking, &unverified)),
        Refusal::NoAccount
    );
    let (user, created) = user_of(resolve(&app, &linking, &someone));
    assert_eq!((user.id.as_str(), created), (ada.as_str(), false));
    // Known now by its subject, whatever the email says next.
    let moved = external("sub-1", "ada@elsewhere.example", false);
    assert_eq!(user_of(resolve(&app, &linking, &moved)).0.id, ada);

    // Creating: a new user, login from the provider's, made unique.
    let newcomer = external("sub-9", "ada@example.com", true);
    let (user, created) = user_of(resolve(&app, &creating, &newcomer));
    assert!(created);
    assert_eq!(user.login, "ada-2");
    assert_eq!(user.name, "Ada L");
    assert_eq!(user.email, None, "the address is ada's, not taken over");
    assert!(
        !user_of(resolve(&app, &creating, &newcomer)).1,
        "found, not created again"
    );

    // Banned stays banned.
    let banned = app
        .post_json(
            &format!("/api/rest/users/{ada}"),
            &app.admin_token,
            &json!({"banned": true}),
        )
        .await;
    assert_eq!(banned.status(), 200);
    assert_eq!(refusal(resolve(&app, &linking, &someone)), Refusal::Banned);

    // The identities over REST, and unlinking.
    let listed: Value = app
        .get(
            &format!("/api/rest/users/{ada}/identities"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["subject"], "sub-1");
    assert_eq!(listed[0]["authModule"]["id"], linking.id.as_str());
    // What the provider said last (at the banned attempt).
    assert_eq!(listed[0]["email"], "ada@example.com");
    let identity = listed[0]["id"].as_str().unwrap().to_owned();
    app.create_user("eve", "eve-password").await;
    let eve = app.token_for("eve", "t", &["0-0-0-0-0"]);
    let path = format!("/api/rest/users/{ada}/identities");
    assert_eq!(app.get(&path, &eve).await.status(), 403);
    let mine: Value = app
        .get("/api/rest/users/me/identities", &eve)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine, json!([]));
    let unlinked = app
        .delete(&format!("{path}/{identity}"), &app.admin_token)
        .await;
    assert!(unlinked.status().is_success());
    let again = app
        .delete(&format!("{path}/{identity}"), &app.admin_token)
        .await;
    assert_eq!(again.status(), 404);
    let audit: Value = app
        .get(
            "/api/rest/auditevents?query=type%3A%20identity.linked",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["events"].as_array().map(Vec::len), Some(2), "{audit}");
}

#[tokio::test]
async fn group_mappings_follow_the_providers_groups_at_each_sign_in() {
    let app = spawn_app().await;
    let engineers: Value = app
        .post_json(
            "/api/rest/usergroups",
            &app.admin_token,
            &json!({"name": "Engineers"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let engineers = engineers["id"].as_str().unwrap().to_owned();
    let mapped = module(
        &app,
        json!({"autoCreateUsers": true,
               "groupMappings": [{"external": "eng", "group": {"id": engineers}}]}),
    )
    .await;
    let mut grace = external("sub-g", "grace@example.com", true);
    grace.groups = vec!["ENG".into(), "ops".into()];
    user_of(resolve(&app, &mapped, &grace));
    assert_eq!(
        members(&app, &engineers).await,
        1,
        "a member while the provider says so"
    );
    grace.groups = vec!["ops".into()];
    user_of(resolve(&app, &mapped, &grace));
    assert_eq!(members(&app, &engineers).await, 0, "and no longer after");
}

async fn members(app: &TestApp, group: &str) -> usize {
    let path = format!("/api/rest/usergroups/{group}/users");
    let found: Value = app.get(&path, &app.admin_token).await.json().await.unwrap();
    found["users"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn the_account_page_lists_a_users_identities_and_unlinks_one() {
    let app = spawn_app().await;
    let kim = app.create_user("kim", "kim-password").await;
    let linking = module(&app, json!({"name": "Corp SSO", "linkByEmail": true})).await;
    user_of(resolve(
        &app,
        &linking,
        &external("sub-k", "kim@example.com", true),
    ));
    let browser = app.browser();
    let signed = app.sign_in(&browser, "/login", "kim", "kim-password").await;
    assert_eq!(signed.status(), 303);
    let (_, page) = app.page(&browser, "/account").await;
    assert!(
        page.contains("id=\"identities\"") && page.contains("Corp SSO"),
        "{page}"
    );
    let listed: Value = app
        .get(
            &format!("/api/rest/users/{kim}/identities"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    let identity = listed[0]["id"].as_str().unwrap().to_owned();
    let unlinked = app
        .submit(
            &browser,
            "/account",
            &format!("/account/identities/{identity}/unlink"),
            &[],
        )
        .await;
    assert_eq!(unlinked.status(), 303);
    let (_, page) = app.page(&browser, "/account").await;
    assert!(!page.contains("id=\"identities\""), "{page}");
    // That way in no longer leads to kim.
    let mut strict = linking.clone();
    strict.link_by_email = false;
    let again = resolve(&app, &strict, &external("sub-k", "kim@example.com", true));
    assert_eq!(refusal(again), Refusal::NoAccount);
}
