//! `disk`: the machine's own floor for S4's acknowledgement latency. One thread does what a
//! group-committing server's writer does and nothing else: messages fall due at a constant
//! rate; whenever some are due it appends their pages (and one more, the commit's) to a
//! log file and syncs it as SQLite does (`fsync`), then counts each message's latency from
//! its due time to the end of that sync. No parsing, no index, no socket: what it reports
//! is the least latency any server that acknowledges only durable messages can offer on
//! this disk at that rate, and the least CPU it spends per message on the log alone (the
//! thread's own CPU time while it writes and syncs; its waits for work are not counted).
//!
//! With [`Beside`], a second thread writes other pages at the same time, as a checkpoint
//! copies the log's pages into the database: a burst of pages at scattered places every
//! half second, then a sync of that file. On a disk whose syncs flush its whole write cache,
//! the log's syncs then wait for those pages too; the step reports how long.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::hist::{self, Summary};
use crate::report::rounded;

const PAGE: usize = 4096;

/// What one rate gave.
#[derive(Debug, Serialize)]
pub struct DiskStep {
    /// Messages due per second.
    pub rate: f64,
    /// Syncs done (one per batch).
    pub commits: u64,
    /// Messages per commit.
    pub messages_per_commit: f64,
    /// Messages committed per second of the step (below `rate` if the thread fell behind).
    pub messages_per_sec: f64,
    /// The thread's CPU time writing and syncing the log, per message (µs).
    pub cpu_us_per_message: f64,
    /// From each message's due time to the end of its batch's sync.
    pub ack: Summary,
    /// Each sync alone.
    pub sync: Summary,
    /// What the writer beside the log did, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beside: Option<BesideStep>,
}

/// Writes beside the log, as a checkpoint's: `mib_per_sec` of 4 KiB pages at scattered
/// places in a file of `file_mib`, written in a burst every `every` and then synced.
#[derive(Debug, Clone, Copy)]
pub struct Beside {
    /// MiB written a second.
    pub mib_per_sec: f64,
    /// Time from one burst to the next (papo's checkpoint runs every 500 ms).
    pub every: Duration,
    /// Size of the file written into.
    pub file_mib: u64,
    /// Append the pages to a file that starts empty instead (disk reserved 64 MiB ahead of
    /// its end, as papo's checkpoint does), as a database grows.
    pub grow: bool,
}

/// What the writer beside the log did in one step.
#[derive(Debug, Serialize)]
pub struct BesideStep {
    /// MB (10^6 bytes) written a second over the step.
    pub mb_per_sec: f64,
    /// Each burst's sync.
    pub sync: Summary,
}

/// The `disk` command's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Messages due per second, one step each.
    pub rates: Vec<f64>,
    /// Seconds per rate.
    pub secs: f64,
    /// 4 KiB log pages written per message.
    pub pages: f64,
    /// Size of the log in MiB.
    pub log_mib: u64,
    /// Writes beside the log, if any.
    pub beside: Option<Beside>,
}

/// Runs `plan.secs` seconds at each of `plan.rates`, writing `plan.pages` 4 KiB pages per
/// message into a file of `plan.log_mib` MiB under `dir` (removed afterwards). The file is
/// written in full and synced first, then reused from its start whenever full, as SQLite's
/// log is after a checkpoint: syncs overwrite blocks already allocated, as in a long run.
/// The file beside it, if any, is prepared the same way, unless it is to grow from empty.
pub fn run(dir: &Path, plan: &Plan) -> anyhow::Result<Vec<DiskStep>> {
    std::fs::create_dir_all(dir)?;
    let log_path = dir.join("disk-floor.log");
    let beside_path = dir.join("disk-floor.db");
    let result = (|| {
        let log_bytes = plan.log_mib.max(1) << 20;
        let file = prepared(&log_path, log_bytes)?;
        let beside = plan
            .beside
            .map(|b| {
                let bytes = if b.grow { 0 } else { b.file_mib.max(1) << 20 };
                prepared(&beside_path, bytes).map(|f| (f, b))
            })
            .transpose()?;
        plan.rates
            .iter()
            .map(|&rate| {
                let stop = AtomicBool::new(false);
                std::thread::scope(|scope| {
                    let writer = beside
                        .as_ref()
                        .map(|(f, b)| scope.spawn(|| write_beside(f, b, &stop)));
                    let step = step(&file, log_bytes, rate, plan.secs, plan.pages);
                    stop.store(true, Ordering::Relaxed);
                    let beside = writer
                        .map(|w| {
                            w.join()
                                .map_err(|_| anyhow::anyhow!("the writer beside panicked"))?
                        })
                        .transpose()?;
                    step.map(|s| DiskStep { beside, ..s })
                })
            })
            .collect()
    })();
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(&beside_path);
    result
}

/// A file of `bytes` zeros, written and synced, so that later writes overwrite allocated blocks.
fn prepared(path: &Path, bytes: u64) -> anyhow::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    let zeros = vec![0u8; 1 << 20];
    for mib in 0..bytes.div_ceil(1 << 20) {
        file.write_all_at(&zeros, mib << 20)?;
    }
    file.sync_all()?;
    Ok(file)
}

/// Writes bursts of scattered pages into `file` until `stop`, each burst followed by a sync.
fn write_beside(file: &File, beside: &Beside, stop: &AtomicBool) -> anyhow::Result<BesideStep> {
    let pages_in_file = (beside.file_mib.max(1) << 20) / PAGE as u64;
    let per_burst = beside.mib_per_sec * beside.every.as_secs_f64() * (1 << 20) as f64;
    let page = [0xa5u8; PAGE];
    let mut sync = hist::new();
    let mut owed = 0.0;
    let mut written = 0u64;
    // A fixed xorshift sequence: the same scattered places in every run.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let start = Instant::now();
    let mut next = start;
    while !stop.load(Ordering::Relaxed) {
        if beside.grow {
            reserve(file, written + (64 << 20));
        }
        owed += per_burst;
        while owed >= PAGE as f64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = if beside.grow {
                written
            } else {
                (x % pages_in_file) * PAGE as u64
            };
            file.write_all_at(&page, at)?;
            owed -= PAGE as f64;
            written += PAGE as u64;
        }
        let synced = Instant::now();
        file.sync_data()?;
        hist::record(&mut sync, synced.elapsed().as_micros() as u64);
        next += beside.every;
        while !stop.load(Ordering::Relaxed) && Instant::now() < next {
            std::thread::sleep(
                Duration::from_millis(5).min(next.saturating_duration_since(Instant::now())),
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(BesideStep {
        mb_per_sec: rounded(written as f64 / secs / 1e6, 1),
        sync: hist::summary(&sync),
    })
}

fn step(file: &File, log_bytes: u64, rate: f64, secs: f64, pages: f64) -> anyhow::Result<DiskStep> {
    anyhow::ensure!(
        rate > 0.0 && secs > 0.0,
        "rate and seconds must be positive"
    );
    let total = (rate * secs) as u64;
    let due = |j: u64| Duration::from_secs_f64(j as f64 / rate);
    let page = [0x5au8; PAGE];
    let (mut ack, mut sync) = (hist::new(), hist::new());
    let (mut next, mut commits, mut offset) = (0u64, 0u64, 0u64);
    let mut busy = Duration::ZERO;
    let start = Instant::now();
    while next < total {
        let now = start.elapsed();
        let upto = ((now.as_secs_f64() * rate) as u64 + 1).min(total);
        if upto <= next {
            // Nothing due yet: wait without sleeping (a sleep would add the timer's slack).
            std::thread::yield_now();
            continue;
        }
        let cpu = thread_cpu();
        let frames = ((upto - next) as f64 * pages).ceil() as u64 + 1;
        let bytes = frames * PAGE as u64;
        if offset + bytes > log_bytes {
            offset = 0;
        }
        for i in 0..frames {
            file.write_all_at(&page, offset + i * PAGE as u64)?;
        }
        offset += bytes;
        let synced = Instant::now();
        file.sync_all()?;
        let end = start.elapsed();
        busy += thread_cpu().saturating_sub(cpu);
        hist::record(&mut sync, synced.elapsed().as_micros() as u64);
        for j in next..upto {
            hist::record(&mut ack, end.saturating_sub(due(j)).as_micros() as u64);
        }
        commits += 1;
        next = upto;
    }
    Ok(DiskStep {
        rate,
        commits,
        messages_per_commit: rounded(total as f64 / commits.max(1) as f64, 1),
        messages_per_sec: (total as f64 / start.elapsed().as_secs_f64()).round(),
        cpu_us_per_message: rounded(busy.as_secs_f64() * 1e6 / total.max(1) as f64, 1),
        ack: hist::summary(&ack),
        sync: hist::summary(&sync),
        beside: None,
    })
}

/// Reserves disk for `file` up to `end` without changing its length.
fn reserve(file: &File, end: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: `fallocate` on an open descriptor; it reads and writes no memory. A refusal
    // (a file system without it) leaves the file as it was.
    unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, end as i64) };
}

/// CPU time the calling thread has used.
pub fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process has used (threads the kernel started for it included).
pub fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both CPU-time clocks exist on every Linux.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rate: f64, secs: f64, beside: Option<Beside>) -> Plan {
        // 8 pages a message in a 1 MiB log: the log is reused several times over.
        Plan {
            rates: vec![rate],
            secs,
            pages: 8.0,
            log_mib: 1,
            beside,
        }
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("papo-disk-{name}-{}", std::process::id()))
    }

    #[test]
    fn every_message_is_committed_once() {
        let dir = scratch("alone");
        let steps = run(&dir, &plan(2_000.0, 0.1, None)).unwrap();
        let s = &steps[0];
        assert_eq!(s.ack.count, 200);
        assert!(s.commits >= 1 && s.commits <= 200);
        assert_eq!(s.sync.count, s.commits);
        assert!(s.ack.p50_ms > 0.0 && s.ack.max_ms >= s.ack.p50_ms);
        // Writing 1,800 pages and syncing costs some CPU; the step cannot beat its rate.
        assert!(s.cpu_us_per_message > 0.0);
        assert!(s.messages_per_sec > 0.0 && s.messages_per_sec <= 2_000.0 * 1.05);
        assert!(s.beside.is_none());
        assert!(!dir.join("disk-floor.log").exists());
        let _ = std::fs::remove_dir(&dir);
    }

    #[test]
    fn the_writer_beside_writes_its_bursts_and_syncs_each_while_the_log_commits() {
        let dir = scratch("beside");
        // 8 MiB a second in bursts every 50 ms: 0.4 MiB (102 pages) a burst over 0.3 s.
        let beside = Beside {
            mib_per_sec: 8.0,
            every: Duration::from_millis(50),
            file_mib: 2,
            grow: false,
        };
        let steps = run(&dir, &plan(1_000.0, 0.3, Some(beside))).unwrap();
        let s = &steps[0];
        assert_eq!(s.ack.count, 300);
        let b = s.beside.as_ref().expect("the writer beside reports");
        // The first burst is written at once, the others every 50 ms while the step lasts.
        assert!(b.sync.count >= 2, "{b:?}");
        assert!(b.mb_per_sec > 1.0, "{b:?}");
        assert!(!dir.join("disk-floor.db").exists());
        assert!(!dir.join("disk-floor.log").exists());
        let _ = std::fs::remove_dir(&dir);
    }
}
