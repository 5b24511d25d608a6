//! Starting a real `papo serve` for a measurement, and reading its memory and CPU time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::AsyncBufReadExt;

/// A running papo, killed when dropped.
pub struct Server {
    /// The process.
    pub child: tokio::process::Child,
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// Its pid (for `/proc`).
    pub pid: u32,
    /// Its data folder (kept until the server is dropped, then removed).
    _dir: TempDir,
}

/// A folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    /// A fresh folder under the system temp dir.
    pub fn new(tag: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "papo-bench-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

/// Bench-only limits: many sessions per account and address, no send limit in the way.
const BENCH_CONFIG: &str = "gateway_identifies_per_minute = 1000000\n\
gateway_sends_per_minute = 1000000\n\
gateway_max_connections_per_ip = 1000000\n\
login_failures_per_ip = 1000000\n\
message_rate_burst = 1000000\n";

/// Whether a shell command exists.
pub fn which(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A command pinned to `cpu` with `taskset` when it exists.
pub fn pinned(program: &Path, cpu: &str) -> tokio::process::Command {
    if which("taskset") {
        let mut c = tokio::process::Command::new("taskset");
        c.arg("-c").arg(cpu).arg(program);
        c
    } else {
        tokio::process::Command::new(program)
    }
}

/// The SQLite URL of a data folder (as papo derives it).
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("papo.db").display())
}

/// Applies migrations in `dir` (so it can be seeded before the server starts).
pub async fn migrate(papo: &Path, dir: &TempDir, database_url: Option<&str>) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(papo);
    cmd.arg("migrate")
        .env("PAPO_DATA_DIR", &dir.0)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    match database_url {
        Some(u) => cmd.env("DATABASE_URL", u),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let status = cmd.status().await.context("running papo migrate")?;
    anyhow::ensure!(status.success(), "papo migrate failed");
    Ok(())
}

/// Starts `papo serve` on CPU 0 with data in `dir` (SQLite unless `database_url`).
pub async fn start(
    papo: &Path,
    dir: TempDir,
    database_url: Option<&str>,
) -> anyhow::Result<Server> {
    let config = dir.0.join("papo.toml");
    std::fs::write(&config, BENCH_CONFIG)?;
    let mut cmd = pinned(papo, "0");
    cmd.arg("serve")
        .env("PAPO_LISTEN", "127.0.0.1:0")
        .env("PAPO_DATA_DIR", &dir.0)
        .env("PAPO_CONFIG", &config)
        .env("PAPO_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    match database_url {
        Some(u) => cmd.env("DATABASE_URL", u),
        None => cmd.env_remove("DATABASE_URL"),
    };
    // The allocator as shipped: S1 once ran papo with `MIMALLOC_PURGE_DELAY=0` (freed pages
    // returned at once, so that RSS followed live memory), which cost ~10 % of its CPU per
    // session in page faults and `madvise` (docs/benchmarks.md, *Method*).
    cmd.env_remove("MIMALLOC_PURGE_DELAY");
    let mut child = cmd
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
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server {
        child,
        url,
        pid,
        _dir: dir,
    })
}

impl Server {
    /// The process, its pid and its data folder.
    pub fn into_parts(self) -> (tokio::process::Child, u32, TempDir) {
        (self.child, self.pid, self._dir)
    }
}

/// Resident set size of `pid` in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS not found")
}

/// User + system CPU seconds `pid` has used (from `/proc/<pid>/stat`, 100 ticks/s).
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    Ok(parse_stat(&stat).context("stat format")?.1)
}

/// Minor page faults `pid` has taken (field 10 of `/proc/<pid>/stat`): pages the kernel
/// mapped on their first touch, such as those an allocator gave back and then used again.
pub fn minor_faults(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_minor_faults(&stat).context("stat format")
}

/// A `stat` line's minor faults (field 10: the eighth after its name).
fn parse_minor_faults(stat: &str) -> Option<u64> {
    split_stat(stat)?.1.nth(7)?.parse().ok()
}

/// CPU seconds by thread name of the threads `pid` has now (`/proc/<pid>/task/*/stat`):
/// threads of one name (tokio's workers, a pool's) are added together. Threads that have
/// ended are not in it; empty if nothing could be read.
pub fn thread_cpu_secs(pid: u32) -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue; // ended meanwhile
        };
        if let Some((name, secs)) = parse_stat(&stat) {
            *by_name.entry(name.to_owned()).or_insert(0.0) += secs;
        }
    }
    by_name
}

/// A `stat` line's name (what is between its first `(` and last `)`: a name may hold
/// either) and the fields after it, from field 3 (the state) on.
fn split_stat(stat: &str) -> Option<(&str, std::str::SplitWhitespace<'_>)> {
    let (head, rest) = stat.rsplit_once(')')?;
    Some((head.split_once('(')?.1, rest.split_whitespace()))
}

/// A `stat` line's name and user + system CPU seconds (fields 14 and 15, in ticks of
/// 1/100 s).
fn parse_stat(stat: &str) -> Option<(&str, f64)> {
    let (name, fields) = split_stat(stat)?;
    let mut fields = fields.skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((name, (utime + stime) / 100.0))
}

/// papo's message writer counters from its `/metrics`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriterCounts {
    /// Messages stored (or found as repeats).
    pub messages: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Per message, time waited for its batch: `(upper bound in seconds, cumulative count)`.
    pub wait: Vec<(f64, u64)>,
    /// Per batch, time to store it: `(upper bound in seconds, cumulative count)`.
    pub commit: Vec<(f64, u64)>,
    /// Per gateway send, from its frame read to its answer written: `(upper bound in
    /// seconds, cumulative count)`.
    pub send: Vec<(f64, u64)>,
}

impl WriterCounts {
    /// Parses the exposition text; `None` without the writer's counters (the peers).
    pub fn parse(text: &str) -> Option<Self> {
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        };
        let buckets = |name: &str| -> Vec<(f64, u64)> {
            let prefix = format!("{name}_bucket{{le=\"");
            text.lines()
                .filter_map(|l| {
                    let (le, n) = l.strip_prefix(&prefix)?.split_once("\"} ")?;
                    let le = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().ok()?
                    };
                    Some((le, n.trim().parse().ok()?))
                })
                .collect()
        };
        Some(Self {
            messages: value("papo_message_writer_messages_total")?,
            commits: value("papo_message_writer_commits_total")?,
            wait: buckets("papo_message_wait_seconds"),
            commit: buckets("papo_message_commit_seconds"),
            send: buckets("papo_gateway_send_seconds"),
        })
    }

    /// What happened between `earlier` and these counts.
    pub fn since(&self, earlier: &Self) -> Self {
        let minus = |now: &[(f64, u64)], then: &[(f64, u64)]| {
            now.iter()
                .map(|&(le, n)| {
                    let before = then.iter().find(|(l, _)| *l == le).map_or(0, |(_, m)| *m);
                    (le, n.saturating_sub(before))
                })
                .collect()
        };
        Self {
            messages: self.messages.saturating_sub(earlier.messages),
            commits: self.commits.saturating_sub(earlier.commits),
            wait: minus(&self.wait, &earlier.wait),
            commit: minus(&self.commit, &earlier.commit),
            send: minus(&self.send, &earlier.send),
        }
    }
}

/// The upper bound (in ms) of the bucket holding quantile `q` of cumulative `buckets`;
/// `None` when nothing was counted or it fell past the last finite bound.
pub fn bucket_quantile_ms(buckets: &[(f64, u64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil() as u64;
    let (le, _) = buckets.iter().find(|(_, n)| *n >= rank)?;
    le.is_finite().then(|| le * 1000.0)
}

/// papo's message writer counters from its `/metrics`; `None` for the peers, which have no
/// such page (asked anyway, they answered nothing within the timeout: a second each time,
/// twice a step), or when papo does not answer within a second.
pub async fn writer_counts(target: crate::proto::Target) -> Option<WriterCounts> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if target.wire != crate::proto::Wire::Papo {
        return None;
    }
    let fetch = async {
        let mut s = tokio::net::TcpStream::connect(target.server).await.ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).await.ok()?;
        Some(text)
    };
    let text = tokio::time::timeout(Duration::from_secs(1), fetch)
        .await
        .ok()??;
    WriterCounts::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_counts_parse_and_subtract() {
        let then = WriterCounts::parse(
            "papo_message_writer_messages_total 10\n\
             papo_message_writer_commits_total 4\n\
             papo_message_commit_seconds_bucket{le=\"0.001\"} 3\n\
             papo_message_commit_seconds_bucket{le=\"0.005\"} 4\n\
             papo_message_commit_seconds_bucket{le=\"+Inf\"} 4\n",
        )
        .unwrap();
        let now = WriterCounts::parse(
            "papo_message_writer_messages_total 1010\n\
             papo_message_writer_commits_total 104\n\
             papo_message_commit_seconds_bucket{le=\"0.001\"} 90\n\
             papo_message_commit_seconds_bucket{le=\"0.005\"} 103\n\
             papo_message_commit_seconds_bucket{le=\"+Inf\"} 104\n\
             papo_gateway_send_seconds_bucket{le=\"0.001\"} 2\n\
             papo_gateway_send_seconds_bucket{le=\"+Inf\"} 2\n",
        )
        .unwrap();
        let step = now.since(&then);
        assert_eq!((step.messages, step.commits), (1000, 100));
        assert_eq!(
            step.commit,
            vec![(0.001, 87), (0.005, 99), (f64::INFINITY, 100)]
        );
        assert!(step.wait.is_empty());
        // Absent before, present after: counted from zero.
        assert_eq!(step.send, vec![(0.001, 2), (f64::INFINITY, 2)]);
        assert_eq!(bucket_quantile_ms(&step.commit, 0.5), Some(1.0));
        assert_eq!(bucket_quantile_ms(&step.commit, 0.99), Some(5.0));
        assert_eq!(bucket_quantile_ms(&step.commit, 1.0), None);
        assert_eq!(bucket_quantile_ms(&step.wait, 0.5), None);
        assert!(WriterCounts::parse("socket_io 1\n").is_none());
    }

    #[test]
    fn stat_lines_give_their_name_and_cpu() {
        let line = "4242 (tokio-rt-worker) S 1 4242 4242 0 -1 4194368 120 0 0 0 250 75 0 0 20 0";
        assert_eq!(parse_stat(line), Some(("tokio-rt-worker", 3.25)));
        // A name may hold spaces and parentheses; the fields follow its last `)`.
        let odd = "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0";
        assert_eq!(parse_stat(odd), Some(("a (b) c", 0.07)));
        assert_eq!(parse_stat("7 (short) R 1 2"), None);
        assert_eq!(parse_stat("no parentheses"), None);
        assert_eq!(parse_minor_faults(line), Some(120));
        assert_eq!(parse_minor_faults(odd), Some(0));
        assert_eq!(parse_minor_faults("7 (short) R 1 2"), None);
    }

    #[test]
    fn this_process_threads_are_read_by_name() {
        let worker = std::thread::Builder::new()
            .name("stat-test-spin".into())
            .spawn(|| {
                // Enough CPU for a tick or more to show.
                let started = std::time::Instant::now();
                let mut x = 0u64;
                while started.elapsed() < Duration::from_millis(150) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
                }
                std::thread::sleep(Duration::from_millis(300));
                x
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let threads = thread_cpu_secs(std::process::id());
        worker.join().unwrap();
        let spun = threads.get("stat-test-spin").copied();
        assert!(spun.is_some_and(|s| s > 0.0), "{threads:?}");
        let total: f64 = threads.values().sum();
        assert!(total <= cpu_secs(std::process::id()).unwrap() + 0.01);
        assert!(thread_cpu_secs(u32::MAX).is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn peers_are_not_asked_for_writer_counts() {
        use crate::proto::{Target, Wire};
        // A listener that would never answer: asking it would wait out the timeout.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = listener.local_addr().unwrap();
        for wire in [Wire::SocketIo, Wire::Channels] {
            assert_eq!(writer_counts(Target { wire, server }).await, None);
        }
        let asked = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(asked.is_err(), "a peer was connected to");
        // papo is asked (and, silent here, gives nothing).
        let papo = tokio::spawn(writer_counts(Target {
            wire: Wire::Papo,
            server,
        }));
        let (_socket, _) = listener.accept().await.unwrap();
        assert_eq!(papo.await.unwrap(), None);
    }
}
