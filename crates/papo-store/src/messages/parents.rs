//! Whether a new message's channel and author exist, as SQLite's message writer checks it:
//! without a foreign-key lookup per row.
//!
//! The writer's connection has foreign keys off. With them on, SQLite looked up the channel
//! and the author of every message it inserted in their tables: two B-tree descents and two
//! cursors a message, about 2,700 instructions, a tenth of the writer's work per message
//! with S4's batches of a hundred (`bench/callgrind`). Instead the writer remembers the
//! channels and authors it has found, each looked up once ([`Parents`]), and deletions tell
//! it first ([`Removed`]):
//!
//! - a channel or a server is marked removed before its `DELETE` runs, and the writer reads
//!   the marks inside its write transaction. SQLite runs one write transaction at a time,
//!   so a message either commits before the delete (and the cascade removes it with the
//!   channel's other messages) or finds the mark and is refused, as the foreign key refused
//!   it. A mark stays for the process's life (ids are never reused), even if its `DELETE`
//!   failed: the channel then refuses messages until the server restarts, rather than risk
//!   one that outlives it;
//! - accounts are never deleted, so an author found once stays found. Deleting accounts
//!   would have to mark them here the same way.
//!
//! The tables still declare their foreign keys: every other connection enforces them, and
//! deletes cascade as before.

use std::sync::Mutex;

use foldhash::HashSet;
use rusqlite::{OptionalExtension, Statement};

use super::MessageRow;

/// Channels and servers deleted (or being deleted) since the process started: shared by
/// the deleting side and the writer thread.
#[derive(Debug, Default)]
pub(crate) struct Removed(Mutex<Marks>);

#[derive(Debug, Default)]
struct Marks {
    channels: HashSet<i64>,
    servers: HashSet<i64>,
}

impl Removed {
    /// Marks a channel removed; call before deleting it.
    pub(crate) fn channel(&self, id: i64) {
        self.marks().channels.insert(id);
    }

    /// Marks a server (and so its channels) removed; call before deleting it.
    pub(crate) fn server(&self, id: i64) {
        self.marks().servers.insert(id);
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The writer's own record of the channels and authors it found, and the shared marks.
#[derive(Debug)]
pub(crate) struct Parents {
    removed: std::sync::Arc<Removed>,
    channels: HashSet<i64>,
    authors: HashSet<i64>,
}

/// The statements [`Parents::check`] looks up with (prepared once by the writer).
pub(crate) struct Lookups<'c> {
    /// `SELECT 1 FROM channels WHERE id = ?1`.
    pub channel: Statement<'c>,
    /// `SELECT 1 FROM users WHERE id = ?1`.
    pub user: Statement<'c>,
}

/// What a missing parent fails with: SQLite's own foreign-key error, so that callers see
/// what they saw when SQLite checked.
fn missing() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
        Some("FOREIGN KEY constraint failed".into()),
    )
}

impl Parents {
    /// Nothing found yet.
    pub(crate) fn new(removed: std::sync::Arc<Removed>) -> Self {
        Self {
            removed,
            channels: HashSet::default(),
            authors: HashSet::default(),
        }
    }

    /// Whether `channel`, or its `server`, was marked removed (call inside the write
    /// transaction, as [`Parents::check`]).
    pub(crate) fn gone(&self, channel: i64, server: i64) -> bool {
        let marks = self.removed.marks();
        marks.channels.contains(&channel) || marks.servers.contains(&server)
    }

    /// `Ok` if every message's channel and author exist; else the foreign-key error. Call
    /// inside the write transaction (see the module's notes).
    pub(crate) fn check(
        &mut self,
        lookups: &mut Lookups<'_>,
        messages: &[MessageRow],
    ) -> rusqlite::Result<()> {
        {
            let marks = self.removed.marks();
            if messages.iter().any(|m| {
                marks.channels.contains(&m.channel_id) || marks.servers.contains(&m.server_id)
            }) {
                return Err(missing());
            }
        }
        for m in messages {
            found(&mut self.channels, &mut lookups.channel, m.channel_id)?;
            found(&mut self.authors, &mut lookups.user, m.author_id)?;
        }
        Ok(())
    }
}

/// Whether `id` is in `known`, or else in the table `lookup` reads (then remembered).
fn found(known: &mut HashSet<i64>, lookup: &mut Statement<'_>, id: i64) -> rusqlite::Result<()> {
    if known.contains(&id) {
        return Ok(());
    }
    lookup
        .query_row([id], |_| Ok(()))
        .optional()?
        .ok_or_else(missing)?;
    known.insert(id);
    Ok(())
}
