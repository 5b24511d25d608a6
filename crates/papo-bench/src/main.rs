//! `papo-bench`: Papo and its peers (Socket.IO, Django Channels) under the same load.
//!
//! - `compare`: every scenario (S1 idle sessions, S2 small rooms, S3 one big room, S4
//!   persisted sends) against every system, server on core 0 and load on core 1; prints a
//!   table with Papo/peer ratios, writes a JSON summary and latency-vs-load charts. One of
//!   the systems, `floor`, is the least a server can do here (see `floor`).
//! - `smoke`: the same at toy sizes against papo and the floor for a few seconds (CI keeps
//!   the tool working; nothing is asserted on timings).
//! - `worker`: a load process, started by `compare` (one per few thousand connections).

mod chart;
mod compare;
mod core_share;
mod disk;
mod fleet;
mod floor;
mod floor_store;
mod handshake;
mod hist;
mod loopback;
mod net;
mod pace;
mod priority;
mod probe;
mod proto;
mod recorder;
mod report;
mod seed;
mod send;
mod server;
mod steer;
mod step_report;
mod systems;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::proto::System;
use crate::systems::Programs;

#[derive(Parser)]
#[command(name = "papo-bench", about = "Papo and its peers under the same load")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args)]
struct Common {
    /// The papo binary to start [default: papo built from this checkout first, with
    /// `cargo build --release -p papo-server -p papo-bench`, then `target/release/papo`].
    #[arg(long)]
    papo: Option<PathBuf>,
    /// The peers' folder (start scripts and local installs).
    #[arg(long, default_value = "bench/peers")]
    peers: PathBuf,
    /// PostgreSQL server for papo's S4 on PostgreSQL (a fresh database is created in it).
    #[arg(
        long,
        env = "PAPO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
    /// Where to write the JSON summary.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where to write the charts.
    #[arg(long, default_value = "target/bench")]
    charts: PathBuf,
    /// Steer every packet loopback delivers to the generator's core for the run, so that
    /// the recipients' network stack does not run on the server's core (needs root; see
    /// `steer`). Recorded as the summary's `machine.loopback_receives`.
    #[arg(long)]
    receives_on_generator: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every scenario against every system: table on stdout, JSON summary, charts.
    Compare {
        #[command(flatten)]
        common: Common,
        /// Small sizes (about two minutes).
        #[arg(long)]
        quick: bool,
        /// The systems to run (comma-separated).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "papo,socketio,channels,channels-redis,floor"
        )]
        systems: Vec<System>,
        /// The scenarios to run (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "s1,s2,s3,s4")]
        scenarios: Vec<compare::Scenario>,
        /// Seconds per step instead of the plan's (e.g. to profile one step).
        #[arg(long)]
        step_secs: Option<u64>,
        /// Offered S2 rates (deliveries/s) instead of the plan's.
        #[arg(long, value_delimiter = ',')]
        s2_rates: Option<Vec<f64>>,
        /// Offered S4 rates (messages/s) instead of the plan's.
        #[arg(long, value_delimiter = ',')]
        s4_rates: Option<Vec<f64>>,
        /// Milliseconds between two ticks of each step's probe instead of 5 (1 until
        /// 2026-12-05).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
        probe_ms: Option<u64>,
        /// How papo sends: on the authors' gateway sockets, or with REST requests.
        #[arg(long, value_enum, default_value = "gateway")]
        papo_send: worker::SendVia,
        /// Peers and the floor store every message in every scenario, as papo does
        /// (otherwise only in S4).
        #[arg(long)]
        persist_all: bool,
        /// How the floor stores messages (S4, and every scenario with `--persist-all`).
        #[arg(long, value_enum, default_value = "log")]
        floor_store: floor_store::FloorStore,
    },
    /// Seconds-long run of every scenario against papo and the floor (for CI); fails if a
    /// message is lost.
    Smoke {
        #[command(flatten)]
        common: Common,
    },
    /// The machine's fan-out ceiling: small `write()`s per second to many loopback TCP
    /// connections from one core (no server work at all).
    Loopback {
        /// Connections written to in turn.
        #[arg(long, default_value_t = 16_000)]
        sockets: usize,
        /// Bytes per write (a `message.created` event is about 500).
        #[arg(long, default_value_t = 500)]
        bytes: usize,
        /// Seconds to write for.
        #[arg(long, default_value_t = 5)]
        secs: u64,
        /// Steer loopback's receives to the sink's core (as `compare`'s option of the same
        /// name).
        #[arg(long)]
        receives_on_generator: bool,
        /// Submit the sends through io_uring, this many per system call, instead of one
        /// `write()` each.
        #[arg(long)]
        batch: Option<usize>,
    },
    /// The machine's connect ceiling: the server CPU a minimal server on one core spends
    /// per session opened over loopback (upgrade request and response, identify and
    /// `ready`, and the new presence written to the room's open members, as bytes only; no
    /// server work at all).
    Handshake {
        /// Sessions opened (and kept open).
        #[arg(long, default_value_t = 16_000)]
        connections: usize,
        /// Bytes of the `ready` frame (an S1 session's is about 1,000).
        #[arg(long, default_value_t = 1_000)]
        ready_bytes: usize,
        /// Sessions per room: each new session's presence is written to its room's open
        /// members, as in S1 (rooms of ten); 1 for no presence.
        #[arg(long, default_value_t = 10)]
        room_size: usize,
        /// Identify with a frame after `hello` (a second round trip, as papo's clients did
        /// before identifying in the upgrade request).
        #[arg(long)]
        identify_frame: bool,
    },
    /// The machine's floor for S4's acknowledgement latency: one thread commits the
    /// messages due at each rate (log pages written, then `fsync`, as SQLite does) and
    /// nothing else. Pin it to the server's core: `taskset -c 0 papo-bench disk`.
    Disk {
        /// Messages due per second, one step each.
        #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
        rates: Vec<f64>,
        /// Seconds per rate.
        #[arg(long, default_value_t = 10.0)]
        secs: f64,
        /// 4 KiB log pages written per message (papo's S4 writes about 4).
        #[arg(long, default_value_t = 4.0)]
        pages: f64,
        /// Folder of the scratch log file (on the disk to measure).
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
        /// Size of the scratch log in MiB, reused from its start when full (SQLite's log
        /// starts over at about 32 MiB in papo).
        #[arg(long, default_value_t = 64)]
        log_mib: u64,
        /// MiB a second written beside the log, as papo's checkpoint copies pages into the
        /// database: 4 KiB pages at scattered places, in a burst every `--beside-every-ms`,
        /// each burst then synced. 0: nothing beside.
        #[arg(long, default_value_t = 0.0)]
        beside_mib: f64,
        /// Milliseconds between two bursts beside the log (papo's checkpoint: 500).
        #[arg(long, default_value_t = 500)]
        beside_every_ms: u64,
        /// Size in MiB of the file the bursts are scattered in.
        #[arg(long, default_value_t = 256)]
        beside_file_mib: u64,
        /// Append the pages beside the log to a file that starts empty, as a growing
        /// database's are, instead of scattering them in `--beside-file-mib`.
        #[arg(long)]
        beside_grow: bool,
    },
    /// The machine's own pauses: how late a real-time thread on each core wakes on a
    /// 1 ms grid, the machine otherwise idle (the share of ticks over 2 ms late is the share
    /// of events the machine alone delays by more, which no server on it can beat).
    Pauses {
        /// Seconds to watch for.
        #[arg(long, default_value_t = 30.0)]
        secs: f64,
    },
    /// Prints the table and draws the charts again from a saved JSON summary.
    Report {
        /// The summary written by `compare --json`.
        json: PathBuf,
        /// Where to write the charts.
        #[arg(long, default_value = "target/bench")]
        charts: PathBuf,
    },
    /// A load worker (started by `compare`; commands on stdin, replies on stdout).
    #[command(hide = true)]
    Worker,
    /// The writing side of `loopback`.
    #[command(hide = true)]
    LoopbackWriter {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        sockets: usize,
        #[arg(long)]
        bytes: usize,
        #[arg(long)]
        secs: u64,
        #[arg(long)]
        batch: Option<usize>,
    },
    /// The reading side of `loopback`.
    #[command(hide = true)]
    LoopbackSink {
        #[arg(long)]
        port: u16,
    },
    /// The `floor` system's server (started by `compare`).
    #[command(hide = true)]
    FloorServer {
        #[arg(long)]
        port: u16,
        /// Store every message in this file before it is acknowledged.
        #[arg(long)]
        persist: Option<PathBuf>,
        /// How `--persist` stores.
        #[arg(long, value_enum, default_value = "log")]
        store: floor_store::FloorStore,
    },
    /// One side of `handshake`: the server, or with `--client` the client.
    #[command(hide = true)]
    HandshakeSide {
        #[arg(long)]
        client: bool,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        connections: usize,
        #[arg(long)]
        ready_bytes: usize,
        #[arg(long)]
        room_size: usize,
        #[arg(long)]
        identify_frame: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Worker => {
            // One thread: the worker shares the generator's core with the other workers.
            return tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(worker::run());
        }
        Cmd::LoopbackWriter {
            port,
            sockets,
            bytes,
            secs,
            batch,
        } => return loopback::writer(port, sockets, bytes, secs, batch),
        Cmd::LoopbackSink { port } => return loopback::sink(port),
        Cmd::Disk {
            rates,
            secs,
            pages,
            dir,
            log_mib,
            beside_mib,
            beside_every_ms,
            beside_file_mib,
            beside_grow,
        } => {
            let plan = disk::Plan {
                rates,
                secs,
                pages,
                log_mib,
                beside: (beside_mib > 0.0).then(|| disk::Beside {
                    mib_per_sec: beside_mib,
                    every: std::time::Duration::from_millis(beside_every_ms.max(1)),
                    file_mib: beside_file_mib,
                    grow: beside_grow,
                }),
            };
            let steps = disk::run(&dir, &plan)?;
            println!("{}", serde_json::to_string_pretty(&steps)?);
            return Ok(());
        }
        Cmd::FloorServer {
            port,
            persist,
            store,
        } => return floor::serve(port, persist, store),
        Cmd::Pauses { secs } => {
            let cores = probe::run(secs);
            println!("{}", serde_json::to_string_pretty(&cores)?);
            return Ok(());
        }
        Cmd::HandshakeSide {
            client,
            port,
            connections,
            ready_bytes,
            room_size,
            identify_frame,
        } => {
            let shape = handshake::Shape {
                connections,
                ready_bytes,
                room_size,
                identify_frame,
            };
            return if client {
                handshake::client(port, shape)
            } else {
                handshake::server(port, shape)
            };
        }
        _ => {}
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            match cli.command {
                Cmd::Compare {
                    common,
                    quick,
                    systems,
                    scenarios,
                    step_secs,
                    s2_rates,
                    s4_rates,
                    probe_ms,
                    papo_send,
                    persist_all,
                    floor_store,
                } => {
                    let mut plan = if quick {
                        compare::Plan::quick()
                    } else {
                        compare::Plan::full()
                    };
                    if let Some(s) = step_secs {
                        plan.step = std::time::Duration::from_secs(s);
                    }
                    if let Some(r) = s2_rates {
                        plan.s2_rates = r;
                    }
                    if let Some(r) = s4_rates {
                        plan.s4_rates = r;
                    }
                    if let Some(ms) = probe_ms {
                        plan.probe_tick = std::time::Duration::from_millis(ms);
                    }
                    plan.papo_send = papo_send;
                    plan.persist_all = persist_all;
                    plan.floor_store = floor_store;
                    let summary = run(common, plan, systems, &scenarios).await?;
                    let broke = compare::breakdowns(&summary);
                    anyhow::ensure!(
                        broke.is_empty(),
                        "{} scenario(s) could not be measured:\n  {}",
                        broke.len(),
                        broke.join("\n  ")
                    );
                    Ok(())
                }
                Cmd::Smoke { common } => {
                    let all = [
                        compare::Scenario::S1,
                        compare::Scenario::S2,
                        compare::Scenario::S3,
                        compare::Scenario::S4,
                    ];
                    let systems = vec![System::Papo, System::Floor];
                    let summary = run(common, compare::Plan::smoke(), systems, &all).await?;
                    compare::check_smoke(&summary)
                }
                Cmd::Loopback {
                    sockets,
                    bytes,
                    secs,
                    receives_on_generator,
                    batch,
                } => {
                    let _steering = steered(receives_on_generator)?;
                    let report = loopback::run(sockets, bytes, secs, batch).await?;
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(())
                }
                Cmd::Handshake {
                    connections,
                    ready_bytes,
                    room_size,
                    identify_frame,
                } => {
                    let report = handshake::run(handshake::Shape {
                        connections,
                        ready_bytes,
                        room_size,
                        identify_frame,
                    })
                    .await?;
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(())
                }
                Cmd::Report { json, charts } => {
                    let summary: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&json)?)?;
                    let systems: Vec<System> = [
                        System::Papo,
                        System::Socketio,
                        System::Channels,
                        System::ChannelsRedis,
                        System::Floor,
                    ]
                    .into_iter()
                    .filter(|s| summary["systems"][s.key()].is_object())
                    .collect();
                    println!("{}", report::table(&summary, &systems));
                    for c in chart::write_all(&summary, &systems, &charts)? {
                        eprintln!("wrote {c}");
                    }
                    Ok(())
                }
                Cmd::Worker
                | Cmd::Disk { .. }
                | Cmd::Pauses { .. }
                | Cmd::LoopbackWriter { .. }
                | Cmd::LoopbackSink { .. }
                | Cmd::FloorServer { .. }
                | Cmd::HandshakeSide { .. } => {
                    unreachable!("handled above")
                }
            }
        })
}

/// Loopback's receives on the generator's core while the result lives, if `asked`.
fn steered(asked: bool) -> anyhow::Result<Option<steer::Steering>> {
    if !asked {
        return Ok(None);
    }
    let steering = steer::loopback_to(compare::core(fleet::GENERATOR_CPU))?;
    eprintln!(
        "loopback's receives run on the generator's core {}",
        fleet::GENERATOR_CPU
    );
    Ok(Some(steering))
}

async fn run(
    common: Common,
    plan: compare::Plan,
    systems: Vec<System>,
    scenarios: &[compare::Scenario],
) -> anyhow::Result<serde_json::Value> {
    if cfg!(debug_assertions) {
        eprintln!(
            "papo-bench was built without --release: its load generator may be slower than the \
             systems it measures, so only a smoke run's checks mean anything"
        );
    }
    let started = std::time::Instant::now();
    let papo = match common.papo {
        given if systems.contains(&System::Papo) => systems::papo_binary(given).await?,
        // Not started in this run.
        given => given.unwrap_or_default(),
    };
    let built = started.elapsed();
    let programs = Programs {
        papo,
        peers: common.peers,
        postgres_url: common.postgres,
        logs: common.charts.join("logs"),
    };
    if systems
        .iter()
        .any(|s| !matches!(s, System::Papo | System::Floor))
    {
        eprintln!("installing the peers (bench/peers/setup)");
        systems::install_peers(&programs.peers).await?;
    }
    let installed = started.elapsed() - built;
    let steering = steered(common.receives_on_generator)?;
    let claim = priority::claim();
    match claim.nice {
        Some(nice) => {
            eprintln!("this session's tasks run at nice {nice} against the machine's others")
        }
        None => eprintln!(
            "this session's priority could not be raised: the machine's other tasks compete as equals"
        ),
    }
    let mut results = serde_json::Map::new();
    for s in &systems {
        results.insert(
            s.key().into(),
            compare::system(*s, &programs, &plan, scenarios).await?,
        );
    }
    let scenarios_took = started.elapsed() - built - installed;
    let claim_nice = claim.nice;
    drop(claim);
    let steered = steering.is_some();
    drop(steering);
    let mut machine = report::machine();
    machine["session_nice"] = json!(claim_nice);
    machine["loopback_receives"] = json!(if steered {
        "generator_core"
    } else {
        "sender_core"
    });
    let mut summary = json!({
        "machine": machine,
        "plan": format!("{plan:?}"),
        "systems": results,
        "elapsed_secs": {
            "building_papo": report::rounded(built.as_secs_f64(), 1),
            "installing_peers": report::rounded(installed.as_secs_f64(), 1),
            "scenarios": report::rounded(scenarios_took.as_secs_f64(), 1),
        },
    });
    let charts = chart::write_all(&summary, &systems, &common.charts)?;
    summary["charts"] = json!(charts);
    println!("{}", report::table(&summary, &systems));
    if let Some(p) = common.json {
        std::fs::write(&p, serde_json::to_string_pretty(&summary)?)?;
        eprintln!("wrote {}", p.display());
    }
    eprintln!("charts: {}", charts.join(", "));
    eprintln!(
        "the scenarios took {:.0} s (before them, building papo {:.1} s and installing the peers {:.1} s)",
        scenarios_took.as_secs_f64(),
        built.as_secs_f64(),
        installed.as_secs_f64()
    );
    Ok(summary)
}
