//! Fifty clients at once on one single-use thing: exactly one wins, on SQLite
//! and on PostgreSQL, and a replay still revokes what the winner got.
use reqwest::RequestBuilder;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::browser::{callback_params, location, param};
use crate::helpers::{spawn_app_with, TestApp};

const RACERS: usize = 50;
const CALLBACK: &str = "https://app.example.com/cb";

async fn racing_app() -> TestApp {
    spawn_app_with(|s| {
        s.workers = Some(2);
        s.pool_size = 8;
    })
    .await
}

/// Sends `RACERS` copies of one request at once; statuses and bodies.
async fn race(make: impl Fn() -> RequestBuilder) -> Vec<(u16, Value)> {
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let request = make();
        racers.spawn(async move {
            let answer = request.send().await.expect("an answer");
            let status = answer.status().as_u16();
            (status, answer.json::<Value>().await.unwrap_or(Value::Null))
        });
    }
    let mut answers = Vec::new();
    while let Some(answer) = racers.join_next().await {
        answers.push(answer.expect("racer finished"));
    }
    answers
}

fn tally(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

fn winner(answers: &[(u16, Value)]) -> Value {
    answers
        .iter()
        .find(|(status, _)| *status == 200)
        .map(|(_, body)| body.clone())
        .expect("one winner")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_exchanges_of_one_code_issue_tokens_once_and_revoke_them() {
    let app = racing_app().await;
    app.create_user("rae", "rae-password").await;
    let (id, secret) = app.web_client(CALLBACK, json!({"trusted": true})).await;
    let browser = app.browser();
    let request = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", CALLBACK),
        ("access_type", "offline"),
    ];
    let first = app.authorize(&browser, &request).await;
    let signed_in = app
        .sign_in(&browser, &location(&first), "rae", "rae-password")
        .await;
    let back = app.follow(&browser, signed_in).await;
    let code = param(&callback_params(&location(&back)), "code")
        .expect("a code")
        .to_owned();

    let url = app.url("/api/rest/oauth2/token");
    let answers = race(|| {
        app.client.post(&url).basic_auth(&id, Some(&secret)).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ])
    })
    .await;
    assert_eq!(tally(&answers, 200), 1, "{answers:?}");
    assert_eq!(tally(&answers, 400), RACERS - 1, "{answers:?}");
    assert!(answers
        .iter()
        .filter(|(s, _)| *s == 400)
        .all(|(_, body)| body["error"] == "invalid_grant"));

    let won = winner(&answers);
    let access = won["access_token"].as_str().unwrap_or_default();
    let introspected = app.introspect(access, (&id, &secret)).await;
    assert_eq!(
        introspected["active"], false,
        "the replays revoked the winner's tokens"
    );
    let refreshed = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    won["refresh_token"].as_str().unwrap_or_default(),
                ),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(refreshed.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_uses_of_one_refresh_token_rotate_once_and_revoke_the_family() {
    let app = racing_app().await;
    app.create_user("rex", "rex-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let login = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "rex"),
                ("password", "rex-password"),
                ("access_type", "offline"),
            ],
            (&id, &secret),
        )
        .await;
    let refresh_token = login["refresh_token"].as_str().expect("refresh token");

    let url = app.url("/api/rest/oauth2/token");
    let answers = race(|| {
        app.client.post(&url).basic_auth(&id, Some(&secret)).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
    })
    .await;
    assert_eq!(tally(&answers, 200), 1, "{answers:?}");
    assert_eq!(tally(&answers, 400), RACERS - 1, "{answers:?}");

    let rotated = winner(&answers);
    let after = app
        .oauth_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    rotated["refresh_token"].as_str().unwrap_or_default(),
                ),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(after.status(), 400, "reuse revoked the whole family");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_creates_of_one_login_make_one_user() {
    let app = racing_app().await;
    let url = app.url("/api/rest/users");
    let answers = race(|| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin_token)
            .json(&json!({"login": "twin", "name": "Twin", "password": "twin-password"}))
    })
    .await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == 200 || *s == 201)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    assert_eq!(tally(&answers, 409), RACERS - 1, "{answers:?}");
    let found: Value = app
        .get("/api/rest/users?query=twin", &app.admin_token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(found["total"], 1, "{found}");
}
