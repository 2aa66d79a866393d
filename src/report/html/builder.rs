//! The page builder: gather what the HTML report shows from a scoring run.
//!
//! [`PageBuilder`] is a [`Sink`] like the terminal and JSON printers: it
//! receives the same anomalies (keeping the [`MAX_ANOMALIES`] highest) and the
//! run's [`Summary`], whose per-input sketches hold the timeline and the sampled
//! records. [`PageBuilder::page`] then adds the baseline's side (a sample of
//! its lines, the map's projection fitted on it, its system calls) and returns
//! the [`Page`] that [`super::render`] renders. It neither scores nor renders.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::io;

use super::{
    Map, MapPoint, Page, PageAnomaly, PageIncident, PageInput, PageThread, Timeline, TimelineBin, MAX_ANOMALIES,
    MAX_INCIDENTS,
};
use crate::model::Model;
use crate::report::projection::Projection;
use crate::report::sketch::Kept;
use crate::report::{thousands, Anomaly, Incident, Sink, Summary};
use crate::vectorize::{SparseVec, Vectorizer};

/// Baseline entries the projection is fitted on, at most.
const FIT_ENTRIES: usize = 20_000;
/// Points of each side drawn on the map, at most.
const MAP_POINTS: usize = 1_500;
/// Anomalies marked on the map, at most.
const MAP_ANOMALIES: usize = 500;

/// Collects a run's anomalies for the HTML report.
#[derive(Default)]
pub struct PageBuilder {
    /// The highest anomalies so far, by score then arrival (a min-heap on both).
    kept: BinaryHeap<Reverse<Ranked>>,
    arrived: u64,
    /// The first incidents, and how many there were.
    incidents: Vec<PageIncident>,
    incidents_total: u64,
    summary: Option<Summary>,
}

/// An anomaly ranked for keeping: higher score first, then earlier arrival.
struct Ranked {
    score: f64,
    order: u64,
    anomaly: PageAnomaly,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score.total_cmp(&other.score).then(other.order.cmp(&self.order))
    }
}

impl Sink for PageBuilder {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        let order = self.arrived;
        self.arrived += 1;
        let ranked = Ranked {
            score: anomaly.score,
            order,
            anomaly: page_anomaly(anomaly, order),
        };
        if self.kept.len() < MAX_ANOMALIES {
            self.kept.push(Reverse(ranked));
        } else if self.kept.peek().is_some_and(|lowest| ranked > lowest.0) {
            self.kept.pop();
            self.kept.push(Reverse(ranked));
        }
        Ok(())
    }

    fn incident(&mut self, incident: &Incident) -> io::Result<()> {
        self.incidents_total += 1;
        if self.incidents.len() < MAX_INCIDENTS {
            self.incidents.push(PageIncident {
                id: incident.id,
                source: incident.source.to_string(),
                line: incident.line,
                last_line: incident.last_line,
                records: incident.records,
                score: incident.score,
                threads: incident.threads.clone(),
                new: incident.new.clone(),
            });
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }
}

fn page_anomaly(anomaly: &Anomaly, order: u64) -> PageAnomaly {
    PageAnomaly {
        order,
        source: anomaly.source.to_string(),
        line: anomaly.line,
        score: anomaly.score,
        text: anomaly.text.clone(),
        process: anomaly.thread.map(|t| t.to_string()),
        before: anomaly.before.iter().map(|c| (c.line, c.text.clone())).collect(),
        after: anomaly.after.iter().map(|c| (c.line, c.text.clone())).collect(),
        nearest: anomaly
            .nearest
            .as_ref()
            .map(|n| (n.source.to_string(), n.line, n.text.clone())),
        window_last_line: anomaly.window.as_ref().map(|w| w.last_line),
        incident: anomaly.incident.map(|id| (id, anomaly.rank)),
    }
}

/// What a run read from one input, as the report lists it.
pub struct InputRow {
    /// The input's name: a path, `<stdin>`, or `ARCHIVE/ENTRY`.
    pub name: String,
    /// The name of the format it was parsed as, e.g. `strace`.
    pub format: String,
    /// Lines read: the number of the last one.
    pub lines: u64,
    /// Records the parser made of them (a record may span lines, and a line may make none).
    pub records: u64,
}

impl From<&crate::pipeline::InputStats> for InputRow {
    fn from(stats: &crate::pipeline::InputStats) -> InputRow {
        InputRow {
            name: stats.name.clone(),
            format: stats.format.name().to_string(),
            lines: stats.lines,
            records: stats.records,
        }
    }
}

impl PageBuilder {
    /// The page of a finished run against the baseline `model`. `title` names
    /// the command; `rows` are extra summary rows (label, value) shown first.
    pub fn page(self, title: &str, model: &Model, inputs: Vec<InputRow>, rows: Vec<(String, String)>) -> Page {
        let summary = self.summary.unwrap_or_default();
        let mut anomalies: Vec<PageAnomaly> = self.kept.into_iter().map(|r| r.0.anomaly).collect();
        // Name each anomaly's thread by its process where the format gave one: "sh 1586".
        let processes: HashMap<&str, &BTreeMap<u32, String>> = summary
            .per_input
            .iter()
            .filter_map(|p| Some((p.source.as_str(), p.sketch.as_ref()?.processes())))
            .collect();
        for anomaly in &mut anomalies {
            let names = processes.get(anomaly.source.as_str());
            let named = anomaly.process.as_ref().and_then(|thread| {
                let name = names?.get(&thread.parse::<u32>().ok()?)?;
                Some(format!("{name} {thread}"))
            });
            if let Some(named) = named {
                anomaly.process = Some(named);
            }
        }
        anomalies.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.order.cmp(&b.order)));

        let mut summary_rows = rows;
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        summary_rows.extend([
            (
                "baseline".to_string(),
                format!(
                    "{} records ({} unique) from {} input{}",
                    thousands(model.records()),
                    thousands(model.entries.len() as u64),
                    thousands(model.sources.len() as u64),
                    plural(model.sources.len() as u64)
                ),
            ),
            (
                "target".to_string(),
                format!(
                    "{} records ({} unique) in {} input{}",
                    thousands(summary.records),
                    thousands(summary.unique),
                    thousands(summary.inputs as u64),
                    plural(summary.inputs as u64)
                ),
            ),
            ("threshold".to_string(), format!("{}", summary.threshold)),
            ("neighbours (k)".to_string(), summary.k.to_string()),
            ("incidents".to_string(), thousands(summary.incidents)),
            ("anomalies".to_string(), thousands(summary.anomalies)),
            (
                "scoring time".to_string(),
                format!("{:.2} s", summary.elapsed.as_secs_f64()),
            ),
        ]);
        if model.settings.window.size > 0 {
            summary_rows.push(("windows".to_string(), format!("{} events", model.settings.window.size)));
        }

        let timelines = summary
            .per_input
            .iter()
            .filter_map(|p| {
                let sketch = p.sketch.as_ref()?;
                Some(Timeline {
                    source: p.source.clone(),
                    bins: sketch
                        .bins()
                        .iter()
                        .map(|b| TimelineBin {
                            first_line: b.first_line,
                            last_line: b.last_line,
                            max_score: b.max_score,
                            records: b.records,
                            anomalies: b.anomalies,
                        })
                        .collect(),
                })
            })
            .collect();
        let threads = summary
            .per_input
            .iter()
            .flat_map(|p| {
                p.threads.iter().map(|t| PageThread {
                    source: p.source.clone(),
                    thread: t.thread,
                    records: t.records,
                    anomalies: t.anomalies,
                })
            })
            .collect();

        // System calls of the target the baseline never made: the policy
        // violations the scoring found, over all inputs.
        let mut violations: BTreeMap<&str, u64> = BTreeMap::new();
        for v in summary.per_input.iter().flat_map(|p| &p.violations) {
            *violations.entry(v.syscall.as_str()).or_default() += v.count;
        }
        let new_syscalls = violations
            .into_iter()
            .map(|(name, count)| (name.to_owned(), count))
            .collect();

        Page {
            title: title.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generated: now_utc(),
            summary: summary_rows,
            inputs: inputs
                .into_iter()
                .map(|i| PageInput {
                    name: i.name,
                    format: i.format,
                    lines: i.lines,
                    records: i.records,
                })
                .collect(),
            anomalies_total: summary.anomalies,
            anomalies,
            incidents: self.incidents,
            incidents_total: self.incidents_total,
            threshold: summary.threshold,
            map: map(model, &summary),
            timelines,
            threads,
            new_syscalls,
            eval: None,
        }
    }
}

/// Every `n/m`-th element, so that at most `m` are taken, spread evenly.
fn spread<T>(items: &[T], m: usize) -> impl Iterator<Item = &T> {
    let step = items.len().div_ceil(m.max(1)).max(1);
    items.iter().step_by(step)
}

/// The map: a projection fitted on (a spread of) the baseline's entries, the
/// baseline's and the target's sampled records, and the highest-scoring ones.
fn map(model: &Model, summary: &Summary) -> Option<Map> {
    if model.entries.is_empty() {
        return None;
    }
    let vectorizer = Vectorizer::new(model.settings.n_features, model.settings.tokenizer);
    let fit: Vec<SparseVec> = spread(&model.entries, FIT_ENTRIES)
        .map(|e| vectorizer.vectorize(&e.key))
        .collect();
    let projection = Projection::fit(&fit, 0x686f6e6b);
    let point = |key: &str, label: &str, score: f64, anomaly: bool| {
        let [x, y] = projection.project(&vectorizer.vectorize(key));
        MapPoint {
            x,
            y,
            label: label.to_string(),
            score,
            anomaly,
        }
    };
    let baseline = spread(&model.entries, MAP_POINTS)
        .map(|e| point(&e.key, &e.text, 0.0, false))
        .collect();

    // The anomalies first (the highest, each input's own), then a sample of
    // the rest; a record in both is drawn once, as an anomaly.
    let sketches: Vec<_> = summary.per_input.iter().filter_map(|p| p.sketch.as_ref()).collect();
    let mut top: Vec<(usize, &Kept)> = sketches
        .iter()
        .enumerate()
        .flat_map(|(input, s)| s.top().into_iter().map(move |k| (input, k)))
        .filter(|(_, k)| k.score > summary.threshold)
        .collect();
    top.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    top.truncate(MAP_ANOMALIES);
    let marked: HashSet<(usize, u64)> = top.iter().map(|(input, k)| (*input, k.line)).collect();
    let sampled: Vec<&Kept> = sketches
        .iter()
        .enumerate()
        .flat_map(|(input, s)| s.sample().iter().map(move |k| (input, k)))
        .filter(|(input, k)| !marked.contains(&(*input, k.line)))
        .map(|(_, k)| k)
        .collect();
    let mut target: Vec<MapPoint> = spread(&sampled, MAP_POINTS)
        .map(|k| point(&k.key, &k.text, k.score, k.score > summary.threshold))
        .collect();
    target.extend(top.into_iter().map(|(_, k)| point(&k.key, &k.text, k.score, true)));
    Some(Map {
        baseline,
        target,
        explained: projection.explained(),
        baseline_total: model.entries.len() as u64,
        target_total: summary.records,
    })
}

/// The current time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Nearest, WindowInfo};
    use std::sync::Arc;

    fn anomaly(line: u64, score: f64) -> Anomaly {
        Anomaly {
            source: Arc::from("t.log"),
            line,
            text: format!("line {line}"),
            score,
            nearest: Some(Nearest {
                source: Arc::from("b.log"),
                line: 7,
                text: "normal".into(),
            }),
            before: vec![],
            after: vec![],
            window: (line == 3).then_some(WindowInfo {
                last_line: 5,
                events: 3,
                thread: Some(9),
            }),
            thread: Some(9),
            novel: Vec::new(),
            incident: None,
            rank: 0,
        }
    }

    #[test]
    fn keeps_the_highest_anomalies_in_score_order_with_their_file_order() {
        let mut builder = PageBuilder::default();
        let total = MAX_ANOMALIES as u64 + 50;
        for line in 1..=total {
            // Scores rise and fall: the kept ones are not simply the last ones.
            let score = 0.3 + ((line * 7919) % 1000) as f64 / 2000.0;
            builder.anomaly(&anomaly(line, score)).unwrap();
        }
        builder.finish(&Summary::default()).unwrap();
        let model = Model::new(crate::model::Settings {
            n_features: 1 << 10,
            tokenizer: crate::vectorize::Tokenizer::Honk,
            normalizer: 1,
            window: Default::default(),
        });
        let page = builder.page("honk diff", &model, vec![], vec![]);
        assert_eq!(page.anomalies.len(), MAX_ANOMALIES);
        assert!(page.anomalies.windows(2).all(|w| w[0].score >= w[1].score));
        let lowest_kept = page.anomalies.last().unwrap().score;
        let dropped = (1..=total)
            .map(|line| 0.3 + ((line * 7919) % 1000) as f64 / 2000.0)
            .filter(|s| *s > lowest_kept)
            .count();
        assert!(
            dropped <= MAX_ANOMALIES,
            "an anomaly above the lowest kept one was dropped"
        );
        // `order` is the arrival (file) order.
        let third = page.anomalies.iter().find(|a| a.line == 3);
        if let Some(a) = third {
            assert_eq!((a.order, a.window_last_line), (2, Some(5)));
        }
        assert_eq!(page.anomalies[0].nearest.as_ref().unwrap().1, 7);
        assert_eq!(page.anomalies[0].process.as_deref(), Some("9"));
        assert!(page.map.is_none(), "an empty baseline has no map");
    }

    #[test]
    fn threads_are_named_by_their_process_where_known() {
        let mut builder = PageBuilder::default();
        builder.anomaly(&anomaly(1, 0.9)).unwrap();
        let mut sketch = crate::report::sketch::Sketch::new("t.log");
        sketch.process(9, "curl");
        let summary = Summary {
            per_input: vec![crate::report::InputProfile {
                source: "t.log".into(),
                sketch: Some(sketch),
                ..Default::default()
            }],
            ..Summary::default()
        };
        builder.finish(&summary).unwrap();
        let model = Model::new(crate::model::Settings {
            n_features: 1 << 10,
            tokenizer: crate::vectorize::Tokenizer::Honk,
            normalizer: 1,
            window: Default::default(),
        });
        let page = builder.page("honk diff", &model, vec![], vec![]);
        assert_eq!(page.anomalies[0].process.as_deref(), Some("curl 9"));
    }

    #[test]
    fn now_is_a_civil_date() {
        let now = now_utc();
        assert_eq!(now.len(), "2026-11-28 04:00:00 UTC".len(), "{now}");
        assert!(now.starts_with("20"), "{now}");
    }
}
