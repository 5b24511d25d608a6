//! A session's event queue: sequence numbers, unsent events and the replay buffer for resume,
//! in one bounded deque. No I/O; the hub pushes, the driver drains.
//!
//! Events stay after they are sent until the client acknowledges them (heartbeat `seq`), so a
//! resume can replay them. Unsent events are bounded (the client is too slow: close 4010);
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
    events: VecDeque<SharedEvent>,
    /// Bytes of the unsent events.
    unsent_bytes: usize,
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
        self.next_seq - self.events.len() as u64
    }

    /// Unsent events.
    pub fn unsent(&self) -> usize {
        (self.next_seq - 1 - self.sent_upto) as usize
    }

    /// Appends an event and gives it the next sequence number.
    pub fn push(&mut self, event: SharedEvent, limits: &QueueLimits) -> Pushed {
        if self.unsent() >= 2 * limits.max_unsent_events
            || self.unsent_bytes >= 2 * limits.max_unsent_bytes
        {
            return Pushed::Dropped;
        }
        self.next_seq += 1;
        self.unsent_bytes += event.size();
        self.events.push_back(event);
        if self.unsent() > limits.max_unsent_events || self.unsent_bytes > limits.max_unsent_bytes {
            Pushed::Overflow
        } else {
            Pushed::Queued
        }
    }

    /// Calls `write(seq, event)` for every unsent event in order and marks them sent. Then
    /// forgets the oldest sent events beyond the replay bound.
    pub fn drain_unsent(
        &mut self,
        limits: &QueueLimits,
        mut write: impl FnMut(u64, &EncodedEvent),
    ) -> usize {
        // The unsent events are the tail (sent ones wait for their acknowledgement in
        // front; there may be hundreds).
        let unsent = self.unsent().min(self.events.len());
        let first_unsent = self.events.len() - unsent;
        let seqs = self.next_seq - unsent as u64..;
        for (seq, ev) in seqs.zip(self.events.range(first_unsent..)) {
            write(seq, ev);
        }
        self.sent_upto = self.next_seq - 1;
        self.unsent_bytes = 0;
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

    /// Prepares a resume from `seq`: every event after it becomes unsent again; returns how
    /// many. `None` when events after `seq` were already forgotten or `seq` is in the future.
    pub fn rewind(&mut self, seq: u64) -> Option<usize> {
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
        self.unsent_bytes = self.events.iter().map(|e| e.size()).sum();
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

    fn drain(q: &mut EventQueue) -> Vec<u64> {
        let mut seqs = Vec::new();
        q.drain_unsent(&LIMITS, |s, _| seqs.push(s));
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
}
