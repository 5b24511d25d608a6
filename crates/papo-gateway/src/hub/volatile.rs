//! Volatile events (presence changes, typing) wake a waiting connection a moment later, with
//! whatever else arrived meanwhile.
//!
//! When the members of a room come online together (everyone reconnecting after a restart:
//! S1), each member's connection was woken, and wrote once, for every room-mate's change:
//! the largest part of the server's work per session opened was those socket writes. A
//! volatile event is news of the moment with no sequence number; a few milliseconds late, in
//! one write with the others, it says the same. Any other event still wakes the connection at
//! once, and takes the waiting volatile ones along.

use std::sync::Arc;
use std::time::Duration;

use super::{GwSession, Hub, wake};

/// How long a volatile event may wait for company before its connection is woken: at most
/// this, and at least half of it.
pub(super) const DELAY: Duration = Duration::from_millis(20);

/// Sessions whose connection waits to be woken for volatile events, in two generations.
///
/// The flusher steps every half [`DELAY`]: it wakes the older generation and the younger
/// becomes the older. A session put on the list therefore waits between half the delay and
/// the whole of it. With one list woken at once on a fixed grid, a session that came on just
/// before a step waited almost nothing, and a room's members coming online together across a
/// step each wrote twice.
#[derive(Default)]
pub(super) struct Waiting {
    /// Put on the list since the flusher's last step.
    young: Vec<Arc<GwSession>>,
    /// Put on the list before the last step: woken at the next.
    old: Vec<Arc<GwSession>>,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.young.is_empty() && self.old.is_empty()
    }
}

impl Hub {
    /// Puts sessions whose connection a volatile event did not wake on the list
    /// [`Hub::run_volatile_flusher`] wakes.
    pub(super) fn defer(&self, sessions: Vec<Arc<GwSession>>) {
        if sessions.is_empty() {
            return;
        }
        let mut list = self.volatile.lock().expect("volatile list poisoned");
        let first = list.is_empty();
        list.young.extend(sessions);
        drop(list);
        if first {
            self.volatile_due.notify_one();
        }
    }

    /// Wakes the connection of every session on the list, of both generations (tests: the
    /// flusher's steps without waiting for them).
    #[cfg(test)]
    pub(super) fn flush_volatile(&self) {
        let list = std::mem::take(&mut *self.volatile.lock().expect("volatile list poisoned"));
        wake_all(list.old);
        wake_all(list.young);
    }

    /// The flusher's step: wakes the older generation, and the younger becomes the older.
    /// Returns whether any session is still waiting.
    fn step_volatile(&self) -> bool {
        let mut list = self.volatile.lock().expect("volatile list poisoned");
        let young = std::mem::take(&mut list.young);
        let due = std::mem::replace(&mut list.old, young);
        let more = !list.old.is_empty();
        drop(list);
        wake_all(due);
        more
    }

    /// Steps the list every half [`DELAY`] while sessions wait on it, until shutdown.
    pub(super) async fn run_volatile_flusher(&self) {
        loop {
            tokio::select! {
                () = self.volatile_due.notified() => {}
                () = self.shutdown.cancelled() => return,
            }
            loop {
                tokio::select! {
                    () = tokio::time::sleep(DELAY / 2) => {}
                    () = self.shutdown.cancelled() => return,
                }
                if !self.step_volatile() {
                    break;
                }
            }
        }
    }
}

/// Wakes each session's connection for the volatile events queued for it.
fn wake_all(sessions: Vec<Arc<GwSession>>) {
    for s in sessions {
        let mut st = s.state.lock().expect("session mutex poisoned");
        st.deferred = false;
        wake(st);
    }
}
