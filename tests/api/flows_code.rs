//! The code flow with the `openidconnect` crate as the relying party: it
//! discovers idhub, builds the authorization URL, exchanges the code and
//! validates the ID token, so the tokens are checked by code we did not write.
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};

use crate::browser::{callback_params, location, param};
use crate::helpers::{assert_oauth_error, spawn_app, TestApp};

const CALLBACK: &str = "https://app.example.com/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn metadata(app: &TestApp) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(app.address.clone()).unwrap(), &http())
        .await
        .expect("openidconnect accepts the discovery document")
}

/// Runs the browser part: authorize, sign in, allow; returns the callback URL.
async fn browse_to_callback(
    app: &TestApp,
    authorize_url: &str,
    login: &str,
    password: &str,
) -> String {
    let browser = app.browser();
    let first = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert!(
        location(&first).starts_with("/login?"),
        "{}",
        location(&first)
    );
    let signed_in = app
        .sign_in(&browser, &location(&first), login, password)
        .await;
    assert_eq!(signed_in.status(), 303);
    let consent = app.follow(&browser, signed_in).await;
    assert_eq!(consent.status(), 200);
    let back = app.decide(&browser, consent, "allow").await;
    assert_eq!(back.status(), 303);
    location(&back)
}

#[tokio::test]
async fn confidential_code_flow_with_an_independent_relying_party() {
    let app = spawn_app().await;
    let user_id = app.create_user("carol", "carol-password").await;
    let (id, secret) = app
        .web_client(CALLBACK, json!({"name": "Carol's app"}))
        .await;
    let client = CoreClient::from_provider_metadata(
        metadata(&app).await,
        ClientId::new(id.clone()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_extra_param("access_type", "offline")
        .set_pkce_challenge(pkce_challenge)
        .url();

    let callback = browse_to_callback(&app, url.as_str(), "carol", "carol-password").await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    let params = callback_params(&callback);
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    assert_eq!(param(&params, "iss"), Some(app.address.as_str()));
    let code = param(&params, "code").expect("a code").to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http())
        .await
        .expect("the code exchange succeeds");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("openidconnect validates the ID token");
    assert_eq!(claims.subject().as_str(), user_id);
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("carol")
    );
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(tokens.refresh_token().is_some(), "access_type=offline");

    let userinfo: Value = app
        .client
        .get(app.url("/api/rest/oauth2/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], "carol@example.com");

    // The code works once; a replay fails and revokes what it issued.
    let replay = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
            ],
            Some((&id, client_secret(&app, &id).await.as_str())),
        )
        .await;
    assert_oauth_error(replay, 400, "invalid_grant").await;
    let refused = app
        .client
        .get(app.url("/api/rest/oauth2/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        401,
        "tokens from a replayed code are revoked"
    );
    let refresh = tokens.refresh_token().unwrap().secret().clone();
    let reset_secret = client_secret(&app, &id).await;
    let after = app
        .oauth_post(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            Some((&id, &reset_secret)),
        )
        .await;
    assert_oauth_error(after, 400, "invalid_grant").await;
}

/// Resets and returns the client's secret (the original was moved into the RP).
async fn client_secret(app: &TestApp, id: &str) -> String {
    let response = app
        .client
        .post(app.url(&format!("/api/rest/services/{id}/secret")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn public_client_with_pkce_and_an_independent_relying_party() {
    let app = spawn_app().await;
    app.create_user("pia", "pia-password").await;
    let loopback = "http://127.0.0.1/cb";
    let (id, _) = app
        .web_client(loopback, json!({"publicClient": true}))
        .await;
    let client =
        CoreClient::from_provider_metadata(metadata(&app).await, ClientId::new(id.clone()), None)
            .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:45678/cb".into()).unwrap());
    let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(pkce_challenge)
        .url();
    let callback = browse_to_callback(&app, url.as_str(), "pia", "pia-password").await;
    assert!(
        callback.starts_with("http://127.0.0.1:45678/cb?"),
        "loopback on any port: {callback}"
    );
    let code = param(&callback_params(&callback), "code")
        .unwrap()
        .to_owned();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http())
        .await
        .expect("a public client exchanges with client_id and verifier alone");
    tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("valid ID token");
}

#[tokio::test]
async fn code_exchange_checks_client_redirect_and_verifier() {
    let app = spawn_app().await;
    app.create_user("vic", "vic-password").await;
    let (id, secret) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let (other, other_secret) = app.web_client(CALLBACK, json!({})).await;
    let verifier = "a".repeat(50);
    let challenge = idhub::oauth2::pkce::s256(&verifier);
    let browser = app.browser();
    let first = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "vic", "vic-password")
        .await;
    let back = app.follow(&browser, signed_in).await;
    assert_eq!(back.status(), 303, "trusted clients skip consent");
    let code = param(&callback_params(&location(&back)), "code")
        .unwrap()
        .to_owned();

    let exchange = |client: (&str, &str), redirect: &str, verifier: &str| {
        let (code, redirect, verifier) = (code.clone(), redirect.to_owned(), verifier.to_owned());
        let (client_id, client_secret) = (client.0.to_owned(), client.1.to_owned());
        let app = &app;
        async move {
            app.oauth_post(
                "token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &redirect),
                    ("code_verifier", &verifier),
                ],
                Some((&client_id, &client_secret)),
            )
            .await
        }
    };
    assert_oauth_error(
        exchange((&other, &other_secret), CALLBACK, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        exchange((&id, &secret), "https://app.example.com/other", &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        exchange((&id, &secret), CALLBACK, &"b".repeat(50)).await,
        400,
        "invalid_grant",
    )
    .await;
    let ok = exchange((&id, &secret), CALLBACK, &verifier).await;
    assert_eq!(ok.status(), 200, "failed checks did not burn the code");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["scope"], "0-0-0-0-0");
    assert!(
        body.get("id_token").is_none(),
        "no openid scope, no ID token"
    );
}

#[tokio::test]
async fn out_of_band_shows_the_code_on_a_page() {
    let app = spawn_app().await;
    app.create_user("otto", "otto-password").await;
    let oob = "urn:ietf:wg:oauth:2.0:oob";
    let (id, secret) = app
        .web_client(oob, json!({"trusted": true, "name": "CLI tool"}))
        .await;
    let browser = app.browser();
    let first = app
        .authorize(&browser, &[("response_type", "code"), ("client_id", &id)])
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "otto", "otto-password")
        .await;
    let page = app.follow(&browser, signed_in).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("CLI tool"));
    let code = regex::Regex::new(r#"id="code">([^<]+)<"#)
        .unwrap()
        .captures(&html)
        .expect("the code on the page")[1]
        .to_owned();
    let body = app
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", oob),
            ],
            (&id, &secret),
        )
        .await;
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn two_simultaneous_exchanges_of_one_code_issue_tokens_once() {
    let app = spawn_app().await;
    app.create_user("duo", "duo-password").await;
    let (id, secret) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let browser = app.browser();
    let first = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "duo", "duo-password")
        .await;
    let back = app.follow(&browser, signed_in).await;
    let code = param(&callback_params(&location(&back)), "code")
        .unwrap()
        .to_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let basic = Some((id.as_str(), secret.as_str()));
    let (a, b) = tokio::join!(
        app.oauth_post("token", &form, basic),
        app.oauth_post("token", &form, basic)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn a_code_verifier_for_a_code_without_a_challenge_is_a_downgrade() {
    let app = spawn_app().await;
    app.create_user("dora", "dora-password").await;
    let (id, secret) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let browser = app.browser();
    let first = app
        .authorize(
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "dora", "dora-password")
        .await;
    let back = app.follow(&browser, signed_in).await;
    let code = param(&callback_params(&location(&back)), "code")
        .unwrap()
        .to_owned();
    let answer = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CALLBACK),
                ("code_verifier", &"v".repeat(50)),
            ],
            Some((&id, &secret)),
        )
        .await;
    let body = assert_oauth_error(answer, 400, "invalid_grant").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("without a challenge"),
        "RFC 9700 4.8: {body}"
    );
}
