//! SQLite: messages stored but not yet entered in their channel's list (`channel_messages`),
//! and how a restart finds them again.
//!
//! A message's entry in its channel's list lands in that channel's newest leaf, and with many
//! channels busy each message of a commit lands in a different leaf, logged and synced whole.
//! So SQLite's message writer stores the message itself at once (its row is what makes it
//! durable) and enters it in the list later, a few channels at a time, each channel with
//! all its waiting messages: one leaf written for many entries. Readers add what waits here to
//! what they read from the list. S4 at 35k msg/s (*after 15:43* in
//! docs/benchmarks/s4-what-was-tried.md): the writer ~1.8 µs a message less, about half the
//! disk's writes.
//!
//! The writer changes it only after the commit that did so: a message is noted once its row
//! is committed, and leaves once its entry is. A reader copies what it needs before it
//! reads the database, so an entry moved in between is in one or both (both are merged),
//! never in neither. A deletion notes its ids before its commit ([`Unlisted::deleting`]),
//! so that the writer enters them only if their rows are still there, and forgets them
//! after it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use foldhash::{HashMap, HashSet};
use std::collections::hash_map::Entry;

/// Messages waiting beyond which the writer enters the oldest channels' ones in the commit
/// that finds them: about sixteen per channel with S4's thousand busy channels, so that each
/// leaf written enters about sixteen. S4 at 35k msg/s on an AMD EPYC, four alternated pairs
/// against 4,096 (*More ids waiting* in docs/benchmarks/s4-writer.md): SQLite's writer
/// 5.6–6.0 µs a message against 6.6–6.8, the checkpoint 0.6 against 0.9.
pub(crate) const LAG: usize = 16_384;

/// Most ids one channel keeps waiting: a channel that reaches it is entered by the next
/// commit, whatever its place. It bounds what a read of a busy channel merges and what one
/// commit enters for one channel (with 2 KiB pages, about two leaves of entries).
pub(crate) const CHANNEL_CAP: usize = 256;

/// At most this many entries a commit, as a multiple of its own messages: the backlog of a
/// burst is worked off over the next commits instead of in one long one.
pub(crate) const CATCH_UP: usize = 4;

/// What waits, shared by SQLite's message writer (which changes it) and its readers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shared(Arc<Mutex<Unlisted>>);

impl Shared {
    /// The lock (a panic while holding it leaves nothing half-changed that matters more
    /// than reading on).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Unlisted> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What waits, by channel; channels in the order their oldest waiting message arrived.
#[derive(Debug, Default)]
pub(crate) struct Unlisted {
    by_channel: HashMap<i64, Waiting>,
    /// Channels in the order their oldest waiting message arrived, each with the turn it was
    /// queued in. A place whose channel was entered out of turn (it reached [`CHANNEL_CAP`])
    /// is stale: skipped, and dropped once it reaches the front.
    order: VecDeque<(i64, u64)>,
    /// Channels that reached [`CHANNEL_CAP`], due with the next commit.
    full: Vec<i64>,
    /// Turns given so far.
    turns: u64,
    total: usize,
    /// Waiting ids whose deletion began (its commit may yet fail): entered only if their
    /// row is still there.
    deleted: HashSet<i64>,
    /// Authors' newest messages not yet in their read states, written when the mark moves
    /// up (every message below it has its author's read state written).
    pub(crate) own: super::own_reads::OwnReads,
}

/// One channel's waiting ids.
#[derive(Debug)]
struct Waiting {
    /// In the order they were stored.
    ids: Vec<i64>,
    /// The turn of its place in the order.
    turn: u64,
}

/// Channels whose entries a commit writes: each with every id it has waiting.
pub(crate) type Due = Vec<(i64, Vec<i64>)>;

impl Unlisted {
    /// Notes a committed message.
    pub(crate) fn note(&mut self, channel: i64, id: i64) {
        let waiting = match self.by_channel.entry(channel) {
            Entry::Occupied(w) => {
                let w = w.into_mut();
                w.ids.push(id);
                w.ids.len()
            }
            Entry::Vacant(w) => {
                self.turns += 1;
                let turn = self.turns;
                w.insert(Waiting {
                    ids: vec![id],
                    turn,
                });
                self.order.push_back((channel, turn));
                1
            }
        };
        if waiting == CHANNEL_CAP {
            self.full.push(channel);
        }
        self.total += 1;
    }

    /// Whether a place in the order is its channel's (not left by an entry out of turn).
    fn holds(&self, (channel, turn): (i64, u64)) -> bool {
        self.by_channel
            .get(&channel)
            .is_some_and(|w| w.turn == turn)
    }

    /// Notes messages being deleted, by the deleting transaction once it holds the write
    /// lock (so not while the writer is inside a commit), before its own commit.
    pub(crate) fn deleting(&mut self, deleted: impl IntoIterator<Item = (i64, i64)>) {
        for (channel, id) in deleted {
            if self.ids(channel).contains(&id) {
                self.deleted.insert(id);
            }
        }
    }

    /// Of `due`'s ids, those whose deletion began: each is entered only if its row is there.
    pub(crate) fn maybe_deleted(&self, due: &Due) -> HashSet<i64> {
        if self.deleted.is_empty() {
            return HashSet::default();
        }
        let ids = due.iter().flat_map(|(_, ids)| ids);
        ids.filter(|id| self.deleted.contains(id))
            .copied()
            .collect()
    }

    /// Forgets deleted messages (after the deletion's commit; a channel stays queued even
    /// if nothing of it is left).
    pub(crate) fn forget(&mut self, channel: i64, ids: &[i64]) {
        if let Some(waiting) = self.by_channel.get_mut(&channel) {
            let before = waiting.ids.len();
            waiting.ids.retain(|id| !ids.contains(id));
            self.total -= before - waiting.ids.len();
        }
        for id in ids {
            self.deleted.remove(id);
        }
    }

    /// The channels a commit of `fresh` messages should enter: those at [`CHANNEL_CAP`], then
    /// the oldest while more than `lag` would be left waiting, up to [`CATCH_UP`] times
    /// `fresh` entries (at least one channel). A commit that enters a full channel enters the
    /// oldest one too, so that a channel kept busy below the lag by its cap cannot hold the
    /// queue, and the mark, still behind a quiet one.
    pub(crate) fn due(&self, fresh: usize, lag: usize) -> Due {
        let mut due: Due = Vec::new();
        let most = CATCH_UP * fresh.max(1);
        let mut taken = 0;
        for channel in &self.full {
            if taken > 0 && taken >= most {
                break;
            }
            if let Some(w) = self.by_channel.get(channel)
                && !due.iter().any(|(c, _)| c == channel)
            {
                due.push((*channel, w.ids.clone()));
                taken += w.ids.len();
            }
        }
        let mut oldest_owed = !due.is_empty();
        for &(channel, turn) in &self.order {
            let left = self.total + fresh - taken;
            if !oldest_owed && (left <= lag || (taken > 0 && taken >= most)) {
                break;
            }
            if !self.holds((channel, turn)) || self.full.contains(&channel) {
                continue;
            }
            let ids = &self.by_channel[&channel].ids;
            due.push((channel, ids.clone()));
            taken += ids.len();
            oldest_owed = false;
        }
        due
    }

    /// Takes out what [`Unlisted::due`] returned, once its commit is done. Nothing is noted
    /// in between (both on the writer's thread).
    pub(crate) fn entered(&mut self, due: &Due) {
        for (channel, _) in due {
            if let Some(w) = self.by_channel.remove(channel) {
                self.total -= w.ids.len();
                if !self.deleted.is_empty() {
                    for id in &w.ids {
                        self.deleted.remove(id);
                    }
                }
            }
        }
        let by_channel = &self.by_channel;
        self.full.retain(|c| by_channel.contains_key(c));
        while let Some(&place) = self.order.front()
            && !self.holds(place)
        {
            self.order.pop_front();
        }
    }

    /// The ids waiting in `channel`, in the order they were stored.
    pub(crate) fn ids(&self, channel: i64) -> &[i64] {
        self.by_channel
            .get(&channel)
            .map_or(&[], |w| w.ids.as_slice())
    }

    /// The newest id waiting in `channel`.
    pub(crate) fn newest(&self, channel: i64) -> Option<i64> {
        self.ids(channel).iter().copied().max()
    }

    /// Every waiting id.
    pub(crate) fn all_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.by_channel.values().flat_map(|w| w.ids.iter().copied())
    }

    /// The smallest id left waiting once `due` is entered: with the new messages', the mark
    /// a restart starts from ([`recover`]). Every waiting id is looked at (ids are made
    /// before they are stored, so a later channel may hold an older one): some tens of
    /// microseconds at [`LAG`], at most every `MARK_EVERY` (the writer's).
    pub(crate) fn min_after(&self, due: &Due) -> Option<i64> {
        let entering: HashSet<i64> = due.iter().map(|(c, _)| *c).collect();
        self.by_channel
            .iter()
            .filter(|(c, _)| !entering.contains(*c))
            .filter_map(|(_, w)| w.ids.iter().copied().min())
            .min()
    }

    /// Each channel's newest waiting id.
    pub(crate) fn newest_by_channel(&self) -> HashMap<i64, i64> {
        self.by_channel
            .iter()
            .filter_map(|(c, w)| Some((*c, w.ids.iter().copied().max()?)))
            .collect()
    }

    /// How many ids wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.total
    }
}

/// The mark: every message with a smaller id is in its channel's list (`i64::MAX`: all are).
pub(crate) fn mark(c: &rusqlite::Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT below FROM channel_messages_mark", [], |r| r.get(0))
}

/// What a restart finds waiting among the messages from the mark on, oldest first: those
/// not in their channel's list, and each author's newest in a channel for their read state
/// (written already or not: writing it again changes nothing).
pub(crate) fn recover(c: &rusqlite::Connection) -> rusqlite::Result<Unlisted> {
    let below = mark(c)?;
    let mut query = c.prepare(
        "SELECT channel_id, id, author_id, server_id, EXISTS (SELECT 1 FROM channel_messages l \
         WHERE l.channel_id = m.channel_id AND l.id = m.id) FROM messages m WHERE m.id >= ?1 \
         ORDER BY m.id",
    )?;
    let mut found = Unlisted::default();
    let mut rows = query.query([below])?;
    while let Some(row) = rows.next()? {
        let (channel, id) = (row.get(0)?, row.get(1)?);
        if !row.get::<_, bool>(4)? {
            found.note(channel, id);
        }
        found.own.note(row.get(2)?, channel, row.get(3)?, id);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(notes: &[(i64, i64)]) -> Unlisted {
        let mut w = Unlisted::default();
        for (c, id) in notes {
            w.note(*c, *id);
        }
        w
    }

    #[test]
    fn nothing_is_due_within_the_lag() {
        let w = waiting(&[(1, 10), (2, 11), (1, 12)]);
        assert_eq!(w.due(1, 4), Due::new());
        assert_eq!(w.len(), 3);
        assert_eq!(w.ids(1), [10, 12]);
        assert_eq!(w.newest(1), Some(12));
        assert_eq!(w.newest(3), None);
    }

    #[test]
    fn the_oldest_channels_are_due_whole_until_the_lag_is_kept() {
        let w = waiting(&[(1, 10), (2, 11), (1, 12), (3, 13), (2, 14)]);
        // 5 waiting + 2 coming, lag 3: channel 1 (2 ids) leaves 5, channel 2 (2) leaves 3.
        let due = w.due(2, 3);
        assert_eq!(due, vec![(1, vec![10, 12]), (2, vec![11, 14])]);
        assert_eq!(w.min_after(&due), Some(13));
        assert_eq!(w.min_after(&Due::new()), Some(10));
        assert_eq!(w.newest_by_channel().get(&2), Some(&14));
    }

    #[test]
    fn the_mark_is_the_smallest_waiting_id_whichever_channel_holds_it() {
        // Ids are made before they are stored: a later channel may hold an older one.
        let w = waiting(&[(1, 20), (2, 5), (1, 21)]);
        assert_eq!(w.min_after(&Due::new()), Some(5));
        assert_eq!(w.min_after(&w.due(0, 1)), Some(5));
        assert_eq!(w.min_after(&w.due(0, 0)), None);
    }

    #[test]
    fn a_commit_enters_at_most_catch_up_times_its_own_messages() {
        let notes: Vec<(i64, i64)> = (0..20).map(|i| (i, 100 + i)).collect();
        let w = waiting(&notes);
        let due = w.due(1, 0);
        assert_eq!(due.len(), CATCH_UP);
    }

    #[test]
    fn a_channel_at_its_cap_is_due_at_once_with_the_oldest_channel() {
        let mut w = waiting(&[(1, 10), (2, 11)]);
        for id in 100..99 + CHANNEL_CAP as i64 {
            w.note(3, id);
        }
        assert_eq!(w.due(0, LAG), Due::new(), "below the cap and the lag");
        w.note(3, 99_999);
        let due = w.due(0, LAG);
        let channels: Vec<i64> = due.iter().map(|(c, _)| *c).collect();
        assert_eq!(channels, [3, 1]);
        assert_eq!(due[0].1.len(), CHANNEL_CAP);
        assert_eq!(w.min_after(&due), Some(11));
        w.entered(&due);
        assert_eq!(w.len(), 1);
        assert_eq!(w.ids(3), [] as [i64; 0]);
        assert_eq!(w.due(0, 0), vec![(2, vec![11])]);
    }

    #[test]
    fn places_left_by_full_channels_do_not_pile_up() {
        // A quiet channel, and a busy one filled to its cap over and over while a third
        // gets a message now and then: each commit that enters the busy one moves the
        // queue's front on, and the places it left are dropped there.
        let mut w = waiting(&[(1, 1)]);
        let mut id = 10;
        let mut note = |w: &mut Unlisted, channel: i64| {
            w.note(channel, id);
            id += 1;
        };
        for round in 0..50 {
            for _ in 0..CHANNEL_CAP {
                note(&mut w, 2);
            }
            if round % 3 == 0 {
                note(&mut w, 3);
            }
            let due = w.due(CHANNEL_CAP, LAG);
            assert_eq!(due[0].0, 2, "round {round}");
            assert_eq!(due[0].1.len(), CHANNEL_CAP, "round {round}");
            w.entered(&due);
            assert!(w.order.len() <= 2, "round {round}: {:?}", w.order);
            assert!(w.full.is_empty());
        }
        assert_eq!(w.ids(1), [] as [i64; 0], "the quiet channel was entered");
        assert!(w.len() <= 1);
    }

    #[test]
    fn entered_and_deleted_ids_leave_and_a_channel_keeps_its_place_until_entered() {
        let mut w = waiting(&[(1, 10), (2, 11), (1, 12)]);
        let due = w.due(0, 1);
        assert_eq!(due, vec![(1, vec![10, 12])]);
        w.entered(&due);
        assert_eq!(w.len(), 1);
        assert_eq!(w.ids(1), [] as [i64; 0]);
        assert_eq!(w.min_after(&Due::new()), Some(11));
        w.note(1, 15);
        w.deleting([(2, 11), (2, 12), (1, 15)]);
        assert_eq!(
            w.maybe_deleted(&vec![(2, vec![11])]),
            HashSet::from_iter([11])
        );
        w.forget(2, &[11, 99]);
        assert_eq!(w.len(), 1);
        // A deletion that did not commit: its id stays, entered only if its row is there.
        assert_eq!(
            w.maybe_deleted(&vec![(1, vec![15])]),
            HashSet::from_iter([15])
        );
        w.note(2, 16);
        assert_eq!(w.due(0, 1), vec![(2, vec![16])]);
        w.forget(2, &[16]);
        w.note(2, 11);
        let mut all: Vec<i64> = w.all_ids().collect();
        all.sort();
        assert_eq!(all, [11, 15]);
        let due = w.due(0, 1);
        assert_eq!(due, vec![(2, vec![11])]);
        assert_eq!(w.min_after(&due), Some(15));
        w.entered(&due);
        assert_eq!(w.min_after(&Due::new()), Some(15));
    }
}
