//! The results: a Markdown table of the headline figures with Papo/peer ratios, and the
//! machine and commit they were measured on.

use serde_json::{Value, json};

use crate::proto::System;
use crate::server::which;

/// `x` rounded to `places` decimal places, as the summaries give their figures.
pub fn rounded(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// A headline figure: its label, where it is in a system's summary, and whether more is
/// better.
struct Figure {
    label: &'static str,
    path: &'static [&'static str],
    higher_is_better: bool,
    /// For the best rate of a ladder: where its steps are. A system that failed the first
    /// step has no rate that passed (0 in the summary), but what it did is bounded: less
    /// than that step's offered rate, so the table shows "< rate" and papo's ratio "> …".
    ladder: Option<&'static [&'static str]>,
}

const FIGURES: &[Figure] = &[
    Figure {
        label: "S1 memory per idle session (KB)",
        path: &["s1", "rss_per_conn_kb"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S1 connect+identify per second",
        path: &["s1", "connects_per_sec"],
        higher_is_better: true,
        ladder: None,
    },
    Figure {
        label: "S1 connect+identify p99 (ms)",
        path: &["s1", "connect_p99_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S1 slowest connect+identify (ms)",
        path: &["s1", "connect_max_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S1 server CPU per connect+identify (µs)",
        path: &["s1", "server_cpu_us_per_connect"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S2 saturation: deliveries/s with p99 ≤ 50 ms, no loss",
        path: &["s2", "deliveries_per_sec"],
        higher_is_better: true,
        ladder: Some(&["s2", "steps"]),
    },
    Figure {
        label: "S2 p50 at the reference rate (ms)",
        path: &["s2", "p50_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S2 p99 at the reference rate (ms)",
        path: &["s2", "p99_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S3 send → last recipient p99 (ms)",
        path: &["s3", "p99_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S4 ack p99 at the fixed rate (ms)",
        path: &["s4", "p99_ms"],
        higher_is_better: false,
        ladder: None,
    },
    Figure {
        label: "S4 persisted messages/s (ack p99 ≤ 50 ms)",
        path: &["s4", "messages_per_sec"],
        higher_is_better: true,
        ladder: Some(&["s4", "steps"]),
    },
    Figure {
        label: "S4 on PostgreSQL: persisted messages/s",
        path: &["s4", "postgres", "messages_per_sec"],
        higher_is_better: true,
        ladder: Some(&["s4", "postgres", "steps"]),
    },
    Figure {
        label: "S4 on PostgreSQL: ack p99 at the fixed rate (ms)",
        path: &["s4", "postgres", "p99_ms"],
        higher_is_better: false,
        ladder: None,
    },
];

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// What a summary says of one figure for one system.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Measured {
    /// The figure itself.
    Value(f64),
    /// Less than this: the ladder's first step, offered at this rate, failed.
    Below(f64),
    /// Not measured.
    Missing,
}

fn measured(system: &Value, f: &Figure) -> Measured {
    let Some(x) = at(system, f.path).as_f64() else {
        return Measured::Missing;
    };
    let first_offered = f
        .ladder
        .and_then(|steps| at(system, steps)[0]["offered_per_sec"].as_f64())
        .filter(|r| *r > 0.0);
    match first_offered {
        // No step passed, so the first (the lowest rate) failed.
        Some(rate) if x == 0.0 => Measured::Below(rate),
        _ => Measured::Value(x),
    }
}

/// papo ÷ peer, "(worse)" where papo is behind (never against the floor, which does less than
/// any chat server must), "> …" or "< …" where one side is only bounded.
fn ratio_cell(f: &Figure, papo: Measured, peer: Measured, floor: bool) -> String {
    let worse = |r: f64| {
        let better = if f.higher_is_better {
            r >= 1.0
        } else {
            r <= 1.0
        };
        if better || floor { "" } else { " (worse)" }
    };
    match (papo, peer) {
        (Measured::Value(a), Measured::Value(b)) if a > 0.0 && b > 0.0 => {
            format!("{}{}", ratio(a / b), worse(a / b))
        }
        // The peer did less than `b`: papo is more than `a / b` times it, which says
        // something only when that is at least 1.
        (Measured::Value(a), Measured::Below(b)) if a >= b => format!("> {}", ratio(a / b)),
        // papo did less than `a`, at most the peer's `b`: behind it, even where `a == b`.
        (Measured::Below(a), Measured::Value(b)) if a <= b => {
            format!("< {}{}", ratio(a / b), if floor { "" } else { " (worse)" })
        }
        _ => "—".into(),
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
            let shown = match measured(&sys[s.key()], f) {
                Measured::Value(x) => number(x),
                Measured::Below(rate) => format!("< {}", number(rate)),
                Measured::Missing => "—".into(),
            };
            out.push_str(&format!(" {shown} |"));
        }
        let papo = measured(&sys["papo"], f);
        for p in &peers {
            let peer = measured(&sys[p.key()], f);
            let ratio = ratio_cell(f, papo, peer, **p == System::Floor);
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
    // Tracked files changed since that commit: the run measured something else than it.
    let dirty = std::process::Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--"])
        .status()
        .ok()
        .map(|s| s.code() == Some(1));
    let commit = match (commit, dirty) {
        (Some(c), Some(true)) => Some(format!("{c}-dirty")),
        (c, _) => c,
    };
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
        // A generator built without optimisations is slow enough to be what a run measures.
        "generator_build": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_rounded_to_their_places() {
        assert_eq!(rounded(2.3456, 1), 2.3);
        assert_eq!(rounded(2.35, 2), 2.35);
        assert_eq!(rounded(0.0004, 3), 0.0);
        assert_eq!(rounded(0.0005, 3), 0.001);
        assert_eq!(rounded(16.5499, 2), 16.55);
        assert_eq!(rounded(-1.25, 1), -1.3);
        assert_eq!(rounded(99_533.6, 0), 99_534.0);
    }

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
    fn a_ladder_whose_first_step_failed_bounds_the_ratio() {
        // What the table reads of a ladder: its first step's offered rate.
        let steps = |offered: f64| json!([{"offered_per_sec": offered}]);
        let summary = json!({"systems": {
            "papo": {"s2": {"deliveries_per_sec": 50000.0, "steps": steps(500.0)},
                     "s4": {"messages_per_sec": 0.0, "steps": steps(500.0)}},
            "channels": {"s2": {"deliveries_per_sec": 0.0, "steps": steps(500.0)},
                         "s4": {"messages_per_sec": 800.0, "steps": steps(500.0)}},
            "socketio": {"s2": {"deliveries_per_sec": 0.0, "steps": steps(100000.0)},
                         "s4": {"messages_per_sec": 200.0, "steps": steps(200.0)}},
            "floor": {"s4": {"messages_per_sec": 100.0, "steps": steps(100.0)}},
        }});
        let systems = [
            System::Papo,
            System::Channels,
            System::Socketio,
            System::Floor,
        ];
        let t = table(&summary, &systems);
        let row = |label: &str| {
            t.lines()
                .find(|l| l.starts_with(&format!("| {label} |")))
                .unwrap_or_else(|| panic!("no row {label} in {t}"))
                .to_owned()
        };
        // Channels passed no step: below 500, so papo is more than 100 times it; a first
        // step above papo's best bounds nothing.
        assert_eq!(
            row("S2 saturation: deliveries/s with p99 ≤ 50 ms, no loss"),
            "| S2 saturation: deliveries/s with p99 ≤ 50 ms, no loss | 50000 | < 500 | < 100000 | — | > 100.00 | — | — |"
        );
        // papo passed no step: below 500, less than 0.63 of Channels' 800, nothing against
        // 200, and never "worse" against the floor.
        assert_eq!(
            row("S4 persisted messages/s (ack p99 ≤ 50 ms)"),
            "| S4 persisted messages/s (ack p99 ≤ 50 ms) | < 500 | 800 | 200 | 100 | < 0.62 (worse) | — | — |"
        );
        // A bound reads as "more is better" ("> …" favours papo): only such figures have a
        // ladder.
        assert!(
            FIGURES
                .iter()
                .filter(|f| f.ladder.is_some())
                .all(|f| f.higher_is_better)
        );
        // papo below 500 against a peer at exactly 500 is behind it.
        let tie = json!({"systems": {
            "papo": {"s2": {"deliveries_per_sec": 0.0, "steps": steps(500.0)}},
            "socketio": {"s2": {"deliveries_per_sec": 500.0, "steps": steps(500.0)}},
        }});
        assert!(
            table(&tie, &[System::Papo, System::Socketio])
                .contains("| < 500 | 500 | < 1.00 (worse) |"),
            "{}",
            table(&tie, &[System::Papo, System::Socketio])
        );
        // A figure without a ladder stays as it was: a 0 is a 0.
        assert!(
            measured(&json!({"s1": {"rss_per_conn_kb": 0.0}}), &FIGURES[0]) == Measured::Value(0.0)
        );
    }

    #[test]
    fn small_ratios_keep_two_significant_digits() {
        assert_eq!(ratio(37.15 / 38895.61), "0.00096");
        assert_eq!(ratio(0.08), "0.080");
        assert_eq!(ratio(0.5), "0.50");
        assert_eq!(ratio(52.57), "52.57");
    }
}
