//! Latency histograms (HDR, microsecond resolution) and their summaries.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// A latency histogram in microseconds, 1 µs to 1 hour, 3 significant digits.
pub fn new() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

/// Records `micros`, clamped into the histogram's range.
pub fn record(h: &mut Histogram<u64>, micros: u64) {
    let _ = h.record(micros.clamp(1, 3_600_000_000));
}

/// Percentiles of a histogram in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Summary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// Summarises `h`.
pub fn summary(h: &Histogram<u64>) -> Summary {
    let ms = |v: u64| crate::report::rounded(v as f64 / 1000.0, 3);
    Summary {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

/// A histogram's recorded values as `(value, count)` pairs, to move it between processes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Wire(pub Vec<(u64, u64)>);

/// The transferable form of `h`.
pub fn to_wire(h: &Histogram<u64>) -> Wire {
    Wire(
        h.iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect(),
    )
}

/// Adds the values of `w` to `h`.
pub fn merge(h: &mut Histogram<u64>, w: &Wire) {
    for (v, n) in &w.0 {
        let _ = h.record_n((*v).clamp(1, 3_600_000_000), *n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_in_milliseconds() {
        let mut h = new();
        for v in 1..=1000 {
            record(&mut h, v * 10);
        }
        let s = summary(&h);
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 5.0).abs() < 0.01, "{s:?}");
        assert!((s.max_ms - 10.0).abs() < 0.02, "{s:?}");
        assert!(s.p99_ms <= s.p999_ms && s.p999_ms <= s.max_ms);
    }

    #[test]
    fn histograms_survive_the_trip_between_processes() {
        let (mut a, mut b) = (new(), new());
        for v in 1..=500 {
            record(&mut a, v * 7);
            record(&mut b, v * 11);
        }
        let mut merged = new();
        merge(&mut merged, &to_wire(&a));
        merge(&mut merged, &to_wire(&b));
        a.add(&b).unwrap();
        assert_eq!(merged.len(), 1000);
        assert_eq!(summary(&merged).p99_ms, summary(&a).p99_ms);
        assert_eq!(merged.max(), a.max());
    }
}
