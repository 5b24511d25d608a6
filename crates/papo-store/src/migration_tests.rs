//! Migrations that move data, run over a database holding rows written before them.

use std::borrow::Cow;

use sqlx::migrate::Migrator;

use crate::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use papo_core::id::{ChannelId, ServerId};

use crate::messages::test_support::{exec, scalar};
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

/// Ids of a channel's messages as its history reads them, newest first.
async fn history_ids(db: &Db, channel: i64) -> Vec<i64> {
    let page = crate::messages::Page::Latest;
    let rows = crate::messages::history(db, ChannelId::from_i64(channel), page, 10)
        .await
        .unwrap();
    rows.iter().map(|m| m.id).collect()
}

/// How many rows `table` holds.
async fn count(db: &Db, table: &str) -> i64 {
    scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

/// 0011 reads a channel's messages from `channel_messages` (on SQLite a table the rebuilt
/// `messages` fills, on PostgreSQL a view of its index): every message stored before is in its
/// channel's list, the rebuild keeps mentions and reactions, and deleting a channel, or a
/// server with its channels, still deletes their messages with what hangs on them.
async fn channel_lists_hold_every_message(db: Db) {
    migrate_before(&db, 11).await;
    exec(&db, SEED).await.unwrap();
    exec(
        &db,
        "INSERT INTO message_mentions (user_id, channel_id, message_id) VALUES (2, 20, 100);
         INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (110, 'x', 1, 0);",
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    assert_eq!(history_ids(&db, 20).await, [105, 103, 100]);
    assert_eq!(history_ids(&db, 21).await, [110]);
    assert_eq!(count(&db, "message_mentions").await, 1);
    assert_eq!(count(&db, "reactions").await, 1);

    crate::servers::delete_channel(&db, ServerId::from_i64(10), ChannelId::from_i64(20))
        .await
        .unwrap();
    assert_eq!(history_ids(&db, 20).await, [] as [i64; 0]);
    assert_eq!(count(&db, "messages").await, 1);
    assert_eq!(count(&db, "channel_messages").await, 1);
    assert_eq!(count(&db, "message_mentions").await, 0);
    assert_eq!(count(&db, "reactions").await, 1);

    crate::servers::delete(&db, ServerId::from_i64(10))
        .await
        .unwrap();
    assert_eq!(count(&db, "messages").await, 0);
    assert_eq!(count(&db, "channel_messages").await, 0);
    assert_eq!(count(&db, "reactions").await, 0);
    db.close().await;
}

#[tokio::test]
async fn sqlite_channel_lists_hold_every_message() {
    let db = crate::messages::test_support::sqlite_db("migrate-0011").await;
    channel_lists_hold_every_message(db).await;
}

#[tokio::test]
async fn postgres_channel_lists_hold_every_message() {
    let (db, schema) = crate::messages::test_support::postgres_db("mig11").await;
    channel_lists_hold_every_message(db).await;
    crate::messages::test_support::drop_postgres_schema(&schema).await;
}
