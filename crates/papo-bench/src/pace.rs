//! Waiting for the next message's due time without tokio's timer, which fires on whole
//! milliseconds: every message would leave up to a millisecond late, and that lateness
//! would count as the server's latency (it is measured from the due time). A `timerfd`
//! fires within microseconds and is still one more readiness source on the worker's
//! single event loop, so answers keep being read while it waits.
//!
//! The timer is armed for an absolute time on the same clock as the schedule (Unix time),
//! and repeats at the loop's spacing between messages, so it stays armed for the next
//! message's due time: a loop waits for it again without a `timerfd_settime`, and re-arms
//! only when its time is not on the timer's grid (the grid falls behind the schedule by
//! under a nanosecond a message, and is armed afresh once that is a microsecond). Each
//! arming reprograms the core's timer, which in this VM costs an exit to the hypervisor;
//! arming at every wake-up took 12.4 % of the generator's core at S4's 50k messages a
//! second, and once a message 10.5 %.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// How far after the time waited for the timer's next tick may come and still be taken
/// as that time's (further, and the timer is armed afresh).
const ON_GRID_NS: u64 = 1_000;

/// A precise timer for one sending loop.
pub struct Pacer {
    fd: AsyncFd<OwnedFd>,
    /// The Unix time (ns) of the timer's first expiry; 0 when it is not armed (a one-shot
    /// timer that fired is no longer armed).
    base: AtomicU64,
    /// Nanoseconds between its expiries after the first; 0 for a one-shot timer.
    every: AtomicU64,
}

impl Pacer {
    /// A new timer (a non-blocking `timerfd` on the real-time clock, as Unix time).
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain system call; the descriptor it returns is owned below.
        let raw = unsafe {
            libc::timerfd_create(libc::CLOCK_REALTIME, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC)
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the `OwnedFd` is moved into the `AsyncFd` and only closed when it drops.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self {
            fd,
            base: AtomicU64::new(0),
            every: AtomicU64::new(0),
        })
    }

    /// Waits until the Unix time `at_ns` (returns at once if it has passed), leaving the
    /// timer to repeat every `then_every_ns` after it (0: once). A wait for a time on the
    /// armed timer's grid keeps the timer; any other time arms it afresh, which replaces an
    /// earlier wait that was dropped before it fired and resets its count of expirations.
    pub async fn sleep_until(&self, at_ns: u64, then_every_ns: u64) -> io::Result<()> {
        if at_ns <= crate::recorder::unix_ns() {
            return Ok(());
        }
        let fd = self.fd.get_ref().as_raw_fd();
        if !self.ticks_at(at_ns, then_every_ns) {
            let spec = libc::itimerspec {
                it_interval: timespec(then_every_ns),
                it_value: timespec(at_ns),
            };
            // SAFETY: `fd` is our timerfd; `spec` lives across the call.
            let armed = unsafe {
                libc::timerfd_settime(fd, libc::TFD_TIMER_ABSTIME, &spec, std::ptr::null_mut())
            };
            if armed < 0 {
                self.base.store(0, Ordering::Relaxed);
                return Err(io::Error::last_os_error());
            }
            self.base.store(at_ns, Ordering::Relaxed);
            self.every.store(then_every_ns, Ordering::Relaxed);
        }
        loop {
            let mut ready = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads 8 bytes into a buffer of 8.
            let n = unsafe { libc::read(fd, expirations.as_mut_ptr().cast(), 8) };
            if n == 8 {
                if self.every.load(Ordering::Relaxed) == 0 {
                    // A one-shot timer's count was reset when it was armed for `at_ns`.
                    self.base.store(0, Ordering::Relaxed);
                    return Ok(());
                }
                // A repeating timer's expiry before `at_ns` (one the loop did not wait
                // for) is not the end: its next one is.
                if crate::recorder::unix_ns() >= at_ns {
                    return Ok(());
                }
                continue;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
            // Readiness left over from an earlier expiration already read.
            ready.clear_ready();
        }
    }

    /// Whether the armed timer, repeating every `every` ns, expires within [`ON_GRID_NS`]
    /// after `at_ns`.
    fn ticks_at(&self, at_ns: u64, every: u64) -> bool {
        let base = self.base.load(Ordering::Relaxed);
        if base == 0 || at_ns < base || self.every.load(Ordering::Relaxed) != every {
            return false;
        }
        if every == 0 {
            return at_ns == base;
        }
        let tick = base + (at_ns - base).div_ceil(every) * every;
        tick - at_ns <= ON_GRID_NS
    }
}

/// A `timespec` of `ns` nanoseconds.
fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::unix_ns;
    use std::time::Duration;

    const MS: u64 = 1_000_000;

    #[tokio::test(flavor = "current_thread")]
    async fn fires_on_time_and_can_be_rearmed() {
        let pacer = Pacer::new().unwrap();
        let at = unix_ns() + MS / 2;
        pacer.sleep_until(at, 0).await.unwrap();
        assert!(unix_ns() >= at);
        // A wait dropped before it fired, left to expire unread, must not end the next
        // one early.
        let dropped = tokio::time::timeout(Duration::from_millis(1), async {
            pacer.sleep_until(unix_ns() + 10 * MS, 0).await
        })
        .await;
        assert!(dropped.is_err());
        std::thread::sleep(Duration::from_millis(15));
        let at = unix_ns() + 5 * MS / 2;
        pacer.sleep_until(at, 0).await.unwrap();
        let now = unix_ns();
        assert!(now >= at, "woke {} µs early", (at - now) / 1000);
        let t = unix_ns();
        pacer.sleep_until(t - MS, 0).await.unwrap();
        assert!(unix_ns() - t < MS);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn waiting_again_for_the_same_time_keeps_the_timer() {
        let pacer = Pacer::new().unwrap();
        let at = unix_ns() + 5 * MS;
        // Woken early by something else (an answer), as a sending loop is.
        let early = tokio::time::timeout(Duration::from_millis(1), pacer.sleep_until(at, 0)).await;
        assert!(early.is_err());
        assert_eq!(pacer.base.load(Ordering::Relaxed), at);
        pacer.sleep_until(at, 0).await.unwrap();
        let now = unix_ns();
        assert!(now >= at, "woke {} µs early", (at - now) / 1000);
        assert_eq!(pacer.base.load(Ordering::Relaxed), 0);
        // A time that passed while the timer was armed for it returns at once, and the next
        // time is armed afresh.
        let at = unix_ns() + 5 * MS;
        let dropped =
            tokio::time::timeout(Duration::from_millis(1), pacer.sleep_until(at, 0)).await;
        assert!(dropped.is_err());
        std::thread::sleep(Duration::from_millis(6));
        pacer.sleep_until(at, 0).await.unwrap();
        let next = unix_ns() + 2 * MS;
        pacer.sleep_until(next, 0).await.unwrap();
        let now = unix_ns();
        assert!(now >= next, "woke {} µs early", (next - now) / 1000);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_repeating_timer_serves_the_times_on_its_grid() {
        let pacer = Pacer::new().unwrap();
        let t0 = unix_ns() + 2 * MS;
        for k in [0, 1, 3] {
            let at = t0 + k * MS;
            pacer.sleep_until(at, MS).await.unwrap();
            let now = unix_ns();
            assert!(
                now >= at,
                "woke {} µs early for tick {k}",
                (at - now) / 1000
            );
            // Still the first arming: the later times were on its grid.
            assert_eq!(pacer.base.load(Ordering::Relaxed), t0);
        }
        // Off the grid: armed afresh.
        let at = t0 + 4 * MS + MS / 2;
        pacer.sleep_until(at, MS).await.unwrap();
        assert!(unix_ns() >= at);
        assert_eq!(pacer.base.load(Ordering::Relaxed), at);
        // A one-shot wait after a repeating one replaces it.
        let at = unix_ns() + 3 * MS;
        pacer.sleep_until(at, 0).await.unwrap();
        assert!(unix_ns() >= at);
        assert_eq!(pacer.base.load(Ordering::Relaxed), 0);
    }
}
