//! A gateway session: its queue of events, which connection owns it, and how that
//! connection is woken.

use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use papo_core::id::{SessionId, UserId};

use super::{SessionKey, Topic};
use crate::protocol::{CloseCode, EncodedEvent, SharedEvent, Status};
use crate::queue::{EventQueue, Pushed, QueueLimits};

/// A connected (or recently dropped) client session.
pub struct GwSession {
    /// Gateway session id (random, for resume).
    pub id: SessionKey,
    /// The user.
    pub user_id: UserId,
    /// The login session whose token identified it (revocation closes it).
    pub auth_session: SessionId,
    /// What the session follows; changed when the user joins or leaves a server.
    pub(super) topics: Mutex<Vec<Topic>>,
    pub(super) state: Mutex<SessionState>,
}

pub(super) struct SessionState {
    pub(super) queue: EventQueue,
    /// The connection that owns (or last owned) the session; bumped on resume.
    pub(super) generation: u64,
    pub(super) link: Link,
    /// Set when the session must end: the driver closes with it.
    pub(super) close: Option<CloseCode>,
    /// No longer resumable.
    pub(super) dead: bool,
    /// The status this session chose (kept across a resume).
    pub(super) status: Status,
    /// The task of the connection waiting for the session to need it (see
    /// [`GwSession::poll_wake`]): taken and woken by whoever gives it something to do.
    pub(super) waker: Option<Waker>,
    /// On the hub's list of sessions to wake for volatile events (the hub's `flush_volatile`).
    pub(super) deferred: bool,
    /// The hub's tick found the attached connection's deadline passed: its driver must
    /// handle time. Until the driver notes its next deadline ([`GwSession::drain`]).
    pub(super) due: bool,
}

/// Whether a connection owns a session, with the time that matters in either case (one
/// field: every session carries it).
#[derive(Clone, Copy)]
pub(super) enum Link {
    /// Connection `generation` owns it. `deadline`: when that connection's core must next
    /// handle time (its heartbeat deadline), once noted; [`Hub::tick`](super::Hub::tick) wakes the driver when
    /// it has passed, so that an idle connection needs no timer of its own.
    Attached { deadline: Option<Instant> },
    /// No connection since `since`; resumable for the resume window unless dead.
    Detached { since: Instant },
}

impl SessionState {
    /// Whether connection `generation` owns the session.
    pub(super) fn owned_by(&self, generation: u64) -> bool {
        matches!(self.link, Link::Attached { .. }) && self.generation == generation
    }
}

/// What the driver gets from the session when it wakes up.
pub enum Wake {
    /// Events to write (already framed by `write`), if any.
    Events(usize),
    /// Close the socket with this code.
    Close(CloseCode),
    /// Another connection resumed this session.
    Replaced,
}

/// Wakes the connection waiting on the session, if one is, once the lock is released.
pub(super) fn wake(mut st: MutexGuard<'_, SessionState>) {
    let waker = st.waker.take();
    drop(st);
    if let Some(w) = waker {
        w.wake();
    }
}

impl GwSession {
    /// Ready when connection `generation` has something to do: events to write, a close
    /// decision, another connection took the session over, or its deadline has passed.
    /// Otherwise the task's waker is kept, and whatever changes one of these wakes it (the
    /// hub's tick for the deadline). Checked and kept under the session's lock, so no wake-up
    /// is lost; one waker, not a waiter list, so an idle connection holds no wait future.
    pub fn poll_wake(&self, generation: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.state.lock().expect("session mutex poisoned");
        if !st.owned_by(generation) || st.close.is_some() || st.queue.unsent() > 0 {
            return Poll::Ready(());
        }
        // Told by the hub's tick, not read from the clock (a fifth of tokio's thread's clock
        // reads in S4 came from here): a deadline is seen within a tick, as when idle.
        if st.due {
            return Poll::Ready(());
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Writes unsent events via `write(seq, event)` (`seq` is `None` for a volatile event) or
    /// reports why the connection must end.
    /// Also notes the connection's next `deadline`: the hub's tick wakes the driver (through
    /// [`GwSession::poll_wake`]) once it has passed.
    pub fn drain(
        &self,
        generation: u64,
        limits: &QueueLimits,
        deadline: Instant,
        write: impl FnMut(Option<u64>, &EncodedEvent),
    ) -> Wake {
        let mut st = self.state.lock().expect("session mutex poisoned");
        if !st.owned_by(generation) {
            return Wake::Replaced;
        }
        if let Some(code) = st.close {
            return Wake::Close(code);
        }
        st.link = Link::Attached {
            deadline: Some(deadline),
        };
        st.due = false;
        Wake::Events(st.queue.drain_unsent(limits, write))
    }

    /// The client has everything up to `seq`.
    pub fn ack(&self, seq: u64) {
        self.state
            .lock()
            .expect("session mutex poisoned")
            .queue
            .ack(seq);
    }

    /// Queues `event` and wakes the connection, except for a volatile event to a connection
    /// that is waiting: then true, and the caller puts the session on the hub's list, woken
    /// within [`volatile::DELAY`](super::volatile::DELAY) with whatever else arrived meanwhile.
    pub(super) fn push(&self, event: &SharedEvent, limits: &QueueLimits) -> bool {
        let mut st = self.state.lock().expect("session mutex poisoned");
        // Without a socket, news of the moment is not kept: a resume sends the current state.
        if st.dead || (matches!(st.link, Link::Detached { .. }) && event.is_volatile()) {
            return false;
        }
        match st.queue.push(event.clone(), limits) {
            Pushed::Queued => {}
            Pushed::Overflow => {
                st.close.get_or_insert(CloseCode::SlowConsumer);
            }
            Pushed::Dropped => {
                // Events are being lost for this session: it must re-sync, not resume.
                st.dead = true;
                st.close.get_or_insert(CloseCode::SlowConsumer);
                st.queue = EventQueue::new();
            }
        }
        if event.is_volatile() && st.close.is_none() {
            // A running connection drains its queue before it waits again (`poll_wake`).
            if st.waker.is_none() || st.deferred {
                return false;
            }
            st.deferred = true;
            return true;
        }
        wake(st);
        false
    }
}
