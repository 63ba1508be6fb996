//! A real headless Chromium runs a single-page app served on loopback through
//! the implicit flow and through code + PKCE (oidc-client-ts), signing in and
//! consenting on idhub's pages, and ends with a token that works at userinfo.
//! The implicit flow's ID token is then validated by the openidconnect crate.
//!
//! Needs Debian's chromium + chromium-driver and `npm ci` in tests/browser/spa
//! (.ci/run does both and sets IDHUB_BROWSER_TESTS=required). Elsewhere the
//! test says it is skipped, unless that variable requires it.
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use fantoccini::{Client, Locator};
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use serde_json::{json, Value};

use crate::chromium::{browser, prerequisites_present, start_chromedriver};
use crate::helpers::{spawn_app, TestApp};

pub fn spa_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/spa")
}

pub fn library() -> PathBuf {
    spa_dir().join("node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js")
}

/// Serves the SPA: its page, its script, oidc-client-ts and its settings.
pub fn serve_spa(authority: String, client_id: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let config = json!({"authority": authority, "client_id": client_id}).to_string();
    let file = |name: &str| std::fs::read_to_string(spa_dir().join(name)).unwrap();
    let (index, script, library) = (
        file("index.html"),
        file("app.js"),
        std::fs::read_to_string(library()).unwrap(),
    );
    let server = HttpServer::new(move || {
        let (index, script, library, config) = (
            index.clone(),
            script.clone(),
            library.clone(),
            config.clone(),
        );
        App::new()
            .route(
                "/app.js",
                web::get().to(move || {
                    let s = script.clone();
                    async move { HttpResponse::Ok().content_type("text/javascript").body(s) }
                }),
            )
            .route(
                "/oidc-client-ts.min.js",
                web::get().to(move || {
                    let s = library.clone();
                    async move { HttpResponse::Ok().content_type("text/javascript").body(s) }
                }),
            )
            .route(
                "/config.json",
                web::get().to(move || {
                    let s = config.clone();
                    async move { HttpResponse::Ok().content_type("application/json").body(s) }
                }),
            )
            .default_service(web::to(move || {
                let s = index.clone();
                async move { HttpResponse::Ok().content_type("text/html").body(s) }
            }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    origin
}

pub async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits for the SPA's result line (the browser may still be on idhub's pages
/// or navigating) and returns it once filled.
pub async fn result(client: &Client) -> String {
    for _ in 0..300 {
        if let Ok(element) = client.find(Locator::Css("#result")).await {
            if let Ok(text) = element.text().await {
                if !text.is_empty() {
                    return text;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the SPA never showed a result; page: {}",
        client.source().await.unwrap_or_default()
    );
}

/// On idhub's pages: sign in, then press Allow.
async fn sign_in_and_allow(client: &Client, login: &str, password: &str) {
    let wait = Duration::from_secs(15);
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("#login"))
        .await
        .expect("the sign-in page")
        .send_keys(login)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .expect("the consent page")
        .click()
        .await
        .unwrap();
}

async fn validate_id_token(app: &TestApp, client_id: &str, id_token: &str, nonce: &str) -> Value {
    let jwks: CoreJsonWebKeySet = app.public_json("/api/rest/oauth2/keys").await;
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client_id.into()),
        IssuerUrl::new(app.address.clone()).unwrap(),
        jwks,
    );
    let token = CoreIdToken::from_str(id_token).expect("an ID token");
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.into()))
        .expect("openidconnect validates the implicit ID token");
    serde_json::to_value(claims).unwrap()
}

#[tokio::test]
async fn an_spa_in_chromium_signs_in_with_implicit_and_with_code_pkce() {
    if !prerequisites_present(&[library()]) {
        return;
    }
    let app = spawn_app().await;
    app.create_user("spa-one", "spa-one-password").await;
    app.create_user("spa-two", "spa-two-password").await;
    let (client_id, _) = app
        .service_with(json!({"name": "Test SPA", "publicClient": true,
            "redirectUris": ["http://127.0.0.1/callback-implicit", "http://127.0.0.1/callback-pkce"],
            "postLogoutRedirectUris": ["http://127.0.0.1/signed-out"]}))
        .await;
    let spa = serve_spa(app.address.clone(), client_id.clone());
    let driver = start_chromedriver().await;
    let chrome = browser(&driver).await;

    chrome.goto(&spa).await.unwrap();
    chrome
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#implicit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sign_in_and_allow(&chrome, "spa-one", "spa-one-password").await;
    let implicit = result(&chrome).await;
    assert!(implicit.starts_with("implicit "), "{implicit}");
    let info: Value = serde_json::from_str(implicit.trim_start_matches("implicit ")).unwrap();
    assert_eq!(info["preferred_username"], "spa-one");
    let id_token = text_of(&chrome, "#id-token").await;
    let nonce = text_of(&chrome, "#nonce").await;
    let claims = validate_id_token(&app, &client_id, &id_token, &nonce).await;
    assert_eq!(claims["preferred_username"], "spa-one");

    // A new person on the same browser: sign out everywhere, then code + PKCE.
    chrome.delete_all_cookies().await.unwrap();
    chrome.goto(&spa).await.unwrap();
    chrome
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#pkce"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sign_in_and_allow(&chrome, "spa-two", "spa-two-password").await;
    let pkce = result(&chrome).await;
    assert!(pkce.starts_with("pkce "), "{pkce}");
    let info: Value = serde_json::from_str(pkce.trim_start_matches("pkce ")).unwrap();
    assert_eq!(info["preferred_username"], "spa-two");

    // oidc-client-ts signs out through the end_session_endpoint (its stored
    // ID token as the hint) and comes back signed out, of idhub too.
    chrome
        .find(Locator::Css("#signout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The page before the click still shows the sign-in's result.
    let mut signed_out = result(&chrome).await;
    for _ in 0..300 {
        if !signed_out.starts_with("pkce ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        signed_out = result(&chrome).await;
    }
    assert_eq!(signed_out, "signedout {\"user\":null}");
    chrome.goto(&app.url("/account")).await.unwrap();
    chrome
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#login"))
        .await
        .expect("idhub asks to sign in again");
    chrome.close().await.unwrap();
}
