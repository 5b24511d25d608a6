//! How the server's core spent a step, from the kernel's own count (`/proc/stat`).
//!
//! The server's CPU per message counts its threads' time. Work the kernel does on the
//! server's core outside them is not in it: the receiving side's TCP processing of the
//! packets the server sends, which loopback runs as a softirq on the sending core, and the
//! disk's interrupts. At S4's 35k msg/s on an AMD EPYC (2026-12-05) that softirq was 8–13 %
//! of the core, ~2.9 µs a message beside the threads' 26.5 (docs/benchmarks.md, *Targets*).
//! Read at a step's start and end, the core's counters say how busy it was in all, how much
//! of that was softirq, and how long it sat idle waiting for the disk.

use serde::Serialize;

/// Jiffies of one core by state, as `/proc/stat` lists them on the core's line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreTimes {
    user: u64,
    nice: u64,
    system: u64,
    idle: u64,
    iowait: u64,
    irq: u64,
    softirq: u64,
    steal: u64,
}

impl CoreTimes {
    /// Core `core`'s line of `stat` (the text of `/proc/stat`), if it has one.
    pub fn parse(stat: &str, core: usize) -> Option<Self> {
        let name = format!("cpu{core}");
        let line = stat
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()))?;
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        // Kernels before 2.6.11 listed four fields; every kernel since lists at least eight.
        let field = |i: usize| v.get(i).copied().unwrap_or(0);
        (v.len() >= 4).then(|| Self {
            user: field(0),
            nice: field(1),
            system: field(2),
            idle: field(3),
            iowait: field(4),
            irq: field(5),
            softirq: field(6),
            steal: field(7),
        })
    }

    /// Core `core`'s counters now (`None` where `/proc/stat` cannot be read).
    pub fn now(core: usize) -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?, core)
    }

    fn total(&self) -> u64 {
        self.user
            + self.nice
            + self.system
            + self.idle
            + self.iowait
            + self.irq
            + self.softirq
            + self.steal
    }
}

/// Shares of one core's time between two readings, in percent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoreShare {
    /// The core.
    pub core: usize,
    /// Neither idle nor waiting for the disk: every task's time, softirq and interrupts.
    pub busy_pct: f64,
    /// Softirq (on loopback, most of it the receiving side's work for packets sent from
    /// this core), part of `busy_pct`.
    pub softirq_pct: f64,
    /// Idle with a task of this core waiting for the disk.
    pub iowait_pct: f64,
    /// Taken by the hypervisor, part of `busy_pct`.
    pub steal_pct: f64,
}

impl CoreShare {
    /// The shares of core `core` from `before` to `after` (`None` if no time passed).
    pub fn between(core: usize, before: &CoreTimes, after: &CoreTimes) -> Option<Self> {
        let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let total = d(before.total(), after.total());
        if total <= 0.0 {
            return None;
        }
        let pct = |jiffies: f64| (jiffies * 1000.0 / total).round() / 10.0;
        let idle = d(before.idle, after.idle);
        let iowait = d(before.iowait, after.iowait);
        Some(Self {
            core,
            busy_pct: pct(total - idle - iowait),
            softirq_pct: pct(d(before.softirq, after.softirq)),
            iowait_pct: pct(iowait),
            steal_pct: pct(d(before.steal, after.steal)),
        })
    }

    /// For a progress line: `core 0 busy 100 % (softirq 9.8 %, iowait 0 %)`.
    pub fn brief(&self) -> String {
        format!(
            "core {} busy {} % (softirq {} %, iowait {} %)",
            self.core, self.busy_pct, self.softirq_pct, self.iowait_pct
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "cpu  900 0 900 9000 30 0 90 0 0 0\n\
        cpu0 500 0 400 4000 10 0 50 0 0 0\n\
        cpu1 400 0 500 5000 20 0 40 0 0 0\n\
        intr 12345\n";
    const AFTER: &str = "cpu  1500 0 1300 9100 40 0 190 0 0 0\n\
        cpu0 1000 0 700 4000 10 0 150 0 0 0\n\
        cpu1 500 0 600 5100 30 0 40 0 0 0\n";

    #[test]
    fn a_core_is_read_from_its_own_line_and_not_from_the_sum() {
        let t = CoreTimes::parse(BEFORE, 0).unwrap();
        assert_eq!((t.user, t.system, t.idle, t.softirq), (500, 400, 4000, 50));
        assert_eq!(CoreTimes::parse(BEFORE, 1).unwrap().user, 400);
        assert_eq!(CoreTimes::parse(BEFORE, 2), None, "no such core");
        assert_eq!(CoreTimes::parse("cpu0 1 2 x 4\n", 0), None, "not a number");
    }

    #[test]
    fn shares_are_of_the_time_that_passed_on_that_core() {
        let (b, a) = (
            CoreTimes::parse(BEFORE, 0).unwrap(),
            CoreTimes::parse(AFTER, 0).unwrap(),
        );
        // Core 0: 500 user + 300 system + 100 softirq, never idle.
        let s = CoreShare::between(0, &b, &a).unwrap();
        assert_eq!(s.busy_pct, 100.0);
        assert_eq!(s.softirq_pct, 11.1);
        assert_eq!(s.iowait_pct, 0.0);
        assert_eq!(s.brief(), "core 0 busy 100 % (softirq 11.1 %, iowait 0 %)");
        // Core 1: 100 user + 100 system, 100 idle, 10 waiting for the disk.
        let (b, a) = (
            CoreTimes::parse(BEFORE, 1).unwrap(),
            CoreTimes::parse(AFTER, 1).unwrap(),
        );
        let s = CoreShare::between(1, &b, &a).unwrap();
        assert_eq!(s.busy_pct, 64.5);
        assert_eq!(s.iowait_pct, 3.2);
        assert_eq!(CoreShare::between(1, &a, &a), None, "no time passed");
    }
}
