//! A load worker: one process (pinned to the generator's core) that holds a share of the
//! receiver connections and sends a share of the messages. The coordinator (`compare`)
//! drives workers with one JSON command per line on stdin and reads one JSON reply per line
//! on stdout; several workers spread the connections over processes (a process may open at
//! most 20,000 files here) and over source addresses (~31k ports each, see `net::ws::tcp`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::hist;
use crate::net::http::Pool;
use crate::net::ws::Ws;
use crate::proto::{self, MemberSpec, SenderRoom, Target, Wire};
use crate::recorder::{Order, Recorder};

/// A command from the coordinator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Open and identify these members' connections.
    Connect {
        /// The system.
        target: Target,
        /// Source address for this worker's sockets.
        source: Option<IpAddr>,
        /// The members.
        members: Vec<MemberSpec>,
        /// Connections opened at once.
        concurrency: usize,
        /// Keep, per message, how many received it and the latest latency (S3).
        track_last: bool,
        /// Peers: members announce their presence to their room.
        announce: bool,
        /// Connections not open by then count as failed.
        deadline_ms: u64,
    },
    /// The rooms this worker sends to.
    Senders {
        /// The rooms.
        rooms: Vec<SenderRoom>,
    },
    /// Send `rate` messages per second for `duration_ms`, starting at `start_unix_ns`.
    Send {
        /// Step number (in every payload).
        step: usize,
        /// Messages per second from this worker.
        rate: f64,
        /// How long.
        duration_ms: u64,
        /// Common start time of all workers.
        start_unix_ns: u64,
        /// How long after the last message is due answers are still waited for.
        grace_ms: u64,
    },
    /// Wait for `expected` deliveries of `step` (or `patience_ms` without progress), then
    /// report what arrived.
    Collect {
        /// Step.
        step: usize,
        /// Deliveries expected at this worker.
        expected: u64,
        /// Give up after this long without a new delivery.
        patience_ms: u64,
        /// Give up after this long in any case (what is missing then is lost).
        grace_ms: u64,
    },
    /// Exit.
    Quit,
}

/// A worker's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// Connections opened.
    Connected {
        /// Identified.
        ok: u64,
        /// Failed.
        failed: u64,
        /// Why the first failure failed.
        first_error: Option<String>,
    },
    /// Senders ready.
    Ready,
    /// A send step finished (every answer received or timed out).
    Sent {
        /// Accepted messages per room.
        accepted: Vec<(u32, u64)>,
        /// Refused or failed sends.
        errors: u64,
        /// The first failure.
        first_error: Option<String>,
        /// Due time → acknowledgement latency.
        ack: hist::Wire,
    },
    /// Deliveries of a step.
    Collected {
        /// Deliveries.
        received: u64,
        /// Duplicates.
        duplicates: u64,
        /// Out of order.
        reordered: u64,
        /// Due time → receipt latency.
        latency: hist::Wire,
        /// Per message (room, seq, deliveries, latest latency µs) when tracked.
        last: Vec<(u32, u64, u32, u64)>,
        /// Receiving connections closed so far (by the server: the bench never closes one).
        closed: u64,
    },
    /// The command failed.
    Error {
        /// Why.
        message: String,
    },
}

/// Most requests one worker has in flight (each on its own keep-alive connection).
const MAX_IN_FLIGHT: usize = 512;
/// Sender connections per worker for the WebSocket peers.
const PEER_SENDERS: usize = 8;

struct State {
    target: Option<Target>,
    source: Option<IpAddr>,
    rec: Arc<Recorder>,
    rooms: Vec<SenderRoom>,
    pool: Option<Arc<Pool>>,
    peer_senders: Vec<PeerSender>,
}

/// A sender connection to a peer, with its next acknowledgement id (never reused, so a late
/// answer to an earlier step cannot be taken for a new one).
struct PeerSender {
    ws: Ws,
    next_ack: u64,
}

/// Runs a worker on stdin/stdout until `quit` or end of input.
pub async fn run() -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut st = State {
        target: None,
        source: None,
        rec: Recorder::new(false),
        rooms: Vec::new(),
        pool: None,
        peer_senders: Vec::new(),
    };
    while let Some(line) = lines.next_line().await? {
        let cmd: Command = serde_json::from_str(&line)?;
        if matches!(cmd, Command::Quit) {
            break;
        }
        let reply = handle(&mut st, cmd).await.unwrap_or_else(|e| Reply::Error {
            message: format!("{e:#}"),
        });
        let mut out = serde_json::to_vec(&reply)?;
        out.push(b'\n');
        stdout.write_all(&out).await?;
        stdout.flush().await?;
    }
    Ok(())
}

async fn handle(st: &mut State, cmd: Command) -> anyhow::Result<Reply> {
    match cmd {
        Command::Connect {
            target,
            source,
            members,
            concurrency,
            track_last,
            announce,
            deadline_ms,
        } => {
            st.target = Some(target);
            st.source = source;
            st.rec = Recorder::new(track_last);
            let how = Joining {
                target,
                source,
                announce,
                deadline: tokio::time::Instant::now() + Duration::from_millis(deadline_ms),
            };
            Ok(connect_all(how, members, concurrency, &st.rec).await)
        }
        Command::Senders { rooms } => {
            let target = st.target.ok_or_else(|| anyhow::anyhow!("connect first"))?;
            st.rooms = rooms;
            if target.wire == Wire::Papo {
                st.pool = Some(Arc::new(Pool::new(target.server, st.source)));
            } else if st.peer_senders.is_empty() {
                for k in 0..PEER_SENDERS {
                    let name = format!("sender{}_{k}", std::process::id());
                    let mut pause = Duration::from_millis(50);
                    let mut attempt = 1;
                    let ws = loop {
                        match proto::connect_sender(&target, st.source, &name).await {
                            Ok(ws) => break ws,
                            Err(e) if attempt >= JOIN_ATTEMPTS => return Err(e),
                            Err(_) => {
                                tokio::time::sleep(pause).await;
                                pause *= 2;
                                attempt += 1;
                            }
                        }
                    };
                    st.peer_senders.push(PeerSender { ws, next_ack: 1 });
                }
            }
            Ok(Reply::Ready)
        }
        Command::Send {
            step,
            rate,
            duration_ms,
            start_unix_ns,
            grace_ms,
        } => {
            let target = st.target.ok_or_else(|| anyhow::anyhow!("connect first"))?;
            let schedule = Schedule {
                step,
                rate,
                total: (rate * duration_ms as f64 / 1000.0).round() as u64,
                start_ns: start_unix_ns,
                deadline_ns: start_unix_ns + (duration_ms + grace_ms) * 1_000_000,
            };
            let acc = Arc::new(Mutex::new(SendAcc::default()));
            if target.wire == Wire::Papo {
                let pool = st
                    .pool
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("no senders"))?;
                send_papo(pool, &st.rooms, schedule, acc.clone()).await;
            } else {
                send_peers(target.wire, &mut st.peer_senders, &st.rooms, schedule, &acc).await;
            }
            let acc = std::mem::take(&mut *acc.lock().expect("send poisoned"));
            Ok(Reply::Sent {
                accepted: acc.accepted.into_iter().collect(),
                errors: acc.errors,
                first_error: acc.first_error,
                ack: hist::to_wire(&acc.ack),
            })
        }
        Command::Collect {
            step,
            expected,
            patience_ms,
            grace_ms,
        } => {
            let patience = Duration::from_millis(patience_ms);
            drain(
                &st.rec,
                step,
                expected,
                patience,
                Duration::from_millis(grace_ms),
            )
            .await;
            let s = st.rec.take(step);
            Ok(Reply::Collected {
                received: s.received,
                duplicates: s.duplicates,
                reordered: s.reordered,
                latency: hist::to_wire(&s.latency),
                last: s
                    .last
                    .into_iter()
                    .map(|((room, seq), (n, max))| (room, seq, n, max))
                    .collect(),
                closed: st.rec.closed(),
            })
        }
        Command::Quit => Ok(Reply::Ready),
    }
}

/// How members join.
#[derive(Clone, Copy)]
struct Joining {
    target: Target,
    source: Option<IpAddr>,
    announce: bool,
    deadline: tokio::time::Instant,
}

async fn connect_all(
    how: Joining,
    members: Vec<MemberSpec>,
    concurrency: usize,
    rec: &Arc<Recorder>,
) -> Reply {
    let members = Arc::new(members);
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (members, next, failed, first_error, rec) = (
            members.clone(),
            next.clone(),
            failed.clone(),
            first_error.clone(),
            rec.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(m) = members.get(i) else { return };
                let joined = tokio::time::timeout_at(how.deadline, join(how, m))
                    .await
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!("not connected within the time limit"))
                    });
                match joined {
                    Ok(ws) => {
                        tokio::spawn(receive(ws, how.target.wire, rec.clone()));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .expect("poisoned")
                            .get_or_insert(format!("{e:#}"));
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let failed = failed.load(Ordering::Relaxed);
    Reply::Connected {
        ok: members.len() as u64 - failed,
        failed,
        first_error: first_error.lock().expect("poisoned").take(),
    }
}

/// Attempts a member's connection as a client would: up to [`JOIN_ATTEMPTS`] times, with
/// a growing pause between attempts (a server refusing connections under a burst gets them
/// again a little later).
async fn join(how: Joining, m: &MemberSpec) -> anyhow::Result<Ws> {
    let mut pause = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match proto::connect_member(&how.target, how.source, m, how.announce).await {
            Ok(ws) => return Ok(ws),
            Err(e) if attempt >= JOIN_ATTEMPTS => return Err(e),
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
        }
    }
}

/// Connection attempts per member.
const JOIN_ATTEMPTS: u32 = 5;

/// Reads one member's frames until the connection closes, recording deliveries; keeps the
/// session alive the way each protocol's own clients do.
async fn receive(mut ws: Ws, wire: Wire, rec: Arc<Recorder>) {
    // Papo's heartbeat (interval 30 s, sent a little early) acknowledges the last event.
    let _closed = rec.connection_guard();
    let period = Duration::from_secs(22);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut last: Option<(usize, u64)> = None;
    let mut last_event_seq: u64 = 0;
    loop {
        let mut engine_ping = false;
        tokio::select! {
            read = ws.read_frames(|t| {
                if wire == Wire::SocketIo && t == b"2" {
                    engine_ping = true;
                    return;
                }
                if wire == Wire::Papo && let Some(s) = proto::number_after(t, br#""s":"#) {
                    last_event_seq = s;
                }
                let Some((step, room, seq, due)) = proto::find_payload(t) else { return };
                let now = crate::recorder::unix_ns();
                let order = match last {
                    Some((s, q)) if s == step && q == seq => Order::Duplicate,
                    Some((s, q)) if s == step && q > seq => Order::Reordered,
                    _ => Order::Fresh,
                };
                if !matches!(order, Order::Reordered) {
                    last = Some((step, seq));
                }
                rec.record(step, room, seq, now.saturating_sub(due) / 1000, order);
            }) => {
                match read {
                    Ok(Some(pongs)) => {
                        if ws.send_pongs(pongs).await.is_err() {
                            return;
                        }
                    }
                    _ => return,
                }
                if engine_ping && ws.send_text(b"3").await.is_err() {
                    return;
                }
            }
            _ = beat.tick(), if wire == Wire::Papo => {
                let hb = format!(r#"{{"op":"heartbeat","d":{{"seq":{last_event_seq}}}}}"#);
                if ws.send_text(hb.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Which message is due when: message `j` of this worker goes to room `j % rooms` with
/// sequence `j / rooms` and is due at `start + j / rate`, whatever happened to earlier ones
/// (open loop: latency is measured from the due time, so a server that falls behind shows
/// it as latency instead of slowing the sender down).
#[derive(Clone, Copy)]
struct Schedule {
    step: usize,
    rate: f64,
    total: u64,
    start_ns: u64,
    /// Answers not in by then are counted as failures.
    deadline_ns: u64,
}

impl Schedule {
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

    /// How long until message `j` is due.
    fn wait_for(&self, j: u64) -> Duration {
        Duration::from_nanos(self.due_ns(j).saturating_sub(crate::recorder::unix_ns()))
    }

    /// How long until the deadline for answers.
    fn until_deadline(&self) -> Duration {
        Duration::from_nanos(self.deadline_ns.saturating_sub(crate::recorder::unix_ns()))
    }
}

struct SendAcc {
    accepted: HashMap<u32, u64>,
    errors: u64,
    first_error: Option<String>,
    ack: hdrhistogram::Histogram<u64>,
}

impl Default for SendAcc {
    fn default() -> Self {
        Self {
            accepted: HashMap::new(),
            errors: 0,
            first_error: None,
            ack: hist::new(),
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

/// Papo: each message is a `POST` (the real send path), at most [`MAX_IN_FLIGHT`] at once.
async fn send_papo(pool: Arc<Pool>, rooms: &[SenderRoom], s: Schedule, acc: Arc<Mutex<SendAcc>>) {
    let n = rooms.len() as u64;
    if n == 0 || s.total == 0 {
        return;
    }
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let mut j = 0;
    while j < s.total {
        tokio::time::sleep(s.wait_for(j)).await;
        let due = s.due_by_now();
        while j < due {
            let room = &rooms[(j % n) as usize];
            let seq = j / n;
            let author = &room.creds[(seq % room.creds.len() as u64) as usize];
            let due_ns = s.due_ns(j);
            let path = format!("/api/v1/channels/{}/messages", room.address);
            let body = format!(
                r#"{{"content":"{}"}}"#,
                proto::payload(s.step, room.room, seq, due_ns)
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

/// Peers: sends go over [`PEER_SENDERS`] WebSocket connections, each with its own share of
/// the rooms (so a room's messages leave in order) and its own acknowledgement ids.
async fn send_peers(
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
        let lane = Schedule {
            rate: s.rate * share,
            total: (s.total as f64 * share).round() as u64,
            ..s
        };
        lanes.push(peer_lane(wire, sender, mine, lane, acc));
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
    let mut j = 0;
    let mut out = Vec::new();
    loop {
        let due = s.due_by_now();
        while j < due {
            let room = rooms[(j % n) as usize];
            let due_ns = s.due_ns(j);
            let content = proto::payload(s.step, room.room, j / n, due_ns);
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
        let wait = if j < s.total {
            s.wait_for(j)
        } else {
            s.until_deadline()
        };
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
            () = tokio::time::sleep(wait) => {}
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
    let mut acc = acc.lock().expect("send poisoned");
    for _ in 0..pending.len() {
        acc.failed("no acknowledgement".into());
    }
}

/// Waits until `expected` deliveries of `step` arrived, or `patience` passed without
/// progress, or `grace` passed in all (what is still missing then is lost).
async fn drain(rec: &Recorder, step: usize, expected: u64, patience: Duration, grace: Duration) {
    let started = Instant::now();
    let mut last = rec.received(step);
    let mut still = Instant::now();
    while last < expected && still.elapsed() < patience && started.elapsed() < grace {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = rec.received(step);
        if now != last {
            last = now;
            still = Instant::now();
        }
    }
}
