//! SQLite's message writer: one thread owning its own connection to the database file,
//! which stores each batch in one transaction with statements prepared once for its life.
//!
//! Why not the sqlx pool: sqlx runs every SQLite statement on its connection's thread and
//! hands each one over through a channel, so a batch of a few statements costs a dozen
//! thread switches on the async side. Here the async side hands over the whole batch once
//! and waits for one answer; everything else runs on this thread but the log's sync after
//! each commit, which a thread of its own does while this one stores the next batch
//! ([`super::log_sync`]).
//! The SQL and the nonce rules ([`super::insert::plan`]) are the same as PostgreSQL's; who
//! holds a recent nonce is remembered by this thread ([`super::recent_nonces`]) instead of
//! looked up in a unique index.
//!
//! Checkpoints are not left to the commit that happens to cross SQLite's threshold, which
//! would stall that batch and every answer waiting on it: see [`super::checkpoint`]. Foreign
//! keys are off on this connection; a message's channel and author are checked by
//! [`super::parents`] instead.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Statement, params};
use tokio::sync::oneshot;

use super::bulk::{Bulk, is_plain};
use super::checkpoint::{self, Checkpointer, WAL_CEILING};
use super::insert::{Plan, plan};
use super::log_sync::{LogSync, Owed};
use super::own_reads::OwnRead;
use super::parents::{Lookups, Parents, Removed};
use super::recent_nonces::{CAPACITY, RecentNonces};
use super::unlisted::{self, Due, LAG, Unlisted};
use super::wal_batch;
use super::{COLUMNS, MessageRow};
use crate::StoreError;

/// How often at most the mark of what waits for its channel's list moves up. A channel's
/// deletion looks at every message from the mark on: with messages stored at a steady 50k
/// a second, the mark trailed by ~32k messages when it moved once a second and by ~12k at
/// 100 ms, and deleting a server of 1,000 channels (125k messages) took 0.57–1.06 s in four
/// runs against 0.49–0.71 s in seven (each move costs a row rewritten and a look at every
/// waiting id, ten times a second at most).
const MARK_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Batches of at least this many messages are synced by the sync thread ([`super::log_sync`])
/// while this one stores the next; smaller ones here, at their commit. Small batches mean a
/// light load, where a slow sync holds up few messages, and handing each sync over cost more
/// than it saved: in S4's 5k msg/s step (five messages a commit) the server took 43.6–47.3 µs
/// of CPU a message with every sync handed over against 40.1–41.5 without, two more thread
/// wake-ups a commit (docs/benchmarks/s4-writer.md, *Syncs off the writer*).
const SYNC_APART_FROM: usize = 32;

/// Per message: `None` if stored as new, or the original of a repeated nonce.
pub(crate) type Outcome = Result<Vec<Option<MessageRow>>, StoreError>;

struct Job {
    messages: Vec<MessageRow>,
    since: i64,
    /// The messages go back with the outcome, once durable: the caller keeps using them.
    reply: oneshot::Sender<(Vec<MessageRow>, Outcome)>,
}

/// A batch handed to the writer's thread ([`SqliteWriter::submit`]), its outcome to come
/// once the batch is durable.
pub(crate) struct Pending(oneshot::Receiver<(Vec<MessageRow>, Outcome)>);

impl Future for Pending {
    type Output = (Vec<MessageRow>, Outcome);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or_else(|_| (Vec::new(), Err(stopped()))))
    }
}

/// Handle to the writer thread; the thread ends (closing its connection) when every handle
/// is gone, and the checkpoint thread with it.
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
    _checkpointer: Checkpointer,
}

pub(super) fn stopped() -> StoreError {
    StoreError::Writer("the SQLite message writer stopped".into())
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error() {
            Some(e) if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                Self::MissingParent(err.to_string())
            }
            _ => Self::Writer(err.to_string()),
        }
    }
}

impl SqliteWriter {
    /// Opens a connection to `path` (already migrated) and starts the thread; `removed`
    /// holds the channels and servers deleted meanwhile.
    pub(crate) fn start(
        path: &Path,
        removed: Arc<Removed>,
        unlisted: unlisted::Shared,
    ) -> Result<Self, StoreError> {
        let conn = open(path)?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        // A batch that found the lock taken by a few short transactions (session use, written in
        // chunks) slept on through the moments it was free under SQLite's own wait.
        conn.busy_handler(Some(crate::sqlite_busy::wait_for_write_lock))?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CEILING)?;
        let (checkpointer, restart) = checkpoint::start(path)?;
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        let log_sync = LogSync::start(log.into())?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("papo-sqlite-writer".into())
            .spawn(move || {
                let mut prepared = None;
                let mut recent = None;
                let mut parents = Parents::new(removed);
                while let Ok(job) = rx.recv() {
                    let out = ready(&conn, &mut prepared, &mut recent, job.since)
                        .map_err(StoreError::from)
                        .and_then(|(statements, recent)| {
                            let batch = Batch {
                                messages: &job.messages,
                                since: job.since,
                                unlisted: &unlisted,
                                sync_apart: job.messages.len() >= SYNC_APART_FROM,
                            };
                            store(statements, recent, &mut parents, batch)
                        });
                    let owed = wal_batch::defer_syncs(&conn, false);
                    let batch = Owed {
                        reply: job.reply,
                        messages: job.messages,
                        outcome: out,
                    };
                    if owed && batch.outcome.is_ok() {
                        log_sync.answer_when_synced(batch);
                    } else {
                        // Nothing committed (or nothing written): nothing to wait for. The
                        // caller may have gone (shutting down): the batch is stored anyway.
                        let _ = batch.reply.send((batch.messages, batch.outcome));
                    }
                    restart.finish(&conn);
                }
            })
            .map_err(|e| StoreError::Writer(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            jobs,
            _checkpointer: checkpointer,
        })
    }

    /// Stores `messages` in one transaction (see [`super::insert_batch`]), and gives them
    /// back with the outcome once durable (none if the thread is gone).
    #[cfg(test)]
    pub(crate) async fn write(
        &self,
        messages: Vec<MessageRow>,
        since: i64,
    ) -> (Vec<MessageRow>, Outcome) {
        match self.submit(messages, since) {
            Ok(pending) => pending.await,
            Err(messages) => (messages, Err(stopped())),
        }
    }

    /// Hands `messages` to the thread, to be stored in one transaction after the batches
    /// handed over before; its outcome comes once it is durable, after the log's sync
    /// ([`super::log_sync`]), while the thread stores the next batch. Gives the messages
    /// back if the thread is gone.
    pub(crate) fn submit(
        &self,
        messages: Vec<MessageRow>,
        since: i64,
    ) -> Result<Pending, Vec<MessageRow>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            messages,
            since,
            reply,
        };
        match self.jobs.send(job) {
            Ok(()) => Ok(Pending(answer)),
            Err(mpsc::SendError(job)) => Err(job.messages),
        }
    }
}

/// Opens the writer's connection to `path` through [`wal_batch`]'s VFS, with the pool's
/// durability (`synchronous=FULL`, on which that VFS relies) and no page written to the log
/// before its commit.
pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    wal_batch::register().map_err(|rc| {
        StoreError::Writer(format!(
            "registering the log's VFS failed (SQLite error {rc})"
        ))
    })?;
    let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), wal_batch::NAME)?;
    super::lookaside::enlarge(&conn)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_spill", false)?;
    Ok(conn)
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

/// Messages sent up to this long before the window began are still read when the writer
/// reloads the window's nonces (ids follow the clock, give or take a few milliseconds).
const RELOAD_SLACK_MS: i64 = 60_000;

/// The nonces taken since `since` (Unix ms), read from the newest messages back.
fn load_nonces(conn: &Connection, since: i64) -> rusqlite::Result<RecentNonces> {
    let mut q =
        conn.prepare("SELECT id, author_id, nonce, created_at FROM messages ORDER BY id DESC")?;
    let mut rows = q.query([])?;
    let mut taken = Vec::new();
    while taken.len() < CAPACITY
        && let Some(r) = rows.next()?
    {
        let created_at: i64 = r.get(3)?;
        if created_at < since - RELOAD_SLACK_MS {
            break;
        }
        if created_at >= since
            && let Some(nonce) = r.get::<_, Option<String>>(2)?
        {
            taken.push((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, nonce, created_at));
        }
    }
    let mut recent = RecentNonces::new(CAPACITY);
    for (id, author, nonce, created_at) in taken.into_iter().rev() {
        recent.remember(author, &nonce, id, created_at);
    }
    Ok(recent)
}

/// The writer's statements, prepared once for the thread's life. Taken from rusqlite's cache
/// instead, each one's SQL was hashed when taken and again when put back, seven a batch:
/// ~9k instructions a batch with the two `format!`s of their SQL (`bench/callgrind`, quick
/// S4), as much as the batch's SQLite work at two messages a batch.
struct Statements<'c> {
    conn: &'c Connection,
    /// `BEGIN IMMEDIATE`: the write lock taken first (waiting up to the busy handler's
    /// limit), so the reads of the batch never have to be upgraded on a stale snapshot.
    begin: Statement<'c>,
    commit: Statement<'c>,
    /// A remembered nonce's holder, read back by its id.
    holder: Statement<'c>,
    free_nonce: Statement<'c>,
    insert: Statement<'c>,
    /// Plain messages inserted, and entered in their channel's list, many to a statement.
    bulk: Bulk<'c>,
    /// A stored message entered in its channel's list unless it was deleted meanwhile.
    enter_if_there: Statement<'c>,
    /// Every message with a smaller id is in its channel's list.
    mark: Statement<'c>,
    /// The mark as last committed, and when it was last moved up.
    marked: i64,
    marked_at: std::time::Instant,
    user_mention: Statement<'c>,
    role_mention: Statement<'c>,
    /// An author's newest message in a channel, into their read state ([`write_own`]).
    own_read: Statement<'c>,
    own_read_new: Statement<'c>,
    /// A message's channel and author looked up.
    parents: Lookups<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            conn,
            begin: conn.prepare("BEGIN IMMEDIATE")?,
            commit: conn.prepare("COMMIT")?,
            holder: conn.prepare(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?,
            free_nonce: conn.prepare("UPDATE messages SET nonce = NULL WHERE id = ?1")?,
            insert: conn.prepare(&format!(
                "INSERT INTO messages ({COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?,
            bulk: Bulk::prepare(conn)?,
            enter_if_there: conn.prepare(
                "INSERT INTO channel_messages (channel_id, id) \
                 SELECT channel_id, id FROM messages WHERE id = ?2 AND channel_id = ?1",
            )?,
            mark: conn.prepare("UPDATE channel_messages_mark SET below = ?1")?,
            marked: unlisted::mark(conn)?,
            marked_at: std::time::Instant::now(),
            user_mention: conn.prepare(
                "INSERT INTO message_mentions (user_id, channel_id, message_id) \
                 VALUES (?1, ?2, ?3)",
            )?,
            role_mention: conn.prepare(
                "INSERT INTO message_role_mentions (role_id, channel_id, message_id) \
                 VALUES (?1, ?2, ?3)",
            )?,
            own_read: conn.prepare(
                "UPDATE read_states SET own_last_id = ?3 WHERE user_id = ?1 AND channel_id = ?2 \
                 AND (own_last_id IS NULL OR own_last_id < ?3)",
            )?,
            // Also what a row holding a newer message (nothing updated) ignores.
            own_read_new: conn.prepare(
                "INSERT OR IGNORE INTO read_states (user_id, channel_id, own_last_id, last_read_id) \
                 VALUES (?1, ?2, ?3, 0)",
            )?,
            parents: Lookups {
                channel: conn.prepare("SELECT 1 FROM channels WHERE id = ?1")?,
                user: conn.prepare("SELECT 1 FROM users WHERE id = ?1")?,
            },
        })
    }
}

/// The writer's statements and remembered nonces, prepared and loaded by the first batch
/// (a batch that finds them failing gets the error, and the next one tries again).
fn ready<'a, 'c>(
    conn: &'c Connection,
    prepared: &'a mut Option<Statements<'c>>,
    recent: &'a mut Option<RecentNonces>,
    since: i64,
) -> rusqlite::Result<(&'a mut Statements<'c>, &'a mut RecentNonces)> {
    if prepared.is_none() {
        *prepared = Some(Statements::prepare(conn)?);
    }
    if recent.is_none() {
        *recent = Some(load_nonces(conn, since)?);
    }
    Ok((
        prepared.as_mut().expect("prepared above"),
        recent.as_mut().expect("loaded above"),
    ))
}

/// Stores one batch in one transaction: `BEGIN IMMEDIATE`, the batch's statements, `COMMIT`,
/// or `ROLLBACK` if any of them failed (the batch is then stored not at all).
fn store(
    st: &mut Statements<'_>,
    recent: &mut RecentNonces,
    parents: &mut Parents,
    batch: Batch<'_>,
) -> Outcome {
    st.begin.execute([])?;
    let stored = parents
        .check(&mut st.parents, batch.messages)
        .and_then(|()| statements(st, recent, parents, &batch))
        .and_then(|done| {
            // A large batch's sync is owed instead of done (see `log_sync`); the log is open
            // by now.
            wal_batch::defer_syncs(st.conn, batch.sync_apart);
            st.commit.execute([])?;
            Ok(done)
        });
    match stored {
        Ok(Done {
            planned: Plan {
                duplicates, fresh, ..
            },
            entered,
            below,
            own_written,
        }) => {
            if below > st.marked {
                st.marked_at = std::time::Instant::now();
            }
            st.marked = below;
            // Committed: the entries leave what waits, the new messages join it.
            {
                let mut unlisted = batch.unlisted.lock();
                unlisted.entered(&entered);
                if own_written {
                    unlisted.own.clear();
                }
                for m in &fresh {
                    unlisted.note(m.channel_id, m.id);
                    unlisted
                        .own
                        .note(m.author_id, m.channel_id, m.server_id, m.id);
                }
            }
            for m in &fresh {
                if let Some(nonce) = &m.nonce {
                    recent.remember(m.author_id, nonce, m.id, m.created_at);
                }
            }
            recent.forget_before(batch.since);
            Ok(duplicates)
        }
        Err(err) => {
            // A failed statement (or a busy commit) leaves the transaction open: end it, so
            // that the next batch starts clean. Some errors (a full disk, an I/O error) have
            // SQLite roll it back itself, and then there is nothing to end.
            if !st.conn.is_autocommit()
                && let Err(rollback) = st.conn.execute_batch("ROLLBACK")
            {
                tracing::warn!(%rollback, "rolling the message batch back failed");
            }
            wal_batch::discard(st.conn);
            Err(err.into())
        }
    }
}

/// One batch for [`store`].
struct Batch<'a> {
    messages: &'a [MessageRow],
    /// The oldest time a nonce is still remembered.
    since: i64,
    /// Messages not yet in their channel's list.
    unlisted: &'a unlisted::Shared,
    /// The commit's sync is left to the sync thread ([`SYNC_APART_FROM`]).
    sync_apart: bool,
}

/// Enters the channels `due` in their lists (`maybe_deleted`: ids whose deletion began, each
/// entered only if its row is still there). The messages of a channel deleted since they
/// were stored (its deletion removed the ones in its list) are deleted with what hangs on
/// them: this connection does not cascade.
fn enter(
    st: &mut Statements<'_>,
    due: &Due,
    maybe_deleted: &foldhash::HashSet<i64>,
) -> rusqlite::Result<()> {
    for (channel, ids) in due {
        if st.parents.channel.exists([channel])? {
            if maybe_deleted.is_empty() {
                st.bulk.enter(*channel, ids)?;
                continue;
            }
            let (gone, kept): (Vec<i64>, Vec<i64>) =
                ids.iter().partition(|id| maybe_deleted.contains(*id));
            st.bulk.enter(*channel, &kept)?;
            for id in gone {
                st.enter_if_there.execute([*channel, id])?;
            }
            continue;
        }
        for id in ids {
            for sql in [
                "DELETE FROM message_mentions WHERE message_id = ?1",
                "DELETE FROM message_role_mentions WHERE message_id = ?1",
                "DELETE FROM reactions WHERE message_id = ?1",
                "DELETE FROM messages WHERE id = ?1",
            ] {
                st.conn.prepare_cached(sql)?.execute([id])?;
            }
        }
    }
    Ok(())
}

/// What [`statements`] did, for [`store`] to note once the transaction commits.
struct Done<'b> {
    /// The batch's plan: the caller remembers the nonces of the rows it inserted (`fresh`)
    /// and notes them as waiting.
    planned: Plan<'b>,
    /// The channels entered in their lists, which leave what waits.
    entered: Due,
    /// The mark as written.
    below: i64,
    /// Whether every authors' read state waiting was written (the mark moved up).
    own_written: bool,
}

/// The statements of [`store`]'s transaction; what waits changes only once it commits.
fn statements<'b>(
    st: &mut Statements<'_>,
    recent: &RecentNonces,
    parents: &Parents,
    batch: &Batch<'b>,
) -> rusqlite::Result<Done<'b>> {
    let (messages, since) = (batch.messages, batch.since);
    // Only a nonce remembered as taken is read back, by its holder's id.
    let mut existing = Vec::new();
    for m in messages {
        if let Some(nonce) = &m.nonce
            && let Some(id) = recent.holder(m.author_id, nonce)
            && let Some(row) = st.holder.query_row([id], read_row).optional()?
            && row.author_id == m.author_id
            && row.nonce.as_deref() == Some(nonce.as_str())
        {
            existing.push(row);
        }
    }
    let planned = plan(messages, existing, since);
    for id in &planned.free_nonces {
        st.free_nonce.execute([id])?;
    }
    // Runs of plain messages go in many to a statement, in the batch's order.
    let mut plain: Vec<&MessageRow> = Vec::with_capacity(planned.fresh.len());
    for m in &planned.fresh {
        if is_plain(m) {
            plain.push(m);
            continue;
        }
        st.bulk.insert_plain(&plain)?;
        plain.clear();
        st.insert.execute(params![
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
        for u in m.mentioned() {
            st.user_mention.execute([u, m.channel_id, m.id])?;
        }
        for r in m.mentioned_roles() {
            st.role_mention.execute([r, m.channel_id, m.id])?;
        }
    }
    st.bulk.insert_plain(&plain)?;
    // The oldest channels' waiting messages, entered in their lists (the new ones wait).
    let (maybe_deleted, due, below, own) = {
        let unlisted = batch.unlisted.lock();
        let due = unlisted.due(planned.fresh.len(), LAG);
        let below = mark_after(st, &unlisted, &due, &planned.fresh);
        // The mark moving up: every read state waiting goes with it (the new messages'
        // are above it).
        let own = (below > st.marked).then(|| unlisted.own.pending());
        (unlisted.maybe_deleted(&due), due, below, own)
    };
    enter(st, &due, &maybe_deleted)?;
    if let Some(own) = &own {
        write_own(st, parents, own)?;
    }
    if below != st.marked {
        st.mark.execute([below])?;
    }
    Ok(Done {
        planned,
        entered: due,
        below,
        own_written: own.is_some(),
    })
}

/// Writes authors' newest messages into their read states: an update of the row, which
/// nearly always exists (cheaper than an upsert, which looks for the row as a conflict
/// first), and an insert where nothing was updated. A channel or server removed since is
/// skipped (its read states went with it).
fn write_own(st: &mut Statements<'_>, parents: &Parents, own: &[OwnRead]) -> rusqlite::Result<()> {
    for o in own {
        if parents.gone(o.channel, o.server) {
            continue;
        }
        if st.own_read.execute([o.author, o.channel, o.id])? == 0 {
            st.own_read_new.execute([o.author, o.channel, o.id])?;
        }
    }
    Ok(())
}

/// Where the mark goes with this commit: down to a new message older than it at once (every
/// waiting id must be at least the mark), up to the smallest id left waiting at most every
/// [`MARK_EVERY`]: a row rewritten, and every waiting id looked at, for each move. A mark
/// behind costs only a longer look at a restart or a channel's deletion.
fn mark_after(
    st: &Statements<'_>,
    unlisted: &Unlisted,
    due: &Due,
    fresh: &[Cow<'_, MessageRow>],
) -> i64 {
    let fresh = fresh.iter().map(|m| m.id).min();
    if let Some(id) = fresh
        && id < st.marked
    {
        return id;
    }
    if due.is_empty() || st.marked_at.elapsed() < MARK_EVERY {
        return st.marked;
    }
    unlisted
        .min_after(due)
        .into_iter()
        .chain(fresh)
        .min()
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "sqlite_writer_tests.rs"]
mod tests;
