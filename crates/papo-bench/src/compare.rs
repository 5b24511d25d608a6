//! `compare`: the scenarios, run against a real papo, with a table and a JSON summary.
//!
//! S2 small rooms (rate rising step by step), S3 one big room (time to the last recipient),
//! S4 persisted sends (acknowledgement latency at a fixed rate, then the highest rate).
//! S1 (idle sessions) is `papo-bench idle`. The peer stacks (Socket.IO, Django Channels) are
//! listed as not run until their harness lands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::hist::{self, Summary};
use crate::load::{self, Recorder};
use crate::seed;
use crate::server::{self, TempDir};

/// Sizes and durations of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// S2: rooms × members.
    pub s2_rooms: usize,
    /// S2: members per room.
    pub s2_size: usize,
    /// S2: delivery rates to try, per second.
    pub s2_rates: Vec<f64>,
    /// S3: members of the one room.
    pub s3_members: usize,
    /// S3: messages per second.
    pub s3_rate: f64,
    /// S4: rooms of one member each.
    pub s4_rooms: usize,
    /// S4: messages per second for the acknowledgement latency.
    pub s4_rate: f64,
    /// S4: rates to try for throughput.
    pub s4_rates: Vec<f64>,
    /// Seconds per step.
    pub step: Duration,
}

impl Plan {
    /// About two minutes.
    pub fn quick() -> Self {
        Self {
            s2_rooms: 200,
            s2_size: 10,
            s2_rates: vec![10_000.0, 20_000.0, 40_000.0],
            s3_members: 2_000,
            s3_rate: 5.0,
            s4_rooms: 200,
            s4_rate: 1_000.0,
            s4_rates: vec![2_000.0, 4_000.0],
            step: Duration::from_secs(3),
        }
    }

    /// The reference run (the sizes).
    pub fn full() -> Self {
        Self {
            s2_rooms: 1_600,
            s2_size: 10,
            s2_rates: vec![
                25_000.0, 50_000.0, 100_000.0, 150_000.0, 200_000.0, 300_000.0,
            ],
            s3_members: 18_000,
            s3_rate: 5.0,
            s4_rooms: 1_000,
            s4_rate: 5_000.0,
            s4_rates: vec![5_000.0, 10_000.0, 20_000.0, 50_000.0],
            step: Duration::from_secs(10),
        }
    }

    /// A few seconds: for CI, to keep the tool working (nothing asserted on timings).
    pub fn smoke() -> Self {
        Self {
            s2_rooms: 5,
            s2_size: 4,
            s2_rates: vec![200.0],
            s3_members: 20,
            s3_rate: 5.0,
            s4_rooms: 5,
            s4_rate: 50.0,
            s4_rates: vec![100.0],
            step: Duration::from_secs(1),
        }
    }
}

/// One step of a rate sweep.
#[derive(Debug, Serialize)]
pub struct StepReport {
    /// Offered rate (deliveries/s for S2, messages/s for S4).
    pub offered_per_sec: f64,
    /// Deliveries per second that arrived.
    pub deliveries_per_sec: f64,
    /// Messages per second accepted.
    pub messages_per_sec: f64,
    /// Delivery latency (send due time → receipt).
    pub delivery: Summary,
    /// REST acknowledgement latency (due time → 201).
    pub ack: Summary,
    /// Deliveries that never arrived.
    pub lost: u64,
    /// Deliveries received twice.
    pub duplicates: u64,
    /// Deliveries out of order.
    pub reordered: u64,
    /// Sends refused or failed.
    pub send_errors: u64,
    /// Server CPU microseconds per delivery.
    pub server_cpu_us_per_delivery: f64,
}

async fn run_step(
    http: &reqwest::Client,
    srv: &server::Server,
    rooms: &[seed::Room],
    rec: &Recorder,
    step: usize,
    messages_per_sec: f64,
    duration: Duration,
) -> anyhow::Result<StepReport> {
    let cpu0 = server::cpu_secs(srv.pid)?;
    let sent = load::send_step(http, &srv.url, rooms, step, messages_per_sec, duration).await;
    let expected: u64 = sent
        .accepted_per_room
        .iter()
        .zip(rooms)
        .map(|(a, r)| a * r.members.len() as u64)
        .sum();
    load::drain(rec, step, expected, Duration::from_secs(3)).await;
    let cpu1 = server::cpu_secs(srv.pid)?;
    let stats = rec.take(step);
    let accepted: u64 = sent.accepted_per_room.iter().sum();
    let secs = sent.elapsed.as_secs_f64();
    Ok(StepReport {
        offered_per_sec: messages_per_sec,
        deliveries_per_sec: (stats.received as f64 / secs).round(),
        messages_per_sec: (accepted as f64 / secs).round(),
        delivery: hist::summary(&stats.latency),
        ack: hist::summary(&sent.ack),
        lost: expected.saturating_sub(stats.received),
        duplicates: stats.duplicates,
        reordered: stats.reordered,
        send_errors: sent.errors,
        server_cpu_us_per_delivery: if stats.received > 0 {
            ((cpu1 - cpu0) * 1e6 / stats.received as f64 * 100.0).round() / 100.0
        } else {
            0.0
        },
    })
}

/// A seeded papo with its receivers connected.
async fn papo_with_rooms(
    papo: &Path,
    rooms: usize,
    size: usize,
    track_last: bool,
) -> anyhow::Result<Fleet> {
    let dir = TempDir::new("papo")?;
    server::migrate(papo, &dir, None).await?;
    let rooms = seed::rooms(&server::sqlite_url(&dir.0), None, rooms, size).await?;
    let srv = server::start(papo, dir, None).await?;
    let rss_before = server::rss_kib(srv.pid)?;
    let rec = Recorder::new(track_last);
    let connect_rate = load::connect_fleet(&srv.gateway_url(), &rooms, 64, &rec).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = server::rss_kib(srv.pid)?;
    let connections = rooms.iter().map(|r| r.members.len()).sum::<usize>().max(1);
    Ok(Fleet {
        srv,
        rooms,
        rec,
        connect_rate,
        rss_per_conn_kb: (rss_after.saturating_sub(rss_before) as f64 / connections as f64 * 100.0)
            .round()
            / 100.0,
    })
}

/// A seeded server with a receiver session per room member.
struct Fleet {
    srv: server::Server,
    rooms: Vec<seed::Room>,
    rec: std::sync::Arc<Recorder>,
    connect_rate: f64,
    /// RSS growth from before the sessions to after, per session (KB).
    rss_per_conn_kb: f64,
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// S2: small rooms, rising rate. Offered rates are deliveries/s.
pub async fn s2(papo: &Path, plan: &Plan) -> anyhow::Result<Value> {
    let Fleet {
        srv,
        rooms,
        rec,
        connect_rate,
        rss_per_conn_kb,
    } = papo_with_rooms(papo, plan.s2_rooms, plan.s2_size, false).await?;
    let http = http_client()?;
    let mut steps = Vec::new();
    for (i, rate) in plan.s2_rates.iter().enumerate() {
        let per_msg = plan.s2_size as f64;
        let mut r = run_step(&http, &srv, &rooms, &rec, i, rate / per_msg, plan.step).await?;
        r.offered_per_sec = *rate;
        eprintln!(
            "  s2 {:>8.0}/s offered → {:>8.0}/s delivered, p50 {} ms, p99 {} ms, lost {}, errors {}",
            rate, r.deliveries_per_sec, r.delivery.p50_ms, r.delivery.p99_ms, r.lost, r.send_errors
        );
        steps.push(r);
    }
    let connections = plan.s2_rooms * plan.s2_size;
    srv.stop().await;
    let saturation = steps
        .iter()
        .filter(|s| s.delivery.p99_ms <= 50.0 && s.lost == 0)
        .map(|s| s.deliveries_per_sec)
        .fold(0.0, f64::max);
    Ok(json!({
        "rooms": plan.s2_rooms, "members_per_room": plan.s2_size,
        "connections": connections,
        "connect_identify_per_sec": connect_rate.round(),
        "rss_per_conn_kb": rss_per_conn_kb,
        "saturation_deliveries_per_sec": saturation,
        "steps": steps,
    }))
}

/// S3: one big room; the time from a send to its last recipient.
pub async fn s3(papo: &Path, plan: &Plan) -> anyhow::Result<Value> {
    let Fleet {
        srv,
        rooms,
        rec,
        connect_rate,
        ..
    } = papo_with_rooms(papo, 1, plan.s3_members, true).await?;
    let http = http_client()?;
    let sent = load::send_step(&http, &srv.url, &rooms, 0, plan.s3_rate, plan.step).await;
    let accepted: u64 = sent.accepted_per_room.iter().sum();
    let expected = accepted * plan.s3_members as u64;
    load::drain(&rec, 0, expected, Duration::from_secs(5)).await;
    let stats = rec.take(0);
    let mut to_last = hist::new();
    let mut complete = 0;
    for (count, max) in stats.last.values() {
        if *count as usize == plan.s3_members {
            complete += 1;
            hist::record(&mut to_last, *max);
        }
    }
    srv.stop().await;
    eprintln!(
        "  s3 {} members: {} messages, to last recipient p99 {} ms",
        plan.s3_members,
        accepted,
        hist::summary(&to_last).p99_ms
    );
    Ok(json!({
        "members": plan.s3_members,
        "connect_identify_per_sec": connect_rate.round(),
        "messages": accepted,
        "complete_messages": complete,
        "to_last_recipient": hist::summary(&to_last),
        "delivery": hist::summary(&stats.latency),
        "lost": expected.saturating_sub(stats.received),
        "deliveries_per_sec": (stats.received as f64 / sent.elapsed.as_secs_f64()).round(),
        "p99_ms": hist::summary(&to_last).p99_ms,
    }))
}

/// S4: persisted sends (SQLite, synchronous=FULL, group commit): acknowledgement latency at a
/// fixed rate, then rising rates.
pub async fn s4(papo: &Path, plan: &Plan) -> anyhow::Result<Value> {
    let Fleet {
        srv, rooms, rec, ..
    } = papo_with_rooms(papo, plan.s4_rooms, 1, false).await?;
    let http = http_client()?;
    let fixed = run_step(&http, &srv, &rooms, &rec, 0, plan.s4_rate, plan.step).await?;
    eprintln!(
        "  s4 {:>6.0} msg/s: ack p50 {} ms, p99 {} ms, errors {}",
        plan.s4_rate, fixed.ack.p50_ms, fixed.ack.p99_ms, fixed.send_errors
    );
    let mut steps = Vec::new();
    for (i, rate) in plan.s4_rates.iter().enumerate() {
        let r = run_step(&http, &srv, &rooms, &rec, i + 1, *rate, plan.step).await?;
        eprintln!(
            "  s4 {:>6.0} msg/s offered → {:>6.0}/s acknowledged, ack p99 {} ms, errors {}",
            rate, r.messages_per_sec, r.ack.p99_ms, r.send_errors
        );
        steps.push(r);
    }
    srv.stop().await;
    let best = steps
        .iter()
        .filter(|s| s.send_errors == 0 && s.ack.p99_ms <= 50.0)
        .map(|s| s.messages_per_sec)
        .fold(0.0, f64::max);
    Ok(json!({
        "database": "sqlite (synchronous=FULL, group commit)",
        "ack_at_fixed_rate": fixed,
        "messages_per_sec": best,
        "steps": steps,
    }))
}

/// Checks what a smoke run must show whatever the speed: every accepted message reached
/// every member, once, and nothing was refused.
pub fn check_smoke(summary: &Value) -> anyhow::Result<()> {
    let p = &summary["systems"]["papo"];
    for s in p["s2"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(p["s4"]["steps"].as_array().into_iter().flatten())
    {
        anyhow::ensure!(
            s["lost"] == 0
                && s["duplicates"] == 0
                && s["send_errors"] == 0
                && s["messages_per_sec"].as_f64() > Some(0.0),
            "smoke step failed: {s}"
        );
    }
    anyhow::ensure!(
        p["s3"]["messages"].as_u64() > Some(0)
            && p["s3"]["complete_messages"] == p["s3"]["messages"],
        "smoke S3 failed: {}",
        p["s3"]
    );
    Ok(())
}

/// Runs every scenario against papo, prints the table, writes the JSON; returns the summary.
pub async fn run(papo: PathBuf, plan: Plan, json_path: Option<PathBuf>) -> anyhow::Result<Value> {
    eprintln!("papo: S2 small rooms");
    let s2 = s2(&papo, &plan).await?;
    eprintln!("papo: S3 one room");
    let s3 = s3(&papo, &plan).await?;
    eprintln!("papo: S4 persisted");
    let s4 = s4(&papo, &plan).await?;
    let not_run = json!({"status": "not run: the peer harness (bench/peers) is not built yet"});
    let summary = json!({
        "machine": machine(),
        "systems": {
            "papo": {"s2": s2, "s3": s3, "s4": s4},
            "socketio": not_run,
            "channels": not_run,
        }
    });
    print_table(&summary);
    if let Some(p) = json_path {
        std::fs::write(&p, serde_json::to_string_pretty(&summary)?)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(summary)
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "pinned": server::which("taskset"),
    })
}

fn print_table(summary: &Value) {
    let p = &summary["systems"]["papo"];
    println!("| scenario | figure | papo |");
    println!("|---|---|---|");
    println!(
        "| S2 | saturation deliveries/s (p99 ≤ 50 ms, no loss) | {} |",
        p["s2"]["saturation_deliveries_per_sec"]
    );
    for s in p["s2"]["steps"].as_array().into_iter().flatten() {
        println!(
            "| S2 | at {} deliveries/s offered: delivered/s, p50 / p99 / max ms, lost | {} · {} / {} / {} · {} |",
            s["offered_per_sec"],
            s["deliveries_per_sec"],
            s["delivery"]["p50_ms"],
            s["delivery"]["p99_ms"],
            s["delivery"]["max_ms"],
            s["lost"]
        );
    }
    println!(
        "| S2 | RSS per connection (KB) | {} |",
        p["s2"]["rss_per_conn_kb"]
    );
    println!(
        "| S3 | to last of {} recipients p99 ms | {} |",
        p["s3"]["members"], p["s3"]["p99_ms"]
    );
    println!(
        "| S4 | ack p99 ms at {} msg/s | {} |",
        p["s4"]["ack_at_fixed_rate"]["offered_per_sec"],
        p["s4"]["ack_at_fixed_rate"]["ack"]["p99_ms"]
    );
    println!(
        "| S4 | persisted messages/s (ack p99 ≤ 50 ms, no errors) | {} |",
        p["s4"]["messages_per_sec"]
    );
    println!(
        "| — | socketio, channels | {} |",
        summary["systems"]["socketio"]["status"]
    );
}
