//! The OAuth 2.0 / OpenID Connect endpoints in /api/openapi.json: the forms
//! the tests send validate against the documented request bodies, the real
//! answers (successes and errors) against the documented responses, every
//! OAuth route the source registers is there, and so is every authorization
//! parameter the source reads.
use reqwest::{RequestBuilder, Response};
use serde_json::{json, Map, Value};

use crate::browser::{callback_params, hidden_inputs, location, param};
use crate::dpop_keys::DpopKey;
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

    /// Validates a JSON body against `method path`'s.
    fn conforms_json(&self, method: &str, path: &str, body: &Value) {
        let schema = &operation(self.doc, method, path)["requestBody"]["content"]
            ["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} documents its JSON body"
        );
        validate(self.doc, schema, body, &format!("{method} {path} body"));
    }

    /// Validates a form sent some other way (a browser's) against `path`'s body.
    fn conforms(&self, path: &str, form: &[(String, String)]) {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        validate(
            self.doc,
            self.form_schema(path),
            &form_body(&pairs),
            &format!("POST {path} form {form:?}"),
        );
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
    let owned: Vec<(String, String)> = authorization
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    d.conforms(&auth, &owned);
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
    let metadata = json!({
        "client_name": "Documented",
        "redirect_uris": ["https://registered.example.com/cb"],
        "contacts": ["ops@example.com"]
    });
    d.conforms_json("post", &register, &metadata);
    let registered = seen(
        "register",
        d.send(
            "post",
            &register,
            app.client
                .post(url(&register))
                .bearer_auth(&app.admin_token)
                .json(&metadata),
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
        if let Some(fields) = replaced.as_object_mut() {
            fields.remove(generated);
        }
    }
    replaced["client_name"] = json!("Documented again");
    d.conforms_json("put", &managed, &replaced);
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

/// The browser's part (consent, the code's exchange, sign-out and its
/// confirmation), a DPoP-bound token, a token exchange and a device code,
/// each answer and form checked against the document.
#[tokio::test]
async fn flows_through_every_grant_validate_against_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let d = Documented {
        app: &app,
        doc: &doc,
    };
    app.create_user("flow", "flow-password").await;
    let redirect = "https://flow.example.com/cb";
    let (id, secret) = app
        .web_client(
            redirect,
            json!({"deviceFlowEnabled": true, "postLogoutRedirectUris": ["https://flow.example.com/bye"]}),
        )
        .await;
    let basic = |r: RequestBuilder| r.basic_auth(&id, Some(&secret));

    // Sign in, consent, and the code for tokens.
    let verifier = "a-long-enough-code-verifier-for-the-openapi-test-0123456789";
    let challenge = idhub::oauth2::pkce::s256(verifier);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", redirect),
            ("scope", "openid profile 0-0-0-0-0"),
            ("state", "flow-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let (browser, consent_page) = app
        .signed_in_at(&format!("{BASE}/auth?{query}"), "flow", "flow-password")
        .await;
    assert_eq!(consent_page.status(), 200, "the consent page");
    let html = consent_page.text().await.expect("page");
    let mut form = hidden_inputs(&html);
    form.push(("decision".into(), "allow".into()));
    let consent = format!("{BASE}/auth/consent");
    d.conforms(&consent, &form);
    let decided = browser
        .post(app.url(&consent))
        .form(&form)
        .send()
        .await
        .expect("consent");
    let back = location(&decided);
    d.answer("post", &consent, decided).await;
    let code = param(&callback_params(&back), "code")
        .expect("a code")
        .to_owned();
    let (status, tokens) = d
        .post_form(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ],
            basic,
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().expect("an ID token");

    // Sign-out with the ID token as hint, confirmed on the page.
    let logout = format!("{BASE}/logout");
    let asked = browser
        .post(app.url(&logout))
        .form(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "https://flow.example.com/bye"),
            ("state", "bye-state"),
        ])
        .send()
        .await
        .expect("logout");
    let (status, _) = d.answer("post", &logout, asked).await;
    assert!(status == 200 || status == 303, "{status}");
    let confirm = format!("{BASE}/logout/confirm");
    let forged = browser
        .post(app.url(&confirm))
        .form(&[("csrf_token", "forged-anti-forgery-token")])
        .send()
        .await
        .expect("confirm");
    assert_eq!(d.answer("post", &confirm, forged).await.0, 403);
    let repeated = app
        .client
        .get(app.url(&format!("{logout}?state=a&state=b")))
        .send()
        .await
        .expect("logout");
    assert_eq!(
        d.answer("get", &logout, repeated).await.0,
        400,
        "a repeated parameter gets an error page"
    );

    // A DPoP-bound token, and what introspection says of it.
    let (trusted, trusted_secret) = app.service_with(json!({"trusted": true})).await;
    let as_trusted = |r: RequestBuilder| r.basic_auth(&trusted, Some(&trusted_secret));
    let key = DpopKey::es256();
    let proof = key.proof("POST", &app.url(&format!("{BASE}/token")), None, json!({}));
    let (status, bound) = d
        .post_form("token", &[("grant_type", "client_credentials")], |r| {
            as_trusted(r).header("DPoP", proof.as_str())
        })
        .await;
    assert_eq!(status, 200, "{bound}");
    assert_eq!(bound["token_type"], "DPoP");
    let bound = bound["access_token"].as_str().expect("token");
    let (_, seen) = d
        .post_form("introspect", &[("token", bound)], as_trusted)
        .await;
    assert!(seen["cnf"]["jkt"].is_string(), "{seen}");

    // A token exchange, and the `act` introspection shows.
    let (api, api_secret) = app
        .service_with(json!({"tokenExchangeEnabled": true}))
        .await;
    let (backend, backend_secret) = app.service_with(json!({})).await;
    let subject = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "flow"),
                ("password", "flow-password"),
                ("scope", &format!("{api} {backend}")),
            ],
            (&trusted, &trusted_secret),
        )
        .await;
    let subject = subject["access_token"].as_str().expect("token");
    let (status, exchanged) = d
        .post_form(
            "token",
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", subject),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("audience", &backend),
            ],
            |r| r.basic_auth(&api, Some(&api_secret)),
        )
        .await;
    assert_eq!(status, 200, "{exchanged}");
    let exchanged = exchanged["access_token"].as_str().expect("token");
    let (_, seen) = d
        .post_form("introspect", &[("token", exchanged)], |r| {
            r.basic_auth(&backend, Some(&backend_secret))
        })
        .await;
    assert_eq!(seen["act"]["sub"], json!(api), "{seen}");

    // A device code the user has not approved yet.
    let (_, started) = d
        .post_form("device", &[("scope", "0-0-0-0-0")], basic)
        .await;
    let device_code = started["device_code"].as_str().expect("device code");
    let (status, pending) = d
        .post_form(
            "token",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
            ],
            basic,
        )
        .await;
    assert_eq!(
        (status, &pending["error"]),
        (400, &json!("authorization_pending"))
    );
}

/// `(path, method)` of every route `src/endpoints/mod.rs` registers: each
/// method builder (`web::get()`, …) belongs to the path literal before it,
/// and `post_page("/path", …)` is a POST of its path.
fn registered_oauth_routes() -> Vec<(String, String)> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/endpoints/mod.rs"))
            .expect("src/endpoints/mod.rs");
    let routes = source
        .split_once("pub fn routes")
        .expect("the routes function")
        .1;
    // Paths in the OAuth scope are written relative to it.
    let (root, scoped) = routes
        .split_once("web::scope(OAUTH_BASE)")
        .expect("the OAuth scope");
    let token =
        regex::Regex::new(r#"(?:(get|post)_page\(\s*)?"(/[^"]*)"|web::(get|post|put|delete)\(\)"#)
            .expect("regex");
    let mut found = Vec::new();
    for (prefix, part) in [("", root), (BASE, scoped)] {
        let mut path: Option<String> = None;
        for hit in token.captures_iter(part) {
            match (hit.get(1), hit.get(2), hit.get(3)) {
                (Some(method), Some(literal), _) => found.push((
                    format!("{prefix}{}", literal.as_str()),
                    method.as_str().to_owned(),
                )),
                (None, Some(literal), _) => path = Some(format!("{prefix}{}", literal.as_str())),
                (_, None, Some(method)) => {
                    let path = path.clone().expect("a method after its path");
                    found.push((path, method.as_str().to_owned()));
                }
                _ => {}
            }
        }
    }
    found
}

#[tokio::test]
async fn the_documented_oauth_routes_are_the_registered_ones() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut registered = registered_oauth_routes();
    registered.sort();
    assert!(registered.len() >= 19, "{registered:?}");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        if !(path.starts_with(BASE) || path.starts_with("/.well-known/")) {
            continue;
        }
        for method in operations.as_object().expect("operations").keys() {
            documented.push((path.clone(), method.clone()));
        }
    }
    documented.sort();
    assert_eq!(documented, registered);
}

/// The authorization endpoint reads its parameters into the type the
/// document is generated from, so what it reads is documented by
/// construction; what is left to check is the shape: a pushed request is
/// the same request without `client_id` (its client authenticates) and
/// without `request_uri`.
#[tokio::test]
async fn a_pushed_request_has_the_authorization_parameters_but_its_own_two() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let fields = |name: &str| -> Vec<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}"))
            .keys()
            .cloned()
            .collect()
    };
    let sent = fields("AuthorizationRequest");
    let pushed = fields("PushedParameters");
    for expected in [
        "client_id",
        "request_uri",
        "response_type",
        "login_hint",
        "dpop_jkt",
    ] {
        assert!(sent.iter().any(|n| n == expected), "{expected} in {sent:?}");
    }
    let mut without_own: Vec<&String> = sent
        .iter()
        .filter(|n| *n != "client_id" && *n != "request_uri")
        .collect();
    let mut pushed: Vec<&String> = pushed.iter().collect();
    without_own.sort();
    pushed.sort();
    assert_eq!(without_own, pushed);
    let required = schemas["AuthorizationRequest"]["required"].clone();
    assert_eq!(required, serde_json::json!(["client_id"]), "{required}");
}

/// Client generators make one constant per value.
#[tokio::test]
async fn every_enum_lists_each_value_once() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    fn walk(value: &Value, at: &str) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::Array(values)) = fields.get("enum") {
                    for (i, v) in values.iter().enumerate() {
                        assert!(!values[..i].contains(v), "{v} twice in the enum at {at}");
                    }
                }
                for (name, field) in fields {
                    walk(field, &format!("{at}/{name}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, at)),
            _ => {}
        }
    }
    walk(&doc, "");
    assert!(
        doc["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .is_some_and(|codes| codes.contains(&json!("access_denied"))),
        "the error codes are an enum"
    );
}
