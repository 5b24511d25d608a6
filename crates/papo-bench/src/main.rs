//! `papo-bench`: measurements of a real `papo serve` process.
//!
//! - `idle`: identified sessions sitting idle → server memory per session, connect rate (S1).
//! - `compare`: the load scenarios (S2 small rooms, S3 one big room, S4 persisted sends) with
//!   an open-loop sender and HDR latency histograms at every receiver; table + JSON.
//! - `smoke`: the same scenarios at toy sizes for a few seconds (CI keeps the tool working;
//!   nothing is asserted on timings).

mod compare;
mod hist;
mod idle;
mod load;
mod seed;
mod server;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "papo-bench", about = "Measure a real papo server")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Idle identified sessions: server memory per session and connect rate.
    Idle {
        /// The papo binary to start.
        #[arg(long, default_value = "target/release/papo")]
        papo: PathBuf,
        /// Sessions to open.
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        /// Accounts the sessions are spread over.
        #[arg(long, default_value_t = 20)]
        users: usize,
        /// Connections in flight while opening.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds to let the sessions sit idle before measuring.
        #[arg(long, default_value_t = 3)]
        settle_secs: u64,
    },
    /// The scenarios against papo: table on stdout, JSON summary with --json.
    Compare {
        /// The papo binary to start.
        #[arg(long, default_value = "target/release/papo")]
        papo: PathBuf,
        /// Small sizes (about two minutes).
        #[arg(long)]
        quick: bool,
        /// Where to write the JSON summary.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Seconds-long run of every scenario (for CI).
    Smoke {
        /// The papo binary to start.
        #[arg(long, default_value = "target/debug/papo")]
        papo: PathBuf,
        /// Where to write the JSON summary.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Idle {
            papo,
            sessions,
            users,
            concurrency,
            settle_secs,
        } => idle::idle(papo, sessions, users, concurrency, settle_secs).await,
        Cmd::Compare { papo, quick, json } => {
            let plan = if quick {
                compare::Plan::quick()
            } else {
                compare::Plan::full()
            };
            compare::run(papo, plan, json).await.map(drop)
        }
        Cmd::Smoke { papo, json } => {
            let summary = compare::run(papo, compare::Plan::smoke(), json).await?;
            compare::check_smoke(&summary)
        }
    }
}
