//! What the message store's unit tests share.

use std::path::PathBuf;

use super::MessageRow;
use crate::{Db, DbConfig, StoreError, on_pool};

/// A plain message: no reply, mentions or pin.
pub(crate) fn row(id: i64, channel: i64, author: i64, nonce: Option<&str>, at: i64) -> MessageRow {
    MessageRow {
        id,
        channel_id: channel,
        server_id: 1,
        author_id: author,
        content: format!("m{id}"),
        nonce: nonce.map(str::to_owned),
        reply_to: None,
        mentions: String::new(),
        mention_roles: String::new(),
        mention_everyone: false,
        pinned_at: None,
        edited_at: None,
        created_at: at,
    }
}

/// The path of a database file in a fresh folder of its own (`tag` names the test).
pub(crate) fn temp_db(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("papo-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("db.sqlite")
}

/// A SQLite [`Db`] on a fresh file (`tag` names the test), not migrated yet.
pub(crate) async fn sqlite_db(tag: &str) -> Db {
    sqlite_db_at(&temp_db(tag)).await
}

/// A SQLite [`Db`] on the file at `path` (made if missing), not migrated yet.
pub(crate) async fn sqlite_db_at(path: &std::path::Path) -> Db {
    Db::connect(&DbConfig {
        url: format!("sqlite://{}", path.display()),
        max_connections: 2,
        pg_schema: None,
    })
    .await
    .unwrap()
}

/// User 1, who owns server 10 with text channels 20 and 21.
pub(crate) const ONE_SERVER: &str = "\
    INSERT INTO users (id, username, email, email_key, password_hash, created_at, updated_at) \
        VALUES (1, 'a', 'a@x', 'a@x', 'h', 0, 0);
    INSERT INTO servers (id, name, owner_id, created_at) VALUES (10, 's', 1, 0);
    INSERT INTO channels (id, server_id, kind, name, position) \
        VALUES (20, 10, 'text', 'general', 0), (21, 10, 'text', 'random', 1);";

/// Runs `sql` (any number of statements).
pub(crate) async fn exec(db: &Db, sql: &str) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The one integer `sql` reads.
pub(crate) async fn scalar(db: &Db, sql: &str) -> i64 {
    async fn read(db: &Db, sql: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(p)
            .await)?;
        Ok(n)
    }
    read(db, sql).await.unwrap()
}

/// A PostgreSQL [`Db`] in a fresh schema of its own on the test server
/// (`PAPO_TEST_POSTGRES_URL`, else the machine's `test` database), not migrated yet; give
/// the schema to [`drop_postgres_schema`] when done.
pub(crate) async fn postgres_db(tag: &str) -> (Db, String) {
    let schema = format!(
        "{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&postgres_admin().await)
        .await
        .unwrap();
    let db = Db::connect(&DbConfig {
        url: postgres_url(),
        max_connections: 2,
        pg_schema: Some(schema.clone()),
    })
    .await
    .unwrap();
    (db, schema)
}

/// Removes a schema [`postgres_db`] made.
pub(crate) async fn drop_postgres_schema(schema: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&postgres_admin().await)
        .await
        .unwrap();
}

fn postgres_url() -> String {
    std::env::var("PAPO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn postgres_admin() -> sqlx::PgPool {
    sqlx::PgPool::connect(&postgres_url()).await.unwrap()
}
