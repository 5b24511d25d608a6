//! SQLite's message writer: one thread owning its own connection to the database file,
//! which stores each batch in one transaction with cached prepared statements.
//!
//! Why not the sqlx pool: sqlx runs every SQLite statement on its connection's thread and
//! hands each one over through a channel, so a batch of a few statements costs a dozen
//! thread switches on the async side. Here the async side hands over the whole batch once
//! and waits for one answer; everything else runs on this thread, the `fsync` included.
//! The SQL and the nonce rules ([`super::insert::plan`]) are the same as PostgreSQL's.
//!
//! Checkpoints are not left to the commit that happens to cross SQLite's threshold, which
//! would stall that batch and every answer waiting on it: see [`super::checkpoint`].

use std::path::Path;
use std::sync::mpsc;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::checkpoint::{self, Checkpointer, WAL_CEILING};
use super::insert::{Plan, plan};
use super::{COLUMNS, MessageRow};
use crate::StoreError;

/// Per message: `None` if stored as new, or the original of a repeated nonce.
pub(crate) type Outcome = Result<Vec<Option<MessageRow>>, StoreError>;

struct Job {
    messages: Vec<MessageRow>,
    since: i64,
    reply: oneshot::Sender<Outcome>,
}

/// Handle to the writer thread; the thread ends (closing its connection) when every handle
/// is gone, and the checkpoint thread with it.
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
    _checkpointer: Checkpointer,
}

fn stopped() -> StoreError {
    StoreError::Writer("the SQLite message writer stopped".into())
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Writer(err.to_string())
    }
}

/// How long the writer waits for the write lock between tries.
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_micros(100);
/// Tries before the writer gives up on the write lock (about 10 s).
const LOCK_TRIES: i32 = 100_000;

/// The writer's busy handler: waits for the write lock in short, even sleeps. SQLite's own
/// (`busy_timeout`) backs off to 100 ms sleeps, so a batch of messages that found the lock
/// taken by a few short transactions (session use, written in chunks) slept on through the
/// moments it was free.
fn wait_for_write_lock(tries: i32) -> bool {
    if tries >= LOCK_TRIES {
        return false;
    }
    std::thread::sleep(LOCK_RETRY);
    true
}

impl SqliteWriter {
    /// Opens a connection to `path` (already migrated) and starts the thread.
    pub(crate) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // The same durability and checks as the pool's connections (they are per connection).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_handler(Some(wait_for_write_lock))?;
        conn.set_prepared_statement_cache_capacity(32);
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CEILING)?;
        let (checkpointer, restart) = checkpoint::start(path)?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("papo-sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    let out = store(&mut conn, &job.messages, job.since);
                    // The caller may have gone (shutting down): the batch is stored anyway.
                    let _ = job.reply.send(out);
                    restart.finish(&conn);
                }
            })
            .map_err(|e| StoreError::Writer(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            jobs,
            _checkpointer: checkpointer,
        })
    }

    /// Stores `messages` in one transaction (see [`super::insert_batch`]).
    pub(crate) async fn write(&self, messages: &[MessageRow], since: i64) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                messages: messages.to_vec(),
                since,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        server_id: r.get(2)?,
        author_id: r.get(3)?,
        content: r.get(4)?,
        nonce: r.get(5)?,
        reply_to: r.get(6)?,
        mentions: r.get(7)?,
        mention_roles: r.get(8)?,
        mention_everyone: r.get(9)?,
        pinned_at: r.get(10)?,
        edited_at: r.get(11)?,
        created_at: r.get(12)?,
    })
}

fn store(conn: &mut Connection, messages: &[MessageRow], since: i64) -> Outcome {
    // IMMEDIATE: take the write lock first (waiting up to the busy timeout), so the reads
    // below never have to be upgraded to a write on a stale snapshot.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut existing = Vec::new();
    {
        let mut q = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE author_id = ?1 AND nonce = ?2"
        ))?;
        for m in messages {
            if let Some(nonce) = &m.nonce
                && let Some(row) = q
                    .query_row(params![m.author_id, nonce], read_row)
                    .optional()?
            {
                existing.push(row);
            }
        }
    }
    let Plan {
        duplicates,
        fresh,
        free_nonces,
    } = plan(messages, existing, since);
    {
        let mut q = tx.prepare_cached("UPDATE messages SET nonce = NULL WHERE id = ?1")?;
        for id in &free_nonces {
            q.execute([id])?;
        }
    }
    {
        let mut insert = tx.prepare_cached(&format!(
            "INSERT INTO messages ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ))?;
        let mut user_mention = tx.prepare_cached(
            "INSERT INTO message_mentions (user_id, channel_id, message_id) VALUES (?1, ?2, ?3)",
        )?;
        let mut role_mention = tx.prepare_cached(
            "INSERT INTO message_role_mentions (role_id, channel_id, message_id) \
             VALUES (?1, ?2, ?3)",
        )?;
        for m in &fresh {
            insert.execute(params![
                m.id,
                m.channel_id,
                m.server_id,
                m.author_id,
                m.content,
                m.nonce,
                m.reply_to,
                m.mentions,
                m.mention_roles,
                m.mention_everyone,
                m.pinned_at,
                m.edited_at,
                m.created_at
            ])?;
            for u in m.mention_ids() {
                user_mention.execute([u, m.channel_id, m.id])?;
            }
            for r in m.mention_role_ids() {
                role_mention.execute([r, m.channel_id, m.id])?;
            }
        }
    }
    tx.commit()?;
    Ok(duplicates)
}
