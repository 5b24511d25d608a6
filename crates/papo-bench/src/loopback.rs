//! `loopback`: the machine's own ceiling for fan-out. One process pinned to the server's core
//! writes small frames round-robin to many TCP connections on 127.0.0.1 with one `write()`
//! each, as a server delivering one event to each of many sessions must; a second process
//! pinned to the generator's core reads them all. The writes per second it reaches are the
//! most deliveries per second any server can make on one core here, before doing any work
//! of its own (loopback TCP also runs the receiving side's network stack inside the
//! sender's `write()`).
//!
//! With `--batch N` the writer hands the kernel its sends through io_uring, N per system
//! call, instead of one `write()` each: what submitting in batches, the cheapest way Linux
//! offers to send on many sockets, saves over the per-call path (the receiving side's work
//! is the same either way).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::compare::core;
use crate::core_share::{CoreShare, CoreTimes};
use crate::fleet::GENERATOR_CPU;
use crate::report::rounded;
use crate::server::pinned;
use crate::systems::SERVER_CPU;

/// Runs the measurement: starts the sink on the generator's core and the writer on the
/// server's core; returns the writer's report, with how the sink's core spent the run
/// (`sink_core`: its backlog drops what the sink's core cannot take in time when loopback's
/// receives are steered to it, [`crate::steer`]).
pub async fn run(
    sockets: usize,
    bytes: usize,
    secs: u64,
    batch: Option<usize>,
) -> anyhow::Result<Value> {
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
        .args(batch.map(|n| format!("--batch={n}")))
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

/// The writer: `sockets` connections, `bytes`-byte frames, for `secs`: one `write()` each,
/// or through io_uring `batch` at a time.
pub fn writer(
    port: u16,
    sockets: usize,
    bytes: usize,
    secs: u64,
    batch: Option<usize>,
) -> anyhow::Result<()> {
    let mut conns = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        conns.push(s);
    }
    // Let the sink register every connection before timing.
    std::thread::sleep(Duration::from_millis(500));
    let frame = vec![b'x'; bytes];
    let (started, cpu) = (Instant::now(), crate::disk::process_cpu());
    let until = Duration::from_secs(secs);
    let mut writes: u64 = 0;
    match batch {
        None => 'outer: loop {
            for s in &mut conns {
                s.write_all(&frame)?;
                writes += 1;
            }
            if started.elapsed() >= until {
                break 'outer;
            }
        },
        Some(batch) => {
            let mut ring = Batches::new(batch)?;
            while started.elapsed() < until {
                writes += ring.send_each(&conns, &frame)?;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (crate::disk::process_cpu() - cpu).as_secs_f64();
    let report = json!({
        "sockets": sockets,
        "frame_bytes": bytes,
        "io_uring_batch": batch,
        "writes": writes,
        "writes_per_sec": (writes as f64 / elapsed).round(),
        "us_per_write": rounded(elapsed * 1e6 / writes as f64, 3),
        "cpu_us_per_write": rounded(cpu * 1e6 / writes as f64, 3),
    });
    println!("{report}");
    Ok(())
}

/// Sends submitted through an io_uring, a batch per system call.
struct Batches {
    ring: io_uring::IoUring,
    batch: usize,
}

impl Batches {
    /// A ring for batches of `batch` sends.
    fn new(batch: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(batch > 0, "a batch is at least one send");
        let ring = io_uring::IoUring::builder()
            .setup_single_issuer()
            .setup_coop_taskrun()
            .build(batch.next_power_of_two() as u32)
            .context("setting up io_uring")?;
        Ok(Self { ring, batch })
    }

    /// Sends `frame` once on each of `conns`, `batch` sends a call, each batch waited for
    /// in full; returns the sends made. A send that fails or sends less than the frame is
    /// an error (the sink reads fast enough that loopback's buffers never fill).
    fn send_each(&mut self, conns: &[TcpStream], frame: &[u8]) -> anyhow::Result<u64> {
        let len = u32::try_from(frame.len())?;
        for chunk in conns.chunks(self.batch) {
            for s in chunk {
                let fd = io_uring::types::Fd(s.as_raw_fd());
                let send = io_uring::opcode::Send::new(fd, frame.as_ptr(), len).build();
                // SAFETY: `frame` and the sockets outlive the batch, which is waited for
                // in full below; after an error the caller drops them only to exit.
                unsafe { self.ring.submission().push(&send) }
                    .map_err(|_| anyhow::anyhow!("the submission queue is full"))?;
            }
            self.ring.submit_and_wait(chunk.len())?;
            for done in self.ring.completion() {
                anyhow::ensure!(
                    done.result() == len as i32,
                    "a send returned {} of {len} bytes",
                    done.result()
                );
            }
        }
        Ok(conns.len() as u64)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn batches_send_every_frame_whole() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let conns: Vec<TcpStream> = (0..5)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
            .collect();
        let mut accepted: Vec<TcpStream> = (0..5)
            .map(|_| listener.accept().expect("accept").0)
            .collect();
        let mut ring = match Batches::new(2) {
            Ok(ring) => ring,
            // Refused by the kernel's settings (`kernel.io_uring_disabled`) or a seccomp
            // filter (Docker's default): there is nothing to measure there.
            Err(e)
                if e.downcast_ref::<std::io::Error>()
                    .and_then(std::io::Error::raw_os_error)
                    .is_some_and(|code| code == libc::EPERM || code == libc::ENOSYS) =>
            {
                eprintln!("io_uring is refused here, not tested: {e:#}");
                return;
            }
            Err(e) => panic!("io_uring: {e:#}"),
        };
        let frame: Vec<u8> = (0..100u8).collect();
        assert_eq!(ring.send_each(&conns, &frame).expect("send"), 5);
        assert_eq!(ring.send_each(&conns, &frame).expect("send"), 5);
        drop(conns);
        for s in &mut accepted {
            let mut got = Vec::new();
            s.read_to_end(&mut got).expect("read");
            assert_eq!(got, [frame.as_slice(), frame.as_slice()].concat());
        }
        assert!(Batches::new(0).is_err(), "an empty batch is refused");
    }
}
