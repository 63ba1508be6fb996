//! Passkeys over HTTP, with the tests' software authenticator answering
//! the ceremony pages as a browser's script would: adding, listing,
//! renaming and deleting them; signing in with one and no login; one as
//! the second step after a password; each challenge answered once; a
//! signature counter that goes back refused; banned users refused; the
//! password grant's refusal and an admin's reset.
use regex::Regex;
use serde_json::{json, Value};

use crate::browser::{hidden_inputs, location, unescape};
use crate::helpers::{spawn_app_at_localhost, TestApp};
use crate::soft_authenticator::SoftAuthenticator;

/// The options a ceremony page hands to `navigator.credentials`.
fn options_of(html: &str) -> Value {
    let pattern = Regex::new(r#"data-options="([^"]*)""#).unwrap();
    let found = pattern
        .captures(html)
        .unwrap_or_else(|| panic!("a ceremony page: {html}"));
    serde_json::from_str(&unescape(&found[1])).unwrap()
}

/// Posts the ceremony page's form with the authenticator's `answer`.
async fn answer(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    answer: &Value,
) -> reqwest::Response {
    let action = Regex::new(r#"<form method="post" action="([^"]+)" id="passkey-form">"#)
        .unwrap()
        .captures(page)
        .unwrap()[1]
        .to_owned();
    let mut form: Vec<(String, String)> = hidden_inputs(page)
        .into_iter()
        .filter(|(name, _)| name != "response")
        .collect();
    form.push(("response".into(), answer.to_string()));
    browser
        .post(app.url(&action))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// A signed-in browser of `login` adds a passkey named `name`.
async fn add_passkey(
    app: &TestApp,
    browser: &reqwest::Client,
    authenticator: &mut SoftAuthenticator,
    name: &str,
) {
    let started = app
        .submit(
            browser,
            "/account/passkeys",
            "/account/passkeys/new",
            &[("name", name)],
        )
        .await;
    assert_eq!(started.status(), 200);
    let page = started.text().await.unwrap();
    let created = authenticator.create(&options_of(&page), &app.address);
    let finished = answer(app, browser, &page, &created).await;
    assert_eq!(finished.status(), 303, "{}", finished.text().await.unwrap());
    assert_eq!(location(&finished), "/account/passkeys");
}

async fn signed_in_browser(app: &TestApp, login: &str, password: &str) -> reqwest::Client {
    let browser = app.browser();
    let signed = app.sign_in(&browser, "/login", login, password).await;
    assert_eq!(signed.status(), 303);
    browser
}

async fn factor_status(app: &TestApp, user: &str) -> Value {
    app.get(
        &format!("/api/rest/users/{user}/twofactorauthentication"),
        &app.admin_token,
    )
    .await
    .json()
    .await
    .unwrap()
}

/// From the sign-in page: "Sign in with a passkey", the ceremony page.
async fn start_passkey_sign_in(app: &TestApp, browser: &reqwest::Client) -> String {
    let started = app
        .submit(
            browser,
            "/login?return_to=%2Faccount",
            "/login/passkey",
            &[],
        )
        .await;
    assert_eq!(started.status(), 200);
    started.text().await.unwrap()
}

#[tokio::test]
async fn a_passkey_is_added_listed_renamed_and_deleted_on_the_account_page() {
    let app = spawn_app_at_localhost(|_| {}).await;
    let ada = app.create_user("ada", "ada-password").await;
    let browser = signed_in_browser(&app, "ada", "ada-password").await;
    let mut authenticator = SoftAuthenticator::default();
    add_passkey(&app, &browser, &mut authenticator, "laptop").await;
    let (_, html) = app.page(&browser, "/account/passkeys").await;
    assert!(html.contains("value=\"laptop\""), "{html}");
    assert_eq!(
        factor_status(&app, &ada).await,
        json!({"enabled": true, "totp": false, "passkeys": 1, "recoveryCodesLeft": 0, "required": false})
    );

    // A second registration excludes the passkey already there, and a
    // ceremony answers once.
    let started = app
        .submit(
            &browser,
            "/account/passkeys",
            "/account/passkeys/new",
            &[("name", "phone")],
        )
        .await;
    let page = started.text().await.unwrap();
    let options = options_of(&page);
    assert_eq!(
        options["publicKey"]["excludeCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let mut phone = SoftAuthenticator::default();
    let created = phone.create(&options, &app.address);
    assert_eq!(answer(&app, &browser, &page, &created).await.status(), 303);
    let again = answer(&app, &browser, &page, &created).await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("expired or was used"));
    assert_eq!(factor_status(&app, &ada).await["passkeys"], 2);

    // Names are one line, not empty.
    for bad in ["", "   ", "tab\there"] {
        let refused = app
            .submit(
                &browser,
                "/account/passkeys",
                "/account/passkeys/new",
                &[("name", bad)],
            )
            .await;
        assert_eq!(refused.status(), 400, "{bad:?}");
    }
    let ids = passkey_ids(&app, &browser).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    let renamed = app
        .submit(
            &browser,
            "/account/passkeys",
            &format!("/account/passkeys/{}/rename", ids[0]),
            &[("name", "blue key")],
        )
        .await;
    assert_eq!(renamed.status(), 303);
    let (_, html) = app.page(&browser, "/account/passkeys").await;
    assert!(html.contains("value=\"blue key\"") && !html.contains("value=\"laptop\""));

    // Another user cannot touch them.
    app.create_user("eve", "eve-password").await;
    let eve = signed_in_browser(&app, "eve", "eve-password").await;
    let foreign = app
        .submit(
            &eve,
            "/account/passkeys",
            &format!("/account/passkeys/{}/delete", ids[0]),
            &[],
        )
        .await;
    assert_eq!(foreign.status(), 404);

    let deleted = app
        .submit(
            &browser,
            "/account/passkeys",
            &format!("/account/passkeys/{}/delete", ids[0]),
            &[],
        )
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(factor_status(&app, &ada).await["passkeys"], 1);
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_login_once_per_challenge_and_counts_its_uses() {
    let app = spawn_app_at_localhost(|_| {}).await;
    let bo = app.create_user("bo", "bo-password").await;
    let mut authenticator = SoftAuthenticator::default();
    let setup = signed_in_browser(&app, "bo", "bo-password").await;
    add_passkey(&app, &setup, &mut authenticator, "key").await;

    let browser = app.browser();
    let (_, login_page) = app.page(&browser, "/login").await;
    assert!(
        login_page.contains("Sign in with a passkey"),
        "{login_page}"
    );
    let page = start_passkey_sign_in(&app, &browser).await;
    let options = options_of(&page);
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(Vec::is_empty));
    let assertion = authenticator.get(&options, &app.address, 0);
    let signed = answer(&app, &browser, &page, &assertion).await;
    assert_eq!(signed.status(), 303, "{}", signed.text().await.unwrap());
    assert_eq!(location(&signed), "/account");
    let (status, account) = app.page(&browser, "/account").await;
    assert_eq!(status, 200);
    assert!(account.contains("(bo)"), "{account}");
    let (_, list) = app.page(&browser, "/account/passkeys").await;
    assert!(!list.contains(">never<"), "the use shows: {list}");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains(r#"idhub_second_factor_events_total{event="passkey_sign_in"}"#),
        "{metrics}"
    );

    // The same answer again: its challenge was taken.
    let replayed = answer(&app, &browser, &page, &assertion).await;
    assert_eq!(replayed.status(), 400);
    // An old answer to a new challenge does not verify.
    let other = app.browser();
    let fresh = start_passkey_sign_in(&app, &other).await;
    let stale = answer(&app, &other, &fresh, &assertion).await;
    assert_eq!(stale.status(), 401);

    // An answer naming another user than the credential's owner.
    let page = start_passkey_sign_in(&app, &other).await;
    let mut forged = authenticator.get(&options_of(&page), &app.address, 0);
    forged["response"]["userHandle"] = json!("b3RoZXItdXNlcg");
    let refused = answer(&app, &other, &page, &forged).await;
    assert_eq!(refused.status(), 401);

    // A counter that goes back says the key may have been copied.
    authenticator.credentials[0].counter = 0;
    let page = start_passkey_sign_in(&app, &other).await;
    let cloned = authenticator.get(&options_of(&page), &app.address, 0);
    let refused = answer(&app, &other, &page, &cloned).await;
    assert_eq!(refused.status(), 401);
    authenticator.credentials[0].counter = 10;

    // Banned: the right passkey no longer signs in.
    let banned = app
        .post_json(
            &format!("/api/rest/users/{bo}"),
            &app.admin_token,
            &json!({"banned": true}),
        )
        .await;
    assert_eq!(banned.status(), 200);
    let page = start_passkey_sign_in(&app, &other).await;
    let assertion = authenticator.get(&options_of(&page), &app.address, 0);
    let refused = answer(&app, &other, &page, &assertion).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("banned"));
}

#[tokio::test]
async fn a_passkey_is_the_second_step_after_a_password_and_an_admin_resets_it() {
    let app = spawn_app_at_localhost(|_| {}).await;
    let cy = app.create_user("cy", "cy-password").await;
    app.create_user("dee", "dee-password").await;
    let mut cys_key = SoftAuthenticator::default();
    let setup = signed_in_browser(&app, "cy", "cy-password").await;
    add_passkey(&app, &setup, &mut cys_key, "key").await;
    let mut dees_key = SoftAuthenticator::default();
    let dee = signed_in_browser(&app, "dee", "dee-password").await;
    add_passkey(&app, &dee, &mut dees_key, "key").await;

    // The password now leads to the second step, which offers the passkey
    // (and no code field: cy has no authenticator app).
    let browser = app.browser();
    let answered = app
        .sign_in(&browser, "/login?return_to=%2Faccount", "cy", "cy-password")
        .await;
    let to = location(&answered);
    assert!(to.starts_with("/login/second-factor"), "{to}");
    let (_, step) = app.page(&browser, &to).await;
    assert!(
        step.contains("Use a passkey") && !step.contains("id=\"code\""),
        "{step}"
    );
    // The cookie of this step does not open the set-up of a new factor:
    // the password alone never adds one.
    let set_up = browser
        .get(app.url("/login/set-up-second-factor?return_to=%2Faccount"))
        .send()
        .await
        .unwrap();
    assert_eq!(set_up.status(), 303);
    assert!(
        location(&set_up).starts_with("/login?"),
        "{}",
        location(&set_up)
    );
    let start = |browser: reqwest::Client| {
        let to = to.clone();
        let app = &app;
        async move {
            let started = app
                .submit(&browser, &to, "/login/second-factor/passkey", &[])
                .await;
            assert_eq!(started.status(), 200);
            started.text().await.unwrap()
        }
    };

    // Another account's passkey is a wrong second factor.
    let page = start(browser.clone()).await;
    let options = options_of(&page);
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let mut foreign_options = options.clone();
    foreign_options["publicKey"]["allowCredentials"] = json!([]);
    let foreign = dees_key.get(&foreign_options, &app.address, 0);
    let refused = answer(&app, &browser, &page, &foreign).await;
    assert_eq!(refused.status(), 401);

    let page = start(browser.clone()).await;
    let assertion = cys_key.get(&options_of(&page), &app.address, 0);
    let passed = answer(&app, &browser, &page, &assertion).await;
    assert_eq!(passed.status(), 303, "{}", passed.text().await.unwrap());
    assert_eq!(location(&passed), "/account");
    assert_eq!(app.page(&browser, "/account").await.0, 200);

    // The password grant cannot ask for it: refused, saying why.
    let (client, secret) = app.service_with(json!({"trusted": true})).await;
    let grant = [
        ("grant_type", "password"),
        ("username", "cy"),
        ("password", "cy-password"),
    ];
    let refused = app
        .oauth_post("token", &grant, Some((&client, &secret)))
        .await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("second factor"));

    // An admin's reset removes the passkeys: the password alone signs in.
    let reset = app
        .delete(
            &format!("/api/rest/users/{cy}/twofactorauthentication"),
            &app.admin_token,
        )
        .await;
    assert!(reset.status().is_success());
    assert_eq!(factor_status(&app, &cy).await["passkeys"], 0);
    let again = app.browser();
    let answered = app
        .sign_in(&again, "/login?return_to=%2Faccount", "cy", "cy-password")
        .await;
    assert_eq!(location(&answered), "/account");
}

#[tokio::test]
async fn adding_a_passkey_takes_a_recent_sign_in() {
    use diesel::prelude::*;
    use idhub::db::schema::sessions;
    let app = spawn_app_at_localhost(|_| {}).await;
    let hal = app.create_user("hal", "hal-password").await;
    let browser = signed_in_browser(&app, "hal", "hal-password").await;
    // The session signed in an hour ago.
    let an_hour_ago = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
    let mut pooled = app.pool.get().unwrap();
    let conn: &mut idhub::db::DbConn = &mut pooled;
    diesel::update(sessions::table.filter(sessions::user_id.eq(&hal)))
        .set(sessions::auth_time.eq(an_hour_ago))
        .execute(conn)
        .unwrap();
    drop(pooled);
    let stale = app
        .submit(
            &browser,
            "/account/passkeys",
            "/account/passkeys/new",
            &[("name", "key")],
        )
        .await;
    assert_eq!(stale.status(), 303);
    assert_eq!(location(&stale), "/login?return_to=%2Faccount%2Fpasskeys");
    // Signing in again in the same browser renews the session.
    let again = app
        .sign_in(&browser, &location(&stale), "hal", "hal-password")
        .await;
    assert_eq!(location(&again), "/account/passkeys");
    let mut key = SoftAuthenticator::default();
    add_passkey(&app, &browser, &mut key, "key").await;
}

#[tokio::test]
async fn the_last_factor_of_a_user_who_must_have_one_stays() {
    let app = spawn_app_at_localhost(|_| {}).await;
    let fay = app.create_user("fay", "fay-password").await;
    let browser = signed_in_browser(&app, "fay", "fay-password").await;
    let mut key = SoftAuthenticator::default();
    add_passkey(&app, &browser, &mut key, "first").await;
    let required = app
        .post_json(
            &format!("/api/rest/users/{fay}/twofactorauthentication"),
            &app.admin_token,
            &json!({"required": true}),
        )
        .await;
    assert!(required.status().is_success());
    let first = passkey_ids(&app, &browser).await[0].clone();
    let delete = |id: String| {
        let (app, browser) = (&app, browser.clone());
        async move {
            app.submit(
                &browser,
                "/account/passkeys",
                &format!("/account/passkeys/{id}/delete"),
                &[],
            )
            .await
        }
    };
    let refused = delete(first.clone()).await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("must have a second factor"));
    // With another passkey, the first may go.
    let mut other_key = SoftAuthenticator::default();
    add_passkey(&app, &browser, &mut other_key, "second").await;
    assert_eq!(delete(first).await.status(), 303);
    assert_eq!(factor_status(&app, &fay).await["passkeys"], 1);
}

async fn passkey_ids(app: &TestApp, browser: &reqwest::Client) -> Vec<String> {
    let (_, html) = app.page(browser, "/account/passkeys").await;
    Regex::new(r#"action="/account/passkeys/([0-9a-f-]{36})/rename""#)
        .unwrap()
        .captures_iter(&html)
        .map(|c| c[1].to_owned())
        .collect()
}
