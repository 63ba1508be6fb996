//! The OAuth 2.0 / OpenID Connect endpoints in /api/openapi.json: the forms
//! the tests send validate against the documented request bodies, the real
//! answers (successes and errors) against the documented responses, every
//! OAuth route the source registers is there, and so is every authorization
//! parameter the source reads.
use reqwest::{RequestBuilder, Response};
use serde_json::{json, Map, Value};

use crate::browser::location;
use crate::helpers::{spawn_app, TestApp};
use crate::openapi::{check, document, operation, validate};

const BASE: &str = "/api/rest/oauth2";
const FORM: &str = "application/x-www-form-urlencoded";

/// One exchange with an OAuth endpoint, checked against the document.
struct Documented<'a> {
    app: &'a TestApp,
    doc: &'a Value,
}

impl Documented<'_> {
    /// Sends `form` to `POST {BASE}/{endpoint}` after validating it against
    /// the documented body; validates the answer.
    async fn post_form(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        customize: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> (u16, Value) {
        let path = format!("{BASE}/{endpoint}");
        let fields = form_body(form);
        validate(
            self.doc,
            self.form_schema(&path),
            &fields,
            &format!("POST {path} form {form:?}"),
        );
        self.send_form(&path, form, customize).await
    }

    /// Sends a form the document does not allow; validates the answer.
    async fn post_nonconforming_form(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        customize: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> (u16, Value) {
        let path = format!("{BASE}/{endpoint}");
        let mut root = self.form_schema(&path).clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
        assert!(
            !validator.is_valid(&form_body(form)),
            "POST {path}: the document allows {form:?}"
        );
        self.send_form(&path, form, customize).await
    }

    fn form_schema(&self, path: &str) -> &Value {
        let body = &operation(self.doc, "post", path)["requestBody"]["content"][FORM]["schema"];
        assert!(body.is_object(), "POST {path} documents its form");
        body
    }

    async fn send_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        customize: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> (u16, Value) {
        let request = self.app.client.post(self.app.url(path)).form(form);
        self.answer(
            "post",
            path,
            customize(request).send().await.expect("request"),
        )
        .await
    }

    /// Validates a JSON answer, or only that its status is documented.
    async fn answer(&self, method: &str, path: &str, response: Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = response.text().await.expect("body");
        let documented = &operation(self.doc, method, path)["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {path} documents its {status} answer: {text}"
        );
        if !json {
            assert!(
                documented["content"].get("application/json").is_none(),
                "{method} {path} {status} is documented as JSON but answered {text:?}"
            );
            return (status, Value::Null);
        }
        let body: Value = serde_json::from_str(&text).expect("JSON answer");
        check(self.doc, method, path, status, &body);
        (status, body)
    }

    async fn send(&self, method: &str, template: &str, request: RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request");
        self.answer(method, template, response).await
    }
}

/// A form as the JSON object its schema describes.
fn form_body(form: &[(&str, &str)]) -> Value {
    let fields: Map<String, Value> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    Value::Object(fields)
}

#[tokio::test]
async fn oauth_answers_and_forms_validate_against_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let d = Documented {
        app: &app,
        doc: &doc,
    };
    let url = |path: &str| app.url(path);
    let mut statuses: Vec<(String, u16)> = Vec::new();
    let mut seen = |what: &str, (status, body): (u16, Value)| {
        statuses.push((what.to_owned(), status));
        body
    };

    for path in [
        "/.well-known/openid-configuration".to_owned(),
        format!("{BASE}/.well-known/openid-configuration"),
        format!("{BASE}/keys"),
    ] {
        seen(
            &path,
            d.send("get", &path, app.client.get(url(&path))).await,
        );
    }

    let (id, secret) = app
        .service_with(json!({
            "trusted": true,
            "redirectUris": ["https://app.example.com/cb"],
            "deviceFlowEnabled": true
        }))
        .await;
    let basic = |r: RequestBuilder| r.basic_auth(&id, Some(&secret));
    let wrong = |r: RequestBuilder| r.basic_auth(&id, Some("not-the-secret"));
    seen(
        "client_credentials",
        d.post_form("token", &[("grant_type", "client_credentials")], basic)
            .await,
    );
    seen(
        "client_secret_post",
        d.post_form(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            |r| r,
        )
        .await,
    );
    seen(
        "wrong secret",
        d.post_form("token", &[("grant_type", "client_credentials")], wrong)
            .await,
    );
    seen(
        "unknown grant",
        d.post_nonconforming_form("token", &[("grant_type", "magic")], basic)
            .await,
    );
    app.create_user("documented", "documented-password").await;
    let tokens = seen(
        "password",
        d.post_form(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "documented"),
                ("password", "documented-password"),
                ("scope", "openid profile email offline_access 0-0-0-0-0"),
            ],
            basic,
        )
        .await,
    );
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let refreshed = seen(
        "refresh",
        d.post_form(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
            basic,
        )
        .await,
    );
    let refresh = refreshed["refresh_token"].as_str().expect("refresh token");

    for (token, hint) in [
        (access, "access_token"),
        (refresh, "refresh_token"),
        ("no-such-token", "access_token"),
    ] {
        seen(
            "introspect",
            d.post_form(
                "introspect",
                &[("token", token), ("token_type_hint", hint)],
                basic,
            )
            .await,
        );
    }
    seen(
        "introspect, wrong secret",
        d.post_form("introspect", &[("token", access)], wrong).await,
    );

    let userinfo = format!("{BASE}/userinfo");
    seen(
        "userinfo",
        d.send(
            "get",
            &userinfo,
            app.client.get(url(&userinfo)).bearer_auth(access),
        )
        .await,
    );
    seen(
        "userinfo post",
        d.send(
            "post",
            &userinfo,
            app.client.post(url(&userinfo)).bearer_auth(access),
        )
        .await,
    );
    seen(
        "userinfo, no token",
        d.send("get", &userinfo, app.client.get(url(&userinfo)))
            .await,
    );

    let authorization = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", "https://app.example.com/cb"),
        ("scope", "openid 0-0-0-0-0"),
        ("state", "documented-state"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let pushed = seen("par", d.post_form("par", &authorization, basic).await);
    seen(
        "par, bad response_type",
        d.post_form(
            "par",
            &[
                ("response_type", "magic"),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
            basic,
        )
        .await,
    );
    seen(
        "device",
        d.post_form("device", &[("scope", "0-0-0-0-0")], basic)
            .await,
    );

    let auth = format!("{BASE}/auth");
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    seen(
        "auth",
        d.send(
            "get",
            &auth,
            app.client
                .get(url(&auth))
                .query(&[("client_id", id.as_str()), ("request_uri", request_uri)]),
        )
        .await,
    );
    seen(
        "auth, unknown client",
        d.send(
            "get",
            &auth,
            app.client
                .get(url(&auth))
                .query(&[("client_id", "no-such-client"), ("response_type", "code")]),
        )
        .await,
    );
    seen(
        "auth post",
        d.send(
            "post",
            &auth,
            app.client.post(url(&auth)).form(&authorization),
        )
        .await,
    );
    let signing_in = app
        .client
        .get(url(&auth))
        .query(&authorization)
        .send()
        .await
        .expect("auth");
    assert_eq!(signing_in.status(), 303, "to the sign-in page");
    assert!(
        location(&signing_in).contains("/login"),
        "{}",
        location(&signing_in)
    );

    let register = format!("{BASE}/register");
    let registered = seen(
        "register",
        d.send(
            "post",
            &register,
            app.client
                .post(url(&register))
                .bearer_auth(&app.admin_token)
                .json(&json!({
                    "client_name": "Documented",
                    "redirect_uris": ["https://registered.example.com/cb"],
                    "contacts": ["ops@example.com"]
                })),
        )
        .await,
    );
    seen(
        "register, bad redirect",
        d.send(
            "post",
            &register,
            app.client
                .post(url(&register))
                .bearer_auth(&app.admin_token)
                .json(&json!({"redirect_uris": ["not a uri"]})),
        )
        .await,
    );
    let managed = format!("{BASE}/register/{{client_id}}");
    let registration = url(&format!(
        "{BASE}/register/{}",
        registered["client_id"].as_str().expect("client_id")
    ));
    let management = registered["registration_access_token"]
        .as_str()
        .expect("registration access token");
    seen(
        "registration read",
        d.send(
            "get",
            &managed,
            app.client.get(&registration).bearer_auth(management),
        )
        .await,
    );
    let mut replaced = registered.clone();
    for generated in [
        "client_secret",
        "client_secret_expires_at",
        "registration_access_token",
        "registration_client_uri",
        "client_id_issued_at",
    ] {
        replaced.as_object_mut().map(|o| o.remove(generated));
    }
    replaced["client_name"] = json!("Documented again");
    let replaced = seen(
        "registration replace",
        d.send(
            "put",
            &managed,
            app.client
                .put(&registration)
                .bearer_auth(management)
                .json(&replaced),
        )
        .await,
    );
    seen(
        "registration, wrong token",
        d.send(
            "get",
            &managed,
            app.client.get(&registration).bearer_auth("not-the-token"),
        )
        .await,
    );
    // An update rotates the registration access token.
    let management = replaced["registration_access_token"]
        .as_str()
        .expect("the new registration access token");
    seen(
        "registration delete",
        d.send(
            "delete",
            &managed,
            app.client.delete(&registration).bearer_auth(management),
        )
        .await,
    );

    let logout = format!("{BASE}/logout");
    seen(
        "logout",
        d.send("get", &logout, app.client.get(url(&logout))).await,
    );
    seen(
        "logout, unregistered destination",
        d.send(
            "get",
            &logout,
            app.client.get(url(&logout)).query(&[
                ("client_id", id.as_str()),
                ("post_logout_redirect_uri", "https://elsewhere.example.com/"),
            ]),
        )
        .await,
    );
    seen(
        "revoke",
        d.post_form(
            "revoke",
            &[("token", refresh), ("token_type_hint", "refresh_token")],
            basic,
        )
        .await,
    );

    let answered: Vec<u16> = statuses.iter().map(|(_, status)| *status).collect();
    for expected in [200, 201, 204, 303, 400, 401] {
        assert!(
            answered.contains(&expected),
            "an answer with {expected}: {statuses:?}"
        );
    }
}

#[tokio::test]
async fn every_oauth_route_in_the_source_is_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/endpoints/mod.rs"))
            .expect("src/endpoints/mod.rs");
    // Routes under the OAuth base are written relative to it; the discovery
    // document is also served at the root.
    let (root, scoped) = source
        .split_once("web::scope(OAUTH_BASE)")
        .expect("the OAuth scope");
    let path = regex::Regex::new(r#""(/[^"]*)""#).expect("regex");
    let mut registered: Vec<String> = path
        .captures_iter(root)
        .map(|found| found[1].to_owned())
        .collect();
    registered.extend(
        path.captures_iter(scoped)
            .map(|found| format!("{BASE}{}", &found[1])),
    );
    assert!(registered.len() >= 14, "{registered:?}");
    let documented = doc["paths"].as_object().expect("paths");
    for path in &registered {
        assert!(
            documented.contains_key(path),
            "{path} is not in /api/openapi.json"
        );
    }
}

#[tokio::test]
async fn every_authorization_parameter_the_source_reads_is_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let documented = doc["components"]["schemas"]["AuthorizeParams"]["properties"]
        .as_object()
        .expect("AuthorizeParams");
    let read = regex::Regex::new(r#"(?:params|p)\.get\("([a-z_]+)"\)"#).expect("regex");
    let mut names = Vec::new();
    for file in [
        "src/oauth2/authorize.rs",
        "src/endpoints/authorize/mod.rs",
        "src/endpoints/authorize/respond.rs",
        "src/endpoints/par.rs",
    ] {
        let source = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        names.extend(read.captures_iter(&source).map(|found| found[1].to_owned()));
    }
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        assert!(
            documented.contains_key(name),
            "the authorization parameter {name} is not documented"
        );
    }
}
