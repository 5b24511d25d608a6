//! The database handle, connection setup and migrations.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use papo_core::change::Change;

use crate::identify_reads::IdentifyReads;
use crate::messages::parents::Removed;
use crate::messages::sqlite_writer::SqliteWriter;
use crate::messages::unlisted;
use crate::sqlite_reader::SqliteReaders;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A pool of connections to one of the supported databases, and where committed changes
/// are reported. Cheap to clone (clones share everything).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// The connections queries run on (opened through `pool`).
    lender: Arc<Connections>,
    /// Set once by the server: told of every committed change that caches must see.
    changes: Arc<OnceLock<ChangeSink>>,
    /// SQLite: the database file, and the message writer thread once started.
    sqlite: Option<Arc<SqliteFile>>,
}

struct SqliteFile {
    path: std::path::PathBuf,
    writer: OnceLock<SqliteWriter>,
    /// Channels and servers deleted since the process started, for the writer's checks.
    removed: Arc<Removed>,
    readers: Arc<SqliteReaders>,
    identify_reads: Arc<IdentifyReads>,
    /// Messages stored but not yet in their channel's list, found again by [`Db::migrate`].
    unlisted: unlisted::Shared,
}

impl SqliteFile {
    fn new(path: std::path::PathBuf) -> Self {
        let readers = Arc::new(SqliteReaders::new(&path));
        let unlisted = unlisted::Shared::default();
        Self {
            identify_reads: Arc::new(IdentifyReads::new(Arc::clone(&readers), unlisted.clone())),
            unlisted,
            readers,
            path,
            writer: OnceLock::new(),
            removed: Arc::default(),
        }
    }
}

/// Receives the [`Change`]s committed through a [`Db`].
pub type ChangeSink = Arc<dyn Fn(&Change) + Send + Sync>;

/// The backend's native pool.
#[derive(Clone, Debug)]
pub enum Pool {
    /// SQLite in WAL mode with foreign keys on.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("pool", &self.pool).finish()
    }
}

/// Runs `$body` with `$p` bound to a connection of the backend (`&mut SqliteConnection` or
/// `&mut PgConnection`, lent by the [`Db`]); the body is compiled once per backend, so
/// `sqlx::query_as::<_, Row>` infers the right database type in each arm. The body's value
/// must be a `Result`: the connection is lent again after a success and closed after a
/// failure (see `lend`). The body runs in an `async` block: a `return` or `?` in it ends the
/// body with that value, not the calling function.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$p:ident| $body:expr) => {{
        #[allow(unused_imports)]
        use ::sqlx::Connection as _;
        match $db.lender() {
            $crate::Connections::Sqlite(lender) => {
                let mut lent = lender.lend().await?;
                let outcome = async {
                    let $p = lent.conn();
                    $body
                }
                .await;
                lent.give_back(&outcome);
                outcome
            }
            $crate::Connections::Postgres(lender) => {
                let mut lent = lender.lend().await?;
                let outcome = async {
                    let $p = lent.conn();
                    $body
                }
                .await;
                lent.give_back(&outcome);
                outcome
            }
        }
    }};
}

/// The connections of a [`Db`], by backend (for [`on_pool!`]).
pub enum Connections {
    /// SQLite.
    Sqlite(crate::lend::Lender<sqlx::Sqlite>),
    /// PostgreSQL.
    Postgres(crate::lend::Lender<sqlx::Postgres>),
}

/// How to open the database.
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
    /// PostgreSQL only: the schema to use (`search_path`), e.g. one per test.
    pub pg_schema: Option<String>,
}

/// Storage failures the callers handle differently.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint on the named column was violated.
    #[error("unique constraint violated on {0}")]
    Conflict(&'static str),
    /// A row the write refers to is gone (a foreign key failed): say, a message's channel
    /// was deleted while the message was on its way.
    #[error("a row this refers to is gone: {0}")]
    MissingParent(String),
    /// Anything else from the database.
    #[error(transparent)]
    Db(sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// SQLite's message writer failed (or stopped).
    #[error("{0}")]
    Writer(String),
    /// A read on SQLite's own connections (outside sqlx) failed.
    #[error("SQLite read failed: {0}")]
    Read(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Self::MissingParent(db.message().to_owned())
            }
            _ => Self::Db(err),
        }
    }
}

impl StoreError {
    /// Turns a unique violation into [`StoreError::Conflict`] naming the first of `columns`
    /// that the database's message mentions.
    pub(crate) fn from_insert(err: sqlx::Error, columns: &[&'static str]) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or(""));
            if let Some(col) = columns.iter().find(|c| text.contains(*c)) {
                return Self::Conflict(col);
            }
        }
        err.into()
    }
}

/// Connection pool figures for `/metrics`.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Idle connections.
    pub idle: u32,
    /// Tries of SQLite's pooled connections that found the write lock taken, by every
    /// database of the process since it started (0 on PostgreSQL).
    pub lock_waits: u64,
}

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens a pool. SQLite files (and their folder) are created when missing.
    pub async fn connect(config: &DbConfig) -> Result<Self, StoreError> {
        let url = config.url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = PgConnectOptions::from_str(url)?;
            if let Some(schema) = &config.pg_schema {
                opts = opts.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                // No ping before every query (a round trip each): a broken connection fails
                // its query and leaves the pool; connections are renewed every 30 minutes.
                .test_before_acquire(false)
                .max_lifetime(Duration::from_secs(30 * 60))
                .connect_with(opts)
                .await?;
            Ok(Self::new(
                Pool::Postgres(pool),
                config.max_connections,
                None,
            ))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                // 2 KiB pages for a new database (one made before keeps its own): a message
                // rewrites its channel's newest index leaf, logged and synced whole, so a
                // smaller page is fewer bytes logged, checksummed and written back. S4 at
                // 50k msg/s (docs/benchmarks/s4-what-was-tried.md): the disk wrote ~180–200
                // MB/s against ~250–270, the writer 0.4 µs a message less at 35k.
                .page_size(2048)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                // FULL: a commit survives power loss; group commit amortises the fsync.
                .synchronous(SqliteSynchronous::Full)
                // Replaced on each connection by `sqlite_busy`'s short waits (`after_connect`).
                .busy_timeout(Duration::from_secs(10))
                // 512 KiB of page cache per pooled connection instead of SQLite's 2 MiB: hot
                // reads are served from the server's own caches, the rest from the OS's.
                .pragma("cache_size", "-512");
            if let Some(parent) = opts.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
            }
            let path = opts.get_filename().to_path_buf();
            let pool = SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                // A local file does not drop connections: no ping (a thread round trip)
                // before every query.
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        crate::sqlite_busy::install(conn.lock_handle().await?.as_raw_handle())
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Self::new(
                Pool::Sqlite(pool),
                config.max_connections,
                Some(Arc::new(SqliteFile::new(path))),
            ))
        }
    }

    fn new(pool: Pool, max_connections: u32, sqlite: Option<Arc<SqliteFile>>) -> Self {
        let max = max_connections as usize;
        let lender = match &pool {
            Pool::Sqlite(p) => Connections::Sqlite(crate::lend::Lender::new(p.clone(), max)),
            Pool::Postgres(p) => Connections::Postgres(crate::lend::Lender::new(p.clone(), max)),
        };
        Self {
            pool,
            lender: Arc::new(lender),
            changes: Arc::default(),
            sqlite,
        }
    }

    /// SQLite's message writer, started on first use (after migrations have run).
    pub(crate) fn sqlite_writer(&self) -> Result<&SqliteWriter, StoreError> {
        let file = self
            .sqlite
            .as_ref()
            .ok_or_else(|| StoreError::Writer("not an SQLite database".into()))?;
        if let Some(w) = file.writer.get() {
            return Ok(w);
        }
        let started =
            SqliteWriter::start(&file.path, Arc::clone(&file.removed), file.unlisted.clone())?;
        // Two first callers may race: one thread wins, the other's ends with its handle.
        Ok(file.writer.get_or_init(|| started))
    }

    /// SQLite: the messages not yet in their channel's list (a reader copies what it needs
    /// before it reads the database). `None` on PostgreSQL, whose lists are an index.
    pub(crate) fn unlisted(&self) -> Option<&unlisted::Shared> {
        self.sqlite.as_ref().map(|f| &f.unlisted)
    }

    /// Each channel's newest message not yet in its list (none on PostgreSQL): copied before
    /// a read of the lists, and merged with what it finds.
    pub(crate) fn unlisted_newest(&self) -> foldhash::HashMap<i64, i64> {
        self.unlisted()
            .map(|u| u.lock().newest_by_channel())
            .unwrap_or_default()
    }

    /// `user`'s newest message in each channel not yet in their read state (none on
    /// PostgreSQL): copied before a read of the read states, and merged with what it finds.
    pub(crate) fn unwritten_own(&self, user: i64) -> foldhash::HashMap<i64, i64> {
        self.unlisted()
            .map(|u| u.lock().own.of(user))
            .unwrap_or_default()
    }

    /// [`Db::unlisted_newest`] of one channel.
    pub(crate) fn unlisted_newest_in(&self, channel: i64) -> Option<i64> {
        self.unlisted().and_then(|u| u.lock().newest(channel))
    }

    /// SQLite: the connections that serve short reads on the calling thread.
    pub(crate) fn sqlite_readers(&self) -> Option<&SqliteReaders> {
        self.sqlite.as_ref().map(|f| &*f.readers)
    }

    /// SQLite: the queue of gateway identifies that share read transactions.
    pub(crate) fn sqlite_identify_reads(&self) -> Option<&Arc<IdentifyReads>> {
        self.sqlite.as_ref().map(|f| &f.identify_reads)
    }

    /// The native pool (migrations and bulk work; queries use [`Db::lender`]).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where queries get their connection (for [`on_pool!`]).
    pub fn lender(&self) -> &Connections {
        &self.lender
    }

    /// Sets where committed changes are reported (once; later calls are ignored). Until it
    /// is set, changes go nowhere.
    pub fn on_change(&self, sink: ChangeSink) {
        let _ = self.changes.set(sink);
    }

    /// SQLite: tells the message writer that a channel is about to be deleted, so that a
    /// message on its way there is refused rather than stored without its channel (see
    /// `messages::parents`). Call before the `DELETE`.
    pub(crate) fn removing_channel(&self, id: i64) {
        if let Some(file) = &self.sqlite {
            file.removed.channel(id);
        }
    }

    /// SQLite: the same for a server, and so all of its channels.
    pub(crate) fn removing_server(&self, id: i64) {
        if let Some(file) = &self.sqlite {
            file.removed.server(id);
        }
    }

    /// Reports a committed change.
    pub(crate) fn changed(&self, change: Change) {
        if let Some(sink) = self.changes.get() {
            sink(&change);
        }
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                SQLITE_MIGRATIONS.run(p).await?;
                // What the last process stored without entering it in its channel's list.
                if let Some(file) = &self.sqlite {
                    let found = file.readers.read(unlisted::recover)?;
                    *file.unlisted.lock() = found;
                }
            }
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// For bulk-loading tools only (benchmark seeding): SQLite stops waiting for the disk on
    /// this handle's connections (`synchronous = OFF`); PostgreSQL is left as it is. Never
    /// used by the server.
    pub async fn bulk_load_mode(&self) -> Result<(), StoreError> {
        if let Pool::Sqlite(p) = &self.pool {
            sqlx::query("PRAGMA synchronous = OFF").execute(p).await?;
        }
        Ok(())
    }

    /// Round-trips a trivial query (readiness probe).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Pool figures.
    pub fn pool_stats(&self) -> PoolStats {
        let (open, idle) = match &*self.lender {
            Connections::Sqlite(l) => (l.open(), l.idle()),
            Connections::Postgres(l) => (l.open(), l.idle()),
        };
        let (size, pool_idle) = match &self.pool {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        };
        PoolStats {
            size: size + open as u32,
            idle: (pool_idle + idle) as u32,
            lock_waits: match &self.pool {
                Pool::Sqlite(_) => crate::sqlite_busy::pool_waits(),
                Pool::Postgres(_) => 0,
            },
        }
    }

    /// Waits for lent connections to come back, then closes them all.
    pub async fn close(&self) {
        match &*self.lender {
            Connections::Sqlite(l) => l.close().await,
            Connections::Postgres(l) => l.close().await,
        }
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::messages::test_support::{sqlite_db, sqlite_db_at, temp_db};
    use crate::{Db, Pool};

    async fn page_size(db: &Db) -> i64 {
        let Pool::Sqlite(p) = db.pool() else {
            unreachable!("a SQLite database")
        };
        sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(p)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_new_sqlite_database_has_2_kib_pages_and_an_older_one_keeps_its_own() {
        let db = sqlite_db("pages-new").await;
        db.migrate().await.unwrap();
        assert_eq!(page_size(&db).await, 2048);

        // Made with SQLite's default pages, as every database before 2026-12-05.
        let path = temp_db("pages-old");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let db = sqlite_db_at(&path).await;
        db.migrate().await.unwrap();
        assert_eq!(page_size(&db).await, 4096);
    }
}
