//! Waiting for the next message's due time without tokio's timer, which fires on whole
//! milliseconds: every message would leave up to a millisecond late, and that lateness
//! would count as the server's latency (it is measured from the due time). A `timerfd`
//! fires within microseconds and is still one more readiness source on the worker's
//! single event loop, so answers keep being read while it waits.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A one-shot precise timer for one sending loop.
pub struct Pacer {
    fd: AsyncFd<OwnedFd>,
}

impl Pacer {
    /// A new timer (a non-blocking `timerfd` on the monotonic clock).
    pub fn new() -> io::Result<Self> {
        // SAFETY: plain system call; the descriptor it returns is owned below.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the `OwnedFd` is moved into the `AsyncFd` and only closed when it drops.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(Self { fd })
    }

    /// Waits `d` (returns at once for zero). Arming again replaces an earlier wait that was
    /// dropped before it fired, and resets its count of expirations.
    pub async fn sleep(&self, d: Duration) -> io::Result<()> {
        if d.is_zero() {
            return Ok(());
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: d.as_secs() as libc::time_t,
                tv_nsec: d.subsec_nanos() as libc::c_long,
            },
        };
        let fd = self.fd.get_ref().as_raw_fd();
        // SAFETY: `fd` is our timerfd; `spec` lives across the call.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut ready = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads 8 bytes into a buffer of 8.
            let n = unsafe { libc::read(fd, expirations.as_mut_ptr().cast(), 8) };
            if n == 8 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
            // Readiness left over from an earlier expiration already read.
            ready.clear_ready();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test(flavor = "current_thread")]
    async fn fires_on_time_and_can_be_rearmed() {
        let pacer = Pacer::new().unwrap();
        pacer.sleep(Duration::from_micros(500)).await.unwrap();
        // A wait dropped before it fired, left to expire unread, must not end the next
        // one early.
        let dropped = tokio::time::timeout(Duration::from_millis(1), async {
            pacer.sleep(Duration::from_millis(10)).await
        })
        .await;
        assert!(dropped.is_err());
        std::thread::sleep(Duration::from_millis(15));
        let t = Instant::now();
        pacer.sleep(Duration::from_micros(2_500)).await.unwrap();
        let took = t.elapsed();
        assert!(took >= Duration::from_micros(2_500), "woke after {took:?}");
        let t = Instant::now();
        pacer.sleep(Duration::ZERO).await.unwrap();
        assert!(t.elapsed() < Duration::from_millis(1));
    }
}
