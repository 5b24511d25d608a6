//! What receivers saw: latency of every delivery (from the message's due time), losses,
//! duplicates and reordering, per step.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::hist;

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
    /// Older than one already received.
    Reordered,
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
            Order::Reordered => s.reordered += 1,
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
        rec.record(0, 1, 0, 300, Order::Reordered);
        let s = rec.take(0);
        assert_eq!((s.received, s.duplicates, s.reordered), (2, 1, 1));
        assert_eq!(s.last[&(1, 1)], (1, 100));
        assert_eq!(rec.take(5).received, 0);
    }
}
