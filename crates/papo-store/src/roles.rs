//! Roles of a server and channel permission overwrites.

use papo_core::change::Change;
use papo_core::id::{ChannelId, ServerId, UserId};

use crate::servers::{LOCK_SERVER, RoleRow};
use crate::{Db, StoreError, on_pool};

/// Adds a role at position 1, moving every other non-`@everyone` role up by one.
pub async fn create(db: &Db, role: &RoleRow) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(LOCK_SERVER)
            .bind(role.server_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE roles SET position = position + 1 WHERE server_id = $1 AND position >= 1",
        )
        .bind(role.server_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO roles (id, server_id, name, color, position, permissions, hoist, mentionable) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7)",
        )
        .bind(role.id)
        .bind(role.server_id)
        .bind(&role.name)
        .bind(role.color)
        .bind(role.permissions)
        .bind(role.hoist)
        .bind(role.mentionable)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })?;
    db.changed(Change::Server {
        server: ServerId::from_i64(role.server_id),
    });
    Ok(())
}

/// Writes a role's editable fields (not its position).
pub async fn update(db: &Db, role: &RoleRow) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE roles SET name = $1, color = $2, permissions = $3, hoist = $4, mentionable = $5 \
         WHERE id = $6"
    )
    .bind(&role.name)
    .bind(role.color)
    .bind(role.permissions)
    .bind(role.hoist)
    .bind(role.mentionable)
    .bind(role.id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    db.changed(Change::Server {
        server: ServerId::from_i64(role.server_id),
    });
    Ok(())
}

/// Sets the positions of a server's roles (`(id, position)` pairs) in one transaction.
pub async fn set_positions(
    db: &Db,
    server: ServerId,
    positions: &[(i64, i64)],
) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(LOCK_SERVER)
            .bind(server.as_i64())
            .execute(&mut *tx)
            .await?;
        for (id, pos) in positions {
            sqlx::query("UPDATE roles SET position = $1 WHERE id = $2 AND server_id = $3")
                .bind(*pos)
                .bind(*id)
                .bind(server.as_i64())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })?;
    db.changed(Change::Server { server });
    Ok(())
}

/// Deletes a role (memberships and overwrites naming it go too).
pub async fn delete(db: &Db, server: ServerId, role: i64) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(
            "DELETE FROM channel_overwrites WHERE target_id = $1 AND kind = 'role' \
             AND channel_id IN (SELECT id FROM channels WHERE server_id = $2)",
        )
        .bind(role)
        .bind(server.as_i64())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM roles WHERE id = $1 AND server_id = $2")
            .bind(role)
            .bind(server.as_i64())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })?;
    // Memberships of the role went with it: every member's standing may have changed.
    db.changed(Change::Server { server });
    Ok(())
}

/// Replaces `user`'s roles in `server`.
pub async fn set_member_roles(
    db: &Db,
    server: ServerId,
    user: i64,
    roles: &[i64],
) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM member_roles WHERE server_id = $1 AND user_id = $2")
            .bind(server.as_i64())
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for r in roles {
            sqlx::query(
                "INSERT INTO member_roles (server_id, user_id, role_id) VALUES ($1, $2, $3)",
            )
            .bind(server.as_i64())
            .bind(user)
            .bind(*r)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    db.changed(Change::Member {
        server,
        user: UserId::from_i64(user),
    });
    Ok(())
}

/// Every `(user_id, role_id)` of a server.
pub async fn all_member_roles(db: &Db, server: ServerId) -> Result<Vec<(i64, i64)>, StoreError> {
    crate::sqlite_reader::rows_for_key(db, ALL_MEMBER_ROLES, server.as_i64()).await
}

/// [`all_member_roles`]' query.
pub(crate) const ALL_MEMBER_ROLES: &str =
    "SELECT user_id, role_id FROM member_roles WHERE server_id = $1";

/// Creates or replaces an overwrite on channels of `server`, in one transaction: the channel
/// edited, then the channels of a category that follow it (Discord's "synced" channels).
pub async fn put_overwrite(
    db: &Db,
    server: ServerId,
    channels: &[ChannelId],
    target: i64,
    is_role: bool,
    allow: i64,
    deny: i64,
) -> Result<(), StoreError> {
    let kind = if is_role { "role" } else { "member" };
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        for channel in channels {
            sqlx::query(
                "INSERT INTO channel_overwrites (channel_id, target_id, kind, allow, deny) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, target_id) \
                 DO UPDATE SET kind = excluded.kind, allow = excluded.allow, deny = excluded.deny",
            )
            .bind(channel.as_i64())
            .bind(target)
            .bind(kind)
            .bind(allow)
            .bind(deny)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    db.changed(Change::Server { server });
    Ok(())
}

/// Removes `target`'s overwrite from channels of `server`, in one transaction (as
/// [`put_overwrite`]); false if the first of them had none.
pub async fn delete_overwrite(
    db: &Db,
    server: ServerId,
    channels: &[ChannelId],
    target: i64,
) -> Result<bool, StoreError> {
    let first = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        let mut first = None;
        for channel in channels {
            let n = sqlx::query(
                "DELETE FROM channel_overwrites WHERE channel_id = $1 AND target_id = $2",
            )
            .bind(channel.as_i64())
            .bind(target)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            first.get_or_insert(n);
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(first)
    })?;
    db.changed(Change::Server { server });
    Ok(first == Some(1))
}

/// Copies a category's overwrites (`$2`) into a channel (`$1`): what a channel created in a
/// category starts with, and what a sync gives it again.
pub(crate) const COPY_OVERWRITES: &str = "INSERT INTO channel_overwrites (channel_id, target_id, kind, allow, deny) \
     SELECT $1, target_id, kind, allow, deny FROM channel_overwrites WHERE channel_id = $2";

/// Replaces `channel`'s overwrites with a copy of `category`'s, in one transaction.
pub async fn copy_overwrites(
    db: &Db,
    server: ServerId,
    channel: ChannelId,
    category: ChannelId,
) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query("DELETE FROM channel_overwrites WHERE channel_id = $1")
            .bind(channel.as_i64())
            .execute(&mut *tx)
            .await?;
        sqlx::query(COPY_OVERWRITES)
            .bind(channel.as_i64())
            .bind(category.as_i64())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })?;
    db.changed(Change::Server { server });
    Ok(())
}
