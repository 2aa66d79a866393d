//! End to end on real programs: the scenario suite in `scenarios/`.
//!
//! Each scenario is a workload traced with strace several times
//! (`scenarios/trace.sh`): normal runs make the baseline, one more normal run is
//! held out, and one run adds injected malicious actions (read a secret, spawn a
//! shell, connect to 127.0.0.1, append to authorized_keys). honk must flag every
//! injected action and raise at most a few false alarms on the held-out run.
//! Needs strace: without it the test says so and skips (CI installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use regex::Regex;
use serde_json::Value;

/// Anomalies allowed on a held-out normal run of a scenario.
const MAX_FALSE_ALARMS: usize = 5;

const BASELINE_RUNS: &str = "3";

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
    let status = out.status.code();
    assert!(
        matches!(status, Some(0 | 1)),
        "honk diff failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn every_injected_action_is_flagged_and_false_alarms_stay_few() {
    if let Err(why) = strace_works() {
        common::skip(&format!("the scenario suite: {why}"));
        return;
    }
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect").is_file())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 3, "the suite has its scenarios");

    let mut failures = Vec::new();
    for scenario in &scenarios {
        let name = scenario.file_name().and_then(|n| n.to_str()).expect("scenario name");
        let out = tempfile::tempdir().expect("temp dir");
        let status = Command::new("sh")
            .arg(repo().join("scenarios/trace.sh"))
            .arg(name)
            .arg(out.path())
            .arg(BASELINE_RUNS)
            .status()
            .expect("run trace.sh");
        assert!(status.success(), "scenarios/trace.sh {name} failed: {status}");

        let baselines: Vec<PathBuf> = (1..=3)
            .map(|i| out.path().join(format!("baseline-{i}.strace")))
            .collect();
        let flagged = diff_json(&baselines, &out.path().join("target.strace"));
        for (what, pattern) in expectations(scenario) {
            let hit = flagged
                .iter()
                .filter_map(|a| a["text"].as_str().map(|t| (t, a["score"].as_f64())))
                .find(|(text, _)| pattern.is_match(text));
            match hit {
                Some((text, score)) => eprintln!("{name}: {what}: flagged at {score:?}: {text}"),
                None => failures.push(format!("{name}: `{what}` was not flagged (pattern {pattern})")),
            }
        }

        let (policy, false_alarms): (Vec<Value>, Vec<Value>) = diff_json(&baselines, &out.path().join("normal.strace"))
            .into_iter()
            .partition(|v| v.get("policy").is_some());
        eprintln!(
            "{name}: {} false alarms and {} system calls outside the baseline on a held-out normal run",
            false_alarms.len(),
            policy.len()
        );
        if false_alarms.len() > MAX_FALSE_ALARMS {
            let shown: Vec<_> = false_alarms.iter().take(5).map(|a| a["text"].to_string()).collect();
            failures.push(format!(
                "{name}: {} false alarms on a normal run (at most {MAX_FALSE_ALARMS}), e.g. {shown:?}",
                false_alarms.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
