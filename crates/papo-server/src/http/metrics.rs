//! Request counters and latency histograms by method, route and status, rendered in the
//! Prometheus text format. Routes are the matched templates (`/api/v1/users/{id}`), never raw
//! paths, so the label set stays small.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use papo_store::PoolStats;

use crate::http::messages::writer::WriterStats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum_secs: f64,
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
}

/// Upper bounds of the message writer's histograms, in seconds: finer than the requests',
/// since a commit is a fraction of a millisecond when the disk keeps up.
pub const WRITER_BUCKETS: [f64; 14] = [
    0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// A latency histogram that threads bump without a lock (the message writer's).
pub struct AtomicHistogram {
    /// Non-cumulative counts per bucket of [`WRITER_BUCKETS`]; the last slot is `+Inf`.
    buckets: [AtomicU64; WRITER_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl AtomicHistogram {
    /// Records one duration.
    pub fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let slot = WRITER_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(WRITER_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            sum_secs: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// The counts of an [`AtomicHistogram`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Non-cumulative counts per bucket of [`WRITER_BUCKETS`]; the last slot is `+Inf`.
    pub buckets: [u64; WRITER_BUCKETS.len() + 1],
    /// Sum of every recorded duration.
    pub sum_secs: f64,
}

/// Writes one histogram's `_bucket`, `_sum` and `_count` lines. `labels` is empty or ends
/// with a comma; `buckets` are non-cumulative, one per bound and one for `+Inf`.
fn write_histogram(
    out: &mut String,
    name: &str,
    labels: &str,
    bounds: &[f64],
    buckets: &[u64],
    sum_secs: f64,
) {
    let mut cumulative = 0;
    for (le, n) in bounds.iter().zip(buckets) {
        cumulative += n;
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{le}\"}} {cumulative}");
    }
    cumulative += buckets[bounds.len()];
    let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {cumulative}");
    let labels = labels.trim_end_matches(',');
    let braces = |l: &str| {
        if l.is_empty() {
            String::new()
        } else {
            format!("{{{l}}}")
        }
    };
    let _ = writeln!(out, "{name}_sum{} {sum_secs}", braces(labels));
    let _ = writeln!(out, "{name}_count{} {cumulative}", braces(labels));
}

/// The request metrics of one process.
#[derive(Default)]
pub struct Metrics {
    /// Keyed by (method, route, status). A mutex held only to bump numbers.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Gateway sends: from a `message_create` frame read to its answer given.
    pub gateway_send: AtomicHistogram,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        let mut map = self.series.lock().expect("metrics mutex poisoned");
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum_secs += secs;
        s.buckets[slot] += 1;
    }

    /// The Prometheus text exposition, with the database pool gauges and the message
    /// writer's counters.
    pub fn render(&self, pool: PoolStats, writer: WriterStats) -> String {
        let mut out = String::new();
        let map = self.series.lock().expect("metrics mutex poisoned");
        out.push_str(
            "# HELP papo_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE papo_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "papo_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP papo_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE papo_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\",");
            write_histogram(
                &mut out,
                "papo_http_request_duration_seconds",
                &labels,
                &BUCKETS,
                &s.buckets,
                s.sum_secs,
            );
        }
        drop(map);
        out.push_str("# HELP papo_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE papo_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "papo_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "papo_db_pool_connections{{state=\"in_use\"}} {}",
            pool.size.saturating_sub(pool.idle)
        );
        out.push_str(
            "# HELP papo_db_lock_waits_total Tries of pooled SQLite connections that found the write lock taken.\n\
             # TYPE papo_db_lock_waits_total counter\n",
        );
        let _ = writeln!(out, "papo_db_lock_waits_total {}", pool.lock_waits);
        out.push_str(
            "# HELP papo_message_writer_messages_total Messages the writer stored or found as repeats.\n\
             # TYPE papo_message_writer_messages_total counter\n",
        );
        let _ = writeln!(
            out,
            "papo_message_writer_messages_total {}",
            writer.messages
        );
        out.push_str(
            "# HELP papo_message_writer_commits_total Transactions the writer committed (one per batch).\n\
             # TYPE papo_message_writer_commits_total counter\n",
        );
        let _ = writeln!(out, "papo_message_writer_commits_total {}", writer.batches);
        out.push_str(
            "# HELP papo_message_wait_seconds How long a message waited for its batch to start.\n\
             # TYPE papo_message_wait_seconds histogram\n",
        );
        write_histogram(
            &mut out,
            "papo_message_wait_seconds",
            "",
            &WRITER_BUCKETS,
            &writer.wait.buckets,
            writer.wait.sum_secs,
        );
        out.push_str(
            "# HELP papo_message_commit_seconds How long one batch (one transaction) took from its hand-over to the store until durable.\n\
             # TYPE papo_message_commit_seconds histogram\n",
        );
        write_histogram(
            &mut out,
            "papo_message_commit_seconds",
            "",
            &WRITER_BUCKETS,
            &writer.commit.buckets,
            writer.commit.sum_secs,
        );
        out.push_str(
            "# HELP papo_gateway_send_seconds From a gateway message_create read to its answer (ack or refusal) given to its connection.\n\
             # TYPE papo_gateway_send_seconds histogram\n",
        );
        let sends = self.gateway_send.snapshot();
        write_histogram(
            &mut out,
            "papo_gateway_send_seconds",
            "",
            &WRITER_BUCKETS,
            &sends.buckets,
            sends.sum_secs,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/x", 200, Duration::from_micros(500));
        m.observe("GET", "/x", 200, Duration::from_millis(30));
        m.observe("GET", "/x", 200, Duration::from_secs(20));
        let commits = AtomicHistogram::default();
        commits.observe(Duration::from_micros(400));
        commits.observe(Duration::from_micros(1800));
        commits.observe(Duration::from_secs(9));
        m.gateway_send.observe(Duration::from_micros(700));
        let text = m.render(
            PoolStats {
                size: 3,
                idle: 2,
                lock_waits: 5,
            },
            WriterStats {
                messages: 7,
                batches: 2,
                wait: HistogramSnapshot::default(),
                commit: commits.snapshot(),
            },
        );
        assert!(
            text.contains("papo_http_requests_total{method=\"GET\",route=\"/x\",status=\"200\"} 3")
        );
        assert!(text.contains("route=\"/x\",status=\"200\",le=\"0.001\"} 1"));
        assert!(text.contains("route=\"/x\",status=\"200\",le=\"0.05\"} 2"));
        assert!(text.contains("route=\"/x\",status=\"200\",le=\"10\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("papo_db_pool_connections{state=\"in_use\"} 1"));
        assert!(text.contains("\npapo_db_lock_waits_total 5\n"));
        assert!(text.contains("\npapo_message_writer_messages_total 7\n"));
        assert!(text.contains("\npapo_message_writer_commits_total 2\n"));
        assert!(text.contains("\npapo_message_commit_seconds_bucket{le=\"0.00025\"} 0\n"));
        assert!(text.contains("\npapo_message_commit_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("\npapo_message_commit_seconds_bucket{le=\"0.002\"} 2\n"));
        assert!(text.contains("\npapo_message_commit_seconds_bucket{le=\"2.5\"} 2\n"));
        assert!(text.contains("\npapo_message_commit_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("\npapo_message_commit_seconds_sum 9.0022\n"));
        assert!(text.contains("\npapo_message_commit_seconds_count 3\n"));
        assert!(text.contains("\npapo_message_wait_seconds_count 0\n"));
        assert!(text.contains("\npapo_gateway_send_seconds_bucket{le=\"0.0005\"} 0\n"));
        assert!(text.contains("\npapo_gateway_send_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("\npapo_gateway_send_seconds_count 1\n"));
    }
}
