//! `honk score` and `honk diff`: score targets against a baseline, handing
//! every anomaly to the caller's sink, and write the HTML report if asked.

use std::path::PathBuf;

use super::{refuse_overwriting, write_file, Error, ModelChoices, Ui};
use crate::model::Model;
use crate::parse::Format;
use crate::pipeline::{self, Baseline, InputStats, ScoreOptions};
use crate::read::{self, Input};
use crate::report::html;
use crate::report::html::builder::{InputRow, PageBuilder};
use crate::report::{Discard, Incidents, Selection, Sink, Summary, Tee};

/// What is reported, and how.
#[derive(Clone, Debug)]
pub struct Report {
    /// Records whose distance to the baseline is above this are anomalies
    /// [default: [`super::DEFAULT_THRESHOLD`]].
    pub threshold: f64,
    /// A record's score is its mean distance to its `k` nearest distinct
    /// baseline records [default: 1].
    pub k: usize,
    /// Records handed to the sink before each anomaly, as context.
    pub before: usize,
    /// Records handed to the sink after each anomaly, as context.
    pub after: usize,
    /// Only the `top` highest-scoring incidents, highest first.
    pub top: Option<usize>,
    /// Also write the HTML report here.
    pub html: Option<PathBuf>,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            threshold: super::DEFAULT_THRESHOLD,
            k: 1,
            before: 0,
            after: 0,
            top: None,
            html: None,
        }
    }
}

/// Score targets against a model file.
#[derive(Clone, Debug, Default)]
pub struct Score {
    /// The model, from `honk learn`.
    pub model: PathBuf,
    /// Logs to score: files, directories, or `-` for stdin.
    pub targets: Vec<PathBuf>,
    /// The input format, or `None` to detect it per input.
    pub format: Option<Format>,
    /// What is reported.
    pub report: Report,
}

/// Learn baseline logs in memory and score a target against them.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// Baseline logs: files, directories or `-`.
    pub baseline: Vec<PathBuf>,
    /// The target log.
    pub target: PathBuf,
    /// The input format, or `None` to detect it per input.
    pub format: Option<Format>,
    /// How the baseline is learned.
    pub model: ModelChoices,
    /// What is reported.
    pub report: Report,
}

/// What scoring found.
#[derive(Clone, Debug)]
pub struct Scored {
    /// The run's summary: counts, threshold, per-input profiles.
    pub summary: Summary,
    /// What was read from each target input.
    pub stats: Vec<InputStats>,
    /// What was read from each baseline input (`diff` only).
    pub baseline_stats: Vec<InputStats>,
}

impl Scored {
    /// Whether anything was unusual: an anomaly, or a call the baseline never made.
    pub fn found_something(&self) -> bool {
        self.summary.anomalies > 0 || self.summary.violations > 0
    }
}

/// Scores `settings.targets` against the model, handing anomalies (grouped
/// into incidents) to `sink`.
pub fn score(settings: &Score, sink: &mut dyn Sink, ui: &dyn Ui) -> Result<Scored, Error> {
    let targets = if settings.targets.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        settings.targets.clone()
    };
    let inputs = read::expand(&targets)?;
    refuse_overwriting(settings.report.html.as_deref(), "report", &[&settings.model], &inputs)?;
    let model = Model::load(&settings.model)?;
    let (summary, stats) = score_against(
        "honk score",
        model,
        &inputs,
        settings.format,
        &settings.report,
        sink,
        ui,
    )?;
    Ok(Scored {
        summary,
        stats,
        baseline_stats: Vec::new(),
    })
}

/// Learns `settings.baseline` into a model in memory (nothing is written) and
/// scores `settings.target` against it.
pub fn diff(settings: &Diff, sink: &mut dyn Sink, ui: &dyn Ui) -> Result<Scored, Error> {
    if read::is_stdin(&settings.target) && settings.baseline.iter().any(|p| read::is_stdin(p)) {
        return Err(Error::Refused(
            "standard input (-) can be the baseline or the target, not both".into(),
        ));
    }
    if settings.baseline.is_empty() {
        return Err(Error::Refused("diff needs at least one baseline and a target".into()));
    }
    let baseline_inputs = read::expand(&settings.baseline)?;
    let target_inputs = read::expand(std::slice::from_ref(&settings.target))?;
    let all: Vec<Input> = baseline_inputs.iter().chain(&target_inputs).cloned().collect();
    refuse_overwriting(settings.report.html.as_deref(), "report", &[], &all)?;
    let progress = ui.progress("learning", pipeline::total_bytes(&baseline_inputs));
    let (model, baseline_stats) =
        pipeline::learn(&baseline_inputs, settings.model.settings(), settings.format, &progress)?;
    progress.finish();
    let (summary, stats) = score_against(
        "honk diff",
        model,
        &target_inputs,
        settings.format,
        &settings.report,
        sink,
        ui,
    )?;
    Ok(Scored {
        summary,
        stats,
        baseline_stats,
    })
}

fn score_against(
    title: &str,
    model: Model,
    inputs: &[Input],
    format: Option<Format>,
    report: &Report,
    sink: &mut dyn Sink,
    ui: &dyn Ui,
) -> Result<(Summary, Vec<InputStats>), Error> {
    let baseline = Baseline::new(model);
    let selection = Selection {
        threshold: report.threshold,
        before: report.before,
        after: report.after,
        // Only the top incidents, reordered: each block carries its whole context.
        overlap: report.top.is_some(),
    };
    let progress = ui.progress("scoring", pipeline::total_bytes(inputs));
    let options = ScoreOptions {
        k: report.k,
        format,
        selection,
        sketch: report.html.is_some(),
    };
    let mut page = PageBuilder::default();
    let mut no_page = Discard;
    let page_sink: &mut dyn Sink = if report.html.is_some() { &mut page } else { &mut no_page };
    // Both the caller's sink and the page see the anomalies grouped into incidents.
    let mut grouped = Incidents::new(Tee(sink, page_sink), report.top);
    let (summary, stats) = pipeline::score(&baseline, inputs, &options, &mut grouped, &progress)?;
    let summary = Summary {
        incidents: grouped.count(),
        ..summary
    };
    drop(grouped);
    progress.finish();
    if let Some(path) = &report.html {
        let rows: Vec<InputRow> = stats.iter().map(InputRow::from).collect();
        let page = page.page(title, baseline.model(), rows, Vec::new());
        let progress = ui.progress("writing the report", None);
        let rendered = html::render(&page)?;
        write_file(path, rendered.as_bytes(), "report")?;
        progress.finish();
    }
    Ok((summary, stats))
}
