//! The suite's outputs: markdown tables, the JSON report, `.hgrm`
//! percentile files and an SVG plot per latency scenario.

use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use plotters::prelude::*;

use super::results::ScenarioResult;
use crate::report::nanos;

/// A rate, compactly: `12.3 M`, `456 k`, `789`.
fn rate(per_second: f64) -> String {
    match per_second {
        r if r >= 1e6 => format!("{:.2} M", r / 1e6),
        r if r >= 1e3 => format!("{:.1} k", r / 1e3),
        r => format!("{r:.0}"),
    }
}

/// `1.85×`, or a dash.
fn times(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "–".into(), |r| format!("{r:.2}×"))
}

/// The markdown tables: a summary (whirl against the best peer), then each
/// scenario's peers.
pub fn markdown(results: &[ScenarioResult]) -> String {
    let mut out = String::new();
    out.push_str("## whirl against the best peer\n\n");
    out.push_str("Above 1×: whirl ahead (throughput ratio, or inverse ratio of p50 latency).\n\n");
    out.push_str("| scenario | whirl | best peer | whirl ÷ best peer |\n|---|---|---|---:|\n");
    for r in results {
        if let Some(v) = &r.versus {
            let _ = writeln!(
                out,
                "| {} | {} | {} ({}) | {} |",
                r.id,
                figure(r, &v.whirl),
                figure(r, &v.best_peer),
                v.best_peer,
                times(Some(v.ratio))
            );
        }
    }
    out.push_str("\n## throughput (median of the runs, and their range)\n\n");
    out.push_str("| scenario | peer | runs | median | min | max | ÷ whirl |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for r in results.iter().filter(|r| r.measure == "throughput") {
        let whirl = r.best(true).and_then(|w| w.rate).map(|s| s.median);
        for e in &r.entries {
            let row = match (&e.absent, e.rate) {
                (Some(why), _) => format!("{} | | | | _{why}_", e.runs),
                (None, Some(s)) => format!(
                    "{} | {} | {} | {} | {}",
                    e.runs,
                    rate(s.median),
                    rate(s.min),
                    rate(s.max),
                    times(whirl.map(|w| s.median / w))
                ),
                (None, None) => "0 | | | |".into(),
            };
            let _ = writeln!(out, "| {} ({}) | {} | {row} |", r.id, r.unit, e.peer);
        }
    }
    out.push_str("\n## latency (every sample of every run)\n\n");
    out.push_str("| scenario | peer | samples | p50 | p99 | p99.9 | max | p50 ÷ whirl's |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for r in results.iter().filter(|r| r.measure == "latency") {
        let whirl = r.best(true).and_then(|w| w.latency).map(|l| l.p50 as f64);
        for e in &r.entries {
            let row = match (&e.absent, e.latency) {
                (Some(why), _) => format!("| | | | | _{why}_"),
                (None, Some(l)) => format!(
                    "{} | {} | {} | {} | {} | {}",
                    l.samples,
                    nanos(l.p50),
                    nanos(l.p99),
                    nanos(l.p999),
                    nanos(l.max),
                    times(whirl.map(|w| l.p50 as f64 / w.max(1.0)))
                ),
                (None, None) => "0 | | | | |".into(),
            };
            let _ = writeln!(out, "| {} | {} | {row} |", r.id, e.peer);
        }
    }
    let sizes: Vec<_> = results.iter().filter(|r| r.measure == "size").collect();
    if !sizes.is_empty() {
        out.push_str(
            "\n## sizes\n\n| scenario | peer | median | min | max |\n|---|---|---:|---:|---:|\n",
        );
        for r in sizes {
            for e in &r.entries {
                if let Some(s) = e.size {
                    let _ = writeln!(
                        out,
                        "| {} ({}) | {} | {:.0} | {:.0} | {:.0} |",
                        r.id, r.unit, e.peer, s.median, s.min, s.max
                    );
                }
            }
        }
    }
    out.push_str("\n## scenarios\n\n");
    for r in results {
        let _ = writeln!(out, "- `{}`: {}", r.id, r.title);
    }
    out
}

/// A peer's figure in a scenario, for the summary.
fn figure(r: &ScenarioResult, peer: &str) -> String {
    let Some(e) = r.entries.iter().find(|e| e.peer == peer) else { return "–".into() };
    if let Some(s) = e.rate {
        format!("{} {}", rate(s.median), r.unit)
    } else if let Some(l) = e.latency {
        format!("p50 {}", nanos(l.p50))
    } else if let Some(s) = e.size {
        format!("{:.0} {}", s.median, r.unit)
    } else {
        "–".into()
    }
}

/// A name usable in a file name.
pub fn slug(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').to_string()
}

/// HdrHistogram's percentile distribution text (the `.hgrm` format its
/// plotter reads), values in microseconds.
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut out = String::new();
    out.push_str("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    let mut total = 0;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let inverse = if q < 1.0 { format!("{:.2}", 1.0 / (1.0 - q)) } else { "inf".into() };
        let _ = writeln!(
            out,
            "{:12.3} {:14.12} {:10} {:14}",
            v.value_iterated_to() as f64 / 1e3,
            q,
            total,
            inverse
        );
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / 1e3,
        h.stdev() / 1e3
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / 1e3,
        h.len()
    );
    out
}

/// Writes an SVG of every latency entry of `r`: latency against
/// percentile, both on log axes, one line per peer.
pub fn plot(r: &ScenarioResult, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let lines: Vec<(&str, Vec<(f64, f64)>)> = r
        .entries
        .iter()
        .filter_map(|e| Some((e.peer.as_str(), e.histogram.as_ref()?)))
        .map(|(peer, h)| {
            let points = h
                .iter_quantiles(5)
                .filter(|v| v.quantile_iterated_to() < 1.0)
                .map(|v| {
                    (1.0 / (1.0 - v.quantile_iterated_to()), v.value_iterated_to().max(1) as f64)
                })
                .collect();
            (peer, points)
        })
        .collect();
    let x_max = lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)).fold(10.0, f64::max);
    let y_min = lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)).fold(f64::MAX, f64::min);
    let y_max = lines.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)).fold(1.0, f64::max);
    let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{} — {}", r.id, r.title), ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (1.0..x_max * 1.2).log_scale(),
            ((y_min / 1.5).max(1.0)..y_max * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency")
        .x_label_formatter(&|x| format!("{}%", percentile_label(*x)))
        .y_label_formatter(&|y| nanos(*y as u64))
        .draw()?;
    for (i, (peer, points)) in lines.into_iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))?.label(peer).legend(
            move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)),
        );
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// `1/(1-p)` as a percentile: 2 → 50, 100 → 99, 1000 → 99.9.
fn percentile_label(inverse: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / inverse);
    let s = format!("{p:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
