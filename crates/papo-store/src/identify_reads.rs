//! Gateway identifies on SQLite, several to one read transaction, with the first loads of
//! the servers the caller lacks (`sessions::ServerCache`).
//!
//! Each read transaction on SQLite's own connections takes the log's read lock (`fcntl`s on
//! its shared memory), looks at the log (an `fstat` when it is empty) and, when the writer
//! has committed since the connection's last transaction, starts its page cache over (the
//! pages are read again with `pread`). With one transaction per identify, the locks and the
//! `fstat`s were about 4.6 of the server's 12.4 system calls per S1 session (the `pread`s
//! stayed when they shared: the tables outgrow the page cache). Identifies that arrive together now
//! share one: the first queues itself and starts a task that runs after the tasks already
//! waiting to run; the identifies those tasks begin join the queue, and the task reads them
//! all in one transaction and answers each. Every identify is read in a snapshot taken
//! after it was asked for, so a token issued before it is always found.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::StoreError;
use crate::sessions::{IdentifyRows, ServerCache, Who};
use crate::sqlite_reader::SqliteReaders;

/// The most identifies read in one transaction (a longer queue takes several, one after
/// the other).
const MAX_BATCH: usize = 64;

/// One identify's answer.
type Answer = Result<Option<IdentifyRows>, StoreError>;

/// An identify waiting for the next read transaction.
struct Waiting {
    who: Who,
    cache: Arc<dyn ServerCache>,
    answer: oneshot::Sender<Answer>,
}

/// The identifies waiting for their read, and the connections that read them.
pub(crate) struct IdentifyReads {
    readers: Arc<SqliteReaders>,
    /// Messages not yet in their channel's list: a channel's newest may be one of them.
    unlisted: crate::messages::unlisted::Shared,
    waiting: Mutex<Vec<Waiting>>,
    /// Read transactions begun so far.
    transactions: AtomicU64,
}

impl IdentifyReads {
    /// Identifies read through `readers`.
    pub(crate) fn new(
        readers: Arc<SqliteReaders>,
        unlisted: crate::messages::unlisted::Shared,
    ) -> Self {
        Self {
            readers,
            unlisted,
            waiting: Mutex::new(Vec::new()),
            transactions: AtomicU64::new(0),
        }
    }

    /// Reads what identifying `who` needs, together with the identifies asked for at about
    /// the same time. Must be called inside a tokio runtime.
    pub(crate) async fn identify(
        self: &Arc<Self>,
        who: Who,
        cache: Arc<dyn ServerCache>,
    ) -> Answer {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().expect("identify queue poisoned");
            waiting.push(Waiting { who, cache, answer });
            waiting.len() == 1
        };
        if first {
            let reads = Arc::clone(self);
            tokio::spawn(async move {
                // Behind the tasks that are ready to run now: their identifies join this one.
                tokio::task::yield_now().await;
                reads.read_waiting();
            });
        }
        answered
            .await
            .unwrap_or_else(|_| Err(StoreError::Read("the identify read was dropped".into())))
    }

    /// Reads every waiting identify, [`MAX_BATCH`] to a transaction, and answers each (an
    /// identify whose caller has gone is read all the same and its answer dropped).
    fn read_waiting(&self) {
        let mut batch = std::mem::take(&mut *self.waiting.lock().expect("identify queue poisoned"));
        while !batch.is_empty() {
            let rest = batch.split_off(batch.len().min(MAX_BATCH));
            self.read_batch(batch);
            batch = rest;
        }
    }

    fn read_batch(&self, batch: Vec<Waiting>) {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        // Before the transaction's snapshot: a server read in it is kept only if nothing was
        // invalidated since.
        let seen: Vec<u64> = batch.iter().map(|w| w.cache.generation()).collect();
        // Also before it: a message entered in its list, or a read state written, after the
        // snapshot is still here.
        let (newest, own) = {
            let unlisted = self.unlisted.lock();
            (unlisted.newest_by_channel(), unlisted.own.clone())
        };
        let read = self.readers.read_together(|c| {
            let mut queries = crate::sessions::IdentifyQueries::prepare(c)?;
            Ok(batch
                .iter()
                .zip(seen)
                .map(|(w, seen)| queries.identify(&w.who, &*w.cache, seen))
                .collect::<Vec<_>>())
        });
        match read {
            Ok(answers) => {
                for (w, mut answer) in batch.into_iter().zip(answers) {
                    if let Ok(Some(rows)) = &mut answer {
                        crate::servers::add_unlisted_newest(&mut rows.channels, &newest);
                        let user = rows.found.owner.user_id;
                        crate::servers::add_unwritten_own(&mut rows.channels, &own.of(user));
                    }
                    let answer = answer.map_err(|err| StoreError::Read(err.to_string()));
                    let _ = w.answer.send(answer);
                }
            }
            // The transaction itself failed (no connection, `BEGIN` refused, or a statement
            // that would not prepare): each identify gets the error.
            Err(err) => {
                let message = err.to_string();
                for w in batch {
                    let _ = w.answer.send(Err(StoreError::Read(message.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use papo_core::id::{SessionId, UserId};

    use crate::Db;
    use crate::messages::test_support::{sqlite_db, temp_db};
    use crate::sessions::{self, NewSession, NewToken, TokenKind};
    use crate::users::{self, NewUser};

    const NOW: i64 = 1_700_000_000_000;

    /// A caller's copies of servers: those it `held` from the start and those it was given
    /// (unless it is `forgetful`: then it keeps nothing, as when every read is stale).
    #[derive(Default)]
    struct TestCache {
        held: Vec<i64>,
        forgetful: bool,
        kept: std::sync::Mutex<Vec<(crate::servers::ServerParts, u64)>>,
    }

    impl sessions::ServerCache for TestCache {
        fn lacks(&self, id: papo_core::id::ServerId) -> bool {
            let kept = self.kept.lock().unwrap();
            !self.held.contains(&id.as_i64())
                && (self.forgetful || !kept.iter().any(|(p, _)| p.server.id == id.as_i64()))
        }
        fn generation(&self) -> u64 {
            7
        }
        fn keep(&self, parts: crate::servers::ServerParts, seen: u64) {
            self.kept.lock().unwrap().push((parts, seen));
        }
    }

    /// A caller that holds every server there is.
    fn lacks_none() -> std::sync::Arc<dyn sessions::ServerCache> {
        std::sync::Arc::new(TestCache {
            held: (0..10_000).collect(),
            ..TestCache::default()
        })
    }

    /// A migrated database with `n` users, user `i` signed in with the token hash `h<i>`.
    async fn db_with_users(tag: &str, n: i64) -> Db {
        let db = sqlite_db(tag).await;
        db.migrate().await.unwrap();
        for i in 1..=n {
            let name = format!("user{i}");
            let email = format!("{name}@example.com");
            let user = NewUser {
                id: UserId::from_i64(i),
                username: &name,
                email: &email,
                email_key: &email,
                password_hash: "x",
                display_name: None,
                settings: "{}",
                now: NOW,
            };
            users::insert(&db, &user).await.unwrap();
            let session = NewSession {
                id: SessionId::from_i64(100 + i),
                user_id: UserId::from_i64(i),
                user_agent: None,
                ip: None,
                now: NOW,
            };
            let token = NewToken {
                hash: format!("h{i}"),
                kind: TokenKind::Access,
                expires_at: NOW + 60_000,
            };
            sessions::create(&db, &session, &[token]).await.unwrap();
        }
        db
    }

    #[tokio::test]
    async fn identifies_asked_together_share_one_transaction_and_each_gets_its_own_answer() {
        let db = db_with_users("identify-together", 20).await;
        let asks = (1..=21).map(|i| {
            let db = db.clone();
            // User 21 does not exist: an unknown token.
            tokio::spawn(async move {
                sessions::identify(&db, &format!("h{i}"), NOW, lacks_none()).await
            })
        });
        let asks: Vec<_> = asks.collect();
        for (i, ask) in (1..=21).zip(asks) {
            let found = ask.await.unwrap().unwrap();
            match found {
                Some(rows) => {
                    assert_eq!(rows.found.owner.user_id, i);
                    assert_eq!(rows.found.owner.session_id, 100 + i);
                    assert_eq!(rows.found.user.username, format!("user{i}"));
                }
                None => assert_eq!(i, 21, "only the unknown token is not found"),
            }
        }
        let reads = db.sqlite_identify_reads().unwrap();
        let transactions = reads.transactions.load(super::Ordering::Relaxed);
        assert_eq!(
            transactions, 1,
            "21 identifies asked together, one transaction"
        );
    }

    #[tokio::test]
    async fn an_identify_asked_after_a_read_began_is_read_in_the_next_transaction() {
        let db = db_with_users("identify-after", 2).await;
        let first = sessions::identify(&db, "h1", NOW, lacks_none())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.found.owner.user_id, 1);
        let second = sessions::identify(&db, "h2", NOW, lacks_none())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.found.owner.user_id, 2);
        // An expired token is not found.
        assert!(
            sessions::identify(&db, "h2", NOW + 60_000, lacks_none())
                .await
                .unwrap()
                .is_none()
        );
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn owners_known_already_are_read_without_their_token_with_the_others() {
        let db = db_with_users("identify-owners", 3).await;
        // The owner as a caller that knows the token would give it (user 9 has no account).
        let owner = |user: i64| sessions::TokenOwner {
            session_id: 100 + user,
            user_id: user,
            last_used_at: NOW - 5,
            expires_at: NOW + 60_000,
        };
        let asks: Vec<_> = [1, 2, 9]
            .into_iter()
            .map(|user| {
                let db = db.clone();
                tokio::spawn(async move {
                    sessions::identify_owner(&db, owner(user), lacks_none()).await
                })
            })
            .collect();
        let by_token = {
            let db = db.clone();
            tokio::spawn(async move { sessions::identify(&db, "h3", NOW, lacks_none()).await })
        };
        for (user, ask) in [1, 2, 9].into_iter().zip(asks) {
            let found = ask.await.unwrap().unwrap();
            match found {
                Some(rows) => {
                    assert_eq!(rows.found.user.username, format!("user{user}"));
                    assert_eq!(rows.found.owner.session_id, 100 + user);
                    assert_eq!(rows.found.owner.last_used_at, NOW - 5, "the caller's");
                }
                None => assert_eq!(user, 9, "only the missing account is not found"),
            }
        }
        let rows = by_token.await.unwrap().unwrap().expect("a live token");
        assert_eq!(rows.found.user.username, "user3");
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn when_the_transaction_cannot_begin_every_identify_asked_together_gets_the_error() {
        // No such folder: the readers cannot open the file.
        let path = temp_db("identify-unopenable")
            .join("missing")
            .join("db.sqlite");
        let readers = std::sync::Arc::new(crate::sqlite_reader::SqliteReaders::new(&path));
        let reads = std::sync::Arc::new(super::IdentifyReads::new(readers, Default::default()));
        let asks: Vec<_> = (1..=3)
            .map(|i| {
                let reads = reads.clone();
                tokio::spawn(async move {
                    let who = crate::sessions::Who::Token {
                        hash: format!("h{i}"),
                        now: NOW,
                    };
                    reads.identify(who, lacks_none()).await
                })
            })
            .collect();
        for ask in asks {
            let err = ask.await.unwrap().expect_err("no database to read");
            assert!(matches!(err, crate::StoreError::Read(_)), "{err}");
        }
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_long_queue_is_read_in_transactions_of_at_most_max_batch() {
        let n = super::MAX_BATCH as i64 + 6;
        let db = db_with_users("identify-long", n).await;
        let asks: Vec<_> = (1..=n)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    sessions::identify(&db, &format!("h{i}"), NOW, lacks_none()).await
                })
            })
            .collect();
        for (i, ask) in (1..=n).zip(asks) {
            let rows = ask.await.unwrap().unwrap().expect("a known token");
            assert_eq!(rows.found.owner.user_id, i);
        }
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 2);
    }

    /// Server `id` owned by `owner`, with text channels at `positions` (channel `id + 1 + i`
    /// at `positions[i]`).
    async fn server(db: &Db, id: i64, owner: i64, positions: &[i64]) {
        use crate::servers::{self, NewChannel, ServerRow};
        let row = ServerRow {
            id,
            name: format!("s{id}"),
            description: None,
            icon: None,
            owner_id: owner,
            created_at: NOW,
        };
        let channels: Vec<NewChannel> = (1..)
            .zip(positions)
            .map(|(i, &position)| NewChannel {
                id: papo_core::id::ChannelId::from_i64(id + i),
                server_id: papo_core::id::ServerId::from_i64(id),
                kind: "text",
                name: format!("c{}", id + i),
                position,
                parent_id: None,
                topic: None,
                slowmode_secs: 0,
                user_limit: None,
                bitrate: None,
            })
            .collect();
        servers::create(db, &row, 0, &channels).await.unwrap();
    }

    /// Users 1 to `n` identify together with `cache` as the caller's (each token is found).
    async fn identify_together(db: &Db, n: i64, cache: std::sync::Arc<dyn sessions::ServerCache>) {
        let asks: Vec<_> = (1..=n)
            .map(|i| {
                let (db, cache) = (db.clone(), cache.clone());
                tokio::spawn(
                    async move { sessions::identify(&db, &format!("h{i}"), NOW, cache).await },
                )
            })
            .collect();
        for (i, ask) in (1..=n).zip(asks) {
            let rows = ask.await.unwrap().unwrap().expect("a known token");
            assert_eq!(rows.found.owner.user_id, i);
        }
    }

    #[tokio::test]
    async fn the_servers_a_caller_lacks_are_read_with_the_identify_once_a_batch_and_handed_over() {
        use papo_core::id::ServerId;
        let db = db_with_users("identify-servers", 3).await;
        server(&db, 1000, 1, &[2, 0, 1]).await;
        server(&db, 2000, 2, &[0]).await;
        for (s, u) in [(1000, 2), (1000, 3), (2000, 3)] {
            crate::servers::add_member(&db, ServerId::from_i64(s), UserId::from_i64(u), NOW)
                .await
                .unwrap();
        }
        // The caller holds server 2000 already.
        let cache = std::sync::Arc::new(TestCache {
            held: vec![2000],
            ..TestCache::default()
        });
        identify_together(&db, 3, cache.clone()).await;
        {
            let kept = cache.kept.lock().unwrap();
            assert_eq!(
                kept.len(),
                1,
                "server 1000 read once for the three, 2000 not at all"
            );
            let (parts, seen) = &kept[0];
            assert_eq!((parts.server.id, *seen), (1000, 7));
            let channels: Vec<i64> = parts.channels.iter().map(|c| c.id).collect();
            assert_eq!(channels, [1002, 1003, 1001], "by position");
            let mut members: Vec<i64> = parts.members.iter().map(|m| m.user_id).collect();
            members.sort_unstable();
            assert_eq!(members, [1, 2, 3]);
            assert_eq!(parts.roles.len(), 1, "@everyone");
        }
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 1);
        // A caller that keeps nothing still gets each server once a batch.
        let forgetful = std::sync::Arc::new(TestCache {
            forgetful: true,
            ..TestCache::default()
        });
        identify_together(&db, 3, forgetful.clone()).await;
        let given: Vec<i64> = forgetful
            .kept
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.server.id)
            .collect();
        assert_eq!(given, [1000, 2000], "each read once in the batch");
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 2);
        // A caller that lacks nothing is given no server.
        let holds_all = std::sync::Arc::new(TestCache {
            held: vec![1000, 2000],
            ..TestCache::default()
        });
        let alone = sessions::identify(&db, "h3", NOW, holds_all.clone())
            .await
            .unwrap()
            .unwrap();
        assert!(holds_all.kept.lock().unwrap().is_empty());
        assert_eq!(
            alone.channels.len(),
            4,
            "server 1000's three channels, 2000's one"
        );
    }
}
