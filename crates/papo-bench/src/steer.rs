//! Where loopback's receiving side runs: `--receives-on-generator`.
//!
//! On loopback the kernel runs the receiving socket's network stack (the TCP receive, the
//! reader's wake-up) inside the sender's `write()`, on the sender's core. In a fan-out the
//! server sends nearly every packet, so its pinned core also does the receiving work of
//! every recipient, which on a real network the recipients' own machines do. Receive
//! packet steering (RPS) on `lo` hands each packet the device delivers to a core of a
//! mask instead; with the generator's core alone in the mask, the sender's part ends at the
//! device's queue (docs/benchmarks/receives-steered.md measures both ways).
//!
//! It moves a little of the server's own receiving as well: the frames the generator sends
//! it (received on the generator's core already without steering, inside the generator's
//! `write()`) and the acknowledgements of its own segments. Per-flow steering (RFS) cannot
//! split the two ends of a loopback connection instead: both directions hash alike, so the
//! flow follows whichever end last read or wrote (measured: 112k writes a second against
//! 142k–152k without steering).
//!
//! A steered packet waits in the target core's backlog until that core's softirq takes it,
//! and the backlog drops what is past `net.core.netdev_max_backlog` (1,000 by default): S3's
//! burst of 18,000 deliveries overflowed it, and the drops' retransmissions held the last
//! recipients for seconds (2,830,896 packets dropped in the first steered runs). So the
//! steering raises that limit to [`BACKLOG`] as well. Each step reports the drops
//! (`backlog_drops` in its cores' shares).
//!
//! Needs root (it writes `/sys/class/net/lo/queues/rx-*/rps_cpus` and the sysctl); both are
//! put back when the steering is dropped (not if the run is killed: then write `0` to each
//! mask and `1000` to the sysctl).

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The loopback device's receive queues.
const LO_QUEUES: &str = "/sys/class/net/lo/queues";

/// The most packets a core's backlog holds (`net.core.netdev_max_backlog`).
const MAX_BACKLOG: &str = "/proc/sys/net/core/netdev_max_backlog";

/// The backlog asked for while steering: S3's burst of 18,000 frames with their
/// acknowledgements, several times over.
pub const BACKLOG: u32 = 100_000;

/// Receives steered to one core; every value it changed (each queue's mask, the backlog's
/// limit) is written back when dropped.
pub struct Steering {
    /// Each queue's `rps_cpus` file and the backlog's limit, with what each held before.
    before: Vec<(PathBuf, String)>,
}

impl Steering {
    /// Writes `value` into `file`, keeping what it held to put back.
    fn set(&mut self, file: PathBuf, value: &str) -> anyhow::Result<()> {
        let before = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        std::fs::write(&file, value).with_context(|| format!("writing {}", file.display()))?;
        // Kept once written, so a later failure puts this one back.
        self.before.push((file, before.trim().to_owned()));
        Ok(())
    }
}

impl Drop for Steering {
    fn drop(&mut self) {
        for (path, mask) in &self.before {
            if let Err(e) = std::fs::write(path, mask) {
                eprintln!("could not put back {}: {e}", path.display());
            }
        }
    }
}

/// Steers every packet loopback delivers to core `cpu` until the result is dropped.
pub fn loopback_to(cpu: usize) -> anyhow::Result<Steering> {
    queues_to(Path::new(LO_QUEUES), Path::new(MAX_BACKLOG), cpu)
        .context("steering loopback's receives (needs root and a kernel with RPS)")
}

/// Writes `cpu`'s mask into the `rps_cpus` of every `rx-*` queue under `queues`, and at
/// least [`BACKLOG`] into `max_backlog`.
fn queues_to(queues: &Path, max_backlog: &Path, cpu: usize) -> anyhow::Result<Steering> {
    anyhow::ensure!(
        cpu < 32,
        "core {cpu}: only the first 32 cores can be named here"
    );
    let mask = format!("{:x}", 1u32 << cpu);
    let mut files: Vec<PathBuf> = std::fs::read_dir(queues)
        .with_context(|| format!("reading {}", queues.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
        .map(|e| e.path().join("rps_cpus"))
        .collect();
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "{} has no receive queue",
        queues.display()
    );
    let mut steering = Steering { before: Vec::new() };
    for file in files {
        steering.set(file, &mask)?;
    }
    let limit = std::fs::read_to_string(max_backlog)
        .with_context(|| format!("reading {}", max_backlog.display()))?;
    let limit: u32 = limit.trim().parse().context("the backlog's limit")?;
    if limit < BACKLOG {
        steering.set(max_backlog.to_owned(), &BACKLOG.to_string())?;
    }
    Ok(steering)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_receive_queue_is_steered_and_put_back() {
        let dir = std::env::temp_dir().join(format!("papo-steer-{}", std::process::id()));
        for q in ["rx-0", "rx-1", "tx-0"] {
            std::fs::create_dir_all(dir.join(q)).unwrap();
            std::fs::write(dir.join(q).join("rps_cpus"), "0\n").unwrap();
        }
        let backlog = dir.join("netdev_max_backlog");
        std::fs::write(&backlog, "1000\n").unwrap();
        let read = |q: &str| std::fs::read_to_string(dir.join(q).join("rps_cpus")).unwrap();
        let limit = || std::fs::read_to_string(&backlog).unwrap();
        let steering = queues_to(&dir, &backlog, 1).unwrap();
        assert_eq!((read("rx-0"), read("rx-1")), ("2".into(), "2".into()));
        assert_eq!(read("tx-0"), "0\n", "transmit queues are not touched");
        assert_eq!(limit(), "100000");
        drop(steering);
        assert_eq!((read("rx-0"), read("rx-1")), ("0".into(), "0".into()));
        assert_eq!(limit(), "1000");
        // A larger limit is left as it is.
        std::fs::write(&backlog, "250000").unwrap();
        drop(queues_to(&dir, &backlog, 0).unwrap());
        assert_eq!((read("rx-0"), limit()), ("0".into(), "250000".into()));
        assert!(
            queues_to(&dir, &backlog, 40).is_err(),
            "a core past the mask's width"
        );
        assert!(
            queues_to(&dir.join("none"), &backlog, 1).is_err(),
            "no such device"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
