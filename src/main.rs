//! The `honk` binary: parse the command line, run one command, map the outcome to
//! an exit status like diff's (0 nothing unusual, 1 anomalies, 2 trouble).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser};

use honk::cli::{
    Cli, ColorArg, Command, DiffArgs, EvalArgs, EvalMethod, FormatArg, Generate, InputArgs, ItemsArg, LearnArgs,
    ModelArgs, OutputArgs, ScoreArgs, SeccompArgs, SeccompExec, TraceArgs, UnseenArg, WeightArg, DEFAULT_THRESHOLD,
    SECCOMP_EXEC,
};
use honk::eval::items::{self, BagParams, BagScorer, StideScorer, Vocabulary};
use honk::eval::{self, forest, lidds, Labelled};
use honk::model::{Model, Settings, Window};
use honk::parse::Format;
use honk::pipeline::{self, Baseline, InputStats, ScoreOptions};
use honk::read::{self, shown, Input};
use honk::report::html::{self, Page};
use honk::report::human::{escape, HumanPrinter};
use honk::report::json::JsonPrinter;
use honk::report::page::{InputRow, PageBuilder};
use honk::report::progress::Progress;
use honk::report::{thousands, Anomaly, Collect, Discard, Incidents, Selection, Sink, Summary, Tee};
use honk::trace::Isolation;
use honk::vectorize::{Tokenizer, DEFAULT_N_FEATURES};
use honk::{demo, inspect, normalize, seccomp};

/// What a command found.
enum Outcome {
    Clean,
    Anomalies,
    /// `honk trace` without --learn/--score: the command's own exit status, as strace gives it.
    Exit(u8),
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = if args.get(1).is_some_and(|a| a == SECCOMP_EXEC) {
        let exec = SeccompExec::parse_from(std::iter::once(args[0].clone()).chain(args.into_iter().skip(2)));
        seccomp_exec(&exec.profile, &exec.command)
    } else {
        run(Cli::parse_from(args))
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Anomalies) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => {
            // The reader went away (`honk ... | head`): we were printing anomalies.
            ExitCode::from(1)
        }
        Err(err) => {
            // Errors name files, and a file name can hold terminal escapes.
            eprintln!("honk: error: {}", escape(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<Outcome> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Learn(args) => learn(args, quiet),
        Command::Score(args) => score(args, quiet),
        Command::Diff(args) => diff(args, quiet),
        Command::Demo(args) => {
            let traces = demo::prepare(args.embedded, args.keep.as_deref(), &mut io::stderr())?;
            let diff_args = DiffArgs {
                paths: vec![traces.baseline.clone(), traces.target.clone()],
                input: InputArgs {
                    format: FormatArg::Strace,
                },
                model: ModelArgs {
                    tokenizer: None,
                    features: None,
                    window: None,
                    window_args: false,
                },
                output: args.output,
            };
            let outcome = diff(diff_args, quiet);
            if !quiet {
                eprintln!("{}", traces.epilogue());
            }
            outcome
        }
        Command::Trace(args) => trace(args, quiet),
        Command::Eval(args) => eval(args, quiet),
        Command::Seccomp(args) => seccomp_profile(args, quiet),
        Command::Inspect(args) => {
            let inputs = read::expand(&args.inputs)?;
            let progress = Progress::new(!quiet, "reading", pipeline::total_bytes(&inputs));
            let mut out = BufWriter::new(io::stdout().lock());
            for input in &inputs {
                // A model is shown as a model, not read as a text log.
                if let Input::File(path) = input {
                    if Model::is_model_file(path) {
                        let model = Model::load(path)?;
                        let inspection = inspect::inspect_model(&input.name(), &model);
                        if args.json {
                            serde_json::to_writer(&mut out, &inspection)?;
                            writeln!(out)?;
                        } else {
                            inspect::print_model(&inspection, &mut out)?;
                        }
                        continue;
                    }
                }
                let inspection = inspect::inspect(input, args.input.format.forced(), &progress)?;
                if args.json {
                    serde_json::to_writer(&mut out, &inspection)?;
                    writeln!(out)?;
                } else {
                    inspect::print_human(&inspection, &mut out)?;
                }
            }
            progress.finish();
            out.flush()?;
            Ok(Outcome::Clean)
        }
        Command::Generate { what } => {
            let mut out = io::stdout().lock();
            match what {
                Generate::Man { dir: None } => clap_mangen::Man::new(Cli::command()).render(&mut out)?,
                Generate::Man { dir: Some(dir) } => {
                    let written = write_man_pages(&dir)?;
                    if !quiet {
                        eprintln!("honk: wrote {} man pages to {}", written, shown(&dir));
                    }
                }
                Generate::Completions { shell } => {
                    clap_complete::generate(shell, &mut Cli::command(), "honk", &mut out)
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// One man page per command, `honk.1`, `honk-learn.1`, ..., `honk-generate-man.1`,
/// written to `dir`; returns how many.
fn write_man_pages(dir: &Path) -> Result<usize> {
    fn pages(cmd: &clap::Command, dir: &Path, written: &mut usize) -> Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages(sub, dir, written)?;
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let mut page = Vec::new();
        man.render(&mut page)?;
        write_atomically(&dir.join(man.get_filename()), &page, "man page")?;
        *written += 1;
        Ok(())
    }
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    // Built, so that subcommands know their full names (honk-learn).
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = 0;
    pages(&cmd, dir, &mut written)?;
    Ok(written)
}

/// `honk eval --line-labels`: per-line labels, the first part's normal lines as baseline.
fn eval_lines(args: &EvalArgs, path: &Path, quiet: bool) -> Result<(Vec<Labelled>, usize, u64)> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let cut = (lines.len() as f64 * args.split).floor() as usize;
    // Each line without its label word, and whether that word marks an alert.
    let unlabel = |line: &str| -> (String, bool) {
        let line = line.trim_start();
        let (label, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        (rest.to_owned(), label != "-")
    };
    let scratch = tempfile::Builder::new().prefix("honk-eval-").tempdir()?;
    let (train, test) = (scratch.path().join("train.log"), scratch.path().join("test.log"));
    let mut train_text = String::new();
    for line in &lines[..cut] {
        let (line, alert) = unlabel(line);
        if !alert {
            train_text.push_str(&line);
            train_text.push('\n');
        }
    }
    let mut test_text = String::new();
    let mut labels = Vec::with_capacity(lines.len() - cut);
    for line in &lines[cut..] {
        let (line, alert) = unlabel(line);
        test_text.push_str(&line);
        test_text.push('\n');
        labels.push(alert);
    }
    std::fs::write(&train, train_text)?;
    std::fs::write(&test, test_text)?;
    let format = args.input.format.forced();
    let (model, _) = pipeline::learn(
        &[Input::File(train)],
        new_settings(&args.model),
        format,
        &Progress::new(!quiet, "learning", None),
    )?;
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    // A threshold below every score hands every record to the sink, with its score.
    let options = eval_options(args, -1.0);
    let mut all = Collect::default();
    pipeline::score(&baseline, &[Input::File(test)], &options, &mut all, &Progress::hidden())?;
    let items = all
        .anomalies
        .iter()
        .filter_map(|a| {
            let attack = *labels.get(usize::try_from(a.line).ok()?.checked_sub(1)?)?;
            Some(Labelled { score: a.score, attack })
        })
        .collect();
    Ok((items, 1, baseline_records))
}

/// How `honk eval` scores: its `-k` and `--format`, records above `threshold`, no context.
fn eval_options(args: &EvalArgs, threshold: f64) -> ScoreOptions {
    ScoreOptions {
        k: args.k as usize,
        format: args.input.format.forced(),
        selection: Selection {
            threshold,
            before: 0,
            after: 0,
            overlap: false,
        },
        sketch: false,
    }
}

/// The threshold `honk eval` counts alarms at, and where it came from.
struct Chosen {
    threshold: f64,
    how: &'static str,
}

/// What an evaluation found, ready to report.
struct Evaluated {
    items: Vec<Labelled>,
    baseline_items: usize,
    baseline_records: u64,
    /// What one item is: "inputs", "lines", "recordings".
    unit: &'static str,
    chosen: Chosen,
    /// With --lid-ds: the data set's own metrics.
    lid_ds: Option<lidds::LidDsMetrics>,
}

fn eval(args: EvalArgs, quiet: bool) -> Result<Outcome> {
    let started = Instant::now();
    let given: Vec<&Path> = (args
        .baseline
        .iter()
        .chain(&args.normal)
        .chain(&args.attack)
        .chain(&args.labelled))
    .chain(&args.line_labels)
    .map(PathBuf::as_path)
    .collect();
    let listed = read::expand(
        &given
            .iter()
            .filter(|p| p.is_dir())
            .map(|p| p.to_path_buf())
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    refuse_overwriting(args.html.html.as_deref(), "report", &given, &listed)?;
    if let Some(path) = args.line_labels.clone() {
        let (items, baseline_items, baseline_records) = eval_lines(&args, &path, quiet)?;
        let chosen = given_threshold(&args, DEFAULT_THRESHOLD, "honk's default record threshold");
        let found = Evaluated {
            items,
            baseline_items,
            baseline_records,
            unit: "lines",
            chosen,
            lid_ds: None,
        };
        return report_eval(&args, &found, started, quiet);
    }
    if let Some(dir) = args.lid_ds.clone() {
        return eval_lidds(&args, &dir, quiet, started);
    }
    if args.method() != EvalMethod::Events {
        return eval_items(&args, quiet, started);
    }
    if args.items == ItemsArg::Lines || !args.labelled.is_empty() {
        bail!("--method events scores the records of files; use --method bag, stide or forest for line items and --labelled");
    }
    let format = args.input.format.forced();
    let baseline_inputs = read::expand(&args.baseline)?;
    let normal_inputs = read::expand(&args.normal)?;
    let attack_inputs = read::expand(&args.attack)?;
    let progress = Progress::new(!quiet, "learning", pipeline::total_bytes(&baseline_inputs));
    let model = pipeline::learn(&baseline_inputs, new_settings(&args.model), format, &progress)?.0;
    progress.finish();
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    let chosen = given_threshold(&args, DEFAULT_THRESHOLD, "honk's default record threshold");
    let options = eval_options(&args, chosen.threshold);
    let mut items = Vec::with_capacity(normal_inputs.len() + attack_inputs.len());
    for (inputs, attack) in [(&normal_inputs, false), (&attack_inputs, true)] {
        let progress = Progress::new(!quiet, "scoring", pipeline::total_bytes(inputs));
        let (summary, _) = pipeline::score(&baseline, inputs, &options, &mut Discard, &progress)?;
        items.extend(summary.per_input.iter().map(|p| Labelled {
            score: args.aggregate.of(p),
            attack,
        }));
        progress.finish();
    }
    let found = Evaluated {
        items,
        baseline_items: baseline_inputs.len(),
        baseline_records,
        unit: "inputs",
        chosen,
        lid_ds: None,
    };
    report_eval(&args, &found, started, quiet)
}

/// `honk eval --lid-ds`: a LID-DS scenario, scored as its authors score a detector.
fn eval_lidds(args: &EvalArgs, dir: &Path, quiet: bool, started: Instant) -> Result<Outcome> {
    if args.method() != EvalMethod::Events {
        bail!("--lid-ds scores the events of each recording; it works with --method events only");
    }
    let layout = lidds::scenario_layout(dir)?;
    let format = args.input.format.forced();
    let training = read::expand(&layout.training)?;
    let progress = Progress::new(!quiet, "learning", pipeline::total_bytes(&training));
    let model = pipeline::learn(&training, new_settings(&args.model), format, &progress)?.0;
    progress.finish();
    let baseline_records = model.records();
    let baseline = Baseline::new(model);
    // Every record (and window) with its score: a threshold below all scores.
    let options = eval_options(args, -1.0);

    // The threshold: the highest score on the validation recordings, as LID-DS sets it.
    let validation = read::expand(&layout.validation)?;
    let progress = Progress::new(!quiet, "validation", pipeline::total_bytes(&validation));
    let mut highest = f64::NEG_INFINITY;
    for input in &validation {
        let scores = event_scores(&baseline, input, &options, &progress)?;
        highest = lidds::threshold(scores.iter().map(|&(_, score)| score))
            .unwrap_or(highest)
            .max(highest);
    }
    progress.finish();
    let chosen = given_threshold(args, highest, "the highest score on the validation recordings");

    // The test recordings, one at a time: only one recording's scores are held at once.
    let mut metrics = lidds::LidDsMetrics {
        threshold: chosen.threshold,
        ..Default::default()
    };
    let mut items = Vec::new();
    let recordings: Vec<&PathBuf> = layout
        .test_normal
        .iter()
        .chain(&layout.test_normal_and_attack)
        .collect();
    let progress = Progress::new(!quiet, "scoring", None);
    for recording in recordings {
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
    let found = Evaluated {
        items,
        baseline_items: training.len(),
        baseline_records,
        unit: "recordings",
        chosen,
        lid_ds: Some(metrics),
    };
    report_eval(args, &found, started, quiet)
}

/// Every record's (and window's) line and score in one input.
fn event_scores(
    baseline: &Baseline,
    input: &Input,
    options: &ScoreOptions,
    progress: &Progress,
) -> Result<Vec<(u64, f64)>> {
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

/// `--threshold` if given, else `default`, described as `how`.
fn given_threshold(args: &EvalArgs, default: f64, how: &'static str) -> Chosen {
    match args.threshold {
        Some(threshold) => Chosen {
            threshold,
            how: "--threshold",
        },
        None => Chosen {
            threshold: default,
            how,
        },
    }
}

/// `honk eval` with a per-item method: bag, stide or forest.
fn eval_items(args: &EvalArgs, quiet: bool, started: Instant) -> Result<Outcome> {
    let format = args.input.format.forced();
    let lines = args.items == ItemsArg::Lines || !args.labelled.is_empty();
    let mut vocabulary = Vocabulary::default();
    let read_items = |paths: &[PathBuf], vocabulary: &mut Vocabulary| -> Result<Vec<Vec<u32>>> {
        let inputs = read::expand(paths)?;
        let progress = Progress::new(!quiet, "reading", pipeline::total_bytes(&inputs));
        let items = if lines {
            items::read_line_items(&inputs, vocabulary)?
        } else {
            items::read_traces(&inputs, format, &progress, vocabulary)?
        };
        progress.finish();
        Ok(items)
    };
    let baseline = read_items(&args.baseline, &mut vocabulary)?;
    let (test, attack) = if args.labelled.is_empty() {
        let normal = read_items(&args.normal, &mut vocabulary)?;
        let attack = read_items(&args.attack, &mut vocabulary)?;
        let labels = std::iter::repeat_n(false, normal.len()).chain(std::iter::repeat_n(true, attack.len()));
        let labels = labels.collect::<Vec<bool>>();
        (normal.into_iter().chain(attack).collect::<Vec<_>>(), labels)
    } else {
        items::read_labelled(&read::expand(&args.labelled)?, &mut vocabulary)?
    };
    let baseline_events: u64 = baseline.iter().map(|item| item.len() as u64).sum();
    let (scores, chosen) = match args.method() {
        EvalMethod::Bag => {
            let params = BagParams {
                ngram: args.ngram as usize,
                weight: args.weight.weight(),
                k: args.k as usize,
                unseen: args.unseen.unseen(),
            };
            let mut bag = BagScorer::new(&baseline, params);
            let scores = bag.score_all(&test);
            let radius = largest(&bag.leave_one_out(&baseline));
            (scores, given_threshold(args, radius, BASELINE_THRESHOLD))
        }
        EvalMethod::Stide => {
            let stide = StideScorer::new(&baseline, stide_window(args));
            let scores = stide.score_all(&test);
            let radius = largest(&stide.leave_one_out(&baseline));
            (scores, given_threshold(args, radius, BASELINE_THRESHOLD))
        }
        EvalMethod::Forest => {
            let features = items::bag_features(&test, args.ngram as usize);
            let params = forest::ForestParams::default();
            let scores = forest::cross_validated_scores(&features, &attack, args.folds as usize, &params)?;
            (scores, given_threshold(args, 0.5, "a forest's majority vote"))
        }
        EvalMethod::Events => unreachable!("events are evaluated by eval()"),
    };
    let labelled: Vec<Labelled> = scores
        .into_iter()
        .zip(attack)
        .map(|(score, attack)| Labelled { score, attack })
        .collect();
    let found = Evaluated {
        items: labelled,
        baseline_items: baseline.len(),
        baseline_records: baseline_events,
        unit: if lines { "lines" } else { "inputs" },
        chosen,
        lid_ds: None,
    };
    report_eval(args, &found, started, quiet)
}

const BASELINE_THRESHOLD: &str = "the largest leave-one-out score of a baseline item";

/// The largest of `scores` (0 for none).
fn largest(scores: &[f64]) -> f64 {
    scores.iter().copied().fold(0.0, f64::max)
}

/// The stide window: --window, or 6 events.
fn stide_window(args: &EvalArgs) -> usize {
    match args.model.window {
        Some(n) if n > 0 => n as usize,
        _ => 6,
    }
}

/// Print the metrics of labelled scores, for people or as JSON.
fn report_eval(args: &EvalArgs, found: &Evaluated, started: Instant, quiet: bool) -> Result<Outcome> {
    let Evaluated {
        items,
        baseline_items,
        baseline_records,
        unit,
        chosen,
        lid_ds,
    } = found;
    let (baseline_items, baseline_records) = (*baseline_items, *baseline_records);
    let normals = items.iter().filter(|i| !i.attack).count();
    let attacks = items.len() - normals;
    let auc = eval::roc_auc(items)?;
    let rates: Vec<(f64, f64)> = [0.01, 0.05, 0.1]
        .into_iter()
        .map(|far| eval::detection_rate_at(items, far).map(|dr| (far, dr)))
        .collect::<Result<_, _>>()?;
    let (f1, f1_threshold) = eval::best_f1(items)?;
    let confusion = eval::confusion(items, chosen.threshold);
    let seconds = started.elapsed().as_secs_f64();
    let method = describe_method(args);
    let mut out = io::stdout().lock();
    if args.json {
        let report = serde_json::json!({
            "type": "eval",
            "roc_auc": auc,
            "normal": normals,
            "attack": attacks,
            "baseline": baseline_items,
            "baseline_records": baseline_records,
            "detection_rate_at_far": {
                "0.01": rates[0].1,
                "0.05": rates[1].1,
                "0.1": rates[2].1,
            },
            "best_f1": { "f1": f1, "threshold": f1_threshold },
            "confusion": {
                "threshold": chosen.threshold,
                "chosen_by": chosen.how,
                "counts": confusion,
                "precision": confusion.precision(),
                "recall": confusion.recall(),
                "f1": confusion.f1(),
            },
            "method": method.json,
            "unit": unit,
            "seconds": seconds,
            "lid_ds": lid_ds,
        });
        writeln!(out, "{report}")?;
    } else {
        writeln!(
            out,
            "baseline {} items ({} records); test {} normal, {} attack {unit}",
            thousands(baseline_items as u64),
            thousands(baseline_records),
            thousands(normals as u64),
            thousands(attacks as u64)
        )?;
        writeln!(out, "method: {}", method.human)?;
        writeln!(out, "ROC AUC {auc:.4}")?;
        let rates: Vec<String> = rates
            .iter()
            .map(|(far, dr)| format!("{:.3} at {}%", dr, far * 100.0))
            .collect();
        writeln!(out, "detection rate: {}", rates.join(", "))?;
        writeln!(
            out,
            "best F1 {f1:.4} at score > {f1_threshold:.4} (chosen with the test labels)"
        )?;
        writeln!(
            out,
            "at score > {:.4} ({}): F1 {:.4}, precision {:.4}, recall {:.4}; {} true and {} false alarms, {} attacks missed, {} normal quiet",
            chosen.threshold,
            chosen.how,
            confusion.f1(),
            confusion.precision(),
            confusion.recall(),
            confusion.true_positives,
            confusion.false_positives,
            confusion.false_negatives,
            confusion.true_negatives
        )?;
        if let Some(m) = lid_ds {
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
        writeln!(out, "time {seconds:.2} s")?;
    }
    if let Some(path) = &args.html.html {
        let mut rows = vec![
            ("method".to_string(), method.human.clone()),
            ("unit".to_string(), (*unit).to_string()),
            (
                "baseline".to_string(),
                format!("{baseline_items} items ({baseline_records} records)"),
            ),
            ("test".to_string(), format!("{normals} normal, {attacks} attack {unit}")),
            ("ROC AUC".to_string(), format!("{auc:.4}")),
            (
                "detection rate".to_string(),
                rates
                    .iter()
                    .map(|(far, dr)| format!("{dr:.3} at {}% false alarms", far * 100.0))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "best F1".to_string(),
                format!("{f1:.4} at score > {f1_threshold:.4} (chosen with the test labels)"),
            ),
            (
                format!("at score > {:.4}", chosen.threshold),
                format!(
                    "F1 {:.4}, precision {:.4}, recall {:.4} ({}); {} true and {} false alarms, {} missed",
                    confusion.f1(),
                    confusion.precision(),
                    confusion.recall(),
                    chosen.how,
                    confusion.true_positives,
                    confusion.false_positives,
                    confusion.false_negatives
                ),
            ),
            ("time".to_string(), format!("{seconds:.2} s")),
        ];
        if let Some(m) = lid_ds {
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
        let page = Page {
            title: "honk eval".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generated: honk::report::page::now_utc(),
            summary: rows,
            threshold: chosen.threshold,
            eval: Some(html::EvalPlots {
                auc,
                roc: thin(eval::roc_curve(items)?, 2_000),
                normal_scores: items.iter().filter(|i| !i.attack).map(|i| i.score).collect(),
                attack_scores: items.iter().filter(|i| i.attack).map(|i| i.score).collect(),
                threshold: chosen.threshold,
            }),
            ..Page::default()
        };
        write_report(path, &page, args.html.open, quiet)?;
    }
    Ok(Outcome::Clean)
}

/// The method of an evaluation, for people and as JSON.
struct MethodDescription {
    human: String,
    json: serde_json::Value,
}

fn describe_method(args: &EvalArgs) -> MethodDescription {
    let window = describe_window(new_settings(&args.model).window);
    let weight = match args.weight {
        WeightArg::Binary => "binary",
        WeightArg::Counts => "counts",
        WeightArg::TfIdf => "tf-idf",
    };
    let unseen = match args.unseen {
        UnseenArg::Alarm => "alarm",
        UnseenArg::Distance => "distance",
    };
    let name = args.method().name();
    let (human, json) = match args.method() {
        EvalMethod::Events if args.line_labels.is_some() => (
            format!("each line scored, k {}", args.k),
            serde_json::json!({ "compare": name, "k": args.k }),
        ),
        EvalMethod::Events => (
            format!("events, k {}, {window}, trace score {}", args.k, args.aggregate),
            serde_json::json!({ "compare": name, "k": args.k, "window": window, "aggregate": args.aggregate.to_string() }),
        ),
        EvalMethod::Bag => (
            format!(
                "bags of 1- to {}-grams, {weight}, k {}, unseen events: {unseen}",
                args.ngram, args.k
            ),
            serde_json::json!({ "compare": name, "ngram": args.ngram, "weight": weight, "k": args.k, "unseen": unseen }),
        ),
        EvalMethod::Stide => (
            format!("stide, windows of {} events", stide_window(args)),
            serde_json::json!({ "compare": name, "window": stide_window(args) }),
        ),
        EvalMethod::Forest => (
            format!(
                "random forest on 1- to {}-gram frequencies, {}-fold cross-validation on the test items (supervised)",
                args.ngram, args.folds
            ),
            serde_json::json!({ "compare": name, "ngram": args.ngram, "folds": args.folds }),
        ),
    };
    MethodDescription { human, json }
}

/// `honk seccomp`: the model's system calls as an allow-list profile.
fn seccomp_profile(args: SeccompArgs, quiet: bool) -> Result<Outcome> {
    refuse_overwriting(args.output.as_deref(), "profile", &[&args.model], &[])?;
    let model = Model::load(&args.model)?;
    if model.syscalls.is_empty() && args.base.is_none() {
        bail!(
            "{} has no system calls: it was learned from logs that are not system-call traces \
             (strace, sysdig, gVisor, audit)",
            args.model.display()
        );
    }
    let options = seccomp::ProfileOptions {
        format: args.format,
        action: args.action,
        arch: args.arch,
        base: args.base.is_some(),
    };
    let (profile, dropped) = seccomp::profile(model.syscalls.keys().map(String::as_str), &options)?;
    if !quiet && !dropped.is_empty() {
        let dropped: Vec<String> = dropped.iter().map(|d| escape(d).into_owned()).collect();
        eprintln!(
            "honk: left out {} {} that {} not a system call of {}: {}",
            dropped.len(),
            if dropped.len() == 1 { "name" } else { "names" },
            if dropped.len() == 1 { "is" } else { "are" },
            args.arch,
            dropped.join(", ")
        );
    }
    let json = profile.to_json();
    match &args.output {
        Some(path) => write_atomically(path, json.as_bytes(), "profile")?,
        None => io::stdout().lock().write_all(json.as_bytes())?,
    }
    if !quiet {
        eprintln!(
            "honk: {} system calls allowed, every other one: {}",
            profile.names().len(),
            args.action.scmp_name()
        );
    }
    Ok(Outcome::Clean)
}

/// `honk __seccomp-exec`: install the profile's filter and become the command.
/// `honk trace --seccomp` runs this under strace, so that strace is not filtered.
fn seccomp_exec(profile: &Path, command: &[std::ffi::OsString]) -> Result<Outcome> {
    use std::os::unix::process::CommandExt;
    let text = std::fs::read_to_string(profile).with_context(|| format!("cannot read {}", profile.display()))?;
    let (names, action) = seccomp::read_profile(&text).with_context(|| profile.display().to_string())?;
    let arch = seccomp::Arch::host().context("seccomp filters are made for x86_64 only")?;
    let known: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| seccomp::is_syscall(arch, n))
        .collect();
    let filter = seccomp::compile(known, action, arch)?;
    let (program, args) = command.split_first().context("no command to run")?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    // SAFETY: the hook only makes the prctl and seccomp system calls and
    // allocates nothing, as is required between fork and exec.
    unsafe {
        cmd.pre_exec(seccomp::pre_exec_hook(filter));
    }
    let error = cmd.exec();
    bail!(
        "cannot run {} under {}: {error}{}",
        program.to_string_lossy(),
        profile.display(),
        if error.raw_os_error() == Some(1) {
            " (the profile does not allow execve: make it with --base default)"
        } else {
            ""
        }
    )
}

fn trace(args: TraceArgs, quiet: bool) -> Result<Outcome> {
    // Where the command runs, before anything here changes directory.
    let run_context = honk::normalize::Roots::of_this_process();
    let chained = args.learn.is_some() || args.score.is_some();
    let scratch = if args.output.is_none() && chained {
        Some(tempfile::Builder::new().prefix("honk-trace-").tempdir()?)
    } else {
        None
    };
    let output = match (&args.output, &scratch) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.path().join("trace"),
        (None, None) if args.gvisor => PathBuf::from("trace.gvisor.log"),
        (None, None) => PathBuf::from("trace.strace"),
    };
    if args.net && !args.sandbox && !args.gvisor {
        bail!("--net gives a sandbox the host's network; it needs --sandbox or --gvisor");
    }
    // With a profile, strace runs honk's launcher, which installs the filter and
    // becomes the command; the launcher's own calls are cut from the trace.
    let profile = args
        .seccomp
        .as_deref()
        .map(|p| std::fs::canonicalize(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()?;
    let launcher: Vec<std::ffi::OsString> = match &profile {
        Some(profile) => {
            let text =
                std::fs::read_to_string(profile).with_context(|| format!("cannot read {}", profile.display()))?;
            seccomp::read_profile(&text).with_context(|| profile.display().to_string())?;
            vec![
                std::env::current_exe()?.into(),
                "__seccomp-exec".into(),
                "--profile".into(),
                profile.clone().into(),
                "--".into(),
            ]
        }
        None => Vec::new(),
    };
    let isolation = match (args.sandbox, args.gvisor) {
        (true, _) => Isolation::Sandbox { network: args.net },
        (_, true) => Isolation::Gvisor { network: args.net },
        _ => Isolation::None,
    };
    // Sandboxes have limits by default; 0 lifts one.
    let defaults = match isolation {
        Isolation::None => honk::trace::Limits::default(),
        _ => honk::trace::Limits::SANDBOX,
    };
    let limits = honk::trace::Limits {
        procs: args.max_procs.or(defaults.procs).filter(|&n| n > 0),
        memory: args.max_memory.or(defaults.memory).filter(|&n| n > 0),
        timeout: args.timeout.or(defaults.timeout).filter(|t| !t.is_zero()),
    };
    let visible: Vec<&Path> = profile.iter().map(PathBuf::as_path).collect();
    // With --score, honk's report is what is on standard output, so the
    // command's goes to standard error; --learn does the same, so that a run
    // learned and a run scored write to the same kind of descriptor and their
    // traces agree.
    let request = honk::trace::Request {
        command: &args.command,
        launcher: &launcher,
        isolation,
        visible: &visible,
        stdout_to_stderr: chained,
        limits,
    };
    let traced = honk::trace::trace(&request, &output)?;
    for what in &traced.unenforced {
        eprintln!("honk: warning: not enforced: {what}");
    }
    let command: Vec<_> = args.command.iter().map(|a| a.to_string_lossy()).collect();
    let command = command.join(" ");
    if traced.timed_out || !traced.hit.is_empty() {
        eprintln!("honk: `{command}` {}", traced.why());
    }
    if !quiet {
        eprintln!(
            "honk: traced `{command}` ({}){}",
            traced.status,
            if scratch.is_some() {
                String::new()
            } else {
                format!(" into {}", output.display())
            }
        );
    }
    // Reports name a trace by its path as given: a temporary trace is read from
    // its own directory, so that they name it `trace`, not a path deleted
    // afterwards (`-o FILE` keeps it, under its name). Paths given relative to
    // the current directory are made absolute first.
    let mut args = args;
    let _back = match &scratch {
        Some(dir) => {
            let here = std::env::current_dir()?;
            for path in [&mut args.learn, &mut args.score, &mut args.output_args.html.html]
                .into_iter()
                .flatten()
            {
                *path = std::path::absolute(&*path)?;
            }
            std::env::set_current_dir(dir.path())?;
            Some(CurrentDir(here))
        }
        None => None,
    };
    let output = match &scratch {
        Some(_) => PathBuf::from("trace"),
        None => output,
    };
    let strace = InputArgs {
        format: if args.gvisor {
            FormatArg::Gvisor
        } else {
            FormatArg::Strace
        },
    };
    if args.learn.is_some() || args.score.is_some() {
        // The run's places are known here for sure: the trace need not be read for them.
        honk::normalize::Roots::seed(run_context);
    }
    if let Some(model) = args.learn {
        if traced.failed() && !args.learn_failed {
            bail!(
                "not learning `{command}`: it {}; a baseline is made of runs that went well \
                 (--learn-failed learns it anyway)",
                traced.why()
            );
        }
        let no_change = ModelArgs {
            tokenizer: None,
            features: None,
            window: None,
            window_args: false,
        };
        learn(
            LearnArgs {
                output: model,
                inputs: vec![output],
                input: strace,
                model: no_change,
            },
            quiet,
        )
    } else if let Some(model) = args.score {
        let outcome = score(
            ScoreArgs {
                model,
                targets: vec![output],
                input: strace,
                output: args.output_args,
            },
            quiet,
        )?;
        // A run stopped at a limit did not do all it meant to: that is unusual in itself.
        if traced.timed_out || !traced.hit.is_empty() {
            return Ok(Outcome::Anomalies);
        }
        Ok(outcome)
    } else if traced.timed_out {
        // As timeout(1) does.
        Ok(Outcome::Exit(124))
    } else {
        Ok(Outcome::Exit(traced.exit_code()))
    }
}

/// Goes back to this directory when dropped.
struct CurrentDir(PathBuf);

impl Drop for CurrentDir {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.0);
    }
}

fn learn(args: LearnArgs, quiet: bool) -> Result<Outcome> {
    let started = Instant::now();
    let inputs = learn_inputs(&args.inputs, &args.output)?;
    hint_at_terminal_stdin(&inputs);
    // Read now to learn with its settings (and to fail before the work if it
    // is no model); read again under the lock below if it changed meanwhile.
    let existing = if args.output.exists() {
        let model = Model::load(&args.output)?;
        check_compatible(&model, &args.model, &args.output)?;
        Some((model, FileIdentity::of(&args.output)))
    } else {
        None
    };
    let settings = match &existing {
        Some((model, _)) => model.settings.clone(),
        None => new_settings(&args.model),
    };
    let progress = Progress::new(!quiet, "learning", pipeline::total_bytes(&inputs));
    let (learned, stats) = pipeline::learn(&inputs, settings, args.input.format.forced(), &progress)?;
    progress.finish();
    let (records, unique) = (learned.records(), learned.entries.len());
    // Another honk may be adding to the same model: take turns, and merge
    // into the model as it is once we hold the lock, so nobody's inputs are lost.
    let lock = honk::write::Lock::acquire(&args.output, |lock, pid| {
        if !quiet {
            let who = pid.map_or_else(|| "another honk".to_owned(), |pid| format!("honk (process {pid})"));
            eprintln!(
                "honk: waiting for {who} to finish with {} (it holds the lock {})",
                shown(&args.output),
                shown(lock)
            );
        }
    })
    .map_err(|e| anyhow::Error::new(e.source))
    .with_context(|| format!("cannot lock {}", args.output.display()))?;
    let current = match existing {
        Some((model, identity)) if FileIdentity::of(&args.output) == identity => Some(model),
        _ if args.output.exists() => {
            let model = Model::load(&args.output)?;
            check_compatible(&model, &args.model, &args.output)?;
            Some(model)
        }
        _ => None,
    };
    let model = match current {
        Some(mut model) => {
            model.merge(learned)?;
            model
        }
        None => learned,
    };
    model.save(&args.output)?;
    drop(lock);
    if !quiet {
        eprintln!(
            "honk: learned {} records ({} unique) from {}; {} now holds {} unique records from {} inputs; {:.2} s",
            thousands(records),
            thousands(unique as u64),
            describe_inputs(&stats),
            shown(&args.output),
            thousands(model.entries.len() as u64),
            thousands(model.sources.len() as u64),
            started.elapsed().as_secs_f64()
        );
        warn_truncated(&stats);
    }
    Ok(Outcome::Clean)
}

/// Which file a path names and its state: a model replaced or changed since
/// it was read has another.
#[derive(PartialEq, Eq)]
struct FileIdentity(Option<(u64, u64, u64, Option<std::time::SystemTime>)>);

impl FileIdentity {
    fn of(path: &Path) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileIdentity(
                std::fs::metadata(path)
                    .ok()
                    .map(|m| (m.dev(), m.ino(), m.len(), m.modified().ok())),
            )
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            FileIdentity(None)
        }
    }
}

/// The inputs of `honk learn`: a model is no log to learn (refused), and
/// the output model (or its lock file) met inside an input directory is
/// skipped rather than learned.
fn learn_inputs(paths: &[PathBuf], output: &Path) -> Result<Vec<Input>> {
    let lock = honk::write::lock_path(output);
    let mut inputs = Vec::new();
    for path in paths {
        if !read::is_stdin(path) && honk::write::same_file(path, output) {
            bail!(
                "{} is the model being written; give it only as -o, and logs as inputs",
                shown(path)
            );
        }
        let from_directory = path.is_dir();
        for input in read::expand(std::slice::from_ref(path))? {
            if let Input::File(file) = &input {
                if from_directory && (honk::write::same_file(file, output) || honk::write::same_file(file, &lock)) {
                    continue;
                }
                if Model::is_model_file(file) {
                    bail!(
                        "{} is a honk model, not a log: learn from the logs it was learned from \
                         (honk cannot merge two model files)",
                        shown(file)
                    );
                }
            }
            inputs.push(input);
        }
    }
    if inputs.is_empty() {
        bail!("no inputs to learn from besides the model itself");
    }
    Ok(inputs)
}

fn new_settings(args: &ModelArgs) -> Settings {
    Settings {
        n_features: args.features.unwrap_or(DEFAULT_N_FEATURES),
        tokenizer: args.tokenizer.map_or(Tokenizer::Honk, Tokenizer::from),
        normalizer: normalize::VERSION,
        window: Window {
            size: args.window.unwrap_or(0),
            args: args.window_args,
        },
    }
}

/// Options given while adding to a model must agree with how it was built.
fn check_compatible(model: &Model, args: &ModelArgs, path: &Path) -> Result<()> {
    check_normalizer(model, path)?;
    if let Some(tokenizer) = args.tokenizer.map(Tokenizer::from) {
        if tokenizer != model.settings.tokenizer {
            bail!(
                "{} was built with --tokenizer {}, not {}; learn into a new model instead",
                path.display(),
                model.settings.tokenizer.name(),
                tokenizer.name()
            );
        }
    }
    if let Some(size) = args.window {
        if size != model.settings.window.size || args.window_args != model.settings.window.args {
            bail!(
                "{} was built with {}; learn into a new model to change windows",
                path.display(),
                describe_window(model.settings.window)
            );
        }
    }
    if let Some(features) = args.features {
        if features != model.settings.n_features {
            bail!(
                "{} was built with --features {}, not {}; learn into a new model instead",
                path.display(),
                model.settings.n_features,
                features
            );
        }
    }
    Ok(())
}

fn describe_window(window: Window) -> String {
    match (window.size, window.args) {
        (0, _) => "no windows".to_owned(),
        (n, false) => format!("--window {n}"),
        (n, true) => format!("--window {n} --window-args"),
    }
}

fn check_normalizer(model: &Model, path: &Path) -> Result<()> {
    if model.settings.normalizer != normalize::VERSION {
        bail!(
            "{} was learned with normalizer version {}, this honk normalizes with version {}; learn it again from its logs",
            path.display(),
            model.settings.normalizer,
            normalize::VERSION
        );
    }
    Ok(())
}

fn score(args: ScoreArgs, quiet: bool) -> Result<Outcome> {
    let started = Instant::now();
    let targets = if args.targets.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.targets
    };
    let inputs = read::expand(&targets)?;
    hint_at_terminal_stdin(&inputs);
    refuse_overwriting(args.output.html.html.as_deref(), "report", &[&args.model], &inputs)?;
    let model = Model::load(&args.model)?;
    check_normalizer(&model, &args.model)?;
    score_against(
        "honk score",
        model,
        &inputs,
        args.input.format.forced(),
        &args.output,
        quiet,
        started,
    )
}

fn diff(args: DiffArgs, quiet: bool) -> Result<Outcome> {
    let started = Instant::now();
    let (target, baseline) = args
        .paths
        .split_last()
        .context("diff needs at least one baseline and a target")?;
    if read::is_stdin(target) && baseline.iter().any(|p| read::is_stdin(p)) {
        bail!("standard input (-) can be the baseline or the target, not both");
    }
    let baseline_inputs = read::expand(baseline)?;
    let target_inputs = read::expand(std::slice::from_ref(target))?;
    hint_at_terminal_stdin(&baseline_inputs);
    hint_at_terminal_stdin(&target_inputs);
    let all: Vec<Input> = baseline_inputs.iter().chain(&target_inputs).cloned().collect();
    refuse_overwriting(args.output.html.html.as_deref(), "report", &[], &all)?;
    let progress = Progress::new(!quiet, "learning", pipeline::total_bytes(&baseline_inputs));
    let (model, stats) = pipeline::learn(
        &baseline_inputs,
        new_settings(&args.model),
        args.input.format.forced(),
        &progress,
    )?;
    progress.finish();
    if !quiet {
        warn_truncated(&stats);
    }
    score_against(
        "honk diff",
        model,
        &target_inputs,
        args.input.format.forced(),
        &args.output,
        quiet,
        started,
    )
}

fn score_against(
    title: &str,
    model: Model,
    inputs: &[Input],
    format: Option<Format>,
    output: &OutputArgs,
    quiet: bool,
    started: Instant,
) -> Result<Outcome> {
    let baseline = Baseline::new(model);
    let (before, after) = output.context();
    let top = output.top.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let selection = Selection {
        threshold: output.threshold,
        before,
        after,
        // --top reorders the blocks, so each carries its whole context.
        overlap: top.is_some(),
    };
    let stdout = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let printer: Box<dyn Sink> = if output.json {
        Box::new(JsonPrinter::new(stdout, before > 0 || after > 0))
    } else {
        Box::new(HumanPrinter::new(stdout, use_color(output.color), top.is_none()).records_per_incident(output.records))
    };
    let mut printer = printer;
    let progress = Progress::new(!quiet, "scoring", pipeline::total_bytes(inputs));
    let options = ScoreOptions {
        k: output.k as usize,
        format,
        selection,
        sketch: output.html.html.is_some(),
    };
    let mut page = PageBuilder::default();
    let mut no_page = Discard;
    let page_sink: &mut dyn Sink = if output.html.html.is_some() {
        &mut page
    } else {
        &mut no_page
    };
    // Both the printer and the page see the anomalies grouped into incidents.
    let mut grouped = Incidents::new(Tee(printer.as_mut(), page_sink), top);
    let (summary, stats) = pipeline::score(&baseline, inputs, &options, &mut grouped, &progress)?;
    let summary = Summary {
        incidents: grouped.count(),
        ..summary
    };
    drop(grouped);
    progress.finish();
    if let Some(path) = &output.html.html {
        let rows: Vec<InputRow> = stats
            .iter()
            .map(|s| InputRow {
                name: s.name.clone(),
                format: s.format.name().to_string(),
                lines: s.lines,
                records: s.records,
            })
            .collect();
        let page = page.page(title, baseline.model(), rows, Vec::new());
        write_report(path, &page, output.html.open, quiet)?;
    }
    if !quiet {
        print_summary(&summary, &stats, started);
        warn_truncated(&stats);
    }
    Ok(if summary.anomalies > 0 || summary.violations > 0 {
        Outcome::Anomalies
    } else {
        Outcome::Clean
    })
}

/// At most about `most` of `points`, evenly spread, the last one always kept.
fn thin<T: Copy>(points: Vec<T>, most: usize) -> Vec<T> {
    if points.len() <= most {
        return points;
    }
    let step = points.len().div_ceil(most);
    let mut kept: Vec<T> = points.iter().copied().step_by(step).collect();
    if (points.len() - 1) % step != 0 {
        kept.extend(points.last().copied());
    }
    kept
}

/// Render `page` and write it to `path` atomically; then open it if asked.
fn write_report(path: &Path, page: &Page, open: bool, quiet: bool) -> Result<()> {
    let progress = Progress::new(!quiet, "writing the report", None);
    let html = html::render(page)?;
    write_atomically(path, html.as_bytes(), "report")?;
    progress.finish();
    if !quiet {
        eprintln!("report written to {}", shown(path));
    }
    if open {
        // A missing or failing opener is not a failed run: the report is written.
        match std::process::Command::new("xdg-open")
            .arg(path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => {}
            Err(e) => eprintln!("honk: could not open {} with xdg-open: {e}", shown(path)),
        }
    }
    Ok(())
}

/// When standard input is one of the inputs and a terminal, honk would seem
/// to hang (a spinner, nothing else): say what it is waiting for.
fn hint_at_terminal_stdin(inputs: &[Input]) {
    if inputs.contains(&Input::Stdin) && io::stdin().is_terminal() {
        eprintln!("honk: reading standard input (end it with Ctrl-D); give a file or pipe a log");
    }
}

/// Refuses (exit 2) to write `output` over one of the files read: the
/// `paths` given and the files and archives of `inputs`.
fn refuse_overwriting(output: Option<&Path>, what: &str, paths: &[&Path], inputs: &[Input]) -> Result<()> {
    let Some(output) = output else { return Ok(()) };
    let read_from = paths
        .iter()
        .copied()
        .chain(inputs.iter().filter_map(|input| match input {
            Input::Stdin => None,
            Input::File(path) => Some(path.as_path()),
            Input::ZipEntry { archive, .. } => Some(archive.as_path()),
        }));
    for path in read_from {
        if !read::is_stdin(path) && honk::write::same_file(output, path) {
            bail!(
                "will not write the {what} to {}: it is {}, which honk reads",
                shown(output),
                shown(path)
            );
        }
    }
    Ok(())
}

/// Write `bytes` to `path` atomically ([`honk::write::atomically`]); `what` names it in errors.
fn write_atomically(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    honk::write::atomically(path, bytes)
        .map_err(|e| anyhow::Error::new(e.source))
        .with_context(|| format!("cannot write the {what} {}", path.display()))
}

fn use_color(choice: ColorArg) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

fn print_summary(summary: &Summary, stats: &[InputStats], started: Instant) {
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "honk: {} {} in {} {} above {} in {} records ({} unique) from {}; baseline {} records ({} unique); k {}; {:.2} s",
        thousands(summary.incidents),
        if summary.incidents == 1 { "incident" } else { "incidents" },
        thousands(summary.anomalies),
        if summary.anomalies == 1 { "anomaly" } else { "anomalies" },
        summary.threshold,
        thousands(summary.records),
        thousands(summary.unique),
        describe_inputs(stats),
        thousands(summary.baseline_records),
        thousands(summary.baseline_unique),
        summary.k,
        started.elapsed().as_secs_f64()
    );
    if summary.violations > 0 {
        let names: std::collections::BTreeSet<&str> = summary
            .per_input
            .iter()
            .flat_map(|i| i.violations.iter().map(|v| v.syscall.as_str()))
            .collect();
        let names: Vec<String> = names.into_iter().map(|n| escape(n).into_owned()).collect();
        let _ = writeln!(
            err,
            "honk: {} {} to system calls the baseline never made: {}",
            thousands(summary.violations),
            if summary.violations == 1 { "call" } else { "calls" },
            names.join(", ")
        );
    }
    // The whole-input view: which traces, and which threads in them, stand out most.
    let several = summary.per_input.len() > 1;
    for input in summary.per_input.iter().filter(|i| i.anomalies > 0) {
        let threads: Vec<String> = input
            .threads
            .iter()
            .map(|t| format!("{} ({} of {})", t.thread, t.anomalies, t.records))
            .collect();
        if !several && threads.is_empty() {
            continue;
        }
        let _ = write!(
            err,
            "honk:   {}: {} of {} records unusual, highest score {:.2}",
            escape(&input.source),
            thousands(input.anomalies),
            thousands(input.records),
            input.max_score
        );
        if !threads.is_empty() {
            let _ = write!(err, "; most in threads {}", threads.join(", "));
        }
        let _ = writeln!(err);
    }
}

/// "3 inputs (strace)" or "<stdin> (text)".
fn describe_inputs(stats: &[InputStats]) -> String {
    let mut formats: Vec<&str> = stats.iter().map(|s| s.format.name()).collect();
    formats.sort_unstable();
    formats.dedup();
    let what = match stats {
        [one] => escape(&one.name).into_owned(),
        _ => format!("{} inputs", stats.len()),
    };
    format!("{what} ({})", formats.join(", "))
}

fn warn_truncated(stats: &[InputStats]) {
    let cut: u64 = stats.iter().map(|s| s.truncated).sum();
    if cut > 0 {
        eprintln!(
            "honk: warning: {} lines longer than {} bytes ({} for lines of numbers) were cut to that length",
            thousands(cut),
            read::MAX_LINE_BYTES,
            read::MAX_LINE_BYTES * read::NUMBERS_LINE_FACTOR
        );
    }
}
