//! `honk watch`, through the real binary: a followed file, appended to,
//! truncated and rotated while honk runs, and a pipe written one line at a
//! time, each alert read from honk's standard output before the next line is
//! written; SIGTERM ends it with the summary and a diff-like status.
//!
//! Nothing here asserts a duration: every wait polls for what must come, with
//! a generous limit that only a hang reaches.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest any awaited line may take: only reached if honk hangs.
const PATIENCE: Duration = Duration::from_secs(60);

const BASELINE: &str = "\
2024-05-01T10:00:00Z sshd[1201]: Accepted publickey for alice from 10.0.0.7 port 51234 ssh2
2024-05-01T10:00:01Z sshd[1201]: pam_unix(sshd:session): session opened for user alice
2024-05-01T10:00:05Z CRON[1302]: (root) CMD (run-parts /etc/cron.hourly)
2024-05-01T10:02:00Z sshd[1201]: pam_unix(sshd:session): session closed for user alice
";

/// A normal line (its kind is in the baseline).
fn normal(i: usize) -> String {
    format!(
        "2024-05-02T11:00:{i:02}Z sshd[{}]: session opened for user alice",
        2000 + i
    )
}

/// A line sharing no word with the baseline, told apart by `tag`.
fn unusual(tag: &str) -> String {
    format!("kernel: segfault in {tag} wrote outside bounds")
}

/// A scratch directory whose name has spaces and non-ASCII letters, holding
/// a model learned from [`BASELINE`].
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("honk watch é ✓ ").tempdir().unwrap();
    let base = dir.path().join("base line.log");
    fs::write(&base, BASELINE).unwrap();
    let model = dir.path().join("model ü.honk");
    let status = Command::new(env!("CARGO_BIN_EXE_honk"))
        .arg("learn")
        .arg("-q")
        .arg("-o")
        .arg(&model)
        .arg(&base)
        .status()
        .unwrap();
    assert!(status.success());
    (dir, model)
}

/// A scratch directory named `prefix…` and a model learned there from a small strace trace.
fn strace_scratch(prefix: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli/base.strace");
    let model = dir.path().join("m.honk");
    let status = Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(["learn", "-q", "-o"])
        .arg(&model)
        .arg(&base)
        .status()
        .unwrap();
    assert!(status.success());
    (dir, model)
}

/// A running `honk watch` and its output, line by line.
struct Watching {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err: Receiver<String>,
    /// Every line of standard error so far.
    said: Vec<String>,
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

impl Watching {
    fn start(dir: &Path, args: &[&str]) -> Watching {
        let mut child = Command::new(env!("CARGO_BIN_EXE_honk"))
            .current_dir(dir)
            .arg("watch")
            .args(args)
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = lines_of(child.stdout.take().unwrap());
        let err = lines_of(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        let mut watching = Watching {
            child,
            stdin,
            out,
            err,
            said: Vec::new(),
        };
        // Once it says so, every source is open: what is written now is read.
        watching.said_line(|l| l.contains("watching"));
        watching
    }

    /// The next line on standard output, waiting for it.
    fn next_out(&mut self, what: &str) -> String {
        match self.out.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => {
                self.drain_err();
                panic!("no output line for {what}; stderr: {:?}", self.said)
            }
        }
    }

    /// The next output line that starts an anomaly (not its `~ nearest` line).
    /// The next anomaly's first line (not its nearest-record line, not a policy row).
    fn next_alert(&mut self, what: &str) -> String {
        loop {
            let line = self.next_out(what);
            if !line.starts_with("  ") && !line.contains("  policy  ") {
                return line;
            }
        }
    }

    /// The next policy row.
    fn next_policy(&mut self, what: &str) -> String {
        loop {
            let line = self.next_out(what);
            if line.contains("  policy  ") {
                return line;
            }
        }
    }

    /// Waits for a line on standard error that `wanted` accepts.
    fn said_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        if let Some(line) = self.said.iter().find(|l| wanted(l)) {
            return line.clone();
        }
        while Instant::now() < deadline {
            if let Ok(line) = self.err.recv_timeout(Duration::from_millis(100)) {
                self.said.push(line.clone());
                if wanted(&line) {
                    return line;
                }
            }
        }
        panic!("stderr never said it; it said: {:?}", self.said);
    }

    fn drain_err(&mut self) {
        while let Ok(line) = self.err.try_recv() {
            self.said.push(line);
        }
    }

    fn write(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn terminate(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    /// Waits for honk to exit; its status, and the rest of its output.
    fn wait(mut self) -> (i32, Vec<String>, Vec<String>) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        let out: Vec<String> = self.out.iter().collect();
        let rest: Vec<String> = self.err.iter().collect();
        self.said.extend(rest);
        (status.code().unwrap_or(-1), out, self.said)
    }
}

fn append(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new().append(true).create(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

#[test]
fn an_appended_line_is_alerted_before_the_next_is_written_and_sigterm_ends_it_with_the_summary() {
    let (dir, model) = scratch();
    let log = dir.path().join("app é.log");
    fs::write(&log, "").unwrap();
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "app é.log"]);
    for i in 0..4 {
        append(&log, &format!("{}\n", normal(i)));
        let tag = format!("worker{i}");
        append(&log, &format!("{}\n", unusual(&tag)));
        let alert = watch.next_alert(&tag);
        assert!(alert.contains(&tag), "{alert}");
        assert!(
            alert.starts_with(&format!("app é.log:{}  1.00  ", 2 * i + 2)),
            "the line number in the file: {alert}"
        );
        assert!(watch.next_out("nearest").starts_with("  ~ "));
    }
    watch.terminate();
    let (code, out, err) = watch.wait();
    assert_eq!(code, 1, "anomalies were seen; stderr: {err:?}");
    assert!(out.is_empty(), "nothing more after the alerts: {out:?}");
    let summary = err
        .iter()
        .find(|l| l.contains("stopped by SIGTERM"))
        .expect("a summary");
    assert!(summary.contains("4 anomalies above 0.3 in 8 records"), "{summary}");
}

#[test]
fn a_clean_watch_stopped_by_sigterm_exits_0() {
    let (dir, model) = scratch();
    let log = dir.path().join("quiet.log");
    fs::write(&log, format!("{}\n", unusual("before-start"))).unwrap();
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "quiet.log"]);
    watch.terminate();
    let (code, out, err) = watch.wait();
    assert_eq!(
        code, 0,
        "what the file held before the watch is not scored; {out:?} {err:?}"
    );
    assert!(out.is_empty(), "{out:?}");
    let summary = err
        .iter()
        .find(|l| l.contains("stopped by SIGTERM"))
        .expect("a summary");
    assert!(summary.contains("0 anomalies above 0.3 in 0 records"), "{summary}");
}

#[test]
fn truncation_and_rotation_by_rename_are_followed() {
    let (dir, model) = scratch();
    let log = dir.path().join("rotating log.txt");
    // Three lines already there: not scored, but counted in line numbers.
    fs::write(&log, format!("{}\n{}\n{}\n", normal(0), unusual("old-news"), normal(1))).unwrap();
    let mut watch = Watching::start(
        dir.path(),
        &["-m", model.to_str().unwrap(), "--format", "text", "rotating log.txt"],
    );
    append(&log, &format!("{}\n", unusual("appended")));
    let alert = watch.next_alert("appended");
    assert!(
        alert.starts_with("rotating log.txt:4  ") && alert.contains("appended"),
        "{alert}"
    );

    // Truncated: read again from its start, and honk says so.
    fs::write(&log, "").unwrap();
    watch.said_line(|l| l.contains("truncated"));
    append(&log, &format!("{}\n{}\n", normal(2), unusual("after-truncation")));
    let alert = watch.next_alert("after-truncation");
    assert!(
        alert.starts_with("rotating log.txt:2  ") && alert.contains("after-truncation"),
        "{alert}"
    );

    // Rotated by rename: the old file gets its last line after the rename (no
    // newline yet), then a new file appears at the path.
    let rotated = dir.path().join("rotating log.txt.1");
    fs::rename(&log, &rotated).unwrap();
    append(&rotated, &unusual("last-of-old"));
    fs::write(&log, format!("{}\n", unusual("first-of-new"))).unwrap();
    let old = watch.next_alert("last-of-old");
    assert!(
        old.starts_with("rotating log.txt:3  ") && old.contains("last-of-old"),
        "{old}"
    );
    let new = watch.next_alert("first-of-new");
    assert!(
        new.starts_with("rotating log.txt:1  ") && new.contains("first-of-new"),
        "{new}"
    );
    watch.said_line(|l| l.contains("replaced"));

    watch.terminate();
    let (code, _, err) = watch.wait();
    assert_eq!(code, 1);
    assert!(err.iter().any(|l| l.contains("4 anomalies")), "{err:?}");
}

#[test]
fn from_start_scores_what_the_file_holds_already() {
    let (dir, model) = scratch();
    let log = dir.path().join("full.log");
    fs::write(&log, format!("{}\n{}\n", normal(0), unusual("already-there"))).unwrap();
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "--from-start", "full.log"]);
    let alert = watch.next_alert("already-there");
    assert!(
        alert.starts_with("full.log:2  ") && alert.contains("already-there"),
        "{alert}"
    );
    watch.terminate();
    assert_eq!(watch.wait().0, 1);
}

#[test]
fn a_pipe_written_a_line_every_100_ms_gets_each_alert_before_the_next_line() {
    let (dir, model) = scratch();
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "--json"]);
    let mut alerts = Vec::new();
    for i in 0..10 {
        thread::sleep(Duration::from_millis(100));
        if i % 3 == 2 {
            let tag = format!("pipe{i}");
            watch.write(&unusual(&tag));
            let line = watch.next_out(&tag);
            let row: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(row["type"], "anomaly");
            assert_eq!(row["source"], "<stdin>");
            assert_eq!(row["line"], i + 1);
            assert!(row["text"].as_str().unwrap().contains(&tag), "{row}");
            alerts.push(i + 1);
        } else {
            watch.write(&normal(i));
        }
    }
    // The end of standard input ends the watch, with its summary.
    let (code, out, err) = watch.wait();
    assert_eq!(alerts, [3, 6, 9]);
    assert_eq!(code, 1);
    assert!(
        out.iter().all(|l| !l.contains("\"anomaly\"")),
        "no late alerts: {out:?}"
    );
    let summary = err.iter().find(|l| l.contains("anomalies above")).expect("a summary");
    assert!(summary.contains("3 anomalies above 0.3 in 10 records"), "{summary}");
    assert!(!summary.contains("stopped"), "{summary}");
}

#[test]
fn mistakes_get_a_one_line_reason_and_status_2() {
    let (dir, model) = scratch();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_honk"))
            .current_dir(dir.path())
            .arg("watch")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let model = model.to_str().unwrap();
    for (args, reason) in [
        (vec!["-m", "no such model.honk", "x.log"], "no such model.honk"),
        (vec!["-m", model, "."], "is a directory"),
        (vec!["-m", model, "--top", "3", "x.log"], "--top"),
        (vec!["-m", model, "-", "-"], "once"),
    ] {
        let (code, stderr) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("honk: error: ") && stderr.contains(reason),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn an_unfinished_call_is_joined_to_its_tail_or_let_go_when_its_source_goes_quiet() {
    let (dir, model) = strace_scratch("honk watch strace ");
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "--format", "strace", "-"]);
    watch.write("4601  openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3");
    watch.write("4602  connect(5, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr(\"10.9.8.7\")}, 16 <unfinished ...>");
    watch.write("4601  read(3, \"vm\\n\", 4096)           = 3");
    watch.write("4602  <... connect resumed>)          = -1 ECONNREFUSED (Connection refused)");
    // Joined: one record, at the line of its start, with both halves.
    let alert = watch.next_alert("the joined connect");
    assert!(
        alert.starts_with("<stdin>:2  ") && alert.contains("4444") && alert.contains("ECONNREFUSED"),
        "{alert}"
    );
    // A call whose tail never comes holds back what follows it, until the
    // source has been quiet a while: then both are scored as they are.
    watch.write("4603  openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY <unfinished ...>");
    watch.write("4601  execve(\"/usr/bin/nc\", [\"nc\", \"-e\", \"/bin/sh\"], 0x7ffd /* 3 vars */) = 0");
    let held = watch.next_alert("the call that never resumed");
    assert!(
        held.starts_with("<stdin>:5  ") && held.contains("/etc/shadow"),
        "{held}"
    );
    let next = watch.next_alert("the record behind it");
    assert!(next.starts_with("<stdin>:6  ") && next.contains("nc"), "{next}");
    let (code, _, err) = watch.wait();
    assert_eq!(code, 1, "{err:?}");
}

#[test]
fn several_files_are_followed_at_once_each_under_its_name() {
    let (dir, model) = scratch();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b ü.log");
    fs::write(&a, "").unwrap();
    fs::write(&b, "").unwrap();
    let mut watch = Watching::start(
        dir.path(),
        &["-m", model.to_str().unwrap(), "--json", "a.log", "b ü.log"],
    );
    for (i, (path, name)) in [(&a, "a.log"), (&b, "b ü.log"), (&b, "b ü.log"), (&a, "a.log")]
        .into_iter()
        .enumerate()
    {
        let tag = format!("multi{i}");
        append(path, &format!("{}\n{}\n", normal(i), unusual(&tag)));
        let row: Value = serde_json::from_str(&watch.next_out(&tag)).unwrap();
        assert_eq!(row["source"], name, "{row}");
        assert!(row["text"].as_str().unwrap().contains(&tag), "{row}");
    }
    watch.terminate();
    let (code, _, err) = watch.wait();
    assert_eq!(code, 1);
    assert!(
        err.iter().any(|l| l.contains("4 anomalies") && l.contains("2 inputs")),
        "{err:?}"
    );
}

#[test]
fn a_call_outside_the_baseline_is_told_when_it_is_made_and_once() {
    let (dir, model) = strace_scratch("honk watch policy ");
    let mut watch = Watching::start(dir.path(), &["-m", model.to_str().unwrap(), "--format", "strace", "-"]);
    watch.write("4601  openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3");
    watch.write("4601  ptrace(PTRACE_ATTACH, 1, NULL, NULL) = -1 EPERM (Operation not permitted)");
    // Told before the next line is written: the watch is still running.
    let told = watch.next_policy("the first ptrace");
    assert!(
        told.starts_with("<stdin>:2  policy  ptrace is a system call the baseline never made"),
        "{told}"
    );
    watch.write("4601  ptrace(PTRACE_ATTACH, 2, NULL, NULL) = -1 EPERM (Operation not permitted)");
    watch.write("4601  close(3) = 0");
    let (code, out, err) = watch.wait();
    assert_eq!(code, 1, "{err:?}");
    // Once: not again for the second call, nor in the list at the end.
    let rows: Vec<&String> = out.iter().filter(|l| l.contains("policy  ptrace")).collect();
    assert!(rows.is_empty(), "told again: {rows:?}");
    assert!(
        err.iter()
            .any(|l| l.contains("2 calls to system calls the baseline never made: ptrace")),
        "{err:?}"
    );
}

/// `honk inspect --json MODEL`'s `model` object.
fn inspect(model: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(["inspect", "--json"])
        .arg(model)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    row["model"].clone()
}

/// Polls until `ready` accepts the model's `inspect` object; returns it.
fn model_when(model: &Path, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = inspect(model);
        if ready(&seen) {
            return seen;
        }
        assert!(Instant::now() < deadline, "the model never showed {what}: {seen}");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_learning_watch_saves_what_it_saw_at_intervals_and_at_the_end_counting_each_record_once() {
    let (dir, model) = scratch();
    let base_records = inspect(&model)["records"].as_u64().unwrap();
    assert_eq!(base_records, 4);
    let log = dir.path().join("new app ß.log");
    fs::write(&log, "").unwrap();
    let args = [
        "--learn",
        "--save-every",
        "1",
        "-m",
        model.to_str().unwrap(),
        "new app ß.log",
    ];
    let mut watch = Watching::start(dir.path(), &args);
    for tag in ["alpha", "beta", "gamma"] {
        append(&log, &format!("{}\n", unusual(tag)));
        // Scored against the model as loaded: each is new there.
        assert!(watch.next_alert(tag).contains(tag));
        assert!(watch.next_out("nearest").starts_with("  ~ "));
    }
    // Saved within the interval, while the watch goes on.
    let saved = model_when(&model, "the three lines", |m| m["records"] == base_records + 3);
    let sources: Vec<&str> = saved["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "the base log and the watched one: {saved}");
    assert!(sources[1].ends_with("new app ß.log"), "{sources:?}");
    append(&log, &format!("{}\n{}\n", normal(1), unusual("delta")));
    assert!(watch.next_alert("delta").contains("delta"));
    watch.terminate();
    let (code, _, err) = watch.wait();
    assert_eq!(code, 1, "{err:?}");
    let summary = err.iter().find(|l| l.contains("learned")).expect("what was learned");
    assert!(summary.contains("learned 5 records"), "{summary}");
    // The last save holds the base and each watched record once, not the
    // interval's save plus the whole watch again.
    let last = inspect(&model);
    assert_eq!(last["records"], base_records + 5, "{last}");
    assert_eq!(last["sources"].as_array().unwrap().len(), 2, "{last}");

    // What was learned no longer alerts.
    let again = dir.path().join("again.log");
    fs::write(&again, format!("{}\n{}\n", unusual("alpha"), unusual("delta"))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(["score", "-q", "-m"])
        .arg(&model)
        .arg(&again)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_learning_watch_that_saw_nothing_leaves_the_model_untouched() {
    let (dir, model) = scratch();
    let before = fs::read(&model).unwrap();
    let modified = fs::metadata(&model).unwrap().modified().unwrap();
    let log = dir.path().join("idle.log");
    fs::write(&log, format!("{}\n", unusual("old"))).unwrap();
    let mut watch = Watching::start(
        dir.path(),
        &[
            "--learn",
            "--save-every",
            "1",
            "-m",
            model.to_str().unwrap(),
            "idle.log",
        ],
    );
    // Two intervals pass with nothing new to learn.
    thread::sleep(Duration::from_millis(2500));
    watch.terminate();
    let (code, _, err) = watch.wait();
    assert_eq!(code, 0, "{err:?}");
    assert!(err.iter().any(|l| l.contains("nothing was learned")), "{err:?}");
    assert_eq!(fs::read(&model).unwrap(), before);
    assert_eq!(fs::metadata(&model).unwrap().modified().unwrap(), modified);
}

#[test]
fn a_learn_into_the_model_waits_for_a_learning_watch_and_loses_nothing() {
    let (dir, model) = scratch();
    let log = dir.path().join("watched.log");
    fs::write(&log, "").unwrap();
    let mut watch = Watching::start(dir.path(), &["--learn", "-m", model.to_str().unwrap(), "watched.log"]);
    append(&log, &format!("{}\n", unusual("watched")));
    assert!(watch.next_alert("watched").contains("watched"));
    let other = dir.path().join("other run.log");
    fs::write(&other, format!("{}\n{}\n", normal(1), normal(2))).unwrap();
    let mut learn = Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(["learn", "-o"])
        .arg(&model)
        .arg(&other)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let learn_err = lines_of(learn.stderr.take().unwrap());
    let waiting = learn_err.recv_timeout(PATIENCE).expect("learn says it waits");
    assert!(waiting.contains("waiting for honk (process"), "{waiting}");
    assert!(learn.try_wait().unwrap().is_none(), "learn waits for the watch");
    watch.terminate();
    let (code, _, err) = watch.wait();
    assert_eq!(code, 1, "{err:?}");
    assert!(learn.wait().unwrap().success());
    let m = inspect(&model);
    assert_eq!(
        m["records"],
        4 + 1 + 2,
        "the base, the watch's line and the other run: {m}"
    );
    assert_eq!(m["sources"].as_array().unwrap().len(), 3, "{m}");
}

#[test]
fn save_every_needs_learn_and_must_be_more_than_zero() {
    let (dir, model) = scratch();
    for (args, reason) in [
        (
            vec!["--save-every", "10", "-m", model.to_str().unwrap(), "x.log"],
            "--learn",
        ),
        (
            vec!["--learn", "--save-every", "0", "-m", model.to_str().unwrap(), "x.log"],
            "more than 0",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_honk"))
            .current_dir(dir.path())
            .arg("watch")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}
