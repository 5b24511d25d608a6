//! Short reads on SQLite run on the calling thread, without sqlx's worker thread.
//!
//! sqlx runs every SQLite statement on a thread of its own per connection: the query goes
//! over a channel, that thread wakes, runs it and sends the rows back, and the task wakes
//! again. For an indexed read of a few rows those hand-offs cost more than the read (S1's
//! profile: 39 % of the server's core per gateway identify went to its two queries, the
//! SQLite engine 17 % of it). The identify path's reads run here instead, on a few
//! rusqlite connections with cached statements; each read is a few B-tree lookups in a WAL
//! database, which never waits for the writer. So do the directory's reads of a server (its
//! row, roles, channels, overwrites and memberships) when its first member connects: on
//! sqlx's thread they were a tenth of S1's server CPU. A server's memberships are one read
//! of one index range; the calling thread waits for it as it would for sqlx's answer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Params};

use crate::StoreError;

/// Connections kept open between reads (more are opened while more threads read at once,
/// and closed after).
const MAX_IDLE: usize = 4;
/// Statements each connection keeps prepared.
const STATEMENTS: usize = 16;
/// Page cache per connection, in KiB (SQLite's `cache_size` takes a negative number for
/// KiB). These connections read every gateway identify: a token never seen before is a
/// search by its hash, a random leaf of `auth_tokens` (941 pages for S1's 18,000 accounts).
/// With the pool's 512 KiB nearly each identify read one page from the OS (1.18 `pread`s a
/// session in S1); with 4 MiB 0.37, for 0.19 KB more memory a session in S1 (the cache
/// fills once and stays bounded: at most [`MAX_IDLE`] connections are kept).
const CACHE_KIB: i64 = 4096;

/// A few read-only connections to one SQLite file.
pub(crate) struct SqliteReaders {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReaders {
    /// Readers of `path` (connections are opened on first use, after migrations).
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle connection (or a new one) and returns its result.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let taken = self.idle.lock().expect("readers poisoned").pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open().map_err(failed)?,
        };
        let out = read(&conn).map_err(failed);
        let mut idle = self.idle.lock().expect("readers poisoned");
        // Never kept inside a transaction: an open read would hold its snapshot of the log,
        // and the log could not start over.
        if idle.len() < MAX_IDLE && conn.is_autocommit() {
            idle.push(conn);
        }
        out
    }

    /// Runs `read` inside one read transaction, so that its statements share one snapshot
    /// and one taking of the log's read lock. `BEGIN` and `COMMIT` are cached statements:
    /// rusqlite's `Transaction` parses `BEGIN` every time and ends with a `ROLLBACK`, which
    /// together cost S1 more than the second lock they saved.
    pub(crate) fn read_together<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.read(|c| {
            c.prepare_cached("BEGIN")?.execute([])?;
            let out = read(c);
            // A read changes nothing: `COMMIT` ends it at the least cost, whatever happened.
            let end = c.prepare_cached("COMMIT")?.execute([]);
            let out = out?;
            end?;
            Ok(out)
        })
    }

    /// Every row `sql` returns, read by `T`'s columns in order.
    pub(crate) fn all<T: FromSqlite>(
        &self,
        sql: &str,
        params: impl Params,
    ) -> Result<Vec<T>, StoreError> {
        self.read(|c| all_on(c, sql, params))
    }

    /// The first row `sql` returns, if any, read by `T`'s columns in order.
    pub(crate) fn optional<T: FromSqlite>(
        &self,
        sql: &str,
        params: impl Params,
    ) -> Result<Option<T>, StoreError> {
        self.read(|c| optional_on(c, sql, params))
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // Read-write open (a WAL reader writes its shared-memory index), but no statement
        // may change anything.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.pragma_update(None, "query_only", "ON")?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }
}

/// Every row `sql` returns on `c`, read by `T`'s columns in order.
pub(crate) fn all_on<T: FromSqlite>(
    c: &Connection,
    sql: &str,
    params: impl Params,
) -> rusqlite::Result<Vec<T>> {
    all_with(&mut *c.prepare_cached(sql)?, params)
}

/// Every row the prepared `statement` returns, read by `T`'s columns in order.
pub(crate) fn all_with<T: FromSqlite>(
    statement: &mut rusqlite::Statement<'_>,
    params: impl Params,
) -> rusqlite::Result<Vec<T>> {
    statement.query_map(params, T::from_sqlite)?.collect()
}

/// The first row `sql` returns on `c`, if any, read by `T`'s columns in order.
pub(crate) fn optional_on<T: FromSqlite>(
    c: &Connection,
    sql: &str,
    params: impl Params,
) -> rusqlite::Result<Option<T>> {
    optional_with(&mut *c.prepare_cached(sql)?, params)
}

/// The first row the prepared `statement` returns, if any, read by `T`'s columns in order.
pub(crate) fn optional_with<T: FromSqlite>(
    statement: &mut rusqlite::Statement<'_>,
    params: impl Params,
) -> rusqlite::Result<Option<T>> {
    statement.query_row(params, T::from_sqlite).optional()
}

/// A row type read from SQLite's own connections, its fields from the row's columns in
/// order.
pub(crate) trait FromSqlite: Sized {
    /// Reads the row.
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`FromSqlite`] for a struct whose fields are the query's columns, in order.
macro_rules! from_sqlite {
    ($row:ty { $($field:ident),+ $(,)? }) => {
        impl $crate::sqlite_reader::FromSqlite for $row {
            fn from_sqlite(row: &::rusqlite::Row<'_>) -> ::rusqlite::Result<Self> {
                let mut at = 0..;
                Ok(Self {
                    $($field: row.get(at.next().expect("unbounded"))?,)+
                })
            }
        }
    };
}
pub(crate) use from_sqlite;

impl<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql> FromSqlite for (A, B) {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok((row.get(0)?, row.get(1)?))
    }
}

impl FromSqlite for i64 {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        row.get(0)
    }
}

/// Every row `sql` returns for one key (`$1`): on SQLite from its own connections, on
/// PostgreSQL through the pool.
pub(crate) async fn rows_for_key<T>(
    db: &crate::Db,
    sql: &'static str,
    key: i64,
) -> Result<Vec<T>, StoreError>
where
    T: FromSqlite
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    if let Some(readers) = db.sqlite_readers() {
        return readers.all(sql, [key]);
    }
    Ok(crate::on_pool!(db, |p| sqlx::query_as(sql)
        .bind(key)
        .fetch_all(p)
        .await)?)
}

fn failed(err: rusqlite::Error) -> StoreError {
    StoreError::Read(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_support::temp_db;

    fn readers(tag: &str) -> SqliteReaders {
        let path = temp_db(tag);
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);",
        )
        .unwrap();
        SqliteReaders::new(&path)
    }

    #[test]
    fn reads_together_end_their_transaction_even_when_one_fails() {
        let r = readers("readers-together");
        let n: i64 = r
            .read_together(|c| {
                let a: i64 = c.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))?;
                let b: i64 = c.query_row("SELECT SUM(x) FROM t", [], |row| row.get(0))?;
                Ok(a + b)
            })
            .unwrap();
        assert_eq!(n, 5);
        let failed = r.read_together(|c| {
            c.query_row("SELECT COUNT(*) FROM t", [], |row| row.get::<_, i64>(0))?;
            c.query_row("SELECT nothing FROM nowhere", [], |row| {
                row.get::<_, i64>(0)
            })
        });
        assert!(failed.is_err());
        let idle = r.idle.lock().unwrap();
        assert_eq!(idle.len(), 1, "the connection is kept");
        assert!(idle[0].is_autocommit(), "and no transaction is left open");
    }

    #[test]
    fn a_connection_left_inside_a_transaction_is_not_kept() {
        let r = readers("readers-open");
        r.read(|c| c.execute_batch("BEGIN")).unwrap();
        assert!(r.idle.lock().unwrap().is_empty());
        let rows: Vec<i64> = r.all("SELECT x FROM t ORDER BY x", []).unwrap();
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(r.idle.lock().unwrap().len(), 1);
    }
}
