//! `loopback`: the machine's own ceiling for fan-out. One process pinned to the server's core
//! writes small frames round-robin to many TCP connections on 127.0.0.1 with one `write()`
//! each, as a server delivering one event to each of many sessions must; a second process
//! pinned to the generator's core reads them all. The writes per second it reaches are the
//! most deliveries per second any server can make on one core here, before doing any work
//! of its own (loopback TCP also runs the receiving side's network stack inside the
//! sender's `write()`).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::compare::core;
use crate::core_share::{CoreShare, CoreTimes};
use crate::fleet::GENERATOR_CPU;
use crate::server::pinned;
use crate::systems::SERVER_CPU;

/// Runs the measurement: starts the sink on the generator's core and the writer on the
/// server's core; returns the writer's report, with how the sink's core spent the run
/// (`sink_core`: its backlog drops what the sink's core cannot take in time when loopback's
/// receives are steered to it, [`crate::steer`]).
pub async fn run(sockets: usize, bytes: usize, secs: u64) -> anyhow::Result<Value> {
    let exe = std::env::current_exe()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    let mut sink = pinned(&exe, GENERATOR_CPU)
        .args(["loopback-sink", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting the sink")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sink_core = core(GENERATOR_CPU);
    let (before, started) = (CoreTimes::now(sink_core), Instant::now());
    let out = pinned(&exe, SERVER_CPU)
        .args([
            "loopback-writer",
            "--port",
            &port.to_string(),
            "--sockets",
            &sockets.to_string(),
            "--bytes",
            &bytes.to_string(),
            "--secs",
            &secs.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("running the writer")?;
    let share = before.zip(CoreTimes::now(sink_core)).and_then(|(b, a)| {
        CoreShare::between(sink_core, &b, &a, started.elapsed().as_secs_f64(), None)
    });
    let _ = sink.kill().await;
    anyhow::ensure!(out.status.success(), "the writer failed");
    let mut report: Value = serde_json::from_slice(&out.stdout)?;
    report["sink_core"] = json!(share);
    Ok(report)
}

/// The writer: `sockets` connections, `bytes`-byte frames, one `write()` each, for `secs`.
pub fn writer(port: u16, sockets: usize, bytes: usize, secs: u64) -> anyhow::Result<()> {
    let mut conns = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        conns.push(s);
    }
    // Let the sink register every connection before timing.
    std::thread::sleep(Duration::from_millis(500));
    let frame = vec![b'x'; bytes];
    let started = Instant::now();
    let until = Duration::from_secs(secs);
    let mut writes: u64 = 0;
    'outer: loop {
        for s in &mut conns {
            s.write_all(&frame)?;
            writes += 1;
        }
        if started.elapsed() >= until {
            break 'outer;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let report = json!({
        "sockets": sockets,
        "frame_bytes": bytes,
        "writes": writes,
        "writes_per_sec": (writes as f64 / elapsed).round(),
        "us_per_write": (elapsed * 1e6 / writes as f64 * 1000.0).round() / 1000.0,
    });
    println!("{report}");
    Ok(())
}

/// The sink: accepts connections and reads everything, one thread (on its own core).
pub fn sink(port: u16) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            loop {
                let (mut s, _) = listener.accept().await?;
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt;
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
            #[allow(unreachable_code)]
            Ok::<(), anyhow::Error>(())
        })
}
