//! Waiting for SQLite's write lock in short sleeps, on every connection that writes.
//!
//! One connection holds the write lock at a time. SQLite's own wait (`busy_timeout`) sleeps
//! 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and then 100 ms between tries, so a write that
//! found the lock taken slept on through the moments it was free: under the message
//! writer's steady commits most tries fail, and the sleeps grow long. Measured with S4 at
//! 20k messages a second (docs/benchmarks/s4-what-was-tried.md, *Writes beside the message
//! writer*): of marking a channel read, editing it, creating one and deleting it over REST,
//! the slowest took 33–100 ms at p50 and up to 854 ms; 31–60 and up to 113 ms with the wait
//! below.

use std::ffi::{c_int, c_void};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long the message writer waits for the write lock between tries.
const RETRY: Duration = Duration::from_micros(100);

/// Tries before the message writer gives up on the write lock (about 10 s).
const TRIES: i32 = 100_000;

/// The longest a pooled connection waits between tries: each try wakes a thread on the
/// core the writer needs, and the pool has up to 16 connections that may all be waiting.
const POOL_RETRY_MAX: Duration = Duration::from_millis(1);

/// Tries before a pooled connection gives up on the write lock (about 10 s).
const POOL_TRIES: i32 = 10_000;

/// Whether to try again after `tries` failed tries, having slept [`RETRY`] if so: the
/// message writer's busy handler (rusqlite's signature), even and short, for a batch of
/// messages waits on the lock with every sender behind it.
pub(crate) fn wait_for_write_lock(tries: i32) -> bool {
    if tries >= TRIES {
        return false;
    }
    std::thread::sleep(RETRY);
    true
}

/// How long a pooled connection sleeps after `tries` failed tries (`None`: give up): 0.1 ms
/// more for each try, up to [`POOL_RETRY_MAX`].
fn pool_wait(tries: i32) -> Option<Duration> {
    (tries < POOL_TRIES).then(|| (RETRY * (tries.max(0) as u32 + 1)).min(POOL_RETRY_MAX))
}

/// Times sqlx's connections found the write lock taken (every try counts).
static POOL_WAITS: AtomicU64 = AtomicU64::new(0);

/// Tries of sqlx's connections that found the write lock taken, since the process started.
pub(crate) fn pool_waits() -> u64 {
    POOL_WAITS.load(Ordering::Relaxed)
}

/// [`pool_wait`] as SQLite's C callback.
extern "C" fn busy_callback(_: *mut c_void, tries: c_int) -> c_int {
    POOL_WAITS.fetch_add(1, Ordering::Relaxed);
    match pool_wait(tries) {
        Some(sleep) => {
            std::thread::sleep(sleep);
            1
        }
        None => 0,
    }
}

/// Makes the connection `db` (one of sqlx's) wait for the write lock as [`pool_wait`]
/// says, in place of its `busy_timeout`.
pub(crate) fn install(db: NonNull<libsqlite3_sys::sqlite3>) -> Result<(), sqlx::Error> {
    // SAFETY: `db` is an open connection, borrowed from its locked sqlx handle for this call;
    // the callback holds no state (its argument is null) and lives as long as the program.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(db.as_ptr(), Some(busy_callback), std::ptr::null_mut())
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("setting SQLite's busy handler failed (code {rc})").into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_support::{exec, scalar, sqlite_db_at, temp_db};
    use std::time::Instant;

    #[tokio::test]
    async fn a_pooled_write_gets_the_lock_soon_after_it_is_freed() {
        let path = temp_db("busy");
        let db = sqlite_db_at(&path).await;
        exec(&db, "CREATE TABLE t (x INTEGER)").await.unwrap();
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .unwrap();
        let before = db.pool_stats().lock_waits;
        // SQLite's own wait would try at 228 ms and next at 328: 98 ms after the release.
        let hold = Duration::from_millis(230);
        let released = std::thread::spawn(move || {
            std::thread::sleep(hold);
            holder.execute_batch("COMMIT").unwrap();
            Instant::now()
        });
        exec(&db, "INSERT INTO t VALUES (2)").await.unwrap();
        let done = Instant::now();
        let released = released.join().unwrap();
        assert!(db.pool_stats().lock_waits > before, "not our handler");
        let late = done.saturating_duration_since(released);
        assert!(
            late < Duration::from_millis(60),
            "{late:?} after the release"
        );
        assert_eq!(scalar(&db, "SELECT count(*) FROM t").await, 2);
    }

    #[test]
    fn the_writer_waits_in_short_sleeps_and_gives_up_after_about_ten_seconds() {
        let t = Instant::now();
        assert!(wait_for_write_lock(0));
        assert!(wait_for_write_lock(TRIES - 1));
        assert!(t.elapsed() < Duration::from_millis(50));
        assert!(!wait_for_write_lock(TRIES));
        assert_eq!(RETRY * TRIES as u32, Duration::from_secs(10));
    }

    #[test]
    fn a_pooled_connection_waits_a_little_longer_each_try_up_to_a_millisecond() {
        assert_eq!(pool_wait(0), Some(Duration::from_micros(100)));
        assert_eq!(pool_wait(4), Some(Duration::from_micros(500)));
        assert_eq!(pool_wait(9), Some(Duration::from_millis(1)));
        assert_eq!(pool_wait(POOL_TRIES - 1), Some(Duration::from_millis(1)));
        assert_eq!(pool_wait(POOL_TRIES), None);
        let total: Duration = (0..POOL_TRIES).filter_map(pool_wait).sum();
        assert!((9..=11).contains(&total.as_secs()), "{total:?}");
    }
}
