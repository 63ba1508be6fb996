//! Writes the events of the hot paths off the request path: a request hands
//! its event to a bounded queue and goes on; one thread writes what queued
//! up in a transaction, so under load a thousand tokens issued cost one
//! commit. Housekeeping deletes events past the retention period.
//!
//! What is lost: events still queued when the process is killed (the queue
//! is written as fast as the database takes it, so milliseconds' worth), and,
//! with the database gone for longer than the retries, the events of that
//! time, counted and logged. Admin changes do not come this way: they are
//! written in the transaction of the change (`store::record`).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::event::Event;
use super::store;
use crate::clock;
use crate::db::DbPool;
use crate::error::cause_chain;

/// Events waiting at most (the queue's memory is taken up front, ~250 bytes
/// an event); past it new ones are dropped and counted.
const QUEUE: usize = 10_000;
/// Events per transaction at most.
const BATCH: usize = 1_000;
/// How long the first event of a batch waits for company: a transaction per
/// event would cost more than the event itself when requests trickle in.
const LINGER: Duration = Duration::from_millis(25);
/// Tries to write a batch before dropping it.
const ATTEMPTS: u32 = 3;
const RETRY: Duration = Duration::from_secs(1);

enum Queued {
    Event(Event, NaiveDateTime),
    /// Write what came before, then say so.
    Flush(SyncSender<()>),
}

#[derive(Clone)]
pub struct Recorder {
    sender: SyncSender<Queued>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the writer thread; it ends when every `Recorder` is dropped,
    /// after writing what is queued.
    pub fn start(pool: DbPool) -> std::io::Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            pool,
            dropped: Arc::clone(&dropped),
        };
        std::thread::Builder::new()
            .name("idhub-audit".into())
            .spawn(move || writer.run(&receiver))?;
        Ok(Self { sender, dropped })
    }

    /// A recorder with no writer, for the CLI: its changes are recorded in
    /// their own transactions, and an idle thread holding the pool must not
    /// outlive the command. Anything submitted is counted as dropped.
    pub fn detached() -> Self {
        let (sender, _) = sync_channel(1);
        Self {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues an event, stamped now; never waits.
    pub fn submit(&self, event: Event) {
        match self.sender.try_send(Queued::Event(event, clock::now())) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits, at most `timeout`, until every event queued so far is written:
    /// for a graceful stop.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, written) = sync_channel(1);
        let deadline = Instant::now() + timeout;
        let mut request = Queued::Flush(done);
        loop {
            match self.sender.try_send(request) {
                Ok(()) => break,
                Err(TrySendError::Full(again)) if Instant::now() < deadline => {
                    request = again;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => return false,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        written.recv_timeout(left).is_ok()
    }

    /// Events dropped since the start (queue full, or the database gone
    /// for longer than the retries).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

struct Writer {
    pool: DbPool,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    fn run(&self, receiver: &Receiver<Queued>) {
        let mut dropped_reported = 0;
        loop {
            match receiver.recv_timeout(Duration::from_secs(1)) {
                Ok(first) => self.take_batch(first, receiver),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let dropped = self.dropped.load(Ordering::Relaxed);
            if dropped != dropped_reported {
                tracing::warn!(dropped, "audit events dropped since the start");
                dropped_reported = dropped;
            }
        }
    }

    /// Collects what arrives with `first` (for up to `LINGER`), writes it,
    /// and answers a flush once what preceded it is written.
    fn take_batch(&self, first: Queued, receiver: &Receiver<Queued>) {
        let deadline = Instant::now() + LINGER;
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(queued) = next.take() {
            match queued {
                Queued::Event(event, at) => batch.push((event, at)),
                Queued::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if batch.len() >= BATCH {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            next = receiver.recv_timeout(left).ok();
        }
        if !batch.is_empty() {
            self.write(&batch);
        }
        for done in flushes {
            let _ = done.try_send(());
        }
    }

    fn write(&self, batch: &[(Event, NaiveDateTime)]) {
        for attempt in 1..=ATTEMPTS {
            let written = self
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    store::record_all(&mut conn, batch).map_err(|e| cause_chain(&e))
                });
            match written {
                Ok(()) => return,
                Err(error) if attempt < ATTEMPTS => {
                    tracing::warn!(%error, attempt, "writing audit events failed; retrying");
                    std::thread::sleep(RETRY);
                }
                Err(error) => {
                    tracing::error!(%error, events = batch.len(), "audit events lost");
                }
            }
        }
        let lost = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        self.dropped.fetch_add(lost, Ordering::Relaxed);
    }
}
