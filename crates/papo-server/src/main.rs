//! The `papo` binary: a thin shell over [`papo_server`].

use clap::Parser;

/// mimalloc keeps per-connection allocations compact (measured in docs/benchmarks.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use papo_server::config::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config()?;
    papo_server::telemetry::init(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => papo_server::serve::run_until_signal(config).await,
        Command::Migrate => papo_server::serve::migrate(&config).await,
    }
}
