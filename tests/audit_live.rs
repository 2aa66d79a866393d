//! A Linux audit log made now, by the kernel's audit subsystem and a real
//! auditd, then read by honk.
//!
//! The fixtures in `tests/fixtures/audit/` were captured once (their README
//! says how); this test captures the same way on the machine it runs on, so a
//! change of auditd's or the kernel's output shows up here:
//!
//! 1. it checks that it may: root, `auditctl` and `auditd` installed,
//!    `auditctl -s` works, audit not locked, no rules loaded (`auditctl -l`
//!    says "No rules"), no audit daemon registered (`pid 0`) or running (no
//!    process named `auditd`), and a shell may set its login uid. Otherwise it
//!    prints why and passes without testing anything: it never disturbs a
//!    system that uses audit;
//! 2. it starts `auditd -n -c DIR` as its child, with a copy of
//!    `/etc/audit/auditd.conf` that logs `ENRICHED` (Debian's default) to
//!    `DIR/audit.log`, loads no plugins and ignores disk space;
//! 3. it adds rules for `execve`, `connect` and `openat` of `/etc/shadow` and
//!    of a temporary file, all limited to two login uids nothing else uses
//!    (4243 and 4244; the fixtures used 4242), and runs
//!    `tests/fixtures/audit/live-workload.sh` twice: as the baseline with
//!    login uid 4243, then as the target, which adds `cat /etc/shadow` and
//!    `sh -c id`, with 4244. It waits until each run's events are in the log;
//! 4. it removes its rules, restores the kernel's `enabled` flag and stops
//!    auditd, whatever happens (a guard does it on panic too), and checks that
//!    audit is back as it found it;
//! 5. it splits the log by login uid (every record of an event whose `SYSCALL`
//!    or `LOGIN` record says `auid=4243`, or `4244`; late or unrelated events
//!    cannot land in the wrong part, as they could with a split by offset) and
//!    checks honk: `inspect` sees an audit log it parses, `diff` flags the
//!    read of `/etc/shadow` and the run of `id`, and a baseline against
//!    itself is clean.
//!
//! Takes a quarter of a second (debug build). CI installs auditd
//! (`apt-get install auditd`) and must leave no auditd running, or this test
//! skips. Only a SIGKILL of the test between steps 2 and 4
//! could leave auditd and the rules behind (`auditctl -D -k honk-live`,
//! `auditctl -e 0`, `kill $(cat /run/auditd.pid)` undo it).

mod common;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use tempfile::TempDir;

/// Login uid of the baseline run.
const BASELINE_UID: u32 = 4243;
/// Login uid of the target run.
const TARGET_UID: u32 = 4244;
/// The key of every rule the test adds (`auditctl -D -k` removes exactly them).
const KEY: &str = "honk-live";
/// The workload's last command, `/bin/true honk-live-end`.
const END_MARK: &str = "honk-live-end";
/// How long auditd may take to start, and events to reach the log.
const PATIENCE: Duration = Duration::from_secs(10);

#[test]
fn an_audit_log_made_now_is_parsed_and_scored() {
    let started = Instant::now();
    let tools = match preflight() {
        Ok(tools) => tools,
        Err(why) => {
            common::skip(&format!("audit_live: {why}"));
            return;
        }
    };
    let dir = TempDir::new().unwrap();
    let dir = dir.path();
    let secret = dir.join("a b.txt"); // a space: audit writes the name hex-encoded
    fs::write(&secret, "hello\n").unwrap();
    let log = dir.join("audit.log");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    // Steps 2 to 4: the guard undoes everything when dropped, panic or not.
    let mut audit = Audit::new(&tools);
    audit.start_daemon(dir, &log);
    let range = [format!("auid>={BASELINE_UID}"), format!("auid<={TARGET_UID}")];
    let secret_rule = format!("path={}", secret.display());
    let rules: [&[&str]; 4] = [
        &["-S", "execve"],
        &["-S", "connect", "-F", "a2!=110"], // not a full-size sockaddr_un (name service lookups)
        &["-S", "openat", "-F", "path=/etc/shadow"],
        &["-S", "openat", "-F", &secret_rule],
    ];
    for rule in rules {
        let mut args = vec!["-a", "always,exit", "-F", "arch=b64", "-F", &range[0], "-F", &range[1]];
        args.extend_from_slice(rule);
        args.extend_from_slice(&["-k", KEY]);
        audit.ctl_ok(&args);
    }
    run_workload(BASELINE_UID, "baseline", &secret, port);
    let baseline = wait_for_events(&log, BASELINE_UID, &[END_MARK]);
    run_workload(TARGET_UID, "target", &secret, port);
    let target = wait_for_events(&log, TARGET_UID, &[END_MARK, "name=\"/etc/shadow\"", "=\"id\""]);
    let traced = started.elapsed();
    let problems = audit.cleanup();
    assert!(problems.is_empty(), "restoring audit went wrong: {problems:#?}");
    audit.assert_restored();
    drop(listener);

    let whole = fs::read_to_string(&log).unwrap();
    eprintln!(
        "audit_live: traced in {:.1} s: {} lines in the log, {} baseline and {} target lines",
        traced.as_secs_f64(),
        whole.lines().count(),
        baseline.lines().count(),
        target.lines().count()
    );
    fs::write(dir.join("baseline.log"), &baseline).unwrap();
    fs::write(dir.join("target.log"), &target).unwrap();

    // Step 5: honk.
    for name in ["target.log", "audit.log"] {
        let report = inspect(dir, name);
        let field = |key: &str| report[key].as_u64().unwrap_or_else(|| panic!("no {key} in {report}"));
        let (lines, records, unparsed) = (field("lines"), field("records"), field("unparsed"));
        let kinds: Vec<String> = report["syscalls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{} {}", s["name"].as_str().unwrap_or("?"), s["count"]))
            .collect();
        eprintln!(
            "audit_live: inspect {name}: format {}, {lines} lines, {records} records ({}), {unparsed} unparsed",
            report["format"],
            kinds.join(", ")
        );
        assert_eq!(report["format"], "audit", "{name} not seen as an audit log: {report}");
        assert!(records > 0, "no records in {name}: {report}");
        assert!(unparsed * 20 <= lines, "more than 5% of {name} unparsed: {report}");
    }

    let anomalies = diff(dir, "baseline.log", "target.log", 1);
    for a in &anomalies {
        eprintln!(
            "audit_live: flagged {:.2} line {}: {}",
            a["score"].as_f64().unwrap_or(f64::NAN),
            a["line"],
            short(text(a))
        );
    }
    let flagged = |what: &str, hit: &dyn Fn(&str) -> bool| {
        assert!(
            anomalies.iter().any(|a| hit(text(a))),
            "honk did not flag {what}; flagged:\n{anomalies:#?}\ntarget log:\n{target}"
        );
    };
    flagged("the read of /etc/shadow", &|t| t.contains("/etc/shadow"));
    flagged("the run of id", &|t| t.contains("=\"id\"") || t.contains("/usr/bin/id"));
    let clean = diff(dir, "baseline.log", "baseline.log", 0);
    assert!(clean.is_empty(), "the baseline against itself flagged: {clean:#?}");
    eprintln!("audit_live: passed in {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------
// Preflight: may this test use audit here?
// ---------------------------------------------------------------------------

struct Tools {
    auditctl: PathBuf,
    auditd: PathBuf,
    /// The kernel's `enabled` flag before the test (0 or 1).
    enabled: String,
}

fn preflight() -> Result<Tools, String> {
    if !cfg!(target_os = "linux") || !cfg!(target_pointer_width = "64") {
        return Err("needs 64-bit Linux (the rules say arch=b64)".into());
    }
    let status = fs::read_to_string("/proc/self/status").map_err(|e| format!("cannot read /proc/self/status: {e}"))?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("?");
    if euid != "0" {
        return Err(format!("not root (effective uid {euid}); audit needs root"));
    }
    let auditctl = find_program("auditctl").ok_or("auditctl is not installed (apt-get install auditd)")?;
    let auditd = find_program("auditd").ok_or("auditd is not installed (apt-get install auditd)")?;
    for program in ["/bin/sh", "/bin/true"] {
        if !Path::new(program).exists() {
            return Err(format!("{program} is missing"));
        }
    }
    if find_program("bash").is_none() {
        return Err("bash is not installed (the workload connects with /dev/tcp)".into());
    }
    let out = run(Command::new(&auditctl).arg("-s"));
    if !out.status.success() {
        return Err(format!(
            "`auditctl -s` fails here (no audit in this kernel or container?): {}",
            both(&out)
        ));
    }
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')))
            .map(|v| v.split_whitespace().next().unwrap_or("").to_owned())
    };
    let enabled = value("enabled").ok_or_else(|| format!("`auditctl -s` says no `enabled`: {status}"))?;
    if enabled != "0" && enabled != "1" {
        return Err(format!(
            "audit is locked (`auditctl -s`: enabled {enabled}); rules cannot be changed"
        ));
    }
    let pid = value("pid").unwrap_or_default();
    if pid != "0" {
        return Err(format!(
            "an audit daemon is registered with the kernel (`auditctl -s`: pid {pid}); not disturbing it"
        ));
    }
    let out = run(Command::new(&auditctl).arg("-l"));
    let rules = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || rules != "No rules" {
        return Err(format!(
            "audit rules are loaded (`auditctl -l`: {}); not disturbing them",
            both(&out).trim()
        ));
    }
    let running = processes_named("auditd");
    if !running.is_empty() {
        return Err(format!(
            "auditd is already running (pid {}); not disturbing it",
            running.join(", ")
        ));
    }
    // The workload sets its login uid like this; audit may be off, so nothing is logged.
    let out = run(Command::new("/bin/sh").args(["-c", &format!("echo {BASELINE_UID} > /proc/self/loginuid")]));
    if !out.status.success() {
        return Err(format!(
            "a shell cannot set its login uid (/proc/self/loginuid): {}",
            both(&out).trim()
        ));
    }
    Ok(Tools {
        auditctl,
        auditd,
        enabled,
    })
}

/// A program in PATH, or in the sbin directories a non-root PATH may lack.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Ids of the processes whose name is `name` (what `pidof` finds).
fn processes_named(name: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let comm = fs::read_to_string(e.path().join("comm")).ok()?;
            (comm.trim_end() == name).then(|| pid.to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The audit session: auditd, rules, and undoing both
// ---------------------------------------------------------------------------

/// What the test changed in the kernel's audit state; dropping it undoes it.
struct Audit {
    auditctl: PathBuf,
    auditd: PathBuf,
    enabled: String,
    daemon: Option<Child>,
    cleaned: bool,
}

impl Audit {
    fn new(tools: &Tools) -> Audit {
        Audit {
            auditctl: tools.auditctl.clone(),
            auditd: tools.auditd.clone(),
            enabled: tools.enabled.clone(),
            daemon: None,
            cleaned: false,
        }
    }

    /// Starts `auditd -n -c DIR` logging to `log` and waits until the kernel knows it.
    fn start_daemon(&mut self, dir: &Path, log: &Path) {
        fs::create_dir(dir.join("plugins.d")).unwrap();
        fs::write(dir.join("auditd.conf"), auditd_conf(dir, log)).unwrap();
        let child = Command::new(&self.auditd)
            .arg("-n")
            .arg("-c")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("auditd.out")).unwrap())
            .stderr(fs::File::create(dir.join("auditd.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.auditd.display()));
        let pid = child.id().to_string();
        self.daemon = Some(child);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.daemon.as_mut().unwrap().try_wait() {
                self.daemon = None;
                panic!(
                    "auditd exited at start ({status}): {}{}",
                    fs::read_to_string(dir.join("auditd.err")).unwrap_or_default(),
                    fs::read_to_string(dir.join("auditd.out")).unwrap_or_default()
                );
            }
            let status = self.ctl(&["-s"]);
            let registered = String::from_utf8_lossy(&status.stdout)
                .lines()
                .any(|l| l == format!("pid {pid}"));
            if registered && log.exists() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "auditd (pid {pid}) did not register within {PATIENCE:?}"
            );
            sleep(Duration::from_millis(50));
        }
    }

    /// `auditctl ARGS`; a failure to start it is an unsuccessful output, not a panic.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(&self.auditctl)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| Output {
                status: failed(),
                stdout: Vec::new(),
                stderr: format!("cannot run {}: {e}", self.auditctl.display()).into_bytes(),
            })
    }

    fn ctl_ok(&self, args: &[&str]) {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "auditctl {} failed: {}",
            args.join(" "),
            both(&out)
        );
    }

    /// Removes the test's rules, restores `enabled`, stops auditd. Never
    /// panics (it runs in `drop`); says what went wrong instead.
    fn cleanup(&mut self) -> Vec<String> {
        if self.cleaned {
            return Vec::new();
        }
        self.cleaned = true;
        let mut problems = Vec::new();
        let mut ctl = |args: &[&str]| {
            let out = self.ctl(args);
            if !out.status.success() {
                problems.push(format!("auditctl {}: {}", args.join(" "), both(&out)));
            }
        };
        ctl(&["-D", "-k", KEY]);
        ctl(&["-e", &self.enabled]);
        if let Some(mut child) = self.daemon.take() {
            let pid = child.id();
            let _ = Command::new("/bin/sh")
                .args(["-c", &format!("kill -TERM {pid}")])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(20)),
                    _ => {
                        problems.push(format!("auditd (pid {pid}) ignored SIGTERM; killed"));
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        // Whatever auditd did to the flag on its way out, put it back.
        let status = String::from_utf8_lossy(&self.ctl(&["-s"]).stdout).into_owned();
        if !status.lines().any(|l| l == format!("enabled {}", self.enabled)) {
            let out = self.ctl(&["-e", &self.enabled]);
            if !out.status.success() {
                problems.push(format!("auditctl -e {}: {}", self.enabled, both(&out)));
            }
        }
        problems
    }

    /// Audit is as the test found it: same `enabled`, no daemon, no rules.
    fn assert_restored(&self) {
        let status = String::from_utf8_lossy(&self.ctl(&["-s"]).stdout).into_owned();
        assert!(
            status.lines().any(|l| l == format!("enabled {}", self.enabled)),
            "enabled not restored:\n{status}"
        );
        assert!(
            status.lines().any(|l| l == "pid 0"),
            "an audit daemon is still registered:\n{status}"
        );
        let rules = String::from_utf8_lossy(&self.ctl(&["-l"]).stdout).trim().to_owned();
        assert_eq!(rules, "No rules", "rules left behind");
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        for problem in self.cleanup() {
            eprintln!("audit_live: cleanup: {problem}");
        }
    }
}

/// `/etc/audit/auditd.conf` (when there is one) with what running from a
/// temporary directory needs: its own log, no plugins, no network, no action
/// on disk space or log size, and a format honk reads.
fn auditd_conf(dir: &Path, log: &Path) -> String {
    let ours = [
        ("log_file", log.display().to_string()),
        ("log_format", "ENRICHED".into()),
        ("log_group", "root".into()),
        ("write_logs", "yes".into()),
        ("local_events", "yes".into()),
        ("flush", "INCREMENTAL_ASYNC".into()),
        ("freq", "50".into()),
        ("max_log_file_action", "IGNORE".into()),
        ("space_left", "2".into()),
        ("space_left_action", "IGNORE".into()),
        ("admin_space_left", "1".into()),
        ("admin_space_left_action", "IGNORE".into()),
        ("disk_full_action", "IGNORE".into()),
        ("disk_error_action", "IGNORE".into()),
        ("overflow_action", "IGNORE".into()),
        ("plugin_dir", dir.join("plugins.d").display().to_string()),
        ("use_libwrap", "no".into()),
        ("distribute_network", "no".into()),
    ];
    let dropped = ["tcp_listen_port", "tcp_client_ports", "krb5_key_file"];
    let system = fs::read_to_string("/etc/audit/auditd.conf").unwrap_or_default();
    let mut conf = String::new();
    for line in system.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if !ours.iter().any(|(k, _)| *k == key) && !dropped.contains(&key) {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    for (key, value) in ours {
        conf.push_str(&format!("{key} = {value}\n"));
    }
    conf
}

// ---------------------------------------------------------------------------
// The workload and its events
// ---------------------------------------------------------------------------

fn run_workload(uid: u32, mode: &str, file: &Path, port: u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/live-workload.sh");
    let out = run(Command::new("/bin/sh")
        .arg(script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/root")
        .env("HONK_LIVE_UID", uid.to_string())
        .env("HONK_LIVE_MODE", mode)
        .env("HONK_LIVE_FILE", file)
        .env("HONK_LIVE_PORT", port.to_string())
        .current_dir(file.parent().unwrap()));
    assert!(
        out.status.success(),
        "the {mode} workload failed ({}): {}",
        out.status,
        both(&out)
    );
}

/// The lines of the events of login uid `uid` in `log`, once every needle is in them.
fn wait_for_events(log: &Path, uid: u32, needles: &[&str]) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = fs::read_to_string(log).unwrap_or_default();
        let events = events_of(&text, uid);
        if needles.iter().all(|n| events.contains(n)) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "after {PATIENCE:?} the events of login uid {uid} lack some of {needles:?}; whole log:\n{text}"
        );
        sleep(Duration::from_millis(100));
    }
}

/// Every record of every event (same `msg=audit(TIME:SERIAL)` stamp) one of
/// whose records has the field `auid=UID`.
fn events_of(log: &str, uid: u32) -> String {
    let field = format!("auid={uid}");
    let mine: std::collections::HashSet<&str> = log
        .lines()
        .filter(|l| l.split(|c: char| c.is_whitespace() || c == '\x1d').any(|f| f == field))
        .filter_map(stamp)
        .collect();
    log.lines()
        .filter(|l| stamp(l).is_some_and(|s| mine.contains(s)))
        .flat_map(|l| [l, "\n"])
        .collect()
}

fn stamp(line: &str) -> Option<&str> {
    let rest = &line[line.find("msg=audit(")? + "msg=audit(".len()..];
    Some(&rest[..rest.find(')')?])
}

// ---------------------------------------------------------------------------
// honk
// ---------------------------------------------------------------------------

fn honk(dir: &Path, args: &[&str]) -> Output {
    let out = Command::cargo_bin("honk")
        .unwrap()
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "honk {} panicked: {stderr}",
        args.join(" ")
    );
    out
}

fn inspect(dir: &Path, name: &str) -> Value {
    let out = honk(dir, &["inspect", "--json", name]);
    assert!(out.status.success(), "honk inspect {name}: {}", both(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("inspect --json is not JSON ({e}): {}", both(&out)))
}

/// `honk diff --json`'s rows but the closing summary, after checking its exit status.
fn diff(dir: &Path, baseline: &str, target: &str, code: i32) -> Vec<Value> {
    let out = honk(dir, &["diff", "--json", baseline, target]);
    assert_eq!(
        out.status.code(),
        Some(code),
        "honk diff {baseline} {target}: {}",
        both(&out)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .filter(|row: &Value| row["type"] != "summary")
        .collect()
}

fn text(anomaly: &Value) -> &str {
    anomaly["text"].as_str().unwrap_or("")
}

/// The gist of an anomaly's text for a person: the syscall and the records
/// saying what it was done to (`EXECVE`, `PATH`, `SOCKADDR`), or its start.
fn short(text: &str) -> String {
    let text = text.replace('\x1d', " ");
    let syscall = text
        .split_whitespace()
        .find_map(|f| f.strip_prefix("SYSCALL="))
        .unwrap_or("");
    let what: Vec<&str> = text
        .split(" | ")
        .filter(|r| {
            ["type=EXECVE", "type=PATH", "type=SOCKADDR"]
                .iter()
                .any(|t| r.starts_with(t))
        })
        .map(|r| r.split_once("): ").map_or(r, |(_, fields)| fields))
        .collect();
    let gist = if what.is_empty() {
        text.clone()
    } else {
        format!("{syscall}: {}", what.join(" | "))
    };
    match gist.char_indices().nth(220) {
        Some((i, _)) => format!("{}...", &gist[..i]),
        None => gist,
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

/// An unsuccessful exit status.
fn failed() -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(1 << 8)
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
