//! SQLite's message writer through its handle: batches, nonces, read states and failures.

use super::*;

use crate::messages::test_support::row;

/// A database with the tables the writer touches, channels 10–12 and authors 7–9 (no
/// other tables, so no foreign keys).
fn temp_db(tag: &str) -> std::path::PathBuf {
    let path = crate::messages::test_support::temp_db(&format!("writer-{tag}"));
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL,
                server_id INTEGER NOT NULL, author_id INTEGER NOT NULL, content TEXT NOT NULL,
                nonce TEXT, reply_to INTEGER, mentions TEXT NOT NULL DEFAULT '',
                mention_roles TEXT NOT NULL DEFAULT '',
                mention_everyone INTEGER NOT NULL DEFAULT 0,
                pinned_at INTEGER, edited_at INTEGER, created_at INTEGER NOT NULL);
             CREATE TABLE channel_messages (channel_id INTEGER NOT NULL, id INTEGER NOT NULL,
                PRIMARY KEY (channel_id, id)) WITHOUT ROWID;
             CREATE TABLE channel_messages_mark (below INTEGER NOT NULL);
             INSERT INTO channel_messages_mark VALUES (9223372036854775807);
             CREATE TABLE reactions (message_id INTEGER, emoji TEXT, user_id INTEGER);
             CREATE TABLE message_mentions (user_id INTEGER, channel_id INTEGER,
                message_id INTEGER);
             CREATE TABLE message_role_mentions (role_id INTEGER, channel_id INTEGER,
                message_id INTEGER);
             CREATE TABLE read_states (user_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
                last_read_id INTEGER NOT NULL, own_last_id INTEGER,
                PRIMARY KEY (user_id, channel_id));
             CREATE TABLE channels (id INTEGER PRIMARY KEY);
             CREATE TABLE users (id INTEGER PRIMARY KEY);
             INSERT INTO channels VALUES (10), (11), (12);
             INSERT INTO users VALUES (7), (8), (9);",
        )
        .unwrap();
    path
}

/// A message of author 7 with `nonce`.
fn msg(id: i64, channel: i64, nonce: &str, at: i64) -> MessageRow {
    row(id, channel, 7, Some(nonce), at)
}

/// Per message: `None` if stored, or the id of the original it repeats.
async fn write(w: &SqliteWriter, batch: &[MessageRow], since: i64) -> Vec<Option<i64>> {
    let (back, outcome) = w.write(batch.to_vec(), since).await;
    assert_eq!(back.len(), batch.len(), "the messages come back");
    outcome
        .unwrap()
        .into_iter()
        .map(|d| d.map(|m| m.id))
        .collect()
}

fn stored(path: &Path) -> Vec<(i64, Option<String>)> {
    let conn = Connection::open(path).unwrap();
    let mut q = conn
        .prepare("SELECT id, nonce FROM messages ORDER BY id")
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn authors_newest_messages_reach_their_read_states_when_the_mark_moves_up() {
    let path = temp_db("own-reads");
    let conn = Connection::open(&path).unwrap();
    // Author 7 acknowledged channel 11 up to 50; author 8 has a newer message in 12.
    conn.execute_batch("INSERT INTO read_states VALUES (7, 11, 50, NULL), (8, 12, 0, 100)")
        .unwrap();
    let removed = Arc::new(Removed::default());
    let w = SqliteWriter::start(&path, removed.clone(), Default::default()).unwrap();
    let batch = [
        row(1, 10, 7, None, 1_000),
        row(3, 10, 7, None, 1_000),
        row(2, 11, 7, None, 1_000),
        row(4, 12, 8, None, 1_000),
    ];
    assert_eq!(write(&w, &batch, 0).await, [None; 4]);
    let more = [row(5, 10, 9, None, 1_100), row(2_000, 12, 9, None, 1_100)];
    assert_eq!(write(&w, &more, 0).await, [None; 2]);
    // Channel 12 removed meanwhile: author 9's read state there is not written.
    removed.channel(12);
    // Written when the mark moves up: channel 10 full (its waiting ids at their cap), due
    // with the next commit, past `MARK_EVERY`. That commit's own message waits on.
    std::thread::sleep(MARK_EVERY + std::time::Duration::from_millis(50));
    let full: Vec<MessageRow> = (6..6 + unlisted::CHANNEL_CAP as i64)
        .map(|id| row(id, 10, 9, None, 1_200))
        .collect();
    write(&w, &full, 0).await;
    write(&w, &[row(1_000, 11, 9, None, 1_300)], 0).await;
    drop(w);
    let mut q = conn
        .prepare(
            "SELECT user_id, channel_id, last_read_id, own_last_id FROM read_states ORDER BY 1, 2",
        )
        .unwrap();
    let states: Vec<(i64, i64, i64, Option<i64>)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // What was acknowledged stays; an own message never moves back.
    assert_eq!(
        states,
        [
            (7, 10, 0, Some(3)),
            (7, 11, 50, Some(2)),
            (8, 12, 0, Some(100)),
            (9, 10, 0, Some(5 + unlisted::CHANNEL_CAP as i64)),
        ]
    );
}

#[tokio::test]
async fn statements_that_cannot_be_prepared_fail_the_batch_and_are_tried_again() {
    let path = temp_db("prepare");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE message_role_mentions")
        .unwrap();
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    let refused = w
        .write(vec![msg(1, 10, "a", 1_000)], 0)
        .await
        .1
        .unwrap_err();
    assert!(
        refused.to_string().contains("message_role_mentions"),
        "{refused}"
    );
    assert_eq!(stored(&path), []);
    conn.execute_batch(
        "CREATE TABLE message_role_mentions (role_id INTEGER, channel_id INTEGER,
            message_id INTEGER)",
    )
    .unwrap();
    assert_eq!(write(&w, &[msg(2, 10, "a", 1_100)], 0).await, [None]);
    assert_eq!(stored(&path), [(2, Some("a".into()))]);
}

#[tokio::test]
async fn plain_and_full_messages_read_back_as_written() {
    let path = temp_db("columns");
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    let plain = row(1, 10, 7, Some("a"), 1_000);
    let mut full = row(30, 10, 7, None, 1_100);
    full.reply_to = Some(1);
    full.mentions = "8,9".into();
    full.mention_roles = "4".into();
    full.mention_everyone = true;
    full.pinned_at = Some(1_200);
    full.edited_at = Some(1_300);
    assert!(is_plain(&plain) && !is_plain(&full), "one of each insert");
    // A run of 20 plain messages (statements of 16 and 4 rows), the full one, 3 more.
    let batch: Vec<MessageRow> = std::iter::once(plain)
        .chain((2..=20).map(|id| row(id, 11, 8, None, 1_000 + id)))
        .chain([full])
        .chain((31..=33).map(|id| row(id, 12, 9, Some(&format!("n{id}")), 1_200)))
        .collect();
    assert_eq!(write(&w, &batch, 0).await, vec![None; 24]);
    drop(w);
    let conn = Connection::open(&path).unwrap();
    let mut q = conn
        .prepare(&format!("SELECT {COLUMNS} FROM messages ORDER BY id"))
        .unwrap();
    let back: Vec<MessageRow> = q
        .query_map([], read_row)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(format!("{back:?}"), format!("{batch:?}"));
}

#[tokio::test]
async fn a_message_whose_channel_or_author_is_missing_or_removed_is_refused() {
    let path = temp_db("parents");
    let removed = Arc::new(Removed::default());
    let w = SqliteWriter::start(&path, Arc::clone(&removed), Default::default()).unwrap();
    let refused = |outcome: Outcome| match outcome {
        Err(e) => assert!(matches!(e, StoreError::MissingParent(_)), "{e}"),
        Ok(v) => panic!("stored: {v:?}"),
    };
    assert_eq!(write(&w, &[msg(1, 10, "a", 1_000)], 0).await, [None]);
    // A channel and an author that do not exist; then channel 10, found before, and
    // the server of channel 11 (every test row's is 1) marked removed.
    refused(w.write(vec![msg(2, 99, "b", 1_000)], 0).await.1);
    refused(w.write(vec![row(3, 10, 98, None, 1_000)], 0).await.1);
    removed.channel(10);
    refused(w.write(vec![msg(4, 10, "c", 1_000)], 0).await.1);
    assert_eq!(write(&w, &[msg(5, 11, "d", 1_000)], 0).await, [None]);
    removed.server(1);
    refused(w.write(vec![msg(6, 11, "e", 1_000)], 0).await.1);
    drop(w);
    assert_eq!(
        stored(&path),
        [(1, Some("a".into())), (5, Some("d".into()))]
    );
}

#[tokio::test]
async fn a_repeated_nonce_is_recognised_from_memory_and_after_a_restart() {
    let path = temp_db("nonces");
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    assert_eq!(write(&w, &[msg(1, 10, "a", 1_000)], 0).await, [None]);
    assert_eq!(write(&w, &[msg(2, 10, "a", 1_100)], 0).await, [Some(1)]);
    drop(w);

    // A new writer reloads the window's nonces from the messages.
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    assert_eq!(
        write(&w, &[msg(3, 10, "a", 1_200), msg(4, 10, "b", 1_200)], 500).await,
        [Some(1), None]
    );
    // Used in another channel, the nonce is taken over: the original lets go of it.
    assert_eq!(write(&w, &[msg(5, 11, "a", 1_300)], 500).await, [None]);
    assert_eq!(write(&w, &[msg(6, 11, "a", 1_400)], 500).await, [Some(5)]);
    drop(w);
    assert_eq!(
        stored(&path),
        [(1, None), (4, Some("b".into())), (5, Some("a".into()))]
    );
}

#[tokio::test]
async fn a_failed_batch_stores_nothing_remembers_nothing_and_the_writer_goes_on() {
    let path = temp_db("rollback");
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    assert_eq!(write(&w, &[msg(1, 10, "a", 1_000)], 0).await, [None]);
    // Message 2 is fine, but the batch also repeats id 1 (with a nonce of its own, so
    // not as a repeated send): the insert fails and the whole batch with it.
    let failed = w
        .write(vec![msg(2, 10, "b", 1_100), msg(1, 10, "c", 1_100)], 0)
        .await
        .1;
    assert!(failed.is_err(), "{failed:?}");
    // The transaction was ended: the next batch commits, and nonce "b" was never taken.
    assert_eq!(
        write(&w, &[msg(3, 10, "b", 1_200), msg(4, 10, "a", 1_200)], 0).await,
        [None, Some(1)]
    );
    drop(w);
    assert_eq!(
        stored(&path),
        [(1, Some("a".into())), (3, Some("b".into()))]
    );
}

#[tokio::test]
async fn a_deleted_or_forgotten_holder_does_not_count() {
    let path = temp_db("forgotten");
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    assert_eq!(write(&w, &[msg(1, 10, "a", 1_000)], 0).await, [None]);
    Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM messages WHERE id = 1", [])
        .unwrap();
    assert_eq!(write(&w, &[msg(2, 10, "a", 1_100)], 0).await, [None]);
    // Past the window (messages before 2,000 forgotten) the nonce is new again.
    assert_eq!(write(&w, &[msg(3, 10, "a", 5_000)], 2_000).await, [None]);
    drop(w);
    // Reloading reads only the window: message 3, not 2.
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    assert_eq!(write(&w, &[msg(4, 10, "a", 5_100)], 4_000).await, [Some(3)]);
}

#[tokio::test]
async fn large_batches_are_synced_apart_stored_in_turn_and_answered_once_durable() {
    use crate::messages::log_sync::HANDED_OVER;
    use std::sync::atomic::Ordering;
    let path = temp_db("submitted");
    let w = SqliteWriter::start(&path, Arc::default(), Default::default()).unwrap();
    let nonce = |i: i64| format!("n{i}");
    let first: Vec<MessageRow> = (1..=40).map(|i| msg(i, 10, &nonce(i), 1_000)).collect();
    // The first's first nonce again, then new ones.
    let second: Vec<MessageRow> = (100..140)
        .map(|i| msg(i, 10, &nonce(if i == 100 { 1 } else { i }), 1_000))
        .collect();
    let handed_over = HANDED_OVER.load(Ordering::Relaxed);
    // Handed over together: stored in the order they came.
    let first = w.submit(first, 0).unwrap();
    let second = w.submit(second, 0).unwrap();
    let (back, outcome) = first.await;
    assert_eq!((back.len(), outcome.unwrap().len()), (40, 40));
    let (back, outcome) = second.await;
    let repeats: Vec<Option<i64>> = outcome
        .unwrap()
        .iter()
        .map(|d| d.as_ref().map(|m| m.id))
        .collect();
    assert_eq!((back.len(), &repeats[..2]), (40, &[Some(1), None][..]));
    assert!(repeats[2..].iter().all(Option::is_none));
    assert!(
        HANDED_OVER.load(Ordering::Relaxed) >= handed_over + 2,
        "both were synced by the sync thread"
    );
    assert_eq!(
        stored(&path).len(),
        79,
        "the repeated nonce is not stored again"
    );
}
