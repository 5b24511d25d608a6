//! Gateway identifies on SQLite, several to one read transaction.
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
use crate::sessions::IdentifyRows;
use crate::sqlite_reader::SqliteReaders;

/// The most identifies read in one transaction (a longer queue takes several, one after
/// the other).
const MAX_BATCH: usize = 64;

/// One identify's answer.
type Answer = Result<Option<IdentifyRows>, StoreError>;

/// An identify waiting for the next read transaction.
struct Waiting {
    access_hash: String,
    now: i64,
    answer: oneshot::Sender<Answer>,
}

/// The identifies waiting for their read, and the connections that read them.
pub(crate) struct IdentifyReads {
    readers: Arc<SqliteReaders>,
    waiting: Mutex<Vec<Waiting>>,
    /// Read transactions begun so far.
    transactions: AtomicU64,
}

impl IdentifyReads {
    /// Identifies read through `readers`.
    pub(crate) fn new(readers: Arc<SqliteReaders>) -> Self {
        Self {
            readers,
            waiting: Mutex::new(Vec::new()),
            transactions: AtomicU64::new(0),
        }
    }

    /// Reads what identifying with the token hashed to `access_hash` needs, together with the
    /// identifies asked for at about the same time. Must be called inside a tokio runtime.
    pub(crate) async fn identify(self: &Arc<Self>, access_hash: &str, now: i64) -> Answer {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut waiting = self.waiting.lock().expect("identify queue poisoned");
            waiting.push(Waiting {
                access_hash: access_hash.to_owned(),
                now,
                answer,
            });
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
        let read = self.readers.read_together(|c| {
            let mut queries = crate::sessions::IdentifyQueries::prepare(c)?;
            Ok(batch
                .iter()
                .map(|w| queries.identify(&w.access_hash, w.now))
                .collect::<Vec<_>>())
        });
        match read {
            Ok(answers) => {
                for (w, answer) in batch.into_iter().zip(answers) {
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

    use crate::messages::test_support::temp_db;
    use crate::sessions::{self, NewSession, NewToken, TokenKind};
    use crate::users::{self, NewUser};
    use crate::{Db, DbConfig};

    const NOW: i64 = 1_700_000_000_000;

    /// A migrated database with `n` users, user `i` signed in with the token hash `h<i>`.
    async fn db_with_users(tag: &str, n: i64) -> Db {
        let path = temp_db(tag);
        let db = Db::connect(&DbConfig {
            url: format!("sqlite://{}", path.display()),
            max_connections: 2,
            pg_schema: None,
        })
        .await
        .unwrap();
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
            tokio::spawn(async move { sessions::identify(&db, &format!("h{i}"), NOW).await })
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
        let first = sessions::identify(&db, "h1", NOW).await.unwrap().unwrap();
        assert_eq!(first.found.owner.user_id, 1);
        let second = sessions::identify(&db, "h2", NOW).await.unwrap().unwrap();
        assert_eq!(second.found.owner.user_id, 2);
        // An expired token is not found.
        assert!(
            sessions::identify(&db, "h2", NOW + 60_000)
                .await
                .unwrap()
                .is_none()
        );
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn when_the_transaction_cannot_begin_every_identify_asked_together_gets_the_error() {
        // No such folder: the readers cannot open the file.
        let path = temp_db("identify-unopenable")
            .join("missing")
            .join("db.sqlite");
        let readers = std::sync::Arc::new(crate::sqlite_reader::SqliteReaders::new(&path));
        let reads = std::sync::Arc::new(super::IdentifyReads::new(readers));
        let asks: Vec<_> = (1..=3)
            .map(|i| {
                let reads = reads.clone();
                tokio::spawn(async move { reads.identify(&format!("h{i}"), NOW).await })
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
                tokio::spawn(async move { sessions::identify(&db, &format!("h{i}"), NOW).await })
            })
            .collect();
        for (i, ask) in (1..=n).zip(asks) {
            let rows = ask.await.unwrap().unwrap().expect("a known token");
            assert_eq!(rows.found.owner.user_id, i);
        }
        let reads = db.sqlite_identify_reads().unwrap();
        assert_eq!(reads.transactions.load(super::Ordering::Relaxed), 2);
    }
}
