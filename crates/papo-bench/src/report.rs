//! The results: a Markdown table of the headline figures with Papo/peer ratios, and the
//! machine and commit they were measured on.

use serde_json::{Value, json};

use crate::proto::System;
use crate::server::which;

/// A headline figure: its label, where it is in a system's summary, and whether more is
/// better.
struct Figure {
    label: &'static str,
    path: &'static [&'static str],
    higher_is_better: bool,
}

const FIGURES: &[Figure] = &[
    Figure {
        label: "S1 memory per idle session (KB)",
        path: &["s1", "rss_per_conn_kb"],
        higher_is_better: false,
    },
    Figure {
        label: "S1 connect+identify per second",
        path: &["s1", "connects_per_sec"],
        higher_is_better: true,
    },
    Figure {
        label: "S1 connect+identify p99 (ms)",
        path: &["s1", "connect_p99_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S1 slowest connect+identify (ms)",
        path: &["s1", "connect_max_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S1 server CPU per connect+identify (µs)",
        path: &["s1", "server_cpu_us_per_connect"],
        higher_is_better: false,
    },
    Figure {
        label: "S2 saturation: deliveries/s with p99 ≤ 50 ms, no loss",
        path: &["s2", "deliveries_per_sec"],
        higher_is_better: true,
    },
    Figure {
        label: "S2 p50 at the reference rate (ms)",
        path: &["s2", "p50_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S2 p99 at the reference rate (ms)",
        path: &["s2", "p99_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S3 send → last recipient p99 (ms)",
        path: &["s3", "p99_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S4 ack p99 at the fixed rate (ms)",
        path: &["s4", "p99_ms"],
        higher_is_better: false,
    },
    Figure {
        label: "S4 persisted messages/s (ack p99 ≤ 50 ms)",
        path: &["s4", "messages_per_sec"],
        higher_is_better: true,
    },
    Figure {
        label: "S4 on PostgreSQL: persisted messages/s",
        path: &["s4", "postgres", "messages_per_sec"],
        higher_is_better: true,
    },
    Figure {
        label: "S4 on PostgreSQL: ack p99 at the fixed rate (ms)",
        path: &["s4", "postgres", "p99_ms"],
        higher_is_better: false,
    },
];

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn cell(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "—".into(),
    }
}

/// A ratio with two significant digits below 0.1 (0.00095, not 0.00), two decimals above.
fn ratio(r: f64) -> String {
    let decimals = if r >= 0.1 {
        2
    } else {
        (1.0 - r.log10().floor()) as usize
    };
    format!("{r:.decimals$}")
}

/// The table: one row per figure, one column per system, then Papo ÷ each peer.
pub fn table(summary: &Value, systems: &[System]) -> String {
    let sys = &summary["systems"];
    let peers: Vec<&System> = systems.iter().filter(|s| **s != System::Papo).collect();
    let mut out = String::from("| figure |");
    for s in systems {
        out.push_str(&format!(" {} |", s.key()));
    }
    for p in &peers {
        out.push_str(&format!(" papo ÷ {} |", p.key()));
    }
    out.push_str("\n|---|");
    for _ in 0..systems.len() + peers.len() {
        out.push_str("---|");
    }
    out.push('\n');
    for f in FIGURES {
        out.push_str(&format!("| {} |", f.label));
        for s in systems {
            out.push_str(&format!(" {} |", cell(at(&sys[s.key()], f.path))));
        }
        let papo = at(&sys["papo"], f.path).as_f64();
        for p in &peers {
            let ratio = match (papo, at(&sys[p.key()], f.path).as_f64()) {
                (Some(a), Some(b)) if b > 0.0 && a > 0.0 => {
                    let r = a / b;
                    let better = if f.higher_is_better {
                        r >= 1.0
                    } else {
                        r <= 1.0
                    };
                    // The floor does less than any chat server must: papo above it is expected.
                    let mark = if better || **p == System::Floor {
                        ""
                    } else {
                        " (worse)"
                    };
                    format!("{}{mark}", ratio(r))
                }
                _ => "—".into(),
            };
            out.push_str(&format!(" {ratio} |"));
        }
        out.push('\n');
    }
    out
}

/// The machine, the date and the commit.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "pinned": which("taskset"),
        "commit": commit,
        "date": date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_figures_and_ratios() {
        let summary = json!({"systems": {
            "papo": {"s1": {"rss_per_conn_kb": 2.0, "connects_per_sec": 30000.0},
                     "s2": {"deliveries_per_sec": 300000.0, "p99_ms": 1.5}},
            "socketio": {"s1": {"rss_per_conn_kb": 8.0, "connects_per_sec": 10000.0},
                         "s2": {"deliveries_per_sec": 30000.0, "p99_ms": 3.0}},
        }});
        let t = table(&summary, &[System::Papo, System::Socketio]);
        assert!(
            t.contains("| S1 memory per idle session (KB) | 2 | 8 | 0.25 |"),
            "{t}"
        );
        assert!(t.contains("| 300000 | 30000 | 10.00 |"), "{t}");
        assert!(
            t.contains("| S3 send → last recipient p99 (ms) | — | — | — |"),
            "{t}"
        );
        let worse = json!({"systems": {
            "papo": {"s1": {"connects_per_sec": 5.0}},
            "socketio": {"s1": {"connects_per_sec": 10.0}},
        }});
        assert!(table(&worse, &[System::Papo, System::Socketio]).contains("0.50 (worse)"));
    }

    #[test]
    fn small_ratios_keep_two_significant_digits() {
        assert_eq!(ratio(37.15 / 38895.61), "0.00096");
        assert_eq!(ratio(0.08), "0.080");
        assert_eq!(ratio(0.5), "0.50");
        assert_eq!(ratio(52.57), "52.57");
    }
}
