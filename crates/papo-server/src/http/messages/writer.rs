//! The one write path for new messages: group commit.
//!
//! Handlers hand their message to a single writer task and wait. The writer takes every
//! message waiting (up to [`MAX_BATCH`]) and stores them in one transaction, so a burst of
//! N messages costs one fsync instead of N; each handler is answered only after the commit.
//! With no load a batch is one message and nothing waits. Under load (the last batch held
//! several messages) the writer first lets every task that is ready run — requests already
//! read reach the queue — and then takes the batch: a commit costs about the same for one
//! message or a hundred (the `fsync`, and on a virtual disk the exits it takes), so fewer,
//! larger commits leave more of the core to everything else. No timer: latency is unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use papo_store::Db;
use papo_store::StoreError;
use papo_store::messages::{self, Inserted, MessageRow};
use tokio::sync::{mpsc, oneshot};

use crate::http::metrics::{AtomicHistogram, HistogramSnapshot};

/// Most messages committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// How long a nonce is remembered.
pub const NONCE_WINDOW_MS: i64 = 10 * 60 * 1000;
const QUEUE: usize = 4096;

struct Job {
    row: MessageRow,
    queued: Instant,
    reply: oneshot::Sender<Result<Inserted, StoreError>>,
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    tx: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    messages: AtomicU64,
    batches: AtomicU64,
    wait: AtomicHistogram,
    commit: AtomicHistogram,
}

/// What the writer has done since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WriterStats {
    /// Messages handled (stored or found as duplicates).
    pub messages: u64,
    /// Transactions committed (or attempted).
    pub batches: u64,
    /// Per message: from its hand-over to the writer to the start of its batch's store.
    pub wait: HistogramSnapshot,
    /// Per batch: the store, from the hand-over to the database to its answer (the
    /// commit's `fsync` included).
    pub commit: HistogramSnapshot,
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database refused it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writer is gone (shutting down).
    #[error("message writer stopped")]
    Stopped,
}

impl MessageWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counts = Arc::new(Counts::default());
        tokio::spawn(run(db, rx, counts.clone()));
        Self { tx, counts }
    }

    /// Messages and batches so far (a batch of N messages costs one commit).
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            messages: self.counts.messages.load(Ordering::Relaxed),
            batches: self.counts.batches.load(Ordering::Relaxed),
            wait: self.counts.wait.snapshot(),
            commit: self.counts.commit.snapshot(),
        }
    }

    /// Stores `row` (or finds the original of a repeated nonce) once committed.
    pub async fn write(&self, row: MessageRow) -> Result<Inserted, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                row,
                queued: Instant::now(),
                reply,
            })
            .await
            .map_err(|_| WriteError::Stopped)?;
        Ok(rx.await.map_err(|_| WriteError::Stopped)??)
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, counts: Arc<Counts>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut busy = false;
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        if busy && batch.len() < MAX_BATCH {
            // Let every task that is ready (requests already read) run first.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            while batch.len() < MAX_BATCH
                && let Ok(job) = rx.try_recv()
            {
                batch.push(job);
            }
        }
        busy = batch.len() > 1;
        let rows: Vec<MessageRow> = batch.iter().map(|j| j.row.clone()).collect();
        let since = crate::now_ms() - NONCE_WINDOW_MS;
        let started = Instant::now();
        for job in &batch {
            counts.wait.observe(started - job.queued);
        }
        let mut results = messages::insert_batch(&db, &rows, since).await.into_iter();
        counts.commit.observe(started.elapsed());
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts
            .messages
            .fetch_add(rows.len() as u64, Ordering::Relaxed);
        // `insert_batch` answers once per message; a job without an answer (never expected)
        // is dropped, which its handler sees as `Stopped`.
        for job in batch.drain(..) {
            if let Some(r) = results.next() {
                // The handler may have gone (client hung up): the message is stored anyway.
                let _ = job.reply.send(r);
            }
        }
    }
}
