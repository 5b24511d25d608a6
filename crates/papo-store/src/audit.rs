//! The audit log: who changed what in a server, and why.

use papo_core::id::ServerId;

use crate::{Db, StoreError, on_pool};

/// An audit log entry (its time is in its id).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    /// Id (time ordered).
    pub id: i64,
    /// Server.
    pub server_id: i64,
    /// Who did it.
    pub actor_id: i64,
    /// What it was done to (user, role, channel, message, …).
    pub target_id: Option<i64>,
    /// Action name, e.g. `member_ban_add`.
    pub action: String,
    /// JSON object of changes.
    pub changes: Option<String>,
    /// Reason given.
    pub reason: Option<String>,
}

/// Appends an entry.
pub async fn insert(db: &Db, e: &AuditRow) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "INSERT INTO audit_log (id, server_id, actor_id, target_id, action, changes, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(e.id)
    .bind(e.server_id)
    .bind(e.actor_id)
    .bind(e.target_id)
    .bind(&e.action)
    .bind(&e.changes)
    .bind(&e.reason)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Filters for [`list`].
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Entries older than this id.
    pub before: Option<i64>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Entries newest first.
pub async fn list(db: &Db, server: ServerId, q: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT id, server_id, actor_id, target_id, action, changes, reason FROM audit_log \
         WHERE server_id = $1 AND id < $2 AND ($3 IS NULL OR action = $3) \
         AND ($4 IS NULL OR actor_id = $4) ORDER BY id DESC LIMIT $5"
    )
    .bind(server.as_i64())
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(&q.action)
    .bind(q.actor_id)
    .bind(q.limit)
    .fetch_all(p)
    .await)?)
}

/// What the entry of channel `channel`'s deletion in `server` recorded (its `changes`), if
/// one was.
pub async fn channel_deletion(
    db: &Db,
    server: ServerId,
    channel: i64,
) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT changes FROM audit_log WHERE server_id = $1 AND action = 'channel_delete' \
         AND target_id = $2 ORDER BY id DESC LIMIT 1"
    )
    .bind(server.as_i64())
    .bind(channel)
    .fetch_optional(p)
    .await)?;
    Ok(row.and_then(|(changes,)| changes))
}
