//! How far each user has read each channel, and their unread mentions.

use papo_core::id::ChannelId;

use crate::{Db, StoreError, on_pool};

/// Records that `user` has read `channel` up to `last_read_id`.
pub async fn ack(
    db: &Db,
    user: i64,
    channel: ChannelId,
    last_read_id: i64,
) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "INSERT INTO read_states (user_id, channel_id, last_read_id) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, channel_id) DO UPDATE SET last_read_id = excluded.last_read_id"
    )
    .bind(user)
    .bind(channel.as_i64())
    .bind(last_read_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// `user`'s newest message in `channel`, as their sends recorded it in their read state
/// (kept when that message is deleted: its author had read up to it).
pub async fn own_newest(db: &Db, user: i64, channel: ChannelId) -> Result<Option<i64>, StoreError> {
    // SQLite: what is not written yet, copied before the read.
    let unwritten = db
        .unlisted()
        .and_then(|u| u.lock().own.newest(user, channel.as_i64()));
    let row: Option<(Option<i64>,)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT own_last_id FROM read_states WHERE user_id = $1 AND channel_id = $2"
    )
    .bind(user)
    .bind(channel.as_i64())
    .fetch_optional(p)
    .await)?;
    Ok(row.and_then(|(id,)| id).max(unwritten))
}

/// Messages in `channel` after `after` that mention `user` directly, through one of
/// `user`'s roles in the channel's server, or with `@everyone`/`@here` (not counting the
/// user's own messages).
pub async fn mention_count(
    db: &Db,
    user: i64,
    channel: i64,
    after: i64,
) -> Result<i64, StoreError> {
    // SQLite: with the channel's messages not yet in its list (copied before the read).
    let unlisted = crate::messages::unlisted_ids(db, channel, |id| id > after);
    let sql = format!(
        "SELECT COUNT(*) FROM messages m WHERE (id IN (SELECT id FROM channel_messages \
         WHERE channel_id = $1 AND id > $2){}) AND m.author_id <> $3 AND (m.mention_everyone \
           OR EXISTS (SELECT 1 FROM message_mentions mm WHERE mm.user_id = $3 \
                      AND mm.channel_id = $1 AND mm.message_id = m.id) \
           OR EXISTS (SELECT 1 FROM message_role_mentions rm JOIN member_roles mr \
                      ON mr.role_id = rm.role_id AND mr.user_id = $3 \
                      WHERE rm.channel_id = $1 AND rm.message_id = m.id))",
        crate::messages::or_in(&unlisted)
    );
    let row: (i64,) = on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(channel)
        .bind(after)
        .bind(user)
        .fetch_one(p)
        .await)?;
    Ok(row.0)
}
