//! Server members (joining, leaving, listing, nickname, timeout) and bans.

use papo_core::change::Change;
use papo_core::id::{ServerId, UserId};

use crate::servers::MemberRow;
use crate::{Db, StoreError, on_pool};

/// Members by user id after `after`, at most `limit`.
pub async fn page(
    db: &Db,
    server: ServerId,
    after: i64,
    limit: i64,
) -> Result<Vec<MemberRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT server_id, user_id, nickname, joined_at, timeout_until FROM members \
         WHERE server_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3"
    )
    .bind(server.as_i64())
    .bind(after)
    .bind(limit)
    .fetch_all(p)
    .await)?)
}

/// Writes a member's nickname and timeout.
pub async fn update(db: &Db, m: &MemberRow) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE members SET nickname = $1, timeout_until = $2 WHERE server_id = $3 AND user_id = $4"
    )
    .bind(&m.nickname)
    .bind(m.timeout_until)
    .bind(m.server_id)
    .bind(m.user_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Member {
        server: ServerId::from_i64(m.server_id),
        user: UserId::from_i64(m.user_id),
    });
    Ok(())
}

/// A ban row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BanRow {
    /// Banned user.
    pub user_id: i64,
    /// Who banned.
    pub moderator_id: i64,
    /// Why.
    pub reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// Bans `user` (replacing an earlier ban) and removes their membership, atomically.
/// Returns whether they were a member.
pub async fn ban(db: &Db, server: ServerId, ban: &BanRow) -> Result<bool, StoreError> {
    let removed = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(crate::servers::LOCK_SERVER)
            .bind(server.as_i64())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO bans (server_id, user_id, moderator_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (server_id, user_id) \
             DO UPDATE SET moderator_id = excluded.moderator_id, reason = excluded.reason, \
             created_at = excluded.created_at",
        )
        .bind(server.as_i64())
        .bind(ban.user_id)
        .bind(ban.moderator_id)
        .bind(&ban.reason)
        .bind(ban.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(KEEP_TIMEOUT)
            .bind(server.as_i64())
            .bind(ban.user_id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM members WHERE server_id = $1 AND user_id = $2")
            .bind(server.as_i64())
            .bind(ban.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    })?;
    db.changed(Change::Member {
        server,
        user: UserId::from_i64(ban.user_id),
    });
    Ok(removed == 1)
}

/// Lifts a ban; false if there was none.
pub async fn unban(db: &Db, server: ServerId, user: i64) -> Result<bool, StoreError> {
    let n = on_pool!(db, |p| sqlx::query(
        "DELETE FROM bans WHERE server_id = $1 AND user_id = $2"
    )
    .bind(server.as_i64())
    .bind(user)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The server's bans, newest first.
pub async fn bans(db: &Db, server: ServerId) -> Result<Vec<BanRow>, StoreError> {
    Ok(on_pool!(db, |p| sqlx::query_as(
        "SELECT user_id, moderator_id, reason, created_at FROM bans WHERE server_id = $1 \
         ORDER BY created_at DESC LIMIT 1000"
    )
    .bind(server.as_i64())
    .fetch_all(p)
    .await)?)
}

/// Every member of a server (for permission fan-out computations).
pub async fn all(db: &Db, server: ServerId) -> Result<Vec<MemberRow>, StoreError> {
    // On SQLite on the calling thread (see `sqlite_reader`).
    crate::sqlite_reader::rows_for_key(db, ALL, server.as_i64()).await
}

/// [`all`]'s query.
pub(crate) const ALL: &str = "SELECT server_id, user_id, nickname, joined_at, timeout_until \
     FROM members WHERE server_id = $1";

/// Adds `user` to `server` (no-op if already a member).
pub async fn add_member(
    db: &Db,
    server: ServerId,
    user: UserId,
    now: i64,
) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "INSERT INTO members (server_id, user_id, joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING"
    )
    .bind(server.as_i64())
    .bind(user.as_i64())
    .bind(now)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Member { server, user });
    Ok(())
}

/// Keeps the timeout of member ($1 server, $2 user), if they have one, for their return: run
/// before their row is deleted.
pub(crate) const KEEP_TIMEOUT: &str = "INSERT INTO kept_timeouts (server_id, user_id, until) \
     SELECT server_id, user_id, timeout_until FROM members \
     WHERE server_id = $1 AND user_id = $2 AND timeout_until IS NOT NULL \
     ON CONFLICT (server_id, user_id) DO UPDATE SET until = excluded.until";

/// Adds member ($1 server, $2 user) joining at $3, with the timeout kept from an earlier
/// membership if it still runs; [`FORGET_KEPT_TIMEOUT`] follows.
pub(crate) const INSERT_MEMBER: &str = "INSERT INTO members (server_id, user_id, joined_at, timeout_until) \
     VALUES ($1, $2, $3, (SELECT until FROM kept_timeouts \
     WHERE server_id = $1 AND user_id = $2 AND until > $3))";

/// Forgets a kept timeout once given back (a moderator may lift it since).
pub(crate) const FORGET_KEPT_TIMEOUT: &str =
    "DELETE FROM kept_timeouts WHERE server_id = $1 AND user_id = $2";

/// Removes a membership, keeping a running timeout for a return; false if there was none.
pub async fn remove_member(db: &Db, server: ServerId, user: UserId) -> Result<bool, StoreError> {
    let n = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(KEEP_TIMEOUT)
            .bind(server.as_i64())
            .bind(user.as_i64())
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM members WHERE server_id = $1 AND user_id = $2")
            .bind(server.as_i64())
            .bind(user.as_i64())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok::<_, sqlx::Error>(n)
    })?;
    db.changed(Change::Member { server, user });
    Ok(n == 1)
}
