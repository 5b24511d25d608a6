//! S1 idle: identified sessions that sit idle; the server's memory per session and the
//! connect+identify rate.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::load;
use crate::server::{self, TempDir};

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

/// Opens `count` identified sessions with `concurrency` in flight.
async fn open_many(
    ws_url: &str,
    tokens: &Arc<Vec<String>>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<load::Socket>> {
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
                mine.push(load::identify(&ws_url, &tokens[i % tokens.len()]).await?);
            }
        }));
    }
    let mut open = Vec::with_capacity(count);
    for t in tasks {
        open.extend(t.await??);
    }
    Ok(open)
}

pub async fn idle(
    papo: PathBuf,
    sessions: usize,
    users: usize,
    concurrency: usize,
    settle: u64,
) -> anyhow::Result<()> {
    let dir = TempDir::new("idle")?;
    let server = server::start(&papo, dir, None).await?;
    let http = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        tokens.push(register(&http, &server.url, i).await?);
    }
    let ws_url = server.gateway_url();
    // Warm up allocator and code paths with one session per user, then measure from there.
    let mut warm = Vec::new();
    for t in &tokens {
        warm.push(load::identify(&ws_url, t).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Open the sessions in three equal steps and measure after each: the per-session cost is
    // the slope between the first and the last step, so memory the allocator kept from
    // start-up (e.g. argon2's 19 MiB buffers) and then reused does not count as free.
    let before = server::rss_kib(server.pid)?;
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
        points.push((open.len(), server::rss_kib(server.pid)?));
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
    server.stop().await;
    Ok(())
}
