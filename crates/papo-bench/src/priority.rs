//! The run's claim on its two cores against the machine's other tasks.
//!
//! Linux groups tasks by session (`autogroup`) and shares a core fairly between the groups
//! that want it, not between tasks: a lone background task in a session of its own weighs
//! as much as the whole benchmark (its coordinator, workers and the server under test, all
//! in this session). On the VMs these runs use, the guest's own agent (PID 1) wakes about
//! every three seconds; one morning S2's deliveries stopped for 25–60 ms every three
//! seconds, the whole of its p99 at a quarter of its load, and in the stall traced the agent
//! held the generator's core for 52 ms while the server's sat idle (docs/benchmarks.md,
//! *The machine's other tasks*).
//!
//! So `compare` and `smoke` raise their session's weight (`/proc/self/autogroup`, nice −15,
//! about 28 times the default and three times one of the agent's threads), as a benchmark
//! would isolate its cores: background tasks still run, in shorter turns. Every system
//! under test is started from this session and gets the same. The weight is given back
//! when the run ends (not if it is killed). Where the kernel has no autogroups or the run
//! may not raise its priority, nothing changes and the summary says so (`session_nice`).

/// The nice value asked for the session: −15 weighs 29,154 against a default task's 1,024.
///
/// The VM's agent runs its threads at nice −10 outside any session, so at −10 one of them
/// weighed as much as the whole benchmark: traced in S2's 100k step, it held a core for
/// 36–64 ms at a time in 2–5 ms turns while the server or the workers waited up to 17 ms
/// (docs/benchmarks.md, *The machine's other tasks*). −15 outweighs it three times; −20
/// did no better for S2. Both outweigh the kernel's own threads at nice 0 (ksoftirqd,
/// writeback) 28 and 87 times: S4's 75k, both cores saturated, stalled a commit for
/// 0.5–2.5 s in eight of thirteen runs at −15 and −20, none over 0.1 s in six at −10, with
/// the generator's core's `ksoftirqd` and per-CPU worker runnable for seconds without
/// running (docs/benchmarks/s4-writer.md, *S4's saturated step at nice −15*).
const SESSION_NICE: i32 = -15;

/// The raised weight, given back when dropped (the session may be the shell's that ran
/// the benchmark).
pub struct Claim {
    before: Option<i32>,
    /// The session's nice value during the run (`None`: unchanged, not possible here).
    pub nice: Option<i32>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let (Some(before), Some(_)) = (self.before, self.nice) {
            let _ = std::fs::write("/proc/self/autogroup", before.to_string());
        }
    }
}

/// Raises this session's scheduling weight until the returned claim is dropped.
pub fn claim() -> Claim {
    let before = session_nice();
    let nice = before
        .filter(|_| std::fs::write("/proc/self/autogroup", SESSION_NICE.to_string()).is_ok())
        .and_then(|_| session_nice());
    Claim { before, nice }
}

/// This session's nice value as the kernel reports it (`/autogroup-85 nice -10`).
fn session_nice() -> Option<i32> {
    let text = std::fs::read_to_string("/proc/self/autogroup").ok()?;
    parse(&text)
}

fn parse(text: &str) -> Option<i32> {
    text.split_whitespace()
        .skip_while(|w| *w != "nice")
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_autogroup_line_is_read() {
        assert_eq!(parse("/autogroup-85 nice -10\n"), Some(-10));
        assert_eq!(parse("/autogroup-3 nice 0"), Some(0));
        assert_eq!(parse(""), None);
        assert_eq!(parse("/autogroup-3 nice"), None);
    }
}
