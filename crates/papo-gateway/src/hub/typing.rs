//! The typing throttle: a user's `typing_start` in a channel is forwarded at most once per
//! `typing_throttle`, and a message they send there ends it (clients stop showing them as
//! typing when their message comes, so their next keystroke must show them again at once).

use foldhash::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use papo_core::id::UserId;

/// When each (user, channel) last had its typing forwarded.
#[derive(Debug, Default)]
pub(super) struct TypingThrottle {
    last: Mutex<HashMap<(UserId, u64), Instant>>,
    /// Entries in `last`, so that a message sent while nobody types (most of the time, and
    /// every message of the benchmarks) does not take the lock.
    len: AtomicUsize,
}

impl TypingThrottle {
    /// Whether typing in `key` is forwarded at `now`; if so, it is noted.
    pub(super) fn allow(&self, key: (UserId, u64), now: Instant, throttle: Duration) -> bool {
        let mut map = self.last.lock().expect("typing mutex poisoned");
        if map
            .get(&key)
            .is_some_and(|t| now.saturating_duration_since(*t) < throttle)
        {
            return false;
        }
        map.insert(key, now);
        self.len.store(map.len(), Ordering::Relaxed);
        true
    }

    /// `key`'s user sent a message in its channel: their next typing is forwarded at once.
    pub(super) fn ended(&self, key: (UserId, u64)) {
        if self.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut map = self.last.lock().expect("typing mutex poisoned");
        if map.remove(&key).is_some() {
            self.len.store(map.len(), Ordering::Relaxed);
        }
    }

    /// Forgets the entries whose throttle has passed.
    pub(super) fn trim(&self, now: Instant, throttle: Duration) {
        let mut map = self.last.lock().expect("typing mutex poisoned");
        map.retain(|_, t| now.saturating_duration_since(*t) < throttle);
        self.len.store(map.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_sent_lets_the_next_typing_through() {
        let t = TypingThrottle::default();
        let (ana, bo) = ((UserId::from_i64(1), 7), (UserId::from_i64(2), 7));
        let throttle = Duration::from_secs(5);
        let t0 = Instant::now();
        assert!(t.allow(ana, t0, throttle));
        assert!(
            !t.allow(ana, t0 + Duration::from_secs(1), throttle),
            "throttled"
        );
        assert!(t.allow(bo, t0, throttle), "per user");
        t.ended(ana);
        assert!(
            t.allow(ana, t0 + Duration::from_secs(2), throttle),
            "after a send"
        );
        assert!(
            !t.allow(bo, t0 + Duration::from_secs(2), throttle),
            "others keep theirs"
        );
        t.trim(t0 + Duration::from_secs(8), throttle);
        assert_eq!(t.len.load(Ordering::Relaxed), 0);
        t.ended(ana); // nothing to do, and no lock taken
        assert!(t.allow(bo, t0 + Duration::from_secs(8), throttle));
    }
}
