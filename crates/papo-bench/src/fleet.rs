//! The coordinator's side of the load: worker processes pinned to the generator's core,
//! each with its own source address, driven over stdin/stdout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::hist;
use crate::proto::{MemberSpec, SenderRoom, Target};
use crate::recorder::unix_ns;
use crate::server::pinned;
use crate::worker::{Command, Reply, SendVia};

/// The core the generator runs on (the server gets core 0).
pub const GENERATOR_CPU: &str = "1";
/// Members per worker process at most (a process may open 20,000 files here).
const MEMBERS_PER_WORKER: usize = 6_000;
/// How far ahead of now a step's common start time is set.
const START_AHEAD: Duration = Duration::from_millis(100);

struct WorkerProc {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Members per room held by this worker.
    members: HashMap<u32, u64>,
}

impl WorkerProc {
    async fn send(&mut self, cmd: &Command) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(cmd)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn reply(&mut self) -> anyhow::Result<Reply> {
        let line = self.stdout.next_line().await?.context("a worker exited")?;
        match serde_json::from_str(&line)? {
            Reply::Error { message } => bail!("worker: {message}"),
            r => Ok(r),
        }
    }
}

/// How the members join.
#[derive(Clone, Copy, Debug)]
pub struct Joining {
    /// Connections opened at once, in all.
    pub concurrency: usize,
    /// Keep the time to each message's last recipient.
    pub track_last: bool,
    /// Peers: announce presence to the room.
    pub announce: bool,
    /// Connections still not open after this count as failed.
    pub time_limit: Duration,
}

/// Load worker processes.
pub struct Fleet {
    workers: Vec<WorkerProc>,
}

impl Fleet {
    /// CPU seconds the workers have used (their core's load: near one second per second,
    /// the generator itself is the limit and latencies near saturation overstate the
    /// server's).
    pub fn cpu_secs(&self) -> f64 {
        self.workers
            .iter()
            .filter_map(|w| w.child.id())
            .filter_map(|pid| crate::server::cpu_secs(pid).ok())
            .sum()
    }
}

/// How opening the connections went.
#[derive(Debug)]
pub struct Connected {
    /// Identified connections.
    pub ok: u64,
    /// Failed ones.
    pub failed: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Wall time for all of them.
    pub elapsed: Duration,
    /// Each identified session's time from its first connect attempt to `ready`.
    pub latency: hist::Summary,
}

/// One step's figures, merged over the workers.
pub struct StepResult {
    /// Accepted messages.
    pub accepted: u64,
    /// Refused or failed sends.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// Acknowledgement latency.
    pub ack: Histogram<u64>,
    /// How late the generator handed messages to their sockets.
    pub late: Histogram<u64>,
    /// Deliveries expected (accepted × room members).
    pub expected: u64,
    /// Deliveries received.
    pub received: u64,
    /// Duplicates.
    pub duplicates: u64,
    /// Reordered.
    pub reordered: u64,
    /// Reordered within one author's messages.
    pub reordered_same_author: u64,
    /// Delivery latency.
    pub latency: Histogram<u64>,
    /// Per message (room, seq): deliveries and latest latency, when tracked.
    pub last: HashMap<(u32, u64), (u32, u64)>,
    /// Receiving connections the server has closed since they opened.
    pub closed: u64,
    /// Sending time (from the common start to the last answer).
    pub send_elapsed: Duration,
}

impl Fleet {
    /// Starts `n` workers (this executable's `worker` command) on the generator's core.
    pub async fn spawn(n: usize) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut workers = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            let mut child = pinned(&exe, GENERATOR_CPU)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a worker")?;
            let stdin = child.stdin.take().context("worker stdin")?;
            let stdout = BufReader::new(child.stdout.take().context("worker stdout")?).lines();
            workers.push(WorkerProc {
                child,
                stdin,
                stdout,
                members: HashMap::new(),
            });
        }
        Ok(Self { workers })
    }

    /// Enough workers for `members` connections.
    pub async fn for_members(members: usize) -> anyhow::Result<Self> {
        Self::spawn(members.div_ceil(MEMBERS_PER_WORKER).max(2)).await
    }

    /// Source address of worker `i`: 127.0.0.(10+i), each with its own ~31k ports.
    fn source(target: &Target, i: usize) -> Option<IpAddr> {
        target
            .server
            .ip()
            .is_loopback()
            .then(|| IpAddr::from([127, 0, 0, 10 + i as u8]))
    }

    /// Opens and identifies every member's connection, spread over the workers.
    pub async fn connect(
        &mut self,
        target: Target,
        members: &[MemberSpec],
        how: Joining,
    ) -> anyhow::Result<Connected> {
        let w = self.workers.len();
        let mut shares: Vec<Vec<MemberSpec>> = vec![Vec::new(); w];
        for (i, m) in members.iter().enumerate() {
            shares[i % w].push(m.clone());
        }
        for (i, (worker, share)) in self.workers.iter_mut().zip(shares).enumerate() {
            for m in &share {
                *worker.members.entry(m.room).or_default() += 1;
            }
            worker
                .send(&Command::Connect {
                    target,
                    source: Self::source(&target, i),
                    members: share,
                    concurrency: (how.concurrency / w).max(1),
                    track_last: how.track_last,
                    announce: how.announce,
                    deadline_ms: how.time_limit.as_millis() as u64,
                })
                .await?;
        }
        // Every worker holds its share before any begins: the shares are handed over one
        // after the other (each one's JSON written, piped and parsed), and a clock started
        // before that counted the hand-over and let the workers told first begin alone.
        for worker in &mut self.workers {
            match worker.reply().await? {
                Reply::Prepared => {}
                r => bail!("unexpected worker reply {r:?}"),
            }
        }
        let started = Instant::now();
        for worker in &mut self.workers {
            worker.send(&Command::Go).await?;
        }
        let mut out = Connected {
            ok: 0,
            failed: 0,
            first_error: None,
            elapsed: Duration::ZERO,
            latency: hist::Summary::default(),
        };
        let mut latency = hist::new();
        for worker in &mut self.workers {
            match worker.reply().await? {
                Reply::Connected {
                    ok,
                    failed,
                    first_error,
                    latency: l,
                } => {
                    hist::merge(&mut latency, &l);
                    out.ok += ok;
                    out.failed += failed;
                    if out.first_error.is_none() {
                        out.first_error = first_error;
                    }
                }
                r => bail!("unexpected worker reply {r:?}"),
            }
        }
        out.elapsed = started.elapsed();
        out.latency = hist::summary(&latency);
        Ok(out)
    }

    /// Gives each worker its share of the rooms to send to.
    pub async fn senders(&mut self, rooms: &[SenderRoom], via: SendVia) -> anyhow::Result<()> {
        let w = self.workers.len();
        for (i, worker) in self.workers.iter_mut().enumerate() {
            let mine: Vec<SenderRoom> = rooms.iter().skip(i).step_by(w).cloned().collect();
            worker.send(&Command::Senders { rooms: mine, via }).await?;
        }
        for worker in &mut self.workers {
            worker.reply().await?;
        }
        Ok(())
    }

    /// Sends `rate` messages per second in all for `duration`, then collects the deliveries.
    /// `rooms` is the number of sending rooms (the rate is split by each worker's share).
    pub async fn step(
        &mut self,
        step: usize,
        rate: f64,
        duration: Duration,
        rooms: usize,
        patience: Duration,
        grace: Duration,
    ) -> anyhow::Result<StepResult> {
        let w = self.workers.len();
        // Every worker has its command well before this (a line on a local pipe each).
        let start_unix_ns = unix_ns() + START_AHEAD.as_nanos() as u64;
        for (i, worker) in self.workers.iter_mut().enumerate() {
            let share = rooms.saturating_sub(i).div_ceil(w) as f64 / rooms.max(1) as f64;
            worker
                .send(&Command::Send {
                    step,
                    rate: rate * share,
                    duration_ms: duration.as_millis() as u64,
                    // Each worker from its own phase: their messages fall between each
                    // other's instead of at the same instants.
                    start_unix_ns: start_unix_ns + crate::send::phase_ns(i, rate),
                    grace_ms: grace.as_millis() as u64,
                })
                .await?;
        }
        let mut res = StepResult {
            accepted: 0,
            errors: 0,
            first_error: None,
            ack: hist::new(),
            late: hist::new(),
            expected: 0,
            received: 0,
            duplicates: 0,
            reordered: 0,
            reordered_same_author: 0,
            latency: hist::new(),
            last: HashMap::new(),
            closed: 0,
            send_elapsed: Duration::ZERO,
        };
        let mut accepted_per_room: HashMap<u32, u64> = HashMap::new();
        for worker in &mut self.workers {
            match worker.reply().await? {
                Reply::Sent {
                    accepted,
                    errors,
                    first_error,
                    ack,
                    late,
                } => {
                    for (room, n) in accepted {
                        *accepted_per_room.entry(room).or_default() += n;
                        res.accepted += n;
                    }
                    res.errors += errors;
                    if res.first_error.is_none() {
                        res.first_error = first_error;
                    }
                    hist::merge(&mut res.ack, &ack);
                    hist::merge(&mut res.late, &late);
                }
                r => bail!("unexpected worker reply {r:?}"),
            }
        }
        res.send_elapsed = Duration::from_nanos(unix_ns().saturating_sub(start_unix_ns));
        for worker in &mut self.workers {
            let expected: u64 = worker
                .members
                .iter()
                .map(|(room, n)| n * accepted_per_room.get(room).copied().unwrap_or(0))
                .sum();
            res.expected += expected;
            worker
                .send(&Command::Collect {
                    step,
                    expected,
                    patience_ms: patience.as_millis() as u64,
                    grace_ms: grace.as_millis() as u64,
                })
                .await?;
        }
        for worker in &mut self.workers {
            match worker.reply().await? {
                Reply::Collected {
                    received,
                    duplicates,
                    reordered,
                    reordered_same_author,
                    latency,
                    last,
                    closed,
                } => {
                    res.closed += closed;
                    res.received += received;
                    res.duplicates += duplicates;
                    res.reordered += reordered;
                    res.reordered_same_author += reordered_same_author;
                    hist::merge(&mut res.latency, &latency);
                    for (room, seq, n, max) in last {
                        let e = res.last.entry((room, seq)).or_insert((0, 0));
                        e.0 += n;
                        e.1 = e.1.max(max);
                    }
                }
                r => bail!("unexpected worker reply {r:?}"),
            }
        }
        Ok(res)
    }

    /// Stops the workers (their connections close).
    pub async fn quit(mut self) {
        for worker in &mut self.workers {
            let _ = worker.send(&Command::Quit).await;
        }
        for worker in &mut self.workers {
            let _ = tokio::time::timeout(Duration::from_secs(5), worker.child.wait()).await;
            let _ = worker.child.kill().await;
        }
    }
}
