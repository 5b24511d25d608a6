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
use tokio::sync::mpsc;

use crate::hist;
use crate::net::http::Pool;
use crate::net::ws::Ws;
use crate::proto::{self, MemberSpec, SenderRoom, Target, Wire};
use crate::recorder::{OrderCheck, Recorder};
use crate::send::{self, Answer, GatewayRoom, Outbox, PeerSender, Schedule, SendAcc};

/// How papo's messages are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SendVia {
    /// `message_create` on the author's own gateway socket (as the web app sends).
    #[default]
    Gateway,
    /// `POST /api/v1/channels/{id}/messages`.
    Rest,
}

/// A command from the coordinator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Take these members' connections, to open and identify at [`Command::Go`]. The
    /// coordinator hands every worker its share before any starts, so that the connect
    /// phase is timed from when all of them begin, not from when the first is told.
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
        /// Connections not open by then (counted from [`Command::Go`]) count as failed.
        deadline_ms: u64,
    },
    /// Open and identify the connections [`Command::Connect`] gave.
    Go,
    /// The rooms this worker sends to.
    Senders {
        /// The rooms.
        rooms: Vec<SenderRoom>,
        /// Papo: over the members' sockets or over REST.
        #[serde(default)]
        via: SendVia,
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
    /// Members taken; waiting for [`Command::Go`].
    Prepared,
    /// Connections opened.
    Connected {
        /// Identified.
        ok: u64,
        /// Failed.
        failed: u64,
        /// Why the first failure failed.
        first_error: Option<String>,
        /// Each identified session's time from its first connect attempt to `ready`.
        latency: hist::Wire,
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
        /// Due time → handed to the socket.
        late: hist::Wire,
    },
    /// Deliveries of a step.
    Collected {
        /// Deliveries.
        received: u64,
        /// Duplicates.
        duplicates: u64,
        /// Out of order.
        reordered: u64,
        /// Out of the order their own author sent them in.
        reordered_same_author: u64,
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

/// Sender connections per worker for the WebSocket peers.
const PEER_SENDERS: usize = 8;

struct State {
    target: Option<Target>,
    source: Option<IpAddr>,
    rec: Arc<Recorder>,
    rooms: Vec<SenderRoom>,
    pool: Option<Arc<Pool>>,
    peer_senders: Vec<PeerSender>,
    /// Papo: each local member's socket by its token.
    outboxes: Arc<Mutex<HashMap<String, Outbox>>>,
    /// Papo: how this worker sends.
    via: SendVia,
    /// Papo: the rooms sent to over the gateway.
    gateway_rooms: Vec<GatewayRoom>,
    /// The connections taken by `connect`, waiting for `go`.
    pending: Option<PendingConnect>,
    /// Papo: what the members' sockets heard back about their sends.
    answers: (
        mpsc::UnboundedSender<Answer>,
        mpsc::UnboundedReceiver<Answer>,
    ),
}

impl State {
    /// A worker that has been told nothing yet.
    fn new() -> Self {
        Self {
            target: None,
            source: None,
            rec: Recorder::new(false),
            rooms: Vec::new(),
            pool: None,
            peer_senders: Vec::new(),
            outboxes: Arc::default(),
            via: SendVia::default(),
            gateway_rooms: Vec::new(),
            pending: None,
            answers: mpsc::unbounded_channel(),
        }
    }
}

/// Runs a worker on stdin/stdout until `quit` or end of input.
pub async fn run() -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdout = tokio::io::stdout();
    let mut st = State::new();
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
            st.pending = Some(PendingConnect {
                members,
                concurrency,
                announce,
                deadline: Duration::from_millis(deadline_ms),
            });
            Ok(Reply::Prepared)
        }
        Command::Go => {
            let target = st.target.ok_or_else(|| anyhow::anyhow!("connect first"))?;
            let p = st
                .pending
                .take()
                .ok_or_else(|| anyhow::anyhow!("connect first"))?;
            let how = Joining {
                target,
                source: st.source,
                announce: p.announce,
                deadline: tokio::time::Instant::now() + p.deadline,
            };
            let papo =
                (target.wire == Wire::Papo).then(|| (st.outboxes.clone(), st.answers.0.clone()));
            Ok(connect_all(how, p.members, p.concurrency, &st.rec, papo).await)
        }
        Command::Senders { rooms, via } => {
            let target = st.target.ok_or_else(|| anyhow::anyhow!("connect first"))?;
            st.rooms = rooms;
            st.via = via;
            st.gateway_rooms.clear();
            if target.wire == Wire::Papo && via == SendVia::Gateway {
                let outboxes = st.outboxes.lock().expect("poisoned");
                for room in &st.rooms {
                    let mine: Vec<Outbox> = room
                        .creds
                        .iter()
                        .filter_map(|c| outboxes.get(c).cloned())
                        .collect();
                    anyhow::ensure!(
                        !mine.is_empty(),
                        "room {}: no member socket in this worker",
                        room.room
                    );
                    st.gateway_rooms.push(GatewayRoom {
                        room: room.room,
                        address: room.address.clone(),
                        outboxes: mine,
                    });
                }
            } else if target.wire == Wire::Papo {
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
            if target.wire == Wire::Papo && st.via == SendVia::Gateway {
                send::send_gateway(&st.gateway_rooms, schedule, &acc, &mut st.answers.1).await;
            } else if target.wire == Wire::Papo {
                let pool = st
                    .pool
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("no senders"))?;
                send::send_papo(pool, &st.rooms, schedule, acc.clone()).await;
            } else {
                send::send_peers(target.wire, &mut st.peer_senders, &st.rooms, schedule, &acc)
                    .await;
            }
            let acc = std::mem::take(&mut *acc.lock().expect("send poisoned"));
            Ok(Reply::Sent {
                accepted: acc.accepted.into_iter().collect(),
                errors: acc.errors,
                first_error: acc.first_error,
                ack: hist::to_wire(&acc.ack),
                late: hist::to_wire(&acc.late),
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
                reordered_same_author: s.reordered_same_author,
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

/// What [`Command::Connect`] gave, until [`Command::Go`].
struct PendingConnect {
    members: Vec<MemberSpec>,
    concurrency: usize,
    announce: bool,
    deadline: Duration,
}

/// How members join.
#[derive(Clone, Copy)]
struct Joining {
    target: Target,
    source: Option<IpAddr>,
    announce: bool,
    deadline: tokio::time::Instant,
}

/// Papo: where member sockets register as senders, and where they report answers.
type PapoSenders = (
    Arc<Mutex<HashMap<String, Outbox>>>,
    mpsc::UnboundedSender<Answer>,
);

async fn connect_all(
    how: Joining,
    members: Vec<MemberSpec>,
    concurrency: usize,
    rec: &Arc<Recorder>,
    papo: Option<PapoSenders>,
) -> Reply {
    let members = Arc::new(members);
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    // One histogram for all the tasks: each is ~180 KB, and one per task had every worker
    // fault in megabytes of fresh pages as its connections began, while the server waited.
    let latency = Arc::new(Mutex::new(hist::new()));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (members, next, failed, first_error, rec, papo, latency) = (
            members.clone(),
            next.clone(),
            failed.clone(),
            first_error.clone(),
            rec.clone(),
            papo.clone(),
            latency.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(m) = members.get(i) else {
                    return;
                };
                let began = Instant::now();
                let joined = tokio::time::timeout_at(how.deadline, join(how, m))
                    .await
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!("not connected within the time limit"))
                    });
                match joined {
                    Ok(ws) => {
                        let took = began.elapsed().as_micros() as u64;
                        hist::record(&mut latency.lock().expect("poisoned"), took);
                        let answers = papo.as_ref().map(|(outboxes, answers)| {
                            outboxes
                                .lock()
                                .expect("poisoned")
                                .insert(m.cred.clone(), ws.writer());
                            answers.clone()
                        });
                        tokio::spawn(receive(ws, how.target.wire, rec.clone(), answers));
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
    let latency = hist::to_wire(&latency.lock().expect("poisoned"));
    let failed = failed.load(Ordering::Relaxed);
    Reply::Connected {
        ok: members.len() as u64 - failed,
        failed,
        first_error: first_error.lock().expect("poisoned").take(),
        latency,
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
/// session alive the way each protocol's own clients do. A papo member's socket is also
/// written by the sending loop ([`Outbox`]); this task reports the answers to its sends.
async fn receive(
    mut ws: Ws,
    wire: Wire,
    rec: Arc<Recorder>,
    answers: Option<mpsc::UnboundedSender<Answer>>,
) {
    // Papo's heartbeat (interval 30 s, sent a little early) acknowledges the last event.
    let _closed = rec.connection_guard();
    let period = Duration::from_secs(22);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut order = OrderCheck::default();
    let mut last_event_seq: u64 = 0;
    loop {
        let mut engine_ping = false;
        // Biased: the socket first, and it is left only to write, so a wake-up for a frame
        // polls the heartbeat once, after the frames are handled.
        tokio::select! {
            biased;
            read = ws.read_on(|t| {
                if wire == Wire::SocketIo && t == b"2" {
                    engine_ping = true;
                    return true;
                }
                if let Some(answers) = &answers
                    && let Some(answer) = answer_in(t)
                {
                    let _ = answers.send(answer);
                    return false;
                }
                if wire == Wire::Papo && let Some(s) = proto::event_seq(t) {
                    last_event_seq = s;
                }
                let Some(stamp) = proto::find_payload(t) else { return false };
                let now = crate::recorder::unix_ns();
                let micros = now.saturating_sub(stamp.due_ns) / 1000;
                rec.record(stamp.step, stamp.room, stamp.seq, micros, order.check(&stamp));
                false
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

/// The answer to a send in a papo frame: `message_ack` or an `error` with a bench nonce.
/// Papo writes `op` first, so every delivery (`{"op":"event",…`) is passed over by its prefix
/// instead of a scan of the whole frame.
fn answer_in(frame: &[u8]) -> Option<Answer> {
    let acked = frame.starts_with(br#"{"op":"message_ack""#);
    if !acked && !frame.starts_with(br#"{"op":"error""#) {
        return None;
    }
    let proto::Stamp {
        step, room, due_ns, ..
    } = proto::find_payload(frame)?;
    Some(if acked {
        Answer::Acked { step, room, due_ns }
    } else {
        Answer::Refused {
            step,
            why: String::from_utf8_lossy(frame).into_owned(),
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(members: Vec<MemberSpec>) -> Command {
        Command::Connect {
            target: Target {
                wire: Wire::Papo,
                server: "127.0.0.1:9".parse().expect("address"),
            },
            source: None,
            members,
            concurrency: 4,
            track_last: false,
            announce: false,
            deadline_ms: 1_000,
        }
    }

    #[tokio::test]
    async fn connections_wait_for_go_and_go_needs_a_connect() {
        let mut st = State::new();
        let early = handle(&mut st, Command::Go).await;
        assert!(early.is_err_and(|e| e.to_string() == "connect first"));
        assert!(matches!(
            handle(&mut st, connect(Vec::new())).await,
            Ok(Reply::Prepared)
        ));
        assert!(st.pending.is_some(), "connect only takes the members");
        match handle(&mut st, Command::Go).await {
            Ok(Reply::Connected { ok, failed, .. }) => assert_eq!((ok, failed), (0, 0)),
            other => panic!("expected connected, got {other:?}"),
        }
        let again = handle(&mut st, Command::Go).await;
        assert!(again.is_err(), "one go per connect");
    }
}
