//! The command-line contract of `honk`, tested through the real binary.
//!
//! Other tools and scripts call these forms, so what is checked here is what
//! they rely on: the argument shapes, the exit status (0 nothing unusual,
//! 1 anomalies, 2 trouble), the human block format, the JSON Lines shape, the
//! model file guarantees (atomic writes, clear errors on bad files) and that
//! honk never panics whatever it is given.
//!
//! Fixtures live in `tests/fixtures/cli/`:
//! - `baseline.log`: five lines of a normal sshd/cron/kernel log;
//! - `target.log`: the same kinds of lines, plus one new kind (line 3);
//! - `mixed.log`: blank lines, a mildly new line (4) and a line sharing no
//!   word with the baseline (7), for context, `--top` and null `nearest`;
//! - `base.strace` / `unfinished.strace`: a tiny `strace -f` trace and one with
//!   an anomalous `<unfinished ...>` / `<... resumed>` pair starting on line 2.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_text(name: &str) -> String {
    fs::read_to_string(fixtures().join(name)).unwrap()
}

/// `honk`, run in `dir` (so that relative paths, and the source names honk
/// prints for them, are predictable), with no colour-related environment.
fn honk_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("honk").unwrap();
    cmd.current_dir(dir).env_remove("NO_COLOR").env_remove("TERM");
    cmd
}

/// `honk` run in the fixture directory.
fn honk() -> Command {
    honk_in(&fixtures())
}

/// What one run of honk did.
#[derive(Debug)]
struct Run {
    code: i32,
    /// Standard output without the incident headers of human output (and the
    /// blank lines and "... and N more" lines around them): the record blocks.
    stdout: String,
    /// Standard output as it was.
    full_stdout: String,
    raw_stdout: Vec<u8>,
    stderr: String,
}

/// Whether a line of human output belongs to the incident layer: a header
/// (`SOURCE:LINE[-LAST]  SCORE  incident N: ...`), a blank line between
/// incidents, or the count of records not shown.
fn incident_layer(line: &str) -> bool {
    if line.is_empty() || line.starts_with("  ... and ") {
        return true;
    }
    let mut parts = line.splitn(3, "  ");
    let (_, score, rest) = (parts.next(), parts.next(), parts.next());
    score.is_some_and(|s| s.parse::<f64>().is_ok()) && rest.is_some_and(|r| r.starts_with("incident "))
}

/// Runs the command and checks what every run must satisfy: it exited (no
/// signal), with 0, 1 or 2, and did not panic.
fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("honk was killed by a signal; stderr: {stderr}"));
    assert!(!stderr.contains("panicked"), "honk panicked: {stderr}");
    assert!(
        (0..=2).contains(&code),
        "exit status {code} is not 0, 1 or 2; stderr: {stderr}"
    );
    let full_stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stdout = full_stdout
        .lines()
        .filter(|l| !incident_layer(l))
        .map(|l| format!("{l}\n"))
        .collect();
    Run {
        code,
        stdout,
        full_stdout,
        raw_stdout: out.stdout,
        stderr,
    }
}

fn run_args(args: &[&str]) -> Run {
    run(honk().args(args))
}

/// Parses JSON Lines output: every line must be a JSON object.
/// Every JSON line of the output (anomalies, and policy violations, which have a `policy` key).
fn all_json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(v.is_object(), "not an object: {line}");
            v
        })
        .collect()
}

/// Checks JSON Lines output that found nothing: the summary row alone, with
/// no anomaly, incident or policy violation.
fn assert_only_a_clean_summary(stdout: &str) {
    let rows = all_json_lines(stdout);
    assert_eq!(rows.len(), 1, "one row: {stdout}");
    assert_eq!(rows[0]["type"], "summary", "{stdout}");
    for count in ["anomalies", "incidents", "violations"] {
        assert_eq!(rows[0][count], 0, "{count}: {stdout}");
    }
}

/// The JSON lines that are anomalies (or, for `eval`, its one object).
fn json_lines(stdout: &str) -> Vec<Value> {
    all_json_lines(stdout)
        .into_iter()
        .filter(|v| v["type"] == "anomaly" || v["type"] == "eval")
        .collect()
}

/// Checks one JSON anomaly against the contract: exactly the required keys
/// (plus `before`/`after` iff `context`), with the right types.
fn assert_json_shape(v: &Value, context: bool) {
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec!["incident", "line", "nearest", "new", "score", "source", "text", "type"];
    if context {
        expected.extend(["after", "before"]);
    }
    expected.sort_unstable();
    assert_eq!(keys, expected, "keys of {v}");

    assert!(v["source"].is_string(), "{v}");
    assert!(
        v["line"].is_u64() && v["line"].as_u64().unwrap() >= 1,
        "line is a 1-based integer: {v}"
    );
    assert!(v["text"].is_string(), "{v}");
    let score = v["score"].as_f64().expect("score is a number");
    assert!(score > 0.0 && score <= 1.0, "score in (0, 1]: {v}");
    match &v["nearest"] {
        Value::Null => {}
        Value::Object(n) => {
            let mut nk: Vec<&str> = n.keys().map(String::as_str).collect();
            nk.sort_unstable();
            assert_eq!(nk, ["line", "source", "text"], "nearest keys: {v}");
            assert!(n["source"].is_string() && n["text"].is_string(), "{v}");
            assert!(n["line"].is_u64() && n["line"].as_u64().unwrap() >= 1, "{v}");
        }
        other => panic!("nearest must be an object or null, not {other}"),
    }
    if context {
        for side in ["before", "after"] {
            for c in v[side].as_array().unwrap_or_else(|| panic!("{side} is an array: {v}")) {
                let c = c.as_object().unwrap();
                let mut ck: Vec<&str> = c.keys().map(String::as_str).collect();
                ck.sort_unstable();
                assert_eq!(ck, ["line", "text"], "{side} entry keys: {v}");
                assert!(c["line"].is_u64() && c["text"].is_string(), "{v}");
            }
        }
    }
}

/// Line numbers of a `before`/`after` array.
fn context_lines(v: &Value, side: &str) -> Vec<u64> {
    v[side]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["line"].as_u64().unwrap())
        .collect()
}

/// The 1-based line number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line contains {needle:?}")) as u64
        + 1
}

/// A trouble exit: status 2, nothing on stdout, and honk's own error prefix
/// (or clap's usage error) on stderr.
fn assert_trouble(r: &Run) {
    assert_eq!(
        r.code, 2,
        "expected trouble (2); stdout: {}; stderr: {}",
        r.stdout, r.stderr
    );
    assert!(r.stdout.is_empty(), "no output on trouble: {}", r.stdout);
    assert!(
        r.stderr.starts_with("honk: error:") || r.stderr.starts_with("error:"),
        "stderr should start with `honk: error:` or clap's `error:`: {}",
        r.stderr
    );
}

/// A temporary directory holding copies of the named fixtures.
fn scratch_with(names: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// Files in `dir` whose name looks like one of honk's temporary model files.
fn leftover_temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".honk-model-") || n.ends_with(".tmp"))
        .collect()
}

/// Learns `inputs` into `model` (run in `dir`), expecting success.
fn learn(dir: &Path, model: &str, inputs: &[&str]) {
    let r = run(honk_in(dir).args(["learn", "-q", "-o", model]).args(inputs));
    assert_eq!(r.code, 0, "learn failed: {}", r.stderr);
    assert!(r.stdout.is_empty(), "learn prints nothing on stdout: {}", r.stdout);
}

const FAILED_LINE: &str =
    "2024-05-02T09:00:03Z sshd[2201]: Failed password for invalid user admin from 203.0.113.5 port 4242 ssh2";
const ACCEPTED_LINE: &str =
    "2024-05-01T10:00:00Z sshd[1201]: Accepted publickey for alice from 10.0.0.7 port 51234 ssh2";
const USB_BASELINE_LINE: &str =
    "2024-05-01T10:01:00Z kernel: usb 1-1: new high-speed USB device number 4 using xhci_hcd";

// ---------------------------------------------------------------------------
// 1. diff: the basic contract
// ---------------------------------------------------------------------------

#[test]
fn diff_of_a_log_against_itself_finds_nothing() {
    let r = run_args(&["diff", "baseline.log", "baseline.log"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);

    let r = run_args(&["diff", "--json", "baseline.log", "baseline.log"]);
    assert_eq!(r.code, 0);
    assert_only_a_clean_summary(&r.stdout);
}

#[test]
fn diff_reports_exactly_the_one_new_kind_of_line_in_human_output() {
    let r = run_args(&["diff", "--color", "never", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one block of two lines: {}", r.stdout);

    // `source:line  score  text`
    let (head, text) = lines[0]
        .split_once("  ")
        .and_then(|(h, rest)| {
            let (score, text) = rest.split_once("  ")?;
            Some(((h, score), text))
        })
        .unwrap_or_else(|| panic!("block head: {}", lines[0]));
    assert_eq!(head.0, "target.log:3");
    let score: f64 = head.1.parse().unwrap();
    assert!(score > 0.3 && score <= 1.0, "{score}");
    assert_eq!(text, FAILED_LINE);
    // `  ~ nearest_source:line  nearest_text`
    assert_eq!(lines[1], format!("  ~ baseline.log:1  {ACCEPTED_LINE}"));
}

#[test]
fn diff_reports_exactly_the_one_new_kind_of_line_in_json() {
    let r = run_args(&["diff", "--json", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    let a = &found[0];
    assert_json_shape(a, false);
    assert_eq!(a["source"], "target.log");
    assert_eq!(a["line"], 3);
    assert_eq!(a["text"], FAILED_LINE);
    let score = a["score"].as_f64().unwrap();
    assert!(score > 0.3 && score <= 1.0, "{score}");
    // The most similar baseline line: the other sshd login line (shares sshd,
    // for, from, port, ssh2), not the session or cron lines.
    assert_eq!(a["nearest"]["source"], "baseline.log");
    assert_eq!(a["nearest"]["line"], 1);
    assert_eq!(a["nearest"]["text"], ACCEPTED_LINE);
}

#[test]
fn human_and_json_agree_on_what_is_anomalous() {
    let human = run_args(&["diff", "--color", "never", "baseline.log", "mixed.log"]);
    let json = run_args(&["diff", "--json", "baseline.log", "mixed.log"]);
    assert_eq!(human.code, 1);
    assert_eq!(json.code, 1);
    let heads: Vec<String> = human
        .stdout
        .lines()
        .filter(|l| !l.starts_with("  ~ "))
        .map(|l| l.split("  ").next().unwrap().to_owned())
        .collect();
    let from_json: Vec<String> = json_lines(&json.stdout)
        .iter()
        .map(|v| format!("{}:{}", v["source"].as_str().unwrap(), v["line"]))
        .collect();
    assert_eq!(heads, from_json);
    assert_eq!(from_json, ["mixed.log:4", "mixed.log:7"]);
}

// ---------------------------------------------------------------------------
// 2. JSON shape, context, --top, --threshold
// ---------------------------------------------------------------------------

#[test]
fn json_lines_have_exactly_the_contract_keys_and_line_numbers_of_the_original_file() {
    let r = run_args(&["diff", "--json", "baseline.log", "mixed.log"]);
    assert_eq!(r.code, 1);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 2, "{}", r.stdout);
    for v in &found {
        assert_json_shape(v, false);
        assert_eq!(v["source"], "mixed.log");
    }
    let mixed = fixture_text("mixed.log");
    let original: Vec<&str> = mixed.lines().collect();
    for v in &found {
        // `line` is 1-based in the original file, blank lines included.
        let line = v["line"].as_u64().unwrap() as usize;
        assert_eq!(v["text"].as_str().unwrap(), original[line - 1]);
    }
    assert_eq!(found[0]["line"], 4);
    assert_eq!(found[0]["nearest"]["line"], 4);
    assert_eq!(found[0]["nearest"]["text"], USB_BASELINE_LINE);
    assert_eq!(found[1]["line"], 7);
}

#[test]
fn json_nearest_is_null_when_no_baseline_line_shares_a_word() {
    let r = run_args(&["diff", "--json", "baseline.log", "mixed.log"]);
    let found = json_lines(&r.stdout);
    let seg = found.iter().find(|v| v["line"] == 7).expect("line 7 reported");
    assert_eq!(seg["text"], "2024-05-03T08:00:04Z Segmentation fault (core dumped)");
    assert!(seg["nearest"].is_null(), "{seg}");
    assert_eq!(seg["score"].as_f64().unwrap(), 1.0);

    // And the human form says so.
    let r = run_args(&["diff", "--color", "never", "baseline.log", "mixed.log"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("mixed.log:7  ")).unwrap();
    assert_eq!(
        lines[at],
        "mixed.log:7  1.00  2024-05-03T08:00:04Z Segmentation fault (core dumped)"
    );
    assert_eq!(lines[at + 1], "  ~ (no baseline line shares a word with it)");
}

#[test]
fn json_before_and_after_appear_only_with_context_flags_and_skip_blank_lines() {
    // Without context flags: no before/after keys at all.
    let r = run_args(&["diff", "--json", "baseline.log", "mixed.log"]);
    for v in json_lines(&r.stdout) {
        assert!(v.get("before").is_none() && v.get("after").is_none(), "{v}");
    }

    // -C 1: one record each side; blank lines are not records.
    let r = run_args(&["diff", "--json", "-C", "1", "baseline.log", "mixed.log"]);
    assert_eq!(r.code, 1);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 2);
    for v in &found {
        assert_json_shape(v, true);
    }
    assert_eq!(context_lines(&found[0], "before"), [3]);
    assert_eq!(context_lines(&found[0], "after"), [5]);
    assert_eq!(context_lines(&found[1], "before"), [5]);
    assert_eq!(context_lines(&found[1], "after"), [8]);
    let mixed = fixture_text("mixed.log");
    let original: Vec<&str> = mixed.lines().collect();
    for v in &found {
        for side in ["before", "after"] {
            for c in v[side].as_array().unwrap() {
                let line = c["line"].as_u64().unwrap() as usize;
                assert_eq!(c["text"].as_str().unwrap(), original[line - 1]);
            }
        }
    }

    // -B 2 only: both keys present, after empty; before stops at the start.
    let r = run_args(&["diff", "--json", "-B", "2", "baseline.log", "mixed.log"]);
    let found = json_lines(&r.stdout);
    for v in &found {
        assert_json_shape(v, true);
        assert!(v["after"].as_array().unwrap().is_empty(), "{v}");
    }
    assert_eq!(context_lines(&found[0], "before"), [1, 3]);
    assert_eq!(context_lines(&found[1], "before"), [4, 5]);

    // -A 5: after runs to the end of the input, and stops at the next anomaly.
    let r = run_args(&["diff", "--json", "-A", "5", "baseline.log", "mixed.log"]);
    let found = json_lines(&r.stdout);
    assert_eq!(context_lines(&found[0], "after"), [5]);
    assert_eq!(context_lines(&found[1], "after"), [8]);
    assert!(found[0]["before"].as_array().unwrap().is_empty());

    // -C 3 -A 0: -A overrides -C's after part. Each record is given once:
    // line 3 went with line 4, so line 7's before starts at the block it
    // touches (line 4, the previous anomaly) and holds what follows it.
    let r = run_args(&["diff", "--json", "-C", "3", "-A", "0", "baseline.log", "mixed.log"]);
    let found = json_lines(&r.stdout);
    assert_eq!(context_lines(&found[0], "before"), [1, 3]);
    assert_eq!(context_lines(&found[1], "before"), [4, 5]);
    assert!(found[1]["after"].as_array().unwrap().is_empty());
}

#[test]
fn human_context_is_grep_like() {
    let r = run_args(&["diff", "--color", "never", "-C", "1", "baseline.log", "mixed.log"]);
    assert_eq!(r.code, 1);
    let mixed = fixture_text("mixed.log");
    let original: Vec<&str> = mixed.lines().collect();
    let lines: Vec<&str> = r.full_stdout.lines().collect();
    // Lines 4 and 7 share nothing new: two incidents, each a header and its block.
    assert!(lines[0].starts_with("mixed.log:4  0."), "{}", lines[0]);
    assert!(lines[0].contains("  incident 1: 1 record; new: "), "{}", lines[0]);
    assert_eq!(lines[1], format!("mixed.log-3-        {}", original[2]));
    assert!(lines[2].starts_with("mixed.log:4  0."), "{}", lines[2]);
    assert_eq!(lines[3], format!("  ~ baseline.log:4  {USB_BASELINE_LINE}"));
    assert_eq!(lines[4], format!("mixed.log-5-        {}", original[4]));
    assert_eq!(lines[5], "");
    assert!(
        lines[6].starts_with("mixed.log:7  1.00  incident 2: 1 record; new: "),
        "{}",
        lines[6]
    );
    // Line 5 is also line 7's before-context: a new incident's block is whole.
    assert_eq!(lines[7], format!("mixed.log-5-        {}", original[4]));
    assert!(lines[8].starts_with("mixed.log:7  1.00  "), "{}", lines[8]);
    assert_eq!(lines[9], "  ~ (no baseline line shares a word with it)");
    assert_eq!(lines[10], format!("mixed.log-8-        {}", original[7]));
    assert_eq!(lines.len(), 11, "{}", r.full_stdout);
}

#[test]
fn an_incident_is_told_once_with_its_highest_records() {
    // Twelve records that are new only because of one new name: one incident.
    let dir = TempDir::new().unwrap();
    let base: String = (0..20).map(|i| format!("worker {i} handled request ok\n")).collect();
    let target: String = (0..12)
        .map(|i| {
            format!(
                "worker {i} handled request quarantined malware{}\n",
                if i == 7 { " payload" } else { "" }
            )
        })
        .collect();
    fs::write(dir.path().join("base.log"), base).unwrap();
    fs::write(dir.path().join("target.log"), target).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "--records", "2", "base.log", "target.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.full_stdout.lines().collect();
    assert!(lines[0].starts_with("target.log:1-12  "), "{}", r.full_stdout);
    assert!(
        lines[0].contains("  incident 1: 12 records; new: quarantined malware payload"),
        "{}",
        lines[0]
    );
    // The two records that tell most, in line order: the first (the first to
    // bring its new words) and line 8, the only one with a third.
    assert!(lines[1].starts_with("target.log:1  "), "{}", r.full_stdout);
    assert!(lines[3].starts_with("target.log:8  "), "{}", r.full_stdout);
    assert_eq!(
        lines[5],
        "  ... and 10 more records of incident 1 (--records 0 shows all)"
    );
    assert_eq!(lines.len(), 6, "{}", r.full_stdout);
    assert!(
        r.stderr.contains("honk: 1 incident in 12 anomalies above 0.3"),
        "{}",
        r.stderr
    );

    let all = run(honk_in(dir.path()).args(["diff", "--records", "0", "base.log", "target.log"]));
    assert_eq!(all.stdout.lines().filter(|l| l.starts_with("target.log:")).count(), 12);

    let json = run(honk_in(dir.path()).args(["diff", "--json", "base.log", "target.log"]));
    let rows = all_json_lines(&json.stdout);
    assert_eq!(rows.len(), 14, "an incident row, its twelve anomalies and the summary");
    assert_eq!(rows[13]["type"], "summary");
    assert_eq!(
        (&rows[13]["incidents"], &rows[13]["anomalies"]),
        (&1.into(), &12.into())
    );
    assert_eq!(rows[0]["type"], "incident");
    assert_eq!(rows[0]["id"], 1);
    assert_eq!(rows[0]["records"], 12);
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[0]["last_line"], 12);
    assert_eq!(rows[0]["new"], serde_json::json!(["quarantined", "malware", "payload"]));
    assert!(rows[1..13].iter().all(|r| r["type"] == "anomaly" && r["incident"] == 1));
    assert_eq!(rows[8]["new"], serde_json::json!(["quarantined", "malware", "payload"]));
}

#[test]
fn top_one_gives_the_single_highest_scoring_anomaly() {
    let all = json_lines(&run_args(&["diff", "--json", "baseline.log", "mixed.log"]).stdout);
    assert!(all.len() >= 2);
    let best = all
        .iter()
        .max_by(|a, b| a["score"].as_f64().unwrap().total_cmp(&b["score"].as_f64().unwrap()))
        .unwrap();

    let r = run_args(&["diff", "--json", "--top", "1", "baseline.log", "mixed.log"]);
    assert_eq!(r.code, 1, "anomalies were found, --top only limits what is printed");
    let top = json_lines(&r.stdout);
    assert_eq!(top.len(), 1, "{}", r.stdout);
    assert_eq!(&top[0], best);
    assert_eq!(top[0]["line"], 7);

    // --top N larger than the count prints them all, highest first.
    let top = json_lines(&run_args(&["diff", "--json", "--top", "10", "baseline.log", "mixed.log"]).stdout);
    assert_eq!(top.len(), all.len());
    let scores: Vec<f64> = top.iter().map(|v| v["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn json_without_top_is_in_input_order() {
    let r = run(honk_in(&repo()).args([
        "diff",
        "--json",
        "-q",
        "src/demo/baseline.strace",
        "src/demo/target.strace",
    ]));
    let lines: Vec<u64> = json_lines(&r.stdout)
        .iter()
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert!(lines.len() > 3);
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

#[test]
fn threshold_one_reports_nothing_and_exits_zero() {
    for args in [
        &["diff", "--threshold", "1", "baseline.log", "mixed.log"][..],
        &["diff", "-t", "1", "--json", "baseline.log", "mixed.log"][..],
    ] {
        let r = run_args(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        if args.contains(&"--json") {
            assert_only_a_clean_summary(&r.stdout);
        } else {
            assert!(r.stdout.is_empty(), "{}", r.stdout);
        }
    }
}

#[test]
fn threshold_zero_reports_every_record_not_seen_before() {
    let r = run_args(&["diff", "--json", "--threshold", "0", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1);
    // Every other line of target.log normalizes to a baseline line: score 0.
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["line"], 3);
}

#[test]
fn k_averages_over_more_neighbours() {
    let one = json_lines(&run_args(&["diff", "--json", "-k", "1", "baseline.log", "target.log"]).stdout);
    let three = json_lines(&run_args(&["diff", "--json", "-k", "3", "baseline.log", "target.log"]).stdout);
    let s1 = one.iter().find(|v| v["line"] == 3).unwrap()["score"].as_f64().unwrap();
    let s3 = three.iter().find(|v| v["line"] == 3).unwrap()["score"]
        .as_f64()
        .unwrap();
    assert!(
        s3 >= s1,
        "the mean of the 3 nearest is not nearer than the nearest: {s1} vs {s3}"
    );
    // k larger than the baseline still works.
    let r = run_args(&["diff", "--json", "-k", "1000", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1);
    for v in json_lines(&r.stdout) {
        assert_json_shape(&v, false);
    }
}

// ---------------------------------------------------------------------------
// 3. learn / score
// ---------------------------------------------------------------------------

#[test]
fn learn_then_score_is_the_same_as_diff() {
    let dir = scratch_with(&["baseline.log", "target.log", "mixed.log"]);
    learn(dir.path(), "m.honk", &["baseline.log"]);
    assert!(dir.path().join("m.honk").is_file());
    for target in ["target.log", "mixed.log"] {
        for extra in [&[][..], &["-C", "2"][..]] {
            let scored = run(honk_in(dir.path())
                .args(["score", "--json", "-m", "m.honk", target])
                .args(extra));
            let diffed = run(honk_in(dir.path())
                .args(["diff", "--json", "baseline.log", target])
                .args(extra));
            assert_eq!(scored.code, 1);
            assert_eq!(scored.code, diffed.code);
            assert_eq!(
                scored.stdout, diffed.stdout,
                "score and diff disagree on {target} {extra:?}"
            );
            assert!(!scored.stdout.is_empty());
        }
    }
    // Human output too.
    let scored = run(honk_in(dir.path()).args(["score", "--color", "never", "-m", "m.honk", "mixed.log"]));
    let diffed = run(honk_in(dir.path()).args(["diff", "--color", "never", "baseline.log", "mixed.log"]));
    assert_eq!(scored.stdout, diffed.stdout);
}

#[test]
fn learn_then_score_on_strace_is_the_same_as_diff() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("demo.honk");
    let model = model.to_str().unwrap();
    let r = run(honk_in(&repo()).args(["learn", "-q", "-o", model, "src/demo/baseline.strace"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let scored = run(honk_in(&repo()).args(["score", "--json", "-m", model, "src/demo/target.strace"]));
    let diffed = run(honk_in(&repo()).args(["diff", "--json", "src/demo/baseline.strace", "src/demo/target.strace"]));
    assert_eq!(scored.code, 1);
    assert_eq!(diffed.code, 1);
    assert_eq!(scored.stdout, diffed.stdout);
}

#[test]
fn learning_a_second_input_grows_the_model() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    learn(dir.path(), "m.honk", &["baseline.log"]);

    let v1 = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "target.log"]));
    assert_eq!(v1.code, 1);
    assert_eq!(json_lines(&v1.stdout)[0]["line"], 3);

    // Adding the file that contains the line makes it normal.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "target.log"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 inputs"),
        "the model now holds two inputs: {}",
        r.stderr
    );
    let v2 = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "target.log"]));
    assert_eq!(v2.code, 0, "{}", v2.stdout);
    assert_only_a_clean_summary(&v2.stdout);
    // The old baseline is still there.
    let r = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "baseline.log"]));
    assert_eq!(r.code, 0, "{}", r.stdout);

    // A new line near the added one points at the second input, with its line number.
    fs::write(
        dir.path().join("new.log"),
        "2024-05-04T07:00:00Z sshd[9]: Failed password for invalid user admin from 198.51.100.1 port 1 ssh2 via proxy gateway\n",
    )
    .unwrap();
    let r = run(honk_in(dir.path()).args(["score", "--json", "-t", "0", "-m", "m.honk", "new.log"]));
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["nearest"]["source"], "target.log");
    assert_eq!(found[0]["nearest"]["line"], 3);
    assert_eq!(found[0]["nearest"]["text"], FAILED_LINE);
}

#[test]
fn adding_with_a_different_tokenizer_is_refused_clearly() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    let r = run(honk_in(dir.path()).args(["learn", "-q", "--tokenizer", "sklearn", "-o", "m.honk", "baseline.log"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = fs::read(dir.path().join("m.honk")).unwrap();

    // Scoring with the sklearn model works.
    let r = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "baseline.log"]));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = run(honk_in(dir.path()).args(["learn", "--tokenizer", "honk", "-o", "m.honk", "target.log"]));
    assert_trouble(&r);
    assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
    let msg = r.stderr.to_lowercase();
    assert!(msg.contains("tokenizer"), "{}", r.stderr);
    assert!(
        msg.contains("sklearn") && msg.contains("honk"),
        "names both tokenizers: {}",
        r.stderr
    );
    assert!(msg.contains("m.honk"), "names the model: {}", r.stderr);
    assert_eq!(
        fs::read(dir.path().join("m.honk")).unwrap(),
        before,
        "the model is untouched"
    );

    // Adding with the same tokenizer, or none, is fine.
    let r = run(honk_in(dir.path()).args(["learn", "-q", "--tokenizer", "sklearn", "-o", "m.honk", "target.log"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(honk_in(dir.path()).args(["learn", "-q", "-o", "m.honk", "target.log"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn adding_with_different_features_is_refused() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    learn(dir.path(), "m.honk", &["--features", "4096", "baseline.log"]);
    let r = run(honk_in(dir.path()).args(["learn", "--features", "1024", "-o", "m.honk", "target.log"]));
    assert_trouble(&r);
    assert!(r.stderr.contains("4096") && r.stderr.contains("1024"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// 4. Inputs
// ---------------------------------------------------------------------------

#[test]
fn directories_are_read_recursively_as_targets_and_baselines() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("runs/sub/deeper")).unwrap();
    fs::copy(fixtures().join("baseline.log"), dir.path().join("runs/a.log")).unwrap();
    fs::copy(fixtures().join("target.log"), dir.path().join("runs/sub/deeper/b.log")).unwrap();
    fs::copy(fixtures().join("baseline.log"), dir.path().join("base.log")).unwrap();

    // As the target: the anomaly in the nested file is found and named.
    let r = run(honk_in(dir.path()).args(["diff", "--json", "base.log", "runs"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["source"], "runs/sub/deeper/b.log");
    assert_eq!(found[0]["line"], 3);

    // As the baseline: learning the directory learns the nested file too.
    learn(dir.path(), "m.honk", &["runs"]);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "runs/sub/deeper/b.log"]));
    assert_eq!(r.code, 0, "{}", r.stdout);

    // An empty directory is trouble.
    fs::create_dir(dir.path().join("empty")).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "base.log", "empty"]));
    assert_trouble(&r);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
}

#[test]
fn score_reads_stdin_with_dash_or_no_target() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let target = fixture_text("target.log");
    for args in [
        &["score", "--json", "-m", "m.honk", "-"][..],
        &["score", "--json", "-m", "m.honk"][..],
    ] {
        let r = run(honk_in(dir.path()).args(args).write_stdin(target.clone()));
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let found = json_lines(&r.stdout);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["source"], "<stdin>");
        assert_eq!(found[0]["line"], 3);
        assert_eq!(found[0]["text"], FAILED_LINE);
    }
    // Empty stdin: nothing to report.
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk"]).write_stdin(""));
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
}

#[test]
fn diff_reads_stdin_as_the_target_or_a_baseline() {
    let r = run(honk()
        .args(["diff", "--json", "baseline.log", "-"])
        .write_stdin(fixture_text("target.log")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found[0]["source"], "<stdin>");
    assert_eq!(found[0]["line"], 3);

    let r = run(honk()
        .args(["diff", "--json", "-", "target.log"])
        .write_stdin(fixture_text("baseline.log")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found[0]["source"], "target.log");
    assert_eq!(found[0]["nearest"]["source"], "<stdin>");
    assert_eq!(found[0]["nearest"]["line"], 1);

    let r = run(honk().args(["diff", "-", "-"]).write_stdin(""));
    assert_trouble(&r);
    assert!(r.stderr.contains("not both"), "{}", r.stderr);
}

#[test]
fn learn_reads_stdin_with_dash() {
    let dir = scratch_with(&["target.log"]);
    let r = run(honk_in(dir.path())
        .args(["learn", "-q", "-o", "m.honk", "-"])
        .write_stdin(fixture_text("baseline.log")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "target.log"]));
    assert_eq!(r.code, 1);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["line"], 3);
    assert_eq!(found[0]["nearest"]["source"], "<stdin>");
    assert_eq!(found[0]["nearest"]["line"], 1);
    assert_eq!(found[0]["nearest"]["text"], ACCEPTED_LINE);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn gzip_and_zstd_inputs_are_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = fixture_text("baseline.log");
    let target = fixture_text("target.log");
    fs::write(dir.path().join("baseline.log.gz"), gzip(baseline.as_bytes())).unwrap();
    fs::write(
        dir.path().join("baseline.log.zst"),
        zstd::encode_all(baseline.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("target.log.gz"), gzip(target.as_bytes())).unwrap();
    fs::write(
        dir.path().join("target.log.zst"),
        zstd::encode_all(target.as_bytes(), 3).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("target.log"), &target).unwrap();

    for (base, tgt) in [
        ("baseline.log.gz", "target.log.zst"),
        ("baseline.log.zst", "target.log.gz"),
    ] {
        let r = run(honk_in(dir.path()).args(["diff", "--json", base, tgt]));
        assert_eq!(r.code, 1, "{base} {tgt}: {}", r.stderr);
        let found = json_lines(&r.stdout);
        assert_eq!(found.len(), 1, "{}", r.stdout);
        assert_eq!(found[0]["source"], tgt);
        assert_eq!(found[0]["line"], 3, "line numbers count decompressed lines");
        assert_eq!(found[0]["text"], FAILED_LINE);
        assert_eq!(found[0]["nearest"]["source"], base);
        assert_eq!(found[0]["nearest"]["text"], ACCEPTED_LINE);
    }

    // Compressed model input and compressed stdin.
    learn(dir.path(), "m.honk", &["baseline.log.gz"]);
    let r = run(honk_in(dir.path())
        .args(["score", "--json", "-m", "m.honk"])
        .write_stdin(zstd::encode_all(target.as_bytes(), 3).unwrap()));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["line"], 3);

    // A damaged compressed file is trouble, not a crash or a silent success.
    let gz = gzip(target.as_bytes());
    fs::write(dir.path().join("cut.gz"), &gz[..gz.len() / 2]).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "target.log", "cut.gz"]));
    assert_trouble(&r);
    assert!(r.stderr.contains("cut.gz"), "{}", r.stderr);
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let dir = scratch_with(&["baseline.log"]);
    let mut data = fixture_text("baseline.log").into_bytes();
    data.extend_from_slice(b"Segmentation \xff\xfe fault in \xc3(core dumped)\n");
    fs::write(dir.path().join("bad.log"), &data).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--json", "baseline.log", "bad.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["line"], 6);
    assert_eq!(
        found[0]["text"],
        "Segmentation \u{fffd}\u{fffd} fault in \u{fffd}(core dumped)"
    );
    // Human output is valid UTF-8 too.
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "baseline.log", "bad.log"]));
    assert_eq!(r.code, 1);
    assert!(std::str::from_utf8(&r.raw_stdout).is_ok());

    // As a baseline too.
    let r = run(honk_in(dir.path()).args(["diff", "bad.log", "baseline.log"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_one_megabyte_line_is_cut_not_fatal() {
    let dir = scratch_with(&["baseline.log"]);
    let mut data = "x".repeat(1 << 20);
    data.push('\n');
    data.push_str("2024-05-03T08:00:04Z Segmentation fault (core dumped)\n");
    fs::write(dir.path().join("long.log"), &data).unwrap();

    let r = run(honk_in(dir.path()).args(["diff", "--json", "baseline.log", "long.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 2, "{}", r.stdout.len());
    assert_eq!(found[0]["line"], 1);
    let text = found[0]["text"].as_str().unwrap();
    assert!(
        text.len() < 1 << 20 && text.chars().all(|c| c == 'x'),
        "the long line is cut"
    );
    assert_eq!(found[1]["line"], 2, "the next line keeps its number");
    assert!(
        r.stderr.contains("warning") && r.stderr.contains("longer than"),
        "{}",
        r.stderr
    );

    // Learning it works too.
    learn(dir.path(), "m.honk", &["long.log"]);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "long.log"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn empty_files_are_fine() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    fs::write(dir.path().join("empty.log"), "").unwrap();

    // Empty target: nothing unusual.
    let r = run(honk_in(dir.path()).args(["diff", "baseline.log", "empty.log"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());

    // Empty baseline: every line is new and has no nearest line.
    let r = run(honk_in(dir.path()).args(["diff", "--json", "empty.log", "target.log"]));
    assert_eq!(r.code, 1);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 5);
    for v in &found {
        assert_json_shape(v, false);
        assert!(v["nearest"].is_null());
        assert_eq!(v["score"].as_f64().unwrap(), 1.0);
    }

    // An empty model, then growing it.
    learn(dir.path(), "m.honk", &["empty.log"]);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "empty.log"]));
    assert_eq!(r.code, 0);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "target.log"]));
    assert_eq!(r.code, 1);
    learn(dir.path(), "m.honk", &["target.log"]);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "target.log"]));
    assert_eq!(r.code, 0);
}

// ---------------------------------------------------------------------------
// 5. strace
// ---------------------------------------------------------------------------

#[test]
fn the_demo_compromise_is_found_in_the_traces() {
    let target = fs::read_to_string(repo().join("src/demo/target.strace")).unwrap();
    let r = run(honk_in(&repo()).args(["diff", "--json", "src/demo/baseline.strace", "src/demo/target.strace"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("(strace)"), "detected as strace: {}", r.stderr);
    let found = json_lines(&r.stdout);
    for v in &found {
        assert_json_shape(v, false);
        assert_eq!(v["source"], "src/demo/target.strace");
    }
    let flagged = |what: &str, needle: &str| {
        let want = line_of(&target, needle);
        let hit = found
            .iter()
            .find(|v| v["line"] == want)
            .unwrap_or_else(|| panic!("{what} (line {want}) is not flagged"));
        hit["text"].as_str().unwrap().to_owned()
    };
    let shadow = flagged("the /etc/shadow open", "openat(AT_FDCWD, \"/etc/shadow\"");
    assert!(shadow.contains("/etc/shadow"));
    // This execve is split across an <unfinished ...>/<... resumed> pair: it is
    // reported at the line where it starts, with both halves joined.
    let id = flagged(
        "the sh -c id execve",
        "execve(\"/usr/bin/sh\", [\"sh\", \"-c\", \"id\"]",
    );
    assert!(id.contains("[\"sh\", \"-c\", \"id\"]") && id.contains("= 0"), "{id}");
    assert!(!id.contains("unfinished"), "{id}");
    let connect = flagged("the connect to 127.0.0.1:4444", "sin_port=htons(4444)");
    assert!(
        connect.starts_with(|c: char| c.is_ascii_digit()) && connect.contains("connect("),
        "{connect}"
    );
    assert!(connect.contains("127.0.0.1"));
    let keys = flagged("the authorized_keys open", "\".ssh/authorized_keys\"");
    assert!(keys.contains("authorized_keys") && keys.contains("O_APPEND"), "{keys}");

    // The baseline against itself is clean.
    let r = run(honk_in(&repo()).args(["diff", "src/demo/baseline.strace", "src/demo/baseline.strace"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
}

#[test]
fn format_text_forced_on_strace_still_runs() {
    let r = run(honk_in(&repo()).args([
        "diff",
        "--json",
        "--format",
        "text",
        "src/demo/baseline.strace",
        "src/demo/target.strace",
    ]));
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    assert!(r.stderr.contains("(text)"), "the forced format is used: {}", r.stderr);
    for v in json_lines(&r.stdout) {
        assert_json_shape(&v, false);
    }
    // And --format strace on a text log does not crash either.
    let r = run_args(&["diff", "--format", "strace", "baseline.log", "target.log"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
}

#[test]
fn an_unfinished_resumed_pair_is_reported_at_its_start() {
    let r = run_args(&["diff", "--json", "base.strace", "unfinished.strace"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    let v = &found[0];
    assert_json_shape(v, false);
    assert_eq!(v["source"], "unfinished.strace");
    assert_eq!(v["line"], 2, "the line of `<unfinished ...>`, not of `<... resumed>`");
    let text = v["text"].as_str().unwrap();
    assert!(
        text.contains("connect(5, {sa_family=AF_INET, sin_port=htons(4444)"),
        "{text}"
    );
    assert!(text.contains("ECONNREFUSED"), "both halves joined: {text}");
    assert!(!text.contains("unfinished") && !text.contains("resumed"), "{text}");

    let r = run_args(&["diff", "base.strace", "base.strace"]);
    assert_eq!(r.code, 0);
}

#[test]
fn real_f_traces_never_report_a_resumed_line_as_a_record_start() {
    let trace = fs::read_to_string(repo().join("tests/fixtures/strace/f.strace")).unwrap();
    let original: Vec<&str> = trace.lines().collect();
    let r = run(honk_in(&repo()).args([
        "diff",
        "--json",
        "tests/fixtures/strace/plain.strace",
        "tests/fixtures/strace/f.strace",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert!(!found.is_empty());
    for v in &found {
        let line = v["line"].as_u64().unwrap() as usize;
        assert!(
            !original[line - 1].contains("resumed>"),
            "record starts at a resumed line: {v}"
        );
    }
    // vfork( <unfinished ...> on line 55 is joined with its result on line 66 or so.
    let vfork = found
        .iter()
        .find(|v| v["line"] == 55)
        .expect("the vfork is new against plain.strace");
    let text = vfork["text"].as_str().unwrap();
    assert!(text.contains("vfork()") && text.contains("= 4546"), "{text}");
}

// ---------------------------------------------------------------------------
// 6. Trouble → exit 2
// ---------------------------------------------------------------------------

#[test]
fn missing_input_is_trouble() {
    let r = run_args(&["diff", "baseline.log", "no-such-file.log"]);
    assert_trouble(&r);
    assert!(
        r.stderr.starts_with("honk: error:") && r.stderr.contains("no-such-file.log"),
        "{}",
        r.stderr
    );

    let r = run_args(&["diff", "no-such-file.log", "target.log"]);
    assert_trouble(&r);
    assert!(r.stderr.contains("no-such-file.log"), "{}", r.stderr);
}

#[test]
fn failed_learn_leaves_no_model_file() {
    let dir = scratch_with(&["baseline.log"]);
    let r = run(honk_in(dir.path()).args(["learn", "-o", "out.honk", "missing.log"]));
    assert_trouble(&r);
    assert!(
        r.stderr.starts_with("honk: error:") && r.stderr.contains("missing.log"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("out.honk").exists(), "no partial model");

    // A good input then a missing one: still nothing written.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "out.honk", "baseline.log", "missing.log"]));
    assert_trouble(&r);
    assert!(!dir.path().join("out.honk").exists());

    // An input that fails half-way through reading (a damaged gzip stream).
    let gz = gzip(fixture_text("baseline.log").as_bytes());
    fs::write(dir.path().join("cut.gz"), &gz[..gz.len() / 2]).unwrap();
    let r = run(honk_in(dir.path()).args(["learn", "-o", "out.honk", "baseline.log", "cut.gz"]));
    assert_trouble(&r);
    assert!(!dir.path().join("out.honk").exists());

    // Into a directory that does not exist.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "nodir/out.honk", "baseline.log"]));
    assert_trouble(&r);
    assert!(!dir.path().join("nodir").exists());

    assert_eq!(leftover_temp_files(dir.path()), Vec::<String>::new());
}

#[test]
fn error_messages_do_not_repeat_the_cause() {
    let dir = scratch_with(&["baseline.log"]);
    let r = run(honk_in(dir.path()).args(["learn", "-o", "out.honk", "missing.log"]));
    assert_trouble(&r);
    // Today: "honk: error: cannot read missing.log: No such file or directory (os
    // error 2): No such file or directory (os error 2)".
    assert_eq!(r.stderr.matches("No such file or directory").count(), 1, "{}", r.stderr);

    let r = run(honk_in(dir.path()).args(["score", "-m", "missing.honk", "baseline.log"]));
    assert_trouble(&r);
    assert_eq!(r.stderr.matches("No such file or directory").count(), 1, "{}", r.stderr);
}

/// A real model of baseline.log, as bytes.
fn real_model_bytes(dir: &Path) -> Vec<u8> {
    fs::copy(fixtures().join("baseline.log"), dir.join("baseline.log")).unwrap();
    learn(dir, "real.honk", &["baseline.log"]);
    let bytes = fs::read(dir.join("real.honk")).unwrap();
    assert_eq!(&bytes[..8], b"HONKMODL");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), honk::model::FORMAT_VERSION);
    bytes
}

/// Scores target.log against a model file with these bytes; returns the run.
fn score_with_model_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Run {
    fs::write(dir.join(name), bytes).unwrap();
    fs::copy(fixtures().join("target.log"), dir.join("target.log")).unwrap();
    run(honk_in(dir).args(["score", "-m", name, "target.log"]))
}

#[test]
fn missing_model_is_trouble() {
    let dir = scratch_with(&["target.log"]);
    let r = run(honk_in(dir.path()).args(["score", "-m", "nope.honk", "target.log"]));
    assert_trouble(&r);
    assert!(
        r.stderr.starts_with("honk: error:") && r.stderr.contains("nope.honk"),
        "{}",
        r.stderr
    );
    // A directory is not a model either.
    fs::create_dir(dir.path().join("adir")).unwrap();
    let r = run(honk_in(dir.path()).args(["score", "-m", "adir", "target.log"]));
    assert_trouble(&r);
}

#[test]
fn garbage_model_is_trouble() {
    let dir = tempfile::tempdir().unwrap();
    let r = score_with_model_bytes(dir.path(), "garbage.honk", b"this is not a model, it is a log line\n");
    assert_trouble(&r);
    assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("garbage.honk") && r.stderr.contains("not a honk model"),
        "{}",
        r.stderr
    );

    let r = score_with_model_bytes(dir.path(), "empty.honk", b"");
    assert_trouble(&r);
    assert!(r.stderr.contains("not a honk model"), "{}", r.stderr);

    // A log given as the model by mistake.
    fs::copy(fixtures().join("baseline.log"), dir.path().join("baseline.log")).unwrap();
    let r = run(honk_in(dir.path()).args(["score", "-m", "baseline.log", "target.log"]));
    assert_trouble(&r);
}

#[test]
fn truncated_model_is_trouble() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = real_model_bytes(dir.path());
    for cut in [bytes.len() / 2, 12, 5, bytes.len() - 1] {
        let r = score_with_model_bytes(dir.path(), "cut.honk", &bytes[..cut]);
        assert_trouble(&r);
        assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
        assert!(r.stderr.contains("truncated"), "cut at {cut}: {}", r.stderr);
    }
}

#[test]
fn model_with_a_flipped_payload_byte_is_trouble() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = real_model_bytes(dir.path());
    let payload = bytes.len() - 24;
    for at in [24, 24 + payload / 2, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        let r = score_with_model_bytes(dir.path(), "flipped.honk", &damaged);
        assert_trouble(&r);
        assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
        assert!(r.stderr.contains("corrupt"), "byte {at}: {}", r.stderr);
    }
    // Bytes appended after the payload.
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    let r = score_with_model_bytes(dir.path(), "longer.honk", &longer);
    assert_trouble(&r);
    assert!(r.stderr.contains("corrupt"), "{}", r.stderr);
    // Unknown flags.
    let mut flagged = bytes.clone();
    flagged[10] = 1;
    let r = score_with_model_bytes(dir.path(), "flags.honk", &flagged);
    assert_trouble(&r);
}

#[test]
fn model_from_a_newer_honk_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = real_model_bytes(dir.path());
    bytes[8..10].copy_from_slice(&(honk::model::FORMAT_VERSION + 1).to_le_bytes());
    let r = score_with_model_bytes(dir.path(), "next.honk", &bytes);
    assert_trouble(&r);
    assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
    assert!(r.stderr.contains("newer"), "{}", r.stderr);
    assert!(r.stderr.contains("next.honk"), "{}", r.stderr);

    // Learning into it is refused the same way, and the file is left alone.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "next.honk", "baseline.log"]));
    assert_trouble(&r);
    assert!(r.stderr.contains("newer"), "{}", r.stderr);
    assert_eq!(fs::read(dir.path().join("next.honk")).unwrap(), bytes);
}

#[test]
fn model_from_an_older_honk_says_to_learn_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = real_model_bytes(dir.path());
    bytes[8..10].copy_from_slice(&1u16.to_le_bytes());
    let r = score_with_model_bytes(dir.path(), "v1.honk", &bytes);
    assert_trouble(&r);
    assert!(r.stderr.contains("v1.honk is in model format 1"), "{}", r.stderr);
    assert!(r.stderr.contains("learn the baseline again"), "{}", r.stderr);
}

#[test]
fn bad_option_values_are_usage_errors() {
    let cases: &[&[&str]] = &[
        &["diff", "--threshold", "2", "baseline.log", "target.log"],
        &["diff", "--threshold", "-0.5", "baseline.log", "target.log"],
        &["diff", "--threshold", "abc", "baseline.log", "target.log"],
        &["diff", "-k", "0", "baseline.log", "target.log"],
        &["diff", "-k", "1001", "baseline.log", "target.log"],
        &["diff", "--top", "0", "baseline.log", "target.log"],
        &["diff", "-C", "-1", "baseline.log", "target.log"],
        &["diff", "-A", "10001", "baseline.log", "target.log"],
        &["diff", "--format", "xml", "baseline.log", "target.log"],
        &["diff", "--color", "sometimes", "baseline.log", "target.log"],
        &["diff", "--tokenizer", "bert", "baseline.log", "target.log"],
        &["diff", "--features", "0", "baseline.log", "target.log"],
        &["diff", "target.log"],
        &["diff"],
        &["diff", "--no-such-flag", "baseline.log", "target.log"],
        &["score", "target.log"],
        &["learn", "baseline.log"],
        &["learn", "-o", "x.honk"],
        &["frobnicate"],
        &["generate", "completions", "no-such-shell"],
    ];
    for args in cases {
        let r = run_args(args);
        assert_trouble(&r);
        assert!(r.stderr.contains("error"), "{args:?}: {}", r.stderr);
        // A usage error never runs anything: no model is created.
        assert!(!fixtures().join("x.honk").exists());
    }
    // The threshold message explains the range.
    let r = run_args(&["diff", "--threshold", "2", "baseline.log", "target.log"]);
    assert!(r.stderr.contains("[0, 1]"), "{}", r.stderr);
    // diff with one path says it needs two.
    let r = run_args(&["diff", "target.log"]);
    assert!(
        r.stderr.contains("2 values required") || r.stderr.contains("target"),
        "{}",
        r.stderr
    );
}

#[test]
fn no_arguments_at_all_is_a_usage_error() {
    let r = run_args(&[]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("Usage: honk"), "{}", r.stderr);
}

#[test]
fn unwritable_output_is_trouble() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return common::skip("no /dev/full");
    }
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("honk"))
        .current_dir(fixtures())
        .args(["diff", "-q", "baseline.log", "target.log"])
        .stdout(fs::File::create(full).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("honk: error:") && stderr.contains("output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

// ---------------------------------------------------------------------------
// 7. Atomic model writes
// ---------------------------------------------------------------------------

#[test]
fn failed_learn_into_an_existing_model_leaves_it_byte_identical() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let before = fs::read(dir.path().join("m.honk")).unwrap();

    // A missing input.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "target.log", "missing.log"]));
    assert_trouble(&r);
    assert_eq!(fs::read(dir.path().join("m.honk")).unwrap(), before);

    // An input that breaks half-way through.
    let gz = gzip(fixture_text("target.log").as_bytes());
    fs::write(dir.path().join("cut.gz"), &gz[..gz.len() / 2]).unwrap();
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "target.log", "cut.gz"]));
    assert_trouble(&r);
    assert_eq!(fs::read(dir.path().join("m.honk")).unwrap(), before);

    assert_eq!(leftover_temp_files(dir.path()), Vec::<String>::new());

    // The model still works and still knows nothing of target.log.
    let r = run(honk_in(dir.path()).args(["score", "--json", "-m", "m.honk", "target.log"]));
    assert_eq!(r.code, 1);
}

#[test]
fn learn_into_a_garbage_file_refuses_and_leaves_it_alone() {
    let dir = scratch_with(&["baseline.log"]);
    fs::write(dir.path().join("notes.txt"), "my precious notes\n").unwrap();
    let r = run(honk_in(dir.path()).args(["learn", "-o", "notes.txt", "baseline.log"]));
    assert_trouble(&r);
    assert!(r.stderr.contains("not a honk model"), "{}", r.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "my precious notes\n"
    );
}

#[test]
fn successful_learn_leaves_no_temporary_files() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    learn(dir.path(), "m.honk", &["baseline.log"]);
    learn(dir.path(), "m.honk", &["target.log"]);
    assert_eq!(leftover_temp_files(dir.path()), Vec::<String>::new());
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

// ---------------------------------------------------------------------------
// 8. Colour and escaping
// ---------------------------------------------------------------------------

#[test]
fn color_always_paints_and_never_does_not() {
    let r = run_args(&["diff", "--color", "always", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("\x1b["),
        "ANSI escapes with --color always: {:?}",
        r.stdout
    );
    assert!(r.stdout.contains("\x1b[0m"));
    // Stripped of its escapes, it is the plain output.
    let plain = run_args(&["diff", "--color", "never", "baseline.log", "target.log"]);
    assert!(!plain.raw_stdout.contains(&0x1b), "{:?}", plain.stdout);
    let stripped = regex_lite_strip(&r.full_stdout);
    assert_eq!(stripped, plain.full_stdout);

    // auto, with stdout not a terminal: no colour.
    let auto = run_args(&["diff", "--color", "auto", "baseline.log", "target.log"]);
    assert!(!auto.raw_stdout.contains(&0x1b));
    let default = run_args(&["diff", "baseline.log", "target.log"]);
    assert!(!default.raw_stdout.contains(&0x1b));

    // JSON is never painted.
    let json = run_args(&["diff", "--json", "--color", "always", "baseline.log", "target.log"]);
    assert!(!json.raw_stdout.contains(&0x1b));
    json_lines(&json.stdout);
}

/// Removes `ESC [ ... m` sequences.
fn regex_lite_strip(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

const HOSTILE_LINE: &str = "Segmentation fault \x1b[2J\x1b]0;pwned\x07 in \u{202e}txt.exe and \x08\x7f";

#[test]
fn hostile_control_characters_are_escaped_in_human_output() {
    let dir = scratch_with(&["baseline.log"]);
    fs::write(dir.path().join("evil.log"), format!("{HOSTILE_LINE}\n")).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "baseline.log", "evil.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.raw_stdout.contains(&0x1b), "raw ESC in stdout: {:?}", r.stdout);
    assert!(!r.raw_stdout.contains(&0x07) && !r.raw_stdout.contains(&0x08) && !r.raw_stdout.contains(&0x7f));
    assert!(!r.stdout.contains('\u{202e}'), "raw RLO in stdout: {:?}", r.stdout);
    assert!(r.stdout.contains("\\x1b[2J"), "{:?}", r.stdout);
    assert!(r.stdout.contains("\\u{202e}"), "{:?}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 2, "no line break injected: {:?}", r.stdout);

    // With colour, the only escapes are honk's own SGR sequences.
    let r = run(honk_in(dir.path()).args(["diff", "--color", "always", "baseline.log", "evil.log"]));
    assert!(!regex_lite_strip(&r.stdout).contains('\x1b'), "{:?}", r.stdout);
    assert!(!r.stdout.contains("\x1b[2J") && !r.stdout.contains("\x1b]0;"));

    // Escaped also when the hostile line is the *nearest* baseline line...
    fs::write(dir.path().join("near.log"), "Segmentation fault in txt.exe\n").unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "-t", "0", "evil.log", "near.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("  ~ evil.log:1  Segmentation fault \\x1b[2J"),
        "{:?}",
        r.stdout
    );
    assert!(!r.raw_stdout.contains(&0x1b), "{:?}", r.stdout);

    // ...and when it is printed as context of another anomaly.
    fs::write(
        dir.path().join("ctx.log"),
        format!("{HOSTILE_LINE}\nkernel: usb disconnect\n{HOSTILE_LINE}\n"),
    )
    .unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "-C", "1", "evil.log", "ctx.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{:?}", r.stdout);
    assert!(
        lines[0].starts_with("ctx.log-1-        Segmentation fault \\x1b[2J"),
        "{:?}",
        r.stdout
    );
    assert!(lines[1].starts_with("ctx.log:2  "), "{:?}", r.stdout);
    assert!(
        lines[3].starts_with("ctx.log-3-        Segmentation fault \\x1b[2J"),
        "{:?}",
        r.stdout
    );
    assert!(!r.raw_stdout.contains(&0x1b), "{:?}", r.stdout);
}

#[test]
fn hostile_control_characters_are_valid_json() {
    let dir = scratch_with(&["baseline.log"]);
    fs::write(dir.path().join("evil.log"), format!("{HOSTILE_LINE}\n")).unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--json", "baseline.log", "evil.log"]));
    assert_eq!(r.code, 1);
    assert!(!r.raw_stdout.contains(&0x1b), "JSON escapes control characters");
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1);
    assert_json_shape(&found[0], false);
    assert_eq!(found[0]["text"], HOSTILE_LINE, "the text round-trips exactly");
}

#[test]
fn hostile_file_names_are_escaped_in_human_output() {
    let dir = scratch_with(&["baseline.log"]);
    fs::create_dir(dir.path().join("runs")).unwrap();
    fs::write(dir.path().join("runs/evil\x1b[2J.log"), "Segmentation fault\n").unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "--color", "never", "baseline.log", "runs"]));
    assert_eq!(r.code, 1);
    assert!(
        !r.raw_stdout.contains(&0x1b),
        "raw ESC from a file name in stdout: {:?}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------
// 9. Help, man page, completions
// ---------------------------------------------------------------------------

#[test]
fn top_level_help_documents_the_exit_statuses() {
    for flag in ["--help", "-h"] {
        let r = run_args(&[flag]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Exit status"), "{}", r.stdout);
        assert!(
            r.stdout.contains("0 if no record") && r.stdout.contains("1 if some") && r.stdout.contains("2 on trouble")
        );
        for cmd in ["learn", "score", "diff", "demo"] {
            assert!(r.stdout.contains(cmd), "{cmd} listed");
        }
    }
    let r = run_args(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("honk "), "{}", r.stdout);
}

#[test]
fn subcommand_help_mentions_the_options() {
    let output_opts = [
        "--threshold",
        "-k",
        "--after-context",
        "--before-context",
        "--context",
        "-A",
        "-B",
        "-C",
        "--top",
        "--json",
        "--color",
        "--quiet",
    ];
    let cases: &[(&str, &[&str])] = &[
        (
            "learn",
            &["--output", "--format", "--tokenizer", "--features", "INPUT", "--quiet"],
        ),
        ("score", &["--model", "--format", "TARGET"]),
        ("diff", &["--format", "--tokenizer", "--features", "BASELINE", "TARGET"]),
        ("demo", &["--embedded", "--keep"]),
    ];
    for (cmd, opts) in cases {
        let r = run_args(&[cmd, "--help"]);
        assert_eq!(r.code, 0, "{cmd}");
        assert!(r.stdout.contains("Usage: honk"), "{cmd}: {}", r.stdout);
        for opt in opts.iter() {
            assert!(r.stdout.contains(opt), "`honk {cmd} --help` mentions {opt}");
        }
        if *cmd != "learn" {
            for opt in output_opts {
                assert!(r.stdout.contains(opt), "`honk {cmd} --help` mentions {opt}");
            }
        }
        // `honk help CMD` is the same.
        let r2 = run_args(&["help", cmd]);
        assert_eq!(r2.code, 0);
        assert_eq!(r2.stdout, r.stdout);
    }
}

#[test]
fn generate_man_and_completions() {
    let r = run_args(&["generate", "man"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(".TH"),
        "roff: {}",
        &r.stdout[..r.stdout.len().min(200)]
    );
    assert!(r.stdout.contains("honk"));

    for shell in ["bash", "zsh", "fish"] {
        let r = run_args(&["generate", "completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("honk"), "{shell}");
    }
    let r = run_args(&["generate", "completions", "bash"]);
    assert!(r.stdout.contains("--threshold"), "bash completion knows the options");
}

// ---------------------------------------------------------------------------
// 10. demo
// ---------------------------------------------------------------------------

#[test]
fn demo_embedded_finds_the_compromise() {
    let r = run_args(&["demo", "--embedded"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("/etc/shadow"), "{}", r.stdout);
    assert!(r.stdout.contains("4444"));
    assert!(r.stderr.contains("honk demo:"), "epilogue on stderr: {}", r.stderr);

    // --top counts incidents: the payload is one (its processes are linked by
    // what they do new), with all its records.
    let r = run_args(&["demo", "--embedded", "--json", "--top", "3", "-q"]);
    assert_eq!(r.code, 1);
    let rows = all_json_lines(&r.stdout);
    let incidents: Vec<&Value> = rows.iter().filter(|v| v["type"] == "incident").collect();
    assert!((1..=3).contains(&incidents.len()), "{}", r.stdout);
    let found = json_lines(&r.stdout);
    let records: u64 = incidents.iter().map(|i| i["records"].as_u64().unwrap()).sum();
    assert_eq!(found.len() as u64, records);
    for v in &found {
        assert_json_shape(v, false);
        assert!(incidents.iter().any(|i| i["id"] == v["incident"]), "{v}");
    }
}

#[test]
fn demo_keep_leaves_the_traces() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("traces");
    let r = run(honk().args(["demo", "--embedded", "-q", "--keep"]).arg(&keep));
    assert_eq!(r.code, 1);
    assert_eq!(
        fs::read(keep.join("target.strace")).unwrap(),
        fs::read(repo().join("src/demo/target.strace")).unwrap()
    );
    assert!(keep.join("baseline.strace").is_file());
}

// ---------------------------------------------------------------------------
// 11. The summary on stderr, and -q
// ---------------------------------------------------------------------------

#[test]
fn summary_on_stderr_counts_the_anomalies() {
    let r = run_args(&["diff", "baseline.log", "target.log"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("honk: "), "{}", r.stderr);
    assert!(r.stderr.contains("1 anomaly "), "{}", r.stderr);
    assert!(!r.stdout.contains("anomal"), "the summary is not on stdout");

    let r = run_args(&["diff", "baseline.log", "mixed.log"]);
    assert!(r.stderr.contains("2 anomalies"), "{}", r.stderr);

    // --top limits what is printed, not what is counted.
    let r = run_args(&["diff", "--top", "1", "baseline.log", "mixed.log"]);
    assert!(r.stderr.contains("2 anomalies"), "{}", r.stderr);

    let r = run_args(&["diff", "baseline.log", "baseline.log"]);
    assert!(r.stderr.contains("0 anomalies"), "{}", r.stderr);

    // With --json too, stdout stays pure JSON.
    let r = run_args(&["diff", "--json", "baseline.log", "mixed.log"]);
    assert!(r.stderr.contains("2 anomalies"));
    json_lines(&r.stdout);
}

#[test]
fn quiet_means_an_empty_stderr() {
    let dir = scratch_with(&["baseline.log", "target.log"]);
    let cases: &[&[&str]] = &[
        &["-q", "diff", "baseline.log", "target.log"],
        &["diff", "-q", "baseline.log", "target.log"],
        &["diff", "--quiet", "--json", "baseline.log", "baseline.log"],
        &["learn", "-q", "-o", "m.honk", "baseline.log"],
        &["score", "-q", "-m", "m.honk", "target.log"],
        &["demo", "--embedded", "-q"],
    ];
    for args in cases {
        let r = run(honk_in(dir.path()).args(*args));
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, "", "{args:?}");
    }
    // Without -q, learn reports what it learned.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m2.honk", "baseline.log"]));
    assert!(r.stderr.contains("learned 5 records"), "{}", r.stderr);
    // -q does not silence errors.
    let r = run(honk_in(dir.path()).args(["diff", "-q", "baseline.log", "missing.log"]));
    assert_trouble(&r);
    assert!(r.stderr.starts_with("honk: error:"));
}

// ---------------------------------------------------------------------------
// Bugs found while writing these tests
// ---------------------------------------------------------------------------

#[test]
fn top_with_context_prints_every_block_whole() {
    // --top 2 -C 1 prints line 7 (score 1.0) first, then line 4.
    let r = run_args(&[
        "diff",
        "--color",
        "never",
        "--top",
        "2",
        "-C",
        "1",
        "baseline.log",
        "mixed.log",
    ]);
    assert_eq!(r.code, 1);
    let mixed = fixture_text("mixed.log");
    let original: Vec<&str> = mixed.lines().collect();
    let lines: Vec<&str> = r.stdout.lines().collect();
    // Block for line 7.
    assert_eq!(lines[0], format!("mixed.log-5-        {}", original[4]));
    assert!(lines[1].starts_with("mixed.log:7  "));
    assert_eq!(lines[3], format!("mixed.log-8-        {}", original[7]));
    // Then line 4's incident, its block whole with its before-context (line 3).
    assert_eq!(
        lines[4],
        format!("mixed.log-3-        {}", original[2]),
        "{}",
        r.full_stdout
    );
    assert!(lines[5].starts_with("mixed.log:4  "));
    // Incidents are numbered in file order, whatever order --top prints them in.
    assert!(
        r.full_stdout.contains("\n\nmixed.log:4  0.35  incident 1: "),
        "{}",
        r.full_stdout
    );
}

#[test]
fn inspect_tells_what_was_parsed() {
    let dir = scratch_with(&["baseline.log"]);
    let strace = repo().join("src/demo/target.strace");
    let r = run(honk_in(dir.path()).arg("inspect").arg(&strace).arg("baseline.log"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("target.strace: strace"), "{}", r.stdout);
    assert!(r.stdout.contains("baseline.log: text"), "{}", r.stdout);
    assert!(r.stdout.contains("openat "), "a syscall histogram: {}", r.stdout);

    let r = run(honk_in(dir.path()).args(["inspect", "--json"]).arg(&strace));
    assert_eq!(r.code, 0);
    let found = all_json_lines(&r.stdout);
    assert_eq!(found.len(), 1);
    let i = &found[0];
    assert_eq!(i["type"], "input");
    assert_eq!(i["format"], "strace");
    let lines = i["lines"].as_u64().unwrap();
    let records = i["records"].as_u64().unwrap();
    assert_eq!(lines, std::fs::read_to_string(&strace).unwrap().lines().count() as u64);
    assert!(records < lines, "unfinished/resumed halves are merged");
    let counted: u64 = i["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted + i["unparsed"].as_u64().unwrap(), records);
    assert!(i["processes"].as_u64().unwrap() > 1);
}

#[test]
fn inspect_of_a_missing_file_is_trouble() {
    let r = run_args(&["inspect", "/nonexistent/x.strace"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("honk: error:"), "{}", r.stderr);
}

fn strace_works() -> bool {
    std::process::Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn trace_learns_then_scores_a_real_command() {
    if !strace_works() {
        common::skip("strace is missing or cannot trace here (apt-get install strace)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.honk");
    let normal = "cat /etc/hostname >/dev/null; ls /etc >/dev/null";
    for _ in 0..2 {
        let r = run(honk_in(dir.path()).args(["trace", "--learn", "m.honk", "--", "sh", "-c", normal]));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert!(model.exists());

    let r = run(honk_in(dir.path()).args(["trace", "--score", "m.honk", "--json", "--", "sh", "-c", normal]));
    assert_eq!(r.code, 0, "the same run is normal: {}", r.stdout);

    let odd = format!("{normal}; cat /etc/shadow >/dev/null 2>&1");
    let r = run(honk_in(dir.path()).args(["trace", "--score", "m.honk", "--json", "--", "sh", "-c", &odd]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert!(
        found
            .iter()
            .any(|a| a["text"].as_str().unwrap_or("").contains("/etc/shadow")),
        "the read of /etc/shadow is flagged: {found:?}"
    );

    let r = run(honk_in(dir.path()).args(["trace", "-o", "t.strace", "--", "true"]));
    assert_eq!(r.code, 0);
    let trace = std::fs::read_to_string(dir.path().join("t.strace")).unwrap();
    assert!(trace.contains("execve("), "{trace}");
}

#[test]
fn trace_without_a_command_is_a_usage_error() {
    let r = run_args(&["trace", "--"]);
    assert_eq!(r.code, 2);
}

/// A LID-DS scenario laid out as the data set ships it: each recording a zip
/// holding its `.sc` syscalls and `.json` metadata.
#[test]
fn a_lidds_scenario_directory_is_read_through_its_zips() {
    use std::io::Write;
    let recording = std::fs::read_to_string(repo().join("tests/fixtures/sysdig/lidds-2021.sc")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write_zip = |folder: &str, name: &str, sc: &str| {
        let folder = dir.path().join(folder);
        std::fs::create_dir_all(&folder).unwrap();
        let mut zip = zip::ZipWriter::new(std::fs::File::create(folder.join(format!("{name}.zip"))).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(format!("{name}.sc"), options).unwrap();
        zip.write_all(sc.as_bytes()).unwrap();
        zip.start_file(format!("{name}.json"), options).unwrap();
        zip.write_all(br#"{"time": {"exploit": []}}"#).unwrap();
        zip.finish().unwrap();
    };
    write_zip("training", "calm_one", &recording);
    write_zip("training", "calm_two", &recording);
    write_zip("test/normal", "calm_three", &recording);
    let odd = "1631209047762800000 33 29092 apache2 29092 openat > dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0 \n\
               1631209047762810000 33 29092 apache2 29092 openat < fd=10(<f>/etc/shadow) dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0 dev=803 \n";
    write_zip("test/normal_and_attack", "loud", &format!("{recording}{odd}"));

    let r = run(honk_in(dir.path()).args(["inspect", "training"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("training/calm_one.zip/calm_one.sc: sysdig"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(".json"), "metadata is not a log: {}", r.stdout);

    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "training"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "--json", "test/normal"]));
    assert_eq!(r.code, 0, "a recording like the training ones is normal: {}", r.stdout);
    let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "--json", "test/normal_and_attack"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = json_lines(&r.stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["source"], "test/normal_and_attack/loud.zip/loud.sc");
    assert!(found[0]["text"].as_str().unwrap().contains("/etc/shadow"));
    assert_eq!(found[0]["line"], recording.lines().count() as u64 + 1);
}

/// Malformed lines in an input of any structured format are counted by
/// `inspect` and never stop or crash the run.
#[test]
fn malformed_lines_of_every_format_are_counted_by_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let junk = "\u{1b}[2J garbage ((( \"unterminated\n}{ not this format either\n";
    let cases: [(&str, String); 6] = [
        ("strace", std::fs::read_to_string(repo().join("tests/fixtures/strace/plain.strace")).unwrap()),
        ("sysdig", std::fs::read_to_string(repo().join("tests/fixtures/sysdig/tty.txt")).unwrap()),
        (
            "sysdig-json",
            "{\"evt.num\": 1, \"evt.type\": \"open\", \"evt.dir\": \">\", \"thread.tid\": 7, \"proc.name\": \"cat\", \"evt.info\": \"\"}\n"
                .to_owned(),
        ),
        ("gvisor", std::fs::read_to_string(repo().join("tests/fixtures/gvisor/runsc-do.boot.log")).unwrap()),
        ("audit", std::fs::read_to_string(repo().join("tests/fixtures/audit/raw.log")).unwrap()),
        ("numbers", "5 3 6 252\n".to_owned()),
    ];
    // gVisor's log continues glog messages on unprefixed lines (its spec and
    // seccomp dumps), which are skipped by design; its malformed lines are
    // broken strace lines.
    let gvisor_junk = "I1128 03:17:12.174529   31103 strace.go:570] [ oops: ] ???\n\
                       I1128 03:17:12.174600   31103 strace.go:570] garbage \u{1b}[2J\n";
    for (format, valid) in cases {
        let path = dir.path().join(format!("{format}.log"));
        let junk = if format == "gvisor" { gvisor_junk } else { junk };
        std::fs::write(&path, format!("{valid}{junk}")).unwrap();
        let r = run(honk_in(dir.path())
            .args(["inspect", "--json", "--format", format])
            .arg(&path));
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        let found = all_json_lines(&r.stdout);
        assert_eq!(found[0]["type"], "input");
        assert_eq!(found[0]["format"], format);
        assert!(
            found[0]["unparsed"].as_u64().unwrap() >= 2,
            "{format}: the two junk lines are counted: {}",
            r.stdout
        );
        assert!(
            !found[0]["syscalls"].as_array().unwrap().is_empty(),
            "{format}: the valid part is still read: {}",
            r.stdout
        );
    }
}

/// `diff` works the same on every syscall source: a trace against itself is
/// quiet, and the read of /etc/shadow that only the target has is flagged.
#[test]
fn diff_finds_the_secret_read_in_every_syscall_format() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = [
        ("strace", "src/demo/target.strace"),
        ("gvisor", "tests/fixtures/gvisor/runsc-do.boot.log"),
        ("audit", "tests/fixtures/audit/raw.log"),
        ("audit", "tests/fixtures/audit/enriched.log"),
    ];
    for (format, fixture) in fixtures {
        let full = std::fs::read_to_string(repo().join(fixture)).unwrap();
        let without: String = full
            .lines()
            .filter(|l| !l.contains("shadow"))
            .map(|l| format!("{l}\n"))
            .collect();
        let (base, target) = (dir.path().join("base.log"), dir.path().join("target.log"));
        std::fs::write(&base, &without).unwrap();
        std::fs::write(&target, &full).unwrap();

        let r = run(honk_in(dir.path()).args(["diff", "--json", "base.log", "base.log"]));
        assert_eq!(r.code, 0, "{fixture} against itself: {}", r.stdout);
        let r = run(honk_in(dir.path()).args(["diff", "--json", "base.log", "target.log"]));
        assert_eq!(r.code, 1, "{fixture}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("({format})")),
            "{fixture} detected as {format}: {}",
            r.stderr
        );
        let found = json_lines(&r.stdout);
        assert!(
            found
                .iter()
                .any(|a| a["text"].as_str().unwrap_or("").contains("/etc/shadow")),
            "{fixture}: the secret read is flagged: {found:?}"
        );
    }

    // sysdig: two real captures of different programs are far apart, and one is
    // quiet against itself, in text and in JSON.
    let captures = repo().join("../shared/data/sysdig-captures");
    if !captures.join("curl_google.txt").exists() {
        common::skip(&format!(
            "the sysdig part: no shared captures at {}",
            captures.display()
        ));
        return;
    }
    for capture in ["curl_google.txt", "curl_google.jsonl"] {
        let r = run(honk_in(&captures).args(["diff", "-q", "--json", capture, capture]));
        assert_eq!(r.code, 0, "{capture} against itself: {}", r.stdout);
    }
    let r = run(honk_in(&captures).args(["diff", "--json", "single_ipv6_conn.txt", "curl_google.txt"]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("(sysdig)"), "{}", r.stderr);
}

/// `honk eval` on a tiny labelled set: the attack traces stand out perfectly.
#[test]
fn eval_reports_the_metrics_of_a_perfectly_separable_set() {
    let dir = tempfile::tempdir().unwrap();
    let write = |folder: &str, name: &str, text: &str| {
        let folder = dir.path().join(folder);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(name), text).unwrap();
    };
    let normal = "session opened for user alice\nread config file\nsession closed for user alice\n";
    for i in 0..3 {
        write("train", &format!("t{i}.log"), normal);
        write("normal", &format!("n{i}.log"), normal);
        write(
            "attack",
            &format!("a{i}.log"),
            &format!("{normal}reverse shell spawned towards remote host\n"),
        );
    }
    for method in ["events", "bag", "stide"] {
        let r = run(honk_in(dir.path()).args([
            "eval",
            "--json",
            "-q",
            "--method",
            method,
            "--baseline",
            "train",
            "--normal",
            "normal",
            "--attack",
            "attack",
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let found = all_json_lines(&r.stdout);
        assert_eq!(found.len(), 1);
        let report = &found[0];
        assert_eq!(report["type"], "eval", "it says what it is: {report}");
        assert_eq!(report["method"]["compare"], method);
        assert_eq!(report["unit"], "inputs");
        assert_eq!(report["roc_auc"], 1.0, "{method}: {report}");
        assert_eq!(report["normal"], 3);
        assert_eq!(report["attack"], 3);
        for far in ["0.01", "0.05", "0.1"] {
            assert_eq!(report["detection_rate_at_far"][far], 1.0, "{method} {far}: {report}");
        }
        assert_eq!(report["best_f1"]["f1"], 1.0);
        assert_eq!(report["confusion"]["counts"]["true_positives"], 3, "{method}: {report}");
        assert_eq!(
            report["confusion"]["counts"]["false_positives"], 0,
            "{method}: {report}"
        );
    }
    // Without --method, whole traces are compared as bags.
    let r = run(honk_in(dir.path()).args([
        "eval",
        "--json",
        "-q",
        "--baseline",
        "train",
        "--normal",
        "normal",
        "--attack",
        "attack",
    ]));
    assert_eq!(json_lines(&r.stdout)[0]["method"]["compare"], "bag");

    let r = run(honk_in(dir.path()).args([
        "eval",
        "-q",
        "--baseline",
        "train",
        "--normal",
        "normal",
        "--attack",
        "attack",
        "--aggregate",
        "mean-top-99",
    ]));
    assert_eq!(r.code, 2, "an impossible aggregate is a usage error");
}

/// `honk eval --line-labels`: the first word of each line is its label (BGL's shape).
#[test]
fn eval_with_line_labels_learns_the_first_part_and_scores_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 0..10 {
        log.push_str(&format!(
            "- {i} node-{i} KERNEL INFO instruction cache parity error corrected\n"
        ));
        log.push_str(&format!("- {i} node-{i} APP INFO job finished successfully\n"));
    }
    // The test half: the same normal lines, and one alert never seen before.
    log.push_str("KERNDTLB 11 node-11 KERNEL FATAL data TLB error interrupt\n");
    std::fs::write(dir.path().join("labelled.log"), &log).unwrap();
    let r = run(honk_in(dir.path()).args([
        "eval",
        "--json",
        "-q",
        "--line-labels",
        "labelled.log",
        "--split",
        "0.6",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = &json_lines(&r.stdout)[0];
    assert_eq!(report["unit"], "lines");
    assert_eq!(report["attack"], 1);
    assert_eq!(report["normal"], 21 - 12 - 1);
    assert_eq!(report["roc_auc"], 1.0, "{report}");

    let r = run(honk_in(dir.path()).args(["eval", "--line-labels", "labelled.log", "--split", "1.5"]));
    assert_eq!(r.code, 2);
    let r = run(honk_in(dir.path()).args(["eval", "--line-labels", "labelled.log", "--baseline", "x"]));
    assert_eq!(r.code, 2, "line labels and trace inputs do not mix");
}

/// `honk eval --items lines --labelled`: sessions of event ids (HDFS's shape),
/// compared as bags and by stide, with a threshold from the baseline alone.
#[test]
fn eval_of_labelled_sessions_by_bag_and_stide() {
    let dir = tempfile::tempdir().unwrap();
    // Known-good sessions: two shapes, each more than once.
    let train = "5 5 22 11 9 26\n5 5 22 11 9 26\n5 22 11 9 26 26\n5 22 11 9 26 26\n";
    std::fs::write(dir.path().join("train"), train).unwrap();
    // Test: both normal shapes; a truncated session; one with an event never seen.
    let test = "Sequence,label\n5 5 22 11 9 26,0\n5 22 11 9 26 26,0\n5 22,1\n5 22 11 9 26 26 28,1\n";
    std::fs::write(dir.path().join("test.csv"), test).unwrap();
    for method in ["bag", "stide"] {
        let r = run(honk_in(dir.path()).args([
            "eval",
            "--json",
            "-q",
            "--method",
            method,
            "--window",
            "3",
            "--items",
            "lines",
            "--baseline",
            "train",
            "--labelled",
            "test.csv",
        ]));
        assert_eq!(r.code, 0, "{method}: {}", r.stderr);
        let report = &json_lines(&r.stdout)[0];
        assert_eq!(report["unit"], "lines");
        assert_eq!(
            (report["normal"].as_u64(), report["attack"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(report["baseline"], 4);
        assert_eq!(report["roc_auc"], 1.0, "{method}: {report}");
        // Every baseline session has a twin, so the threshold from the baseline is 0.
        assert_eq!(report["confusion"]["threshold"], 0.0, "{method}: {report}");
        assert_eq!(
            report["confusion"]["chosen_by"],
            "the largest leave-one-out score of a baseline item"
        );
        assert_eq!(report["confusion"]["f1"], 1.0, "{method}: {report}");
    }
    // Human output names the method and the threshold's origin.
    let r = run(honk_in(dir.path()).args([
        "eval",
        "-q",
        "--method",
        "bag",
        "--items",
        "lines",
        "--baseline",
        "train",
        "--labelled",
        "test.csv",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("method: bags of 1- to 1-grams, binary, k 1, unseen events: alarm"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("(the largest leave-one-out score of a baseline item): F1 1.0000"),
        "{}",
        r.stdout
    );

    // Events score records of files, not sessions.
    let r = run(honk_in(dir.path()).args([
        "eval",
        "--method",
        "events",
        "--items",
        "lines",
        "--baseline",
        "train",
        "--labelled",
        "test.csv",
    ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--method events scores the records of files"),
        "{}",
        r.stderr
    );
    // A label that is not a number is an error with its place.
    std::fs::write(dir.path().join("bad.csv"), "5 22,0\n5 22,yes\n").unwrap();
    let r = run(honk_in(dir.path()).args([
        "eval",
        "--method",
        "bag",
        "--baseline",
        "train",
        "--labelled",
        "bad.csv",
    ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.csv:2: the label `yes` is not a whole number"),
        "{}",
        r.stderr
    );
}

/// A system call the baseline never made is reported apart from the anomalies,
/// once per name with its first line and count, and makes the exit status 1
/// even when no record scores above the threshold.
#[test]
fn system_calls_the_baseline_never_made_are_policy_violations() {
    let dir = tempfile::tempdir().unwrap();
    let base = "100 openat(AT_FDCWD, \"/etc/hosts\", O_RDONLY) = 3\n100 read(3, \"x\", 10) = 1\n100 close(3) = 0\n";
    let target = format!("{base}100 getpid() = 100\n100 getpid() = 100\n100 read(3, \"x\", 10) = 1\n");
    fs::write(dir.path().join("base.strace"), base).unwrap();
    fs::write(dir.path().join("target.strace"), target).unwrap();
    // A threshold of 1: no record can be an anomaly, only a violation.
    let r = run(honk_in(dir.path()).args(["diff", "--json", "-t", "1", "base.strace", "target.strace"]));
    assert_eq!(r.code, 1, "a violation alone is something new: {}", r.stderr);
    assert!(json_lines(&r.stdout).is_empty(), "{}", r.stdout);
    let all = all_json_lines(&r.stdout);
    assert_eq!(all.len(), 2, "the violation and the summary: {}", r.stdout);
    assert_eq!((&all[1]["type"], &all[1]["violations"]), (&"summary".into(), &2.into()));
    let v = &all[0];
    assert_eq!(v["policy"], "syscall outside the baseline");
    assert_eq!(v["syscall"], "getpid");
    assert_eq!(v["count"], 2);
    assert_eq!(v["line"], 4);
    assert_eq!(v["source"], "target.strace");
    assert!(
        r.stderr
            .contains("2 calls to system calls the baseline never made: getpid"),
        "{}",
        r.stderr
    );

    let r = run(honk_in(dir.path()).args(["diff", "-t", "1", "base.strace", "target.strace"]));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout.trim_end(),
        "target.strace:4  policy  getpid is a system call the baseline never made (2 calls)"
    );

    // Text logs have no system calls, so no policy.
    let r = run_args(&["diff", "-t", "1", "baseline.log", "target.log"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_model_in_a_directory_that_does_not_exist_is_refused_with_what_to_do() {
    let dir = tempfile::Builder::new().prefix("honk no dir é ").tempdir().unwrap();
    fs::write(dir.path().join("good.log"), "one line\n").unwrap();
    let out = honk_in(dir.path())
        .args(["learn", "-o", "models here/m.honk", "good.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("models here") && stderr.contains("create it first"),
        "{stderr}"
    );
    assert!(!dir.path().join("models here").exists(), "nothing is created");
}
