//! SQLite's message writer: plain messages and entries in a channel's list inserted several
//! rows to a statement.
//!
//! Each execution of a prepared statement costs the same fixed work however little it
//! inserts: its program started and halted, its cursor opened and closed, rusqlite's checks
//! and the statement's reset. A statement of many `VALUES` rows pays that once for all of
//! them (each row is still looked for in its B-tree). The writer stores a batch of up to
//! hundreds of plain messages and enters a few ids per channel, so each kind has statements
//! for 1, 2, 4, 8 and 16 rows: a run of `n` rows takes at most `n / 16 + 4` executions.
//!
//! Measured by replaying the writer's statements under `callgrind` (60,000 messages in
//! commits of 255 or of 40, a thousand channels, four ids entered at a time): ~1.5k
//! instructions a message fewer for the messages, ~380 an entry. In S4's time figures the
//! difference is within this machine's noise (docs/benchmarks/s4-writer.md).

use rusqlite::{Connection, Statement};

use super::MessageRow;

/// The largest statement's rows is `1 << LARGEST`.
const LARGEST: usize = 4;

/// Statements inserting 1, 2, 4, … `1 << LARGEST` rows.
struct Sizes<'c>([Statement<'c>; LARGEST + 1]);

impl<'c> Sizes<'c> {
    /// Prepares `sql(rows)` for each size.
    fn prepare(conn: &'c Connection, sql: impl Fn(usize) -> String) -> rusqlite::Result<Self> {
        let mut prepared = Vec::with_capacity(LARGEST + 1);
        for k in 0..=LARGEST {
            prepared.push(conn.prepare(&sql(1 << k))?);
        }
        Ok(Self(prepared.try_into().expect("one statement per size")))
    }

    /// Inserts `rows` in order, each bound by `bind(statement, its place in the statement,
    /// row)`, the largest statement that fits first.
    fn insert<T>(
        &mut self,
        mut rows: &[T],
        bind: impl Fn(&mut Statement<'c>, usize, &T) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        while !rows.is_empty() {
            let k = (rows.len().ilog2() as usize).min(LARGEST);
            let (now, rest) = rows.split_at(1 << k);
            let statement = &mut self.0[k];
            for (at, row) in now.iter().enumerate() {
                bind(statement, at, row)?;
            }
            statement.raw_execute()?;
            rows = rest;
        }
        Ok(())
    }
}

/// `(?1, ?2, …), (…), …`: `rows` rows of `columns` numbered parameters each.
fn values(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let params: Vec<String> = (1..=columns)
            .map(|c| format!("?{}", r * columns + c))
            .collect();
        format!("({})", params.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// The writer's many-row inserts.
pub(super) struct Bulk<'c> {
    /// Messages with no reply, mention, pin or edit: the columns' defaults hold the rest, so
    /// 7 parameters are bound instead of 13 (~1.1k instructions a message fewer:
    /// `bench/callgrind`, S4 at 4,000 msg/s).
    plain: Sizes<'c>,
    /// Stored messages entered in their channel's list (`channel_messages`, which a
    /// channel's history is read from), one channel's to a statement.
    entries: Sizes<'c>,
}

impl<'c> Bulk<'c> {
    /// Prepares the statements.
    pub(super) fn prepare(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            plain: Sizes::prepare(conn, |rows| {
                format!(
                    "INSERT INTO messages (id, channel_id, server_id, author_id, content, nonce, \
                     created_at) VALUES {}",
                    values(rows, 7)
                )
            })?,
            // The channel is `?1`, the ids `?2` on.
            entries: Sizes::prepare(conn, |rows| {
                let ids: Vec<String> = (0..rows).map(|r| format!("(?1, ?{})", r + 2)).collect();
                format!(
                    "INSERT INTO channel_messages (channel_id, id) VALUES {}",
                    ids.join(", ")
                )
            })?,
        })
    }

    /// Inserts plain messages ([`is_plain`]), in order.
    pub(super) fn insert_plain(&mut self, messages: &[&MessageRow]) -> rusqlite::Result<()> {
        self.plain.insert(messages, |s, at, m| {
            let first = at * 7 + 1;
            s.raw_bind_parameter(first, m.id)?;
            s.raw_bind_parameter(first + 1, m.channel_id)?;
            s.raw_bind_parameter(first + 2, m.server_id)?;
            s.raw_bind_parameter(first + 3, m.author_id)?;
            s.raw_bind_parameter(first + 4, m.content.as_str())?;
            s.raw_bind_parameter(first + 5, m.nonce.as_deref())?;
            s.raw_bind_parameter(first + 6, m.created_at)
        })
    }

    /// Enters `ids` in `channel`'s list.
    pub(super) fn enter(&mut self, channel: i64, ids: &[i64]) -> rusqlite::Result<()> {
        self.entries.insert(ids, |s, at, id| {
            if at == 0 {
                s.raw_bind_parameter(1, channel)?;
            }
            s.raw_bind_parameter(at + 2, *id)
        })
    }
}

/// Whether `m` stores as the plain insert does: what it leaves out holds the columns'
/// defaults (no reply, mentions, pin or edit).
pub(super) fn is_plain(m: &MessageRow) -> bool {
    m.reply_to.is_none()
        && m.mentions.is_empty()
        && m.mention_roles.is_empty()
        && !m.mention_everyone
        && m.pinned_at.is_none()
        && m.edited_at.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_every_row_s_parameters() {
        assert_eq!(values(1, 2), "(?1, ?2)");
        assert_eq!(values(3, 2), "(?1, ?2), (?3, ?4), (?5, ?6)");
    }

    #[test]
    fn every_run_length_inserts_each_row_once() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, channel_id INTEGER, server_id \
             INTEGER, author_id INTEGER, content TEXT, nonce TEXT, created_at INTEGER); \
             CREATE TABLE channel_messages (channel_id INTEGER NOT NULL, id INTEGER NOT NULL, \
             PRIMARY KEY (channel_id, id)) WITHOUT ROWID;",
        )
        .unwrap();
        let mut bulk = Bulk::prepare(&conn).unwrap();
        let read = |sql: &str, channel: i64| -> Vec<(i64, String)> {
            let mut q = conn.prepare(sql).unwrap();
            let rows = q.query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)));
            rows.unwrap().collect::<Result<_, _>>().unwrap()
        };
        // Runs of 0 to 40 rows: every size, every remainder, and past two of the largest.
        let mut next = 1;
        for len in 0..=40 {
            let channel = 100 + len;
            let rows: Vec<MessageRow> = (next..next + len)
                .map(|id| crate::messages::test_support::row(id, channel, 7, None, id))
                .collect();
            next += len;
            let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
            bulk.insert_plain(&rows.iter().collect::<Vec<_>>()).unwrap();
            bulk.enter(channel, &ids).unwrap();
            let stored = "SELECT id, content FROM messages WHERE channel_id = ?1 ORDER BY id";
            let want: Vec<(i64, String)> = rows.iter().map(|m| (m.id, m.content.clone())).collect();
            assert_eq!(read(stored, channel), want, "messages, a run of {len}");
            let listed = "SELECT id, '' FROM channel_messages WHERE channel_id = ?1 ORDER BY id";
            let want: Vec<(i64, String)> = ids.iter().map(|id| (*id, String::new())).collect();
            assert_eq!(read(listed, channel), want, "entries, a run of {len}");
        }
    }
}
