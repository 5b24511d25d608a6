//! Where the `floor` stores messages before it acknowledges them: the committer thread and
//! its stores.
//!
//! - [`FloorStore::Log`]: the batch's frames written into a preallocated file and
//!   `fdatasync`ed, the least durable storage there is.
//! - [`FloorStore::Sqlite`]: the least SQLite storage S4 asks for: one table (an integer key
//!   and the message's JSON, no other index), the write-ahead log with `synchronous=FULL`, one
//!   transaction per batch through cached statements, a page cache of 64 MiB, and SQLite's
//!   own checkpoint (on the committing thread, each time the log passes 1,000 pages).
//! - [`FloorStore::SqliteByRoom`]: the same, with the table's key `(room, id)`, so that a
//!   room's history is one range of it, as a chat server reading history needs: each message
//!   goes into its room's newest leaf, and a batch across many rooms writes a 4 KiB page per
//!   room it touches.
//! - [`FloorStore::SqliteIndexed`]: papo's own shape: the table keyed by id, and an index on
//!   `(room, id)` for a room's history; each message appends to the table's last leaf and
//!   goes into its room's leaf of the index.
//!
//! What papo stores beyond these (its columns, a second index, foreign keys, nonces, its own
//! checkpoint thread) is papo's cost; what they cost is SQLite's on this machine.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::mpsc;

use crate::disk::thread_cpu;

/// How the floor stores messages (`floor-server --store`, `compare --floor-store`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FloorStore {
    /// A preallocated log file, `fdatasync` per batch.
    #[default]
    Log,
    /// SQLite: one table keyed by id, WAL, `synchronous=FULL`, one transaction per batch.
    Sqlite,
    /// The same, keyed by `(room, id)`: a room's history is one range.
    SqliteByRoom,
    /// Keyed by id with an index on `(room, id)`, as papo stores messages.
    SqliteIndexed,
}

impl FloorStore {
    /// The name `--store` takes.
    pub fn arg(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Sqlite => "sqlite",
            Self::SqliteByRoom => "sqlite-by-room",
            Self::SqliteIndexed => "sqlite-indexed",
        }
    }

    /// What S4's summary says the floor's database is.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Log => "a preallocated log file (fdatasync per batch)",
            Self::Sqlite => "sqlite, one table keyed by id (synchronous=FULL, group commit)",
            Self::SqliteByRoom => {
                "sqlite, one table keyed by (room, id) (synchronous=FULL, group commit)"
            }
            Self::SqliteIndexed => {
                "sqlite, one table keyed by id, indexed by (room, id) (synchronous=FULL, group commit)"
            }
        }
    }
}

/// One message as the committer stores it.
pub struct Stored {
    /// The message's id.
    pub id: u64,
    /// Its room.
    pub room: String,
    /// The text frame its members get (header and JSON).
    pub frame: Vec<u8>,
}

impl Stored {
    /// The frame's JSON: its payload (the floor writes each message as one whole frame).
    fn json(&self) -> anyhow::Result<&str> {
        let Some((_, start, end)) = crate::net::ws::frame_at(&self.frame)? else {
            anyhow::bail!("message {} is not a whole frame", self.id);
        };
        std::str::from_utf8(&self.frame[start..end]).context("a message is UTF-8")
    }
}

/// The log's size: written once with zeros, then overwritten in turn, so that a sync
/// writes the batch's pages and never the file's size or its block map (as SQLite's log,
/// reused from its start after each checkpoint).
const LOG_BYTES: u64 = 64 * 1024 * 1024;

/// Stores one batch durably.
type Sink = Box<dyn FnMut(&[Stored]) -> anyhow::Result<()> + Send>;

/// How often the committer says what it did (on stderr: `compare` keeps it in the floor's
/// log, beside the charts).
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// What the committer did since its last report.
#[derive(Default)]
struct Done {
    batches: u64,
    messages: u64,
    /// Wall time inside the store.
    busy: Duration,
}

/// Opens `store` at `path` (before the floor listens), then starts the committer thread:
/// it stores each batch it is sent and then says so on `durable`. Every second with work it
/// writes a line to stderr: batches, messages, its time storing and its CPU time, so that a
/// run shows whether the one committing thread was the bottleneck.
pub fn committer(
    store: FloorStore,
    path: PathBuf,
    durable: mpsc::UnboundedSender<()>,
) -> anyhow::Result<std::sync::mpsc::Sender<Vec<Stored>>> {
    let mut sink = match store {
        FloorStore::Log => log(&path)?,
        FloorStore::Sqlite => sqlite(&path, TABLE)?,
        FloorStore::SqliteByRoom => sqlite(&path, TABLE_BY_ROOM)?,
        FloorStore::SqliteIndexed => sqlite(&path, TABLE_INDEXED)?,
    };
    let (tx, rx) = std::sync::mpsc::channel::<Vec<Stored>>();
    std::thread::spawn(move || {
        let mut done = Done::default();
        let mut since = Instant::now();
        let mut cpu = thread_cpu();
        for batch in rx {
            let started = Instant::now();
            if let Err(err) = sink(&batch) {
                eprintln!("floor: a batch could not be stored: {err:#}");
                return;
            }
            done.busy += started.elapsed();
            done.batches += 1;
            done.messages += batch.len() as u64;
            if durable.send(()).is_err() {
                return;
            }
            if since.elapsed() >= REPORT_EVERY {
                let (now, cpu_now) = (Instant::now(), thread_cpu());
                eprintln!(
                    "floor committer ({}): {} messages in {} batches over {} ms: storing {} ms, \
                     CPU {} ms",
                    store.arg(),
                    done.messages,
                    done.batches,
                    (now - since).as_millis(),
                    done.busy.as_millis(),
                    (cpu_now - cpu).as_millis(),
                );
                (done, since, cpu) = (Done::default(), now, cpu_now);
            }
        }
    });
    Ok(tx)
}

/// The preallocated log: each batch's frames written at the next offset and synced.
fn log(path: &Path) -> anyhow::Result<Sink> {
    use std::os::unix::fs::FileExt as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..LOG_BYTES / zeros.len() as u64 {
        file.write_all(&zeros)?;
    }
    file.sync_all()?;
    let mut at = 0u64;
    let mut bytes = Vec::new();
    Ok(Box::new(move |batch: &[Stored]| {
        bytes.clear();
        for m in batch {
            bytes.extend_from_slice(&m.frame);
        }
        if at + bytes.len() as u64 > LOG_BYTES {
            at = 0;
        }
        file.write_all_at(&bytes, at)?;
        file.sync_data()?;
        at += bytes.len() as u64;
        Ok(())
    }))
}

/// [`FloorStore::Sqlite`]'s table.
const TABLE: &str = "CREATE TABLE messages (
    id INTEGER PRIMARY KEY, room TEXT NOT NULL, body TEXT NOT NULL)";

/// [`FloorStore::SqliteByRoom`]'s table.
const TABLE_BY_ROOM: &str = "CREATE TABLE messages (
    room TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (room, id)) WITHOUT ROWID";

/// [`FloorStore::SqliteIndexed`]'s table and index.
const TABLE_INDEXED: &str = "CREATE TABLE messages (
    id INTEGER PRIMARY KEY, room TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX messages_room ON messages (room, id)";

/// One SQLite table made by `table`: each batch inserted in one transaction and committed
/// (synced).
fn sqlite(path: &Path, table: &str) -> anyhow::Result<Sink> {
    let conn =
        rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB: every room's newest leaf stays in memory (S4's thousand rooms need 4 MiB).
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.execute_batch(table)?;
    Ok(Box::new(move |batch: &[Stored]| {
        conn.prepare_cached("BEGIN")?.execute([])?;
        let inserted = (|| {
            let mut insert =
                conn.prepare_cached("INSERT INTO messages (id, room, body) VALUES (?1, ?2, ?3)")?;
            for m in batch {
                insert.execute(rusqlite::params![m.id as i64, m.room, m.json()?])?;
            }
            conn.prepare_cached("COMMIT")?.execute([])?;
            anyhow::Ok(())
        })();
        if inserted.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        inserted
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored message whose frame carries `json`.
    fn stored(id: u64, json: &str) -> Stored {
        let mut frame = Vec::new();
        crate::net::ws::encode_unmasked(0x1, json.as_bytes(), &mut frame);
        Stored {
            id,
            room: "r1".into(),
            frame,
        }
    }

    /// The rows of the table at `path`.
    fn rows(path: &Path) -> Vec<(i64, String, String)> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut q = conn
            .prepare("SELECT id, room, body FROM messages ORDER BY id")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_batch_with_a_bad_message_is_refused_whole_and_the_store_goes_on() {
        let dir = crate::server::TempDir::new("floor-store-bad").unwrap();
        let path = dir.0.join("db");
        let mut sink = sqlite(&path, TABLE).unwrap();
        let broken = Stored {
            id: 2,
            room: "r1".into(),
            frame: vec![0x81],
        };
        let err = sink(&[stored(1, r#"{"id":1}"#), broken]).unwrap_err();
        assert!(err.to_string().contains("message 2"), "{err:#}");
        assert!(
            rows(&path).is_empty(),
            "nothing of the refused batch is kept"
        );
        sink(&[stored(3, r#"{"id":3}"#)]).unwrap();
        assert_eq!(
            rows(&path),
            [(3, "r1".to_string(), r#"{"id":3}"#.to_string())]
        );
    }

    #[tokio::test]
    async fn each_store_keeps_every_batch_before_saying_it_is_durable() {
        let dir = crate::server::TempDir::new("floor-store").unwrap();
        let long = format!(r#"{{"content":"{}"}}"#, "x".repeat(300));
        for store in [
            FloorStore::Log,
            FloorStore::Sqlite,
            FloorStore::SqliteByRoom,
            FloorStore::SqliteIndexed,
        ] {
            let path = dir.0.join(store.arg());
            let (durable_tx, mut durable) = mpsc::unbounded_channel();
            let commit = committer(store, path.clone(), durable_tx).unwrap();
            commit
                .send(vec![stored(1, r#"{"id":1}"#), stored(2, &long)])
                .unwrap();
            commit.send(vec![stored(3, r#"{"id":3}"#)]).unwrap();
            durable.recv().await.unwrap();
            durable.recv().await.unwrap();
            match store {
                FloorStore::Log => {
                    let bytes = std::fs::read(&path).unwrap();
                    assert_eq!(bytes.len() as u64, LOG_BYTES, "the log keeps its size");
                    let text = String::from_utf8_lossy(&bytes);
                    for part in [r#"{"id":1}"#, long.as_str(), r#"{"id":3}"#] {
                        assert!(text.contains(part), "{part} is in the log");
                    }
                }
                FloorStore::Sqlite | FloorStore::SqliteByRoom | FloorStore::SqliteIndexed => {
                    let rows = rows(&path);
                    let bodies: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
                    assert_eq!(bodies, [r#"{"id":1}"#, long.as_str(), r#"{"id":3}"#]);
                    assert_eq!(rows[1].0, 2);
                    assert_eq!(rows[1].1, "r1");
                }
            }
        }
    }
}
