//! `handshake`: the machine's own ceiling for connect+identify. A minimal server pinned to
//! the server's core accepts loopback TCP connections and plays the byte exchange of a
//! gateway session's start — an HTTP upgrade request carrying the token answered by a `101`,
//! the `hello` frame and a `ready` frame in one write (or, with `identify_frame`, the `101`
//! and `hello` first, then an identify frame answered by `ready`) — without parsing
//! or computing anything, and keeps every connection open as S1 does. A client on the generator's core opens them, a fixed
//! number at a time. The server reports the CPU it used per connection: the kernel's
//! share of a connection (accept, the socket's registration with epoll, a read and a write on
//! loopback, two of each with `identify_frame`) plus the least an async Rust server adds.
//!
//! With `room_size` above one it also does what S1 asks of a server with presence: the
//! sessions are grouped in rooms of that size in the order they finish opening, and each new
//! session's presence (a frame of [`PRESENCE_BYTES`]) is written to every member of its room
//! already open, one loopback write each, as papo tells online room-mates. Each presence is
//! written at once: a server that lets the frames queued for one socket leave in one write
//! (papo does, and so does the `floor` system, which measures S1 itself) spends less when
//! sessions open faster than it writes.

use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::fleet::GENERATOR_CPU;
use crate::net::ws::tcp;
use crate::report::rounded;
use crate::server::{cpu_secs, pinned};
use crate::systems::SERVER_CPU;

/// What a client sends to open a session: the upgrade request and, once answered, a masked
/// identify frame; or the upgrade request with the token in it. Sizes about as papo-bench's
/// own client sends them.
const REQUEST_BYTES: usize = 160;
const IDENTIFY_BYTES: usize = 90;
const REQUEST_WITH_TOKEN_BYTES: usize = 240;
/// The server's `101 Switching Protocols` response and its `hello` frame.
const RESPONSE_BYTES: usize = 200;
/// A `presence.updated` event frame as papo writes it (`user_id`, `status`, no custom status).
const PRESENCE_BYTES: usize = 110;
/// Connections the client keeps opening at once (as `compare` does).
const CONCURRENCY: usize = 256;

/// What one measurement opens.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Sessions opened (and kept open).
    pub connections: usize,
    /// Bytes of the `ready` frame.
    pub ready_bytes: usize,
    /// Sessions per room; each new one's presence is written to the room's open members.
    pub room_size: usize,
    /// Identify with a frame after `hello`, a second round trip.
    pub identify_frame: bool,
}

/// Runs the measurement: the server on the server's core, the client on the generator's;
/// returns the server's report.
pub async fn run(shape: Shape) -> anyhow::Result<Value> {
    let exe = std::env::current_exe()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port().to_string();
    drop(listener);
    let n = shape.connections.to_string();
    let (ready, room) = (shape.ready_bytes.to_string(), shape.room_size.to_string());
    let side = |cpu: &str, client: bool, stdout: Stdio| {
        let mut cmd = pinned(&exe, cpu);
        cmd.args(["handshake-side", "--port", &port, "--connections", &n])
            .args(["--ready-bytes", &ready, "--room-size", &room]);
        if shape.identify_frame {
            cmd.arg("--identify-frame");
        }
        if client {
            cmd.arg("--client");
        }
        cmd.stdout(stdout)
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
    };
    let server = side(SERVER_CPU, false, Stdio::piped()).context("starting the server")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut client = side(GENERATOR_CPU, true, Stdio::null()).context("starting the client")?;
    let out = server.wait_with_output().await?;
    let _ = client.kill().await;
    anyhow::ensure!(out.status.success(), "the server failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The server: answers `connections` sessions' opening exchanges, then prints its report.
pub fn server(port: u16, shape: Shape) -> anyhow::Result<()> {
    let Shape {
        connections,
        ready_bytes,
        room_size,
        identify_frame,
    } = shape;
    anyhow::ensure!(room_size >= 1, "a room holds at least one session");
    current_thread()?.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<TcpStream>();
        // Identifying in the upgrade, the response and `hello` leave with `ready`: one buffer,
        // built once like the rest.
        let mut first = if identify_frame {
            Vec::new()
        } else {
            vec![b'h'; RESPONSE_BYTES]
        };
        first.resize(first.len() + ready_bytes, b'r');
        let ready = std::sync::Arc::<[u8]>::from(first);
        let presence = [b'p'; PRESENCE_BYTES];
        let mut open: Vec<TcpStream> = Vec::with_capacity(connections);
        let mut presence_writes = 0usize;
        let mut accepted = 0;
        let mut started = None;
        while open.len() < connections {
            tokio::select! {
                conn = listener.accept(), if accepted < connections => {
                    let (s, _) = conn?;
                    started.get_or_insert_with(|| (Instant::now(), cpu_secs(std::process::id())));
                    accepted += 1;
                    let (done, ready) = (done_tx.clone(), ready.clone());
                    tokio::spawn(async move {
                        if let Ok(s) = answer(s, &ready, identify_frame).await {
                            let _ = done.send(s);
                        }
                    });
                }
                Some(s) = done_rx.recv() => {
                    let first = room_start(open.len(), room_size);
                    for mate in &mut open[first..] {
                        mate.write_all(&presence).await?;
                        presence_writes += 1;
                    }
                    open.push(s);
                }
            }
        }
        let (t0, cpu0) = started.context("no connection")?;
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_secs(std::process::id())? - cpu0?;
        let report = json!({
            "connections": connections,
            "ready_bytes": ready_bytes,
            "room_size": room_size,
            "identify_frame": identify_frame,
            "presence_writes_per_connect": rounded(presence_writes as f64 / connections as f64, 2),
            "seconds": rounded(wall, 3),
            "connects_per_sec": (connections as f64 / wall).round(),
            "server_cpu_secs": cpu,
            "server_us_per_connect": rounded(cpu * 1e6 / connections as f64, 1),
            "connects_per_server_cpu_sec": (connections as f64 / cpu).round(),
        });
        println!("{report}");
        Ok(())
    })
}

/// The index of the first member of the room that the session at `index` joins.
fn room_start(index: usize, room_size: usize) -> usize {
    index / room_size * room_size
}

/// One session's opening exchange on the server's side; `ready` carries the response and
/// `hello` in front unless `identify_frame`.
async fn answer(
    mut s: TcpStream,
    ready: &[u8],
    identify_frame: bool,
) -> std::io::Result<TcpStream> {
    s.set_nodelay(true)?;
    if identify_frame {
        read_exactly(&mut s, REQUEST_BYTES).await?;
        s.write_all(&[b'h'; RESPONSE_BYTES]).await?;
        read_exactly(&mut s, IDENTIFY_BYTES).await?;
        s.write_all(ready).await?;
    } else {
        read_exactly(&mut s, REQUEST_WITH_TOKEN_BYTES).await?;
        s.write_all(ready).await?;
    }
    Ok(s)
}

/// The client: opens `connections` sessions, [`CONCURRENCY`] at a time, and keeps them.
pub fn client(port: u16, shape: Shape) -> anyhow::Result<()> {
    let Shape {
        connections,
        ready_bytes,
        identify_frame,
        ..
    } = shape;
    // Source ports chosen as `compare`'s clients choose them (see `tcp`).
    let source = IpAddr::from([127, 0, 0, 2]);
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    current_thread()?.block_on(async move {
        let next = std::rc::Rc::new(std::cell::Cell::new(0));
        let local = tokio::task::LocalSet::new();
        let mut openers = Vec::new();
        for _ in 0..CONCURRENCY {
            let next = next.clone();
            openers.push(local.spawn_local(async move {
                let mut kept = Vec::new();
                while next.get() < connections {
                    next.set(next.get() + 1);
                    let mut s = tcp(Some(source), server).await?;
                    if identify_frame {
                        s.write_all(&[b'q'; REQUEST_BYTES]).await?;
                        read_exactly(&mut s, RESPONSE_BYTES).await?;
                        s.write_all(&[b'i'; IDENTIFY_BYTES]).await?;
                        read_exactly(&mut s, ready_bytes).await?;
                    } else {
                        s.write_all(&[b'q'; REQUEST_WITH_TOKEN_BYTES]).await?;
                        read_exactly(&mut s, RESPONSE_BYTES + ready_bytes).await?;
                    }
                    kept.push(s);
                }
                Ok::<_, anyhow::Error>(kept)
            }));
        }
        local
            .run_until(async {
                let mut kept = Vec::new();
                for o in openers {
                    kept.push(o.await??);
                }
                // Hold every connection until the server has reported and the run kills us.
                std::future::pending::<()>().await;
                drop(kept);
                Ok(())
            })
            .await
    })
}

/// Reads and drops `n` bytes.
async fn read_exactly(s: &mut TcpStream, n: usize) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut left = n;
    while left > 0 {
        let got = s.read(&mut buf[..left.min(4096)]).await?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        left -= got;
    }
    Ok(())
}

fn current_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_session_is_announced_to_the_open_members_of_its_room() {
        // Rooms of ten: the eleventh session (index 10) starts a new room and has no one to
        // tell; the tenth (index 9) tells the nine before it.
        assert_eq!(room_start(9, 10), 0);
        assert_eq!(room_start(10, 10), 10);
        let writes: usize = (0..20).map(|i| i - room_start(i, 10)).sum();
        assert_eq!(writes, 2 * 45, "4.5 writes per session in rooms of ten");
        assert_eq!((0..5).map(|i| i - room_start(i, 1)).sum::<usize>(), 0);
    }
}
