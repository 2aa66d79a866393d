//! The plots of the HTML report, drawn as inline SVG: the map of the vectors,
//! the score timelines, and `honk eval`'s ROC curve and score histogram.
//!
//! Each is accessible (`role="img"`, a title and a description), its numbers
//! are formatted by [`N`] so that no NaN or infinity reaches an attribute,
//! and every piece of text in it goes through [`push_escaped`], the page's
//! one HTML escaper.

use std::fmt::{self, Write as _};

use serde::Serialize;

use super::data::{EvalPlots, Map, MapPoint, Timeline};
use super::text::{
    finite, one_line, percent, push_escaped, score_text, shown, threshold_text, HOVER_CHARS, NAME_CHARS,
};
use crate::report::thousands;

// The Okabe–Ito palette, which people with the common colour-vision deficiencies
// can tell apart; markers differ in shape too.
const BASELINE: &str = "#0072B2";
const TARGET: &str = "#E69F00";
const ANOMALY: &str = "#D55E00";

/// A finished plot and the caption under it.
#[derive(Serialize)]
pub(super) struct Figure {
    pub(super) svg: String,
    pub(super) caption: String,
}

/// A label for hovering: cut short, made safe, then escaped.
fn push_label(out: &mut String, text: &str) -> fmt::Result {
    push_escaped(out, &shown(text, HOVER_CHARS))
}

/// A coordinate for SVG: one decimal, never NaN or infinite.
pub(super) struct N(pub(super) f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = finite(self.0);
        // Avoid "-0.0".
        let x = if x.abs() < 0.05 { 0.0 } else { x };
        write!(f, "{x:.1}")
    }
}

/// Opens an accessible SVG plot: `role="img"`, a title and a description.
fn open_svg(out: &mut String, id: &str, width: f64, height: f64, title: &str, desc: &str) -> fmt::Result {
    write!(
        out,
        "<svg class=\"plot\" id=\"{id}-svg\" role=\"img\" aria-labelledby=\"{id}-title\" \
         aria-describedby=\"{id}-desc\" \
         viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\"><title id=\"{id}-title\">",
        w = N(width),
        h = N(height)
    )?;
    push_escaped(out, title)?;
    write!(out, "</title><desc id=\"{id}-desc\">")?;
    push_escaped(out, desc)?;
    out.push_str("</desc>");
    Ok(())
}

/// A text label; `anchor` is start, middle or end.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, label: &str) -> fmt::Result {
    write!(out, "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">", N(x), N(y))?;
    push_escaped(out, label)?;
    out.push_str("</text>");
    Ok(())
}

/// Smallest and largest of the finite values, or `None`.
fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |b, v| match b {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Bounds widened by `pad` of their span on each side, and never empty.
fn padded((lo, hi): (f64, f64), pad: f64) -> (f64, f64) {
    let span = hi - lo;
    if span.is_finite() && span > 1e-12 {
        (lo - span * pad, hi + span * pad)
    } else {
        (lo - 1.0, hi + 1.0)
    }
}

pub(super) fn map_figure(map: &Map) -> Result<Figure, fmt::Error> {
    const W: f64 = 640.0;
    const H: f64 = 420.0;
    const ML: f64 = 56.0;
    const MR: f64 = 16.0;
    const MT: f64 = 40.0;
    const MB: f64 = 52.0;
    let (pw, ph) = (W - ML - MR, H - MT - MB);
    let all = || {
        map.baseline
            .iter()
            .chain(&map.target)
            .filter(|p| p.x.is_finite() && p.y.is_finite())
    };
    let (x0, x1) = padded(bounds(all().map(|p| p.x)).unwrap_or((0.0, 0.0)), 0.04);
    let (y0, y1) = padded(bounds(all().map(|p| p.y)).unwrap_or((0.0, 0.0)), 0.04);
    let sx = |x: f64| ML + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| MT + ph - (y - y0) / (y1 - y0) * ph;
    let visible = |p: &&MapPoint| p.x.is_finite() && p.y.is_finite();
    let baseline: Vec<&MapPoint> = map.baseline.iter().filter(visible).filter(|p| !p.anomaly).collect();
    let target: Vec<&MapPoint> = map.target.iter().filter(visible).filter(|p| !p.anomaly).collect();
    let anomalies: Vec<(&str, &MapPoint)> = map
        .baseline
        .iter()
        .filter(visible)
        .filter(|p| p.anomaly)
        .map(|p| ("baseline", p))
        .chain(
            map.target
                .iter()
                .filter(visible)
                .filter(|p| p.anomaly)
                .map(|p| ("target", p)),
        )
        .collect();

    let desc = format!(
        "Scatter plot of records on the two main directions of variation of the baseline. Baseline records are blue \
         rings ({}), target records orange squares ({}), anomalies vermillion diamonds drawn on top ({}).",
        thousands(baseline.len() as u64),
        thousands(target.len() as u64),
        thousands(anomalies.len() as u64)
    );
    let mut s = String::with_capacity(256 + 96 * (baseline.len() + target.len() + anomalies.len()));
    open_svg(&mut s, "map", W, H, "Map of baseline and target records", &desc)?;

    // Frame and the zero lines, when they are inside.
    write!(
        s,
        "<rect class=\"axis\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        N(ML),
        N(MT),
        N(pw),
        N(ph)
    )?;
    if x0 < 0.0 && x1 > 0.0 {
        write!(
            s,
            "<path class=\"grid\" d=\"M{},{}V{}\"/>",
            N(sx(0.0)),
            N(MT),
            N(MT + ph)
        )?;
    }
    if y0 < 0.0 && y1 > 0.0 {
        write!(
            s,
            "<path class=\"grid\" d=\"M{},{}H{}\"/>",
            N(ML),
            N(sy(0.0)),
            N(ML + pw)
        )?;
    }
    let axis_label = |axis: usize| match map.explained[axis - 1] {
        share if share.is_finite() => format!("component {axis} ({} of the baseline's variance)", percent(share)),
        _ => format!("component {axis}"),
    };
    let (x_label, y_label) = (axis_label(1), axis_label(2));
    text(&mut s, ML + pw / 2.0, H - 16.0, "middle", &x_label)?;
    write!(s, "<g transform=\"translate(18,{}) rotate(-90)\">", N(MT + ph / 2.0))?;
    text(&mut s, 0.0, 0.0, "middle", &y_label)?;
    s.push_str("</g>");

    // Legend, above the plot.
    write!(
        s,
        "<g aria-hidden=\"true\"><circle cx=\"{}\" cy=\"20\" r=\"4\" fill=\"none\" stroke=\"{BASELINE}\" \
         stroke-width=\"1.6\"/>",
        N(ML + 6.0)
    )?;
    text(&mut s, ML + 16.0, 24.0, "start", "baseline")?;
    write!(
        s,
        "<rect x=\"{}\" y=\"16\" width=\"8\" height=\"8\" fill=\"{TARGET}\"/>",
        N(ML + 122.0)
    )?;
    text(&mut s, ML + 136.0, 24.0, "start", "target")?;
    write!(
        s,
        "<path d=\"M{},14l6,6-6,6-6-6z\" fill=\"{ANOMALY}\" stroke=\"#000\" stroke-width=\"0.8\"/>",
        N(ML + 232.0)
    )?;
    text(&mut s, ML + 244.0, 24.0, "start", "anomaly")?;
    s.push_str("</g>");

    let point_title = |s: &mut String, side: &str, p: &MapPoint| -> fmt::Result {
        write!(s, "<title>{side}, score {}: ", score_text(p.score))?;
        push_label(s, &p.label)?;
        s.push_str("</title>");
        Ok(())
    };
    // Target squares first, half transparent; baseline rings over them, so
    // that where the two overlap (the usual case) both stay visible.
    write!(s, "<g fill=\"{TARGET}\" fill-opacity=\"0.6\">")?;
    for p in &target {
        write!(
            s,
            "<rect class=\"pt\" x=\"{}\" y=\"{}\" width=\"5\" height=\"5\">",
            N(sx(p.x) - 2.5),
            N(sy(p.y) - 2.5)
        )?;
        point_title(&mut s, "target", p)?;
        s.push_str("</rect>");
    }
    write!(
        s,
        "</g><g fill=\"none\" stroke=\"{BASELINE}\" stroke-width=\"1.3\" stroke-opacity=\"0.8\">"
    )?;
    for p in &baseline {
        write!(
            s,
            "<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"3.6\">",
            N(sx(p.x)),
            N(sy(p.y))
        )?;
        point_title(&mut s, "baseline", p)?;
        s.push_str("</circle>");
    }
    write!(s, "</g><g fill=\"{ANOMALY}\" stroke=\"#000\" stroke-width=\"0.8\">")?;
    for (side, p) in &anomalies {
        write!(
            s,
            "<path class=\"pt\" d=\"M{},{}l6,6-6,6-6-6z\">",
            N(sx(p.x)),
            N(sy(p.y) - 6.0)
        )?;
        point_title(&mut s, &format!("anomaly ({side})"), p)?;
        s.push_str("</path>");
    }
    s.push_str("</g></svg>");

    let (b, bt) = (
        map.baseline.len() as u64,
        map.baseline_total.max(map.baseline.len() as u64),
    );
    let (t, tt) = (map.target.len() as u64, map.target_total.max(map.target.len() as u64));
    let mut caption = if b < bt || t < tt {
        format!(
            "A sample: {} of {} baseline points and {} of {} target points are drawn.",
            thousands(b),
            thousands(bt),
            thousands(t),
            thousands(tt)
        )
    } else {
        format!(
            "All {} baseline and {} target points are drawn.",
            thousands(b),
            thousands(t)
        )
    };
    let _ = write!(
        caption,
        " {} of them are anomalies (vermillion diamonds).",
        thousands(anomalies.len() as u64)
    );
    Ok(Figure { svg: s, caption })
}

pub(super) fn timeline_figure(index: usize, timeline: &Timeline, threshold: f64) -> Result<Figure, fmt::Error> {
    const W: f64 = 960.0;
    const H: f64 = 210.0;
    const ML: f64 = 48.0;
    const MR: f64 = 72.0;
    const MT: f64 = 14.0;
    const MB: f64 = 56.0;
    let (pw, ph) = (W - ML - MR, H - MT - MB);
    let bins = &timeline.bins;
    let source = one_line(&timeline.source, NAME_CHARS);
    let first = bins.first().map_or(0, |b| b.first_line);
    let last = bins.last().map_or(0, |b| b.last_line);
    let highest = bins.iter().map(|b| finite(b.max_score)).fold(0.0, f64::max);
    let flagged = bins.iter().filter(|b| b.anomalies > 0).count();
    let anomalies: u64 = bins.iter().map(|b| b.anomalies).sum();
    let desc = format!(
        "Bar chart of the highest score per group of lines, {} groups from line {} to line {}. The highest score is \
         {}; {} groups hold anomalies ({} anomalies in all), drawn in vermillion with a triangle below the axis.",
        thousands(bins.len() as u64),
        thousands(first),
        thousands(last),
        score_text(highest),
        thousands(flagged as u64),
        thousands(anomalies),
    );
    let mut s = String::with_capacity(1024 + 160 * bins.len());
    open_svg(
        &mut s,
        &format!("timeline-{index}"),
        W,
        H,
        &format!("Scores along {source}"),
        &desc,
    )?;
    let sy = |score: f64| MT + ph - finite(score).clamp(0.0, 1.0) * ph;
    for tick in [0.0, 0.5, 1.0] {
        write!(
            s,
            "<path class=\"grid\" d=\"M{},{}H{}\"/>",
            N(ML),
            N(sy(tick)),
            N(ML + pw)
        )?;
        text(&mut s, ML - 6.0, sy(tick) + 4.0, "end", &format!("{tick:.1}"))?;
    }
    write!(s, "<g transform=\"translate(14,{}) rotate(-90)\">", N(MT + ph / 2.0))?;
    text(&mut s, 0.0, 0.0, "middle", "max score")?;
    s.push_str("</g>");

    let bw = if bins.is_empty() { pw } else { pw / bins.len() as f64 };
    let (mut calm, mut hot, mut marks) = (String::new(), String::new(), String::new());
    for (i, b) in bins.iter().enumerate() {
        let x = ML + i as f64 * bw;
        let top = sy(b.max_score);
        let path = if b.anomalies > 0 { &mut hot } else { &mut calm };
        write!(path, "M{},{}h{}V{}H{}z", N(x), N(top), N(bw), N(MT + ph), N(x))?;
        if b.anomalies > 0 {
            write!(marks, "M{},{}l4,7h-8z", N(x + bw / 2.0), N(MT + ph + 3.0))?;
        }
    }
    for (d, style) in [
        (&calm, format!("fill=\"{TARGET}\"")),
        (&hot, format!("fill=\"{ANOMALY}\"")),
        (
            &marks,
            format!("fill=\"{ANOMALY}\" stroke=\"#000\" stroke-width=\"0.5\""),
        ),
    ] {
        if !d.is_empty() {
            write!(s, "<path d=\"{d}\" {style}/>")?;
        }
    }
    write!(
        s,
        "<path class=\"axis\" d=\"M{},{}V{}H{}\"/>",
        N(ML),
        N(MT),
        N(MT + ph),
        N(ML + pw)
    )?;
    if threshold.is_finite() && (0.0..=1.0).contains(&threshold) {
        let y = sy(threshold);
        write!(
            s,
            "<path d=\"M{},{}H{}\" stroke=\"#222\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\" \
             pointer-events=\"none\"/>",
            N(ML),
            N(y),
            N(ML + pw)
        )?;
        // In the right margin, where no bar is.
        text(&mut s, ML + pw + 6.0, y - 2.0, "start", "threshold")?;
        text(&mut s, ML + pw + 6.0, y + 12.0, "start", &threshold_text(threshold))?;
    }
    text(&mut s, ML, H - 20.0, "start", &format!("line {}", thousands(first)))?;
    text(&mut s, ML + pw, H - 20.0, "end", &format!("line {}", thousands(last)))?;
    text(&mut s, ML + pw / 2.0, H - 6.0, "middle", "line number")?;

    // Hover targets, the whole height of each bin.
    for (i, b) in bins.iter().enumerate() {
        write!(
            s,
            "<rect class=\"hit\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>lines {}–{}: max score {}, {} \
             records, {} anomalies</title></rect>",
            N(ML + i as f64 * bw),
            N(MT),
            N(bw),
            N(ph),
            b.first_line,
            b.last_line,
            score_text(b.max_score),
            thousands(b.records),
            thousands(b.anomalies)
        )?;
    }
    s.push_str("</svg>");
    let caption = if bins.is_empty() {
        format!("{source}: no records.")
    } else {
        format!(
            "{source}: lines {}–{} in {} groups; {} groups hold anomalies.",
            thousands(first),
            thousands(last),
            thousands(bins.len() as u64),
            thousands(flagged as u64)
        )
    };
    Ok(Figure { svg: s, caption })
}

pub(super) fn roc_svg(eval: &EvalPlots, auc: &str) -> Result<String, fmt::Error> {
    const ML: f64 = 56.0;
    const MT: f64 = 16.0;
    const P: f64 = 330.0;
    const MB: f64 = 52.0;
    const MR: f64 = 24.0;
    let (w, h) = (ML + P + MR, MT + P + MB);
    let sx = |x: f64| ML + finite(x).clamp(0.0, 1.0) * P;
    let sy = |y: f64| MT + P - finite(y).clamp(0.0, 1.0) * P;
    let points: Vec<(f64, f64)> = eval
        .roc
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let mut s = String::with_capacity(2048 + 24 * points.len());
    open_svg(
        &mut s,
        "roc",
        w,
        h,
        &format!("ROC curve, AUC {auc}"),
        &format!(
            "Detection rate against false-alarm rate over all thresholds ({} points), with the diagonal of guessing \
             dashed. The area under the curve is {auc}.",
            points.len()
        ),
    )?;
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        write!(
            s,
            "<path class=\"grid\" d=\"M{},{}H{}M{},{}V{}\"/>",
            N(ML),
            N(sy(tick)),
            N(ML + P),
            N(sx(tick)),
            N(MT),
            N(MT + P)
        )?;
        text(&mut s, ML - 6.0, sy(tick) + 4.0, "end", &format!("{tick}"))?;
        text(&mut s, sx(tick), MT + P + 16.0, "middle", &format!("{tick}"))?;
    }
    write!(
        s,
        "<rect class=\"axis\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
        N(ML),
        N(MT),
        N(P),
        N(P)
    )?;
    write!(
        s,
        "<path d=\"M{},{}L{},{}\" stroke=\"#555\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\" fill=\"none\"/>",
        N(sx(0.0)),
        N(sy(0.0)),
        N(sx(1.0)),
        N(sy(1.0))
    )?;
    text(
        &mut s,
        ML + P / 2.0,
        MT + P + 38.0,
        "middle",
        "false-alarm rate (normal items flagged)",
    )?;
    write!(s, "<g transform=\"translate(16,{}) rotate(-90)\">", N(MT + P / 2.0))?;
    text(&mut s, 0.0, 0.0, "middle", "detection rate (attack items flagged)")?;
    s.push_str("</g>");
    if !points.is_empty() {
        s.push_str("<polyline fill=\"none\" stroke=\"");
        s.push_str(BASELINE);
        s.push_str("\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            write!(s, "{},{}", N(sx(*x)), N(sy(*y)))?;
        }
        s.push_str("\"/>");
        // Hover targets on at most a few hundred of the points.
        let step = points.len().div_ceil(300).max(1);
        write!(s, "<g fill=\"{BASELINE}\">")?;
        for (x, y) in points.iter().step_by(step) {
            write!(
                s,
                "<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"3\"><title>false alarms {}, detected {}</title></circle>",
                N(sx(*x)),
                N(sy(*y)),
                percent(*x),
                percent(*y)
            )?;
        }
        s.push_str("</g>");
    }
    write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-weight=\"600\">",
        N(ML + P - 10.0),
        N(MT + P - 12.0)
    )?;
    push_escaped(&mut s, &format!("AUC {auc}"))?;
    s.push_str("</text></svg>");
    Ok(s)
}

pub(super) fn histogram_svg(eval: &EvalPlots) -> Result<String, fmt::Error> {
    const BINS: usize = 20;
    const W: f64 = 640.0;
    const H: f64 = 330.0;
    const ML: f64 = 56.0;
    const MR: f64 = 16.0;
    const MT: f64 = 40.0;
    const MB: f64 = 50.0;
    let (pw, ph) = (W - ML - MR, H - MT - MB);
    let scores = eval.normal_scores.iter().chain(&eval.attack_scores).copied();
    let (mut lo, mut hi) = bounds(scores.chain(std::iter::once(eval.threshold))).unwrap_or((0.0, 1.0));
    let wide = (hi - lo).is_finite() && hi - lo > 1e-9;
    if lo >= 0.0 && hi <= 1.0 {
        // Scores as honk makes them: bins of 0.05.
        (lo, hi) = (0.0, 1.0);
    } else if !wide {
        (lo, hi) = (lo - 0.5, lo + 0.5);
    }
    let span = hi - lo;
    let count = |scores: &[f64]| {
        let mut bins = [0u64; BINS];
        for &v in scores.iter().filter(|v| v.is_finite()) {
            let i = (((v - lo) / span) * BINS as f64).floor();
            bins[(i.max(0.0) as usize).min(BINS - 1)] += 1;
        }
        let n = bins.iter().sum::<u64>().max(1) as f64;
        (bins, n)
    };
    let (normal, n_normal) = count(&eval.normal_scores);
    let (attack, n_attack) = count(&eval.attack_scores);
    let top = normal
        .iter()
        .map(|&c| c as f64 / n_normal)
        .chain(attack.iter().map(|&c| c as f64 / n_attack))
        .fold(0.0, f64::max);
    // A round top, in ticks of a round step.
    let step = [0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25]
        .into_iter()
        .find(|step| top <= 4.0 * step)
        .unwrap_or(0.25);
    let ticks = ((top / step).ceil().max(1.0) as u32).min(4);
    let top = step * f64::from(ticks);
    let sx = |v: f64| ML + (v - lo) / span * pw;
    let sy = |share: f64| MT + ph - share / top * ph;

    let mut s = String::with_capacity(8192);
    open_svg(
        &mut s,
        "scores",
        W,
        H,
        "Score distributions of normal and attack items",
        &format!(
            "Histogram in {BINS} bins of scores from {} to {}: normal items as solid blue bars, attack items as \
             hatched vermillion bars beside them, each as a share of its own group. A dashed line marks the \
             threshold {}.",
            score_text(lo),
            score_text(hi),
            threshold_text(eval.threshold)
        ),
    )?;
    write!(
        s,
        "<defs><pattern id=\"hatch-attack\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{ANOMALY}\"/><path d=\"M0,0V6\" \
         stroke=\"#000\" stroke-width=\"1.5\" stroke-opacity=\"0.45\"/></pattern></defs>"
    )?;
    for i in 0..=ticks {
        let share = step * f64::from(i);
        write!(
            s,
            "<path class=\"grid\" d=\"M{},{}H{}\"/>",
            N(ML),
            N(sy(share)),
            N(ML + pw)
        )?;
        let digits = usize::from(step < 0.05 && (step * 100.0).fract() != 0.0);
        text(
            &mut s,
            ML - 6.0,
            sy(share) + 4.0,
            "end",
            &format!("{:.digits$}%", share * 100.0),
        )?;
    }
    for i in 0..=4 {
        let v = lo + span * f64::from(i) / 4.0;
        text(&mut s, sx(v), MT + ph + 16.0, "middle", &format!("{v:.2}"))?;
    }
    let bw = pw / BINS as f64;
    for (group, bins, n, fill, offset) in [
        ("normal", &normal, n_normal, BASELINE.to_owned(), 0.08),
        ("attack", &attack, n_attack, "url(#hatch-attack)".to_owned(), 0.5),
    ] {
        write!(s, "<g fill=\"{fill}\">")?;
        for (i, &c) in bins.iter().enumerate().filter(|(_, &c)| c > 0) {
            let share = c as f64 / n;
            let x = ML + i as f64 * bw + bw * offset;
            write!(
                s,
                "<rect class=\"pt\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{group} items \
                 scoring {:.2}–{:.2}: \
                 {} ({})</title></rect>",
                N(x),
                N(sy(share)),
                N(bw * 0.42),
                N(MT + ph - sy(share)),
                lo + span * i as f64 / BINS as f64,
                lo + span * (i + 1) as f64 / BINS as f64,
                thousands(c),
                percent(share)
            )?;
        }
        s.push_str("</g>");
    }
    write!(
        s,
        "<path class=\"axis\" d=\"M{},{}V{}H{}\"/>",
        N(ML),
        N(MT),
        N(MT + ph),
        N(ML + pw)
    )?;
    if eval.threshold.is_finite() {
        let x = sx(eval.threshold);
        write!(
            s,
            "<path d=\"M{},{}V{}\" stroke=\"#222\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\" \
             pointer-events=\"none\"/>",
            N(x),
            N(MT - 4.0),
            N(MT + ph)
        )?;
        let anchor = if x > ML + pw * 0.8 { "end" } else { "start" };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        text(
            &mut s,
            x + dx,
            MT + 8.0,
            anchor,
            &format!("threshold {}", threshold_text(eval.threshold)),
        )?;
    }
    text(&mut s, ML + pw / 2.0, H - 8.0, "middle", "score")?;
    write!(s, "<g transform=\"translate(14,{}) rotate(-90)\">", N(MT + ph / 2.0))?;
    text(&mut s, 0.0, 0.0, "middle", "share of items")?;
    s.push_str("</g>");
    write!(
        s,
        "<g aria-hidden=\"true\"><rect x=\"{}\" y=\"12\" width=\"12\" height=\"12\" fill=\"{BASELINE}\"/>",
        N(ML)
    )?;
    text(
        &mut s,
        ML + 18.0,
        22.0,
        "start",
        &format!("normal ({})", thousands(eval.normal_scores.len() as u64)),
    )?;
    write!(
        s,
        "<rect x=\"{}\" y=\"12\" width=\"12\" height=\"12\" fill=\"url(#hatch-attack)\"/>",
        N(ML + 180.0)
    )?;
    text(
        &mut s,
        ML + 198.0,
        22.0,
        "start",
        &format!("attack ({})", thousands(eval.attack_scores.len() as u64)),
    )?;
    s.push_str("</g></svg>");
    Ok(s)
}
