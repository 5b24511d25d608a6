//! The nonces SQLite's message writer remembers, in memory instead of a unique index.
//!
//! A nonce makes a send idempotent: the same author repeating it in the same channel within
//! the window gets the original message back. PostgreSQL checks it against a unique index
//! (several nodes may write). On SQLite one thread writes every message, so it can remember
//! who holds each recent nonce itself: the index was one more B-tree leaf written and synced
//! per message, at a random place (S4 in docs/benchmarks.md).
//!
//! What is remembered is only a candidate: the writer reads the holder back by its id and
//! compares author and nonce (the key is a 64-bit hash, and the message may have been deleted
//! since). At start the writer reloads the window's nonces from the messages themselves, so a
//! retry across a restart is still recognised.

use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use foldhash::HashMap;
use foldhash::fast::RandomState;

/// Most nonces remembered, about 60 bytes each (a map slot of 16 bytes and its control
/// byte, the map between half and seven eighths full, and 24 in the queue): 30 MB at most,
/// 43 MB while the key was the pair. Only more than this many sends with a nonce within the
/// window (833 a second for ten minutes) reach it; the oldest are forgotten first.
pub(crate) const CAPACITY: usize = 500_000;

/// A hash of `(author, nonce)`: 8 bytes instead of the pair's 16, so that more of the map
/// stays in the processor's caches (at S4's 50k msg/s it holds 500,000 nonces, and each
/// message looked one up, remembered one and forgot one: 12 % of the writer's time, nearly
/// all of it waiting for memory). Two pairs with the same hash are possible, as before with
/// two nonces of one author: a holder is read back and compared before it counts.
type Key = u64;

/// Who took which nonce, newest last.
pub(crate) struct RecentNonces {
    hasher: RandomState,
    holders: HashMap<Key, i64>,
    order: VecDeque<Taken>,
    capacity: usize,
}

struct Taken {
    created_at: i64,
    key: Key,
    id: i64,
}

impl RecentNonces {
    /// Remembers at most `capacity` nonces.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            hasher: RandomState::default(),
            holders: HashMap::default(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn key(&self, author: i64, nonce: &str) -> Key {
        self.hasher.hash_one((author, nonce))
    }

    /// The id of the message that last took `nonce` for `author`, if remembered: to be read
    /// back and compared before it counts.
    pub(crate) fn holder(&self, author: i64, nonce: &str) -> Option<i64> {
        self.holders.get(&self.key(author, nonce)).copied()
    }

    /// Notes that message `id` (sent at `created_at`, Unix ms) took `nonce` for `author`.
    pub(crate) fn remember(&mut self, author: i64, nonce: &str, id: i64, created_at: i64) {
        let key = self.key(author, nonce);
        self.holders.insert(key, id);
        self.order.push_back(Taken {
            created_at,
            key,
            id,
        });
        while self.order.len() > self.capacity {
            self.drop_oldest();
        }
    }

    /// Forgets the nonces taken before `since` (Unix ms).
    pub(crate) fn forget_before(&mut self, since: i64) {
        while self.order.front().is_some_and(|t| t.created_at < since) {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some(t) = self.order.pop_front()
            && let Entry::Occupied(held) = self.holders.entry(t.key)
            // A nonce taken again since is held by the newer message: keep that.
            && *held.get() == t.id
        {
            held.remove();
        }
    }

    /// Nonces remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.holders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_holder_of_an_authors_nonce_is_found() {
        let mut r = RecentNonces::new(10);
        r.remember(7, "n", 1, 1_000);
        r.remember(8, "n", 2, 1_000);
        assert_eq!(r.holder(7, "n"), Some(1));
        assert_eq!(
            r.holder(8, "n"),
            Some(2),
            "another author's nonce is theirs"
        );
        assert_eq!(r.holder(7, "m"), None);
        r.remember(7, "n", 3, 2_000);
        assert_eq!(r.holder(7, "n"), Some(3));
    }

    #[test]
    fn nonces_older_than_the_window_are_forgotten() {
        let mut r = RecentNonces::new(10);
        r.remember(7, "a", 1, 1_000);
        r.remember(7, "b", 2, 2_000);
        r.forget_before(1_500);
        assert_eq!(r.holder(7, "a"), None);
        assert_eq!(r.holder(7, "b"), Some(2));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn forgetting_an_old_holder_keeps_the_newer_one() {
        let mut r = RecentNonces::new(10);
        r.remember(7, "a", 1, 1_000);
        r.remember(7, "a", 2, 2_000);
        r.forget_before(1_500);
        assert_eq!(r.holder(7, "a"), Some(2));
        r.forget_before(2_500);
        assert_eq!(r.holder(7, "a"), None);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn past_capacity_the_oldest_go_first() {
        let mut r = RecentNonces::new(2);
        r.remember(7, "a", 1, 1_000);
        r.remember(7, "b", 2, 1_001);
        r.remember(7, "c", 3, 1_002);
        assert_eq!(r.holder(7, "a"), None);
        assert_eq!(r.holder(7, "b"), Some(2));
        assert_eq!(r.holder(7, "c"), Some(3));
        assert_eq!(r.len(), 2);
    }
}
