//! Configuration from flags, environment and an optional TOML file (in that order of
//! precedence), with defaults that run a single node from `./data` and nothing else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use papo_gateway::session::GatewayConfig;
use serde::Deserialize;

/// Command line of the `papo` binary.
#[derive(Debug, Parser)]
#[command(
    name = "papo",
    version,
    about = "Papo: self-hosted chat, voice and video in one binary"
)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A TOML file with any of the settings below (keys as in the flags, with `_`).
    #[arg(long, env = "PAPO_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "PAPO_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Folder for the SQLite database and other local state.
    #[arg(long, env = "PAPO_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`; default SQLite at `<data dir>/papo.db`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Redis for the cluster event bus (used from the gateway on).
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// Redis pub/sub channel of the cluster bus (nodes of one cluster share it).
    #[arg(long, env = "PAPO_REDIS_CHANNEL", global = true)]
    pub redis_channel: Option<String>,
    /// Log format.
    #[arg(long, env = "PAPO_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// This node's id (0–1023), unique within a cluster; it is part of every id made here.
    #[arg(long, env = "PAPO_NODE_ID", global = true)]
    pub node_id: Option<u16>,
    /// Trust the first `X-Forwarded-For` address (only behind a reverse proxy you run).
    #[arg(long, env = "PAPO_TRUST_PROXY", global = true)]
    pub trust_proxy: Option<bool>,
}

/// Subcommands.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run the server (default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The settings file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    redis_channel: Option<String>,
    log_format: Option<LogFormat>,
    node_id: Option<u16>,
    trust_proxy: Option<bool>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    login_failures_per_account: Option<u32>,
    login_failures_per_account_total: Option<u32>,
    login_failures_per_ip: Option<u32>,
    gateway_heartbeat_interval_ms: Option<u64>,
    gateway_resume_window_secs: Option<u64>,
    gateway_max_connections_per_ip: Option<u32>,
    gateway_identifies_per_minute: Option<u32>,
    gateway_sends_per_minute: Option<u32>,
    message_rate_burst: Option<u32>,
    message_rate_window_secs: Option<u64>,
    change_rate_burst: Option<u32>,
    change_rate_window_secs: Option<u64>,
    large_server_members: Option<i64>,
    db_max_connections: Option<u32>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Local state folder.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Redis URL, if clustering.
    pub redis_url: Option<String>,
    /// Redis pub/sub channel of the cluster bus.
    pub redis_channel: String,
    /// Log format.
    pub log_format: LogFormat,
    /// Node id for id generation.
    pub node_id: u16,
    /// Whether `X-Forwarded-For` is believed.
    pub trust_proxy: bool,
    /// Access token lifetime.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime.
    pub refresh_token_ttl_secs: u64,
    /// Failed logins allowed per account from one client address per 15 minutes: past them
    /// that address is refused for that account, the right password included.
    pub login_failures_per_account: u32,
    /// Failed logins allowed per account from all addresses together per 15 minutes: the
    /// brake on guessing spread over many addresses.
    pub login_failures_per_account_total: u32,
    /// Failed logins allowed per client address per 15 minutes.
    pub login_failures_per_ip: u32,
    /// PostgreSQL schema to use (tests use one per test).
    pub pg_schema: Option<String>,
    /// Upper bound on pooled database connections.
    pub db_max_connections: u32,
    /// Gateway timings and limits.
    pub gateway: GatewayConfig,
    /// Messages one member may send at once (all channels); a spent burst refills evenly
    /// over `message_rate_window_secs`.
    pub message_rate_burst: u32,
    /// The time in which a spent `message_rate_burst` refills.
    pub message_rate_window_secs: u64,
    /// Changes others are told of (edits, reactions, one's nickname and profile) one member
    /// may make at once; a spent burst refills evenly over `change_rate_window_secs`.
    pub change_rate_burst: u32,
    /// The time in which a spent `change_rate_burst` refills.
    pub change_rate_window_secs: u64,
    /// Servers with more members than this are large: their members' presence changes are
    /// not pushed to every member (the member list carries presence instead).
    pub large_server_members: i64,
}

impl Config {
    /// Defaults for a data folder: SQLite inside it, everything else default.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid address"),
            database_url: sqlite_url(&data_dir),
            data_dir,
            redis_url: None,
            redis_channel: papo_gateway::bus::CHANNEL.to_owned(),
            log_format: LogFormat::Pretty,
            node_id: 0,
            trust_proxy: false,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            login_failures_per_account: 10,
            login_failures_per_account_total: 100,
            login_failures_per_ip: 50,
            pg_schema: None,
            db_max_connections: 16,
            gateway: GatewayConfig::default(),
            message_rate_burst: 10,
            message_rate_window_secs: 5,
            change_rate_burst: 10,
            change_rate_window_secs: 5,
            large_server_members: 1000,
        }
    }
}

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("papo.db").display())
}

impl Cli {
    /// Merges flags/environment over the TOML file over defaults.
    pub fn config(&self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let mut c = Config::for_data_dir(data_dir);
        if let Some(url) = self.database_url.clone().or(file.database_url) {
            c.database_url = url;
        }
        c.listen = self.listen.or(file.listen).unwrap_or(c.listen);
        c.redis_url = self.redis_url.clone().or(file.redis_url);
        if let Some(ch) = self.redis_channel.clone().or(file.redis_channel) {
            c.redis_channel = ch;
        }
        c.log_format = self.log_format.or(file.log_format).unwrap_or_default();
        c.node_id = self.node_id.or(file.node_id).unwrap_or(0);
        anyhow::ensure!(
            c.node_id <= papo_core::id::MAX_NODE,
            "node_id must be 0..=1023"
        );
        c.trust_proxy = self.trust_proxy.or(file.trust_proxy).unwrap_or(false);
        c.access_token_ttl_secs = file
            .access_token_ttl_secs
            .unwrap_or(c.access_token_ttl_secs);
        c.refresh_token_ttl_secs = file
            .refresh_token_ttl_secs
            .unwrap_or(c.refresh_token_ttl_secs);
        c.login_failures_per_account = file
            .login_failures_per_account
            .unwrap_or(c.login_failures_per_account);
        c.login_failures_per_account_total = file
            .login_failures_per_account_total
            .unwrap_or(c.login_failures_per_account_total);
        c.login_failures_per_ip = file
            .login_failures_per_ip
            .unwrap_or(c.login_failures_per_ip);
        if let Some(ms) = file.gateway_heartbeat_interval_ms {
            anyhow::ensure!(
                ms >= 1000,
                "gateway_heartbeat_interval_ms must be at least 1000"
            );
            c.gateway.heartbeat_interval = std::time::Duration::from_millis(ms);
        }
        if let Some(secs) = file.gateway_resume_window_secs {
            c.gateway.resume_window = std::time::Duration::from_secs(secs);
        }
        if let Some(n) = file.gateway_max_connections_per_ip {
            c.gateway.max_connections_per_ip = n;
        }
        if let Some(n) = file.gateway_identifies_per_minute {
            c.gateway.identifies_per_minute = n;
        }
        if let Some(n) = file.gateway_sends_per_minute {
            anyhow::ensure!(n >= 1, "gateway_sends_per_minute must be at least 1");
            c.gateway.max_sends = n;
        }
        if let Some(n) = file.message_rate_burst {
            anyhow::ensure!(n >= 1, "message_rate_burst must be at least 1");
            c.message_rate_burst = n;
        }
        if let Some(s) = file.message_rate_window_secs {
            anyhow::ensure!(s >= 1, "message_rate_window_secs must be at least 1");
            c.message_rate_window_secs = s;
        }
        if let Some(n) = file.change_rate_burst {
            anyhow::ensure!(n >= 1, "change_rate_burst must be at least 1");
            c.change_rate_burst = n;
        }
        if let Some(s) = file.change_rate_window_secs {
            anyhow::ensure!(s >= 1, "change_rate_window_secs must be at least 1");
            c.change_rate_window_secs = s;
        }
        // SQLite has one writer (the message writer has its own connection) and readers that
        // need no network wait: a few connections do, each one costing a thread and a page
        // cache. PostgreSQL connections wait on the network: more of them.
        c.db_max_connections = match file.db_max_connections {
            Some(n) => {
                anyhow::ensure!(n >= 1, "db_max_connections must be at least 1");
                n
            }
            None if c.database_url.starts_with("postgres") => 16,
            None => 4,
        };
        if let Some(n) = file.large_server_members {
            anyhow::ensure!(n >= 2, "large_server_members must be at least 2");
            c.large_server_members = n;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("papo-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("papo.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nnode_id = 7\nlog_format = \"json\"\n",
        )
        .unwrap();
        let cli = Cli::parse_from(["papo", "--config", file.to_str().unwrap(), "--node-id", "9"]);
        let c = cli.config().unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.node_id, 9);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.database_url, "sqlite://./data/papo.db");
        std::fs::write(&file, "colour = 1\n").unwrap();
        assert!(cli.config().is_err(), "unknown keys are errors");
    }
}
