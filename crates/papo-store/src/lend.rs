//! Connections lent to one query or transaction at a time, without going back through
//! sqlx's pool in between.
//!
//! sqlx's pool pings every connection it gets back (`PoolConnection` → `return_to_pool` →
//! `ping`), from a task it spawns: one more round trip per query, to SQLite's worker thread
//! or to the PostgreSQL server. Profiled at 18,000 identifies, that ping and its task were
//! a tenth of the server's time. Here a connection taken out of sqlx's pool
//! (`PoolConnection::detach`) is kept and lent again as long as the work done with it
//! succeeded; after a failure, or if the borrower was dropped half-way (a cancelled
//! request), the connection is closed instead, since its state is unknown. That is the case
//! sqlx's ping exists for.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::Pool;
use sqlx::{Connection, Database};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection is lent out before it is closed and replaced (a PostgreSQL
/// server's per-connection memory grows with the statements it has cached).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The connections of one database: at most `max` open at once.
pub struct Lender<DB: Database> {
    /// Opens new connections (with the pool's options and per-connection settings).
    pool: Pool<DB>,
    /// Connections not lent out, with when each was opened.
    idle: Mutex<Vec<(Instant, DB::Connection)>>,
    /// One permit per connection lent out.
    permits: Arc<Semaphore>,
    max: usize,
}

impl<DB: Database> Lender<DB> {
    /// Lends up to `max` connections opened through `pool`.
    pub fn new(pool: Pool<DB>, max: usize) -> Self {
        Self {
            pool,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max.max(1))),
            max: max.max(1),
        }
    }

    /// A connection for one piece of work; waits while `max` are lent out.
    pub async fn lend(&self) -> Result<Lent<'_, DB>, sqlx::Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().expect("lender poisoned").pop();
        let (opened, conn) = match idle {
            Some(c) => c,
            // Boxed: opening a connection is a large future (8.7 KB for PostgreSQL), and
            // without the box every store function's future, and every request's and
            // gateway send's around it, was that large too, though it is rarely awaited.
            None => (
                Instant::now(),
                Box::pin(self.pool.acquire()).await?.detach(),
            ),
        };
        Ok(Lent {
            lender: self,
            conn: Some((opened, conn)),
            _permit: permit,
        })
    }

    /// Connections not lent out right now.
    pub fn idle(&self) -> usize {
        self.idle.lock().expect("lender poisoned").len()
    }

    /// Connections open (lent out or idle).
    pub fn open(&self) -> usize {
        self.max - self.permits.available_permits() + self.idle()
    }

    /// Closes the idle connections and lends no more.
    pub async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().expect("lender poisoned"));
        for (_, conn) in idle {
            let _ = conn.close().await;
        }
    }
}

/// A connection lent out. Dropped without [`Lent::give_back`], it is closed.
pub struct Lent<'a, DB: Database> {
    lender: &'a Lender<DB>,
    conn: Option<(Instant, DB::Connection)>,
    _permit: OwnedSemaphorePermit,
}

impl<DB: Database> Lent<'_, DB> {
    /// The connection.
    pub fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn.as_mut().expect("lent connection present").1
    }

    /// Ends the loan: the connection is kept for the next one if `outcome` is a success
    /// (and the connection is not too old), closed otherwise.
    pub fn give_back<T, E>(mut self, outcome: &Result<T, E>) {
        if let (Ok(_), Some((opened, conn))) = (outcome, self.conn.take())
            && opened.elapsed() < MAX_LIFETIME
            && !self.lender.permits.is_closed()
        {
            self.lender
                .idle
                .lock()
                .expect("lender poisoned")
                .push((opened, conn));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    async fn run(lender: &Lender<sqlx::Sqlite>, sql: &'static str) -> Result<(), sqlx::Error> {
        let mut lent = lender.lend().await?;
        let outcome = sqlx::query(sql).execute(lent.conn()).await.map(|_| ());
        lent.give_back(&outcome);
        outcome
    }

    #[tokio::test]
    async fn connections_are_kept_after_success_and_closed_after_failure() {
        let pool = SqlitePoolOptions::new()
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let lender = Lender::new(pool, 2);
        run(&lender, "SELECT 1").await.unwrap();
        assert_eq!((lender.idle(), lender.open()), (1, 1));
        run(&lender, "SELECT 1").await.unwrap();
        assert_eq!(lender.idle(), 1, "the kept connection was lent again");
        assert!(run(&lender, "SELECT nothing FROM nowhere").await.is_err());
        assert_eq!(
            (lender.idle(), lender.open()),
            (0, 0),
            "closed after a failure"
        );
        // Dropped half-way (a cancelled request): closed, and its permit is free again.
        let first = lender.lend().await.unwrap();
        drop(first);
        let (a, b) = (lender.lend().await.unwrap(), lender.lend().await.unwrap());
        assert_eq!(lender.open(), 2);
        drop((a, b));
        assert_eq!(lender.open(), 0);
        lender.close().await;
        assert!(matches!(lender.lend().await, Err(sqlx::Error::PoolClosed)));
    }

    /// Stands in for a `Db` in [`crate::on_pool!`].
    struct OneDb(crate::Connections);

    impl OneDb {
        fn lender(&self) -> &crate::Connections {
            &self.0
        }
    }

    /// Inserts `value` in a transaction, and leaves with `return` (the transaction dropped,
    /// so rolled back) unless `commit`.
    async fn insert(db: &OneDb, value: i64, commit: bool) -> Result<bool, sqlx::Error> {
        crate::on_pool!(db, |p| {
            let mut tx = p.begin().await?;
            sqlx::query("INSERT INTO t (v) VALUES ($1)")
                .bind(value)
                .execute(&mut *tx)
                .await?;
            if !commit {
                return Ok(false);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(true)
        })
    }

    #[tokio::test]
    async fn a_return_inside_on_pool_keeps_the_connection_and_rolls_back() {
        let pool = SqlitePoolOptions::new()
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let db = OneDb(crate::Connections::Sqlite(Lender::new(pool, 1)));
        let crate::Connections::Sqlite(lender) = &db.0 else {
            unreachable!()
        };
        // One connection to an in-memory database: the table lives as long as it does.
        let mut lent = lender.lend().await.unwrap();
        let made = sqlx::query("CREATE TABLE t (v INTEGER)")
            .execute(lent.conn())
            .await;
        lent.give_back(&made);
        assert!(insert(&db, 1, true).await.unwrap());
        assert!(!insert(&db, 2, false).await.unwrap());
        assert_eq!(
            (lender.idle(), lender.open()),
            (1, 1),
            "kept after the return"
        );
        let mut lent = lender.lend().await.unwrap();
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT v FROM t")
            .fetch_all(lent.conn())
            .await
            .unwrap();
        assert_eq!(rows, [(1,)], "the returned-from transaction rolled back");
    }
}
