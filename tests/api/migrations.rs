use diesel::RunQueryDsl;
use idhub::db::{self, migrations};

use crate::helpers::TestDatabase;

#[test]
fn migrations_run_up_down_and_up_again() {
    let database = TestDatabase::new();
    let pool =
        db::build_pool(database.location(), 1, std::time::Duration::from_secs(5)).expect("pool");
    let mut pooled = pool.get().expect("connection");
    let conn: &mut idhub::db::DbConn = &mut pooled;

    let applied = migrations::run_pending(conn).expect("up");
    assert!(applied.len() >= 2, "{applied:?}");
    diesel::sql_query("SELECT id FROM services")
        .execute(conn)
        .expect("services table exists");

    let reverted = migrations::revert_all(conn).expect("down");
    assert_eq!(reverted.len(), applied.len());
    assert!(
        diesel::sql_query("SELECT id FROM services")
            .execute(conn)
            .is_err(),
        "tables are gone"
    );

    let again = migrations::run_pending(conn).expect("up again");
    assert_eq!(again, applied);
    assert!(migrations::run_pending(conn)
        .expect("nothing pending")
        .is_empty());
}
