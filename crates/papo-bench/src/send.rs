//! How a worker sends its share of a step's messages, open loop: papo over its members' own
//! gateway sockets (`message_create`, answered by `message_ack`) or over REST (`POST`), the
//! peers over a few sender sockets of their own. Every answer's latency is measured from the
//! message's due time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use crate::hist;
use crate::net::http::Pool;
use crate::net::ws::Ws;
use crate::pace::Pacer;
use crate::proto::{self, SenderRoom, Wire};

/// Most requests one worker has in flight (each on its own keep-alive connection).
const MAX_IN_FLIGHT: usize = 512;

/// Which message is due when: message `j` of this worker goes to room `j % rooms` with
/// sequence `j / rooms` and is due at `start + j / rate`, whatever happened to earlier ones
/// (open loop: latency is measured from the due time, so a server that falls behind shows
/// it as latency instead of slowing the sender down).
#[derive(Clone, Copy)]
pub struct Schedule {
    pub step: usize,
    pub rate: f64,
    pub total: u64,
    pub start_ns: u64,
    /// Answers not in by then are counted as failures.
    pub deadline_ns: u64,
}

/// How long after a schedule's start unit `i` of the units that send it together (workers,
/// or a worker's sender sockets) begins: `i` spacings of the whole `rate`. With equal shares
/// their messages then fall between each other's (unit `i`'s message `j` is due at
/// `start + (j × units + i) / rate`), so together they offer the rate evenly; from the same
/// start they would all be due at the same instants, in bursts of as many messages as units.
pub fn phase_ns(i: usize, rate: f64) -> u64 {
    if rate > 0.0 {
        (i as f64 * 1e9 / rate) as u64
    } else {
        0
    }
}

impl Schedule {
    /// Unit `i`'s part of this schedule when its rooms are shared out, `share` of them to
    /// the unit: the share's rate and messages, from the unit's phase ([`phase_ns`]).
    pub fn part(&self, i: usize, share: f64) -> Schedule {
        Schedule {
            rate: self.rate * share,
            total: (self.total as f64 * share).round() as u64,
            start_ns: self.start_ns + phase_ns(i, self.rate),
            ..*self
        }
    }

    fn due_ns(&self, j: u64) -> u64 {
        self.start_ns + (j as f64 / self.rate * 1e9) as u64
    }

    /// The messages due by now (exclusive end).
    fn due_by_now(&self) -> u64 {
        let now = crate::recorder::unix_ns();
        if now < self.start_ns {
            return 0;
        }
        (((now - self.start_ns) as f64 / 1e9 * self.rate) as u64 + 1).min(self.total)
    }

    /// When a sending loop that has handed over messages up to `j` (exclusive) wakes next,
    /// and how often its timer repeats after that: when message `j` is due, then at the
    /// spacing between messages; after the last, once at the deadline for answers.
    fn next_wake_ns(&self, j: u64) -> (u64, u64) {
        if j < self.total {
            (self.due_ns(j), self.spacing_ns())
        } else {
            (self.deadline_ns, 0)
        }
    }

    /// Nanoseconds between two messages, rounded up: the timer's grid then falls behind
    /// the schedule by under a nanosecond a message, and stays on it (see [`Pacer`]) until
    /// that adds up to a microsecond. Rounded down, it would run ahead, and the tick after a
    /// due time would be a whole spacing late.
    fn spacing_ns(&self) -> u64 {
        (1e9 / self.rate).ceil() as u64
    }

    /// How long until the deadline for answers.
    fn until_deadline(&self) -> Duration {
        Duration::from_nanos(self.deadline_ns.saturating_sub(crate::recorder::unix_ns()))
    }
}

/// What a worker's sends of one step came to.
pub struct SendAcc {
    pub accepted: HashMap<u32, u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub ack: hdrhistogram::Histogram<u64>,
    /// Due time → the message handed to its socket (the generator's own lateness).
    pub late: hdrhistogram::Histogram<u64>,
}

impl Default for SendAcc {
    fn default() -> Self {
        Self {
            accepted: HashMap::new(),
            errors: 0,
            first_error: None,
            ack: hist::new(),
            late: hist::new(),
        }
    }
}

impl SendAcc {
    fn ok(&mut self, room: u32, due_ns: u64) {
        *self.accepted.entry(room).or_default() += 1;
        let micros = crate::recorder::unix_ns().saturating_sub(due_ns) / 1000;
        hist::record(&mut self.ack, micros);
    }

    fn failed(&mut self, why: String) {
        self.errors += 1;
        self.first_error.get_or_insert(why);
    }
}

/// How late a sending loop hands its messages over, kept by the loop and added to its
/// [`SendAcc`] at the end (one lock instead of one per message).
struct Lateness(hdrhistogram::Histogram<u64>);

impl Lateness {
    fn new() -> Self {
        Self(hist::new())
    }

    fn handed(&mut self, due_ns: u64) {
        let micros = crate::recorder::unix_ns().saturating_sub(due_ns) / 1000;
        hist::record(&mut self.0, micros);
    }

    fn add_to(self, acc: &Mutex<SendAcc>) {
        let mut acc = acc.lock().expect("send poisoned");
        let _ = acc.late.add(&self.0);
    }
}

/// The loop's timer; without one (never seen) tokio's millisecond timer stands in.
fn pacer() -> Option<Pacer> {
    Pacer::new().ok()
}

/// Waits until the Unix time `at_ns` on `pacer` (left repeating every `then_every_ns`, 0:
/// once), or on tokio's timer without one.
async fn wait(pacer: &Option<Pacer>, at_ns: u64, then_every_ns: u64) {
    match pacer {
        Some(p) if p.sleep_until(at_ns, then_every_ns).await.is_ok() => {}
        _ => {
            let d = at_ns.saturating_sub(crate::recorder::unix_ns());
            tokio::time::sleep(Duration::from_nanos(d)).await
        }
    }
}

/// Papo over REST: each message is a `POST`, at most [`MAX_IN_FLIGHT`] at once.
pub async fn send_papo(
    pool: Arc<Pool>,
    rooms: &[SenderRoom],
    s: Schedule,
    acc: Arc<Mutex<SendAcc>>,
) {
    let n = rooms.len() as u64;
    if n == 0 || s.total == 0 {
        return;
    }
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let (pacer, mut late) = (pacer(), Lateness::new());
    let mut j = 0;
    while j < s.total {
        wait(&pacer, s.due_ns(j), s.spacing_ns()).await;
        let due = s.due_by_now();
        while j < due {
            let room = &rooms[(j % n) as usize];
            let seq = j / n;
            // Each request on a connection of its own: one author's requests run concurrently,
            // so over REST even one author's messages may be stored out of their order.
            let slot = (seq % room.creds.len() as u64) as u32;
            let author = &room.creds[slot as usize];
            let due_ns = s.due_ns(j);
            late.handed(due_ns);
            let path = format!("/api/v1/channels/{}/messages", room.address);
            let body = format!(
                r#"{{"content":"{}"}}"#,
                proto::payload(s.step, room.room, seq, due_ns, slot)
            );
            let (pool, acc, permits, token, room) = (
                pool.clone(),
                acc.clone(),
                permits.clone(),
                author.clone(),
                room.room,
            );
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                let r = pool.post_json(&path, &token, &body).await;
                let mut acc = acc.lock().expect("send poisoned");
                match r {
                    Ok(a) if a.status == 201 => acc.ok(room, due_ns),
                    Ok(a) => acc.failed(format!(
                        "HTTP {}: {}",
                        a.status,
                        String::from_utf8_lossy(&a.body)
                    )),
                    Err(e) => acc.failed(format!("{e:#}")),
                }
            });
            j += 1;
        }
        // Reap finished sends as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    late.add_to(&acc);
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(s.until_deadline(), all).await.is_err() {
        let late = tasks.len();
        tasks.abort_all();
        let mut acc = acc.lock().expect("send poisoned");
        for _ in 0..late {
            acc.failed("no answer before the step's deadline".into());
        }
    }
}

/// Peers: sends go over a few WebSocket connections, each with its own share of
/// the rooms (so a room's messages leave in order) and its own acknowledgement ids.
pub async fn send_peers(
    wire: Wire,
    senders: &mut [PeerSender],
    rooms: &[SenderRoom],
    s: Schedule,
    acc: &Mutex<SendAcc>,
) {
    let k = senders.len().max(1);
    let mut lanes = Vec::new();
    for (i, sender) in senders.iter_mut().enumerate() {
        let mine: Vec<&SenderRoom> = rooms.iter().skip(i).step_by(k).collect();
        if mine.is_empty() {
            continue;
        }
        let share = mine.len() as f64 / rooms.len() as f64;
        lanes.push(peer_lane(wire, sender, mine, s.part(i, share), acc));
    }
    futures::future::join_all(lanes).await;
}

async fn peer_lane(
    wire: Wire,
    sender: &mut PeerSender,
    rooms: Vec<&SenderRoom>,
    s: Schedule,
    acc: &Mutex<SendAcc>,
) {
    let n = rooms.len() as u64;
    let mut pending: HashMap<u64, (u32, u64)> = HashMap::new();
    let PeerSender { ws, next_ack } = sender;
    let (pacer, mut late) = (pacer(), Lateness::new());
    let mut j = 0;
    let mut out = Vec::new();
    loop {
        let due = s.due_by_now();
        while j < due {
            let room = rooms[(j % n) as usize];
            let due_ns = s.due_ns(j);
            late.handed(due_ns);
            // One socket sends all of a room's messages here: one author.
            let content = proto::payload(s.step, room.room, j / n, due_ns, 0);
            out.push(proto::send_frame(wire, &room.address, &content, *next_ack));
            pending.insert(*next_ack, (room.room, due_ns));
            *next_ack += 1;
            j += 1;
        }
        for frame in out.drain(..) {
            if let Err(e) = ws.send_text(frame.as_bytes()).await {
                acc.lock().expect("send poisoned").failed(format!("{e:#}"));
            }
        }
        if j >= s.total && (pending.is_empty() || s.until_deadline().is_zero()) {
            break;
        }
        let (wake_ns, then_every_ns) = s.next_wake_ns(j);
        let mut acked = Vec::new();
        let mut engine_ping = false;
        tokio::select! {
            read = ws.read_frames(|t| {
                if wire == Wire::SocketIo && t == b"2" {
                    engine_ping = true;
                } else if let Some(a) = proto::parse_ack(wire, t) {
                    acked.push(a);
                }
            }) => match read {
                Ok(Some(pongs)) => {
                    let _ = ws.send_pongs(pongs).await;
                }
                _ => {
                    acc.lock().expect("send poisoned").failed("sender connection closed".into());
                    break;
                }
            },
            () = self::wait(&pacer, wake_ns, then_every_ns) => {}
        }
        if engine_ping {
            let _ = ws.send_text(b"3").await;
        }
        if !acked.is_empty() {
            let mut acc = acc.lock().expect("send poisoned");
            for a in acked {
                if let Some((room, due_ns)) = pending.remove(&a) {
                    acc.ok(room, due_ns);
                }
            }
        }
    }
    late.add_to(acc);
    let mut acc = acc.lock().expect("send poisoned");
    for _ in 0..pending.len() {
        acc.failed("no acknowledgement".into());
    }
}

/// A sender connection to a peer, with its next acknowledgement id (never reused, so a late
/// answer to an earlier step cannot be taken for a new one).
pub struct PeerSender {
    /// The socket (joined to no room).
    pub ws: Ws,
    /// The next acknowledgement id.
    pub next_ack: u64,
}

/// A papo member's gateway socket as a sender: the sending loop writes its frames to the
/// socket itself, without waking the task that reads it (one hand-over and one wake-up
/// less a message on the generator's core).
pub type Outbox = crate::net::ws::FrameWriter;

/// What a papo member's socket heard back about a message it sent.
#[derive(Debug)]
pub enum Answer {
    /// `message_ack` (the payload is the nonce).
    Acked {
        /// Step.
        step: usize,
        /// Room.
        room: u32,
        /// When the message was due.
        due_ns: u64,
    },
    /// `error` for the message's nonce.
    Refused {
        /// Step.
        step: usize,
        /// The frame.
        why: String,
    },
}

/// A room papo sends to over the gateway: the sockets of its authors held by this worker.
pub struct GatewayRoom {
    /// Room index.
    pub room: u32,
    /// Channel id.
    pub address: String,
    /// The authors' sockets, used in turn.
    pub outboxes: Vec<Outbox>,
}

/// Papo over the gateway: each message is a `message_create` on one of the room's members'
/// own sockets (as the web app sends), acknowledged by `message_ack` once committed.
pub async fn send_gateway(
    rooms: &[GatewayRoom],
    s: Schedule,
    acc: &Mutex<SendAcc>,
    answers: &mut mpsc::UnboundedReceiver<Answer>,
) {
    let n = rooms.len() as u64;
    if n == 0 || s.total == 0 {
        return;
    }
    // Answers to an earlier step that came after its deadline.
    while answers.try_recv().is_ok() {}
    let mut pending: u64 = 0;
    let (pacer, mut late) = (pacer(), Lateness::new());
    let mut j = 0;
    loop {
        let due = s.due_by_now();
        while j < due {
            let room = &rooms[(j % n) as usize];
            let seq = j / n;
            let due_ns = s.due_ns(j);
            late.handed(due_ns);
            let slot = (seq % room.outboxes.len() as u64) as u32;
            let payload = proto::payload(s.step, room.room, seq, due_ns, slot);
            let frame = format!(
                r#"{{"op":"message_create","d":{{"channel_id":"{}","content":"{payload}","nonce":"{payload}"}}}}"#,
                room.address
            );
            let outbox = &room.outboxes[slot as usize];
            if outbox.send_text(frame.as_bytes()).await.is_ok() {
                pending += 1;
            } else {
                acc.lock()
                    .expect("send poisoned")
                    .failed("member socket closed".into());
            }
            j += 1;
        }
        if j >= s.total && (pending == 0 || s.until_deadline().is_zero()) {
            break;
        }
        let (wake_ns, then_every_ns) = s.next_wake_ns(j);
        tokio::select! {
            first = answers.recv() => {
                let Some(first) = first else { break };
                let mut acc = acc.lock().expect("send poisoned");
                let mut next = Some(first);
                while let Some(a) = next {
                    match a {
                        Answer::Acked { step, room, due_ns } if step == s.step => {
                            pending = pending.saturating_sub(1);
                            acc.ok(room, due_ns);
                        }
                        Answer::Refused { step, why } if step == s.step => {
                            pending = pending.saturating_sub(1);
                            acc.failed(why);
                        }
                        _ => {}
                    }
                    next = answers.try_recv().ok();
                }
            }
            () = self::wait(&pacer, wake_ns, then_every_ns) => {}
        }
    }
    late.add_to(acc);
    let mut acc = acc.lock().expect("send poisoned");
    for _ in 0..pending {
        acc.failed("no acknowledgement".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The due times of every message of `s`.
    fn due_times(s: &Schedule) -> Vec<u64> {
        (0..s.total).map(|j| s.due_ns(j)).collect()
    }

    #[test]
    fn parts_of_a_schedule_offer_it_evenly() {
        // 10,000 messages a second, sent as a peer's are: three workers, each with its
        // third of the rooms over eight sender sockets.
        let whole = Schedule {
            step: 1,
            rate: 10_000.0,
            total: 4_800,
            start_ns: 1_000_000_000,
            deadline_ns: 3_000_000_000,
        };
        let mut due = Vec::new();
        for w in 0..3 {
            let worker = whole.part(w, 1.0 / 3.0);
            assert_eq!(worker.total, 1_600);
            for lane in 0..8 {
                due.extend(due_times(&worker.part(lane, 1.0 / 8.0)));
            }
        }
        due.sort_unstable();
        let one_sender = due_times(&whole);
        assert_eq!(due.len(), one_sender.len());
        for (k, (parts, one)) in due.iter().zip(&one_sender).enumerate() {
            assert!(
                parts.abs_diff(*one) <= 2,
                "message {k}: due at {parts} ns from the parts, {one} ns from one sender"
            );
        }
        // From one start the 24 senders' messages would come in bursts of 24.
        let same_start = Schedule {
            rate: 10_000.0 / 24.0,
            total: 200,
            ..whole
        };
        let bursts = due_times(&same_start);
        assert_eq!(bursts[0], one_sender[0]);
        assert!(bursts[1].abs_diff(one_sender[24]) <= 2);
    }

    #[test]
    fn a_part_without_rooms_sends_nothing() {
        let whole = Schedule {
            step: 1,
            rate: 50.0,
            total: 100,
            start_ns: 0,
            deadline_ns: 10_000_000_000,
        };
        let none = whole.part(3, 0.0);
        assert_eq!((none.total, none.rate), (0, 0.0));
        assert_eq!(
            none.start_ns, 60_000_000,
            "three spacings of the whole rate"
        );
        assert_eq!(phase_ns(5, 0.0), 0);
    }
}
