//! `papo-bench`: measurements of a real `papo serve` process.
//!
//! `idle` starts papo (pinned to CPU 0 when `taskset` exists), registers users, opens and
//! identifies N gateway sessions from this process, lets them sit idle, and reports the
//! server's resident memory per session (VmRSS delta / N) and the connect+identify rate.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio_tungstenite::tungstenite::Message;

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
        } => idle(papo, sessions, users, concurrency, settle_secs).await,
    }
}

struct Server {
    child: tokio::process::Child,
    url: String,
    pid: u32,
    _dir: TempDir,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_server(papo: &PathBuf) -> anyhow::Result<Server> {
    let dir = std::env::temp_dir().join(format!("papo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("papo.toml");
    // Bench-only limits: many sessions per account from one address.
    std::fs::write(
        &config,
        "gateway_identifies_per_minute = 1000000\ngateway_max_connections_per_ip = 1000000\nlogin_failures_per_ip = 1000000\n",
    )?;
    let mut cmd = if which("taskset") {
        let mut c = tokio::process::Command::new("taskset");
        c.arg("-c").arg("0").arg(papo);
        c
    } else {
        tokio::process::Command::new(papo)
    };
    let mut child = cmd
        .arg("serve")
        .env("PAPO_LISTEN", "127.0.0.1:0")
        .env("PAPO_DATA_DIR", &dir)
        .env("PAPO_CONFIG", &config)
        .env("PAPO_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        // Return freed pages at once, so that RSS tracks live memory.
        .env("MIMALLOC_PURGE_DELAY", "0")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", papo.display()))?;
    let pid = child.id().context("server pid")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().context("stdout")?).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("server did not start")??
            .context("server exited")?;
        if let Some(u) = line.strip_prefix("papo: listening on ") {
            break u.to_owned();
        }
    };
    Ok(Server {
        child,
        url,
        pid,
        _dir: TempDir(dir),
    })
}

fn which(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Resident set size of `pid` in KiB (VmRSS).
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS not found")
}

async fn register(http: &reqwest::Client, url: &str, i: usize) -> anyhow::Result<String> {
    let name = format!("bench_{i}");
    let res = http
        .post(format!("{url}/api/v1/auth/register"))
        .json(&json!({"username": name, "email": format!("{name}@bench.test"), "password": "bench password 123"}))
        .send()
        .await?;
    let body: Value = res.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("register failed: {body}"))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_session(ws_url: &str, token: &str) -> anyhow::Result<Socket> {
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
    }
}

async fn next_json(ws: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match ws.next().await.context("closed")?? {
            Message::Text(t) => return Ok(serde_json::from_str(&t)?),
            Message::Close(c) => bail!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Opens `count` identified sessions with `concurrency` in flight.
async fn open_many(
    ws_url: &str,
    tokens: &Arc<Vec<String>>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Socket>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (tokens, next, ws_url) = (tokens.clone(), next.clone(), ws_url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(mine);
                }
                mine.push(open_session(&ws_url, &tokens[i % tokens.len()]).await?);
            }
        }));
    }
    let mut open = Vec::with_capacity(count);
    for t in tasks {
        open.extend(t.await??);
    }
    Ok(open)
}

async fn idle(
    papo: PathBuf,
    sessions: usize,
    users: usize,
    concurrency: usize,
    settle: u64,
) -> anyhow::Result<()> {
    let server = start_server(&papo).await?;
    let http = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        tokens.push(register(&http, &server.url, i).await?);
    }
    let ws_url = format!("{}/api/v1/gateway", server.url.replace("http://", "ws://"));
    // Warm up allocator and code paths with one session per user, then measure from there.
    let mut warm = Vec::new();
    for t in &tokens {
        warm.push(open_session(&ws_url, t).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Open the sessions in three equal steps and measure after each: the per-session cost is
    // the slope between the first and the last step, so memory the allocator kept from
    // start-up (e.g. argon2's 19 MiB buffers) and then reused does not count as free.
    let before = rss_kib(server.pid)?;
    let tokens = Arc::new(tokens);
    let step = sessions / 3;
    let mut open = Vec::with_capacity(sessions);
    let mut points = vec![(0usize, before)];
    let mut open_time = Duration::ZERO;
    for _ in 0..3 {
        let started = Instant::now();
        open.extend(open_many(&ws_url, &tokens, step, concurrency).await?);
        open_time += started.elapsed();
        tokio::time::sleep(Duration::from_secs(settle)).await;
        points.push((open.len(), rss_kib(server.pid)?));
    }
    let (n1, r1) = points[1];
    let (n3, r3) = points[3];
    let per_session = (r3.saturating_sub(r1)) as f64 * 1024.0 / (n3 - n1) as f64;
    let report = json!({
        "scenario": "idle",
        "sessions": open.len(),
        "users": users,
        "rss_kib_at_sessions": points.iter().map(|(n, r)| json!([n, r])).collect::<Vec<_>>(),
        "bytes_per_session": per_session.round(),
        "connect_identify_per_sec": (open.len() as f64 / open_time.as_secs_f64()).round(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    drop(open);
    drop(warm);
    let mut child = server.child;
    let _ = child.kill().await;
    Ok(())
}
