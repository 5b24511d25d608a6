//! Rate limiters: sliding windows keyed by account name or client address, and a burst
//! limiter keyed by user id for messages.
//!
//! In-process: in a cluster each node counts on its own, so the effective limit is at most
//! N times the configured one (a shared Redis-backed counter arrives with the cluster bus).

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// At most `limit` events per `window` for each key (`K`: a string, or a user's id).
pub struct WindowLimiter<K = String> {
    limit: u32,
    window: Duration,
    /// Event times per key, oldest first. A plain mutex: held for microseconds, never across
    /// an await. std's SipHash, not foldhash as in the hot maps: keys come from clients
    /// (the account names tried at login), so the map must stand up to chosen collisions.
    events: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Hash + Eq> WindowLimiter<K> {
    /// A limiter allowing `limit` events per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` if `key` already has `limit` events in the window.
    pub fn check<Q>(&self, key: &Q) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = Instant::now();
        let mut map = self.events.lock().expect("limiter mutex poisoned");
        match map.get_mut(key) {
            Some(q) => self.admits(q, now),
            None => Ok(()),
        }
    }

    /// Drops `q`'s events that left the window; `Err(retry_after)` if `limit` remain.
    fn admits(&self, q: &mut VecDeque<Instant>, now: Instant) -> Result<(), Duration> {
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() as u32 >= self.limit {
            let oldest = *q.front().expect("non-empty when at limit");
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.max(Duration::from_secs(1)));
        }
        Ok(())
    }

    /// Records one event for `key`.
    pub fn record<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let now = Instant::now();
        let mut map = self.events.lock().expect("limiter mutex poisoned");
        // A key seen before (every send after a user's first) needs no owned copy.
        match map.get_mut(key) {
            Some(q) => q.push_back(now),
            None => {
                map.insert(key.to_owned(), VecDeque::from([now]));
            }
        }
    }

    /// Checks, then records: for limits on attempts rather than on failures. One lookup of
    /// the key, under one lock and one reading of the clock (each message sent with no slow
    /// mode comes through here).
    pub fn hit<Q>(&self, key: &Q) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let now = Instant::now();
        let mut map = self.events.lock().expect("limiter mutex poisoned");
        match map.get_mut(key) {
            Some(q) => {
                self.admits(q, now)?;
                q.push_back(now);
            }
            None => {
                map.insert(key.to_owned(), VecDeque::from([now]));
            }
        }
        Ok(())
    }

    /// Forgets `key` (e.g. after a successful login).
    pub fn clear<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.events
            .lock()
            .expect("limiter mutex poisoned")
            .remove(key);
    }

    /// Drops keys whose events have all left the window.
    pub fn prune(&self) {
        let now = Instant::now();
        let window = self.window;
        self.events
            .lock()
            .expect("limiter mutex poisoned")
            .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
    }
}

/// At most `burst` events at once for each key, then `burst` per `window` as time passes:
/// the generic cell rate algorithm, a token bucket kept as one instant per key (when the
/// key's next event is due if its bucket were empty).
///
/// The message limit, which every send goes through. [`WindowLimiter`] keeps the time of
/// each event in the window, so a key's memory grows with its limit and each send pushes
/// and pops at the two ends of its log: with S4's limit (a million per 5 s, so that the
/// benchmark is never refused) that was 3.3 % of tokio's thread at 35k msg/s, most of it
/// cache misses (`perf`, docs/benchmarks.md). Here a key is one instant, read and written in
/// place. It is looser than a window: after a burst, one event every `window / burst`, so
/// up to twice `burst` within some `window`. Right for a send rate, not for login attempts.
pub struct BurstLimiter<K, S = RandomState> {
    /// Between two events once the burst is spent: `window / burst`.
    interval: Duration,
    /// How far ahead of now a key's next slot may be: `burst × interval`.
    tolerance: Duration,
    /// Per key: when its next event would be due with its burst spent.
    due: Mutex<HashMap<K, Instant, S>>,
}

impl<K: Hash + Eq, S: BuildHasher + Default> BurstLimiter<K, S> {
    /// A limiter allowing a burst of `burst` events, then `burst` per `window`.
    pub fn new(burst: u32, window: Duration) -> Self {
        let interval = window / burst.max(1);
        Self {
            interval,
            tolerance: interval * burst.max(1),
            due: Mutex::new(HashMap::default()),
        }
    }

    /// The key's next due time once one more event is recorded at `now`.
    fn after_one(&self, due: Option<Instant>, now: Instant) -> Instant {
        due.map_or(now, |d| d.max(now)) + self.interval
    }

    /// The key's next due time if one more event is admitted at `now`, or how long to wait.
    fn admits(&self, due: Option<Instant>, now: Instant) -> Result<Instant, Duration> {
        let next = self.after_one(due, now);
        match next.checked_duration_since(now + self.tolerance) {
            Some(early) if !early.is_zero() => Err(early.max(Duration::from_secs(1))),
            _ => Ok(next),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Instant, S>> {
        self.due.lock().expect("limiter mutex poisoned")
    }

    /// Sets `key`'s due time to what `next` makes of it (`None`: the key was not seen), in
    /// one lookup; nothing changes if `next` refuses.
    fn update<Q>(
        &self,
        key: &Q,
        next: impl FnOnce(Option<Instant>) -> Result<Instant, Duration>,
    ) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut due = self.lock();
        match due.get_mut(key) {
            Some(d) => *d = next(Some(*d))?,
            None => {
                let d = next(None)?;
                due.insert(key.to_owned(), d);
            }
        }
        Ok(())
    }

    /// `Err(retry_after)` if `key` has spent its burst; records nothing.
    pub fn check<Q>(&self, key: &Q) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = Instant::now();
        self.admits(self.lock().get(key).copied(), now).map(|_| ())
    }

    /// Records one event for `key` (after [`Self::check`]), admitted or not.
    pub fn record<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let now = Instant::now();
        // Recording never refuses: nothing to return.
        let _ = self.update(key, |due| Ok(self.after_one(due, now)));
    }

    /// Checks, then records: one lookup under one lock.
    pub fn hit<Q>(&self, key: &Q) -> Result<(), Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let now = Instant::now();
        self.update(key, |due| self.admits(due, now))
    }

    /// Drops keys whose bucket is full again (as good as never seen).
    pub fn prune(&self) {
        let now = Instant::now();
        self.lock().retain(|_, due| *due > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn limits_within_the_window_and_recovers_after_it() {
        let l = WindowLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
            l.record("a");
        }
        let wait = l.check("a").unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert!(l.check("b").is_ok(), "keys are independent");
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(l.check("a").unwrap_err(), Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(l.check("a").is_ok());
        l.prune();
        assert!(l.events.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn ids_are_keys_as_strings_are() {
        let l: WindowLimiter<i64> = WindowLimiter::new(2, Duration::from_secs(10));
        l.hit(&7).unwrap();
        l.hit(&7).unwrap();
        assert_eq!(l.hit(&7).unwrap_err(), Duration::from_secs(10));
        assert!(l.hit(&8).is_ok(), "keys are independent");
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(l.hit(&7).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_allowed_then_one_event_per_interval() {
        // A burst of 3, then 3 per 6 s: one every 2 s.
        let l: BurstLimiter<i64> = BurstLimiter::new(3, Duration::from_secs(6));
        for _ in 0..3 {
            l.hit(&7).unwrap();
        }
        assert_eq!(l.hit(&7).unwrap_err(), Duration::from_secs(2));
        assert!(l.hit(&8).is_ok(), "keys are independent");
        tokio::time::advance(Duration::from_millis(1_500)).await;
        // Half a second early: the wait is rounded up to a second.
        assert_eq!(l.hit(&7).unwrap_err(), Duration::from_secs(1));
        tokio::time::advance(Duration::from_millis(500)).await;
        l.hit(&7).unwrap();
        assert!(l.hit(&7).is_err(), "one slot came back, and it is spent");
        // Idle for the whole window, the burst is whole again.
        tokio::time::advance(Duration::from_secs(6)).await;
        for _ in 0..3 {
            l.hit(&7).unwrap();
        }
        assert!(l.hit(&7).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_check_records_nothing_and_prune_forgets_full_buckets() {
        let l: BurstLimiter<i64> = BurstLimiter::new(2, Duration::from_secs(10));
        for _ in 0..5 {
            assert!(l.check(&7).is_ok());
        }
        l.record(&7);
        l.record(&7);
        assert_eq!(l.check(&7).unwrap_err(), Duration::from_secs(5));
        // A refused event that is recorded anyway (a check raced) pushes the slot on.
        l.record(&7);
        assert_eq!(l.check(&7).unwrap_err(), Duration::from_secs(10));
        l.hit(&8).unwrap();
        tokio::time::advance(Duration::from_secs(5)).await;
        l.prune();
        assert_eq!(l.due.lock().unwrap().len(), 1, "8's bucket is full again");
        tokio::time::advance(Duration::from_secs(10)).await;
        l.prune();
        assert!(l.due.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn clear_forgets_a_key() {
        let l = WindowLimiter::new(1, Duration::from_secs(60));
        l.hit("a").unwrap();
        assert!(l.hit("a").is_err());
        l.clear("a");
        assert!(l.hit("a").is_ok());
    }
}
