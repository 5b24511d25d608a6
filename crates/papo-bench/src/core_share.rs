//! How the server's core spent a step, from the kernel's own count (`/proc/stat`).
//!
//! The server's CPU per message counts its own threads' time. The core also runs other
//! tasks (the kernel's workers, the step's own probe, the machine's agents), and it may sit
//! idle waiting for the disk. Read at a step's start and end, the core's counters say how
//! busy it was in all (the time that passed less idle and iowait, which the kernel measures
//! exactly); less the server's threads' share, what the other tasks took. Softirq
//! (on loopback mostly the receiving side's work for the packets the server sends) is
//! shown too, but it is not beside the threads' time: with tick-based accounting the
//! kernel charges each tick of softirq to the task it interrupted, most often the server's.
//! At S4's 35k msg/s on an AMD EPYC (2026-12-05) the core was busy all the time, the
//! server's threads 94 % of it and other tasks ~6 % (docs/benchmarks.md, *Targets*).

use serde::Serialize;

use crate::report::rounded;

/// `/proc/stat`'s unit: `USER_HZ`, 100 on Linux.
const JIFFIES_PER_SEC: f64 = 100.0;

/// Jiffies of one core in the states read here, from the core's line of `/proc/stat`
/// (user, nice, system, idle, iowait, irq, softirq, steal, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreTimes {
    idle: u64,
    iowait: u64,
    softirq: u64,
    steal: u64,
    /// Packets the core's network backlog dropped, from `/proc/net/softnet_stat`.
    backlog_drops: u64,
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
            idle: field(3),
            iowait: field(4),
            softirq: field(6),
            steal: field(7),
            backlog_drops: 0,
        })
    }

    /// With the backlog's drops of core `core` read from `softnet` (the text of
    /// `/proc/net/softnet_stat`: a line per online core, hexadecimal, the drops second and
    /// the core's number thirteenth since Linux 5.10; by position before).
    pub fn with_softnet(mut self, softnet: &str, core: usize) -> Self {
        let lines: Vec<Vec<u64>> = softnet
            .lines()
            .map(|l| {
                l.split_whitespace()
                    .map(|w| u64::from_str_radix(w, 16).unwrap_or(0))
                    .collect()
            })
            .collect();
        let line = lines
            .iter()
            .find(|v| v.get(12) == Some(&(core as u64)))
            .or_else(|| lines.get(core).filter(|v| v.len() < 13));
        self.backlog_drops = line.and_then(|v| v.get(1).copied()).unwrap_or(0);
        self
    }

    /// Core `core`'s counters now (`None` where `/proc/stat` cannot be read).
    pub fn now(core: usize) -> Option<Self> {
        let times = Self::parse(&std::fs::read_to_string("/proc/stat").ok()?, core)?;
        Some(match std::fs::read_to_string("/proc/net/softnet_stat") {
            Ok(softnet) => times.with_softnet(&softnet, core),
            Err(_) => times,
        })
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
    /// this core), part of `busy_pct`. Counted by the tick: low when the core is often idle.
    pub softirq_pct: f64,
    /// Idle with a task of this core waiting for the disk.
    pub iowait_pct: f64,
    /// Taken by the hypervisor, part of `busy_pct`. Counted by the tick, as softirq.
    pub steal_pct: f64,
    /// Packets dropped at the core's network backlog (full at `netdev_max_backlog`): on
    /// loopback each is a TCP segment its sender must send again, often after a timeout.
    pub backlog_drops: u64,
    /// The server's threads, part of `busy_pct` (their CPU time over the core's time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_pct: Option<f64>,
    /// Every other task on the core: `busy_pct` less `server_pct`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub others_pct: Option<f64>,
}

impl CoreShare {
    /// The shares of core `core` from `before` to `after`, read `secs` apart (`None` if no
    /// time passed), with the server's, when its threads used `server_cpu_secs` in between.
    ///
    /// Busy is the time that passed less the core's idle and iowait, which the kernel
    /// measures exactly when its tick stops in idle (`NO_HZ`), and not the sum of the busy
    /// counters: those are sampled by the tick, which an often idle core misses (a thread
    /// busy 300 µs of every ms on core 0 for 5 s: 33.8 % by the first, 0.6 % by the second,
    /// 32.7 % by its own CPU time).
    pub fn between(
        core: usize,
        before: &CoreTimes,
        after: &CoreTimes,
        secs: f64,
        server_cpu_secs: Option<f64>,
    ) -> Option<Self> {
        let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let total = secs * JIFFIES_PER_SEC;
        if total <= 0.0 {
            return None;
        }
        let pct = |jiffies: f64| rounded(jiffies.min(total) * 100.0 / total, 1);
        let iowait = d(before.iowait, after.iowait);
        let busy = (total - d(before.idle, after.idle) - iowait).max(0.0);
        // The server's seconds in the core's jiffies (`/proc/stat` counts hundredths of a
        // second); its share is at most what was busy (the two are read a moment apart).
        let server = server_cpu_secs.map(|s| (s * JIFFIES_PER_SEC).clamp(0.0, busy));
        Some(Self {
            core,
            busy_pct: pct(busy),
            softirq_pct: pct(d(before.softirq, after.softirq)),
            iowait_pct: pct(iowait),
            steal_pct: pct(d(before.steal, after.steal)),
            backlog_drops: after.backlog_drops.saturating_sub(before.backlog_drops),
            server_pct: server.map(pct),
            others_pct: server.map(|s| pct(busy - s)),
        })
    }

    /// For a progress line: `core 0 busy 100 % (other tasks 5.9 %, softirq 9.8 %, iowait 0 %)`,
    /// with `, 12 packets dropped` when the backlog dropped any.
    pub fn brief(&self) -> String {
        let others = self
            .others_pct
            .map(|o| format!("other tasks {o} %, "))
            .unwrap_or_default();
        let drops = match self.backlog_drops {
            0 => String::new(),
            n => format!(", {n} packets dropped"),
        };
        format!(
            "core {} busy {} % ({others}softirq {} %, iowait {} %{drops})",
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
        cpu1 500 0 600 5100 30 0 40 3 0 0\n";

    #[test]
    fn a_core_is_read_from_its_own_line_and_not_from_the_sum() {
        let t = CoreTimes::parse(BEFORE, 0).unwrap();
        assert_eq!((t.idle, t.iowait, t.softirq), (4000, 10, 50));
        assert_eq!(CoreTimes::parse(BEFORE, 1).unwrap().idle, 5000);
        assert_eq!(CoreTimes::parse(AFTER, 1).unwrap().steal, 3);
        assert_eq!(CoreTimes::parse(BEFORE, 2), None, "no such core");
        assert_eq!(CoreTimes::parse("cpu0 1 2 x 4\n", 0), None, "not a number");
    }

    #[test]
    fn the_backlog_s_drops_are_read_by_the_core_s_number() {
        let t = CoreTimes::parse(BEFORE, 1).unwrap();
        // Since 5.10: the core's number is the 13th field (core 0 offline here).
        let numbered = "0294895d 002b3230 0 0 0 0 0 0 0 0013502e 0 0 00000001 0 0\n";
        assert_eq!(t.with_softnet(numbered, 1).backlog_drops, 0x2b3230);
        assert_eq!(t.with_softnet(numbered, 0).backlog_drops, 0, "not listed");
        // Before: one line per core, in order.
        let by_position = "01eb84ef 00000884 00000001\n0294895d 00000010 0\n";
        assert_eq!(t.with_softnet(by_position, 1).backlog_drops, 16);
        let (b, a) = (t.with_softnet(by_position, 0), t.with_softnet(numbered, 1));
        let s = CoreShare::between(1, &b, &a, 1.0, None).unwrap();
        assert_eq!(s.backlog_drops, 0x2b3230 - 0x884);
        assert!(s.brief().ends_with(", 2828716 packets dropped)"));
    }

    #[test]
    fn shares_are_of_the_time_that_passed_on_that_core() {
        let (b, a) = (
            CoreTimes::parse(BEFORE, 0).unwrap(),
            CoreTimes::parse(AFTER, 0).unwrap(),
        );
        // Core 0, 9 s: never idle, 100 jiffies of softirq; the server's threads used 8.1 s.
        let s = CoreShare::between(0, &b, &a, 9.0, Some(8.1)).unwrap();
        assert_eq!(s.busy_pct, 100.0);
        assert_eq!(s.softirq_pct, 11.1);
        assert_eq!(s.iowait_pct, 0.0);
        assert_eq!((s.server_pct, s.others_pct), (Some(90.0), Some(10.0)));
        assert_eq!(
            s.brief(),
            "core 0 busy 100 % (other tasks 10 %, softirq 11.1 %, iowait 0 %)"
        );
        // Read a moment apart, the server's time may pass the core's: nothing is negative.
        let s = CoreShare::between(0, &b, &a, 9.0, Some(9.5)).unwrap();
        assert_eq!((s.server_pct, s.others_pct), (Some(100.0), Some(0.0)));
        // Core 1, 3.1 s: 1 s idle and 0.1 s waiting for the disk, so busy 2 s, whatever
        // the tick counted as busy (here 2 s as well, but it need not be).
        let (b, a) = (
            CoreTimes::parse(BEFORE, 1).unwrap(),
            CoreTimes::parse(AFTER, 1).unwrap(),
        );
        let s = CoreShare::between(1, &b, &a, 3.1, Some(1.5)).unwrap();
        assert_eq!(s.busy_pct, 64.5);
        assert_eq!(s.iowait_pct, 3.2);
        assert_eq!(s.steal_pct, 1.0);
        assert_eq!((s.server_pct, s.others_pct), (Some(48.4), Some(16.1)));
        // The busy share comes from the time that passed, not from the tick's busy counts:
        // the same counters over 10 s are a core busy 8.9 s.
        let s = CoreShare::between(1, &b, &a, 10.0, None).unwrap();
        assert_eq!(s.busy_pct, 89.0);
        assert_eq!(s.others_pct, None);
        assert_eq!(s.brief(), "core 1 busy 89 % (softirq 0 %, iowait 1 %)");
        // Idle longer than the time given (a reading late): nothing under zero.
        assert_eq!(
            CoreShare::between(1, &b, &a, 0.5, None).unwrap().busy_pct,
            0.0
        );
        assert_eq!(
            CoreShare::between(1, &a, &a, 0.0, None),
            None,
            "no time passed"
        );
    }
}
