//! Papo's storage layer: one [`Db`] handle over SQLite (embedded default) or PostgreSQL
//! (cluster mode), embedded migrations, and one repository module per resource.
//!
//! Repositories are written once: the [`on_pool!`] macro expands a query for each backend's
//! native pool, so the SQL text is shared wherever both dialects accept it (parameters are
//! `$1`, `$2`, … which SQLite also understands). Backend-specific SQL lives in named
//! functions next to the shared ones.
#![deny(missing_docs)]

pub mod audit;
mod db;
mod identify_reads;
pub mod invites;
pub mod lend;
pub mod members;
pub mod messages;
#[cfg(test)]
mod migration_tests;
pub mod owner;
pub mod read_states;
pub mod roles;
mod server_load;
pub mod servers;
pub mod sessions;
mod sqlite_busy;
mod sqlite_reader;
pub mod users;

pub use db::{Backend, ChangeSink, Connections, Db, DbConfig, Pool, PoolStats, StoreError};

/// `$start, $start+1, …` for `n` bound values (an `IN (…)` list both dialects accept).
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
