//! Keeping SQLite's write-ahead log short while messages keep coming.
//!
//! A checkpoint copies the log's pages back into the database file; the log starts over only
//! once a checkpoint has copied all of it and the next commit finds no reader still using it.
//! Under a steady stream of commits a checkpoint running beside the writer never catches up
//! (frames keep arriving while it copies), so the log grew until the load paused: 1.6 GB
//! in 30 s of S4 at 5,000–10,000 messages a second, and with it the index every page read
//! goes through.
//!
//! So the work is split:
//! - a thread copies the log twice a second with a passive checkpoint (one that never blocks
//!   the writer), at a lower CPU priority ([`NICE_ABOVE`]): on a busy core its burst of
//!   copying mostly waits for the writer and the tasks answering sends instead of sharing the
//!   core with them, yet gets enough of it to keep up when the core is saturated;
//! - once the log passes [`RESTART_AT`], the thread syncs the database file after each pass
//!   and copies again what arrived meanwhile until that is under [`FINISH_MAX`] frames; the
//!   writer then copies and syncs the rest itself, between two batches
//!   ([`RestartDue::finish`]): with nothing committed meanwhile, that checkpoint is complete,
//!   and the writer's next commit starts the log over;
//! - should the thread be starved on a saturated core, the writer checkpoints at its commit
//!   past [`WAL_CEILING`] frames (SQLite's own automatic checkpoint);
//! - the thread keeps disk reserved beyond the database file's end ([`reserve_ahead`]), so
//!   that the writer's `fsync` does not wait for the checkpoint's newly allocated blocks.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Connection;

use crate::StoreError;

/// How often the checkpoint thread copies the log back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Log frames past which the writer completes the thread's checkpoint so that the log starts
/// over: 16 MiB of 2 KiB pages (32 MiB in a database made before 2026-12-05, of 4 KiB
/// pages), about half a second of S4 at 5,000 messages a second.
const RESTART_AT: i64 = 8_192;

/// At most about this many frames are left for the writer to copy and sync when it
/// finishes a checkpoint (1 MiB of 2 KiB pages: about 0.4 ms of copying, once per restart
/// of the log).
const FINISH_MAX: i64 = 512;

/// Passes of the thread's checkpoint per round, each copying what arrived during the last
/// and syncing it.
const PASSES: usize = 8;

/// Log frames past which the writer checkpoints at its commit whatever the thread did:
/// reached only if the thread has been starved for a second or more.
pub(crate) const WAL_CEILING: u32 = 32_768;

/// The checkpoint thread; it stops when this is dropped.
pub(crate) struct Checkpointer {
    stop: Arc<AtomicBool>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Set by the checkpoint thread when the log is long enough for the writer to complete the
/// checkpoint and let it start over.
pub(crate) struct RestartDue(Arc<AtomicBool>);

impl RestartDue {
    /// On the writer's connection, between batches: if a restart is due, copies what the
    /// thread's checkpoint has not (frames committed since it began), completing it.
    pub(crate) fn finish(&self, conn: &Connection) {
        if self.0.swap(false, Ordering::AcqRel)
            && let Err(err) = passive(conn)
        {
            tracing::warn!(%err, "WAL checkpoint failed");
        }
    }
}

/// A passive checkpoint: copies what no reader still needs, never waits for anyone. Returns
/// the frames in the log when it began and how many of them are copied.
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    // (busy, frames in the log, frames copied)
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

/// Disk reserved for the database file beyond its end, so that the checkpoint's copies
/// land in blocks already allocated.
const RESERVE_AHEAD: u64 = 64 << 20;

/// Reserves [`RESERVE_AHEAD`] bytes of disk beyond the database file's end without changing
/// its length (`fallocate` with `FALLOC_FL_KEEP_SIZE`; where the file system cannot, nothing
/// happens).
///
/// Without it the checkpoint extended the file block by block as it copied, and S4 on a
/// slower machine found the writer's `fsync` of the log waiting for its pages under writeback
/// for up to 581 ms at a stretch; with it, up to 211 ms (docs/benchmarks.md, *S4's tail on a
/// slower core*). Why is not known; not a journal commit waiting for the new blocks' data,
/// as first thought: the ext4 of these machines (one image) has no journal.
fn reserve_ahead(db_file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    let Ok(meta) = db_file.metadata() else {
        return;
    };
    let Ok(end) = libc::off_t::try_from(meta.len() + RESERVE_AHEAD) else {
        return;
    };
    // SAFETY: `fallocate` on an open descriptor of ours; it reads and writes no memory.
    let rc = unsafe { libc::fallocate(db_file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, end) };
    if rc != 0 {
        tracing::debug!(err = %std::io::Error::last_os_error(), "reserving disk ahead refused");
    }
}

/// One round of the thread: copies the log and syncs the database file, then again what
/// arrived meanwhile, until a cycle had at most [`FINISH_MAX`] new frames to copy (each
/// cycle is shorter than the one before unless the core or the disk is saturated); then, if
/// the log is long, asks the writer to finish. The writer's finish then copies and syncs
/// only what arrived during that last short cycle: at 50,000 messages a second it had
/// copied 1,000–3,000 frames and synced them with every page the round had copied (its
/// one sync came at the end), 28–82 ms in which the writer committed nothing.
/// (The log size a checkpoint reports is the one it started with: frames that arrive while
/// it copies show in the next pass.)
fn round(conn: &Connection, db_file: &std::fs::File, due: &AtomicBool) {
    reserve_ahead(db_file);
    let mut previous = None;
    for _ in 0..PASSES {
        let log = match passive(conn) {
            Ok((log, _)) => log,
            Err(err) => {
                tracing::warn!(%err, "WAL checkpoint failed");
                return;
            }
        };
        if log < RESTART_AT {
            return;
        }
        // A checkpoint that copies everything ends with an `fsync` of the database file,
        // which would otherwise write out every page these passes copied, in the writer's
        // time: done here after each pass, the writer's has little left.
        if let Err(err) = db_file.sync_data() {
            tracing::warn!(%err, "syncing the database file failed");
            return;
        }
        if previous.is_some_and(|p| log - p <= FINISH_MAX) {
            due.store(true, Ordering::Release);
            return;
        }
        previous = Some(log);
    }
}

/// Starts the checkpoint thread on its own connection to `path`.
pub(crate) fn start(path: &Path) -> Result<(Checkpointer, RestartDue), StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // For `fsync` only (on Linux any descriptor of the file will do).
    let db_file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::Writer(format!("opening the database file: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    let due = Arc::new(AtomicBool::new(false));
    let (stopped, restart) = (stop.clone(), due.clone());
    std::thread::Builder::new()
        .name("papo-sqlite-checkpoint".into())
        .spawn(move || {
            lower_priority();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                round(&conn, &db_file, &restart);
            }
        })
        .map_err(|e| StoreError::Writer(format!("starting the checkpoint thread: {e}")))?;
    Ok((Checkpointer { stop }, RestartDue(due)))
}

/// How far the checkpoint thread raises the nice value it started with (the process's,
/// inherited from the thread that started it). Nice 10 weighs
/// 110 against a default thread's 1,024: on a core kept busy by the writer and the tasks
/// answering sends it still gets 5–10 % of it, two to three times what copying the log
/// takes at 35,000 messages a second (about 30,000 frames a second at 0.8 µs each). At the
/// lowest priority (19, weight 15) it got about 1 % and fell behind: a pass of the thread
/// took up to 4.9 s, holding SQLite's checkpoint lock all along, so that the writer's own
/// checkpoint at [`WAL_CEILING`] could not run either and the log grew to 1.26 GB in the
/// 10 s of S4's 35k step (2026-12-05). Being behind the other threads still keeps the
/// copying's bursts out of the answers' way at lighter loads.
const NICE_ABOVE: i32 = 10;

/// Lowers the calling thread's CPU priority by [`NICE_ABOVE`] (at most to 19). On Linux a
/// nice value belongs to the thread, not the process.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: a plain system call; it reads and writes no memory.
    let tid = unsafe { libc::gettid() } as libc::id_t;
    // SAFETY: as above, on the calling thread's own id, which cannot fail (so a -1 is the
    // nice value, not an error).
    let now = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
    // SAFETY: as above.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, (now + NICE_ABOVE).min(19)) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        tracing::warn!(%err, "the checkpoint thread keeps its priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_support::temp_db;

    /// Frames in the log now, taken from a passive checkpoint of `conn`.
    fn frames(conn: &Connection) -> i64 {
        passive(conn).unwrap().0
    }

    #[test]
    fn disk_is_reserved_beyond_the_database_file_without_changing_its_length() {
        use std::os::unix::fs::MetadataExt;
        let path = temp_db("reserve");
        std::fs::write(&path, vec![0u8; 8192]).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let before = file.metadata().unwrap();
        reserve_ahead(&file);
        let after = file.metadata().unwrap();
        assert_eq!(after.len(), 8192, "the length SQLite sees is unchanged");
        // `blocks` counts 512-byte units allocated, reserved ones included.
        assert!(
            after.blocks() * 512 >= 8192 + RESERVE_AHEAD,
            "reserved: {} bytes before, {} after",
            before.blocks() * 512,
            after.blocks() * 512
        );
    }

    /// A new database in WAL mode with a table `t`, whose log only grows until a checkpoint
    /// is asked for (SQLite's own automatic checkpoint off).
    fn log_kept(name: &str) -> (std::path::PathBuf, Connection) {
        let path = temp_db(name);
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute("CREATE TABLE t (x BLOB)", []).unwrap();
        (path, conn)
    }

    #[test]
    fn a_finished_checkpoint_lets_the_next_commit_start_the_log_over() {
        let (path, conn) = log_kept("restart");
        let commit = || {
            conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                .unwrap();
        };
        for _ in 0..50 {
            commit();
        }
        // Not due: nothing is copied, so the next commit adds to the log.
        let idle = RestartDue(Arc::new(AtomicBool::new(false)));
        idle.finish(&conn);
        commit();
        let grown = frames(&conn);
        assert!(grown >= 51, "{grown} frames");
        for _ in 0..50 {
            commit();
        }
        let due = RestartDue(Arc::new(AtomicBool::new(true)));
        due.finish(&conn);
        assert!(!due.0.load(Ordering::Acquire), "a restart is done once");
        commit();
        assert!(frames(&conn) <= 3, "finished: the log started over");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_round_asks_the_writer_to_finish_only_once_a_long_log_is_copied() {
        let (path, conn) = log_kept("round");
        conn.pragma_update(None, "synchronous", "OFF").unwrap();
        let db_file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let due = AtomicBool::new(false);
        // A short log: copied, but the log need not start over.
        conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])
            .unwrap();
        round(&conn, &db_file, &due);
        assert!(!due.load(Ordering::Acquire), "not due under RESTART_AT");
        // One commit of more pages than RESTART_AT: the first pass copies it all, the
        // second finds nothing new.
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO t SELECT zeroblob(3000) FROM n",
            [RESTART_AT],
        )
        .unwrap();
        round(&conn, &db_file, &due);
        assert!(due.load(Ordering::Acquire), "due past RESTART_AT");
        let (log, copied) = passive(&conn).unwrap();
        assert!(log >= RESTART_AT, "{log} frames");
        assert_eq!(copied, log, "everything copied before the writer is asked");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// The nice value of this process's thread whose name starts with `name` (Linux truncates
    /// thread names to 15 bytes).
    #[cfg(target_os = "linux")]
    fn nice_of_thread(name: &str) -> Option<i64> {
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let dir = task.ok()?.path();
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if !comm.trim().is_empty() && name.starts_with(comm.trim()) {
                return nice_in(&std::fs::read_to_string(dir.join("stat")).ok()?);
            }
        }
        None
    }

    /// The nice value in a `/proc/…/stat` line (field 19).
    #[cfg(target_os = "linux")]
    fn nice_in(stat: &str) -> Option<i64> {
        // Fields after the parenthesised name, which may hold spaces.
        let rest = stat.rsplit_once(')')?.1;
        rest.split_whitespace().nth(16)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_checkpoint_thread_runs_below_the_process_priority() {
        let path = temp_db("nice");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "journal_mode", "WAL")
            .unwrap();
        let process = nice_in(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        let lowered = (process + i64::from(NICE_ABOVE)).min(19);
        let (thread, _due) = start(&path).unwrap();
        let mut nice = None;
        for _ in 0..100 {
            nice = nice_of_thread("papo-sqlite-checkpoint");
            if nice == Some(lowered) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(nice, Some(lowered));
        // Only that thread: the process keeps its priority.
        let after = nice_in(&std::fs::read_to_string("/proc/self/stat").unwrap());
        assert_eq!(after, Some(process));
        drop(thread);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
