//! What the message store's unit tests share.

use std::path::PathBuf;

use super::MessageRow;
use crate::{Db, DbConfig};

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
    Db::connect(&DbConfig {
        url: format!("sqlite://{}", temp_db(tag).display()),
        max_connections: 2,
        pg_schema: None,
    })
    .await
    .unwrap()
}
