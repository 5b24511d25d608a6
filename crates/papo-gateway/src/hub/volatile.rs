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

/// How long a volatile event may wait for company before its connection is woken.
pub(super) const DELAY: Duration = Duration::from_millis(20);

impl Hub {
    /// Puts sessions whose connection a volatile event did not wake on the list
    /// [`Hub::run_volatile_flusher`] wakes.
    pub(super) fn defer(&self, sessions: Vec<Arc<GwSession>>) {
        if sessions.is_empty() {
            return;
        }
        let mut list = self.volatile.lock().expect("volatile list poisoned");
        let first = list.is_empty();
        list.extend(sessions);
        drop(list);
        if first {
            self.volatile_due.notify_one();
        }
    }

    /// Wakes the connection of every session on the list.
    pub(super) fn flush_volatile(&self) {
        let list = std::mem::take(&mut *self.volatile.lock().expect("volatile list poisoned"));
        for s in list {
            let mut st = s.state.lock().expect("session mutex poisoned");
            st.deferred = false;
            wake(st);
        }
    }

    /// Wakes the list [`DELAY`] after its first session, until shutdown.
    pub(super) async fn run_volatile_flusher(&self) {
        loop {
            tokio::select! {
                () = self.volatile_due.notified() => {}
                () = self.shutdown.cancelled() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(DELAY) => {}
                () = self.shutdown.cancelled() => return,
            }
            self.flush_volatile();
        }
    }
}
