//! What one step of a rate sweep measured and cost, as `compare` reports it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::compare::P99_LIMIT_MS;
use crate::core_share::CoreShare;
use crate::fleet::StepResult;
use crate::hist::{self, Summary};
use crate::probe::CorePauses;
use crate::report::rounded;
use crate::server;

/// One step of a rate sweep.
#[derive(Debug, Serialize)]
pub struct StepReport {
    /// Offered rate (deliveries/s in S2, messages/s in S4).
    pub offered_per_sec: f64,
    /// Deliveries per second that arrived.
    pub deliveries_per_sec: f64,
    /// Messages per second accepted.
    pub messages_per_sec: f64,
    /// Delivery latency (due time → receipt).
    pub delivery: Summary,
    /// Acknowledgement latency (due time → answer).
    pub ack: Summary,
    /// The generator's own lateness (due time → message handed to its socket), part of
    /// both latencies above.
    pub send_late: Summary,
    /// Deliveries that never arrived.
    pub lost: u64,
    /// Deliveries received twice.
    pub duplicates: u64,
    /// Deliveries that came after a later message of their room (by the sequence the
    /// generator gave them). Papo's messages to a room go out on its members' own sockets in
    /// turn, so for papo these include different authors' messages read by the server in
    /// another order than they were sent.
    pub reordered: u64,
    /// Of those, deliveries after a later message of their own author: over one connection
    /// (the gateway, the peers' sender sockets) a server that keeps each connection's sends
    /// in order delivers none.
    pub reordered_same_author: u64,
    /// Sends refused or failed.
    pub send_errors: u64,
    /// Receiving connections the server closed (so far in the scenario).
    pub receivers_closed: u64,
    /// Why the first failed send failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Server CPU microseconds per delivery.
    pub server_cpu_us_per_delivery: f64,
    /// The same by the server's thread names (tokio's workers, papo's SQLite writer …):
    /// microseconds per delivery of the threads alive at the step's end.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub server_cpu_us_by_thread: BTreeMap<String, f64>,
    /// The server's minor page faults a second over the step: pages mapped on first touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_minor_faults_per_sec: Option<f64>,
    /// papo: messages per commit of its message writer over the step (from `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_per_commit: Option<f64>,
    /// papo: the bucket bound (ms) under which 99 % of the step's messages waited for their
    /// batch to start (from `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer_wait_p99_ms: Option<f64>,
    /// papo: the bucket bound (ms) under which 99 % of the step's batches were stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_p99_ms: Option<f64>,
    /// papo: the bucket bound (ms) of the step's slowest batch: a stall in one commit of
    /// thousands holds every message behind it without moving the commits' p99.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_max_ms: Option<f64>,
    /// papo over its gateway: the bucket bound (ms) under which 99 % of the step's sends
    /// were answered, from their frame read to their answer written (from `/metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_p99_ms: Option<f64>,
    /// Share of its core the load generator used during the step (1.0 = saturated).
    pub generator_load: f64,
    /// The machine's own pauses on the server's and the generator's cores during the step
    /// ([`crate::probe`]): a delivery cannot beat them.
    pub machine: Vec<CorePauses>,
    /// How the server's core spent the step in all ([`crate::core_share`]): busy, and of
    /// that what tasks other than the server's took, beside the server's CPU above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_core: Option<CoreShare>,
    /// How the generator's core spent the step: busy near 100 % means the generator, not
    /// the server, may have set the step's latency (its softirq share grows when loopback's
    /// receives are steered to it: [`crate::steer`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_core: Option<CoreShare>,
}

impl StepReport {
    /// The report of a step that gave `r` and cost `usage`, sent for `duration`.
    pub fn new(offered: f64, r: &StepResult, usage: Usage, duration: Duration) -> Self {
        let Usage {
            cpu_secs,
            minor_faults,
            threads,
            generator_load,
            writer,
            machine,
            server_core,
            generator_core,
        } = usage;
        let per_delivery = |secs: f64| {
            if r.received > 0 {
                rounded(secs * 1e6 / r.received as f64, 2)
            } else {
                0.0
            }
        };
        let secs = r.send_elapsed.max(duration).as_secs_f64();
        Self {
            offered_per_sec: offered,
            deliveries_per_sec: (r.received as f64 / secs).round(),
            messages_per_sec: (r.accepted as f64 / secs).round(),
            delivery: hist::summary(&r.latency),
            ack: hist::summary(&r.ack),
            send_late: hist::summary(&r.late),
            lost: r.expected.saturating_sub(r.received),
            duplicates: r.duplicates,
            reordered: r.reordered,
            reordered_same_author: r.reordered_same_author,
            send_errors: r.errors,
            receivers_closed: r.closed,
            first_error: r.first_error.clone(),
            server_cpu_us_per_delivery: per_delivery(cpu_secs),
            server_cpu_us_by_thread: threads
                .into_iter()
                .map(|(name, secs)| (name, per_delivery(secs)))
                .collect(),
            server_minor_faults_per_sec: minor_faults.map(|n| (n as f64 / secs).round()),
            messages_per_commit: writer
                .as_ref()
                .filter(|w| w.commits > 0)
                .map(|w| rounded(w.messages as f64 / w.commits as f64, 1)),
            writer_wait_p99_ms: writer
                .as_ref()
                .and_then(|w| server::bucket_quantile_ms(&w.wait, 0.99)),
            commit_p99_ms: writer
                .as_ref()
                .and_then(|w| server::bucket_quantile_ms(&w.commit, 0.99)),
            commit_max_ms: writer
                .as_ref()
                .and_then(|w| server::bucket_quantile_ms(&w.commit, 1.0)),
            send_p99_ms: writer
                .as_ref()
                .and_then(|w| server::bucket_quantile_ms(&w.send, 0.99)),
            generator_load: rounded(generator_load, 2),
            machine,
            server_core,
            generator_core,
        }
    }

    /// Duplicates and deliveries out of order, for the progress lines: always printed, so
    /// that a step without any says so.
    pub fn order(&self) -> String {
        format!(
            "duplicates {}, reordered {} ({} within one author's)",
            self.duplicates, self.reordered, self.reordered_same_author
        )
    }

    /// Server CPU per message and, for papo, messages per commit: for the progress lines.
    pub fn costs(&self) -> String {
        let per_commit = self
            .messages_per_commit
            .map(|m| format!(", {m} msg/commit"))
            .unwrap_or_default();
        let bound = |v: Option<f64>| v.map_or("?".to_owned(), |ms| format!("≤ {ms}"));
        let writer = if self.messages_per_commit.is_some() {
            let send = self
                .send_p99_ms
                .map(|ms| format!(", in-server send p99 ≤ {ms} ms"))
                .unwrap_or_default();
            format!(
                ", wait p99 {} ms, commit p99 {} ms (max {} ms){send}",
                bound(self.writer_wait_p99_ms),
                bound(self.commit_p99_ms),
                bound(self.commit_max_ms)
            )
        } else {
            String::new()
        };
        let server_core = self
            .server_core
            .as_ref()
            .map(|c| format!("; server's {}", c.brief()))
            .unwrap_or_default();
        let generator_core = self
            .generator_core
            .as_ref()
            .map(|c| format!("; generator's {}", c.brief()))
            .unwrap_or_default();
        let faults = self
            .server_minor_faults_per_sec
            .map(|n| format!(", {n:.0} page faults/s"))
            .unwrap_or_default();
        format!(
            "{:.1} µs server CPU/msg{}{faults}{per_commit}{writer}, sent late p99 {} ms; {}{server_core}{generator_core}",
            self.server_cpu_us_per_delivery,
            by_thread(&self.server_cpu_us_by_thread),
            self.send_late.p99_ms,
            crate::probe::brief(&self.machine)
        )
    }

    /// Within the latency bound, nothing lost, nothing refused.
    pub fn passed(&self, latency: &Summary) -> bool {
        latency.p99_ms <= P99_LIMIT_MS && self.lost == 0 && self.send_errors == 0
    }
}

/// What a step cost.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Server CPU seconds.
    pub cpu_secs: f64,
    /// The server's minor page faults, when they could be read.
    pub minor_faults: Option<u64>,
    /// Server CPU seconds by thread name ([`thread_usage`]).
    pub threads: BTreeMap<String, f64>,
    /// The generator's share of its core (1.0 = saturated).
    pub generator_load: f64,
    /// papo: what its message writer did.
    pub writer: Option<server::WriterCounts>,
    /// The machine's pauses on the server's and the generator's cores.
    pub machine: Vec<CorePauses>,
    /// How the server's core spent the step.
    pub server_core: Option<CoreShare>,
    /// How the generator's core spent the step.
    pub generator_core: Option<CoreShare>,
}

/// CPU seconds by thread name between two readings of [`server::thread_cpu_secs`]: the
/// threads alive at the end, each name less what it had used at the start.
pub fn thread_usage(
    before: &BTreeMap<String, f64>,
    after: BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .into_iter()
        .map(|(name, secs)| {
            let used = secs - before.get(&name).copied().unwrap_or(0.0);
            (name, used.max(0.0))
        })
        .collect()
}

/// The threads that used at least half a microsecond per delivery, busiest first, for a
/// progress line: ` (tokio-rt-worker 25.6, papo-sqlite-wri 4.6)`.
fn by_thread(us: &BTreeMap<String, f64>) -> String {
    let mut busy: Vec<(&String, &f64)> = us.iter().filter(|(_, v)| **v >= 0.5).collect();
    if busy.len() < 2 {
        return String::new(); // one thread: the total says it
    }
    busy.sort_by(|a, b| b.1.total_cmp(a.1));
    let parts: Vec<String> = busy.iter().map(|(n, v)| format!("{n} {v:.1}")).collect();
    format!(" ({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    #[test]
    fn a_step_counts_what_each_thread_used_in_it() {
        let before = map(&[("tokio-rt-worker", 2.0), ("writer", 1.0), ("gone", 5.0)]);
        let after = map(&[("tokio-rt-worker", 2.5), ("writer", 1.25), ("new", 0.1)]);
        assert_eq!(
            thread_usage(&before, after),
            map(&[("new", 0.1), ("tokio-rt-worker", 0.5), ("writer", 0.25)])
        );
    }

    #[test]
    fn progress_lines_name_the_busy_threads_busiest_first() {
        let us = map(&[("a", 4.56), ("b", 25.61), ("idle", 0.2)]);
        assert_eq!(by_thread(&us), " (b 25.6, a 4.6)");
        assert_eq!(by_thread(&map(&[("only", 30.0), ("idle", 0.1)])), "");
        assert_eq!(by_thread(&BTreeMap::new()), "");
    }
}
