//! The load itself: receivers (one identified gateway session per room member) and an
//! open-loop sender.
//!
//! The sender runs at a constant arrival rate: message *i* of a step is due at
//! `start + i / rate`, whatever happened to earlier ones, and its payload carries that due
//! time. Receivers measure latency from the due time, so a server that falls behind shows
//! it in the latency instead of slowing the sender down (no coordinated omission).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::hist;
use crate::seed::Room;

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
    pub last: std::collections::HashMap<(u32, u64), (u32, u64)>,
}

impl StepStats {
    fn new() -> Self {
        Self {
            latency: hist::new(),
            received: 0,
            duplicates: 0,
            reordered: 0,
            last: std::collections::HashMap::new(),
        }
    }
}

/// Shared by all receivers.
pub struct Recorder {
    steps: Mutex<Vec<StepStats>>,
    track_last: bool,
}

impl Recorder {
    /// A recorder; `track_last` keeps, per message, the time to its last recipient.
    pub fn new(track_last: bool) -> Arc<Self> {
        Arc::new(Self {
            steps: Mutex::new(Vec::new()),
            track_last,
        })
    }

    fn record(&self, step: usize, room: u32, seq: u64, micros: u64, order: Order) {
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

enum Order {
    Fresh,
    Duplicate,
    Reordered,
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match ws.next().await.context("closed")?? {
            Message::Text(t) => return Ok(serde_json::from_str(&t)?),
            Message::Close(c) => bail!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Connects and identifies; returns the socket after `ready`.
pub async fn identify(ws_url: &str, token: &str) -> anyhow::Result<Socket> {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let hello = next_json(&mut ws).await?;
    if hello["op"] != "hello" {
        bail!("expected hello, got {hello}");
    }
    ws.send(Message::Text(
        json!({"op": "identify", "d": {"token": token}})
            .to_string()
            .into(),
    ))
    .await?;
    loop {
        let f = next_json(&mut ws).await?;
        if f["op"] == "ready" {
            return Ok(ws);
        }
        if f["op"] == "invalid_session" {
            bail!("identify refused");
        }
    }
}

/// The bench payload: `pb:<step>:<room>:<seq>:<due unix ns>`.
pub fn payload(step: usize, room: u32, seq: u64, due_ns: u64) -> String {
    format!("pb:{step}:{room}:{seq}:{due_ns}")
}

fn parse_payload(s: &str) -> Option<(usize, u32, u64, u64)> {
    let mut it = s.strip_prefix("pb:")?.split(':');
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    ))
}

/// Reads one session's events until it closes, recording `message.created` latencies.
async fn receive(mut ws: Socket, rec: Arc<Recorder>) {
    let mut last_seq: Option<(usize, u64)> = None;
    let heartbeat = Duration::from_secs(25);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    loop {
        tokio::select! {
            msg = ws.next() => {
                let Some(Ok(Message::Text(t))) = msg else {
                    match msg {
                        Some(Ok(_)) => continue,
                        _ => return,
                    }
                };
                // Cheap filter before parsing: only message.created frames matter.
                if !t.contains("\"message.created\"") {
                    continue;
                }
                let now = unix_ns();
                let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                let Some((step, room, seq, due)) = v["d"]["content"].as_str().and_then(parse_payload) else {
                    continue;
                };
                let order = match last_seq {
                    Some((s, q)) if s == step && q == seq => Order::Duplicate,
                    Some((s, q)) if s == step && q > seq => Order::Reordered,
                    _ => Order::Fresh,
                };
                if !matches!(order, Order::Reordered) {
                    last_seq = Some((step, seq));
                }
                rec.record(step, room, seq, now.saturating_sub(due) / 1000, order);
            }
            _ = beat.tick() => {
                if ws.send(Message::Text(r#"{"op":"heartbeat","d":null}"#.into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One gateway session per member of every room, `concurrency` connecting at a time.
/// Returns the connect+identify rate (per second).
pub async fn connect_fleet(
    ws_url: &str,
    rooms: &[Room],
    concurrency: usize,
    rec: &Arc<Recorder>,
) -> anyhow::Result<f64> {
    let tokens: Vec<String> = rooms
        .iter()
        .flat_map(|r| r.members.iter().map(|m| m.token.clone()))
        .collect();
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (tokens, next, ws_url, rec) =
            (tokens.clone(), next.clone(), ws_url.to_owned(), rec.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= tokens.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                let ws = identify(&ws_url, &tokens[i]).await?;
                tokio::spawn(receive(ws, rec.clone()));
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(tokens.len() as f64 / started.elapsed().as_secs_f64())
}

/// What the sender did in one step.
#[derive(Debug)]
pub struct Sent {
    /// Accepted messages (201) per room.
    pub accepted_per_room: Vec<u64>,
    /// Refused or failed sends.
    pub errors: u64,
    /// Due-time-to-answer latency of every accepted send (the REST acknowledgement).
    pub ack: Histogram<u64>,
    /// How long the step ran.
    pub elapsed: Duration,
}

/// Sends `rate` messages per second for `duration`, spread round-robin over `rooms`, each by
/// the room's members in turn, through `POST /channels/{id}/messages`.
pub async fn send_step(
    http: &reqwest::Client,
    base: &str,
    rooms: &[Room],
    step: usize,
    rate: f64,
    duration: Duration,
) -> Sent {
    let n = rooms.len();
    let accepted: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let errors = Arc::new(AtomicU64::new(0));
    let ack = Arc::new(Mutex::new(hist::new()));
    let total = (rate * duration.as_secs_f64()).round() as u64;
    let start = Instant::now();
    let start_ns = unix_ns();
    let mut tasks = Vec::with_capacity(total as usize);
    let mut i: u64 = 0;
    while i < total {
        let due_count = ((start.elapsed().as_secs_f64() * rate) as u64 + 1).min(total);
        while i < due_count {
            let room_idx = (i % n as u64) as usize;
            let seq = i / n as u64;
            let room = &rooms[room_idx];
            let member = &room.members[(seq % room.members.len() as u64) as usize];
            let due_ns = start_ns + (i as f64 / rate * 1e9) as u64;
            let req = http
                .post(format!(
                    "{base}/api/v1/channels/{}/messages",
                    room.channel_id
                ))
                .bearer_auth(&member.token)
                .json(&json!({"content": payload(step, room_idx as u32, seq, due_ns)}));
            let (accepted, errors, ack) = (accepted.clone(), errors.clone(), ack.clone());
            tasks.push(tokio::spawn(async move {
                match req.send().await {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        accepted[room_idx].fetch_add(1, Ordering::Relaxed);
                        let micros = unix_ns().saturating_sub(due_ns) / 1000;
                        hist::record(&mut ack.lock().expect("ack poisoned"), micros);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
            i += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed();
    let ack = std::mem::replace(&mut *ack.lock().expect("ack poisoned"), hist::new());
    Sent {
        accepted_per_room: accepted.iter().map(|a| a.load(Ordering::Relaxed)).collect(),
        errors: errors.load(Ordering::Relaxed),
        ack,
        elapsed,
    }
}

/// Waits until `expected` deliveries of `step` arrived, or `patience` passed without progress.
pub async fn drain(rec: &Recorder, step: usize, expected: u64, patience: Duration) {
    let mut last = rec.received(step);
    let mut still = Instant::now();
    while last < expected && still.elapsed() < patience {
        tokio::time::sleep(Duration::from_millis(50)).await;
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

    #[test]
    fn payloads_round_trip() {
        let p = payload(3, 7, 42, 1_700_000_000_000_000_000);
        assert_eq!(
            parse_payload(&p),
            Some((3, 7, 42, 1_700_000_000_000_000_000))
        );
        assert_eq!(parse_payload("hello"), None);
        assert_eq!(parse_payload("pb:1:2:x:4"), None);
    }

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
