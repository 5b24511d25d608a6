//! Messages in channels, their mentions, reactions and pins.
//!
//! New messages are written in batches ([`insert_batch`]): one transaction (one fsync) for
//! every message waiting, so the write rate is not capped by the disk's flush rate.

use papo_core::id::{ChannelId, ServerId, Snowflake};

use crate::{Db, StoreError, on_pool, placeholders};

mod bulk;
mod checkpoint;
mod insert;
mod log_sync;
mod lookaside;
pub(crate) mod own_reads;
pub(crate) mod parents;
mod pg_batch;
mod recent_nonces;
pub(crate) mod sqlite_writer;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod unlisted;
#[cfg(test)]
mod unlisted_tests;
mod wal_batch;

pub use insert::{Inserted, Submitted, insert_batch, submit_batch};

/// A message row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    /// Id.
    pub id: i64,
    /// Channel.
    pub channel_id: i64,
    /// Server of the channel.
    pub server_id: i64,
    /// Author.
    pub author_id: i64,
    /// Raw markdown.
    pub content: String,
    /// Client's idempotency key.
    pub nonce: Option<String>,
    /// The message replied to.
    pub reply_to: Option<i64>,
    /// Mentioned user ids, comma-separated.
    pub mentions: String,
    /// Mentioned role ids, comma-separated.
    pub mention_roles: String,
    /// `@everyone` / `@here`.
    pub mention_everyone: bool,
    /// Unix ms, while pinned.
    pub pinned_at: Option<i64>,
    /// Unix ms of the last edit.
    pub edited_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
}

impl MessageRow {
    /// Mentioned user ids.
    pub fn mention_ids(&self) -> Vec<i64> {
        self.mentioned().collect()
    }

    /// Mentioned role ids.
    pub fn mention_role_ids(&self) -> Vec<i64> {
        self.mentioned_roles().collect()
    }

    /// Mentioned user ids, in order, read from the column as they are asked for.
    pub fn mentioned(&self) -> impl Iterator<Item = i64> + Clone + '_ {
        split_ids(&self.mentions)
    }

    /// Mentioned role ids, in order, read from the column as they are asked for.
    pub fn mentioned_roles(&self) -> impl Iterator<Item = i64> + Clone + '_ {
        split_ids(&self.mention_roles)
    }
}

/// Joins ids for the `mentions` columns.
pub fn join_ids(ids: &[i64]) -> String {
    // Most messages mention no one: no `Vec` for them (~80 instructions a list).
    if ids.is_empty() {
        return String::new();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn split_ids(s: &str) -> impl Iterator<Item = i64> + Clone + '_ {
    // An empty column (most messages mention no one) is no ids, known without a search
    // for commas: ~110 instructions a list on S4's send path (`bench/callgrind`).
    (!s.is_empty())
        .then(|| s.split(','))
        .into_iter()
        .flatten()
        .filter_map(|p| p.parse().ok())
}

pub(crate) const COLUMNS: &str = "id, channel_id, server_id, author_id, content, nonce, reply_to, mentions, \
     mention_roles, mention_everyone, pinned_at, edited_at, created_at";

/// The newest message id of a channel (the last entry of its list, `channel_messages`:
/// nothing else stores it).
pub async fn last_id(db: &Db, channel: ChannelId) -> Result<Option<i64>, StoreError> {
    let unlisted = db.unlisted_newest_in(channel.as_i64());
    let row: Option<(i64,)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT id FROM channel_messages WHERE channel_id = $1 ORDER BY id DESC LIMIT 1"
    )
    .bind(channel.as_i64())
    .fetch_optional(p)
    .await)?;
    Ok(row.map(|(id,)| id).max(unlisted))
}

/// One message of a channel.
pub async fn by_id(db: &Db, channel: ChannelId, id: i64) -> Result<Option<MessageRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = $1 AND channel_id = $2");
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(id)
    .bind(channel.as_i64())
    .fetch_optional(p)
    .await)?)
}

/// Messages by id (any channel; unknown ids skipped).
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<MessageRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    on_pool!(db, |p| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(p).await?)
    })
}

/// Where a history page starts.
#[derive(Clone, Copy, Debug)]
pub enum Page {
    /// The newest messages.
    Latest,
    /// Older than this id.
    Before(i64),
    /// Newer than this id (the ones right after it).
    After(i64),
    /// Centred on this id (it included).
    Around(i64),
}

async fn page_query(
    db: &Db,
    channel: i64,
    cond: &str,
    order: &str,
    pivot: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    // The ids from the channel's list (`channel_messages`) and those not in it yet (SQLite:
    // copied before the read, as many as the page takes), the rows by id.
    let mut unlisted = unlisted_ids(db, channel, |id| match cond {
        "<" => id < pivot,
        "<=" => id <= pivot,
        _ => id > pivot,
    });
    // Only the page's first `limit` can be on it.
    if order == "DESC" {
        unlisted.sort_unstable_by(|a, b| b.cmp(a));
    } else {
        unlisted.sort_unstable();
    }
    unlisted.truncate(usize::try_from(limit).unwrap_or(0));
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE id IN (SELECT id FROM channel_messages \
         WHERE channel_id = $1 AND id {cond} $2 ORDER BY id {order} LIMIT $3){} \
         ORDER BY id {order} LIMIT $3",
        or_in(&unlisted),
    );
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(channel)
    .bind(pivot)
    .bind(limit)
    .fetch_all(p)
    .await)?)
}

/// SQLite: the ids of `channel`'s messages not yet in its list that `keep` accepts.
pub(crate) fn unlisted_ids(db: &Db, channel: i64, keep: impl Fn(i64) -> bool) -> Vec<i64> {
    db.unlisted().map_or_else(Vec::new, |u| {
        u.lock()
            .ids(channel)
            .iter()
            .copied()
            .filter(|id| keep(*id))
            .collect()
    })
}

/// ` OR id IN (…)` for `ids` (none: nothing). Ids are integers the server made, written into
/// the statement as such.
pub(crate) fn or_in(ids: &[i64]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!(" OR id IN ({})", list.join(","))
}

/// Up to `limit` messages of `channel`, newest first.
pub async fn history(
    db: &Db,
    channel: ChannelId,
    page: Page,
    limit: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    let c = channel.as_i64();
    Ok(match page {
        Page::Latest => page_query(db, c, "<", "DESC", i64::MAX, limit).await?,
        Page::Before(id) => page_query(db, c, "<", "DESC", id, limit).await?,
        Page::After(id) => {
            let mut v = page_query(db, c, ">", "ASC", id, limit).await?;
            v.reverse();
            v
        }
        Page::Around(id) => {
            let newer = (limit - 1) / 2;
            let mut v = page_query(db, c, ">", "ASC", id, newer).await?;
            v.reverse();
            let older = limit - v.len() as i64;
            v.extend(page_query(db, c, "<=", "DESC", id, older).await?);
            v
        }
    })
}

/// Replaces a message's content and mentions.
pub async fn edit(db: &Db, m: &MessageRow) -> Result<(), StoreError> {
    on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        sqlx::query(
            "UPDATE messages SET content = $1, mentions = $2, mention_roles = $3, \
             mention_everyone = $4, edited_at = $5 WHERE id = $6",
        )
        .bind(&m.content)
        .bind(&m.mentions)
        .bind(&m.mention_roles)
        .bind(m.mention_everyone)
        .bind(m.edited_at)
        .bind(m.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM message_mentions WHERE message_id = $1")
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM message_role_mentions WHERE message_id = $1")
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        for user in m.mention_ids() {
            sqlx::query(
                "INSERT INTO message_mentions (user_id, channel_id, message_id) VALUES ($1, $2, $3)",
            )
            .bind(user)
            .bind(m.channel_id)
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        }
        for role in m.mention_role_ids() {
            sqlx::query(
                "INSERT INTO message_role_mentions (role_id, channel_id, message_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(role)
            .bind(m.channel_id)
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })?;
    Ok(())
}

/// Deletes messages of `channel`; returns the ids that existed.
pub async fn delete(db: &Db, channel: ChannelId, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = placeholders(2, ids.len());
    let select = format!("SELECT id FROM messages WHERE channel_id = $1 AND id IN ({list})");
    let delete = format!("DELETE FROM messages WHERE channel_id = $1 AND id IN ({list})");
    let found: Vec<(i64,)> = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str())).bind(channel.as_i64());
        for id in ids {
            q = q.bind(*id);
        }
        let found: Vec<(i64,)> = q.fetch_all(&mut *tx).await?;
        let mut d = sqlx::query(sqlx::AssertSqlSafe(delete.as_str())).bind(channel.as_i64());
        for id in ids {
            d = d.bind(*id);
        }
        d.execute(&mut *tx).await?;
        deleting_unlisted(db, found.iter().map(|(id,)| (channel.as_i64(), *id)));
        tx.commit().await?;
        Ok::<_, sqlx::Error>(found)
    })?;
    let found: Vec<i64> = found.into_iter().map(|(id,)| id).collect();
    forget_unlisted(db, found.iter().map(|id| (channel.as_i64(), *id)));
    Ok(found)
}

/// SQLite: notes messages being deleted, inside the deleting transaction once its delete
/// holds the write lock (see [`unlisted::Unlisted::deleting`]).
fn deleting_unlisted(db: &Db, deleted: impl Iterator<Item = (i64, i64)>) {
    if let Some(unlisted) = db.unlisted() {
        unlisted.lock().deleting(deleted);
    }
}

/// SQLite: deleted messages no longer wait for their channel's list (after the commit).
fn forget_unlisted(db: &Db, deleted: impl Iterator<Item = (i64, i64)>) {
    if let Some(unlisted) = db.unlisted() {
        let mut unlisted = unlisted.lock();
        for (channel, id) in deleted {
            unlisted.forget(channel, &[id]);
        }
    }
}

/// Deletes `author`'s messages in `server` made at or after `since` (Unix ms); returns
/// `(channel_id, message_id)` of each.
///
/// Read as one range of the channel's list (`channel_messages`) per channel of the server,
/// from the first id made a minute before `since` (ids follow the clock of the node that made
/// them, which may differ a little from the one that stamped `created_at`).
pub async fn delete_by_author_since(
    db: &Db,
    server: ServerId,
    author: i64,
    since: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let first = Snowflake::first_at(since.saturating_sub(ID_CLOCK_SLACK_MS).max(0) as u64);
    // SQLite: with every message not yet in its channel's list from then on (copied before
    // the read; the conditions below keep the server's and the author's).
    let unlisted: Vec<i64> = db.unlisted().map_or_else(Vec::new, |u| {
        u.lock()
            .all_ids()
            .filter(|id| *id >= first.as_i64())
            .collect()
    });
    let filter = format!(
        "WHERE (id IN (SELECT id FROM channel_messages \
         WHERE channel_id IN (SELECT id FROM channels WHERE server_id = $1) AND id >= $4){}) \
         AND channel_id IN (SELECT id FROM channels WHERE server_id = $1) \
         AND author_id = $2 AND created_at >= $3",
        or_in(&unlisted)
    );
    let select = format!("SELECT channel_id, id FROM messages {filter}");
    let delete = format!("DELETE FROM messages {filter}");
    let rows: Vec<(i64, i64)> = on_pool!(db, |p| {
        let mut tx = p.begin().await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
            .bind(server.as_i64())
            .bind(author)
            .bind(since)
            .bind(first.as_i64())
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(delete.as_str()))
            .bind(server.as_i64())
            .bind(author)
            .bind(since)
            .bind(first.as_i64())
            .execute(&mut *tx)
            .await?;
        deleting_unlisted(db, rows.iter().copied());
        tx.commit().await?;
        Ok::<_, sqlx::Error>(rows)
    })?;
    forget_unlisted(db, rows.iter().copied());
    Ok(rows)
}

/// How far before a message's `created_at` its id's own time may be (the clocks of two nodes).
const ID_CLOCK_SLACK_MS: i64 = 60_000;

/// Pins (`Some(now)`) or unpins (`None`) a message.
pub async fn set_pinned(db: &Db, id: i64, pinned_at: Option<i64>) -> Result<(), StoreError> {
    on_pool!(db, |p| sqlx::query(
        "UPDATE messages SET pinned_at = $1 WHERE id = $2"
    )
    .bind(pinned_at)
    .bind(id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The pinned messages of a channel, newest pin first.
pub async fn pins(db: &Db, channel: ChannelId) -> Result<Vec<MessageRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE channel_id = $1 AND pinned_at IS NOT NULL \
         ORDER BY pinned_at DESC, id DESC LIMIT 100"
    );
    Ok(on_pool!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(channel.as_i64())
    .fetch_all(p)
    .await)?)
}

/// The most different emoji one message can carry.
pub const MAX_REACTION_EMOJI: i64 = 20;

/// What adding a reaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionAdded {
    /// Added now.
    Added,
    /// The user had it already.
    Already,
    /// A new emoji on a message with [`MAX_REACTION_EMOJI`] different ones already.
    Full,
}

/// Adds a reaction, unless it would be the message's 21st different emoji.
pub async fn add_reaction(
    db: &Db,
    message: i64,
    emoji: &str,
    user: i64,
    now: i64,
) -> Result<ReactionAdded, StoreError> {
    let n = on_pool!(db, |p| {
        sqlx::query(
            "INSERT INTO reactions (message_id, emoji, user_id, created_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM reactions \
             WHERE message_id = $1 AND emoji = $2) OR (SELECT COUNT(DISTINCT emoji) \
             FROM reactions WHERE message_id = $1) < $5 \
             ON CONFLICT DO NOTHING",
        )
        .bind(message)
        .bind(emoji)
        .bind(user)
        .bind(now)
        .bind(MAX_REACTION_EMOJI)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 1 {
        return Ok(ReactionAdded::Added);
    }
    let had: Option<(i64,)> = on_pool!(db, |p| sqlx::query_as(
        "SELECT user_id FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3"
    )
    .bind(message)
    .bind(emoji)
    .bind(user)
    .fetch_optional(p)
    .await)?;
    Ok(if had.is_some() {
        ReactionAdded::Already
    } else {
        ReactionAdded::Full
    })
}

/// Removes a reaction; false if there was none.
pub async fn remove_reaction(
    db: &Db,
    message: i64,
    emoji: &str,
    user: i64,
) -> Result<bool, StoreError> {
    let n = on_pool!(db, |p| sqlx::query(
        "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3"
    )
    .bind(message)
    .bind(emoji)
    .bind(user)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Reaction totals of some messages: `(message_id, emoji, count, reacted by me)`, each
/// message's emoji in the order they were first used.
pub async fn reactions(
    db: &Db,
    messages: &[i64],
    me: i64,
) -> Result<Vec<(i64, String, i64, bool)>, StoreError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT message_id, emoji, COUNT(*) AS n, \
         SUM(CASE WHEN user_id = $1 THEN 1 ELSE 0 END) AS mine, MIN(created_at) AS first \
         FROM reactions WHERE message_id IN ({}) GROUP BY message_id, emoji \
         ORDER BY message_id, first",
        placeholders(2, messages.len())
    );
    let rows: Vec<(i64, String, i64, i64, i64)> = on_pool!(db, |p| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(me);
        for id in messages {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(m, e, n, mine, _)| (m, e, n, mine > 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_ids_read_back_as_joined() {
        for ids in [vec![], vec![7], vec![7, i64::MAX, 1]] {
            let joined = join_ids(&ids);
            assert_eq!(split_ids(&joined).collect::<Vec<_>>(), ids, "{joined:?}");
        }
        assert_eq!(join_ids(&[]), "");
        assert_eq!(join_ids(&[3, 4]), "3,4");
    }
}
