//! Dynamic client registration (RFC 7591) and client configuration (RFC
//! 7592): who may register, every error code, the registered client as an
//! ordinary (never trusted) service, and management with the registration
//! access token, which each update replaces.
use reqwest::Response;
use serde_json::{json, Value};

use crate::helpers::{assert_oauth_error, spawn_app, spawn_app_with, TestApp};

const CALLBACK: &str = "https://rp.example/callback";

async fn register(app: &TestApp, token: Option<&str>, body: &Value) -> Response {
    let mut request = app
        .client
        .post(app.url("/api/rest/oauth2/register"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn registered(app: &TestApp, body: &Value) -> Value {
    let response = register(app, Some(&app.admin_token), body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let client = response.json().await.unwrap();
    crate::run_log::saw_json(&client);
    client
}

async fn manage(
    app: &TestApp,
    method: reqwest::Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> Response {
    let mut request = app.client.request(method, uri).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn an_administrator_registers_a_client_that_is_an_ordinary_service() {
    let app = spawn_app().await;
    let document: Value = app.public_json("/.well-known/openid-configuration").await;
    assert_eq!(
        document["registration_endpoint"],
        app.url("/api/rest/oauth2/register")
    );
    let client = registered(
        &app,
        &json!({
            "client_name": "Registered RP",
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "post_logout_redirect_uris": ["https://rp.example/bye"],
            "contacts": ["ops@rp.example"],
        "require_pushed_authorization_requests": true,
            "trusted": true,
        }),
    )
    .await;
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    assert_eq!(client["client_secret_expires_at"], 0);
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(client["response_types"], json!(["code"]));
    assert_eq!(client["contacts"], json!(["ops@rp.example"]));
    assert!(client["registration_access_token"].is_string());
    assert_eq!(
        client["registration_client_uri"],
        app.url(&format!("/api/rest/oauth2/register/{id}"))
    );

    let service: Value = app
        .get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["name"], "Registered RP");
    assert_eq!(service["trusted"], false, "registration never trusts");
    assert_eq!(service["implicitFlowEnabled"], false);
    assert_eq!(service["parRequired"], true);
    assert_eq!(client["require_pushed_authorization_requests"], true);
    assert_eq!(
        service["postLogoutRedirectUris"],
        json!(["https://rp.example/bye"])
    );
    // Its secret authenticates it like any service's.
    let introspected = app
        .oauth_post("introspect", &[("token", "x")], Some((id, secret)))
        .await;
    assert_eq!(introspected.status(), 200);
    let events: Value = app
        .get(
            &format!("/api/rest/auditevents?query=service%3A%20{id}"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events["events"][0]["type"], "service.created");
}

#[tokio::test]
async fn registration_is_closed_unless_an_administrator_asks_or_the_setting_opens_it() {
    let app = spawn_app().await;
    let body = json!({"redirect_uris": [CALLBACK]});
    assert_oauth_error(register(&app, None, &body).await, 401, "invalid_token").await;
    assert_oauth_error(
        register(&app, Some("not-a-token"), &body).await,
        401,
        "invalid_token",
    )
    .await;
    app.create_user("plain", "plain-password").await;
    let plain = app.token_for("plain", "t", &["0-0-0-0-0"]);
    assert_oauth_error(
        register(&app, Some(&plain), &body).await,
        403,
        "access_denied",
    )
    .await;

    let open = spawn_app_with(|s| s.open_registration = true).await;
    let response = register(
        &open,
        None,
        &json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    assert!(
        client.get("client_secret").is_none(),
        "a public client gets no secret"
    );
    let id = client["client_id"].as_str().unwrap();
    let service: Value = open
        .get(&format!("/api/rest/services/{id}"), &open.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            service["publicClient"].as_bool(),
            service["pkceRequired"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let events: Value = open
        .get(
            &format!("/api/rest/auditevents?query=service%3A%20{id}"),
            &open.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        events["events"][0]["actor"].is_null(),
        "registered by nobody known: {events}"
    );
}

#[tokio::test]
async fn every_refusal_has_its_rfc_7591_error_code() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["http://rp.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://rp.example/cb#frag"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": "https://rp.example/cb"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "grant_types": ["urn:ietf:params:oauth:grant-type:token-exchange"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["password"], "token_endpoint_auth_method": "none"}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["password"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"grant_types": ["client_credentials"], "jwks_uri": "https://127.0.0.1/jwks"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "backchannel_logout_uri": "http://rp.example/bc"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "client_uri": "javascript:alert(1)"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "scope": "no-such-service"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [CALLBACK], "post_logout_redirect_uris": ["javascript:alert(1)"]}),
            "invalid_client_metadata",
        ),
    ];
    for (body, code) in cases {
        let response = register(&app, Some(&app.admin_token), &body).await;
        let error = assert_oauth_error(response, 400, code).await;
        assert!(
            error["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{body}"
        );
    }
    let garbled = app
        .client
        .post(app.url("/api/rest/oauth2/register"))
        .bearer_auth(&app.admin_token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_oauth_error(garbled, 400, "invalid_client_metadata").await;
    let services: Value = app
        .get("/api/rest/services", &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(services["total"], 1, "nothing was registered: {services}");
}

#[tokio::test]
async fn the_registration_access_token_reads_replaces_and_deletes_the_client() {
    let app = spawn_app().await;
    let client = registered(
        &app,
        &json!({"client_name": "Managed", "redirect_uris": [CALLBACK]}),
    )
    .await;
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    let uri = client["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = client["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    use reqwest::Method;

    let read: Value = manage(&app, Method::GET, &uri, &token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (read["client_id"].as_str(), read["client_name"].as_str()),
        (Some(id.as_str()), Some("Managed"))
    );
    assert!(read.get("client_secret").is_none() && read.get("registration_access_token").is_none());
    for wrong in ["wrong-token", app.admin_token.as_str()] {
        assert_oauth_error(
            manage(&app, Method::GET, &uri, wrong, None).await,
            401,
            "invalid_token",
        )
        .await;
    }
    let other = registered(&app, &json!({"redirect_uris": [CALLBACK]})).await;
    let other_token = other["registration_access_token"].as_str().unwrap();
    assert_oauth_error(
        manage(&app, Method::GET, &uri, other_token, None).await,
        401,
        "invalid_token",
    )
    .await;
    let no_such = app.url("/api/rest/oauth2/register/no-such-client");
    assert_oauth_error(
        manage(&app, Method::GET, &no_such, &token, None).await,
        401,
        "invalid_token",
    )
    .await;

    let update = json!({"client_id": id, "client_name": "Renamed", "redirect_uris": [CALLBACK, "https://rp.example/other"]});
    let missing_id = json!({"client_name": "Renamed", "redirect_uris": [CALLBACK]});
    assert_oauth_error(
        manage(&app, Method::PUT, &uri, &token, Some(&missing_id)).await,
        400,
        "invalid_client_metadata",
    )
    .await;
    let bad_uri = json!({"client_id": id, "redirect_uris": ["http://rp.example/cb"]});
    assert_oauth_error(
        manage(&app, Method::PUT, &uri, &token, Some(&bad_uri)).await,
        400,
        "invalid_redirect_uri",
    )
    .await;
    let replaced = manage(&app, Method::PUT, &uri, &token, Some(&update)).await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["client_name"], "Renamed");
    assert_eq!(replaced["redirect_uris"].as_array().map(Vec::len), Some(2));
    let new_token = replaced["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_token, token);
    assert_oauth_error(
        manage(&app, Method::GET, &uri, &token, None).await,
        401,
        "invalid_token",
    )
    .await;
    assert_eq!(
        manage(&app, Method::GET, &uri, &new_token, None)
            .await
            .status(),
        200
    );
    // The secret is unchanged by an update.
    let introspected = app
        .oauth_post("introspect", &[("token", "x")], Some((&id, &secret)))
        .await;
    assert_eq!(introspected.status(), 200);

    let deleted = manage(&app, Method::DELETE, &uri, &new_token, None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        app.get(&format!("/api/rest/services/{id}"), &app.admin_token)
            .await
            .status(),
        404
    );
    assert_oauth_error(
        manage(&app, Method::GET, &uri, &new_token, None).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_client_can_only_narrow_what_an_administrator_allowed() {
    let app = spawn_app().await;
    let client = registered(
        &app,
        &json!({"redirect_uris": [CALLBACK], "grant_types": ["authorization_code", "implicit"],
                "response_types": ["code", "id_token"]}),
    )
    .await;
    let id = client["client_id"].as_str().unwrap().to_owned();
    let uri = client["registration_client_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut token = client["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = format!("/api/rest/services/{id}");
    let tightened = app
        .post_json(
            &service,
            &app.admin_token,
            &json!({"pkceRequired": true, "implicitFlowEnabled": false}),
        )
        .await;
    assert_eq!(tightened.status(), 200);
    let again = json!({"client_id": id, "redirect_uris": [CALLBACK],
                       "grant_types": ["authorization_code", "implicit"], "response_types": ["code", "id_token"]});
    let replaced = manage(&app, reqwest::Method::PUT, &uri, &token, Some(&again)).await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    // The answer says what the client may do now (it listed what it asked).
    assert_eq!(
        replaced["grant_types"],
        json!(["authorization_code"]),
        "{replaced}"
    );
    assert_eq!(replaced["response_types"], json!(["code"]), "{replaced}");
    token = replaced["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let now: Value = app
        .get(&service, &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            now["pkceRequired"].as_bool(),
            now["implicitFlowEnabled"].as_bool()
        ),
        (Some(true), Some(false))
    );

    app.post_json(&service, &app.admin_token, &json!({"trusted": true}))
        .await;
    let refused = manage(&app, reqwest::Method::PUT, &uri, &token, Some(&again)).await;
    assert_oauth_error(refused, 403, "access_denied").await;
    // Nor may it delete itself (it could, before).
    let refused = manage(&app, reqwest::Method::DELETE, &uri, &token, None).await;
    assert_oauth_error(refused, 403, "access_denied").await;
    assert_eq!(app.get(&service, &app.admin_token).await.status(), 200);
}

#[tokio::test]
async fn a_clients_update_and_deletion_apply_to_its_next_request() {
    let app = spawn_app().await;
    let device = "urn:ietf:params:oauth:grant-type:device_code";
    let client = registered(
        &app,
        &json!({"redirect_uris": [CALLBACK], "grant_types": ["authorization_code", device]}),
    )
    .await;
    let [id, secret, uri, token] = [
        "client_id",
        "client_secret",
        "registration_client_uri",
        "registration_access_token",
    ]
    .map(|member| client[member].as_str().unwrap().to_owned());
    let start = || app.oauth_post("device", &[("scope", "openid")], Some((&id, &secret)));
    // The service is now cached.
    assert_eq!(start().await.status(), 200);

    let without_device = json!({"client_id": id, "redirect_uris": [CALLBACK]});
    let replaced = manage(
        &app,
        reqwest::Method::PUT,
        &uri,
        &token,
        Some(&without_device),
    )
    .await;
    assert_eq!(replaced.status(), 200);
    let token: Value = replaced.json().await.unwrap();
    let token = token["registration_access_token"].as_str().unwrap();
    assert_oauth_error(start().await, 400, "unauthorized_client").await;

    let deleted = manage(&app, reqwest::Method::DELETE, &uri, token, None).await;
    assert_eq!(deleted.status(), 204);
    assert_oauth_error(
        app.oauth_post("introspect", &[("token", "x")], Some((&id, &secret)))
            .await,
        401,
        "invalid_client",
    )
    .await;
}

/// Open registration is bounded: anonymous metadata is small, and one
/// address registers a few clients an hour, then gets 429 with
/// `Retry-After`; an administrator is not counted.
#[tokio::test]
async fn open_registration_is_limited_in_size_and_rate() {
    let open = spawn_app_with(|s| {
        s.open_registration = true;
        s.open_registration_per_hour = 3;
    })
    .await;
    let small = json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"});
    let large = json!({"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none",
                       "client_name": "x", "contacts": vec!["someone@rp.example"; 1200]});
    let refused = register(&open, None, &large).await;
    assert_oauth_error(refused, 400, "invalid_client_metadata").await;
    let by_admin = register(&open, Some(&open.admin_token), &large).await;
    assert_ne!(by_admin.status(), 429);
    for _ in 0..3 {
        assert_eq!(register(&open, None, &small).await.status(), 201);
    }
    let limited = register(&open, None, &small).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert_eq!(
        register(&open, Some(&open.admin_token), &small)
            .await
            .status(),
        201,
        "an administrator is not limited"
    );
}

/// The registered `token_endpoint_auth_method` is the only way the client
/// authenticates (it was not enforced: a client with keys could still use
/// its secret). Authenticated, a bogus refresh token is `invalid_grant`
/// (400); the wrong method is `invalid_client` (401).
#[tokio::test]
async fn a_client_authenticates_only_the_way_it_registered() {
    let app = spawn_app().await;
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", "bogus")];
    for (method, works_with_basic) in [("client_secret_post", false), ("client_secret_basic", true)]
    {
        let client = registered(
            &app,
            &json!({"redirect_uris": [CALLBACK], "grant_types": ["authorization_code", "refresh_token"],
                    "token_endpoint_auth_method": method}),
        )
        .await;
        let (id, secret) = (
            client["client_id"].as_str().unwrap(),
            client["client_secret"].as_str().unwrap(),
        );
        let basic = app
            .client
            .post(app.url("/api/rest/oauth2/token"))
            .basic_auth(id, Some(secret))
            .form(&refresh)
            .send()
            .await
            .unwrap();
        let mut form = refresh.to_vec();
        form.extend([("client_id", id), ("client_secret", secret)]);
        let post = app
            .client
            .post(app.url("/api/rest/oauth2/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let (right, wrong) = match works_with_basic {
            true => (basic, post),
            false => (post, basic),
        };
        assert_oauth_error(right, 400, "invalid_grant").await;
        let refused = assert_oauth_error(wrong, 401, "invalid_client").await;
        assert!(
            refused["error_description"]
                .as_str()
                .unwrap()
                .contains(method),
            "{refused}"
        );
    }
    // A client that named no method may send its secret either way, as
    // before the method was enforced.
    let client = registered(&app, &json!({"redirect_uris": [CALLBACK], "grant_types": ["authorization_code", "refresh_token"]})).await;
    let (id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let mut form = refresh.to_vec();
    form.extend([("client_id", id), ("client_secret", secret)]);
    let post = app
        .client
        .post(app.url("/api/rest/oauth2/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_oauth_error(post, 400, "invalid_grant").await;
}

/// An administrator sets (or clears) the one method a service authenticates
/// with through the REST API, as a client does at registration; a method
/// idhub does not know is refused by name.
#[tokio::test]
async fn an_administrator_sets_the_client_authentication_method() {
    let app = spawn_app().await;
    let (id, secret) = app.service_with(json!({"trusted": true})).await;
    let path = format!("/api/rest/services/{id}");
    let form = [("grant_type", "client_credentials")];
    let set = |method: Value| {
        let app = &app;
        let path = path.clone();
        async move {
            app.post_json(
                &path,
                &app.admin_token,
                &json!({"tokenEndpointAuthMethod": method}),
            )
            .await
        }
    };
    let refused = set(json!("tls_client_auth")).await;
    crate::helpers::assert_error(refused, 400, Some("tokenEndpointAuthMethod")).await;

    let changed = set(json!("client_secret_post")).await;
    assert_eq!(changed.status(), 200);
    let shown: Value = changed.json().await.unwrap();
    assert_eq!(shown["tokenEndpointAuthMethod"], "client_secret_post");
    let basic = app.oauth_post("token", &form, Some((&id, &secret))).await;
    assert_oauth_error(basic, 401, "invalid_client").await;
    let mut posted = form.to_vec();
    posted.extend([
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    let post = app.oauth_post("token", &posted, None).await;
    assert_eq!(post.status(), 200, "{}", post.text().await.unwrap());

    let cleared = set(Value::Null).await;
    assert_eq!(cleared.status(), 200);
    let basic = app.oauth_post("token", &form, Some((&id, &secret))).await;
    assert_eq!(basic.status(), 200);
}
