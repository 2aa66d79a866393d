//! End to end on real programs: the scenario suite in `scenarios/`.
//!
//! Each scenario is a real program's workload (git, a Python program, tar,
//! cargo, an HTTP server and clients on loopback, the sqlite3 shell, make and
//! gcc, a shell pipeline) traced with strace by `scenarios/trace.sh`, every run
//! where a real run would be: its own temp work directory and HOME, inputs with
//! names, counts and sizes of their own. Three normal runs make the baseline,
//! two more are held out, and one run adds injected actions of several kinds
//! (listed with a pattern in the scenario's `expect` file). honk must flag every
//! injected action and, on average over all held-out normal runs, raise at most
//! a few false alarms.
//!
//! Needs strace (and the scenarios' programs, listed in their `requires`
//! files): without them the test says why and skips, unless `HONK_REQUIRE_ALL`
//! or `CI` is set (tests/common/mod.rs), where a skip is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::skip;

use assert_cmd::cargo::CommandCargoExt;
use regex::Regex;
use serde_json::Value;

/// False-alarm records allowed per held-out normal run, on average over all
/// scenarios' normal runs.
const MAX_FALSE_ALARM_RECORDS_PER_RUN: f64 = 5.0;

/// False-alarm incidents allowed per held-out normal run, on average over all
/// scenarios' normal runs.
const MAX_FALSE_ALARM_INCIDENTS_PER_RUN: f64 = 1.0;

/// Normal runs traced for each scenario's baseline.
const BASELINE_RUNS: usize = 3;

/// Normal runs traced for each scenario and held out, to count false alarms.
const NORMAL_RUNS: usize = 2;

/// Exit status of trace.sh when a program it needs is missing.
const TRACE_MISSING_PROGRAM: i32 = 3;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn strace_works() -> Result<(), String> {
    match Command::new("strace").args(["-o", "/dev/null", "true"]).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "strace cannot trace here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("strace is not installed ({e}); apt-get install strace")),
    }
}

/// The injected actions of a scenario: (what, pattern a flagged record must match).
fn expectations(scenario: &Path) -> Vec<(String, Regex)> {
    let text = std::fs::read_to_string(scenario.join("expect")).expect("scenario has an expect file");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (what, pattern) = l.split_once('\t').expect("expect lines are: what<TAB>pattern");
            (what.to_owned(), Regex::new(pattern).expect("valid pattern"))
        })
        .collect()
}

/// `honk diff --json` of the target against the baselines: its JSON rows.
fn diff_json(baselines: &[PathBuf], target: &Path) -> Vec<Value> {
    let out = Command::cargo_bin("honk")
        .expect("honk binary")
        .arg("diff")
        .arg("--json")
        .arg("-q")
        .args(baselines)
        .arg(target)
        .output()
        .expect("run honk");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "honk diff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// A scored record that is not a policy violation, nor a row of another type
/// (an incident): one anomalous record.
fn is_record(row: &Value) -> bool {
    row.get("score").is_some()
        && row.get("policy").is_none()
        && row.get("type").is_none_or(|t| t.as_str() == Some("anomaly"))
}

fn is_incident(row: &Value) -> bool {
    row.get("type").and_then(Value::as_str) == Some("incident")
}

/// What one held-out normal run raised.
struct NormalRun {
    records: Vec<Value>,
    incidents: usize,
    policy: usize,
    /// Whether honk wrote any row with a "type" (an honk that groups records
    /// into incidents).
    typed: bool,
}

#[test]
fn every_injected_action_is_flagged_and_false_alarms_stay_few() {
    if let Err(why) = strace_works() {
        skip(&format!("the scenario suite: {why}"));
        return;
    }
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect").is_file())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 8, "the suite has its eight scenarios");

    let mut failures = Vec::new();
    let mut normal_runs: Vec<(String, NormalRun)> = Vec::new();
    for scenario in &scenarios {
        let name = scenario.file_name().and_then(|n| n.to_str()).expect("scenario name");
        let out = tempfile::tempdir().expect("temp dir");
        let status = Command::new("bash")
            .arg(repo().join("scenarios/trace.sh"))
            .arg(name)
            .arg(out.path())
            .arg(BASELINE_RUNS.to_string())
            .arg(NORMAL_RUNS.to_string())
            .status()
            .expect("run trace.sh");
        if status.code() == Some(TRACE_MISSING_PROGRAM) {
            skip(&format!(
                "scenario {name}: a program it needs is missing (trace.sh said which)"
            ));
            continue;
        }
        assert!(status.success(), "scenarios/trace.sh {name} failed: {status}");

        let baselines: Vec<PathBuf> = (1..=BASELINE_RUNS)
            .map(|i| out.path().join(format!("baseline-{i}.strace")))
            .collect();

        let flagged = diff_json(&baselines, &out.path().join("target.strace"));
        for (what, pattern) in expectations(scenario) {
            let lowest = flagged
                .iter()
                .filter(|r| r.get("policy").is_none())
                .filter_map(|r| Some((r["text"].as_str()?, r["score"].as_f64()?)))
                .filter(|(text, _)| pattern.is_match(text))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match lowest {
                Some((text, score)) => eprintln!("{name}: {what}: flagged, lowest score {score:.2}: {text}"),
                None => failures.push(format!("{name}: `{what}` was not flagged (pattern {pattern})")),
            }
        }

        for i in 1..=NORMAL_RUNS {
            let rows = diff_json(&baselines, &out.path().join(format!("normal-{i}.strace")));
            let run = NormalRun {
                incidents: rows.iter().filter(|r| is_incident(r)).count(),
                policy: rows.iter().filter(|r| r.get("policy").is_some()).count(),
                typed: rows.iter().any(|r| r.get("type").is_some()),
                records: rows.into_iter().filter(is_record).collect(),
            };
            eprintln!(
                "{name}: normal run {i}: {} false-alarm records, {} incidents, {} policy violations",
                run.records.len(),
                run.incidents,
                run.policy
            );
            for r in run.records.iter().take(3) {
                eprintln!(
                    "    e.g. {:.2} {}\n      ~ {}",
                    r["score"].as_f64().unwrap_or(f64::NAN),
                    r["text"].as_str().unwrap_or(""),
                    r["nearest"]["text"].as_str().unwrap_or("(none)")
                );
            }
            normal_runs.push((name.to_owned(), run));
        }
    }
    if normal_runs.is_empty() {
        return;
    }

    // Averages over every held-out normal run of every scenario. A honk that
    // writes no typed rows does not group records into incidents: each record
    // is then an incident of its own.
    let runs = normal_runs.len() as f64;
    let typed = normal_runs.iter().any(|(_, r)| r.typed);
    let records: usize = normal_runs.iter().map(|(_, r)| r.records.len()).sum();
    let incidents: usize = normal_runs
        .iter()
        .map(|(_, r)| if typed { r.incidents } else { r.records.len() })
        .sum();
    let records_per_run = records as f64 / runs;
    let incidents_per_run = incidents as f64 / runs;
    eprintln!(
        "all {} scenarios, {} normal runs: {records_per_run:.1} false-alarm records and {incidents_per_run:.1} \
         false-alarm incidents{} per normal run (at most {MAX_FALSE_ALARM_RECORDS_PER_RUN} and \
         {MAX_FALSE_ALARM_INCIDENTS_PER_RUN})",
        scenarios.len(),
        normal_runs.len(),
        if typed {
            ""
        } else {
            " (no incident rows: counted as records)"
        },
    );
    if records_per_run > MAX_FALSE_ALARM_RECORDS_PER_RUN {
        failures.push(format!(
            "{records_per_run:.1} false-alarm records per normal run on average (at most \
             {MAX_FALSE_ALARM_RECORDS_PER_RUN})"
        ));
    }
    if incidents_per_run > MAX_FALSE_ALARM_INCIDENTS_PER_RUN {
        failures.push(format!(
            "{incidents_per_run:.1} false-alarm incidents per normal run on average (at most \
             {MAX_FALSE_ALARM_INCIDENTS_PER_RUN})"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
