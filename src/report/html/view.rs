//! The view: a [`Page`] turned into what the template prints. Its text is cut
//! to size and made safe to show (control characters escaped as the terminal
//! printer does; HTML escaping is the template's), its numbers are formatted,
//! and its plots are drawn as finished SVG ([`super::plots`]). It holds no
//! markup but the SVG's, and decides nothing about layout: that is
//! `report.html.j2`'s.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use super::data::{EvalPlots, Page, PageAnomaly, PageIncident};
use super::plots::{histogram_svg, map_figure, roc_svg, timeline_figure, Figure};
use super::text::{
    finite, one_line, score_text, shown, threshold_text, CONTEXT_CHARS, HOVER_CHARS, NAME_CHARS, TEXT_CHARS,
};
use crate::report::thousands;

/// Records listed under one incident, at most (its highest-ranked, in line order).
const INCIDENT_RECORDS: usize = 20;
/// Processes offered as suggestions by the process filter.
const MAX_PROCESSES: usize = 500;

/// What the template prints: the page's text made safe to show (cut to size,
/// control characters escaped; HTML escaping is the template's) and its
/// numbers formatted, with the plots as finished SVG.
#[derive(Serialize)]
pub(super) struct View {
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
    pub(super) fn new(page: &Page) -> Result<View, fmt::Error> {
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
