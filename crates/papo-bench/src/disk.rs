//! `disk`: the machine's own floor for S4's acknowledgement latency. One thread does what a
//! group-committing server's writer does and nothing else: messages fall due at a constant
//! rate; whenever some are due it appends their pages (and one more, the commit's) to a
//! log file and syncs it as SQLite does (`fsync`), then counts each message's latency from
//! its due time to the end of that sync. No parsing, no index, no socket: what it reports
//! is the least latency any server that acknowledges only durable messages can offer on
//! this disk at that rate, and the least CPU it spends per message on the log alone (the
//! thread's own CPU time while it writes and syncs; its waits for work are not counted).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::hist::{self, Summary};

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
}

/// Runs `secs` seconds at each of `rates`, writing `pages` 4 KiB pages per message into a
/// file of `log_mib` MiB under `dir` (removed afterwards). The file is written in full and
/// synced first, then reused from its start whenever full, as SQLite's log is after a
/// checkpoint: syncs overwrite blocks already allocated, as in a long run.
pub fn run(
    dir: &Path,
    rates: &[f64],
    secs: f64,
    pages: f64,
    log_mib: u64,
) -> anyhow::Result<Vec<DiskStep>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("disk-floor.log");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let log_bytes = log_mib.max(1) << 20;
    file.write_all_at(&vec![0u8; log_bytes as usize], 0)?;
    file.sync_all()?;
    let steps = rates
        .iter()
        .map(|&rate| step(&file, log_bytes, rate, secs, pages))
        .collect();
    let _ = std::fs::remove_file(&path);
    steps
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
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    Ok(DiskStep {
        rate,
        commits,
        messages_per_commit: round1(total as f64 / commits.max(1) as f64),
        messages_per_sec: (total as f64 / start.elapsed().as_secs_f64()).round(),
        cpu_us_per_message: round1(busy.as_secs_f64() * 1e6 / total.max(1) as f64),
        ack: hist::summary(&ack),
        sync: hist::summary(&sync),
    })
}

/// CPU time the calling thread has used.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; this clock exists on every Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_committed_once() {
        let dir = std::env::temp_dir().join(format!("papo-disk-{}", std::process::id()));
        // 200 messages of 8 pages in a 1 MiB log: the log is reused several times over.
        let steps = run(&dir, &[2_000.0], 0.1, 8.0, 1).unwrap();
        let s = &steps[0];
        assert_eq!(s.ack.count, 200);
        assert!(s.commits >= 1 && s.commits <= 200);
        assert_eq!(s.sync.count, s.commits);
        assert!(s.ack.p50_ms > 0.0 && s.ack.max_ms >= s.ack.p50_ms);
        // Writing 1,800 pages and syncing costs some CPU; the step cannot beat its rate.
        assert!(s.cpu_us_per_message > 0.0);
        assert!(s.messages_per_sec > 0.0 && s.messages_per_sec <= 2_000.0 * 1.05);
        assert!(!dir.join("disk-floor.log").exists());
        let _ = std::fs::remove_dir(&dir);
    }
}
