//! One batch of new messages stored on PostgreSQL, inside the caller's transaction.
//!
//! Each statement carries its rows as one array per column, which the server unnests: the
//! same few statements whatever the batch's size, each prepared once per connection. Rows
//! as multi-row `VALUES`, 32 to a statement, took eight inserts for a full batch of 256.
//!
//! Nonces are checked optimistically. The batch is planned as if no stored message held
//! one of its nonces ([`plan`] with nothing stored), and its rows are inserted skipping any
//! whose nonce the unique index already holds. Nearly always none is skipped, and the batch
//! needed no lookup: before, every batch first looked its nonces up, one `OR` per pair, and
//! the server started and ran a bitmap scan per pair (at S4's 20k msg/s, 6 % of the
//! machine's samples, against 32 % for all of PostgreSQL). If a row is skipped, its rows are
//! deleted again and the batch is stored as before: the holders looked up, the batch
//! planned knowing them, their nonces freed where [`plan`] says so, the rows inserted.

use super::insert::{Plan, plan};
use super::{COLUMNS, MessageRow};
use crate::StoreError;

/// The messages' columns as arrays to unnest, in [`COLUMNS`]' order.
const UNNEST_COLUMNS: &str = "unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], \
     $5::text[], $6::text[], $7::int8[], $8::text[], $9::text[], $10::bool[], $11::int8[], \
     $12::int8[], $13::int8[])";

/// Stores `messages` in `tx` (see the module's doc); `since` is the oldest time a nonce is
/// still remembered. Returns the plan that was stored.
pub(crate) async fn store<'a>(
    tx: &mut sqlx::PgConnection,
    messages: &'a [MessageRow],
    since: i64,
) -> Result<Plan<'a>, StoreError> {
    let hopeful = plan(messages, Vec::new(), since);
    let stored = insert_rows(tx, &hopeful, Taken::Skip).await?;
    let plan = if stored == hopeful.fresh.len() as u64 {
        hopeful
    } else {
        let ids: Vec<i64> = hopeful.fresh.iter().map(|m| m.id).collect();
        sqlx::query("DELETE FROM messages WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        let plan = plan(messages, holders(tx, messages).await?, since);
        if !plan.free_nonces.is_empty() {
            sqlx::query("UPDATE messages SET nonce = NULL WHERE id = ANY($1)")
                .bind(&plan.free_nonces)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
        }
        insert_rows(tx, &plan, Taken::Fail).await?;
        plan
    };
    insert_mentions(tx, &plan).await?;
    // One row per (author, channel): PostgreSQL refuses to update a row twice in one
    // statement. In (author, channel) order, as every batch locks them.
    let own = plan.own_newest();
    if !own.is_empty() {
        let (authors, places): (Vec<i64>, (Vec<i64>, Vec<i64>)) =
            own.into_iter().map(|(a, c, m)| (a, (c, m))).unzip();
        sqlx::query(
            "INSERT INTO read_states (user_id, channel_id, own_last_id, last_read_id) \
             SELECT u, c, m, 0 FROM unnest($1::int8[], $2::int8[], $3::int8[]) AS t (u, c, m) \
             ON CONFLICT (user_id, channel_id) DO UPDATE \
             SET own_last_id = GREATEST(read_states.own_last_id, EXCLUDED.own_last_id)",
        )
        .bind(authors)
        .bind(places.0)
        .bind(places.1)
        .execute(&mut *tx)
        .await?;
    }
    Ok(plan)
}

/// What an insert does with a row whose nonce a stored message holds.
#[derive(Clone, Copy, PartialEq)]
enum Taken {
    /// Leaves it out (and the count returned says so).
    Skip,
    /// Fails the statement, as the unique index does.
    Fail,
}

/// Inserts `plan`'s fresh rows; returns how many were inserted.
async fn insert_rows(
    tx: &mut sqlx::PgConnection,
    plan: &Plan<'_>,
    taken: Taken,
) -> Result<u64, StoreError> {
    if plan.fresh.is_empty() {
        return Ok(0);
    }
    let rows = &plan.fresh;
    let ints = |f: fn(&MessageRow) -> i64| rows.iter().map(|m| f(m)).collect::<Vec<_>>();
    let maybe = |f: fn(&MessageRow) -> Option<i64>| rows.iter().map(|m| f(m)).collect::<Vec<_>>();
    let text = |f: fn(&MessageRow) -> &str| rows.iter().map(|m| f(m)).collect::<Vec<_>>();
    let skip = match taken {
        Taken::Skip => " ON CONFLICT (author_id, nonce) WHERE nonce IS NOT NULL DO NOTHING",
        Taken::Fail => "",
    };
    let sql = format!("INSERT INTO messages ({COLUMNS}) SELECT * FROM {UNNEST_COLUMNS}{skip}");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ints(|m| m.id))
        .bind(ints(|m| m.channel_id))
        .bind(ints(|m| m.server_id))
        .bind(ints(|m| m.author_id))
        .bind(text(|m| &m.content))
        .bind(rows.iter().map(|m| m.nonce.as_deref()).collect::<Vec<_>>())
        .bind(maybe(|m| m.reply_to))
        .bind(text(|m| &m.mentions))
        .bind(text(|m| &m.mention_roles))
        .bind(rows.iter().map(|m| m.mention_everyone).collect::<Vec<_>>())
        .bind(maybe(|m| m.pinned_at))
        .bind(maybe(|m| m.edited_at))
        .bind(ints(|m| m.created_at))
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected())
}

/// Stored messages holding one of `messages`' `(author, nonce)` pairs.
async fn holders(
    tx: &mut sqlx::PgConnection,
    messages: &[MessageRow],
) -> Result<Vec<MessageRow>, StoreError> {
    let (authors, nonces): (Vec<i64>, Vec<&str>) = messages
        .iter()
        .filter_map(|m| Some((m.author_id, m.nonce.as_deref()?)))
        .unzip();
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE nonce IS NOT NULL \
         AND (author_id, nonce) IN (SELECT * FROM unnest($1::int8[], $2::text[]))"
    );
    // Planned at every use (an unnamed statement): a plan kept from when the table was small
    // would scan the whole table once it has grown.
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&authors)
        .bind(&nonces)
        .persistent(false)
        .fetch_all(&mut *tx)
        .await?)
}

/// The fresh rows' user and role mentions.
async fn insert_mentions(tx: &mut sqlx::PgConnection, plan: &Plan<'_>) -> Result<(), StoreError> {
    let users = plan
        .fresh
        .iter()
        .flat_map(|m| m.mention_ids().into_iter().map(|u| (u, m.channel_id, m.id)));
    let roles = plan.fresh.iter().flat_map(|m| {
        m.mention_role_ids()
            .into_iter()
            .map(|r| (r, m.channel_id, m.id))
    });
    for (table, column, targets) in [
        ("message_mentions", "user_id", users.collect::<Vec<_>>()),
        ("message_role_mentions", "role_id", roles.collect()),
    ] {
        if targets.is_empty() {
            continue;
        }
        let (ids, places): (Vec<i64>, (Vec<i64>, Vec<i64>)) =
            targets.into_iter().map(|(t, c, m)| (t, (c, m))).unzip();
        let sql = format!(
            "INSERT INTO {table} ({column}, channel_id, message_id) \
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[])"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(ids)
            .bind(places.0)
            .bind(places.1)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
