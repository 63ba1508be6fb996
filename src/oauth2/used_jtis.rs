//! JWT ids accepted once across every instance: client assertions (RFC 7523)
//! and DPoP proofs (RFC 9449). Each id is kept, hashed, for as long as its
//! JWT could still be accepted; an id already there is a replay.
//!
//! This write is on the path of every DPoP-bound request, so ids are written
//! by one thread per process in batches (group commit): under load, one
//! transaction with one `INSERT … ON CONFLICT DO NOTHING RETURNING` records
//! many requests' ids (on PostgreSQL in one round trip), and each learns from the returned rows whether its id
//! was new. With one request at a time a batch is that one id; when the
//! last batch held several (requests are arriving together), the writer
//! waits up to a millisecond for as many before it commits, as PostgreSQL's
//! `commit_delay` does: fewer, larger commits cost less than one per id. On
//! PostgreSQL the commit does not wait for its WAL flush. Expired ids are
//! purged every ten seconds by the same thread.
use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sql_types::{Array, Text, Timestamp};
use tokio::sync::oneshot;

use crate::db::schema::used_jtis;
use crate::db::{DbConn, DbPool};
use crate::error::StoreError;
use crate::secrets;

const PURGE_EVERY: Duration = Duration::from_secs(10);
/// Ids written in one transaction at most.
const MAX_BATCH: usize = 256;
/// How long a batch waits for company when ids are arriving together.
const LINGER: Duration = Duration::from_millis(1);
/// Ids waiting at most; past it requests are refused as unavailable.
const MAX_WAITING: usize = 8192;

/// What a JWT id is used for, so one kind can never replay as another.
#[derive(Debug, Clone, Copy)]
pub enum Use {
    ClientAssertion,
    DpopProof,
}

struct Pending {
    hash: String,
    accepted_until: NaiveDateTime,
    first: oneshot::Sender<Result<bool, String>>,
}

/// The process's writer of used ids.
pub struct JtiLedger {
    sender: SyncSender<Pending>,
}

impl JtiLedger {
    /// Starts the writer thread; it ends when the ledger is dropped.
    pub fn start(pool: DbPool) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::sync_channel(MAX_WAITING);
        std::thread::Builder::new()
            .name("idhub-used-jtis".into())
            .spawn(move || write_batches(&pool, &receiver))?;
        Ok(Self { sender })
    }

    /// Records `jti` of `issuer` (the client, or the DPoP key's thumbprint)
    /// until `accepted_until`. False when it was already used, here or on
    /// another instance.
    pub async fn first_use(
        &self,
        kind: Use,
        issuer: &str,
        jti: &str,
        accepted_until: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        self.submit(kind, issuer, jti, accepted_until)?
            .first()
            .await
    }

    /// Hands the id to the writer now; the ticket tells later whether it
    /// was new, so a caller can do other work meanwhile.
    pub fn submit(
        &self,
        kind: Use,
        issuer: &str,
        jti: &str,
        accepted_until: NaiveDateTime,
    ) -> Result<Ticket, StoreError> {
        let prefix = match kind {
            Use::ClientAssertion => "client-assertion:",
            Use::DpopProof => "dpop-proof:",
        };
        let (first, answer) = oneshot::channel();
        let pending = Pending {
            hash: secrets::hash(&format!("{prefix}{issuer}:{jti}")),
            accepted_until,
            first,
        };
        let unavailable = |why: &str| StoreError::Unavailable(why.to_owned().into());
        match self.sender.try_send(pending) {
            Ok(()) => Ok(Ticket { answer }),
            Err(TrySendError::Full(_)) => Err(unavailable("too many ids waiting")),
            Err(TrySendError::Disconnected(_)) => Err(unavailable("id writer stopped")),
        }
    }
}

/// A submitted id's answer to come.
#[derive(Debug)]
pub struct Ticket {
    answer: oneshot::Receiver<Result<bool, String>>,
}

impl Ticket {
    /// Whether the id was new.
    pub async fn first(self) -> Result<bool, StoreError> {
        let unavailable = |why: &str| StoreError::Unavailable(why.to_owned().into());
        self.answer
            .await
            .map_err(|_| unavailable("id writer stopped"))?
            .map_err(|why| unavailable(&why))
    }
}

fn write_batches(pool: &DbPool, receiver: &Receiver<Pending>) {
    let mut last_purge = Instant::now();
    let mut last_batch_len = 0;
    loop {
        let first = match receiver.recv_timeout(PURGE_EVERY) {
            Ok(pending) => Some(pending),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // After a batch of one the first id is already as many: no wait.
        let batch = gather(first, receiver, LINGER, last_batch_len);
        last_batch_len = batch.len();
        let purge = last_purge.elapsed() >= PURGE_EVERY;
        if purge {
            last_purge = Instant::now();
        }
        if batch.is_empty() && !purge {
            continue;
        }
        let now = crate::clock::now();
        let written = pool
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| record(&mut conn, &batch, purge, now).map_err(|e| e.to_string()));
        answer(batch, written);
    }
}

/// `first` and what else is waiting, up to `MAX_BATCH` ids; then, while
/// fewer than `expected` came, what arrives within `linger`.
fn gather(
    first: Option<Pending>,
    receiver: &Receiver<Pending>,
    linger: Duration,
    expected: usize,
) -> Vec<Pending> {
    let Some(first) = first else {
        return Vec::new();
    };
    let deadline = Instant::now() + linger;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = if left.is_zero() || batch.len() >= expected {
            receiver.try_recv().ok()
        } else {
            receiver.recv_timeout(left).ok()
        };
        match next {
            Some(pending) => batch.push(pending),
            None => break,
        }
    }
    batch
}

/// Inserts the batch's ids; returns those that were new.
fn record(
    conn: &mut DbConn,
    batch: &[Pending],
    purge: bool,
    now: NaiveDateTime,
) -> Result<HashSet<String>, StoreError> {
    if purge {
        diesel::delete(used_jtis::table.filter(used_jtis::expires_at.lt(now))).execute(conn)?;
    }
    if batch.is_empty() {
        return Ok(HashSet::new());
    }
    let new: Vec<String> = match conn {
        DbConn::Postgresql(pg) => InsertBatch {
            hashes: batch.iter().map(|p| p.hash.clone()).collect(),
            accepted_until: batch.iter().map(|p| p.accepted_until).collect(),
        }
        .get_results::<NewId>(pg)?
        .into_iter()
        .map(|row| row.jti_hash)
        .collect(),
        DbConn::Sqlite(sqlite) => {
            let rows: Vec<_> = batch
                .iter()
                .map(|p| {
                    (
                        used_jtis::jti_hash.eq(p.hash.as_str()),
                        used_jtis::expires_at.eq(p.accepted_until),
                    )
                })
                .collect();
            diesel::insert_into(used_jtis::table)
                .values(&rows)
                .on_conflict_do_nothing()
                .returning(used_jtis::jti_hash)
                .get_results(sqlite)?
        }
    };
    Ok(new.into_iter().collect())
}

/// The batch as one PostgreSQL statement, one round trip: the ids as two
/// arrays (so the text is the same for any batch size and is prepared once
/// per connection, `db::numbered`), and without waiting for the WAL flush
/// (`set_config(…, true)` holds for the statement's own transaction): a
/// crash may forget the last few milliseconds of ids, and a proof is good
/// for a minute at most. It replaces BEGIN, SET LOCAL, an INSERT planned
/// anew for each batch size, and COMMIT.
/// $1 the ids' hashes, $2 until when each could be accepted.
const INSERT_BATCH_SQL: &str = "\
INSERT INTO used_jtis (jti_hash, expires_at)
SELECT id.jti_hash, id.expires_at
FROM unnest($1, $2) AS id (jti_hash, expires_at),
    (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed
ON CONFLICT DO NOTHING
RETURNING jti_hash";

struct InsertBatch {
    hashes: Vec<String>,
    accepted_until: Vec<NaiveDateTime>,
}

crate::db::numbered::prepared_once!(InsertBatch);

impl QueryFragment<Pg> for InsertBatch {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        crate::db::numbered::walk(INSERT_BATCH_SQL, &mut out, |n, out| match n {
            "1" => out.push_bind_param::<Array<Text>, _>(&self.hashes),
            "2" => out.push_bind_param::<Array<Timestamp>, _>(&self.accepted_until),
            other => Err(crate::db::numbered::unknown(other)),
        })
    }
}

#[derive(QueryableByName)]
struct NewId {
    #[diesel(sql_type = Text)]
    jti_hash: String,
}

/// Tells each request whether its id was new: the first of equal ids in a
/// batch is, the others are replays.
fn answer(batch: Vec<Pending>, written: Result<HashSet<String>, String>) {
    let mut new = match written {
        Ok(new) => new,
        Err(why) => {
            tracing::warn!(error = %why, "recording used JWT ids failed");
            for pending in batch {
                let _ = pending.first.send(Err(why.clone()));
            }
            return;
        }
    };
    for pending in batch {
        // Removed once answered: a second equal id in the batch is a replay.
        let first = new.remove(&pending.hash);
        // The request may have gone (its client hung up): nobody to tell.
        let _ = pending.first.send(Ok(first));
    }
}
