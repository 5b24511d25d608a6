//! Storing new messages in batches: one transaction per batch. What to write is decided by
//! [`plan`], a pure function (nonce deduplication follows the same rules as if the messages
//! had been stored one after the other); how depends on the database:
//! - PostgreSQL: two statements whatever the batch's size, more if it has mentions or
//!   repeats a stored nonce ([`super::pg_batch`]);
//! - SQLite: the batch goes to the message writer thread ([`super::sqlite_writer`]) in one
//!   hand-over.

use std::borrow::Cow;

use foldhash::HashMap;

use super::MessageRow;
use super::sqlite_writer::{Outcome, Pending, stopped};
use crate::{Connections, Db, StoreError};
use sqlx::Connection as _;

/// What a batched insert did with one message.
#[derive(Debug)]
pub enum Inserted {
    /// Stored as new.
    New,
    /// The author sent this nonce recently: the original message, nothing stored.
    Duplicate(Box<MessageRow>),
}

/// What one batch writes.
#[derive(Debug, Default)]
pub(crate) struct Plan<'a> {
    /// Per message: `None` if stored as new, or the original of a repeated nonce.
    pub duplicates: Vec<Option<MessageRow>>,
    /// Rows to insert: the batch's own, copied only where a later one took its nonce.
    /// Copying every row, and growing the vectors as they filled, took SQLite's writer ~440
    /// instructions a message (`bench/callgrind`, quick S4 at 4,000 msg/s).
    pub fresh: Vec<Cow<'a, MessageRow>>,
    /// Stored messages whose nonce is freed (remembered too long, or used in another
    /// channel): it is cleared before the new rows take it.
    pub free_nonces: Vec<i64>,
}

impl Plan<'_> {
    /// Each author's newest fresh message per channel: `(author, channel, message)`, one per
    /// author and channel, for their read states (authors have read their own messages).
    pub(crate) fn own_newest(&self) -> Vec<(i64, i64, i64)> {
        let mut own: Vec<(i64, i64, i64)> = self
            .fresh
            .iter()
            .map(|m| (m.author_id, m.channel_id, m.id))
            .collect();
        // Newest first within each (author, channel), so that `dedup` keeps it.
        own.sort_unstable_by(|a, b| (a.0, a.1, b.2).cmp(&(b.0, b.1, a.2)));
        own.dedup_by_key(|o| (o.0, o.1));
        own
    }
}

/// Decides what to store. `existing` are stored messages holding one of the batch's
/// `(author, nonce)` pairs; `since` is the oldest time a nonce is still remembered.
pub(crate) fn plan(messages: &[MessageRow], existing: Vec<MessageRow>, since: i64) -> Plan<'_> {
    /// Who holds an `(author, nonce)` pair: a stored message or a fresh one (indexes into
    /// `existing` and the plan's `fresh`).
    enum Holder {
        Stored(usize),
        Fresh(usize),
    }
    let mut holders: HashMap<(i64, &str), Holder> =
        HashMap::with_capacity_and_hasher(existing.len() + messages.len(), Default::default());
    for (i, m) in existing.iter().enumerate() {
        if let Some(nonce) = &m.nonce {
            holders.insert((m.author_id, nonce), Holder::Stored(i));
        }
    }
    let mut p = Plan {
        duplicates: Vec::with_capacity(messages.len()),
        fresh: Vec::with_capacity(messages.len()),
        free_nonces: Vec::new(),
    };
    for m in messages {
        let Some(nonce) = &m.nonce else {
            p.duplicates.push(None);
            p.fresh.push(Cow::Borrowed(m));
            continue;
        };
        let key = (m.author_id, nonce.as_str());
        let original = match holders.get(&key) {
            Some(Holder::Stored(i)) => Some(&existing[*i]),
            Some(Holder::Fresh(i)) => Some(&*p.fresh[*i]),
            None => None,
        };
        if let Some(old) = original
            && old.created_at >= since
            && old.channel_id == m.channel_id
        {
            p.duplicates.push(Some(old.clone()));
            continue;
        }
        // The nonce is free again: whoever held it lets go.
        match holders.remove(&key) {
            Some(Holder::Stored(i)) => p.free_nonces.push(existing[i].id),
            Some(Holder::Fresh(i)) => p.fresh[i].to_mut().nonce = None,
            None => {}
        }
        holders.insert(key, Holder::Fresh(p.fresh.len()));
        p.duplicates.push(None);
        p.fresh.push(Cow::Borrowed(m));
    }
    p
}

/// Stores `messages` in one transaction. A nonce the same author used in the same channel at
/// or after `nonce_since` (Unix ms) returns the original instead of storing a copy. Each
/// message comes back with its outcome, in order (the caller builds its answers from them).
///
/// If the batch fails as a whole (say, one message's channel was deleted meanwhile), each
/// message is retried in its own transaction, so one bad message never sinks the others.
pub async fn insert_batch(
    db: &Db,
    messages: Vec<MessageRow>,
    nonce_since: i64,
) -> Vec<Result<(MessageRow, Inserted), StoreError>> {
    submit_batch(db, messages, nonce_since)
        .await
        .outcome(db)
        .await
}

/// Hands `messages` to the store as [`insert_batch`] does, without waiting for the batch to
/// be durable: with SQLite, it returns at once (the writer's thread stores the batches in
/// the order they came, and syncs its log while it stores the next:
/// [`Submitted::poll_durable`]); with PostgreSQL, once the commit has returned.
/// [`Submitted::outcome`] gives the outcome.
pub async fn submit_batch(db: &Db, messages: Vec<MessageRow>, nonce_since: i64) -> Submitted {
    Submitted {
        n: messages.len(),
        since: nonce_since,
        storing: submit(db, messages, nonce_since).await,
    }
}

/// A batch handed to the store ([`submit_batch`]), its outcome to come.
pub struct Submitted {
    n: usize,
    since: i64,
    storing: Storing,
}

impl Submitted {
    /// Ready once the batch is durable and its outcome known; [`Self::outcome`] then
    /// answers at once, unless the batch failed as a whole (see [`insert_batch`]).
    pub fn poll_durable(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if let Storing::Sqlite(pending) = &mut self.storing {
            let (messages, outcome) = std::task::ready!(std::pin::Pin::new(pending).poll(cx));
            self.storing = Storing::Done(messages, outcome);
        }
        std::task::Poll::Ready(())
    }

    /// Each message with its outcome, in order, once the batch is durable; a batch that
    /// failed as a whole is retried a message at a time (see [`insert_batch`]).
    pub async fn outcome(self, db: &Db) -> Vec<Result<(MessageRow, Inserted), StoreError>> {
        let Self { n, since, storing } = self;
        let (messages, stored) = storing.finish().await;
        match stored {
            Ok(v) => messages.into_iter().zip(v).map(Ok).collect(),
            Err(_) if n > 1 && messages.len() == n => {
                let mut out = Vec::with_capacity(n);
                for one in messages {
                    let (mut back, stored) = submit(db, vec![one], since).await.finish().await;
                    out.push(match (stored, back.pop()) {
                        (Ok(mut v), Some(row)) => v
                            .pop()
                            .map(|inserted| (row, inserted))
                            .ok_or_else(|| StoreError::Db(sqlx::Error::RowNotFound)),
                        (Ok(_), None) => Err(StoreError::Db(sqlx::Error::RowNotFound)),
                        (Err(e), _) => Err(e),
                    });
                }
                out
            }
            // One message, or the messages did not come back (the writer stopped).
            Err(e) => vec![Err(e)],
        }
    }
}

/// A batch in the store's hands.
enum Storing {
    /// SQLite's writer thread has it.
    Sqlite(Pending),
    /// Done (PostgreSQL's commit, or a failure to hand it over): the messages and, per
    /// message, the original of a repeated nonce.
    Done(Vec<MessageRow>, Outcome),
}

impl Storing {
    /// The messages back, with their outcome.
    async fn finish(self) -> (Vec<MessageRow>, Result<Vec<Inserted>, StoreError>) {
        let (messages, duplicates) = match self {
            Self::Sqlite(pending) => pending.await,
            Self::Done(messages, outcome) => (messages, outcome),
        };
        let inserted = duplicates.map(|d| {
            d.into_iter()
                .map(|d| d.map_or(Inserted::New, |m| Inserted::Duplicate(Box::new(m))))
                .collect()
        });
        (messages, inserted)
    }
}

/// Stores `messages` in one transaction, up to its commit ([`submit_batch`]).
async fn submit(db: &Db, messages: Vec<MessageRow>, since: i64) -> Storing {
    match db.lender() {
        Connections::Sqlite(_) => match db.sqlite_writer() {
            Ok(writer) => match writer.submit(messages, since) {
                Ok(pending) => Storing::Sqlite(pending),
                Err(messages) => Storing::Done(messages, Err(stopped())),
            },
            Err(e) => Storing::Done(messages, Err(e)),
        },
        Connections::Postgres(lender) => {
            let outcome: Outcome = async {
                let mut lent = lender.lend().await?;
                let outcome: Outcome = async {
                    let mut tx = lent.conn().begin().await?;
                    let plan = super::pg_batch::store(&mut tx, &messages, since).await?;
                    tx.commit().await?;
                    Ok(plan.duplicates)
                }
                .await;
                lent.give_back(&outcome);
                outcome
            }
            .await;
            Storing::Done(messages, outcome)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_support::row as msg;
    use crate::on_pool;

    fn dup_ids(p: &Plan) -> Vec<Option<i64>> {
        p.duplicates
            .iter()
            .map(|d| d.as_ref().map(|m| m.id))
            .collect()
    }

    #[test]
    fn a_repeated_nonce_in_the_same_channel_returns_the_original() {
        let stored = msg(1, 10, 7, Some("n"), 1_000);
        let batch = [
            msg(2, 10, 7, Some("n"), 2_000),
            msg(3, 10, 8, Some("n"), 2_000),
        ];
        let p = plan(&batch, vec![stored], 500);
        assert_eq!(
            dup_ids(&p),
            vec![Some(1), None],
            "another author's nonce is theirs"
        );
        assert_eq!(p.fresh.iter().map(|m| m.id).collect::<Vec<_>>(), vec![3]);
        assert!(p.free_nonces.is_empty());
    }

    #[test]
    fn an_old_or_foreign_nonce_is_freed_and_reused() {
        let old = msg(1, 10, 7, Some("a"), 100);
        let elsewhere = msg(2, 11, 7, Some("b"), 1_000);
        let batch = [
            msg(3, 10, 7, Some("a"), 2_000),
            msg(4, 10, 7, Some("b"), 2_000),
        ];
        let p = plan(&batch, vec![old, elsewhere], 500);
        assert_eq!(dup_ids(&p), vec![None, None]);
        assert_eq!(p.free_nonces, vec![1, 2]);
        assert_eq!(p.fresh.len(), 2);
        assert!(p.fresh.iter().all(|m| m.nonce.is_some()));
    }

    #[test]
    fn within_a_batch_the_second_sees_the_first() {
        let batch = [
            msg(1, 10, 7, Some("x"), 2_000),
            msg(2, 10, 7, Some("x"), 2_000),
            msg(3, 11, 7, Some("x"), 2_000),
            msg(4, 10, 7, None, 2_000),
        ];
        let p = plan(&batch, Vec::new(), 500);
        assert_eq!(dup_ids(&p), vec![None, Some(1), None, None]);
        // Message 3 took the nonce in another channel: message 1 lets go of it.
        let nonces: Vec<(i64, Option<&str>)> =
            p.fresh.iter().map(|m| (m.id, m.nonce.as_deref())).collect();
        assert_eq!(nonces, vec![(1, None), (3, Some("x")), (4, None)]);
    }

    #[test]
    fn each_author_keeps_their_newest_message_per_channel() {
        let batch = [
            msg(5, 10, 7, None, 2_000),
            msg(9, 10, 7, None, 2_000),
            msg(6, 10, 7, None, 2_000),
            msg(7, 11, 7, None, 2_000),
            msg(8, 10, 3, Some("n"), 2_000),
            // A repeated nonce stores nothing, so it reads nothing either.
            msg(12, 10, 3, Some("n"), 2_000),
        ];
        let p = plan(&batch, Vec::new(), 500);
        assert_eq!(p.own_newest(), vec![(3, 10, 8), (7, 10, 9), (7, 11, 7)]);
    }

    /// A message sent to a channel deleted after it was checked (its channel, then its
    /// server, deleted while the message was on its way to the store) is refused, and
    /// nothing is left of the channel's messages.
    async fn a_message_for_a_deleted_channel_is_refused(db: Db) -> Result<(), StoreError> {
        use papo_core::id::{ChannelId, ServerId};
        db.migrate().await?;
        crate::messages::test_support::exec(&db, crate::messages::test_support::ONE_SERVER).await?;
        let in_server = |mut m: MessageRow| {
            m.server_id = 10;
            m
        };
        // Stored (true), or refused as a message whose channel is gone (false).
        let outcome = |out: Vec<Result<(MessageRow, Inserted), StoreError>>| -> Vec<bool> {
            out.into_iter()
                .map(|r| match r {
                    Ok(_) => true,
                    Err(StoreError::MissingParent(_)) => false,
                    Err(e) => panic!("refused for another reason: {e}"),
                })
                .collect()
        };
        let first = vec![
            in_server(msg(101, 20, 1, None, 1_000)),
            in_server(msg(102, 21, 1, None, 1_000)),
        ];
        assert_eq!(outcome(insert_batch(&db, first, 0).await), [true, true]);
        crate::servers::delete_channel(&db, ServerId::from_i64(10), ChannelId::from_i64(20))
            .await?;
        let second = vec![
            in_server(msg(103, 20, 1, None, 1_100)),
            in_server(msg(104, 21, 1, None, 1_100)),
        ];
        assert_eq!(outcome(insert_batch(&db, second, 0).await), [false, true]);
        crate::servers::delete(&db, ServerId::from_i64(10)).await?;
        let third = vec![in_server(msg(105, 21, 1, None, 1_200))];
        assert_eq!(outcome(insert_batch(&db, third, 0).await), [false]);
        let left: Vec<(i64,)> = on_pool!(&db, |p| sqlx::query_as("SELECT id FROM messages")
            .fetch_all(p)
            .await)?;
        assert_eq!(left, []);
        db.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn sqlite_a_message_for_a_deleted_channel_is_refused() {
        let db = crate::messages::test_support::sqlite_db("deleted-channel").await;
        a_message_for_a_deleted_channel_is_refused(db)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn postgres_a_message_for_a_deleted_channel_is_refused() {
        let (db, schema) = crate::messages::test_support::postgres_db("deleted").await;
        a_message_for_a_deleted_channel_is_refused(db)
            .await
            .unwrap();
        crate::messages::test_support::drop_postgres_schema(&schema).await;
    }

    /// A batch repeating stored nonces is stored as if its messages came one at a time: a
    /// nonce repeated in its channel returns the original, one from another channel is
    /// taken over (the original keeps its message, not its nonce), and the rest are new.
    /// (On PostgreSQL the batch's first insert skips the repeats, and the batch is stored
    /// again knowing them.)
    async fn stored_nonces_are_repeated_or_taken_over(db: Db) -> Result<(), StoreError> {
        db.migrate().await?;
        crate::messages::test_support::exec(&db, crate::messages::test_support::ONE_SERVER).await?;
        let in_server = |mut m: MessageRow| {
            m.server_id = 10;
            m
        };
        let first = vec![
            in_server(msg(101, 20, 1, Some("a"), 1_000)),
            in_server(msg(102, 20, 1, Some("b"), 1_000)),
        ];
        assert!(
            insert_batch(&db, first, 500)
                .await
                .iter()
                .all(Result::is_ok)
        );
        let second = vec![
            in_server(msg(103, 20, 1, Some("a"), 1_100)),
            in_server(msg(104, 21, 1, Some("b"), 1_100)),
            in_server(msg(105, 20, 1, Some("c"), 1_100)),
        ];
        let got: Vec<String> = insert_batch(&db, second, 500)
            .await
            .into_iter()
            .map(|r| match r {
                Ok((row, Inserted::New)) => format!("{} new", row.id),
                Ok((row, Inserted::Duplicate(old))) => format!("{} repeats {}", row.id, old.id),
                Err(e) => format!("refused: {e}"),
            })
            .collect();
        assert_eq!(got, ["103 repeats 101", "104 new", "105 new"]);
        let stored: Vec<(i64, Option<String>)> = on_pool!(&db, |p| sqlx::query_as(
            "SELECT id, nonce FROM messages ORDER BY id"
        )
        .fetch_all(p)
        .await)?;
        let nonce = |s: &str| Some(s.to_owned());
        assert_eq!(
            stored,
            [
                (101, nonce("a")),
                (102, None),
                (104, nonce("b")),
                (105, nonce("c"))
            ]
        );
        db.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn sqlite_stored_nonces_are_repeated_or_taken_over() {
        let db = crate::messages::test_support::sqlite_db("stored-nonces").await;
        stored_nonces_are_repeated_or_taken_over(db).await.unwrap();
    }

    #[tokio::test]
    async fn postgres_stored_nonces_are_repeated_or_taken_over() {
        let (db, schema) = crate::messages::test_support::postgres_db("nonces").await;
        stored_nonces_are_repeated_or_taken_over(db).await.unwrap();
        crate::messages::test_support::drop_postgres_schema(&schema).await;
    }

    /// A batch with one message that cannot be stored (its channel does not exist): the
    /// others are stored, and each message comes back with its outcome, in order.
    async fn a_bad_message_does_not_sink_its_batch(db: Db) -> Result<(), StoreError> {
        db.migrate().await?;
        crate::messages::test_support::exec(&db, crate::messages::test_support::ONE_SERVER).await?;
        let in_server = |mut m: MessageRow| {
            m.server_id = 10;
            m
        };
        let batch = vec![
            in_server(msg(101, 20, 1, Some("a"), 1_000)),
            in_server(msg(102, 99, 1, Some("b"), 1_000)),
            in_server(msg(103, 20, 1, None, 1_000)),
        ];
        let out = insert_batch(&db, batch, 0).await;
        let got: Vec<Result<(i64, &str), String>> = out
            .iter()
            .map(|r| match r {
                Ok((row, Inserted::New)) => Ok((row.id, row.content.as_str())),
                Ok((row, Inserted::Duplicate(_))) => Err(format!("{} repeated", row.id)),
                Err(_) => Err("refused".into()),
            })
            .collect();
        assert_eq!(
            got,
            [Ok((101, "m101")), Err("refused".into()), Ok((103, "m103"))]
        );
        let stored: Vec<(i64,)> = on_pool!(&db, |p| sqlx::query_as(
            "SELECT id FROM messages ORDER BY id"
        )
        .fetch_all(p)
        .await)?;
        assert_eq!(stored, [(101,), (103,)]);
        db.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn sqlite_a_bad_message_does_not_sink_its_batch() {
        let db = crate::messages::test_support::sqlite_db("bad-in-batch").await;
        a_bad_message_does_not_sink_its_batch(db).await.unwrap();
    }

    #[tokio::test]
    async fn postgres_a_bad_message_does_not_sink_its_batch() {
        let (db, schema) = crate::messages::test_support::postgres_db("batch").await;
        a_bad_message_does_not_sink_its_batch(db).await.unwrap();
        crate::messages::test_support::drop_postgres_schema(&schema).await;
    }
}
