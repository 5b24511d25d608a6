//! The one write path for new messages: group commit.
//!
//! Senders hand their message to a single writer task. The writer takes every message
//! waiting (up to [`MAX_BATCH`]) and stores them in one transaction, so a burst of N messages
//! costs one fsync instead of N; after the commit it finishes each send in the order of its
//! queue ([`Then::committed`]: the message announced, the sender answered).
//! With no load a batch is one message and nothing waits. Under load (the last batch held
//! several messages) the writer first lets every task that is ready run — requests already
//! read reach the queue — and starts a commit no sooner than [`COMMIT_GAP`] after the last
//! one started, so that more messages join it: a commit costs about the same for one message
//! or a hundred (the `fsync`, and on a virtual disk the exits it takes), so fewer, larger
//! commits leave more of the core to everything else.
//!
//! A commit is durable once its log is synced, which SQLite's writer does on a thread of its
//! own (`papo_store`'s `log_sync`): the writer waits for its last batch to be durable before
//! it stores the next, as long as that takes at most [`SYNC_PATIENCE`]; past that it stores
//! the next batch meanwhile, so that a slow sync delays the answers it holds but not the
//! storing of what comes after. Batches are finished in order, each once durable.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use papo_store::Db;
use papo_store::StoreError;
use papo_store::messages::{self, MessageRow, Submitted};
use tokio::sync::mpsc;

use super::send::Then;
use crate::http::metrics::{AtomicHistogram, HistogramSnapshot};

/// Most messages committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// How long a nonce is remembered.
pub const NONCE_WINDOW_MS: i64 = 10 * 60 * 1000;
const QUEUE: usize = 4096;

/// Under load, the least time from the start of one commit to the start of the next.
///
/// Measured with `papo-bench` (S4 at 5,000 messages a second, docs/benchmarks.md, *Profile-
/// driven fixes*): without it the writer was free again before the next message and
/// committed 1.7 messages at a time, 2,400–3,000 disk flushes a second, and the
/// hypervisor took 2–7 % of both cores (steal time), so that 1 ms ticks on both came over
/// 2 ms late 3–4.5 % of the time; with it, 5 messages a commit, steal near 0, no late ticks and
/// 38 % less of the server's CPU per message. tokio's timer ticks every millisecond, so the
/// wait ends at the tick after the gap: at most about one commit a millisecond.
pub const COMMIT_GAP: Duration = Duration::from_micros(500);

/// The longest the writer waits for its last batch to be durable before it stores the next.
/// A sync usually takes well under a millisecond here, and the batch that gathers meanwhile
/// is stored with one commit; a sync of tens of milliseconds, now and then on a virtual
/// disk, held up every message behind it when the writer waited for each: at S4's 50k msg/s
/// the writer's queue then filled: in 15-s steps its wait had a p99 of up to 500 ms while
/// its commits' was 5–25 ms (docs/benchmarks/s4-writer.md, *Syncs off the writer*).
pub const SYNC_PATIENCE: Duration = Duration::from_millis(2);

/// When the next commit may start: `None` at once (no load, or the last one started long
/// enough ago), or the instant `COMMIT_GAP` after the last one started.
fn commit_not_before(
    busy: bool,
    last_start: Option<tokio::time::Instant>,
    now: tokio::time::Instant,
) -> Option<tokio::time::Instant> {
    let due = last_start? + COMMIT_GAP;
    (busy && due > now).then_some(due)
}

struct Job {
    row: MessageRow,
    queued: Instant,
    /// Given the row back with its outcome.
    then: Then,
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
    /// Per batch: the store, from the hand-over to the database to its outcome, once
    /// durable (the log's sync included).
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

    /// Queues `row` to be stored (or the original of a repeated nonce found); `then` is
    /// given the row back with the outcome once its batch is committed, or `Stopped` if the
    /// writer is gone. Waits only for a place in the queue.
    ///
    /// Not an `async fn`, which would keep a second copy of the row in every send's future
    /// (see [`super::send_message`]). A place in the queue is taken before the job is made,
    /// for the same reason: waiting to send the job would hold it as well.
    #[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see above
    pub fn write(&self, row: MessageRow, then: Then) -> impl Future<Output = ()> + Send + '_ {
        async move {
            // Before the wait for a place, as when the job was made first: the writer's wait
            // (`WriterStats::wait`) counts a full queue too.
            let queued = Instant::now();
            match self.tx.reserve().await {
                Ok(place) => place.send(Job { row, queued, then }),
                Err(_) => then.committed(Err(WriteError::Stopped)),
            }
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, counts: Arc<Counts>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // Batches stored, not yet durable, oldest first (one, but while a sync is slow).
    let mut pending: VecDeque<Committed> = VecDeque::new();
    let mut busy = false;
    let mut last_start = None;
    loop {
        let received = match pending.front_mut() {
            None => rx.recv_many(&mut batch, MAX_BATCH).await,
            Some(oldest) => {
                // Whichever comes first: new messages, or the oldest batch durable.
                tokio::select! {
                    biased;
                    () = poll_fn(|cx| oldest.stored.poll_durable(cx)) => {
                        finish_durable(&db, &mut pending, &counts).await;
                        continue;
                    }
                    n = rx.recv_many(&mut batch, MAX_BATCH) => n,
                }
            }
        };
        if received == 0 {
            break;
        }
        if batch.len() < MAX_BATCH
            && let Some(due) = commit_not_before(busy, last_start, tokio::time::Instant::now())
        {
            tokio::time::sleep_until(due).await;
        }
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
        let since = crate::now_ms() - NONCE_WINDOW_MS;
        last_start = Some(tokio::time::Instant::now());
        let started = Instant::now();
        // The rows move to the store and come back with their outcomes, uncopied.
        let mut rows = Vec::with_capacity(batch.len());
        let mut thens = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            counts.wait.observe(started - job.queued);
            rows.push(job.row);
            thens.push(job.then);
        }
        pending.push_back(Committed {
            started,
            stored: messages::submit_batch(&db, rows, since).await,
            thens,
        });
        // Usually durable within the patience, while the next batch gathers.
        let patience = tokio::time::Instant::now() + SYNC_PATIENCE;
        while let Some(oldest) = pending.front_mut() {
            let durable = poll_fn(|cx| oldest.stored.poll_durable(cx));
            if tokio::time::timeout_at(patience, durable).await.is_err() {
                break;
            }
            finish_durable(&db, &mut pending, &counts).await;
        }
    }
    // Shutting down: every batch stored is finished.
    while let Some(oldest) = pending.front_mut() {
        poll_fn(|cx| oldest.stored.poll_durable(cx)).await;
        finish_durable(&db, &mut pending, &counts).await;
    }
}

/// A batch handed to the store, to be finished once durable.
struct Committed {
    started: Instant,
    stored: Submitted,
    thens: Vec<Then>,
}

/// Finishes the oldest batch of `pending`, durable by now: [`Then::committed`] for each of
/// its sends, in order (the message announced, the sender answered).
async fn finish_durable(db: &Db, pending: &mut VecDeque<Committed>, counts: &Counts) {
    let Some(Committed {
        started,
        stored,
        thens,
    }) = pending.pop_front()
    else {
        return;
    };
    let mut results = stored.outcome(db).await.into_iter();
    counts.commit.observe(started.elapsed());
    counts.batches.fetch_add(1, Ordering::Relaxed);
    counts
        .messages
        .fetch_add(thens.len() as u64, Ordering::Relaxed);
    // The store answers once per message, in order; a job without an answer (never
    // expected) is told the writer stopped.
    for then in thens {
        then.committed(match results.next() {
            Some(r) => r.map_err(WriteError::Store),
            None => Err(WriteError::Stopped),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_load_a_commit_waits_for_the_gap_and_otherwise_starts_at_once() {
        let t0 = tokio::time::Instant::now();
        let soon = t0 + COMMIT_GAP / 2;
        // Under load, soon after the last start: wait for the gap.
        assert_eq!(
            commit_not_before(true, Some(t0), soon),
            Some(t0 + COMMIT_GAP)
        );
        // No load (the last batch was one message): at once, however recent.
        assert_eq!(commit_not_before(false, Some(t0), soon), None);
        // The first commit, or the gap already over: at once.
        assert_eq!(commit_not_before(true, None, soon), None);
        assert_eq!(commit_not_before(true, Some(t0), t0 + COMMIT_GAP), None);
        assert_eq!(commit_not_before(true, Some(t0), t0 + COMMIT_GAP * 3), None);
    }
}
