//! A session's event queue: sequence numbers, unsent events and the replay buffer for resume,
//! in one bounded deque. No I/O; the hub pushes, the driver drains.
//!
//! Events stay after they are sent until the client acknowledges them (heartbeat `seq`), so a
//! resume can replay them. Volatile events ([`crate::protocol::EventKind::is_volatile`]) have
//! no sequence number and are forgotten once written: they wait only in the unsent tail. Unsent events are bounded (the client is too slow: close 4010);
//! sent-but-unacknowledged ones are bounded too (the oldest are forgotten, and a resume from
//! before them gets `invalid_session`).

use std::collections::VecDeque;

use crate::protocol::{EncodedEvent, SharedEvent};

/// Bounds of one queue.
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    /// Unsent events allowed.
    pub max_unsent_events: usize,
    /// Unsent bytes allowed.
    pub max_unsent_bytes: usize,
    /// Sent, unacknowledged events kept for resume.
    pub max_replay_events: usize,
}

/// What a push did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Queued,
    /// Queued, but the unsent backlog is over its bound: the consumer is too slow.
    Overflow,
    /// Not queued: the backlog is twice over its bound. The queue can no longer replay
    /// everything, so the session must not be resumed.
    Dropped,
}

/// Events of one session, oldest first.
#[derive(Debug, Default)]
pub struct EventQueue {
    /// Sequence number of the next event (the first event is 1).
    next_seq: u64,
    /// Highest sequence number written to the socket.
    sent_upto: u64,
    /// Every event after the last acknowledgement. Sequence numbers are contiguous, so they
    /// are not stored: the last one is `next_seq - 1` (see [`EventQueue::front_seq`]).
    /// Volatile events among them are all unsent (in the tail) and have no number.
    events: VecDeque<SharedEvent>,
    /// Bytes of the unsent events (bounded by twice the byte limit: see [`EventQueue::push`]).
    unsent_bytes: u32,
    /// Volatile events in `events`.
    volatile: u32,
}

impl EventQueue {
    /// An empty queue (allocates nothing until the first event).
    pub fn new() -> Self {
        Self {
            next_seq: 1,
            ..Self::default()
        }
    }

    /// The last sequence number assigned (0 before the first event).
    pub fn last_seq(&self) -> u64 {
        self.next_seq.saturating_sub(1).max(self.sent_upto)
    }

    /// Sequence number of the oldest kept event (`next_seq` when none is kept).
    fn front_seq(&self) -> u64 {
        self.next_seq - (self.events.len() - self.volatile as usize) as u64
    }

    /// Unsent sequenced events.
    fn unsent_sequenced(&self) -> usize {
        (self.next_seq - 1 - self.sent_upto) as usize
    }

    /// Unsent events, volatile ones included.
    pub fn unsent(&self) -> usize {
        self.unsent_sequenced() + self.volatile as usize
    }

    /// Appends an event and gives it the next sequence number (a volatile event gets none).
    pub fn push(&mut self, event: SharedEvent, limits: &QueueLimits) -> Pushed {
        if self.unsent() >= 2 * limits.max_unsent_events
            || self.unsent_bytes as usize >= 2 * limits.max_unsent_bytes
        {
            return Pushed::Dropped;
        }
        if event.is_volatile() {
            self.volatile += 1;
        } else {
            self.next_seq += 1;
        }
        let size = u32::try_from(event.size()).unwrap_or(u32::MAX);
        self.unsent_bytes = self.unsent_bytes.saturating_add(size);
        self.events.push_back(event);
        if self.unsent() > limits.max_unsent_events
            || self.unsent_bytes as usize > limits.max_unsent_bytes
        {
            Pushed::Overflow
        } else {
            Pushed::Queued
        }
    }

    /// Calls `write(seq, event)` for every unsent event in order (`seq` is `None` for a
    /// volatile event) and marks them sent. Then forgets the volatile events, and the oldest
    /// sent events beyond the replay bound.
    pub fn drain_unsent(
        &mut self,
        limits: &QueueLimits,
        mut write: impl FnMut(Option<u64>, &EncodedEvent),
    ) -> usize {
        // The unsent events are the tail (sent ones wait for their acknowledgement in
        // front; there may be hundreds).
        let unsent = self.unsent().min(self.events.len());
        let first_unsent = self.events.len() - unsent;
        let mut seq = self.next_seq - self.unsent_sequenced() as u64;
        for ev in self.events.range(first_unsent..) {
            if ev.is_volatile() {
                write(None, ev);
            } else {
                write(Some(seq), ev);
                seq += 1;
            }
        }
        self.sent_upto = self.next_seq - 1;
        self.unsent_bytes = 0;
        self.forget_volatile_from(first_unsent);
        while self.events.len() > limits.max_replay_events {
            self.events.pop_front();
        }
        self.release_if_empty();
        unsent
    }

    /// The client has everything up to `seq`: forget it. Acknowledging events that were never
    /// sent is ignored.
    pub fn ack(&mut self, seq: u64) {
        let seq = seq.min(self.sent_upto);
        let known = seq.saturating_sub(self.front_seq() - 1) as usize;
        self.events.drain(..known.min(self.events.len()));
        self.release_if_empty();
    }

    /// Forgets the unsent volatile events (the session lost its socket: they are news of a
    /// moment nobody will see, and a resume sends the current state instead).
    pub fn forget_volatile(&mut self) {
        let first_unsent = self.events.len() - self.unsent().min(self.events.len());
        self.forget_volatile_from(first_unsent);
        self.unsent_bytes = self
            .events
            .range(first_unsent..)
            .map(|e| u32::try_from(e.size()).unwrap_or(u32::MAX))
            .fold(0, u32::saturating_add);
        self.release_if_empty();
    }

    /// Removes the volatile events at or after `from` (they are all there).
    fn forget_volatile_from(&mut self, from: usize) {
        if self.volatile == 0 {
            return;
        }
        if self.volatile as usize == self.events.len() - from {
            self.events.truncate(from);
        } else {
            let mut i = from;
            while i < self.events.len() {
                if self.events[i].is_volatile() {
                    self.events.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        self.volatile = 0;
    }

    /// Prepares a resume from `seq`: every event after it becomes unsent again; returns how
    /// many. `None` when events after `seq` were already forgotten or `seq` is in the future.
    /// Volatile events are not replayed.
    pub fn rewind(&mut self, seq: u64) -> Option<usize> {
        self.forget_volatile();
        if seq > self.next_seq - 1 {
            return None;
        }
        // The first kept event must be seq+1 (or nothing was forgotten after seq).
        if self.front_seq() > seq + 1 {
            return None;
        }
        self.ack(seq.min(self.sent_upto));
        let known = seq.saturating_sub(self.front_seq() - 1) as usize;
        self.events.drain(..known.min(self.events.len()));
        self.sent_upto = seq;
        self.unsent_bytes = self
            .events
            .iter()
            .map(|e| u32::try_from(e.size()).unwrap_or(u32::MAX))
            .fold(0, u32::saturating_add);
        Some(self.unsent())
    }

    fn release_if_empty(&mut self) {
        if self.events.is_empty() && self.events.capacity() > 0 {
            // An idle session holds no event memory.
            self.events = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EventKind;

    const LIMITS: QueueLimits = QueueLimits {
        max_unsent_events: 3,
        max_unsent_bytes: 1 << 20,
        max_replay_events: 4,
    };

    fn ev(n: u32) -> SharedEvent {
        EncodedEvent::new(EventKind::UserUpdated, &n).unwrap()
    }

    fn vol(n: u32) -> SharedEvent {
        EncodedEvent::new(EventKind::PresenceUpdated, &n).unwrap()
    }

    /// Sequence numbers written (0 for a volatile event).
    fn drain(q: &mut EventQueue) -> Vec<u64> {
        let mut seqs = Vec::new();
        q.drain_unsent(&LIMITS, |s, _| seqs.push(s.unwrap_or(0)));
        seqs
    }

    #[test]
    fn sequences_start_at_one_and_increase() {
        let mut q = EventQueue::new();
        assert_eq!(q.push(ev(1), &LIMITS), Pushed::Queued);
        q.push(ev(2), &LIMITS);
        assert_eq!(drain(&mut q), vec![1, 2]);
        assert!(drain(&mut q).is_empty());
        q.push(ev(3), &LIMITS);
        assert_eq!(drain(&mut q), vec![3]);
        assert_eq!(q.last_seq(), 3);
    }

    #[test]
    fn too_many_unsent_events_overflow() {
        let mut q = EventQueue::new();
        for i in 0..3 {
            assert_eq!(q.push(ev(i), &LIMITS), Pushed::Queued);
        }
        assert_eq!(q.push(ev(4), &LIMITS), Pushed::Overflow);
        assert_eq!(q.push(ev(5), &LIMITS), Pushed::Overflow);
        assert_eq!(q.push(ev(6), &LIMITS), Pushed::Overflow);
        assert_eq!(
            q.push(ev(7), &LIMITS),
            Pushed::Dropped,
            "bounded even if never drained"
        );
        assert_eq!(q.unsent(), 6);
    }

    #[test]
    fn resume_replays_exactly_what_follows_seq() {
        let mut q = EventQueue::new();
        for i in 0..3 {
            q.push(ev(i), &LIMITS);
        }
        drain(&mut q);
        q.push(ev(9), &LIMITS); // queued while detached
        assert_eq!(q.rewind(1), Some(3));
        assert_eq!(drain(&mut q), vec![2, 3, 4]);
        assert_eq!(q.rewind(5), None, "the future cannot be resumed");
        assert_eq!(q.rewind(4), Some(0));
    }

    #[test]
    fn acked_and_trimmed_events_cannot_be_replayed() {
        let mut q = EventQueue::new();
        for i in 0..3 {
            q.push(ev(i), &LIMITS);
        }
        drain(&mut q);
        q.ack(2);
        assert_eq!(q.rewind(1), None);
        assert_eq!(q.rewind(2), Some(1));
        // Replay bound: only the last 4 sent events are kept.
        let mut q = EventQueue::new();
        for i in 0..6 {
            q.push(ev(i), &LIMITS);
            drain(&mut q);
        }
        assert_eq!(q.rewind(1), None);
        assert_eq!(q.rewind(2), Some(4));
    }

    #[test]
    fn acking_everything_frees_the_buffer() {
        let mut q = EventQueue::new();
        q.push(ev(1), &LIMITS);
        q.ack(1);
        assert_eq!(q.events.len(), 1, "unsent events are not acked");
        drain(&mut q);
        q.ack(1);
        assert_eq!(q.events.capacity(), 0);
    }

    #[test]
    fn volatile_events_are_written_once_and_never_replayed() {
        let mut q = EventQueue::new();
        q.push(ev(1), &LIMITS);
        q.push(vol(2), &LIMITS);
        q.push(ev(3), &LIMITS);
        assert_eq!(
            drain(&mut q),
            vec![1, 0, 2],
            "in order, numbered around the volatile"
        );
        assert_eq!(
            q.events.len(),
            2,
            "only sequenced events are kept for replay"
        );
        q.push(vol(4), &LIMITS);
        assert_eq!(drain(&mut q), vec![0]);
        q.ack(2);
        assert_eq!(q.events.capacity(), 0, "nothing kept once acknowledged");
        // Unsent when the socket goes: a resume replays the sequenced events only.
        q.push(ev(5), &LIMITS);
        q.push(vol(6), &LIMITS);
        q.push(ev(7), &LIMITS);
        q.forget_volatile();
        assert_eq!(q.rewind(2), Some(2));
        assert_eq!(drain(&mut q), vec![3, 4]);
        // rewind forgets them too, and they count towards the unsent bound.
        q.push(vol(8), &LIMITS);
        assert_eq!(q.rewind(4), Some(0));
        assert!(drain(&mut q).is_empty());
        for i in 0..3 {
            assert_eq!(q.push(vol(i), &LIMITS), Pushed::Queued);
        }
        assert_eq!(q.push(ev(9), &LIMITS), Pushed::Overflow);
        assert_eq!(drain(&mut q), vec![0, 0, 0, 5]);
        assert_eq!(q.last_seq(), 5);
    }
}
