//! Migrations that move data, run over a database holding rows written before them.

use std::borrow::Cow;

use sqlx::migrate::Migrator;

use crate::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::{Db, Pool, StoreError, on_pool};

/// The migrations before `version`, as a migrator of their own.
fn before(all: &Migrator, version: i64) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            all.migrations
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// Runs the migrations before `version` only.
async fn migrate_before(db: &Db, version: i64) {
    match db.pool() {
        Pool::Sqlite(p) => before(&SQLITE_MIGRATIONS, version).run(p).await,
        Pool::Postgres(p) => before(&POSTGRES_MIGRATIONS, version).run(p).await,
    }
    .expect("earlier migrations");
}

async fn exec(db: &Db, sql: &str) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

type StateRow = (i64, i64, i64, Option<i64>);

/// Every read state, and how many messages there are.
async fn read_back(db: &Db) -> Result<(Vec<StateRow>, i64), StoreError> {
    let states: Vec<StateRow> = on_pool!(db, |p| sqlx::query_as(
        "SELECT user_id, channel_id, last_read_id, own_last_id FROM read_states \
         ORDER BY user_id, channel_id"
    )
    .fetch_all(p)
    .await)?;
    let (messages,): (i64,) = on_pool!(db, |p| sqlx::query_as("SELECT COUNT(*) FROM messages")
        .fetch_one(p)
        .await)?;
    Ok((states, messages))
}

/// Two authors' messages in two channels, and two acknowledgements.
const SEED: &str = "\
    INSERT INTO users (id, username, email, email_key, password_hash, created_at, updated_at) \
        VALUES (1, 'a', 'a@x', 'a@x', 'h', 0, 0), (2, 'b', 'b@x', 'b@x', 'h', 0, 0);
    INSERT INTO servers (id, name, owner_id, created_at) VALUES (10, 's', 1, 0);
    INSERT INTO channels (id, server_id, kind, name, position) \
        VALUES (20, 10, 'text', 'general', 0), (21, 10, 'text', 'other', 1);
    INSERT INTO messages (id, channel_id, server_id, author_id, content, created_at) \
        VALUES (100, 20, 10, 1, 'x', 0), (105, 20, 10, 1, 'x', 0), (103, 20, 10, 2, 'x', 0), \
               (110, 21, 10, 2, 'x', 0);
    INSERT INTO read_states (user_id, channel_id, last_read_id) \
        VALUES (1, 20, 50), (2, 21, 200);";

/// 0010 moves each author's newest message per channel into their read state: what they
/// acknowledged stays, every message stays, and a channel they only wrote in gets a row.
async fn own_newest_moves_into_read_states(db: Db) {
    migrate_before(&db, 10).await;
    exec(&db, SEED).await.unwrap();
    db.migrate().await.unwrap();
    let (states, messages) = read_back(&db).await.unwrap();
    assert_eq!(
        states,
        [
            (1, 20, 50, Some(105)),
            (2, 20, 0, Some(103)),
            (2, 21, 200, Some(110)),
        ]
    );
    assert_eq!(messages, 4);
    db.close().await;
}

#[tokio::test]
async fn sqlite_own_newest_moves_into_read_states() {
    let db = crate::messages::test_support::sqlite_db("migrate-0010").await;
    own_newest_moves_into_read_states(db).await;
}

#[tokio::test]
async fn postgres_own_newest_moves_into_read_states() {
    let (db, schema) = crate::messages::test_support::postgres_db("mig").await;
    own_newest_moves_into_read_states(db).await;
    crate::messages::test_support::drop_postgres_schema(&schema).await;
}
