//! Request counters and latency histograms by method, route and status, rendered in the
//! Prometheus text format. Routes are the matched templates (`/api/v1/users/{id}`), never raw
//! paths, so the label set stays small.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
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

/// The request metrics of one process.
#[derive(Default)]
pub struct Metrics {
    /// Keyed by (method, route, status). A mutex held only to bump numbers.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
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
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\"");
            let mut cumulative = 0;
            for (i, le) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let _ = writeln!(
                    out,
                    "papo_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            cumulative += s.buckets[BUCKETS.len()];
            let _ = writeln!(
                out,
                "papo_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}"
            );
            let _ = writeln!(
                out,
                "papo_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_secs
            );
            let _ = writeln!(
                out,
                "papo_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
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
        let text = m.render(
            PoolStats { size: 3, idle: 2 },
            WriterStats {
                messages: 7,
                batches: 2,
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
        assert!(text.contains("\npapo_message_writer_messages_total 7\n"));
        assert!(text.contains("\npapo_message_writer_commits_total 2\n"));
    }
}
