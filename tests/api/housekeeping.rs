//! Housekeeping: expired rows go, in batches, by one instance at a time;
//! live rows stay.
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idhub::db::schema::{
    audit_events, authorization_codes, device_codes, grants, leases, password_attempts,
    pushed_requests, refresh_tokens, revoked_access_tokens, sessions,
};
use idhub::housekeeping::{run_pass, Cutoffs, Pace, BATCH};
use serde_json::json;

use crate::browser::{callback_params, location, param};
use crate::helpers::{spawn_app_with, test_settings, TestApp};

const CALLBACK: &str = "https://app.example.com/callback";

type Counts = Vec<(&'static str, i64)>;

fn counts(app: &TestApp) -> Counts {
    let mut pooled = app.pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;
    let count = |result: QueryResult<i64>| result.expect("count");
    vec![
        (
            "authorization_codes",
            count(authorization_codes::table.count().get_result(conn)),
        ),
        (
            "refresh_tokens",
            count(refresh_tokens::table.count().get_result(conn)),
        ),
        (
            "revoked grants",
            count(
                grants::table
                    .filter(grants::revoked_at.is_not_null())
                    .count()
                    .get_result(conn),
            ),
        ),
        ("sessions", count(sessions::table.count().get_result(conn))),
        (
            "pushed_requests",
            count(pushed_requests::table.count().get_result(conn)),
        ),
        (
            "device_codes",
            count(device_codes::table.count().get_result(conn)),
        ),
        (
            "revoked_access_tokens",
            count(revoked_access_tokens::table.count().get_result(conn)),
        ),
        (
            "password_attempts",
            count(password_attempts::table.count().get_result(conn)),
        ),
        (
            "audit_events",
            count(audit_events::table.count().get_result(conn)),
        ),
    ]
}

/// `counts` once the audit trail's queue is written: hot-path events
/// (tokens issued, revocations) are written by a background thread in
/// batches, so a count taken at once may miss the last few. Settled = the
/// same counts for half a second (the writer lingers 25 ms a batch).
async fn settled_counts(app: &TestApp) -> Counts {
    let mut last = counts(app);
    let mut same_since = std::time::Instant::now();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while same_since.elapsed() < std::time::Duration::from_millis(500)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let now = counts(app);
        if now != last {
            last = now;
            same_since = std::time::Instant::now();
        }
    }
    last
}

fn now() -> NaiveDateTime {
    idhub::clock::now()
}

/// One row or more in every table housekeeping looks after, made the way
/// clients and users make them.
async fn fill(app: &TestApp) {
    app.create_user("hana", "hana-password").await;
    let (id, secret) = app
        .web_client(
            CALLBACK,
            json!({"trusted": true, "deviceFlowEnabled": true}),
        )
        .await;
    let client = (id.as_str(), secret.as_str());
    // A session and a code, by signing in to an authorization request.
    let authorize = format!(
        "/api/rest/oauth2/auth?response_type=code&client_id={id}&redirect_uri={CALLBACK}&scope=openid&state=s"
    );
    let (_, landed) = app.signed_in_at(&authorize, "hana", "hana-password").await;
    let back = callback_params(&location(&landed));
    assert!(param(&back, "code").is_some(), "a code: {back:?}");
    // A grant with a refresh token, then a grant revoked with its token.
    let offline = [
        ("grant_type", "password"),
        ("username", "hana"),
        ("password", "hana-password"),
        ("access_type", "offline"),
    ];
    app.token(&offline, client).await;
    let revoked = app.token(&offline, client).await;
    let refresh = revoked["refresh_token"].as_str().expect("refresh token");
    let answer = app
        .oauth_post("revoke", &[("token", refresh)], Some(client))
        .await;
    assert_eq!(answer.status(), 200);
    // A revoked access token.
    let access = revoked["access_token"].as_str().expect("access token");
    let answer = app
        .oauth_post("revoke", &[("token", access)], Some(client))
        .await;
    assert_eq!(answer.status(), 200);
    // A failed sign-in's counters, a pushed request, a device code.
    let wrong = [
        ("grant_type", "password"),
        ("username", "hana"),
        ("password", "not hers"),
    ];
    let answer = app.oauth_post("token", &wrong, Some(client)).await;
    assert_eq!(answer.status(), 400);
    let pushed = app
        .oauth_post(
            "par",
            &[
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
            ],
            Some(client),
        )
        .await;
    assert_eq!(pushed.status(), 201);
    let device = app
        .oauth_post("device", &[("scope", "openid")], Some(client))
        .await;
    assert_eq!(device.status(), 200);
}

#[tokio::test]
async fn a_pass_deletes_only_what_expired() {
    let app = spawn_app_with(|settings| settings.housekeeping_interval_secs = 0).await;
    let settings = test_settings(&app.database);
    fill(&app).await;
    let filled = settled_counts(&app).await;
    for (table, rows) in &filled {
        assert!(*rows > 0, "{table} has rows to keep or delete: {filled:?}");
    }

    let report =
        run_pass(&app.pool, &Cutoffs::new(&settings, now()), Pace::AtOnce).expect("a pass");
    assert!(
        report.iter().all(|(_, rows)| *rows == 0),
        "nothing has expired yet: {report:?}"
    );
    assert_eq!(counts(&app), filled);

    // Past every lifetime, replay window, grace and the audit retention.
    let later = now() + chrono::Duration::days(100);
    let report =
        run_pass(&app.pool, &Cutoffs::new(&settings, later), Pace::AtOnce).expect("a pass");
    let left = counts(&app);
    for (table, rows) in &left {
        assert_eq!(*rows, 0, "{table} is empty: {left:?}, report {report:?}");
    }
    let refresh_deleted = report
        .iter()
        .find(|(table, _)| *table == "refresh_tokens")
        .map(|(_, rows)| *rows);
    // One token went with its revoked grant (cascade), one expired.
    assert_eq!(refresh_deleted, Some(1), "{report:?}");
    // The user and the service are not housekeeping's.
    let apps = app.get("/api/rest/services", &app.admin_token).await;
    assert_eq!(apps.status(), 200);
}

#[tokio::test]
async fn a_pass_deletes_in_batches_until_none_is_left() {
    let app = spawn_app_with(|settings| settings.housekeeping_interval_secs = 0).await;
    let expired = now() - chrono::Duration::minutes(1);
    let live = now() + chrono::Duration::hours(1);
    let many = usize::try_from(BATCH).expect("batch") * 2 + 500;
    let rows: Vec<_> = (0..many)
        .map(|n| {
            (
                revoked_access_tokens::jti.eq(format!("expired-{n}")),
                revoked_access_tokens::expires_at.eq(expired),
            )
        })
        .chain(std::iter::once((
            revoked_access_tokens::jti.eq("live".to_owned()),
            revoked_access_tokens::expires_at.eq(live),
        )))
        .collect();
    {
        let mut pooled = app.pool.get().expect("connection");
        let conn: &mut idhub::db::DbConn = &mut pooled;
        // One row a statement: the backend-neutral connection has no
        // multi-row insert.
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            for row in rows {
                diesel::insert_into(revoked_access_tokens::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok(())
        })
        .expect("insert");
    }
    let settings = test_settings(&app.database);
    let report =
        run_pass(&app.pool, &Cutoffs::new(&settings, now()), Pace::AtOnce).expect("a pass");
    assert!(
        report.contains(&("revoked_access_tokens", many)),
        "{report:?}"
    );
    let mut pooled = app.pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;
    let left: Vec<String> = revoked_access_tokens::table
        .select(revoked_access_tokens::jti)
        .load(conn)
        .expect("query");
    assert_eq!(left, vec!["live".to_owned()]);
    // The CLI runs the same pass: nothing is left to delete. Without
    // --all it leaves the tables whose cutoffs are the server's settings.
    let printed = app.cli(&["housekeeping"]);
    let lines: Vec<&str> = printed.lines().collect();
    let (last, tables) = lines.split_last().expect("lines");
    assert!(
        last.contains("grants, refresh_tokens, audit_events left alone"),
        "{printed}"
    );
    assert!(
        tables.iter().all(|line| line.ends_with(" 0 deleted")),
        "{printed}"
    );
    assert!(printed.contains("revoked_access_tokens") && !printed.contains("audit_events  "));
    let printed = app.cli(&["housekeeping", "--all"]);
    assert!(
        printed.contains("audit_events") && printed.contains("grants"),
        "{printed}"
    );
    assert!(!printed.contains("left alone"), "{printed}");
}

#[tokio::test]
async fn rotated_out_refresh_tokens_stay_while_their_grant_lives() {
    let app = spawn_app_with(|settings| settings.housekeeping_interval_secs = 0).await;
    app.create_user("ivo", "ivo-password").await;
    let (id, secret) = app.service_with(json!({})).await;
    let client = (id.as_str(), secret.as_str());
    let first = app
        .token(
            &[
                ("grant_type", "password"),
                ("username", "ivo"),
                ("password", "ivo-password"),
                ("access_type", "offline"),
            ],
            client,
        )
        .await;
    let old = first["refresh_token"].as_str().expect("refresh token");
    let rotated = app
        .token(
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
            client,
        )
        .await;
    let new = rotated["refresh_token"].as_str().expect("rotated");
    {
        // The rotated-out token has expired; the grant's new one has not.
        let mut pooled = app.pool.get().expect("connection");
        let conn: &mut idhub::db::DbConn = &mut pooled;
        diesel::update(refresh_tokens::table.filter(refresh_tokens::used_at.is_not_null()))
            .set(refresh_tokens::expires_at.eq(now() - chrono::Duration::minutes(1)))
            .execute(conn)
            .expect("update");
    }
    let settings = test_settings(&app.database);
    let report =
        run_pass(&app.pool, &Cutoffs::new(&settings, now()), Pace::AtOnce).expect("a pass");
    assert!(report.contains(&("refresh_tokens", 0)), "{report:?}");
    // Presented again, it still revokes the grant, the new token with it.
    let replayed = app
        .oauth_post(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", old)],
            Some(client),
        )
        .await;
    assert_eq!(replayed.status(), 400);
    let after = app
        .oauth_post(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", new)],
            Some(client),
        )
        .await;
    assert_eq!(after.status(), 400, "the grant is revoked");
}

#[tokio::test]
async fn the_server_runs_passes_under_one_lease() {
    let app = spawn_app_with(|settings| settings.housekeeping_interval_secs = 1).await;
    let second = crate::helpers::start_instance(&app.database, |settings| {
        settings.housekeeping_interval_secs = 1;
    });
    assert!(second.starts_with("http://"));
    {
        let mut pooled = app.pool.get().expect("connection");
        let conn: &mut idhub::db::DbConn = &mut pooled;
        diesel::insert_into(revoked_access_tokens::table)
            .values((
                revoked_access_tokens::jti.eq("expired"),
                revoked_access_tokens::expires_at.eq(now() - chrono::Duration::minutes(1)),
            ))
            .execute(conn)
            .expect("insert");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = counts(&app)
            .into_iter()
            .find(|(table, _)| *table == "revoked_access_tokens")
            .map(|(_, rows)| rows);
        if left == Some(0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no pass deleted the expired row"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut pooled = app.pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;
    let until: NaiveDateTime = leases::table
        .find("housekeeping")
        .select(leases::expires_at)
        .first(conn)
        .expect("the lease");
    assert!(until > now(), "held by the instance that ran the pass");
}

#[test]
fn a_lease_is_one_holders_until_it_expires() {
    let database = crate::helpers::TestDatabase::new();
    let pool = idhub::db::build_pool(database.location(), 1, Duration::from_secs(5)).expect("pool");
    let mut pooled = pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;
    idhub::db::migrations::run_pending(conn).expect("migrations");
    let hold = |conn: &mut idhub::db::DbConn, holder: &str, until: i64, at: i64| {
        let base = now();
        idhub::db::lease::try_hold(
            conn,
            "work",
            holder,
            base + chrono::Duration::seconds(until),
            base + chrono::Duration::seconds(at),
        )
        .expect("lease")
    };
    assert!(hold(conn, "a", 60, 0), "the first asker takes it");
    assert!(!hold(conn, "b", 60, 1), "another waits while it lasts");
    assert!(hold(conn, "a", 120, 2), "the holder renews");
    assert!(!hold(conn, "b", 180, 100), "renewed: still a's");
    assert!(hold(conn, "b", 300, 121), "expired: b takes over");
    assert!(!hold(conn, "a", 400, 122), "and a waits");
}
