//! The message writer's log synced on a thread of its own, so that the writer stores its
//! next batch while the last one's sync waits for the disk.
//!
//! Before, the writer's thread synced its log at every commit (`synchronous=FULL`), and
//! nothing was stored meanwhile: a batch took its statements' time plus the sync's, and a
//! slow sync (tens of milliseconds, now and then, on a virtual disk) held up every message
//! behind it. Now the writer's commits only write the log ([`super::wal_batch::defer_syncs`])
//! and hand the batch here; this thread syncs the log once for every batch handed over
//! before the sync began, then answers them, in order. A batch is answered (and so
//! announced and acknowledged) only once durable, as before.
//!
//! The sync goes through a descriptor of the log file opened here: on Linux `fdatasync`
//! writes a file's pages whichever descriptor asks. The log is the same file for the
//! writer's life (SQLite removes it only when its last connection closes, and the writer's
//! stays open while this thread runs). Other connections may read a batch before it is
//! durable, as they would with `synchronous=NORMAL`; nothing copies it into the database
//! file before that (see `defer_syncs`).

use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::MessageRow;
use super::sqlite_writer::Outcome;
use crate::StoreError;

/// A stored batch waiting for its log's sync, with whom to answer.
pub(crate) struct Owed {
    pub(crate) reply: oneshot::Sender<(Vec<MessageRow>, Outcome)>,
    pub(crate) messages: Vec<MessageRow>,
    pub(crate) outcome: Outcome,
}

impl Owed {
    /// Answers with the outcome, or with `failed` if the sync failed.
    fn answer(self, failed: Option<&std::io::Error>) {
        let outcome = match failed {
            None => self.outcome,
            Some(err) => Err(StoreError::Writer(format!(
                "syncing the message log failed: {err}"
            ))),
        };
        // The caller may have gone (shutting down): the batch is stored anyway.
        let _ = self.reply.send((self.messages, outcome));
    }
}

/// Batches handed over so far, in this process (for tests).
#[cfg(test)]
pub(crate) static HANDED_OVER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Handle to the sync thread, which ends when this is dropped.
pub(crate) struct LogSync {
    owed: mpsc::Sender<Owed>,
    log: PathBuf,
}

impl LogSync {
    /// Starts the thread that syncs the log file at `log`.
    pub(crate) fn start(log: PathBuf) -> Result<Self, StoreError> {
        let (owed, rx) = mpsc::channel::<Owed>();
        let path = log.clone();
        std::thread::Builder::new()
            .name("papo-sqlite-sync".into())
            .spawn(move || {
                let mut file = None;
                while let Ok(first) = rx.recv() {
                    // Everything handed over so far is in the file: one sync for all of it.
                    let mut batches = vec![first];
                    batches.extend(rx.try_iter());
                    let synced = sync(&mut file, &path);
                    if let Err(err) = &synced {
                        tracing::error!(%err, "syncing the message log failed");
                    }
                    for batch in batches {
                        batch.answer(synced.as_ref().err());
                    }
                }
            })
            .map_err(|e| StoreError::Writer(format!("starting the log's sync thread: {e}")))?;
        Ok(Self { owed, log })
    }

    /// Answers `batch` once a sync of the log that began after this call has ended (here and
    /// now, should the thread be gone).
    pub(crate) fn answer_when_synced(&self, batch: Owed) {
        #[cfg(test)]
        HANDED_OVER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(mpsc::SendError(batch)) = self.owed.send(batch) {
            let synced = sync(&mut None, &self.log);
            batch.answer(synced.as_ref().err());
        }
    }
}

/// Syncs the log file's data, opening it first if `file` is not open yet.
fn sync(file: &mut Option<std::fs::File>, path: &std::path::Path) -> std::io::Result<()> {
    let file = match file {
        Some(f) => f,
        None => file.insert(std::fs::File::open(path)?),
    };
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_support::{row, temp_db};

    fn owed(outcome: Outcome) -> (Owed, oneshot::Receiver<(Vec<MessageRow>, Outcome)>) {
        let (reply, answer) = oneshot::channel();
        let messages = vec![row(1, 10, 7, None, 1_000)];
        let batch = Owed {
            reply,
            messages,
            outcome,
        };
        (batch, answer)
    }

    #[test]
    fn batches_are_answered_in_order_once_synced() {
        let path = temp_db("log-sync");
        std::fs::write(&path, b"frames").unwrap();
        let sync = LogSync::start(path.clone()).unwrap();
        let mut answers = Vec::new();
        for i in 0..3 {
            let (batch, answer) = owed(Ok(vec![None; i + 1]));
            sync.answer_when_synced(batch);
            answers.push(answer);
        }
        for (i, answer) in answers.into_iter().enumerate() {
            let (messages, outcome) = answer.blocking_recv().unwrap();
            assert_eq!(messages[0].id, 1);
            assert_eq!(
                outcome.unwrap().len(),
                i + 1,
                "each batch gets its own outcome"
            );
        }
    }

    #[test]
    fn a_failed_sync_fails_the_batches_it_covered() {
        // No such file: opening it for the sync fails.
        let path = temp_db("log-sync-missing");
        let sync = LogSync::start(path).unwrap();
        let (batch, answer) = owed(Ok(vec![None]));
        sync.answer_when_synced(batch);
        let (messages, outcome) = answer.blocking_recv().unwrap();
        assert_eq!(messages.len(), 1, "the messages come back");
        let err = outcome.unwrap_err().to_string();
        assert!(err.contains("syncing the message log failed"), "{err}");
    }
}
