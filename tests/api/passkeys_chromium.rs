//! Passkeys in a real headless Chromium with a virtual authenticator
//! (chromedriver's WebAuthn endpoint, CDP's
//! `WebAuthn.addVirtualAuthenticator`): a user registers a passkey on
//! /account/passkeys, signs out, then signs in to a single-page app
//! through oidc-client-ts (unmodified) pressing "Sign in with a passkey",
//! no login typed; oidc-client-ts validates the ID token, whose `amr` and
//! `acr` say a hardware key and two factors. Before signing out, the SPA
//! asks for two factors (`acr_values=mfa`) and idhub steps the password
//! session up with the passkey. Screenshots for docs/.
use std::time::Duration;

use serde_json::{json, Value};

use crate::chromium::{
    add_virtual_authenticator, authenticator_credentials, browser, click, fill,
    prerequisites_present, screenshot, start_chromedriver, wait_for,
};
use crate::helpers::spawn_app_at_localhost;
use crate::spa_chromium::{library, result, serve_spa, text_of};

#[tokio::test]
async fn a_passkey_registered_in_chromium_signs_in_without_a_login_through_oidc_client_ts() {
    if !prerequisites_present(&[library()]) {
        return;
    }
    let app = spawn_app_at_localhost(|_| {}).await;
    app.create_user("pat", "pat-password-1").await;
    let (client_id, _) = app
        .service_with(json!({"name": "Passkey SPA", "publicClient": true,
            "redirectUris": ["http://127.0.0.1/callback-pkce"]}))
        .await;
    let spa = serve_spa(app.address.clone(), client_id.clone());
    let driver = start_chromedriver().await;
    let chrome = browser(&driver).await;
    let authenticator = add_virtual_authenticator(&driver, &chrome).await;

    // Sign in with the password, then add a passkey on the account.
    chrome.goto(&app.url("/account/passkeys")).await.unwrap();
    fill(&chrome, "#login", "pat").await;
    fill(&chrome, "#password", "pat-password-1").await;
    click(&chrome, "form[action='/login'] button[type=submit]").await;
    wait_for(&chrome, "//p[@id='no-passkeys']").await;
    fill(&chrome, "#passkey-name", "laptop").await;
    click(&chrome, "#add-passkey button[type=submit]").await;
    // The ceremony page asks the authenticator at once, then posts back.
    wait_for(
        &chrome,
        "//table[@id='passkey-list']//input[@value='laptop']",
    )
    .await;
    screenshot(&chrome, "account-passkeys").await;
    let held = authenticator_credentials(&driver, &chrome, &authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        held[0]["isResidentCredential"], true,
        "a discoverable credential"
    );
    assert_eq!(held[0]["rpId"], "localhost");

    // Still signed in with the password alone, the SPA asks for two
    // factors (acr_values=mfa through oidc-client-ts): idhub steps the
    // session up with the passkey.
    chrome
        .goto(&format!("{spa}/?acr_values=mfa"))
        .await
        .unwrap();
    click(&chrome, "#pkce").await;
    click(&chrome, "#use-passkey").await;
    click(&chrome, "button[value=allow]").await;
    let stepped = result(&chrome).await;
    assert!(stepped.starts_with("pkce "), "{stepped}");
    let claims: Value = serde_json::from_str(&text_of(&chrome, "#claims").await).unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "mfa", "{claims}");

    // Sign out of idhub.
    chrome.goto(&app.url("/logout")).await.unwrap();
    click(&chrome, "form[action='/logout'] button[type=submit]").await;
    wait_for(&chrome, "//h1[text()='You are signed out']").await;
    chrome.goto(&app.url("/account")).await.unwrap();
    wait_for(&chrome, "//input[@id='login']").await;

    // The SPA signs in through oidc-client-ts; idhub's sign-in page offers
    // the passkey, and nothing is typed.
    chrome.goto(&spa).await.unwrap();
    click(&chrome, "#pkce").await;
    wait_for(&chrome, "//form[@id='passkey-sign-in']").await;
    screenshot(&chrome, "sign-in-with-passkey").await;
    click(&chrome, "#passkey-sign-in button[type=submit]").await;
    // Allowed before: no consent page this time.
    let signed_in = result(&chrome).await;
    assert!(signed_in.starts_with("pkce "), "{signed_in}");
    let info: Value = serde_json::from_str(signed_in.trim_start_matches("pkce ")).unwrap();
    assert_eq!(info["preferred_username"], "pat");
    let claims: Value = serde_json::from_str(&text_of(&chrome, "#claims").await).unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "mfa", "{claims}");
    assert!(claims["auth_time"].as_i64().is_some(), "{claims}");

    // The account lists the use: a counter and a time.
    chrome.goto(&app.url("/account/passkeys")).await.unwrap();
    let row = text_of(&chrome, "#passkey-list").await;
    assert!(
        !row.contains("never"),
        "the passkey's last use shows: {row}"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    chrome.close().await.unwrap();
}
