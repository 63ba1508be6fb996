//! What other processes changed: services, users, revoked grants and revoked
//! access tokens. PostgreSQL announces each change (`LISTEN idhub_changes`,
//! fed by triggers) and a heartbeat proves the connection alive; SQLite
//! records it in `cache_changes` (also by trigger), read only when `PRAGMA
//! data_version` says another connection wrote. Either way a poll costs no
//! query while nothing changed (SQLite first compares the `-wal` file's size
//! and time, which every commit changes), and no request waits for it.
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{connect, DatabaseLocation, DbConn};
use crate::error::StoreError;

/// One change another process (or this one) committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Service(String),
    User(String),
    /// A grant revoked or deleted.
    Grant(String),
    /// An access token revoked, with its expiry (unix seconds).
    AccessToken {
        jti: String,
        expires: i64,
    },
    /// What one user holds directly: their groups or project roles.
    AccessOfUser(String),
    /// Something every user's permissions may rest on: groups' nesting or
    /// project roles, roles, permissions, projects.
    AccessGraph,
}

impl Change {
    /// `service:ID`, `user:ID`, `grant:ID`, `token:JTI:EXPIRY`,
    /// `access-user:ID` or `access-graph:TABLE`, as the triggers write them.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, id) = text.split_once(':')?;
        let id = id.to_owned();
        match kind {
            "service" => Some(Self::Service(id)),
            "user" => Some(Self::User(id)),
            "grant" => Some(Self::Grant(id)),
            "access-user" => Some(Self::AccessOfUser(id)),
            "access-graph" => Some(Self::AccessGraph),
            "token" => {
                let (jti, expires) = id.rsplit_once(':')?;
                Some(Self::AccessToken {
                    jti: jti.to_owned(),
                    expires: expires.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// What a poll found, and the moment before which nothing was missed, when
/// the poll could prove it.
pub struct Polled {
    pub changes: Vec<Change>,
    pub complete_as_of: Option<Instant>,
}

/// PostgreSQL delivers notifications without being asked, so silence proves
/// nothing: this often the feed notifies itself and, when that ping comes
/// back through `LISTEN`, knows everything committed before it arrived
/// (a round trip alone would not: behind a transaction-mode pooler the
/// heartbeat and the `LISTEN` may use different server connections).
const HEARTBEAT: Duration = Duration::from_millis(100);
/// The payload prefix of the feed's own pings.
const PING: &str = "ping:";

/// Longer than the kernel's file-time granularity (a jiffy, up to 10 ms).
const WAL_TIME_GRAIN: Duration = Duration::from_millis(20);

/// SQLite keeps change rows this long; a process that polls less often than
/// this has long since dropped its caches by their TTL anyway.
const KEEP_CHANGES: &str = "-10 minutes";
/// The last change number SQLite handed out (kept after its row is purged).
const ISSUED: &str =
    "SELECT COALESCE(MAX(seq), 0) AS value FROM sqlite_sequence WHERE name = 'cache_changes'";
/// Purge old rows every this many polls that found changes.
const PURGE_EVERY: u32 = 1000;

pub struct ChangeFeed {
    conn: DbConn,
    /// SQLite's write-ahead log, and its size and time at the last look.
    wal: Option<PathBuf>,
    wal_seen: Option<(u64, SystemTime)>,
    data_version: i64,
    last_seq: i64,
    polls_with_changes: u32,
    /// The ping in flight on PostgreSQL: its payload and when it was sent.
    ping: Option<(String, Instant)>,
    last_heartbeat: Option<Instant>,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    entity: String,
}

fn number(conn: &mut DbConn, query: &str) -> Result<i64, StoreError> {
    Ok(diesel::sql_query(query).get_result::<Number>(conn)?.value)
}

impl ChangeFeed {
    /// Starts listening; changes from before this call are not reported.
    pub fn open(location: &DatabaseLocation, timeout: Duration) -> Result<Self, StoreError> {
        let mut conn =
            connect(location, timeout).map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        let (data_version, last_seq) = match &mut conn {
            DbConn::Postgresql(pg) => {
                pg.batch_execute("LISTEN idhub_changes")?;
                (0, 0)
            }
            DbConn::Sqlite(_) => (
                number(
                    &mut conn,
                    "SELECT data_version AS value FROM pragma_data_version()",
                )?,
                number(&mut conn, ISSUED)?,
            ),
        };
        let wal = match location {
            DatabaseLocation::Sqlite(path) => Some(PathBuf::from(format!("{path}-wal"))),
            DatabaseLocation::Postgres(_) => None,
        };
        Ok(Self {
            conn,
            wal,
            wal_seen: None,
            data_version,
            last_seq,
            polls_with_changes: 0,
            ping: None,
            last_heartbeat: None,
        })
    }

    /// The connection the feed reads with, for loading a snapshot right
    /// after opening (so nothing committed in between is lost).
    pub fn connection(&mut self) -> &mut DbConn {
        &mut self.conn
    }

    /// The changes since the last poll.
    pub fn poll(&mut self) -> Result<Polled, StoreError> {
        let started = Instant::now();
        if let DbConn::Postgresql(pg) = &mut self.conn {
            return poll_postgres(pg, &mut self.ping, &mut self.last_heartbeat, started);
        }
        Ok(Polled {
            changes: self.poll_sqlite()?,
            complete_as_of: Some(started),
        })
    }

    fn poll_sqlite(&mut self) -> Result<Vec<Change>, StoreError> {
        if let Some(wal) = &self.wal {
            let seen = std::fs::metadata(wal)
                .and_then(|meta| Ok((meta.len(), meta.modified()?)))
                .ok();
            if seen.is_some() && seen == self.wal_seen {
                return Ok(Vec::new());
            }
            // File times move in coarse ticks (a few ms): a second commit in
            // the tick just seen, into WAL space already there, would leave
            // both size and time alike. Trust only times older than that.
            let settled = seen.is_some_and(|(_, modified)| {
                modified.elapsed().is_ok_and(|age| age > WAL_TIME_GRAIN)
            });
            self.wal_seen = if settled { seen } else { None };
        }
        let version = number(
            &mut self.conn,
            "SELECT data_version AS value FROM pragma_data_version()",
        )?;
        if version == self.data_version {
            return Ok(Vec::new());
        }
        self.data_version = version;
        // Numbers are handed out one by one (AUTOINCREMENT, one writer at a
        // time) and never reused: a gap, or a number issued past the last row
        // read, means rows were purged before this feed read them. Both reads
        // in one transaction, so they see the same commits.
        let last_seq = self.last_seq;
        let (rows, issued) = self.conn.transaction::<_, StoreError, _>(|conn| {
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT seq, entity FROM cache_changes WHERE seq > ? ORDER BY seq",
            )
            .bind::<BigInt, _>(last_seq)
            .load(conn)?;
            Ok((rows, number(conn, ISSUED)?))
        })?;
        let contiguous = rows
            .iter()
            .zip(self.last_seq.saturating_add(1)..)
            .all(|(row, expected)| row.seq == expected);
        let read_up_to = rows.last().map_or(self.last_seq, |row| row.seq);
        if !contiguous || issued > read_up_to {
            return Err(StoreError::Unavailable(Box::new(std::io::Error::other(
                "changes were purged before this process read them",
            ))));
        }
        let Some(last) = rows.last() else {
            return Ok(Vec::new());
        };
        self.last_seq = last.seq;
        self.polls_with_changes = self.polls_with_changes.saturating_add(1);
        if self.polls_with_changes >= PURGE_EVERY {
            self.polls_with_changes = 0;
            diesel::sql_query(format!(
                "DELETE FROM cache_changes WHERE changed_at < datetime('now', '{KEEP_CHANGES}')"
            ))
            .execute(&mut self.conn)?;
        }
        Ok(rows
            .iter()
            .filter_map(|r| Change::parse(&r.entity))
            .collect())
    }
}

/// Drains PostgreSQL's notifications, pinging itself when a heartbeat is due.
fn poll_postgres(
    pg: &mut diesel::PgConnection,
    ping: &mut Option<(String, Instant)>,
    last_heartbeat: &mut Option<Instant>,
    started: Instant,
) -> Result<Polled, StoreError> {
    let due = ping.is_none() && last_heartbeat.is_none_or(|last| last.elapsed() >= HEARTBEAT);
    if due {
        let payload = format!("{PING}{}", crate::secrets::generate());
        diesel::sql_query("SELECT pg_notify('idhub_changes', $1)")
            .bind::<Text, _>(&payload)
            .execute(pg)?;
        *ping = Some((payload, started));
        *last_heartbeat = Some(started);
    }
    let mut changes = Vec::new();
    let mut complete_as_of = None;
    for notification in pg.notifications_iter() {
        let payload = notification?.payload;
        if payload.starts_with(PING) {
            if ping.as_ref().is_some_and(|(sent, _)| *sent == payload) {
                complete_as_of = ping.take().map(|(_, sent_at)| sent_at);
            }
            continue;
        }
        changes.extend(Change::parse(&payload));
    }
    Ok(Polled {
        changes,
        complete_as_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_triggers_write() {
        assert_eq!(
            Change::parse("service:abc-1"),
            Some(Change::Service("abc-1".into()))
        );
        assert_eq!(Change::parse("user:u:1"), Some(Change::User("u:1".into())));
        assert_eq!(
            Change::parse("grant:g-1"),
            Some(Change::Grant("g-1".into()))
        );
        assert_eq!(
            Change::parse("token:a_b-c:1700000000"),
            Some(Change::AccessToken {
                jti: "a_b-c".into(),
                expires: 1_700_000_000
            })
        );
        assert_eq!(Change::parse("token:no-expiry"), None);
        assert_eq!(Change::parse("token:j:soon"), None);
        assert_eq!(Change::parse("other:x"), None);
        assert_eq!(Change::parse("nonsense"), None);
    }
}
