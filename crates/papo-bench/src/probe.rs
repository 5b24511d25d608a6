//! How long the machine itself keeps a core from a task that is ready to run.
//!
//! A thread pinned to each core, at real-time priority where it may (`SCHED_FIFO`: it runs
//! the moment its timer fires unless the hypervisor has taken the core, an interrupt is
//! being served or the kernel is in a section that cannot be left), wakes on a fixed grid
//! and records how late each tick ran. Ticks stay on the grid: on a 1 ms grid, when the core
//! is gone for 20 ms, the tick due at its start runs 20 ms late, the next 19 ms late, and so
//! on. The share of ticks later than `x` is then the share of events arriving at random
//! moments that the machine alone delays by more than `x`, which no server can do better
//! than: if it were over 1 % on a core, a p99 under `x` could not be measured there. A
//! coarser grid samples the same share less often.
//!
//! Tasks of ordinary priority also wait for each other; the machine's own ones are kept in
//! their place by [`crate::priority`], and this probe does not see them. Each step reports
//! what it saw (docs/benchmarks.md, *The machine's other tasks*), at a cost of a wake-up a
//! tick per core: on a 1 ms grid 2.6 % of an idle core of the Intel Xeon of 2026-12-05
//! morning and 3.2 % of the server's core in S4's 35k step, by the scheduler's count, so a
//! step's probe ticks every [`STEP_TICK`] and `papo-bench pauses`, with nothing else to
//! disturb, every [`IDLE_TICK`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::hist::{self, Summary};

/// Time between two ticks of a step's probe, which shares the cores with the systems
/// measured: a 10 s step still gets 2,000 ticks per core.
pub const STEP_TICK: Duration = Duration::from_millis(5);

/// Time between two ticks of `papo-bench pauses`, the machine otherwise idle.
pub const IDLE_TICK: Duration = Duration::from_millis(1);

/// A probe thread's result: whether it ran at real-time priority, and its ticks' lateness.
type Ticks = (bool, Histogram<u64>);

/// What one core's probe saw.
#[derive(Clone, Debug, Serialize)]
pub struct CorePauses {
    /// The core.
    pub core: usize,
    /// Whether the probe ran at real-time priority (otherwise it also waited for the
    /// core's other tasks, and its figures are an upper bound).
    pub realtime: bool,
    /// How late the ticks ran.
    pub late: Summary,
    /// Percent of ticks later than 1 ms.
    pub over_1ms_pct: f64,
    /// Percent of ticks later than 2 ms.
    pub over_2ms_pct: f64,
    /// Percent of ticks later than 3 ms.
    pub over_3ms_pct: f64,
    /// Percent of ticks later than 10 ms.
    pub over_10ms_pct: f64,
}

impl CorePauses {
    fn new(core: usize, realtime: bool, h: &Histogram<u64>) -> Self {
        let pct = |ms: u64| {
            let over: u64 = h
                .iter_recorded()
                .filter(|v| h.lowest_equivalent(v.value_iterated_to()) > ms * 1000)
                .map(|v| v.count_at_value())
                .sum();
            crate::report::rounded(over as f64 * 100.0 / h.len().max(1) as f64, 3)
        };
        Self {
            core,
            realtime,
            late: hist::summary(h),
            over_1ms_pct: pct(1),
            over_2ms_pct: pct(2),
            over_3ms_pct: pct(3),
            over_10ms_pct: pct(10),
        }
    }
}

/// A few words on the cores' pauses for a progress line.
pub fn brief(cores: &[CorePauses]) -> String {
    if cores.is_empty() {
        return "machine not probed".into();
    }
    let shares: Vec<String> = cores
        .iter()
        .map(|c| format!("{} % (core {})", c.over_2ms_pct, c.core))
        .collect();
    let max = cores.iter().map(|c| c.late.max_ms).fold(0.0, f64::max);
    format!(
        "machine: ticks over 2 ms late {}, max {max} ms",
        shares.join(", ")
    )
}

/// Probes running on some cores until [`Probe::finish`].
pub struct Probe {
    stop: Arc<AtomicBool>,
    threads: Vec<(usize, JoinHandle<Ticks>)>,
}

impl Probe {
    /// Starts a probe ticking every `every` on each of `cores` (a core this process may not
    /// use is skipped).
    pub fn start(cores: &[usize], every: Duration) -> Self {
        let tick_ns = every.as_nanos().clamp(1, i64::MAX as u128) as i64;
        let stop = Arc::new(AtomicBool::new(false));
        let threads = cores
            .iter()
            .filter_map(|&core| {
                let stop = stop.clone();
                std::thread::Builder::new()
                    .name(format!("probe-{core}"))
                    .spawn(move || tick(core, tick_ns, &stop))
                    .ok()
                    .map(|t| (core, t))
            })
            .collect();
        Self { stop, threads }
    }

    /// Stops the probes and returns what each saw (cores it could not pin to are left out).
    pub fn finish(self) -> Vec<CorePauses> {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .filter_map(|(core, t)| {
                let (realtime, h) = t.join().ok()?;
                (!h.is_empty()).then(|| CorePauses::new(core, realtime, &h))
            })
            .collect()
    }
}

/// The probe's loop on `core`, a tick every `tick_ns`: its ticks' lateness in
/// microseconds, and whether it ran at real-time priority. Empty if it could not be pinned.
fn tick(core: usize, tick_ns: i64, stop: &AtomicBool) -> Ticks {
    let mut h = hist::new();
    if !pin(core) {
        return (false, h);
    }
    let realtime = realtime();
    let mut next = now();
    while !stop.load(Ordering::Relaxed) {
        next += tick_ns;
        sleep_until(next);
        let late = diff_us(now(), next);
        hist::record(&mut h, late.max(1));
    }
    (realtime, h)
}

fn pin(core: usize) -> bool {
    // SAFETY: `set` is a plain bit set on the stack, sized as the call is told.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// `SCHED_FIFO` at the lowest real-time priority, where allowed.
fn realtime() -> bool {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: plain system call on the calling thread, `param` lives across it.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) == 0 }
}

/// The monotonic clock in nanoseconds (64-bit Linux: both fields are `i64`).
fn now() -> i64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes into `t`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    t.tv_sec * 1_000_000_000 + t.tv_nsec
}

/// `a - b` in microseconds, zero if `a` is earlier.
fn diff_us(a: i64, b: i64) -> u64 {
    ((a - b).max(0) / 1000) as u64
}

fn sleep_until(ns: i64) {
    let t = libc::timespec {
        tv_sec: ns / 1_000_000_000,
        tv_nsec: ns % 1_000_000_000,
    };
    // SAFETY: `t` lives across the call; an interrupted sleep is simply tried again.
    while unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &t,
            std::ptr::null_mut(),
        )
    } == libc::EINTR
    {}
}

/// `papo-bench pauses`: the probe alone on every core for `secs`, the machine otherwise
/// idle.
pub fn run(secs: f64) -> Vec<CorePauses> {
    // SAFETY: plain system call.
    let cores = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize;
    let probe = Probe::start(&(0..cores).collect::<Vec<_>>(), IDLE_TICK);
    std::thread::sleep(Duration::from_secs_f64(secs));
    probe.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_ticks_count_once_each_on_the_grid() {
        let mut h = hist::new();
        // 1,000 ticks: 980 on time, then a 20 ms pause: the ticks due in it run 20, 19, … 1
        // ms late.
        for _ in 0..980 {
            hist::record(&mut h, 40);
        }
        for ms in 1..=20 {
            hist::record(&mut h, ms * 1000);
        }
        let p = CorePauses::new(0, true, &h);
        // Later than 2 ms: 3…20 ms, 18 ticks of 1,000.
        assert_eq!(p.over_2ms_pct, 1.8);
        assert_eq!(p.over_3ms_pct, 1.7);
        assert_eq!(p.over_10ms_pct, 1.0);
        assert!((20.0..20.1).contains(&p.late.max_ms), "{}", p.late.max_ms);
    }

    #[test]
    fn the_probe_ticks_on_the_cores_it_is_given_on_its_grid() {
        for (every, most) in [(IDLE_TICK, 60), (STEP_TICK, 12)] {
            let probe = Probe::start(&[0], every);
            std::thread::sleep(Duration::from_millis(50));
            let seen = probe.finish();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].core, 0);
            // 50 ms of ticks: about 50 a millisecond apart, 10 five apart; never more, and
            // never none. Fewer when the test machine is busy: under a loaded CI run the
            // thread once started so late that it ticked once.
            assert!(
                (1..=most).contains(&seen[0].late.count),
                "{every:?}: {:?}",
                seen[0]
            );
        }
    }

    #[test]
    fn a_core_the_probe_cannot_pin_to_is_left_out() {
        // Core 1,000 fits the affinity mask but is not on this machine.
        let seen = Probe::start(&[1_000], STEP_TICK).finish();
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn lateness_is_never_negative() {
        assert_eq!(diff_us(5_001_000_000, 5_000_000_000), 1_000);
        assert_eq!(diff_us(5_000_000_000, 5_001_000_000), 0);
    }
}
