//! honk used only as a library, the way another Rust program would: no
//! binary, no flags, no terminal. Learn, save, load, score, merge, evaluate,
//! all through the public API, with inputs in memory and in files of a
//! temporary directory named unlike the repository's.

use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use honk::commands::{self, ModelChoices, Report, Ui};
use honk::model::{Model, ModelError};
use honk::pipeline::{self, Baseline, ScoreOptions};
use honk::progress::{Meter, Progress};
use honk::read::Input;
use honk::report::{Anomaly, Collect, Sink, Summary};

const NORMAL: &str = "\
GET /index.html 200 12ms user=alice
GET /about.html 200 9ms user=bob
POST /login 302 40ms user=alice
GET /index.html 200 15ms user=carol
";

const TARGET: &str = "\
GET /index.html 200 11ms user=dave
DROP TABLE users; -- 500
GET /about.html 200 8ms user=erin
";

#[test]
fn learn_and_score_in_memory() {
    let (model, stats) = pipeline::learn(
        &[Input::text("normal.log", NORMAL)],
        ModelChoices::default().settings(),
        None,
        &Progress::hidden(),
    )
    .unwrap();
    assert_eq!(stats[0].records, 4);
    assert_eq!(stats[0].format.name(), "text");
    let baseline = Baseline::new(model);
    let mut found = Collect::default();
    let (summary, _) = pipeline::score(
        &baseline,
        &[Input::text("target.log", TARGET)],
        &ScoreOptions::default(),
        &mut found,
        &Progress::hidden(),
    )
    .unwrap();
    assert_eq!(summary.records, 3);
    assert_eq!(summary.anomalies, 1, "{:?}", found.anomalies);
    let anomaly = &found.anomalies[0];
    assert_eq!((anomaly.source.as_ref(), anomaly.line), ("target.log", 2));
    assert!(anomaly.text.contains("DROP TABLE"));
}

/// A meter that adds up the bytes it is told about, and remembers its labels.
#[derive(Default)]
struct Tally {
    bytes: AtomicU64,
    finished: AtomicU64,
}

impl Meter for Tally {
    fn advance(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// A caller's UI: counts progress and keeps notes.
#[derive(Default)]
struct Recorder {
    meter: Arc<Tally>,
    notes: Mutex<Vec<String>>,
}

impl Ui for Recorder {
    fn progress(&self, _what: &str, _total: Option<u64>) -> Progress {
        Progress::to(self.meter.clone())
    }
    fn note(&self, message: &str) {
        self.notes.lock().unwrap().push(message.to_owned());
    }
}

/// A caller's own sink: only the lines and scores.
#[derive(Default)]
struct Lines(Vec<(u64, f64)>, Option<u64>);

impl Sink for Lines {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        self.0.push((anomaly.line, anomaly.score));
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.1 = Some(summary.records);
        Ok(())
    }
}

#[test]
fn the_commands_learn_into_a_file_and_score_from_it() {
    let dir = tempfile::Builder::new().prefix("honk library ✓ ").tempdir().unwrap();
    let logs = dir.path().join("good runs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.log"), NORMAL).unwrap();
    let other_run = NORMAL.replace("alice", "zoe");
    std::fs::write(logs.join("b.log"), &other_run).unwrap();
    let target = dir.path().join("today.log");
    std::fs::write(&target, TARGET).unwrap();
    let model = dir.path().join("base.honk");

    let ui = Recorder::default();
    let learned = commands::learn(
        &commands::Learn {
            output: model.clone(),
            inputs: vec![logs.clone()],
            ..Default::default()
        },
        &ui,
    )
    .unwrap();
    assert_eq!(learned.records, 8);
    assert_eq!(learned.model_sources, 2);
    let read = (NORMAL.len() + other_run.len()) as u64;
    assert_eq!(ui.meter.bytes.load(Ordering::Relaxed), read);
    assert!(ui.meter.finished.load(Ordering::Relaxed) >= 1);
    assert_eq!(Model::load(&model).unwrap().sources.len(), 2);

    let report = dir.path().join("report.html");
    let mut lines = Lines::default();
    let scored = commands::score(
        &commands::Score {
            model: model.clone(),
            targets: vec![target.clone()],
            format: None,
            report: Report {
                html: Some(report.clone()),
                ..Report::default()
            },
        },
        &mut lines,
        &commands::Quiet,
    )
    .unwrap();
    assert!(scored.found_something());
    assert_eq!(lines.0.iter().map(|&(line, _)| line).collect::<Vec<_>>(), [2]);
    assert_eq!(lines.1, Some(3));
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains("DROP TABLE"));

    // Adding with other settings is refused by the model's own rules, and the
    // model is left as it was.
    let before = std::fs::read(&model).unwrap();
    let err = commands::learn(
        &commands::Learn {
            output: model.clone(),
            inputs: vec![target.clone()],
            model: ModelChoices {
                features: Some(1024),
                ..Default::default()
            },
            ..Default::default()
        },
        &commands::Quiet,
    )
    .unwrap_err();
    assert!(
        matches!(err, commands::Error::Model(ModelError::Differs { .. })),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&model).unwrap(), before);
}

#[test]
fn evaluation_is_a_value_that_renders_as_text_json_and_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let settings = honk::eval::Evaluate {
        baseline: vec![file("b1", "open read close\n"), file("b2", "open read read close\n")],
        normal: vec![file("n1", "open read close\n"), file("n2", "open close\n")],
        attack: vec![file("a1", "open execve socket connect\n"), file("a2", "ptrace mmap\n")],
        items: honk::eval::Items::Lines,
        ..Default::default()
    };
    let evaluation = honk::eval::run(&settings, &commands::Quiet).unwrap();
    assert_eq!((evaluation.normal, evaluation.attack), (2, 2));
    assert_eq!(evaluation.roc_auc, 1.0);
    let json = serde_json::to_value(&evaluation).unwrap();
    assert_eq!(json["roc_auc"], 1.0);
    assert_eq!(json["method"]["compare"], "bag");
    let mut text = Vec::new();
    evaluation.write_text(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("ROC AUC 1.0000"), "{text}");
    let page = evaluation.page().unwrap();
    assert_eq!(page.eval.as_ref().map(|e| e.auc), Some(1.0));
}

/// Another program that depends on honk with `default-features = false` gets
/// no command-line or terminal crates: clap, indicatif and anyhow are the
/// binary's, behind the `cli` feature; nor an async runtime or HTTP stack
/// (`honk serve`'s tokio and axum, behind the `serve` feature); nor the
/// brokers' clients of `honk consume` (async-nats, krafka for Kafka).
#[test]
fn the_library_alone_depends_on_no_command_line_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let tree = |features: &[&str]| {
        let out = Command::new(&cargo)
            .args([
                "tree",
                "--offline",
                "-e",
                "normal",
                "--prefix",
                "none",
                "--manifest-path",
            ])
            .arg(&manifest)
            .args(features)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let crates = |tree: &str| -> Vec<String> {
        tree.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    };
    let library = crates(&tree(&["--no-default-features"]));
    let binary = crates(&tree(&[]));
    for front_end in [
        "clap",
        "indicatif",
        "anyhow",
        "clap_mangen",
        "clap_complete",
        "tokio",
        "axum",
        "hyper",
        "async-nats",
        "krafka",
    ] {
        assert!(!library.iter().any(|c| c == front_end), "{front_end} in {library:?}");
        // The check can fail: the binary's tree has them.
        assert!(binary.iter().any(|c| c == front_end), "{front_end} not in {binary:?}");
    }
    assert!(library.iter().any(|c| c == "serde"));
}
