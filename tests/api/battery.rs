//! Every endpoint against every kind of malformed request, with and without
//! credentials: each answer is a 4xx with a JSON body (an OAuth error under
//! `/api/rest/oauth2`) or an HTML error page, or a 2xx/3xx — never a 5xx, never
//! an empty error — and the server is healthy afterwards.
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

const FORM: &str = "application/x-www-form-urlencoded";

/// One malformation: a query string to append, a content type and a body.
struct Malformed {
    name: &'static str,
    query: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn malformations() -> Vec<Malformed> {
    let m = |name, query, content_type, body: &[u8]| Malformed {
        name,
        query,
        content_type,
        body: body.to_vec(),
    };
    vec![
        m("empty", "", None, b""),
        m("form garbage", "", Some(FORM), b"&&==&%%%=%zz&a=%"),
        m(
            "form with NUL",
            "",
            Some(FORM),
            b"grant_type=client_credentials%00&token=a%00b",
        ),
        m(
            "form not UTF-8",
            "",
            Some(FORM),
            b"token=%FF%FE&username=\xff\xfe",
        ),
        m(
            "form repeated",
            "",
            Some(FORM),
            b"grant_type=password&grant_type=&token=a&token=b",
        ),
        m("JSON broken", "", Some("application/json"), b"{\"name\": "),
        m(
            "JSON wrong shape",
            "",
            Some("application/json"),
            b"[1, {\"login\": [null]}, \"\\u0000\"]",
        ),
        m(
            "JSON with NUL",
            "",
            Some("application/json"),
            br#"{"name":"a\u0000b","login":"x\u0000"}"#,
        ),
        m(
            "JSON not UTF-8",
            "",
            Some("application/json"),
            b"{\"name\": \"\xff\"}",
        ),
        m("wrong type", "", Some("text/plain"), b"hello"),
        m(
            "multipart",
            "",
            Some("multipart/form-data; boundary=x"),
            b"--x\r\n\r\n--x--",
        ),
        m("oversized", "", Some(FORM), &vec![b'a'; 70 * 1024]),
        m("query NUL", "?query=%00&fields=id%00", None, b""),
        m("query not UTF-8", "?query=%FF&client_id=%FE", None, b""),
        m(
            "query repeated",
            "?$top=1&$top=x&$skip=-1&fields=id&fields=",
            None,
            b"",
        ),
        m(
            "query huge numbers",
            "?$top=99999999999999999999&$skip=9223372036854775808&max_age=1e400",
            None,
            b"",
        ),
        m(
            "query odd fields",
            "?fields=((((,)),id(name(&orderBy=name:sideways",
            None,
            b"",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_malformed_requests_with_a_4xx_and_stays_healthy() {
    let app = spawn_app().await;
    let (service_id, _) = app.service_with(json!({})).await;
    let user_id = app.create_user("bat", "bat-password").await;
    let endpoints: Vec<(Method, String)> = [
        (Method::GET, "/.well-known/openid-configuration".to_owned()),
        (Method::GET, "/api/rest/oauth2/keys".into()),
        (Method::GET, "/api/rest/oauth2/auth".into()),
        (Method::POST, "/api/rest/oauth2/auth".into()),
        (Method::POST, "/api/rest/oauth2/auth/consent".into()),
        (Method::POST, "/api/rest/oauth2/token".into()),
        (Method::POST, "/api/rest/oauth2/introspect".into()),
        (Method::POST, "/api/rest/oauth2/revoke".into()),
        (Method::GET, "/api/rest/oauth2/userinfo".into()),
        (Method::POST, "/api/rest/oauth2/userinfo".into()),
        (Method::PUT, "/api/rest/oauth2/token".into()),
        (Method::GET, "/api/rest/services".into()),
        (Method::POST, "/api/rest/services".into()),
        (Method::GET, format!("/api/rest/services/{service_id}")),
        (Method::POST, format!("/api/rest/services/{service_id}")),
        (
            Method::POST,
            format!("/api/rest/services/{service_id}/secret"),
        ),
        (Method::DELETE, "/api/rest/services/no-such-service".into()),
        (Method::GET, "/api/rest/users".into()),
        (Method::POST, "/api/rest/users".into()),
        (Method::GET, format!("/api/rest/users/{user_id}")),
        (Method::POST, format!("/api/rest/users/{user_id}")),
        (Method::POST, "/api/rest/users/me".into()),
        (Method::GET, "/api/rest/users/me/permanenttokens".into()),
        (Method::POST, "/api/rest/users/me/permanenttokens".into()),
        (Method::GET, "/api/rest/users/me/authorizedapps".into()),
        (Method::DELETE, "/api/rest/users/me/authorizedapps/x".into()),
        (Method::GET, "/login".into()),
        (Method::POST, "/login".into()),
        (Method::POST, "/logout".into()),
        (Method::GET, "/account".into()),
        (Method::POST, "/account/tokens".into()),
        (Method::GET, "/health/ready".into()),
        (Method::PATCH, "/no/such/endpoint".into()),
    ]
    .into();

    let mut tried = 0;
    let mut wrong = Vec::new();
    for (method, path) in &endpoints {
        for malformed in malformations() {
            for credentials in [None, Some(app.admin_token.as_str())] {
                let mut request = app
                    .client
                    .request(
                        method.clone(),
                        app.url(&format!("{path}{}", malformed.query)),
                    )
                    .body(malformed.body.clone());
                if let Some(content_type) = malformed.content_type {
                    request = request.header(CONTENT_TYPE, content_type);
                }
                if let Some(token) = credentials {
                    request = request.bearer_auth(token);
                }
                let answer = request
                    .send()
                    .await
                    .expect("an answer, not a dropped connection");
                tried += 1;
                let status = answer.status();
                let kind = answer
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let body = answer.bytes().await.unwrap_or_default();
                let described = format!("{method} {path} [{}] → {status} {kind}", malformed.name);
                if status.is_server_error() {
                    wrong.push(format!("{described}: {}", String::from_utf8_lossy(&body)));
                } else if status.is_client_error() {
                    let json_error = kind.starts_with("application/json")
                        && serde_json::from_slice::<serde_json::Value>(&body)
                            .is_ok_and(|v| v["error"].is_string());
                    let page = kind.starts_with("text/html") && !body.is_empty();
                    if !(json_error || page) {
                        wrong.push(format!("{described}: no error body"));
                    }
                    let oauth = path.starts_with("/api/rest/oauth2/")
                        && kind.starts_with("application/json");
                    if oauth {
                        let code = serde_json::from_slice::<serde_json::Value>(&body)
                            .map(|v| v["error"].as_str().unwrap_or_default().to_owned())
                            .unwrap_or_default();
                        let known = [
                            "invalid_request",
                            "invalid_client",
                            "invalid_grant",
                            "unauthorized_client",
                            "unsupported_grant_type",
                            "invalid_scope",
                            "invalid_token",
                            "insufficient_scope",
                            "unsupported_token_type",
                            "access_denied",
                        ];
                        if !known.contains(&code.as_str()) {
                            wrong.push(format!("{described}: not an OAuth error code: {code}"));
                        }
                    }
                }
            }
        }
    }
    println!(
        "{tried} malformed requests to {} endpoints",
        endpoints.len()
    );
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "healthy after the battery");
    let services = app.get("/api/rest/services", &app.admin_token).await;
    assert_eq!(services.status(), 200);
}
