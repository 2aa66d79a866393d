//! What honk promises about the files it reads and writes (issue 13, "Trust"):
//! it never clobbers what an output path names, never loses a concurrent
//! learner's inputs, leaves nothing behind when killed, recognises its own
//! models, and never lets a file name drive the terminal.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cli")
}

fn honk_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("honk").unwrap();
    cmd.current_dir(dir).env_remove("NO_COLOR").env_remove("TERM");
    cmd
}

/// What one run did; it must have exited (no signal) with 0, 1 or 2, without a panic.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {stderr}"));
    assert!(!stderr.contains("panicked"), "honk panicked: {stderr}");
    assert!((0..=2).contains(&code), "exit status {code}: {stderr}");
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["baseline.log", "target.log"] {
        fs::copy(fixtures().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn learn(dir: &Path, model: &str, inputs: &[&str]) {
    let r = run(honk_in(dir).args(["learn", "-q", "-o", model]).args(inputs));
    assert_eq!(r.code, 0, "learn failed: {}", r.stderr);
}

/// A log of `lines` lines whose words are all its own (`tag`), so a model
/// that lost it scores it as new.
fn own_log(path: &Path, tag: &str, lines: usize) {
    let text: String = (0..lines)
        .map(|i| format!("service {tag}alpha{} {tag}beta{} started {tag}gamma\n", i % 50, i % 7))
        .collect();
    fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------
// Outputs: devices, pipes, links and inputs are not clobbered
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn output_to_a_device_writes_to_it_and_keeps_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    // As root, a rename would have replaced /dev/null with a regular file.
    let r = run(honk_in(dir.path()).args(["seccomp", "-q", "-m", "m.honk", "--base", "default", "-o", "/dev/null"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let r = run(honk_in(dir.path()).args(["score", "-q", "-m", "m.honk", "--html", "/dev/null", "target.log"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    // --html /dev/stdout: the page goes to standard output.
    let r = run(honk_in(dir.path()).args(["score", "-q", "-m", "m.honk", "--html", "/dev/stdout", "target.log"]));
    assert!(r.stdout.contains("<html"), "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn output_to_a_fifo_goes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let r = run(honk_in(dir.path()).args(["seccomp", "-q", "-m", "m.honk", "--base", "default", "-o", "pipe"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(reader.join().unwrap().contains("defaultAction"));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
#[test]
fn output_through_a_symbolic_link_updates_its_target() {
    let dir = scratch();
    fs::create_dir(dir.path().join("models")).unwrap();
    learn(dir.path(), "models/m.honk", &["baseline.log"]);
    std::os::unix::fs::symlink("models/m.honk", dir.path().join("current.honk")).unwrap();
    learn(dir.path(), "current.honk", &["target.log"]);
    assert!(fs::symlink_metadata(dir.path().join("current.honk"))
        .unwrap()
        .file_type()
        .is_symlink());
    // The target has both inputs: scoring the target log finds nothing new.
    let r = run(honk_in(dir.path()).args(["score", "-q", "-m", "models/m.honk", "target.log"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(names(&dir.path().join("models")), ["m.honk"]);

    let r = run(honk_in(dir.path()).args(["seccomp", "-q", "-m", "m", "-o", "x"]));
    assert_eq!(r.code, 2);
}

#[test]
fn an_output_that_is_an_input_is_refused_and_left_alone() {
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let log = fs::read(dir.path().join("target.log")).unwrap();
    let model = fs::read(dir.path().join("m.honk")).unwrap();
    let cases: &[&[&str]] = &[
        &["score", "-m", "m.honk", "--html", "target.log", "target.log"],
        &["score", "-m", "m.honk", "--html", "./m.honk", "target.log"],
        &["diff", "--html", "baseline.log", "baseline.log", "target.log"],
        &["diff", "--html", "target.log", "baseline.log", "."],
        &["seccomp", "-m", "m.honk", "-o", "m.honk"],
    ];
    for args in cases {
        let r = run(honk_in(dir.path()).args(*args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("which honk reads"), "{args:?}: {}", r.stderr);
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("target.log", dir.path().join("alias")).unwrap();
        let r = run(honk_in(dir.path()).args(["score", "-m", "m.honk", "--html", "alias", "target.log"]));
        assert_eq!(r.code, 2, "{}", r.stderr);
    }
    assert_eq!(fs::read(dir.path().join("target.log")).unwrap(), log);
    assert_eq!(fs::read(dir.path().join("m.honk")).unwrap(), model);
}

// ---------------------------------------------------------------------------
// Concurrent learners take turns
// ---------------------------------------------------------------------------

#[test]
fn concurrent_learners_into_one_model_keep_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let tags = ["red", "green", "blue", "amber"];
    for tag in tags {
        own_log(&dir.path().join(format!("{tag}.log")), tag, 20_000);
    }
    for round in 0..3 {
        let model = format!("m{round}.honk");
        let children: Vec<_> = tags
            .iter()
            .map(|tag| {
                Process::cargo_bin("honk")
                    .unwrap()
                    .current_dir(dir.path())
                    .args(["learn", "-q", "-o", &model, &format!("{tag}.log")])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        for tag in tags {
            let r = run(honk_in(dir.path()).args(["score", "-q", "-m", &model, &format!("{tag}.log")]));
            assert_eq!(r.code, 0, "round {round}: the inputs of {tag} were lost");
        }
        assert_eq!(
            names(dir.path()).iter().filter(|n| n.starts_with(&model)).count(),
            1,
            "no lock or temporary file is left: {:?}",
            names(dir.path())
        );
    }
}

#[cfg(unix)]
#[test]
fn a_learner_says_whom_it_waits_for() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    // Hold the lock as a honk would: flock the lock file and put our pid in it.
    let mut lock = fs::File::create(dir.path().join("m.honk.lock")).unwrap();
    // SAFETY: a valid file descriptor.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    writeln!(lock, "{}", std::process::id()).unwrap();
    let mut child = Process::cargo_bin("honk")
        .unwrap()
        .current_dir(dir.path())
        .args(["learn", "-o", "m.honk", "target.log"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no waiting message");
        if line.contains("waiting for") {
            break;
        }
    }
    assert!(
        line.contains(&format!("process {}", std::process::id())) && line.contains("m.honk.lock"),
        "{line}"
    );
    drop(lock);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("now holds"), "{rest}");
    let r = run(honk_in(dir.path()).args(["score", "-q", "-m", "m.honk", "target.log"]));
    assert_eq!(r.code, 0);
}

// ---------------------------------------------------------------------------
// Killed writers leave nothing behind
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_learner_killed_at_any_point_leaves_the_model_intact_and_nothing_beside_it() {
    let inputs = tempfile::tempdir().unwrap();
    let log = inputs.path().join("big.log");
    // Many distinct lines, so encoding and writing the model takes a while.
    let text: String = (0..200_000)
        .map(|i| format!("request {i} path /srv/item{i}/part{} user u{} done\n", i * 7, i * 13))
        .collect();
    fs::write(&log, text).unwrap();
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let model = fs::read(dir.path().join("m.honk")).unwrap();
    // Kill it at ever later moments: while reading, learning, encoding, writing.
    let mut finished = false;
    for delay_ms in (0..).map(|i| i * 40) {
        let mut child = Process::cargo_bin("honk")
            .unwrap()
            .current_dir(dir.path())
            .args(["learn", "-q", "-o", "m.honk"])
            .arg(&log)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let left = names(dir.path());
        let extra: Vec<&String> = left
            .iter()
            .filter(|n| !["baseline.log", "target.log", "m.honk", "m.honk.lock"].contains(&n.as_str()))
            .collect();
        assert!(extra.is_empty(), "killed after {delay_ms} ms, left {extra:?}");
        if status.success() {
            finished = true;
            break;
        }
        // Killed: the model is the old one, whole, or, when the kill landed
        // after the new one was in place (on the way out), the new one, whole.
        let now = fs::read(dir.path().join("m.honk")).unwrap();
        if now != model {
            let merged = honk::model::Model::from_bytes(&now).expect("the new model, whole");
            assert_eq!(merged.sources.len(), 2, "the old input and the new one");
            finished = true;
            break;
        }
        assert!(delay_ms < 60_000, "learn never finished");
    }
    assert!(finished);
    let r = run(honk_in(dir.path()).args(["score", "-q", "-m", "m.honk"]).arg(&log));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Models are recognised as models
// ---------------------------------------------------------------------------

#[test]
fn a_model_is_not_learned_as_a_log() {
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    let before = fs::read(dir.path().join("m.honk")).unwrap();
    let r = run(honk_in(dir.path()).args(["learn", "-o", "x.honk", "m.honk"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("m.honk is a honk model, not a log"), "{}", r.stderr);
    assert!(!dir.path().join("x.honk").exists());
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "m.honk"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is the model being written"), "{}", r.stderr);
    assert_eq!(fs::read(dir.path().join("m.honk")).unwrap(), before);
}

#[test]
fn the_output_model_inside_an_input_directory_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::copy(fixtures().join("baseline.log"), logs.join("a.log")).unwrap();
    learn(dir.path(), "logs/m.honk", &["logs"]);
    // Again, with the model in the directory: it is not learned as a log.
    let r = run(honk_in(dir.path()).args(["learn", "-o", "logs/m.honk", "logs"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("from logs/a.log") || r.stderr.contains("from 1 "),
        "{}",
        r.stderr
    );
    let r = run(honk_in(dir.path()).args(["inspect", "--json", "logs/m.honk"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    let sources: Vec<&str> = v["model"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["logs/a.log", "logs/a.log"]);
    // Another model in an input directory is refused.
    fs::copy(logs.join("m.honk"), logs.join("old.honk")).unwrap();
    let r = run(honk_in(dir.path()).args(["learn", "-o", "logs/m.honk", "logs"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("old.honk is a honk model"), "{}", r.stderr);
}

#[test]
fn inspect_shows_a_model() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(fixtures().join("base.strace"), dir.path().join("base.strace")).unwrap();
    learn(dir.path(), "m.honk", &["base.strace"]);
    let r = run(honk_in(dir.path()).args(["inspect", "m.honk"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "m.honk: honk model",
        &format!("format {}", honk::model::FORMAT_VERSION),
        "base.strace",
        "unique records",
        "system calls",
        "openat",
    ] {
        assert!(r.stdout.contains(needle), "{needle} missing:\n{}", r.stdout);
    }
    let r = run(honk_in(dir.path()).args(["inspect", "--json", "m.honk", "base.strace"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    // Every row says what it is, as those of score and diff do.
    assert_eq!(
        (&lines[0]["type"], &lines[1]["type"]),
        (&"model".into(), &"input".into())
    );
    assert_eq!(lines[0]["format"], "honk model");
    assert!(lines[0]["model"]["syscalls"]["openat"].as_u64().unwrap() > 0);
    assert_eq!(lines[1]["format"], "strace");
}

// ---------------------------------------------------------------------------
// File names cannot drive the terminal
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn terminal_escapes_in_file_names_are_escaped_everywhere_they_are_printed() {
    use std::io::Write;
    let evil = "x\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let dir = scratch();
    fs::copy(dir.path().join("target.log"), dir.path().join(format!("{evil}.log"))).unwrap();
    // A zip whose member has the name.
    let zip_path = dir.path().join("t.zip");
    let mut zip = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    zip.start_file(format!("{evil}.log"), zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&fs::read(dir.path().join("target.log")).unwrap())
        .unwrap();
    zip.finish().unwrap();
    let runs: Vec<Vec<String>> = vec![
        // The summary and the anomalies name the file.
        vec!["diff".into(), "baseline.log".into(), format!("{evil}.log")],
        vec!["diff".into(), "baseline.log".into(), "t.zip".into()],
        vec!["inspect".into(), format!("{evil}.log")],
        vec![
            "learn".into(),
            "-o".into(),
            format!("{evil}.honk"),
            format!("{evil}.log"),
        ],
        vec!["learn".into(), "-o".into(), format!("{evil}.honk"), "t.zip".into()],
        // Errors name it.
        vec![
            "score".into(),
            "-m".into(),
            format!("{evil}.missing"),
            "target.log".into(),
        ],
        vec!["score".into(), "-m".into(), format!("{evil}.log"), "target.log".into()],
        vec!["diff".into(), "baseline.log".into(), format!("{evil}.missing")],
    ];
    for args in runs {
        let r = run(honk_in(dir.path()).args(&args));
        assert!(
            !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'),
            "{args:?}: {:?}",
            r.stderr
        );
        assert!(
            !r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'),
            "{args:?}: {:?}",
            r.stdout
        );
        let escaped = "\\x1b]0;pwned\\x07\\x1b[2J";
        assert!(
            r.stderr.contains(escaped) || r.stdout.contains(escaped),
            "{args:?} names it, escaped: {}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// Context is given once, so output grows with the input
// ---------------------------------------------------------------------------

#[test]
fn large_context_on_dense_anomalies_prints_each_record_once() {
    let dir = scratch();
    // 2,000 records, every other one new to the baseline.
    let text: String = (0..2000)
        .map(|i| {
            if i % 2 == 0 {
                format!("zz{i} qq{i} unheard of\n")
            } else {
                "cron job started\n".to_owned()
            }
        })
        .collect();
    fs::write(dir.path().join("dense.log"), text).unwrap();
    fs::write(dir.path().join("base.log"), "cron job started\n").unwrap();
    let r = run(honk_in(dir.path()).args(["diff", "-q", "--json", "-C", "1000", "base.log", "dense.log"]));
    assert_eq!(r.code, 1);
    let mut given = 0;
    for line in r.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("policy").is_some() || v.get("line").is_none() {
            continue;
        }
        given += 1 + v["before"].as_array().map_or(0, Vec::len) + v["after"].as_array().map_or(0, Vec::len);
    }
    // Each record once, plus at most one touching record per anomaly.
    assert!(given <= 3000, "{given} records printed for 2,000");
    let r = run(honk_in(dir.path()).args([
        "diff",
        "-q",
        "--color",
        "never",
        "--records",
        "0",
        "-C",
        "1000",
        "base.log",
        "dense.log",
    ]));
    // Record lines and context lines; not the incidents' headers.
    let printed = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("dense.log") && !l.contains("  incident "))
        .count();
    assert_eq!(printed, 2000, "every record printed exactly once");
}

// ---------------------------------------------------------------------------
// Help, man pages and completions
// ---------------------------------------------------------------------------

#[test]
fn generate_is_in_the_help_and_the_internal_command_in_no_completion() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(honk_in(dir.path()).arg("--help"));
    assert!(r.stdout.contains("generate"), "{}", r.stdout);
    assert!(!r.stdout.contains("seccomp-exec"), "{}", r.stdout);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run(honk_in(dir.path()).args(["generate", "completions", shell]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("learn"), "{shell}");
        assert!(
            !r.stdout.contains("seccomp-exec"),
            "{shell} offers the internal command"
        );
    }
    // The internal command still runs.
    let r = run(honk_in(dir.path()).args(["__seccomp-exec", "--help"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("--profile"), "{}", r.stdout);
}

#[test]
fn generate_man_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(honk_in(dir.path()).args(["generate", "man", "."]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pages = names(dir.path());
    for page in [
        "honk.1",
        "honk-learn.1",
        "honk-score.1",
        "honk-diff.1",
        "honk-inspect.1",
        "honk-seccomp.1",
        "honk-trace.1",
        "honk-eval.1",
        "honk-demo.1",
        "honk-generate.1",
    ] {
        assert!(pages.contains(&page.to_owned()), "{page} missing: {pages:?}");
    }
    assert!(
        !pages.iter().any(|p| p.contains("seccomp-exec") || p.contains("help")),
        "{pages:?}"
    );
    let learn = fs::read_to_string(dir.path().join("honk-learn.1")).unwrap();
    assert!(
        learn.contains(".TH honk-learn 1") && learn.contains("\\-\\-output"),
        "{learn}"
    );
    // Without DIR, the top-level page on standard output, as before.
    let r = run(honk_in(dir.path()).args(["generate", "man"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH honk 1"), "{}", r.stdout);
    assert!(r.stdout.contains("generate"), "the top page lists generate");
    let r = run(honk_in(dir.path()).args(["generate", "man", "missing"]));
    assert_eq!(r.code, 2);
}

// ---------------------------------------------------------------------------
// Standard input on a terminal
// ---------------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn score_on_a_terminal_says_it_reads_standard_input() {
    use std::os::fd::FromRawFd;
    let dir = scratch();
    learn(dir.path(), "m.honk", &["baseline.log"]);
    // A pseudo-terminal: the child's standard input is its terminal side.
    // SAFETY: plain libc calls on descriptors we own, checked for errors.
    let (master, slave) = unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "no pseudo-terminals here");
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let name = libc::ptsname(master);
        assert!(!name.is_null());
        let slave = libc::open(name, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(slave >= 0);
        // Else the child inherits the terminal's other side and never sees it hang up.
        assert_eq!(libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        (fs::File::from_raw_fd(master), fs::File::from_raw_fd(slave))
    };
    let mut child = Process::cargo_bin("honk")
        .unwrap()
        .current_dir(dir.path())
        .args(["score", "-m", "m.honk"])
        .stdin(Stdio::from(slave))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("reading standard input"), "{line}");
    // Hanging up the terminal ends the input.
    drop(master);
    let status = child.wait().unwrap();
    assert!(status.code().is_some(), "{status:?}");

    // Piped input: no hint.
    let r = run(honk_in(dir.path())
        .args(["score", "-m", "m.honk"])
        .write_stdin("cron job started\n"));
    assert!(!r.stderr.contains("reading standard input"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Long lines of numbers
// ---------------------------------------------------------------------------

#[test]
fn an_adfa_style_trace_of_40000_calls_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let calls: Vec<&str> = ["3", "4", "5", "6", "102", "240"]
        .iter()
        .copied()
        .cycle()
        .take(40_000)
        .collect();
    fs::write(dir.path().join("long.txt"), calls.join(" ") + "\n").unwrap();
    let r = run(honk_in(dir.path()).args(["inspect", "--json", "long.txt"]));
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["format"], "numbers");
    assert_eq!(v["records"], 40_000);
    assert_eq!(v["truncated_lines"], 0);
    let r = run(honk_in(dir.path()).args(["learn", "-o", "m.honk", "long.txt"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("learned 40,000 records"), "{}", r.stderr);
    assert!(!r.stderr.contains("cut"), "{}", r.stderr);
}
