//! The OpenAPI document at /api/openapi.json: an OpenAPI 3.1 document that
//! names every REST route the source registers, and that real answers of
//! the REST API (successes and errors) validate against. The OAuth
//! endpoints' part is checked in `openapi_oauth`.
use serde_json::{json, Value};

use crate::helpers::{skipped, spawn_app, TestApp};

pub async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("document");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// The operation, which must be documented.
pub fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is documented");
    operation
}

/// Validates `body` against the schema the document gives for this
/// operation's answer with `status`.
pub fn check(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let answer = &operation(doc, method, path)["responses"][status.to_string()];
    let schema = &answer["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents its {status} answer as JSON"
    );
    validate(doc, schema, body, &format!("{method} {path} {status}"));
}

/// Validates `instance` against `schema`, whose references point into `doc`.
pub fn validate(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{instance:#}");
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = app.url(path);
    let request = match method {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        "delete" => app.client.delete(url),
        other => panic!("{other}"),
    };
    let request = request.bearer_auth(&app.admin_token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn real_answers_validate_against_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");

    let mut answers: Vec<(&str, &str, String, u16, Value)> = Vec::new();
    let mut record =
        |method: &'static str, template: &'static str, (status, body): (u16, Value)| {
            answers.push((method, template, String::new(), status, body.clone()));
            body
        };
    let created = record(
        "post",
        "/api/rest/services",
        call(
            &app,
            "post",
            "/api/rest/services",
            Some(
                json!({"name": "Documented", "redirectUris": ["https://app.example.com/cb"],
                        "homeUrl": "https://app.example.com"}),
            ),
        )
        .await,
    );
    let service = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a service: {created}"))
        .to_owned();
    let one = format!("/api/rest/services/{service}");
    record(
        "get",
        "/api/rest/services",
        call(&app, "get", "/api/rest/services", None).await,
    );
    record(
        "get",
        "/api/rest/services/{id}",
        call(&app, "get", &one, None).await,
    );
    record(
        "post",
        "/api/rest/services/{id}",
        call(
            &app,
            "post",
            &one,
            Some(json!({"trusted": true, "homeUrl": null})),
        )
        .await,
    );
    record(
        "post",
        "/api/rest/services/{id}/secret",
        call(&app, "post", &format!("{one}/secret"), None).await,
    );
    record(
        "post",
        "/api/rest/services",
        call(
            &app,
            "post",
            "/api/rest/services",
            Some(json!({"name": ""})),
        )
        .await,
    );
    record(
        "get",
        "/api/rest/services/{id}",
        call(&app, "get", "/api/rest/services/no-such-service", None).await,
    );

    let user = record(
        "post",
        "/api/rest/users",
        call(
            &app,
            "post",
            "/api/rest/users",
            Some(json!({"login": "doc", "password": "doc-password", "email": "doc@example.com"})),
        )
        .await,
    );
    let user_path = format!("/api/rest/users/{}", user["id"].as_str().expect("id"));
    record(
        "get",
        "/api/rest/users",
        call(&app, "get", "/api/rest/users", None).await,
    );
    record(
        "get",
        "/api/rest/users/{id}",
        call(&app, "get", "/api/rest/users/me", None).await,
    );
    record(
        "post",
        "/api/rest/users/{id}",
        call(&app, "post", &user_path, Some(json!({"name": "Doc"}))).await,
    );
    let token = record(
        "post",
        "/api/rest/users/{id}/permanenttokens",
        call(
            &app,
            "post",
            "/api/rest/users/me/permanenttokens",
            Some(json!({"name": "documented", "scope": "0-0-0-0-0"})),
        )
        .await,
    );
    let token_path = format!(
        "/api/rest/users/me/permanenttokens/{}",
        token["id"].as_str().expect("id")
    );
    record(
        "get",
        "/api/rest/users/{id}/permanenttokens",
        call(&app, "get", "/api/rest/users/me/permanenttokens", None).await,
    );
    record(
        "get",
        "/api/rest/users/{id}/permanenttokens/{token_id}",
        call(&app, "get", &token_path, None).await,
    );
    record(
        "delete",
        "/api/rest/users/{id}/permanenttokens/{token_id}",
        call(&app, "delete", &token_path, None).await,
    );
    record(
        "get",
        "/api/rest/users/{id}/authorizedapps",
        call(&app, "get", "/api/rest/users/me/authorizedapps", None).await,
    );
    record(
        "delete",
        "/api/rest/users/{id}/authorizedapps/{service_id}",
        call(
            &app,
            "delete",
            &format!("/api/rest/users/me/authorizedapps/{service}"),
            None,
        )
        .await,
    );
    record(
        "get",
        "/api/rest/auditevents",
        call(&app, "get", "/api/rest/auditevents", None).await,
    );
    record(
        "delete",
        "/api/rest/users/{id}",
        call(&app, "delete", &user_path, None).await,
    );
    record(
        "delete",
        "/api/rest/services/{id}",
        call(&app, "delete", &one, None).await,
    );
    let anonymous = app
        .client
        .get(app.url("/api/rest/services"))
        .send()
        .await
        .expect("request");
    let status = anonymous.status().as_u16();
    let body: Value = anonymous.json().await.expect("json");
    answers.push(("get", "/api/rest/services", String::new(), status, body));

    let statuses: Vec<u16> = answers.iter().map(|a| a.3).collect();
    for expected in [200, 400, 401, 404] {
        assert!(statuses.contains(&expected), "an answer with {expected}");
    }
    for (method, template, _, status, body) in &answers {
        check(&doc, method, template, *status, body);
    }
}

/// Python's openapi-spec-validator (PyPI), an independent reading of the
/// OpenAPI 3.1 specification, accepts the document.
#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let has_validator = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_validator {
        // CI installs it and makes the test required.
        if std::env::var("IDHUB_BROWSER_TESTS").as_deref() == Ok("required") {
            panic!("python3 -m openapi_spec_validator is required");
        }
        skipped("needs `pip install openapi-spec-validator`");
        return;
    }
    let app = spawn_app().await;
    let doc = document(&app).await;
    let file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(file.path(), doc.to_string()).expect("write");
    let checked = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(file.path())
        .output()
        .expect("run the validator");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && said.trim_end().ends_with("OK"),
        "{said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn every_rest_route_in_the_source_is_documented() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let documented: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    // A collection, and the routes it registers up to `.register(`.
    let collection =
        regex::Regex::new(r#"(?s)Collection::at\("([^"]+)",\s*"([^"]+)"\)(.*?)\.register\("#)
            .expect("regex");
    let route = regex::Regex::new(r#""(/api/rest/[^"]+)""#).expect("regex");
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rest");
    let mut registered = Vec::new();
    for entry in std::fs::read_dir(directory).expect("src/rest") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("source");
        if !source.contains("pub fn routes") {
            continue;
        }
        for found in collection.captures_iter(&source) {
            registered.push(found[1].to_owned());
            let routes = &found[3];
            if [".get(", ".update(", ".delete("]
                .iter()
                .any(|item_route| routes.contains(item_route))
            {
                registered.push(format!("{}/{}", &found[1], &found[2]));
            }
        }
        for found in route.captures_iter(&source) {
            registered.push(found[1].to_owned());
        }
    }
    assert!(registered.len() >= 10, "{registered:?}");
    for path in &registered {
        assert!(
            documented.contains(&path),
            "{path} is not in /api/openapi.json"
        );
    }
}
