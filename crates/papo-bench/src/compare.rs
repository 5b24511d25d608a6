//! `compare`: every scenario against every system, one after the other on the same machine,
//! with the server pinned to core 0 and the load workers to core 1.
//!
//! - S1 idle: identified sessions spread over rooms of ten with presence → server memory per
//!   session and the connect+identify rate.
//! - S2 small rooms: rooms of ten, the delivery rate rising step by step until p99 passes
//!   50 ms (or something is lost) → latency at each rate, saturation.
//! - S3 one big room: every member connected, a few messages per second → time from a
//!   message's due time to its last recipient.
//! - S4 persisted: rooms of one, every message durably stored before it is acknowledged →
//!   acknowledgement latency at a fixed rate, then the highest rate. Papo also on PostgreSQL.

use std::time::Duration;

use serde_json::{Value, json};

use crate::core_share::{CoreShare, CoreTimes};
use crate::fleet::{Fleet, GENERATOR_CPU, Joining, StepResult};
use crate::floor_store::FloorStore;
use crate::hist;
use crate::probe::Probe;
use crate::proto::System;
use crate::report::rounded;
use crate::server;
use crate::step_report::{StepReport, Usage, thread_usage};
use crate::systems::{self, Programs, Running, SERVER_CPU, Spec};
use crate::worker::SendVia;

/// Sizes and durations of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// S1: sessions.
    pub s1_sessions: usize,
    /// S2: rooms of [`Plan::room_size`].
    pub s2_rooms: usize,
    /// S2: offered deliveries/s, tried in order until one fails.
    pub s2_rates: Vec<f64>,
    /// S2: the rate whose latency is the headline figure.
    pub s2_reference: f64,
    /// S3: members of the one room.
    pub s3_members: usize,
    /// S3: messages per second.
    pub s3_rate: f64,
    /// S4: rooms of one member.
    pub s4_rooms: usize,
    /// S4: messages per second for the acknowledgement latency.
    pub s4_rate: f64,
    /// S4: offered messages/s, tried in order until one fails.
    pub s4_rates: Vec<f64>,
    /// Seconds per step.
    pub step: Duration,
    /// Members per room in S1 and S2.
    pub room_size: usize,
    /// How long answers and deliveries are waited for after a step (an overloaded system's
    /// backlog past that counts as lost).
    pub grace: Duration,
    /// How long opening a scenario's connections may take (the rest count as failed).
    pub connect_limit: Duration,
    /// Between two ticks of each step's probe ([`crate::probe`]).
    pub probe_tick: Duration,
    /// Between steps, for the backlog of the one before to clear; also after a system
    /// starts, before its memory is read.
    pub pause: Duration,
    /// After S1's sessions are open, before the server's memory is read.
    pub s1_settle: Duration,
    /// After the other scenarios' members are open, before the first message.
    pub settle: Duration,
    /// The warm-up's length: every member sends one message over about this long (at
    /// 100–5,000 messages a second).
    pub warm_up: Duration,
    /// How papo's messages are sent.
    pub papo_send: SendVia,
    /// Peers and the floor store every message in every scenario, as papo does (otherwise
    /// only in S4).
    pub persist_all: bool,
    /// How the floor stores messages.
    pub floor_store: FloorStore,
}

/// A step fails when its p99 passes this (or anything is lost or refused).
pub(crate) const P99_LIMIT_MS: f64 = 50.0;

impl Plan {
    /// About two minutes for the five systems once the peers are installed. (With a 5k
    /// deliveries/s step in S2 and a 500 msg/s step, below the fixed 1k, first in S4's
    /// ladder: 2 min 17 s on 2026-12-07. A shorter warm-up left Channels still busy with it
    /// at the first step.)
    pub fn quick() -> Self {
        Self {
            s1_sessions: 1_000,
            s2_rooms: 100,
            s2_rates: vec![1_000.0, 20_000.0, 50_000.0, 100_000.0],
            s2_reference: 100_000.0,
            s3_members: 500,
            s3_rate: 5.0,
            s4_rooms: 100,
            s4_rate: 1_000.0,
            s4_rates: vec![2_000.0, 5_000.0, 20_000.0, 50_000.0],
            step: Duration::from_secs(1),
            room_size: 10,
            grace: Duration::from_millis(1_500),
            connect_limit: Duration::from_secs(30),
            pause: Duration::from_millis(250),
            probe_tick: crate::probe::STEP_TICK,
            s1_settle: Duration::from_secs(1),
            settle: Duration::from_millis(500),
            warm_up: Duration::from_secs(1),
            papo_send: SendVia::Gateway,
            persist_all: false,
            floor_store: FloorStore::Log,
        }
    }

    /// The reference run (the sizes).
    pub fn full() -> Self {
        Self {
            s1_sessions: 18_000,
            s2_rooms: 1_600,
            s2_rates: vec![
                500.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0, 35_000.0, 50_000.0, 75_000.0,
                100_000.0, 150_000.0, 200_000.0, 300_000.0, 400_000.0,
            ],
            s2_reference: 100_000.0,
            s3_members: 18_000,
            s3_rate: 5.0,
            s4_rooms: 1_000,
            s4_rate: 5_000.0,
            s4_rates: vec![
                500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 35_000.0, 50_000.0, 75_000.0,
            ],
            step: Duration::from_secs(10),
            room_size: 10,
            grace: Duration::from_secs(30),
            connect_limit: Duration::from_secs(180),
            pause: Duration::from_millis(500),
            probe_tick: crate::probe::STEP_TICK,
            s1_settle: Duration::from_secs(3),
            settle: Duration::from_secs(1),
            warm_up: Duration::from_secs(2),
            papo_send: SendVia::Gateway,
            persist_all: false,
            floor_store: FloorStore::Log,
        }
    }

    /// A few seconds: for CI, to keep the tool working (nothing asserted on timings).
    pub fn smoke() -> Self {
        Self {
            s1_sessions: 40,
            s2_rooms: 5,
            s2_rates: vec![200.0],
            s2_reference: 200.0,
            s3_members: 20,
            s3_rate: 5.0,
            s4_rooms: 5,
            s4_rate: 50.0,
            s4_rates: vec![100.0],
            step: Duration::from_secs(1),
            room_size: 4,
            grace: Duration::from_secs(10),
            connect_limit: Duration::from_secs(30),
            pause: Duration::from_millis(250),
            probe_tick: crate::probe::STEP_TICK,
            s1_settle: Duration::from_secs(1),
            settle: Duration::from_millis(500),
            warm_up: Duration::from_secs(1),
            papo_send: SendVia::Gateway,
            persist_all: false,
            floor_store: FloorStore::Log,
        }
    }
}

/// A core named as `taskset` takes it.
pub fn core(cpu: &str) -> usize {
    cpu.parse().expect("a core number")
}

/// A collection gives up after this long without a new delivery.
const PATIENCE: Duration = Duration::from_secs(3);

/// A system running `spec` with every member connected through a fleet of workers.
struct Loaded {
    run: Running,
    fleet: Fleet,
    connected: crate::fleet::Connected,
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// Server and generator CPU seconds spent while the members connected.
    connect_cpu: (f64, f64),
}

async fn loaded(
    system: System,
    programs: &Programs,
    spec: Spec,
    how: Joining,
    settle: Duration,
    plan: &Plan,
) -> anyhow::Result<Loaded> {
    let spec = Spec {
        persist: spec.persist || plan.persist_all,
        floor_store: plan.floor_store,
        ..spec
    };
    let run = systems::start(system, programs, spec).await?;
    let mut fleet = Fleet::for_members(run.members.len()).await?;
    tokio::time::sleep(plan.pause).await;
    let rss_before_kib = server::rss_kib(run.pid)?;
    let (cpu0, gen0) = (server::cpu_secs(run.pid)?, fleet.cpu_secs());
    let connected = fleet.connect(run.target, &run.members, how).await?;
    let connect_cpu = (server::cpu_secs(run.pid)? - cpu0, fleet.cpu_secs() - gen0);
    if connected.failed > 0 {
        eprintln!(
            "  {}: {} of {} connections failed: {}",
            system.key(),
            connected.failed,
            run.members.len(),
            connected.first_error.as_deref().unwrap_or("?")
        );
    }
    tokio::time::sleep(settle).await;
    let rss_after_kib = server::rss_kib(run.pid)?;
    fleet.senders(&run.rooms, plan.papo_send).await?;
    Ok(Loaded {
        run,
        fleet,
        connected,
        rss_before_kib,
        rss_after_kib,
        connect_cpu,
    })
}

impl Loaded {
    fn connects_per_sec(&self) -> f64 {
        (self.connected.ok as f64 / self.connected.elapsed.as_secs_f64()).round()
    }

    /// Microseconds of CPU per session opened: the server's and the generator's.
    fn cpu_us_per_connect(&self) -> (f64, f64) {
        let per = |secs: f64| rounded(secs * 1e6 / self.connected.ok.max(1) as f64, 1);
        (per(self.connect_cpu.0), per(self.connect_cpu.1))
    }

    fn rss_per_conn_kb(&self) -> f64 {
        let grown = self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 * 1.024;
        rounded(grown / self.connected.ok.max(1) as f64, 2)
    }

    async fn step(
        &mut self,
        step: usize,
        messages_per_sec: f64,
        plan: &Plan,
    ) -> anyhow::Result<(StepResult, Usage)> {
        let writer0 = server::writer_counts(self.run.target).await;
        // The core's counters and the server's CPU read together, at the start and the end.
        let server_core0 = CoreTimes::now(core(SERVER_CPU));
        let generator_core0 = CoreTimes::now(core(GENERATOR_CPU));
        let core_read0 = std::time::Instant::now();
        let cpu0 = server::cpu_secs(self.run.pid)?;
        let faults0 = server::minor_faults(self.run.pid).ok();
        let threads0 = server::thread_cpu_secs(self.run.pid);
        let gen0 = self.fleet.cpu_secs();
        let started = std::time::Instant::now();
        let rooms = self.run.rooms.len();
        let probe = Probe::start(&[core(SERVER_CPU), core(GENERATOR_CPU)], plan.probe_tick);
        let r = self
            .fleet
            .step(
                step,
                messages_per_sec,
                plan.step,
                rooms,
                PATIENCE,
                plan.grace,
            )
            .await;
        let machine = probe.finish();
        let r = r?;
        let server_core1 = CoreTimes::now(core(SERVER_CPU));
        let generator_core1 = CoreTimes::now(core(GENERATOR_CPU));
        let core_secs = core_read0.elapsed().as_secs_f64();
        let cpu = server::cpu_secs(self.run.pid)? - cpu0;
        let minor_faults = faults0
            .zip(server::minor_faults(self.run.pid).ok())
            .map(|(before, after)| after.saturating_sub(before));
        let server_core = server_core0.zip(server_core1).and_then(|(before, after)| {
            CoreShare::between(core(SERVER_CPU), &before, &after, core_secs, Some(cpu))
        });
        let generator_core = generator_core0
            .zip(generator_core1)
            .and_then(|(before, after)| {
                CoreShare::between(core(GENERATOR_CPU), &before, &after, core_secs, None)
            });
        let threads = thread_usage(&threads0, server::thread_cpu_secs(self.run.pid));
        let load = (self.fleet.cpu_secs() - gen0) / started.elapsed().as_secs_f64().max(1e-3);
        let writer = match (writer0, server::writer_counts(self.run.target).await) {
            (Some(then), Some(now)) => Some(now.since(&then)),
            _ => None,
        };
        let usage = Usage {
            cpu_secs: cpu,
            minor_faults,
            threads,
            generator_load: load,
            writer,
            machine,
            server_core,
            generator_core,
        };
        Ok((r, usage))
    }

    /// Step 0, not reported: every member sends one message, so that what a running
    /// server keeps warm (papo's caches, the peers' JIT and pools) is warm before measuring.
    async fn warm_up(&mut self, plan: &Plan) -> anyhow::Result<()> {
        let messages = self.run.members.len().max(1) as f64;
        let rate = (messages / plan.warm_up.as_secs_f64()).clamp(100.0, 5_000.0);
        let duration = Duration::from_secs_f64(messages / rate);
        let rooms = self.run.rooms.len();
        self.fleet
            .step(0, rate, duration, rooms, PATIENCE, plan.grace)
            .await?;
        tokio::time::sleep(plan.pause).await;
        Ok(())
    }

    async fn stop(self) {
        self.fleet.quit().await;
        self.run.stop().await;
    }
}

fn joining(plan: &Plan, track_last: bool, announce: bool) -> Joining {
    Joining {
        concurrency: 256,
        track_last,
        announce,
        time_limit: plan.connect_limit,
    }
}

fn spec(rooms: usize, size: usize) -> Spec {
    Spec {
        rooms,
        size,
        persist: false,
        postgres: false,
        floor_store: FloorStore::Log,
    }
}

/// S1: idle identified sessions in rooms of ten.
pub async fn s1(system: System, programs: &Programs, plan: &Plan) -> anyhow::Result<Value> {
    let rooms = plan.s1_sessions.div_ceil(plan.room_size);
    let l = loaded(
        system,
        programs,
        spec(rooms, plan.room_size),
        joining(plan, false, true),
        plan.s1_settle,
        plan,
    )
    .await?;
    let (server_us, generator_us) = l.cpu_us_per_connect();
    let out = json!({
        "sessions": l.connected.ok,
        "failed": l.connected.failed,
        "room_size": plan.room_size,
        "connects_per_sec": l.connects_per_sec(),
        "connect_p50_ms": l.connected.latency.p50_ms,
        "connect_p99_ms": l.connected.latency.p99_ms,
        "connect_max_ms": l.connected.latency.max_ms,
        "server_cpu_us_per_connect": server_us,
        "generator_cpu_us_per_connect": generator_us,
        "rss_per_conn_kb": l.rss_per_conn_kb(),
        "rss_before_kib": l.rss_before_kib,
        "rss_after_kib": l.rss_after_kib,
    });
    eprintln!(
        "  s1 {} sessions: {} KB each, {} connect+identify/s ({server_us} µs of server CPU, \
         {generator_us} µs of the generator's, per session); each took p50 {} ms, p99 {} ms, \
         max {} ms",
        l.connected.ok,
        out["rss_per_conn_kb"],
        out["connects_per_sec"],
        out["connect_p50_ms"],
        out["connect_p99_ms"],
        out["connect_max_ms"]
    );
    l.stop().await;
    Ok(out)
}

/// S2: rooms of ten, rising delivery rate.
pub async fn s2(system: System, programs: &Programs, plan: &Plan) -> anyhow::Result<Value> {
    let mut l = loaded(
        system,
        programs,
        spec(plan.s2_rooms, plan.room_size),
        joining(plan, false, true),
        plan.settle,
        plan,
    )
    .await?;
    let mut steps = Vec::new();
    l.warm_up(plan).await?;
    for (i, rate) in plan.s2_rates.iter().enumerate() {
        let (r, usage) = l.step(i + 1, rate / plan.room_size as f64, plan).await?;
        let report = StepReport::new(*rate, &r, usage, plan.step);
        eprintln!(
            "  s2 {:>8.0}/s offered → {:>8.0}/s delivered, p50 {} ms, p99 {} ms, lost {}, {}, errors {}",
            rate,
            report.deliveries_per_sec,
            report.delivery.p50_ms,
            report.delivery.p99_ms,
            report.lost,
            report.order(),
            report.send_errors
        );
        let passed = report.passed(&report.delivery);
        steps.push(report);
        if !passed {
            break;
        }
        tokio::time::sleep(plan.pause).await;
    }
    let connections = l.connected.ok;
    let rss = l.rss_per_conn_kb();
    l.stop().await;
    let saturation = steps
        .iter()
        .filter(|s| s.passed(&s.delivery))
        .map(|s| s.deliveries_per_sec)
        .fold(0.0, f64::max);
    let reference = steps
        .iter()
        .find(|s| s.offered_per_sec == plan.s2_reference);
    Ok(json!({
        "rooms": plan.s2_rooms, "members_per_room": plan.room_size, "connections": connections,
        "deliveries_per_sec": saturation,
        "reference_rate": plan.s2_reference,
        "p50_ms": reference.map(|s| s.delivery.p50_ms),
        "p99_ms": reference.map(|s| s.delivery.p99_ms),
        "rss_per_conn_kb": rss,
        "steps": steps,
    }))
}

/// S3: one room, every member connected; time to the last recipient.
pub async fn s3(system: System, programs: &Programs, plan: &Plan) -> anyhow::Result<Value> {
    let mut l = loaded(
        system,
        programs,
        spec(1, plan.s3_members),
        // One big room: no presence announcements (papo's large-server rule, the same work
        // for the peers).
        joining(plan, true, false),
        plan.settle,
        plan,
    )
    .await?;
    let (r, usage) = l.step(0, plan.s3_rate, plan).await?;
    let connects = l.connects_per_sec();
    let connected = l.connected.ok;
    l.stop().await;
    let mut to_last = hist::new();
    let mut complete = 0;
    for (count, max) in r.last.values() {
        if *count as u64 == connected {
            complete += 1;
            hist::record(&mut to_last, *max);
        }
    }
    let report = StepReport::new(plan.s3_rate, &r, usage, plan.step);
    let last = hist::summary(&to_last);
    // Only a run where every message reached every member has a time to the last one.
    let whole = r.accepted > 0 && complete == r.accepted && connected == plan.s3_members as u64;
    eprintln!(
        "  s3 {} members: {} messages ({} complete), to last recipient p50 {} ms, p99 {} ms, {}",
        connected,
        r.accepted,
        complete,
        last.p50_ms,
        last.p99_ms,
        report.order()
    );
    Ok(json!({
        "members": connected,
        "connects_per_sec": connects,
        "messages": r.accepted,
        "complete_messages": complete,
        "to_last_recipient": last,
        "p50_ms": whole.then_some(last.p50_ms),
        "p99_ms": whole.then_some(last.p99_ms),
        "deliveries_per_sec": report.deliveries_per_sec,
        "step": report,
    }))
}

/// S4: persisted sends in rooms of one: acknowledgement latency at a fixed rate, then the
/// highest rate with ack p99 ≤ 50 ms.
pub async fn s4(
    system: System,
    programs: &Programs,
    plan: &Plan,
    postgres: bool,
) -> anyhow::Result<Value> {
    let spec = Spec {
        rooms: plan.s4_rooms,
        size: 1,
        persist: true,
        postgres,
        floor_store: plan.floor_store,
    };
    let mut l = loaded(
        system,
        programs,
        spec,
        joining(plan, false, true),
        plan.settle,
        plan,
    )
    .await?;
    l.warm_up(plan).await?;
    let (r, usage) = l.step(1, plan.s4_rate, plan).await?;
    let fixed = StepReport::new(plan.s4_rate, &r, usage, plan.step);
    eprintln!(
        "  s4 {:>6.0} msg/s: ack p50 {} ms, p99 {} ms, {}, errors {}, {}",
        plan.s4_rate,
        fixed.ack.p50_ms,
        fixed.ack.p99_ms,
        fixed.order(),
        fixed.send_errors,
        fixed.costs()
    );
    let mut steps = Vec::new();
    for (i, rate) in plan.s4_rates.iter().enumerate() {
        tokio::time::sleep(plan.pause).await;
        let (r, usage) = l.step(i + 2, *rate, plan).await?;
        let report = StepReport::new(*rate, &r, usage, plan.step);
        eprintln!(
            "  s4 {:>6.0} msg/s offered → {:>6.0}/s acknowledged, ack p99 {} ms, lost {}, {}, errors {}, {}",
            rate,
            report.messages_per_sec,
            report.ack.p99_ms,
            report.lost,
            report.order(),
            report.send_errors,
            report.costs()
        );
        let passed = report.passed(&report.ack);
        steps.push(report);
        if !passed {
            break;
        }
    }
    l.stop().await;
    let best = steps
        .iter()
        .filter(|s| s.passed(&s.ack))
        .map(|s| s.messages_per_sec)
        .fold(0.0, f64::max);
    Ok(json!({
        "database": if system == System::Floor { plan.floor_store.describe() }
            else if system != System::Papo { "sqlite (synchronous=FULL)" }
            else if postgres { "postgresql" } else { "sqlite (synchronous=FULL, group commit)" },
        "messages_per_sec": best,
        "deliveries_per_sec": best,
        "fixed_rate": plan.s4_rate,
        "p50_ms": fixed.ack.p50_ms,
        "p99_ms": fixed.ack.p99_ms,
        "ack_at_fixed_rate": fixed,
        "steps": steps,
    }))
}

/// The scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Idle sessions.
    S1,
    /// Small rooms, rising rate.
    S2,
    /// One big room.
    S3,
    /// Persisted sends.
    S4,
}

/// The chosen scenarios for one system.
pub async fn system(
    system: System,
    programs: &Programs,
    plan: &Plan,
    scenarios: &[Scenario],
) -> anyhow::Result<Value> {
    let mut out = json!({});
    let key = system.key();
    // A scenario that breaks down (a peer refusing its connections, say) is reported as
    // such and the run goes on.
    let record = |name: &str, r: anyhow::Result<Value>| match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("  {key} {name} failed: {e:#}");
            json!({"error": format!("{e:#}")})
        }
    };
    for s in scenarios {
        let started = std::time::Instant::now();
        match s {
            Scenario::S1 => {
                eprintln!("{key}: S1 idle sessions");
                out["s1"] = record("S1", s1(system, programs, plan).await);
            }
            Scenario::S2 => {
                eprintln!("{key}: S2 small rooms");
                out["s2"] = record("S2", s2(system, programs, plan).await);
            }
            Scenario::S3 => {
                eprintln!("{key}: S3 one room");
                out["s3"] = record("S3", s3(system, programs, plan).await);
            }
            Scenario::S4 => {
                eprintln!("{key}: S4 persisted");
                out["s4"] = record("S4", s4(system, programs, plan, false).await);
                if system == System::Papo {
                    eprintln!("{key}: S4 persisted on PostgreSQL");
                    out["s4"]["postgres"] = record(
                        "S4 on PostgreSQL",
                        self::s4(system, programs, plan, true).await,
                    );
                }
            }
        }
        eprintln!("  ({:.1} s)", started.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// The scenarios of a run that broke down instead of being measured (`papo s1: …`), so
/// that `compare` can fail after its table and summary are out.
pub fn breakdowns(summary: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (name, p) in summary["systems"].as_object().into_iter().flatten() {
        for (scenario, v) in p.as_object().into_iter().flatten() {
            for (what, v) in [("", v), (" on PostgreSQL", &v["postgres"])] {
                if let Some(e) = v["error"].as_str() {
                    out.push(format!("{name} {scenario}{what}: {e}"));
                }
            }
        }
    }
    out
}

/// Checks what a smoke run must show whatever the speed: every accepted message reached
/// every member, once, no author's messages out of their order, and nothing was refused.
pub fn check_smoke(summary: &Value) -> anyhow::Result<()> {
    for (name, p) in summary["systems"].as_object().into_iter().flatten() {
        anyhow::ensure!(
            p["s1"]["failed"] == 0 && p["s1"]["sessions"].as_u64() > Some(0),
            "{name}: smoke S1 failed: {}",
            p["s1"]
        );
        let steps = p["s2"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(p["s4"]["steps"].as_array().into_iter().flatten())
            .chain(std::iter::once(&p["s3"]["step"]));
        for s in steps {
            anyhow::ensure!(
                s["lost"] == 0
                    && s["duplicates"] == 0
                    && s["reordered_same_author"] == 0
                    && s["send_errors"] == 0
                    && s["messages_per_sec"].as_f64() > Some(0.0),
                "{name}: smoke step failed: {s}"
            );
        }
        anyhow::ensure!(
            p["s3"]["messages"].as_u64() > Some(0)
                && p["s3"]["complete_messages"] == p["s3"]["messages"],
            "{name}: smoke S3 failed: {}",
            p["s3"]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(reordered_same_author: u64) -> Value {
        json!({
            "lost": 0, "duplicates": 0, "send_errors": 0, "messages_per_sec": 10.0,
            "reordered": 7, "reordered_same_author": reordered_same_author,
        })
    }

    fn summary(s2_step: Value) -> Value {
        json!({"systems": {"papo": {
            "s1": {"failed": 0, "sessions": 10},
            "s2": {"steps": [s2_step]},
            "s3": {"messages": 2, "complete_messages": 2, "step": step(0)},
            "s4": {"steps": [step(0)]},
        }}})
    }

    /// Every scenario that broke down is named, PostgreSQL's S4 included; measured ones
    /// (however badly they did) are not.
    #[test]
    fn breakdowns_names_the_scenarios_that_were_not_measured() {
        let run = json!({"systems": {
            "papo": {"s1": {"error": "running papo migrate: no such file"},
                     "s4": {"steps": [], "postgres": {"error": "connection refused"}}},
            "socketio": {"s2": {"deliveries_per_sec": 0.0, "steps": []}},
        }});
        assert_eq!(
            breakdowns(&run),
            [
                "papo s1: running papo migrate: no such file",
                "papo s4 on PostgreSQL: connection refused",
            ]
        );
        assert!(breakdowns(&summary(step(0))).is_empty());
    }

    /// Different authors' messages may arrive in another order; one author's may not.
    #[test]
    fn a_smoke_run_fails_on_one_authors_messages_out_of_order() {
        check_smoke(&summary(step(0))).unwrap();
        let err = check_smoke(&summary(step(1))).unwrap_err();
        assert!(err.to_string().contains("smoke step failed"), "{err}");
        let mut lost = step(0);
        lost["lost"] = json!(3);
        assert!(check_smoke(&summary(lost)).is_err());
    }
}
