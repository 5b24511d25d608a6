//! A rate limit in three numbers: a two-bucket sliding window counter (the previous
//! window's count weighted by how much of it still overlaps, plus the current window's),
//! instead of a log of timestamps. Small enough to keep one per connection or per user.

use std::time::{Duration, Instant};

/// Events counted over a sliding window.
#[derive(Debug, Clone, Copy)]
pub struct SlidingWindow {
    window_start: Instant,
    current: u32,
    previous: u32,
}

impl SlidingWindow {
    /// Nothing counted yet.
    pub fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            current: 0,
            previous: 0,
        }
    }

    /// Counts one event at `now` if fewer than `limit` happened in the last `window`.
    pub fn allow(&mut self, now: Instant, window: Duration, limit: u32) -> bool {
        self.roll(now, window);
        let into = now
            .saturating_duration_since(self.window_start)
            .as_secs_f64()
            / window.as_secs_f64();
        let estimate = f64::from(self.previous) * (1.0 - into) + f64::from(self.current);
        if estimate + 1.0 > f64::from(limit) {
            return false;
        }
        self.current += 1;
        true
    }

    /// Whether nothing was counted in the last two windows (the entry can be dropped).
    pub fn is_idle(&mut self, now: Instant, window: Duration) -> bool {
        self.roll(now, window);
        self.previous == 0 && self.current == 0
    }

    fn roll(&mut self, now: Instant, window: Duration) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= window * 2 {
            self.previous = 0;
            self.current = 0;
            self.window_start = now;
        } else if elapsed >= window {
            self.previous = self.current;
            self.current = 0;
            self.window_start += window;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_cut_at_the_limit_and_allowed_again_later() {
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        let mut r = SlidingWindow::new(t0);
        for _ in 0..5 {
            assert!(r.allow(t0, w, 5));
        }
        assert!(!r.allow(t0 + Duration::from_secs(30), w, 5));
        // Half a window later the previous five weigh 2.5: two more fit.
        let later = t0 + Duration::from_secs(90);
        assert!(r.allow(later, w, 5));
        assert!(r.allow(later, w, 5));
        assert!(!r.allow(later, w, 5));
        assert!(!r.is_idle(later, w));
        assert!(r.is_idle(t0 + Duration::from_secs(400), w));
    }
}
