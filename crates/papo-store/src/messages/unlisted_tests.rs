//! SQLite's messages waiting for their channel's list, through the store's public reads: a
//! history across what is listed and what waits, a restart, and deletions.

use papo_core::id::{ChannelId, ServerId};

use super::test_support::{ONE_SERVER, exec, row, scalar, sqlite_db_at, temp_db};
use super::unlisted::LAG;
use super::{Page, history, insert_batch, last_id};
use crate::Db;

async fn open(path: &std::path::Path) -> Db {
    let db = sqlite_db_at(path).await;
    db.migrate().await.unwrap();
    db
}

/// Stores messages `ids` in turn in channels 20 and 21 (even ids in 20), 200 a commit.
async fn store(db: &Db, ids: std::ops::Range<i64>) {
    store_in(db, ids, |id| 20 + id % 2).await;
}

/// Stores messages `ids`, each in the channel `channel` gives it, 200 a commit.
async fn store_in(db: &Db, ids: std::ops::Range<i64>, channel: impl Fn(i64) -> i64) {
    let rows: Vec<_> = ids
        .map(|id| {
            let mut m = row(id, channel(id), 1, None, id);
            m.server_id = 10;
            m
        })
        .collect();
    for chunk in rows.chunks(200) {
        for out in insert_batch(db, chunk.to_vec(), 0).await {
            out.unwrap();
        }
    }
}

async fn page(db: &Db, channel: i64, page: Page, limit: i64) -> Vec<i64> {
    let rows = history(db, ChannelId::from_i64(channel), page, limit).await;
    rows.unwrap().iter().map(|m| m.id).collect()
}

/// What channel 20's history should read: its ids (even ones of `all`) that `keep` accepts,
/// newest first, `limit` of them from the side `newest_first` says.
fn expected(all: &[i64], keep: impl Fn(i64) -> bool, limit: usize, newest_first: bool) -> Vec<i64> {
    let mut ids: Vec<i64> = all
        .iter()
        .copied()
        .filter(|id| id % 2 == 0 && keep(*id))
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    if newest_first {
        ids.truncate(limit);
    } else {
        ids = ids[ids.len().saturating_sub(limit)..].to_vec();
    }
    ids
}

#[tokio::test]
async fn histories_span_listed_and_waiting_messages_through_a_restart_and_deletions() {
    let path = temp_db("unlisted");
    let db = open(&path).await;
    exec(&db, ONE_SERVER).await.unwrap();
    let n = LAG as i64 + 1_000;
    // The mark goes down to the first message at once (every waiting id is at least the
    // mark), and up at most every `MARK_EVERY`.
    let mark = async || scalar(&db, "SELECT below FROM channel_messages_mark").await;
    store(&db, 1_000..1_000 + n).await;
    let oldest = db.unlisted().unwrap().lock().all_ids().min().unwrap();
    assert!(mark().await <= oldest, "the mark is above a waiting id");
    std::thread::sleep(std::time::Duration::from_millis(250));
    let end = 1_000 + n + LAG as i64;
    store(&db, 1_000 + n..end).await;
    let mut all: Vec<i64> = (1_000..end).collect();

    // Some are listed, the rest wait, none is both or neither.
    let listed = scalar(&db, "SELECT COUNT(*) FROM channel_messages").await;
    let waiting = db.unlisted().unwrap().lock().len() as i64;
    assert!(
        listed > 0 && waiting > 0,
        "{listed} listed, {waiting} waiting"
    );
    assert_eq!(listed + waiting, all.len() as i64);
    let oldest_waiting = db
        .unlisted()
        .unwrap()
        .lock()
        .min_after(&Vec::new())
        .unwrap();
    let mark = mark().await;
    assert!(
        mark > 1_000 && mark <= oldest_waiting,
        "{mark}, {oldest_waiting}"
    );

    // Pages on either side of the boundary and across it, each way.
    let reads = |db: Db, all: Vec<i64>| async move {
        let b = oldest_waiting;
        assert_eq!(
            page(&db, 20, Page::Latest, 50).await,
            expected(&all, |_| true, 50, true)
        );
        for pivot in [b - 41, b, b + 41] {
            let before = page(&db, 20, Page::Before(pivot), 50).await;
            assert_eq!(
                before,
                expected(&all, |id| id < pivot, 50, true),
                "before {pivot}"
            );
            let after = page(&db, 20, Page::After(pivot), 50).await;
            assert_eq!(
                after,
                expected(&all, |id| id > pivot, 50, false),
                "after {pivot}"
            );
        }
        let newest = all.iter().copied().filter(|id| id % 2 == 0).max();
        assert_eq!(last_id(&db, ChannelId::from_i64(20)).await.unwrap(), newest);
    };
    reads(db.clone(), all.clone()).await;

    // A restart finds what waited.
    db.close().await;
    let db = open(&path).await;
    assert_eq!(db.unlisted().unwrap().lock().len() as i64, waiting);
    reads(db.clone(), all.clone()).await;

    // A waiting message deleted is gone from the history and never listed.
    let newest = *all.iter().filter(|id| *id % 2 == 0).max().unwrap();
    let deleted = super::delete(&db, ChannelId::from_i64(20), &[newest])
        .await
        .unwrap();
    assert_eq!(deleted, [newest]);
    all.retain(|id| *id != newest);
    assert_eq!(
        last_id(&db, ChannelId::from_i64(20)).await.unwrap(),
        Some(newest - 2)
    );
    store(&db, end..end + n).await;
    all.extend(end..end + n);
    let listed_deleted = format!("SELECT COUNT(*) FROM channel_messages WHERE id = {newest}");
    assert_eq!(scalar(&db, &listed_deleted).await, 0);
    assert_eq!(
        page(&db, 20, Page::Latest, 50).await,
        expected(&all, |_| true, 50, true)
    );
    let listed = scalar(&db, "SELECT COUNT(*) FROM channel_messages").await;
    let waiting = db.unlisted().unwrap().lock().len() as i64;
    assert_eq!(listed + waiting, all.len() as i64);

    // A channel's deletion takes its listed and its waiting messages.
    crate::servers::delete_channel(&db, ServerId::from_i64(10), ChannelId::from_i64(21))
        .await
        .unwrap();
    let in_21 = "SELECT COUNT(*) FROM messages WHERE channel_id = 21";
    assert_eq!(scalar(&db, in_21).await, 0);
    let in_20 = all.iter().filter(|id| *id % 2 == 0).count() as i64;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM messages").await, in_20);
    // Two waiting messages whose deletion began: one deleted (its deletion's commit not yet
    // told), one whose deletion did not commit. Entered, only the one still there is listed.
    let waiting_in_20 = db.unlisted().unwrap().lock().ids(20).to_vec();
    let (gone, kept) = (waiting_in_20[0], waiting_in_20[1]);
    db.unlisted()
        .unwrap()
        .lock()
        .deleting([(20, gone), (20, kept)]);
    exec(&db, &format!("DELETE FROM messages WHERE id = {gone}"))
        .await
        .unwrap();
    // What waited of channel 21 comes due and is not listed.
    let more = end + n..end + n + 2 * LAG as i64;
    store_in(&db, more.clone(), |_| 20).await;
    let listed_in_21 = "SELECT COUNT(*) FROM channel_messages WHERE channel_id = 21";
    assert_eq!(scalar(&db, listed_in_21).await, 0);
    assert_eq!(db.unlisted().unwrap().lock().ids(21), [] as [i64; 0]);
    let newest_50: Vec<i64> = more.rev().take(50).collect();
    assert_eq!(page(&db, 20, Page::Latest, 50).await, newest_50);
    assert!(
        db.unlisted()
            .unwrap()
            .lock()
            .ids(20)
            .iter()
            .all(|id| *id > kept)
    );
    let listed = |id: i64| format!("SELECT COUNT(*) FROM channel_messages WHERE id = {id}");
    assert_eq!(scalar(&db, &listed(gone)).await, 0);
    assert_eq!(scalar(&db, &listed(kept)).await, 1);
    let in_20 = in_20 - 1 + 2 * LAG as i64;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM messages").await, in_20);
    db.close().await;
}

#[tokio::test]
async fn authors_read_states_are_written_as_the_mark_moves_and_read_before() {
    let path = temp_db("own-reads");
    let db = open(&path).await;
    exec(&db, ONE_SERVER).await.unwrap();
    exec(
        &db,
        "INSERT INTO members (server_id, user_id, joined_at) VALUES (10, 1, 0)",
    )
    .await
    .unwrap();
    let own = async |db: &Db, channel: i64| {
        crate::read_states::own_newest(db, 1, ChannelId::from_i64(channel))
            .await
            .unwrap()
    };
    let stored = async |db: &Db| {
        scalar(
            db,
            "SELECT COALESCE(MAX(own_last_id), 0) FROM read_states \
             WHERE user_id = 1 AND channel_id = 20",
        )
        .await
    };
    let read_in_20 = async |db: &Db| {
        let rows = crate::servers::channels_of_user(db, papo_core::id::UserId::from_i64(1));
        let rows = rows.await.unwrap();
        let row = rows.iter().find(|r| r.channel_id == Some(20)).unwrap();
        row.last_read_id
    };

    // Author 1's messages, even ids in channel 20: nothing written yet, all of it read.
    store(&db, 1_000..1_010).await;
    assert_eq!(stored(&db).await, 0, "written before the mark moved");
    assert_eq!(own(&db, 20).await, Some(1_008));
    assert_eq!(own(&db, 21).await, Some(1_009));
    assert_eq!(read_in_20(&db).await, Some(1_008));

    // A restart finds them among the messages from the mark on.
    db.close().await;
    let db = open(&path).await;
    assert_eq!(own(&db, 20).await, Some(1_008));
    assert_eq!(read_in_20(&db).await, Some(1_008));

    // Channels entered and the mark moved up (at most every 100 ms): what waited is written
    // with it, and the newest still waits, read all the same.
    store(&db, 1_010..1_600).await;
    std::thread::sleep(std::time::Duration::from_millis(150));
    store(&db, 1_600..2_400).await;
    let written = stored(&db).await;
    assert!((1_010..2_398).contains(&written), "{written}");
    assert_eq!(own(&db, 20).await, Some(2_398));
    assert_eq!(read_in_20(&db).await, Some(2_398));
    db.close().await;
    let db = open(&path).await;
    assert_eq!(own(&db, 20).await, Some(2_398));
    db.close().await;
}
