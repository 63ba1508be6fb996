use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn create_with_fields_answers_exactly_id_and_secret() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/rest/services?fields=id,secret",
            &app.admin_token,
            &json!({"name": "Billing", "redirectUris": ["https://billing.example.com/cb"]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "secret"]);
    assert_eq!(body["secret"].as_str().unwrap().len(), 43);

    // The secret is never shown again, whatever fields ask for.
    let id = body["id"].as_str().unwrap();
    let again: Value = app
        .get(
            &format!("/api/rest/services/{id}?fields=id,secret,name"),
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, json!({"id": id, "name": "Billing"}));

    // Stored only as a hash.
    let mut conn = app.pool.get().unwrap();
    let stored = idhub::registry::repo::find(&mut conn, id).unwrap();
    assert_ne!(stored.secret_hash, body["secret"].as_str().unwrap());
    assert!(idhub::secrets::matches(
        body["secret"].as_str().unwrap(),
        &stored.secret_hash
    ));
}

#[tokio::test]
async fn create_without_fields_answers_the_full_service() {
    let app = spawn_app().await;
    let body = app
        .create_service(json!({
            "name": "Wiki", "homeUrl": "https://wiki.example.com", "applicationName": "wiki",
            "vendor": "ACME", "version": "1.2", "redirectUris": ["http://127.0.0.1/cb", "com.example.wiki:/cb"],
            "trusted": true, "impersonation": true, "pkceRequired": true
        }))
        .await;
    assert_eq!(body["name"], "Wiki");
    assert_eq!(body["homeUrl"], "https://wiki.example.com");
    assert_eq!(
        body["redirectUris"],
        json!(["http://127.0.0.1/cb", "com.example.wiki:/cb"])
    );
    assert_eq!(body["trusted"], true);
    assert_eq!(body["impersonation"], true);
    assert_eq!(body["pkceRequired"], true);
    assert_eq!(body["publicClient"], false);
    assert_eq!(body["consentRequired"], true);
    assert_eq!(body["implicitFlowEnabled"], true);
    assert!(body["secret"].is_string());
    assert!(body["created"].is_i64());
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn list_pages_filters_orders_and_shapes() {
    let app = spawn_app().await;
    for (name, trusted, uri) in [
        ("Alpha", true, "https://alpha.example.com/cb"),
        ("Bravo", false, "https://bravo.example.com/cb"),
        ("Charlie", false, "https://charlie.example.com/cb"),
        ("Delta app", true, "https://delta.example.com/cb"),
    ] {
        app.create_service(json!({"name": name, "trusted": trusted, "redirectUris": [uri]}))
            .await;
    }
    let get = |path: &'static str| {
        let app = &app;
        async move {
            let response = app.get(path, &app.admin_token).await;
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };
    let names = |body: &Value| -> Vec<String> {
        body["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = get("/api/rest/services").await;
    assert_eq!(all["total"], 5, "the built-in Hub service counts");
    assert_eq!(all["skip"], 0);
    assert_eq!(
        names(&all),
        ["Alpha", "Bravo", "Charlie", "Delta app", "Hub"]
    );
    assert!(all["services"][0].get("secret").is_none());

    let page = get("/api/rest/services?$skip=1&$top=2").await;
    assert_eq!(
        (
            page["skip"].as_i64(),
            page["top"].as_i64(),
            page["total"].as_i64()
        ),
        (Some(1), Some(2), Some(5))
    );
    assert_eq!(names(&page), ["Bravo", "Charlie"]);

    let desc = get("/api/rest/services?orderBy=name:desc&$top=2").await;
    assert_eq!(names(&desc), ["Hub", "Delta app"]);

    let trusted = get("/api/rest/services?query=is:%20trusted").await;
    assert_eq!(names(&trusted), ["Alpha", "Delta app", "Hub"]);

    let by_name = get("/api/rest/services?query=name:%20%7BDelta%20app%7D").await;
    assert_eq!(names(&by_name), ["Delta app"]);

    let by_uri = get("/api/rest/services?query=redirectUri:%20https://bravo.example.com/cb").await;
    assert_eq!(names(&by_uri), ["Bravo"]);

    let text = get("/api/rest/services?query=ar").await;
    assert_eq!(names(&text), ["Charlie"]);

    let by_key = get("/api/rest/services?query=key:%20hub").await;
    assert_eq!(names(&by_key), ["Hub"]);

    // fields on items, or on the envelope when it names envelope keys.
    let items = get("/api/rest/services?fields=id,name&$top=1").await;
    assert_eq!(items["services"][0].as_object().unwrap().len(), 2);
    assert_eq!(items["total"], 5);
    let envelope = get("/api/rest/services?fields=total,services(name)&$top=1").await;
    assert_eq!(
        envelope,
        json!({"total": 5, "services": [{"name": "Alpha"}]})
    );
}

#[tokio::test]
async fn update_is_partial_and_null_clears() {
    let app = spawn_app().await;
    let created = app
        .create_service(
            json!({"name": "Old", "vendor": "ACME", "homeUrl": "https://old.example.com",
            "redirectUris": ["https://old.example.com/cb"]}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/rest/services/{id}");
    let response = app
        .post_json(
            &path,
            &app.admin_token,
            &json!({"name": "New", "homeUrl": null, "trusted": true,
            "redirectUris": ["https://new.example.com/a", "https://new.example.com/b"]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["name"], "New");
    assert_eq!(updated["vendor"], "ACME", "absent fields stay");
    assert_eq!(updated["homeUrl"], Value::Null);
    assert_eq!(updated["trusted"], true);
    assert_eq!(
        updated["redirectUris"],
        json!(["https://new.example.com/a", "https://new.example.com/b"])
    );
    assert!(updated.get("secret").is_none());

    // An empty update changes nothing and still answers the service.
    let same: Value = app
        .post_json(&path, &app.admin_token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same["name"], "New");

    let fetched: Value = app.get(&path, &app.admin_token).await.json().await.unwrap();
    assert_eq!(fetched, same);
}

#[tokio::test]
async fn delete_removes_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let created = app.create_service(json!({"name": "Doomed"})).await;
    let path = format!("/api/rest/services/{}", created["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, &app.admin_token).await.status(), 200);
    assert_error(app.get(&path, &app.admin_token).await, 404, None).await;
    assert_error(app.delete(&path, &app.admin_token).await, 404, None).await;
    assert_error(
        app.post_json(&path, &app.admin_token, &json!({"name": "x"}))
            .await,
        404,
        None,
    )
    .await;
    assert_error(
        app.post_json(&format!("{path}/secret"), &app.admin_token, &json!({}))
            .await,
        404,
        None,
    )
    .await;
    assert_error(
        app.delete("/api/rest/services/0-0-0-0-0", &app.admin_token)
            .await,
        403,
        None,
    )
    .await;
}

#[tokio::test]
async fn secret_reset_replaces_the_secret() {
    let app = spawn_app().await;
    let created = app.create_service(json!({"name": "Rotating"})).await;
    let id = created["id"].as_str().unwrap();
    let old_secret = created["secret"].as_str().unwrap();
    let response = app
        .client
        .post(app.url(&format!("/api/rest/services/{id}/secret")))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let new_secret = body["secret"].as_str().unwrap();
    assert_ne!(new_secret, old_secret);

    let mut conn = app.pool.get().unwrap();
    let stored = idhub::registry::repo::find(&mut conn, id).unwrap();
    assert!(idhub::secrets::matches(new_secret, &stored.secret_hash));
    assert!(!idhub::secrets::matches(old_secret, &stored.secret_hash));
    let fetched: Value = app
        .get(&format!("/api/rest/services/{id}"), &app.admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(fetched["secretRotated"].as_i64() >= created["secretRotated"].as_i64());
}

#[tokio::test]
async fn registry_needs_an_admin_with_hub_scope() {
    let app = spawn_app().await;
    let no_token = app
        .client
        .get(app.url("/api/rest/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_token.headers()["www-authenticate"],
        "Bearer realm=\"idhub\""
    );
    assert_error(no_token, 401, None).await;

    let bad = app
        .get("/api/rest/services", "perm:bm9wZQ.bm9wZQ.nope")
        .await;
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    assert_error(bad, 401, None).await;
    assert_error(
        app.get("/api/rest/services", "not-a-perm-token").await,
        401,
        None,
    )
    .await;
    let basic = app
        .client
        .get(app.url("/api/rest/services"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, None).await;

    app.create_user("mallory", "mallory-password").await;
    let user_token = app.token_for("mallory", "t", &["0-0-0-0-0"]);
    assert_error(app.get("/api/rest/services", &user_token).await, 403, None).await;
    assert_error(
        app.post_json("/api/rest/services", &user_token, &json!({"name": "x"}))
            .await,
        403,
        None,
    )
    .await;
    assert_error(
        app.delete("/api/rest/services/0-0-0-0-0", &user_token)
            .await,
        403,
        None,
    )
    .await;

    let other = app.create_service(json!({"name": "Other"})).await;
    let narrow = app.token_for("admin", "narrow", &[other["id"].as_str().unwrap()]);
    assert_error(app.get("/api/rest/services", &narrow).await, 403, None).await;
}

#[tokio::test]
async fn bad_service_input_names_the_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(256)}), "name"),
        (
            json!({"name": "x", "redirectUris": ["/relative"]}),
            "redirectUris",
        ),
        (
            json!({"name": "x", "redirectUris": ["http://plain.example.com/cb"]}),
            "redirectUris",
        ),
        (
            json!({"name": "x", "redirectUris": ["https://a.example.com/cb#frag"]}),
            "redirectUris",
        ),
        (
            json!({"name": "x", "redirectUris": ["javascript:alert(1)"]}),
            "redirectUris",
        ),
        (json!({"name": "x", "homeUrl": "ftp://files"}), "homeUrl"),
        (
            json!({"name": "x", "description": "d".repeat(5000)}),
            "description",
        ),
        (json!({"name": 5}), "name"),
    ];
    for (body, field) in cases {
        let response = app
            .post_json("/api/rest/services", &app.admin_token, &body)
            .await;
        let error = assert_error(response, 400, None).await;
        assert!(
            error["error_field"] == field
                || error["error_description"].as_str().unwrap().contains(field),
            "{body} -> {error}"
        );
    }
    app.create_service(json!({"name": "Keyed", "key": "k1"}))
        .await;
    let duplicate = app
        .post_json(
            "/api/rest/services",
            &app.admin_token,
            &json!({"name": "Again", "key": "k1"}),
        )
        .await;
    assert_error(duplicate, 409, Some("key")).await;

    for (query, field) in [
        ("$top=-1", "$top"),
        ("$top=abc", "$top"),
        ("$skip=1.5", "$skip"),
        ("$top=1000000", "$top"),
        ("query=owner:%20me", "query"),
        ("orderBy=secret", "orderBy"),
        ("fields=id,(", "fields"),
    ] {
        let response = app
            .get(&format!("/api/rest/services?{query}"), &app.admin_token)
            .await;
        assert_error(response, 400, Some(field)).await;
    }
}

#[tokio::test]
async fn after_pages_through_the_list_as_skip_does() {
    let app = spawn_app().await;
    for name in [
        "beta", "Alpha", "gamma", "alpha", "Beta", "delta", "Éclair", "zeta",
    ] {
        app.create_service(json!({ "name": name })).await;
    }
    for order in [
        "name:asc",
        "name:desc",
        "created:asc",
        "created:desc",
        "id:asc",
        "id:desc",
    ] {
        let ids = |page: &Value| -> Vec<String> {
            page["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut by_skip = Vec::new();
        for skip in (0..12).step_by(3) {
            let page: Value = app
                .get(
                    &format!("/api/rest/services?orderBy={order}&$top=3&$skip={skip}"),
                    &app.admin_token,
                )
                .await
                .json()
                .await
                .unwrap();
            by_skip.extend(ids(&page));
        }
        let mut by_after: Vec<String> = Vec::new();
        loop {
            let after = by_after
                .last()
                .map(|id| format!("&$after={id}"))
                .unwrap_or_default();
            let page: Value = app
                .get(
                    &format!("/api/rest/services?orderBy={order}&$top=3{after}"),
                    &app.admin_token,
                )
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(page["total"], 9, "{order}: total counts the whole list");
            let found = ids(&page);
            if found.is_empty() {
                break;
            }
            by_after.extend(found);
        }
        assert_eq!(by_after, by_skip, "{order}");
        assert_eq!(by_after.len(), 9);
    }
    let both = app
        .get(
            "/api/rest/services?$skip=3&$after=0-0-0-0-0",
            &app.admin_token,
        )
        .await;
    assert_error(both, 400, Some("$after")).await;
    let unknown = app
        .get(
            "/api/rest/services?$after=no-such-service",
            &app.admin_token,
        )
        .await;
    assert_error(unknown, 400, Some("$after")).await;
}

#[tokio::test]
async fn a_list_without_total_in_its_fields_still_pages() {
    let app = spawn_app().await;
    for name in ["one", "two", "three"] {
        app.create_service(json!({ "name": name })).await;
    }
    let page: Value = app
        .get(
            "/api/rest/services?fields=services(name)&$top=2&$skip=1",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(page.get("total").is_none(), "{page}");
    assert_eq!(page["services"].as_array().map(Vec::len), Some(2), "{page}");
    let counted: Value = app
        .get(
            "/api/rest/services?fields=total,services(name)&$top=2",
            &app.admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counted["total"], 4, "{counted}");
}
