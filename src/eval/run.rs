//! `honk eval` as a library call: learn the baseline, give every labelled item
//! one score by the chosen method, and compute the metrics into one
//! [`Evaluation`] that text, JSON and the HTML report are all rendered from.
//!
//! Items are scored in memory; nothing is written but the report asked for.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::items::{self, BagParams, BagScorer, StideScorer, Unseen, Vocabulary, Weight};
use super::{forest, lidds, Aggregate, EvalError, Labelled};
use crate::choice::Choice;
use crate::commands::{ModelChoices, Ui, DEFAULT_THRESHOLD};
use crate::model::describe_window;
use crate::parse::Format;
use crate::pipeline::{self, Baseline, ScoreOptions};
use crate::read::{self, Input};
use crate::report::html::{EvalPlots, Page};
use crate::report::{thousands, Anomaly, Collect, Discard, Selection, Sink, Summary};

/// What `honk eval` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Records (and windows), summed up per trace.
    Events,
    /// Whole items, each a bag of its n-grams.
    Bag,
    /// Whole items, by the share of their windows the baseline never had.
    Stide,
    /// A supervised random forest, cross-validated on the test labels.
    Forest,
}

crate::choices!(Method {
    Method::Events => "events", "records (and windows), summed up per trace";
    Method::Bag => "bag", "whole items, each a bag of its n-grams";
    Method::Stide => "stide", "whole items, by the share of their windows the baseline never had";
    Method::Forest => "forest", "a supervised random forest, cross-validated on the test labels";
});

/// What one evaluation item is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Items {
    /// Each file is one trace.
    #[default]
    Files,
    /// Each line is one session of space-separated events.
    Lines,
}

crate::choices!(Items {
    Items::Files => "files", "each file is one trace";
    Items::Lines => "lines", "each line is one session of space-separated events";
});

/// Why an evaluation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading, learning or scoring failed.
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::Error),
    /// An input could not be read.
    #[error(transparent)]
    Read(#[from] read::ReadError),
    /// A metric cannot be computed.
    #[error(transparent)]
    Metric(#[from] EvalError),
    /// The forest could not be trained.
    #[error(transparent)]
    Forest(#[from] forest::ForestError),
    /// A labelled file is malformed.
    #[error(transparent)]
    Label(#[from] items::LabelError),
    /// A LID-DS scenario could not be read.
    #[error(transparent)]
    LidDs(#[from] lidds::LidDsError),
    /// The settings ask for something honk does not do.
    #[error("{0}")]
    Refused(String),
}

/// What to evaluate and how; see `honk eval --help` for each setting.
#[derive(Clone, Debug)]
pub struct Evaluate {
    /// Known-good training inputs.
    pub baseline: Vec<PathBuf>,
    /// Known-normal test inputs.
    pub normal: Vec<PathBuf>,
    /// Known-attack test inputs.
    pub attack: Vec<PathBuf>,
    /// Instead of normal and attack: `EVENTS,LABEL` lines.
    pub labelled: Vec<PathBuf>,
    /// Instead: one log whose lines carry their label as the first word.
    pub line_labels: Option<PathBuf>,
    /// Instead: a LID-DS scenario directory.
    pub lid_ds: Option<PathBuf>,
    /// With `line_labels`: the share of lines that makes the training part [default: 0.5].
    pub split: f64,
    /// What one item is [default: files].
    pub items: Items,
    /// How items are compared; `None`: bag, or events with `line_labels` and `lid_ds`.
    pub method: Option<Method>,
    /// With bag and forest: n-grams of orders 1 to this [default: 1].
    pub ngram: usize,
    /// With bag: how n-grams are weighted [default: binary].
    pub weight: Weight,
    /// With bag: what an item with an unseen event scores [default: alarm].
    pub unseen: Unseen,
    /// With forest: cross-validation folds [default: 5].
    pub folds: usize,
    /// With events: how a trace's record scores become one [default: max].
    pub aggregate: Aggregate,
    /// The input format, or `None` to detect it per input.
    pub format: Option<Format>,
    /// How the baseline model is built (events), or the stide window.
    pub model: ModelChoices,
    /// The item threshold for the confusion counts; `None`: the method's own choice.
    pub threshold: Option<f64>,
    /// Neighbours averaged into a score [default: 1].
    pub k: usize,
}

impl Default for Evaluate {
    fn default() -> Evaluate {
        Evaluate {
            baseline: Vec::new(),
            normal: Vec::new(),
            attack: Vec::new(),
            labelled: Vec::new(),
            line_labels: None,
            lid_ds: None,
            split: 0.5,
            items: Items::Files,
            method: None,
            ngram: 1,
            weight: Weight::Binary,
            unseen: Unseen::Alarm,
            folds: 5,
            aggregate: Aggregate::Max,
            format: None,
            model: ModelChoices::default(),
            threshold: None,
            k: 1,
        }
    }
}

impl Evaluate {
    /// The method in use: the one given, or the default for the form of evaluation.
    pub fn method(&self) -> Method {
        match self.method {
            Some(method) => method,
            None if self.line_labels.is_some() || self.lid_ds.is_some() => Method::Events,
            None => Method::Bag,
        }
    }

    /// The stide window: the model's window, or 6 events.
    fn stide_window(&self) -> usize {
        match self.model.window {
            Some(n) if n > 0 => n as usize,
            _ => 6,
        }
    }

    fn score_options(&self, threshold: f64) -> ScoreOptions {
        ScoreOptions {
            k: self.k,
            format: self.format,
            selection: Selection {
                threshold,
                before: 0,
                after: 0,
                overlap: false,
            },
            sketch: false,
        }
    }

    /// `threshold` if given, else `default`, described as `how`.
    fn chosen(&self, default: f64, how: &'static str) -> Chosen {
        match self.threshold {
            Some(threshold) => Chosen {
                threshold,
                chosen_by: "--threshold",
            },
            None => Chosen {
                threshold: default,
                chosen_by: how,
            },
        }
    }
}

/// The threshold alarms are counted at, and where it came from.
#[derive(Clone, Copy, Debug, Serialize)]
struct Chosen {
    threshold: f64,
    chosen_by: &'static str,
}

/// Confusion counts at the chosen threshold, with their rates.
#[derive(Clone, Debug, Serialize)]
pub struct AtThreshold {
    /// The threshold.
    pub threshold: f64,
    /// Where it came from ("--threshold", "honk's default record threshold", ...).
    pub chosen_by: &'static str,
    /// The counts.
    pub counts: super::Confusion,
    /// Precision at it.
    pub precision: f64,
    /// Recall at it.
    pub recall: f64,
    /// F1 at it.
    pub f1: f64,
}

/// The best F1 over all thresholds (chosen with the test labels).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BestF1 {
    /// The F1.
    pub f1: f64,
    /// The threshold it is reached at.
    pub threshold: f64,
}

/// Detection rates at false-alarm rates of 1, 5 and 10%.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Rates {
    /// At 1% false alarms.
    #[serde(rename = "0.01")]
    pub at_1: f64,
    /// At 5%.
    #[serde(rename = "0.05")]
    pub at_5: f64,
    /// At 10%.
    #[serde(rename = "0.1")]
    pub at_10: f64,
}

/// What an evaluation found: every metric, and the labelled scores behind them.
/// As JSON it says what it is, `"type": "eval"`, like every row honk prints.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename = "eval")]
pub struct Evaluation {
    /// ROC AUC of the item scores.
    pub roc_auc: f64,
    /// Normal test items.
    pub normal: usize,
    /// Attack test items.
    pub attack: usize,
    /// Baseline items.
    pub baseline: usize,
    /// Records (events) in the baseline.
    pub baseline_records: u64,
    /// Detection rates at fixed false-alarm rates.
    pub detection_rate_at_far: Rates,
    /// The best F1 over all thresholds.
    pub best_f1: BestF1,
    /// The confusion counts at the chosen threshold.
    pub confusion: AtThreshold,
    /// The method and its parameters.
    pub method: serde_json::Value,
    /// What one item is: "inputs", "lines", "recordings".
    pub unit: &'static str,
    /// Seconds the evaluation took.
    pub seconds: f64,
    /// With a LID-DS scenario: the data set's own metrics.
    pub lid_ds: Option<lidds::LidDsMetrics>,
    /// The method, for people.
    #[serde(skip)]
    pub method_text: String,
    /// Every test item's score and label.
    #[serde(skip)]
    pub items: Vec<Labelled>,
}

/// What the scoring stage found, before the metrics.
struct Scored {
    items: Vec<Labelled>,
    baseline_items: usize,
    baseline_records: u64,
    unit: &'static str,
    chosen: Chosen,
    lid_ds: Option<lidds::LidDsMetrics>,
}

const BASELINE_THRESHOLD: &str = "the largest leave-one-out score of a baseline item";
const RECORD_THRESHOLD: &str = "honk's default record threshold";

/// Runs the evaluation `settings` describe.
pub fn run(settings: &Evaluate, ui: &dyn Ui) -> Result<Evaluation, RunError> {
    let started = Instant::now();
    let scored = if let Some(path) = &settings.line_labels {
        by_lines(settings, path, ui)?
    } else if let Some(dir) = &settings.lid_ds {
        lid_ds(settings, dir, ui)?
    } else if settings.method() != Method::Events {
        by_items(settings, ui)?
    } else {
        by_events(settings, ui)?
    };
    evaluation(settings, scored, started)
}

fn evaluation(settings: &Evaluate, found: Scored, started: Instant) -> Result<Evaluation, RunError> {
    let items = found.items;
    let normal = items.iter().filter(|i| !i.attack).count();
    let roc_auc = super::roc_auc(&items)?;
    let detection_rate_at_far = Rates {
        at_1: super::detection_rate_at(&items, 0.01)?,
        at_5: super::detection_rate_at(&items, 0.05)?,
        at_10: super::detection_rate_at(&items, 0.1)?,
    };
    let (f1, f1_threshold) = super::best_f1(&items)?;
    let counts = super::confusion(&items, found.chosen.threshold);
    let (method_text, method) = describe_method(settings);
    Ok(Evaluation {
        roc_auc,
        normal,
        attack: items.len() - normal,
        baseline: found.baseline_items,
        baseline_records: found.baseline_records,
        detection_rate_at_far,
        best_f1: BestF1 {
            f1,
            threshold: f1_threshold,
        },
        confusion: AtThreshold {
            threshold: found.chosen.threshold,
            chosen_by: found.chosen.chosen_by,
            counts,
            precision: counts.precision(),
            recall: counts.recall(),
            f1: counts.f1(),
        },
        method,
        unit: found.unit,
        seconds: started.elapsed().as_secs_f64(),
        lid_ds: found.lid_ds,
        method_text,
        items,
    })
}

/// Per-line labels: the first part's normal lines are the baseline, every
/// line of the rest is scored on its own.
fn by_lines(settings: &Evaluate, path: &Path, ui: &dyn Ui) -> Result<Scored, RunError> {
    let text = std::fs::read(path).map_err(|source| read::ReadError::Open {
        path: read::shown(path),
        source,
    })?;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let cut = (lines.len() as f64 * settings.split).floor() as usize;
    // Each line without its label word, and whether that word marks an alert.
    let unlabel = |line: &str| -> (String, bool) {
        let line = line.trim_start();
        let (label, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        (rest.to_owned(), label != "-")
    };
    let mut train = String::new();
    for line in &lines[..cut] {
        let (line, alert) = unlabel(line);
        if !alert {
            train.push_str(&line);
            train.push('\n');
        }
    }
    let mut test = String::new();
    let mut labels = Vec::with_capacity(lines.len() - cut);
    for line in &lines[cut..] {
        let (line, alert) = unlabel(line);
        test.push_str(&line);
        test.push('\n');
        labels.push(alert);
    }
    let name = path.display().to_string();
    let train = Input::text(&format!("{name} (training part)"), &train);
    let test = Input::text(&format!("{name} (test part)"), &test);
    let progress = ui.progress("learning", train.size_on_disk());
    let (model, _) = pipeline::learn(&[train], settings.model.settings(), settings.format, &progress)?;
    progress.finish();
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    // A threshold below every score hands every record to the sink, with its score.
    let mut all = Collect::default();
    pipeline::score(
        &baseline,
        &[test],
        &settings.score_options(-1.0),
        &mut all,
        &crate::progress::Progress::hidden(),
    )?;
    let items = all
        .anomalies
        .iter()
        .filter_map(|a| {
            let attack = *labels.get(usize::try_from(a.line).ok()?.checked_sub(1)?)?;
            Some(Labelled { score: a.score, attack })
        })
        .collect();
    Ok(Scored {
        items,
        baseline_items: 1,
        baseline_records,
        unit: "lines",
        chosen: settings.chosen(DEFAULT_THRESHOLD, RECORD_THRESHOLD),
        lid_ds: None,
    })
}

/// Files scored by their records, summed up per file by the aggregate.
fn by_events(settings: &Evaluate, ui: &dyn Ui) -> Result<Scored, RunError> {
    if settings.items == Items::Lines || !settings.labelled.is_empty() {
        return Err(RunError::Refused(
            "--method events scores the records of files; use --method bag, stide or forest for line items and --labelled".into(),
        ));
    }
    let baseline_inputs = read::expand(&settings.baseline)?;
    let normal_inputs = read::expand(&settings.normal)?;
    let attack_inputs = read::expand(&settings.attack)?;
    let progress = ui.progress("learning", pipeline::total_bytes(&baseline_inputs));
    let model = pipeline::learn(&baseline_inputs, settings.model.settings(), settings.format, &progress)?.0;
    progress.finish();
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    let chosen = settings.chosen(DEFAULT_THRESHOLD, RECORD_THRESHOLD);
    let options = settings.score_options(chosen.threshold);
    let mut items = Vec::with_capacity(normal_inputs.len() + attack_inputs.len());
    for (inputs, attack) in [(&normal_inputs, false), (&attack_inputs, true)] {
        let progress = ui.progress("scoring", pipeline::total_bytes(inputs));
        let (summary, _) = pipeline::score(&baseline, inputs, &options, &mut Discard, &progress)?;
        items.extend(summary.per_input.iter().map(|p| Labelled {
            score: settings.aggregate.of(p),
            attack,
        }));
        progress.finish();
    }
    Ok(Scored {
        items,
        baseline_items: baseline_inputs.len(),
        baseline_records,
        unit: "inputs",
        chosen,
        lid_ds: None,
    })
}

/// A LID-DS scenario, scored as its authors score a detector.
fn lid_ds(settings: &Evaluate, dir: &Path, ui: &dyn Ui) -> Result<Scored, RunError> {
    if settings.method() != Method::Events {
        return Err(RunError::Refused(
            "--lid-ds scores the events of each recording; it works with --method events only".into(),
        ));
    }
    let layout = lidds::scenario_layout(dir)?;
    let training = read::expand(&layout.training)?;
    let progress = ui.progress("learning", pipeline::total_bytes(&training));
    let model = pipeline::learn(&training, settings.model.settings(), settings.format, &progress)?.0;
    progress.finish();
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    // Every record (and window) with its score: a threshold below all scores.
    let options = settings.score_options(-1.0);

    // The threshold: the highest score on the validation recordings, as LID-DS sets it.
    let validation = read::expand(&layout.validation)?;
    let progress = ui.progress("validation", pipeline::total_bytes(&validation));
    let mut highest = f64::NEG_INFINITY;
    for input in &validation {
        let scores = event_scores(&baseline, input, &options, &progress)?;
        highest = lidds::threshold(scores.iter().map(|&(_, score)| score))
            .unwrap_or(highest)
            .max(highest);
    }
    progress.finish();
    let chosen = settings.chosen(highest, "the highest score on the validation recordings");

    // The test recordings, one at a time: only one recording's scores are held at once.
    let mut metrics = lidds::LidDsMetrics {
        threshold: chosen.threshold,
        ..Default::default()
    };
    let mut items = Vec::new();
    let progress = ui.progress("scoring", None);
    for recording in layout.test_normal.iter().chain(&layout.test_normal_and_attack) {
        let metadata = lidds::read_metadata(recording)?;
        let attack_from_line = match metadata.exploit_time_ns {
            // An exploit after the last event: no event counts as after it.
            Some(time) => Some(lidds::exploit_line_in(recording, time)?.unwrap_or(u64::MAX)),
            None => None,
        };
        let mut events = Vec::new();
        for input in read::expand(std::slice::from_ref(recording))? {
            events.extend(event_scores(&baseline, &input, &options, &progress)?);
        }
        events.sort_by_key(|&(line, _)| line);
        let score = events.iter().map(|&(_, score)| score).fold(0.0, f64::max);
        items.push(Labelled {
            score,
            attack: metadata.is_attack(),
        });
        let scored = lidds::ScoredRecording {
            attack_from_line,
            events,
        };
        metrics.merge(&lidds::evaluate(std::slice::from_ref(&scored), chosen.threshold));
    }
    progress.finish();
    Ok(Scored {
        items,
        baseline_items: training.len(),
        baseline_records,
        unit: "recordings",
        chosen,
        lid_ds: Some(metrics),
    })
}

/// Every record's (and window's) line and score in one input.
fn event_scores(
    baseline: &Baseline,
    input: &Input,
    options: &ScoreOptions,
    progress: &crate::progress::Progress,
) -> Result<Vec<(u64, f64)>, RunError> {
    /// A sink that keeps only where each scored record is and its score.
    struct Scores(Vec<(u64, f64)>);
    impl Sink for Scores {
        fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
            self.0.push((anomaly.line, anomaly.score));
            Ok(())
        }
        fn finish(&mut self, _: &Summary) -> io::Result<()> {
            Ok(())
        }
    }
    let mut scores = Scores(Vec::new());
    pipeline::score(baseline, std::slice::from_ref(input), options, &mut scores, progress)?;
    Ok(scores.0)
}

/// Items compared whole: bag, stide or forest.
fn by_items(settings: &Evaluate, ui: &dyn Ui) -> Result<Scored, RunError> {
    let lines = settings.items == Items::Lines || !settings.labelled.is_empty();
    let mut vocabulary = Vocabulary::default();
    let read_items = |paths: &[PathBuf], vocabulary: &mut Vocabulary| -> Result<Vec<Vec<u32>>, RunError> {
        let inputs = read::expand(paths)?;
        let progress = ui.progress("reading", pipeline::total_bytes(&inputs));
        let items = if lines {
            items::read_line_items(&inputs, vocabulary)?
        } else {
            items::read_traces(&inputs, settings.format, &progress, vocabulary)?
        };
        progress.finish();
        Ok(items)
    };
    let baseline = read_items(&settings.baseline, &mut vocabulary)?;
    let (test, attack) = if settings.labelled.is_empty() {
        let normal = read_items(&settings.normal, &mut vocabulary)?;
        let attack = read_items(&settings.attack, &mut vocabulary)?;
        let labels: Vec<bool> = std::iter::repeat_n(false, normal.len())
            .chain(std::iter::repeat_n(true, attack.len()))
            .collect();
        (normal.into_iter().chain(attack).collect::<Vec<_>>(), labels)
    } else {
        items::read_labelled(&read::expand(&settings.labelled)?, &mut vocabulary)?
    };
    let baseline_records: u64 = baseline.iter().map(|item| item.len() as u64).sum();
    let largest = |scores: &[f64]| scores.iter().copied().fold(0.0, f64::max);
    let (scores, chosen) = match settings.method() {
        Method::Bag => {
            let params = BagParams {
                ngram: settings.ngram,
                weight: settings.weight,
                k: settings.k,
                unseen: settings.unseen,
            };
            let mut bag = BagScorer::new(&baseline, params);
            let scores = bag.score_all(&test);
            let radius = largest(&bag.leave_one_out(&baseline));
            (scores, settings.chosen(radius, BASELINE_THRESHOLD))
        }
        Method::Stide => {
            let stide = StideScorer::new(&baseline, settings.stide_window());
            let scores = stide.score_all(&test);
            let radius = largest(&stide.leave_one_out(&baseline));
            (scores, settings.chosen(radius, BASELINE_THRESHOLD))
        }
        Method::Forest | Method::Events => {
            let features = items::bag_features(&test, settings.ngram);
            let params = forest::ForestParams::default();
            let scores = forest::cross_validated_scores(&features, &attack, settings.folds, &params)?;
            (scores, settings.chosen(0.5, "a forest's majority vote"))
        }
    };
    let items = scores
        .into_iter()
        .zip(attack)
        .map(|(score, attack)| Labelled { score, attack })
        .collect();
    Ok(Scored {
        items,
        baseline_items: baseline.len(),
        baseline_records,
        unit: if lines { "lines" } else { "inputs" },
        chosen,
        lid_ds: None,
    })
}

/// The method of an evaluation, for people and as JSON.
fn describe_method(settings: &Evaluate) -> (String, serde_json::Value) {
    let window = describe_window(settings.model.settings().window);
    let (weight, unseen) = (settings.weight.name(), settings.unseen.name());
    let name = settings.method().name();
    let k = settings.k;
    let ngram = settings.ngram;
    match settings.method() {
        Method::Events if settings.line_labels.is_some() => (
            format!("each line scored, k {k}"),
            serde_json::json!({ "compare": name, "k": k }),
        ),
        Method::Events => (
            format!("events, k {k}, {window}, trace score {}", settings.aggregate),
            serde_json::json!({ "compare": name, "k": k, "window": window, "aggregate": settings.aggregate.to_string() }),
        ),
        Method::Bag => (
            format!("bags of 1- to {ngram}-grams, {weight}, k {k}, unseen events: {unseen}"),
            serde_json::json!({ "compare": name, "ngram": ngram, "weight": weight, "k": k, "unseen": unseen }),
        ),
        Method::Stide => (
            format!("stide, windows of {} events", settings.stide_window()),
            serde_json::json!({ "compare": name, "window": settings.stide_window() }),
        ),
        Method::Forest => (
            format!(
                "random forest on 1- to {ngram}-gram frequencies, {}-fold cross-validation on the test items (supervised)",
                settings.folds
            ),
            serde_json::json!({ "compare": name, "ngram": ngram, "folds": settings.folds }),
        ),
    }
}

impl Evaluation {
    /// The rates as (false-alarm rate, detection rate) pairs.
    fn rates(&self) -> [(f64, f64); 3] {
        let r = &self.detection_rate_at_far;
        [(0.01, r.at_1), (0.05, r.at_5), (0.1, r.at_10)]
    }

    /// Writes the evaluation for people.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let unit = self.unit;
        writeln!(
            out,
            "baseline {} items ({} records); test {} normal, {} attack {unit}",
            thousands(self.baseline as u64),
            thousands(self.baseline_records),
            thousands(self.normal as u64),
            thousands(self.attack as u64)
        )?;
        writeln!(out, "method: {}", self.method_text)?;
        writeln!(out, "ROC AUC {:.4}", self.roc_auc)?;
        let rates: Vec<String> = self
            .rates()
            .iter()
            .map(|(far, dr)| format!("{:.3} at {}%", dr, far * 100.0))
            .collect();
        writeln!(out, "detection rate: {}", rates.join(", "))?;
        writeln!(
            out,
            "best F1 {:.4} at score > {:.4} (chosen with the test labels)",
            self.best_f1.f1, self.best_f1.threshold
        )?;
        let c = &self.confusion;
        writeln!(
            out,
            "at score > {:.4} ({}): F1 {:.4}, precision {:.4}, recall {:.4}; {} true and {} false alarms, {} attacks missed, {} normal quiet",
            c.threshold,
            c.chosen_by,
            c.f1,
            c.precision,
            c.recall,
            c.counts.true_positives,
            c.counts.false_positives,
            c.counts.false_negatives,
            c.counts.true_negatives
        )?;
        if let Some(m) = &self.lid_ds {
            writeln!(
                out,
                "LID-DS at event score > {:.4}: detection rate {:.4} ({} of {} attack recordings), \
                 {} consecutive false alarms ({} in normal, {} in attack recordings; {} false alarm events), \
                 precision {:.4}, F1 {:.4}",
                m.threshold,
                m.detection_rate,
                m.detected,
                m.exploit_count,
                m.cfa_normal + m.cfa_exploits,
                m.cfa_normal,
                m.cfa_exploits,
                m.false_positives,
                m.precision_with_cfa,
                m.f1_cfa
            )?;
        }
        writeln!(out, "time {:.2} s", self.seconds)
    }

    /// The HTML report's page: the summary rows, the ROC curve and the score
    /// distributions.
    pub fn page(&self) -> Result<Page, EvalError> {
        let unit = self.unit;
        let c = &self.confusion;
        let mut rows = vec![
            ("method".to_string(), self.method_text.clone()),
            ("unit".to_string(), unit.to_string()),
            (
                "baseline".to_string(),
                format!("{} items ({} records)", self.baseline, self.baseline_records),
            ),
            (
                "test".to_string(),
                format!("{} normal, {} attack {unit}", self.normal, self.attack),
            ),
            ("ROC AUC".to_string(), format!("{:.4}", self.roc_auc)),
            (
                "detection rate".to_string(),
                self.rates()
                    .iter()
                    .map(|(far, dr)| format!("{dr:.3} at {}% false alarms", far * 100.0))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "best F1".to_string(),
                format!(
                    "{:.4} at score > {:.4} (chosen with the test labels)",
                    self.best_f1.f1, self.best_f1.threshold
                ),
            ),
            (
                format!("at score > {:.4}", c.threshold),
                format!(
                    "F1 {:.4}, precision {:.4}, recall {:.4} ({}); {} true and {} false alarms, {} missed",
                    c.f1,
                    c.precision,
                    c.recall,
                    c.chosen_by,
                    c.counts.true_positives,
                    c.counts.false_positives,
                    c.counts.false_negatives
                ),
            ),
            ("time".to_string(), format!("{:.2} s", self.seconds)),
        ];
        if let Some(m) = &self.lid_ds {
            rows.push((
                "LID-DS".to_string(),
                format!(
                    "detection rate {:.4} ({} of {}), {} consecutive false alarms, F1 {:.4}",
                    m.detection_rate,
                    m.detected,
                    m.exploit_count,
                    m.cfa_normal + m.cfa_exploits,
                    m.f1_cfa
                ),
            ));
        }
        Ok(Page {
            title: "honk eval".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generated: crate::report::html::builder::now_utc(),
            summary: rows,
            threshold: c.threshold,
            eval: Some(EvalPlots {
                auc: self.roc_auc,
                roc: thin(super::roc_curve(&self.items)?, 2_000),
                normal_scores: self.items.iter().filter(|i| !i.attack).map(|i| i.score).collect(),
                attack_scores: self.items.iter().filter(|i| i.attack).map(|i| i.score).collect(),
                threshold: c.threshold,
            }),
            ..Page::default()
        })
    }
}

/// At most about `most` of `points`, evenly spread, the last one always kept.
fn thin<T: Copy>(points: Vec<T>, most: usize) -> Vec<T> {
    if points.len() <= most {
        return points;
    }
    let step = points.len().div_ceil(most);
    let mut kept: Vec<T> = points.iter().copied().step_by(step).collect();
    if !(points.len() - 1).is_multiple_of(step) {
        kept.extend(points.last().copied());
    }
    kept
}
