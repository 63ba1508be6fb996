//! How often `GET /auth` goes to the database, read off the request log's
//! `db_visits` (every `db::run` of the request counts): a signed-in user who
//! has consented gets the code after at most three visits (the client, what
//! the decision reads, and what the grant stores).
use serde_json::{json, Value};

use crate::browser::{callback_params, location, param};
use crate::helpers::spawn_app;
use crate::run_log;

const CALLBACK: &str = "https://visits.example.com/cb";

/// The `db_visits` of the run log's request lines of `route` naming `client_id`.
fn visits_logged(route: &str, client_id: &str) -> Vec<u64> {
    let log = std::fs::read_to_string(run_log::directory().join("server.log")).expect("run log");
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|l| l["target"] == "idhub::request" && l["route"] == route)
        .filter(|l| l["client_id"] == client_id)
        .map(|l| {
            l["db_visits"]
                .as_u64()
                .expect("db_visits on a request line")
        })
        .collect()
}

#[tokio::test]
async fn a_signed_in_consented_authorization_visits_the_database_at_most_three_times() {
    let app = spawn_app().await;
    app.create_user("vera", "vera-password").await;
    let (resource, _) = app.service_with(json!({"name": "Reports"})).await;
    let (id, _) = app.web_client(CALLBACK, json!({"name": "Visits"})).await;
    let scope = format!("openid {resource}");
    let request = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", scope.as_str()),
        ("state", "v1"),
    ];
    let browser = app.browser();
    let first = app.authorize(&browser, &request).await;
    assert_eq!(first.status(), 303, "to the sign-in page");
    let signed_in = app
        .sign_in(&browser, &location(&first), "vera", "vera-password")
        .await;
    let consent = app.follow(&browser, signed_in).await;
    let allowed = app.decide(&browser, consent, "allow").await;
    assert!(param(&callback_params(&location(&allowed)), "code").is_some());

    let again = app.authorize(&browser, &request).await;
    assert_eq!(again.status(), 303, "consented: straight back with a code");
    let back = callback_params(&location(&again));
    assert!(param(&back, "code").is_some(), "{back:?}");

    let visits = visits_logged("/api/rest/oauth2/auth", &id);
    // Not signed in, signed in and asked, then signed in and consented.
    assert_eq!(visits.len(), 3, "{visits:?}");
    let consented = visits[2];
    assert!(
        (1..=3).contains(&consented),
        "a signed-in, consented GET /auth visited the database {consented} times"
    );
    assert!(
        visits[0] >= 1,
        "a request that loads the client visits at least once: {visits:?}"
    );
}
