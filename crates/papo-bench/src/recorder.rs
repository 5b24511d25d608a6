//! What receivers saw: latency of every delivery (from the message's due time), losses,
//! duplicates and reordering, per step.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::hist;
use crate::proto::Stamp;

/// Nanoseconds since the Unix epoch (one clock for every process on this machine).
pub fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// What receivers saw during one step.
pub struct StepStats {
    /// Send-to-receive latency of every delivery.
    pub latency: Histogram<u64>,
    /// Deliveries received.
    pub received: u64,
    /// The same message twice in a row at one receiver.
    pub duplicates: u64,
    /// A message older than one already received by that receiver.
    pub reordered: u64,
    /// Of those, a message older than one of the same author's already received: what a
    /// server that keeps each connection's sends in order never delivers (unless the author
    /// sends on several connections at once, as REST does).
    pub reordered_same_author: u64,
    /// Per message (room, seq): deliveries so far and the latest latency, when tracked.
    pub last: HashMap<(u32, u64), (u32, u64)>,
}

impl StepStats {
    fn new() -> Self {
        Self {
            latency: hist::new(),
            received: 0,
            duplicates: 0,
            reordered: 0,
            reordered_same_author: 0,
            last: HashMap::new(),
        }
    }
}

/// How a delivery relates to the previous one at the same receiver.
pub enum Order {
    /// The next message.
    Fresh,
    /// The same message again.
    Duplicate,
    /// Older than one already received; `same_author`: older than one of its own author's.
    Reordered { same_author: bool },
}

/// Most authors of a room whose order a receiver follows (papo's rooms have ten).
const MAX_AUTHORS: usize = 64;

/// One receiver's view of the order: the newest message of the room and of each author
/// (by step and sequence). A receiver belongs to one room.
#[derive(Default)]
pub struct OrderCheck {
    newest: Option<(usize, u64)>,
    by_author: Vec<Option<(usize, u64)>>,
}

impl OrderCheck {
    /// How a delivery relates to those received before it.
    pub fn check(&mut self, m: &Stamp) -> Order {
        let after = |newest: Option<(usize, u64)>| match newest {
            Some((step, seq)) if step == m.step => m.seq.cmp(&seq),
            _ => std::cmp::Ordering::Greater,
        };
        let author = m.author as usize;
        if author < MAX_AUTHORS && self.by_author.len() <= author {
            self.by_author.resize(author + 1, None);
        }
        let mine = self.by_author.get_mut(author);
        match after(self.newest) {
            std::cmp::Ordering::Equal => Order::Duplicate,
            std::cmp::Ordering::Less => {
                let same_author = mine.is_some_and(|newest| {
                    let older = after(*newest) == std::cmp::Ordering::Less;
                    if !older {
                        *newest = Some((m.step, m.seq));
                    }
                    older
                });
                Order::Reordered { same_author }
            }
            std::cmp::Ordering::Greater => {
                self.newest = Some((m.step, m.seq));
                if let Some(newest) = mine {
                    *newest = Some((m.step, m.seq));
                }
                Order::Fresh
            }
        }
    }
}

/// Shared by the receivers of one process.
pub struct Recorder {
    steps: Mutex<Vec<StepStats>>,
    track_last: bool,
    closed: AtomicU64,
}

/// Counts a receiving connection as closed when dropped.
pub struct ConnectionGuard(Arc<Recorder>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.closed.fetch_add(1, Ordering::Relaxed);
    }
}

impl Recorder {
    /// A recorder; `track_last` keeps, per message, the time to its last recipient.
    pub fn new(track_last: bool) -> Arc<Self> {
        Arc::new(Self {
            steps: Mutex::new(Vec::new()),
            track_last,
            closed: AtomicU64::new(0),
        })
    }

    /// A guard to hold for as long as a receiving connection is open.
    pub fn connection_guard(self: &Arc<Self>) -> ConnectionGuard {
        ConnectionGuard(self.clone())
    }

    /// Receiving connections that have ended.
    pub fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }

    /// Records one delivery of message (`room`, `seq`) of `step`, `micros` after it was due.
    pub fn record(&self, step: usize, room: u32, seq: u64, micros: u64, order: Order) {
        let mut steps = self.steps.lock().expect("recorder poisoned");
        while steps.len() <= step {
            steps.push(StepStats::new());
        }
        let s = &mut steps[step];
        match order {
            Order::Duplicate => {
                s.duplicates += 1;
                return;
            }
            Order::Reordered { same_author } => {
                s.reordered += 1;
                s.reordered_same_author += u64::from(same_author);
            }
            Order::Fresh => {}
        }
        s.received += 1;
        hist::record(&mut s.latency, micros);
        if self.track_last {
            let e = s.last.entry((room, seq)).or_insert((0, 0));
            e.0 += 1;
            e.1 = e.1.max(micros);
        }
    }

    /// Takes the stats of `step` (empty if nothing arrived).
    pub fn take(&self, step: usize) -> StepStats {
        let mut steps = self.steps.lock().expect("recorder poisoned");
        if step < steps.len() {
            std::mem::replace(&mut steps[step], StepStats::new())
        } else {
            StepStats::new()
        }
    }

    /// Deliveries received so far in `step`.
    pub fn received(&self, step: usize) -> u64 {
        let steps = self.steps.lock().expect("recorder poisoned");
        steps.get(step).map_or(0, |s| s.received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_counts_duplicates_and_reordering() {
        let rec = Recorder::new(true);
        rec.record(0, 1, 1, 100, Order::Fresh);
        rec.record(0, 1, 1, 100, Order::Duplicate);
        rec.record(0, 1, 0, 300, Order::Reordered { same_author: false });
        rec.record(0, 1, 0, 300, Order::Reordered { same_author: true });
        let s = rec.take(0);
        assert_eq!((s.received, s.duplicates, s.reordered), (3, 1, 2));
        assert_eq!(s.reordered_same_author, 1);
        assert_eq!(s.last[&(1, 1)], (1, 100));
        assert_eq!(rec.take(5).received, 0);
    }

    fn stamp(step: usize, seq: u64, author: u32) -> Stamp {
        Stamp {
            step,
            room: 1,
            seq,
            due_ns: 0,
            author,
        }
    }

    /// Two authors in turn (even and odd sequence numbers): one author's later message
    /// overtaking the other's earlier one is reordered in the room only; an author's own
    /// message arriving after its later one is reordered for that author too.
    #[test]
    fn order_is_followed_for_the_room_and_for_each_author() {
        let mut o = OrderCheck::default();
        let mut seen = Vec::new();
        for (seq, author) in [
            (0, 0),
            (2, 0),
            (1, 1),
            (3, 1),
            (3, 1),
            (5, 1),
            (4, 0),
            (6, 0),
        ] {
            seen.push(match o.check(&stamp(0, seq, author)) {
                Order::Fresh => "fresh",
                Order::Duplicate => "duplicate",
                Order::Reordered { same_author: false } => "room",
                Order::Reordered { same_author: true } => "author",
            });
        }
        let want = [
            "fresh",
            "fresh",
            "room",
            "fresh",
            "duplicate",
            "fresh",
            "room",
            "fresh",
        ];
        assert_eq!(seen, want);
        // Author 1 sends 7 then 9; 9 arrives first, then 7: out of its own order.
        assert!(matches!(o.check(&stamp(0, 9, 1)), Order::Fresh));
        assert!(matches!(
            o.check(&stamp(0, 7, 1)),
            Order::Reordered { same_author: true }
        ));
        // A new step starts both orders again.
        assert!(matches!(o.check(&stamp(1, 0, 1)), Order::Fresh));
        // Authors past the ones followed are counted for the room only.
        assert!(matches!(o.check(&stamp(1, 5, 99)), Order::Fresh));
        assert!(matches!(
            o.check(&stamp(1, 4, 99)),
            Order::Reordered { same_author: false }
        ));
    }
}
