//! Latency-vs-load charts as SVG files: log-scaled axes, one colour per system, p99 solid
//! and p50 dashed. Written by hand (a few dozen SVG elements) so the bench needs no font or
//! drawing library.

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::proto::System;

/// One line.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS colour.
    pub color: &'static str,
    /// Dashed (p50) or solid (p99).
    pub dashed: bool,
    /// (x, y) points, x increasing; non-positive values are skipped (log axes).
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 760.0;
const H: f64 = 460.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;

fn color(system: System) -> &'static str {
    match system {
        System::Papo => "#d9480f",
        System::Socketio => "#1971c2",
        System::Channels => "#2f9e44",
        System::ChannelsRedis => "#7048e8",
        System::Floor => "#868e96",
    }
}

/// Powers of ten and their 2× and 5× multiples within `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut p = 10f64.powf(lo.log10().floor());
    while p <= hi * 1.0001 {
        for m in [1.0, 2.0, 5.0] {
            let v = p * m;
            if v >= lo * 0.9999 && v <= hi * 1.0001 {
                out.push(v);
            }
        }
        p *= 10.0;
    }
    out
}

fn label(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{}M", v / 1_000_000.0)
    } else if v >= 1_000.0 {
        format!("{}k", v / 1_000.0)
    } else {
        format!("{v}")
    }
}

/// Renders a log-log chart.
pub fn render(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let pts = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
    };
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in pts() {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (1.0, 10.0, 1.0, 10.0);
    }
    // Whole decades (or halves of them) around the data.
    let (x0, x1) = (
        10f64.powf(x0.log10().floor()),
        10f64.powf(x1.log10().ceil()),
    );
    let (y0, y1) = (
        10f64.powf(y0.log10().floor()),
        10f64.powf(y1.log10().ceil()),
    );
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let sx = |x: f64| LEFT + (x.log10() - x0.log10()) / (x1.log10() - x0.log10()) * pw;
    let sy = |y: f64| TOP + ph - (y.log10() - y0.log10()) / (y1.log10() - y0.log10()) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>
"##,
        LEFT + pw / 2.0,
        escape(title)
    );
    for t in ticks(x0, x1) {
        let x = sx(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#e9ecef"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP + ph,
            TOP + ph + 16.0,
            label(t)
        );
    }
    for t in ticks(y0, y1) {
        let y = sy(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e9ecef"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            y + 4.0,
            label(t)
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#495057"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>
<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        LEFT + pw / 2.0,
        H - 14.0,
        escape(x_label),
        TOP + ph / 2.0,
        escape(y_label)
    );
    for (i, line) in series.iter().enumerate() {
        let points: Vec<String> = line
            .points
            .iter()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let dash = if line.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"##,
            line.color,
            points.join(" ")
        );
        for p in &points {
            let (x, y) = p.split_once(',').unwrap_or_default();
            let _ = writeln!(
                s,
                r##"<circle cx="{x}" cy="{y}" r="3" fill="{}"/>"##,
                line.color
            );
        }
        let ly = TOP + 10.0 + i as f64 * 20.0;
        let lx = LEFT + pw + 14.0;
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"##,
            lx + 26.0,
            line.color,
            lx + 32.0,
            ly + 4.0,
            escape(&line.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Points (offered, figure) of a sweep's steps.
fn sweep(steps: &Value, figure: &[&str]) -> Vec<(f64, f64)> {
    steps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let y = figure.iter().fold(s, |v, k| &v[*k]).as_f64()?;
            Some((s["offered_per_sec"].as_f64()?, y))
        })
        .collect()
}

/// Writes `s2-latency.svg` and `s4-ack-latency.svg` into `dir`; returns their paths.
pub fn write_all(summary: &Value, systems: &[System], dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut s2 = Vec::new();
    let mut s4 = Vec::new();
    for sys in systems {
        let v = &summary["systems"][sys.key()];
        for (pct, dashed) in [("p99_ms", false), ("p50_ms", true)] {
            s2.push(Series {
                name: format!("{} {}", sys.key(), &pct[..3]),
                color: color(*sys),
                dashed,
                points: sweep(&v["s2"]["steps"], &["delivery", pct]),
            });
        }
        s4.push(Series {
            name: format!("{} p99", sys.key()),
            color: color(*sys),
            dashed: false,
            points: sweep(&v["s4"]["steps"], &["ack", "p99_ms"]),
        });
        if v["s4"]["postgres"].is_object() {
            s4.push(Series {
                name: format!("{} pg p99", sys.key()),
                color: color(*sys),
                dashed: true,
                points: sweep(&v["s4"]["postgres"]["steps"], &["ack", "p99_ms"]),
            });
        }
    }
    let charts = [
        (
            "s2-latency.svg",
            render(
                "S2 small rooms: delivery latency vs load",
                "offered deliveries per second",
                "latency (ms)",
                &s2,
            ),
        ),
        (
            "s4-ack-latency.svg",
            render(
                "S4 persisted sends: acknowledgement latency vs load",
                "offered messages per second",
                "ack latency p99 (ms)",
                &s4,
            ),
        ),
    ];
    let mut out = Vec::new();
    for (name, svg) in charts {
        let path = dir.join(name);
        std::fs::write(&path, svg)?;
        out.push(path.display().to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_decades() {
        assert_eq!(
            ticks(1.0, 100.0),
            vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        assert_eq!(label(200_000.0), "200k");
        assert_eq!(label(0.5), "0.5");
    }

    #[test]
    fn charts_draw_every_point_inside_the_plot() {
        let svg = render(
            "t <x>",
            "x",
            "y",
            &[Series {
                name: "papo p99".into(),
                color: "#000",
                dashed: false,
                points: vec![(1000.0, 0.5), (10_000.0, 2.0), (100_000.0, 0.0)],
            }],
        );
        assert!(svg.contains("t &lt;x&gt;"));
        assert_eq!(svg.matches("<circle").count(), 2, "the zero is skipped");
        for c in svg.split("<circle cx=\"").skip(1) {
            let x: f64 = c.split('"').next().unwrap().parse().unwrap();
            assert!((LEFT..=W - RIGHT).contains(&x), "{x}");
        }
    }
}
