//! Server invites.

use papo_core::change::Change;
use papo_core::id::{ServerId, UserId};

use crate::{Db, StoreError, on_pool};

/// An invite row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InviteRow {
    /// The code in the link.
    pub code: String,
    /// Server.
    pub server_id: i64,
    /// Who made it.
    pub inviter_id: i64,
    /// 0 = unlimited.
    pub max_uses: i64,
    /// Accepted so far.
    pub uses: i64,
    /// Unix ms; `None` = never.
    pub expires_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, once revoked.
    pub revoked_at: Option<i64>,
}

/// Why an invite cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub enum Unusable {
    /// No such code.
    Unknown,
    /// Revoked by a moderator.
    Revoked,
    /// Past its expiry.
    Expired,
    /// Every use taken.
    UsedUp,
    /// The user is banned from the server.
    Banned,
}

impl InviteRow {
    /// Whether the invite can be used at `now`.
    pub fn check(&self, now: i64) -> Result<(), Unusable> {
        if self.revoked_at.is_some() {
            Err(Unusable::Revoked)
        } else if self.expires_at.is_some_and(|t| t <= now) {
            Err(Unusable::Expired)
        } else if self.max_uses > 0 && self.uses >= self.max_uses {
            Err(Unusable::UsedUp)
        } else {
            Ok(())
        }
    }
}

const COLUMNS: &str =
    "code, server_id, inviter_id, max_uses, uses, expires_at, created_at, revoked_at";

/// How many live invites a server may have: as many as [`of_server`] lists, so that each
/// one can be seen and revoked.
pub const MAX_LIVE: i64 = 200;

/// The invites still usable at `$now`: not revoked, expired or used up.
const LIVE: &str = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $now) \
                    AND (max_uses = 0 OR uses < max_uses)";

/// Stores a new invite unless its server has [`MAX_LIVE`] live ones at `i.created_at`
/// already: `false` then, and nothing is stored. The count and the insert are one statement.
pub async fn insert(db: &Db, i: &InviteRow) -> Result<bool, StoreError> {
    let sql = format!(
        "INSERT INTO invites (code, server_id, inviter_id, max_uses, uses, expires_at, created_at) \
         SELECT $1, $2, $3, $4, 0, $5, $6 WHERE (SELECT COUNT(*) FROM invites \
         WHERE server_id = $2 AND {}) < {MAX_LIVE}",
        LIVE.replace("$now", "$6")
    );
    let stored = on_pool!(db, |p| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&i.code)
        .bind(i.server_id)
        .bind(i.inviter_id)
        .bind(i.max_uses)
        .bind(i.expires_at)
        .bind(i.created_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(stored == 1)
}

/// An invite by code.
pub async fn by_code(db: &Db, code: &str) -> Result<Option<InviteRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE code = $1");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(code)
    .fetch_optional(p)
    .await)?)
}

/// A server's live invites at `now` (Unix ms), newest first: not revoked, expired or used up.
pub async fn of_server(db: &Db, server: ServerId, now: i64) -> Result<Vec<InviteRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invites WHERE server_id = $1 AND {} \
         ORDER BY created_at DESC LIMIT {MAX_LIVE}",
        LIVE.replace("$now", "$2")
    );
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(server.as_i64())
    .bind(now)
    .fetch_all(p)
    .await)?)
}

/// Revokes an invite.
pub async fn revoke(db: &Db, code: &str, now: i64) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE invites SET revoked_at = $1 WHERE code = $2 AND revoked_at IS NULL"
    )
    .bind(now)
    .bind(code)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// How accepting went.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Joined now.
    Joined,
    /// Was a member already (the invite was not used up).
    AlreadyMember,
}

/// Uses the invite for `user`: checks bans, counts the use and adds the member, atomically
/// (two people racing for the last use cannot both get in), with the server's row locked
/// (so a double click joins once, and a ban committing meanwhile is seen).
pub async fn accept(
    db: &Db,
    code: &str,
    user: UserId,
    now: i64,
) -> Result<Result<(ServerId, Accepted), Unusable>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM invites WHERE code = $1");
    let out = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        // [`crate::servers::LOCK_SERVER`], found by the invite's code.
        sqlx::query(
            "UPDATE servers SET name = name \
             WHERE id = (SELECT server_id FROM invites WHERE code = $1)",
        )
        .bind(code)
        .execute(&mut *tx)
        .await?;
        let invite: Option<InviteRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(invite) = invite else {
            return Ok(Err(Unusable::Unknown));
        };
        let server = ServerId::from_i64(invite.server_id);
        let member: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM members WHERE server_id = $1 AND user_id = $2")
                .bind(invite.server_id)
                .bind(user.as_i64())
                .fetch_optional(&mut *tx)
                .await?;
        if member.is_some() {
            // It may be one who joined a moment ago (a double click), whose own request has
            // committed and not told the caches yet: tell them.
            db.changed(Change::Member { server, user });
            return Ok(Ok((server, Accepted::AlreadyMember)));
        }
        let banned: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM bans WHERE server_id = $1 AND user_id = $2")
                .bind(invite.server_id)
                .bind(user.as_i64())
                .fetch_optional(&mut *tx)
                .await?;
        if banned.is_some() {
            return Ok(Err(Unusable::Banned));
        }
        if let Err(why) = invite.check(now) {
            return Ok(Err(why));
        }
        let counted = sqlx::query(
            "UPDATE invites SET uses = uses + 1 WHERE code = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) AND (max_uses = 0 OR uses < max_uses)",
        )
        .bind(code)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if counted != 1 {
            return Ok(Err(Unusable::UsedUp));
        }
        sqlx::query(crate::members::INSERT_MEMBER)
            .bind(invite.server_id)
            .bind(user.as_i64())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(crate::members::FORGET_KEPT_TIMEOUT)
            .bind(invite.server_id)
            .bind(user.as_i64())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok((server, Accepted::Joined)))
    })?;
    if let Ok((server, Accepted::Joined)) = out {
        db.changed(Change::Member { server, user });
    }
    Ok(out)
}
