//! Guard rails for running idhub behind a proxy: a proxy that terminates
//! TLS in front of an http issuer is refused, not served half-right.
use serde_json::Value;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn https_through_a_trusted_proxy_to_an_http_issuer_is_refused() {
    let app = spawn_app_with(|s| s.trusted_proxies = "127.0.0.1".into()).await;
    let page = app
        .client
        .get(app.url("/login"))
        .header("X-Forwarded-Proto", "https")
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
    let html = page.text().await.unwrap();
    assert!(html.contains("IDHUB_ISSUER"), "{html}");

    let token = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .header("Forwarded", "for=192.0.2.7;proto=https")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 421);
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("set IDHUB_ISSUER"));

    let health = app
        .client
        .get(app.url("/health/ready"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        200,
        "the proxy's health check still answers"
    );
    for proto in ["http", "nonsense"] {
        let plain = app
            .client
            .get(app.url("/login"))
            .header("X-Forwarded-Proto", proto)
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 200, "{proto}");
    }
}

#[tokio::test]
async fn only_a_trusted_proxy_or_an_https_issuer_changes_nothing() {
    let untrusted = spawn_app_with(|_| {}).await;
    let https_issuer = spawn_app_with(|s| {
        s.trusted_proxies = "127.0.0.1".into();
        s.issuer = Some("https://id.example.com".into());
    })
    .await;
    for app in [&untrusted, &https_issuer] {
        let page = app
            .client
            .get(app.url("/login"))
            .header("X-Forwarded-Proto", "https")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
    }
}
