//! Room for the message writer's small allocations inside its own connection.
//!
//! SQLite serves a connection's small allocations (a statement's cursors, the record it
//! builds, a bound text's copy) from the connection's *lookaside* slots, a free list, and
//! only falls back to the process's allocator when those are taken. By default a connection
//! has 30 slots of 1,200 bytes and 93 of 128, which a connection holding the writer's
//! prepared statements (15 when measured) runs out of (the test below): under `callgrind`,
//! nearly every cursor and record of the writer's statements went to `malloc` and back to
//! `free` (about nine allocations a message), through SQLite's global memory statistics and
//! its mutex. More slots for this one connection keep those in the free list: the writer's
//! work in S4 at 4,000 msg/s went from 897.8M to 849.0M instructions (40,100 messages),
//! and its CPU time at 20k msg/s from 8.6–10.4 to 8.0–9.2 µs a message (four alternated
//! pairs; at 35k, with larger commits, three pairs showed no difference:
//! docs/benchmarks/s4-what-was-tried.md, *The writer's small allocations*).

use std::ffi::{c_int, c_void};

use rusqlite::Connection;

/// Bytes in a large slot: SQLite's default. The writer's cursors and records fit: the server's
/// fall-backs to `malloc` in S4 at 4,000 msg/s went from about 380k to 5,909 with these slots.
const SLOT: c_int = 1200;

/// Slots' worth of memory set aside: 1.2 MB, about 750 large slots and 2,350 small ones.
const SLOTS: c_int = 1000;

/// Gives `conn` its larger lookaside. It must run before `conn` allocates from its
/// lookaside (right after it opens): SQLite refuses while slots are in use.
pub(super) fn enlarge(conn: &Connection) -> rusqlite::Result<()> {
    // SAFETY: the handle is `conn`'s, open and used by this thread only while the call runs;
    // SQLite allocates the buffer itself (the null pointer) and frees it when `conn` closes.
    // The variadic arguments are the three that SQLITE_DBCONFIG_LOOKASIDE reads.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            conn.handle(),
            libsqlite3_sys::SQLITE_DBCONFIG_LOOKASIDE,
            std::ptr::null_mut::<c_void>(),
            SLOT,
            SLOTS,
        )
    };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            libsqlite3_sys::Error::new(rc),
            Some("setting the writer connection's lookaside".into()),
        ))
    }
}

/// `conn`'s allocations that found every lookaside slot taken, since it opened.
#[cfg(test)]
fn misses(conn: &Connection) -> i32 {
    let (mut now, mut highest) = (0, 0);
    // SAFETY: as in `enlarge`; the two pointers are to locals that outlive the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_status(
            conn.handle(),
            libsqlite3_sys::SQLITE_DBSTATUS_LOOKASIDE_MISS_FULL,
            &mut now,
            &mut highest,
            0,
        )
    };
    assert_eq!(rc, libsqlite3_sys::SQLITE_OK);
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fifteen statements held prepared, as the writer holds its own, each run in turn
    /// for a batch of rows: the allocations that missed the lookaside.
    fn misses_of_a_batch(conn: &Connection) -> i32 {
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER, d INTEGER,
                 e TEXT, f TEXT, g INTEGER, h INTEGER, i TEXT);
             CREATE INDEX t_a ON t (a, c);
             CREATE INDEX t_d ON t (d, id);",
        )
        .unwrap();
        let mut statements: Vec<_> = (0..15)
            .map(|n| {
                let sql = match n % 3 {
                    0 => format!(
                        "INSERT INTO t (a, b, c, d, e, f, g, h, i)
                         VALUES (?1, ?2, {n}, ?3, 'e', NULL, 1, 2, ?1)"
                    ),
                    1 => format!("UPDATE t SET h = h + {n}, f = ?2 WHERE a = ?1 AND d = ?3"),
                    _ => format!("DELETE FROM t WHERE a = ?1 AND b = ?2 AND d = ?3 + {n} + 1000"),
                };
                conn.prepare(&sql).unwrap()
            })
            .collect();
        let tx = conn.unchecked_transaction().unwrap();
        for row in 0..50 {
            for stmt in &mut statements {
                let text = format!("row {row}");
                stmt.raw_bind_parameter(1, "some text").unwrap();
                stmt.raw_bind_parameter(2, text.as_str()).unwrap();
                stmt.raw_bind_parameter(3, row).unwrap();
                stmt.raw_execute().unwrap();
            }
        }
        drop(statements);
        tx.commit().unwrap();
        misses(conn)
    }

    #[test]
    fn the_enlarged_lookaside_serves_a_batch_the_default_does_not() {
        let default = Connection::open_in_memory().unwrap();
        assert!(
            misses_of_a_batch(&default) > 0,
            "the default's slots ran out"
        );

        let enlarged = Connection::open_in_memory().unwrap();
        enlarge(&enlarged).unwrap();
        assert_eq!(misses_of_a_batch(&enlarged), 0);
    }

    #[test]
    fn enlarging_a_connection_in_use_is_an_error() {
        let conn = Connection::open_in_memory().unwrap();
        let stmt = conn.prepare("SELECT 1").unwrap();
        let err = enlarge(&conn).unwrap_err();
        assert!(err.to_string().contains("lookaside"), "{err}");
        drop(stmt);
    }
}
