//! Sliding-window limiters keyed by account name, client address or user id.
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
///
/// Keys are hashed with `S`: std's SipHash by default, because keys that come from clients
/// (the account names tried at login) must not be able to pile into one bucket. Keys the
/// server assigns (user ids) may use foldhash, as the hot maps do: for the message limiter,
/// which every send goes through, SipHash was about 140 instructions a send and foldhash
/// about 20 (`bench/callgrind`, quick S4).
pub struct WindowLimiter<K = String, S = RandomState> {
    limit: u32,
    window: Duration,
    /// Event times per key, oldest first. A plain mutex: held for microseconds, never across
    /// an await.
    events: Mutex<HashMap<K, VecDeque<Instant>, S>>,
}

impl<K: Hash + Eq> WindowLimiter<K> {
    /// A limiter allowing `limit` events per `window`, its keys hashed with SipHash.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self::with_hasher(limit, window)
    }
}

impl<K: Hash + Eq, S: BuildHasher + Default> WindowLimiter<K, S> {
    /// A limiter allowing `limit` events per `window`, its keys hashed with `S`.
    pub fn with_hasher(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            events: Mutex::new(HashMap::default()),
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
    async fn clear_forgets_a_key() {
        let l = WindowLimiter::new(1, Duration::from_secs(60));
        l.hit("a").unwrap();
        assert!(l.hit("a").is_err());
        l.clear("a");
        assert!(l.hit("a").is_ok());
    }
}
