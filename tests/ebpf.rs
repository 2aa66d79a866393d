//! `honk trace --ebpf` and `honk watch --ebpf`: real commands captured with
//! eBPF, read back as strace traces, learned, scored live (needs root; skips
//! with a reason elsewhere, fails under HONK_REQUIRE_ALL).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use common::skip;

fn honk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_honk"))
}

/// Why eBPF capture cannot be tested here, if it cannot: not root, or
/// honk cannot capture `true` (its one-line reason).
fn no_ebpf() -> Option<String> {
    if !rustix_is_root() {
        return Some("eBPF capture needs root".into());
    }
    let out = honk()
        .args(["trace", "--ebpf", "-o", "/dev/null", "--", "true"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Some(format!(
            "honk cannot capture here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    None
}

fn rustix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The keys honk's strace normalizer makes of a trace, by call name.
fn keys(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        honk::parse::detect(text.lines()),
        honk::parse::Format::Strace,
        "{}",
        path.display()
    );
    let mut parser = honk::parse::parser(honk::parse::Format::Strace);
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        parser.push(i as u64 + 1, line, &mut records);
    }
    parser.finish(&mut records);
    records
        .iter()
        .map(|r| (r.syscall_name().unwrap_or("").to_string(), honk::normalize::key_of(r)))
        .collect()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory with a space and an accent in its name.
fn scratch(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().unwrap()
}

const WORKLOAD: &str = r#"
cat /etc/hostname > /dev/null
sh -c id > /dev/null
python3 - <<'PY'
import socket
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9))
except OSError:
    pass
PY
mkdir "$1/made dir" && rmdir "$1/made dir"
"#;

#[test]
fn strace_and_ebpf_give_security_calls_the_same_keys() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    if !common::strace_works() {
        return skip("strace is not installed, or cannot trace here");
    }
    let dir = scratch("honk ebpf keys é ");
    let script = dir.path().join("work load.sh");
    std::fs::write(&script, WORKLOAD).unwrap();
    let place = dir.path().to_str().unwrap();
    let mut sets = Vec::new();
    for (name, extra) in [("s.strace", None), ("e.strace", Some("--ebpf"))] {
        let out = dir.path().join(name);
        let mut cmd = honk();
        cmd.arg("trace").arg("-o").arg(&out);
        if let Some(flag) = extra {
            cmd.arg(flag);
        }
        cmd.args(["--", "sh"]).arg(&script).arg(place);
        let result = run(&mut cmd);
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let wanted = [
            "execve",
            "openat",
            "connect",
            "mkdir",
            "rmdir",
            "socket",
            "clone",
            "clone3",
            "exit_group",
        ];
        let set: BTreeSet<(String, String)> = keys(&out)
            .into_iter()
            .filter(|(n, _)| wanted.contains(&n.as_str()))
            .collect();
        sets.push(set);
    }
    let (s, e) = (&sets[0], &sets[1]);
    let only_s: Vec<_> = s.difference(e).collect();
    let only_e: Vec<_> = e.difference(s).collect();
    eprintln!("only strace: {only_s:#?}\nonly ebpf: {only_e:#?}");
    assert!(only_s.is_empty() && only_e.is_empty());
}

/// A workload in bash: `normal` reads a file, runs `sh -c`, waits for
/// `release` to exist; `attack` also reads /etc/shadow, runs `sh -c id` and
/// connects to 127.0.0.1:PORT, then waits for `release` (at most 20 s) and
/// says whether it came in `released`.
const SCRIPT: &str = r#"
mode=$1; dir=$2; port=$3
cat /etc/hostname > /dev/null
sh -c 'echo hi' > /dev/null
if [ "$mode" = attack ]; then
    cat /etc/shadow > /dev/null
    sh -c id > /dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    exec 3>&-
fi
i=0
while [ ! -e "$dir/release" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
if [ -e "$dir/release" ]; then echo yes > "$dir/released"; else echo no > "$dir/released"; fi
"#;

struct Place {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    script: PathBuf,
}

fn place(prefix: &str) -> Place {
    let dir = scratch(prefix);
    let path = dir.path().to_path_buf();
    let script = path.join("work load.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    Place {
        _dir: dir,
        dir: path,
        script,
    }
}

impl Place {
    fn command(&self, mode: &str, port: u16) -> Vec<String> {
        vec![
            "bash".into(),
            self.script.to_str().unwrap().into(),
            mode.into(),
            self.dir.to_str().unwrap().into(),
            port.to_string(),
        ]
    }

    /// Learns the normal run `runs` times with `honk trace` (`--ebpf` or strace) into `model`.
    fn learn(&self, model: &Path, ebpf: bool, runs: usize) {
        std::fs::write(self.dir.join("release"), "").unwrap();
        for _ in 0..runs {
            let mut cmd = honk();
            cmd.current_dir(&self.dir).arg("trace").arg("--learn").arg(model);
            if ebpf {
                cmd.arg("--ebpf");
            }
            cmd.arg("--").args(self.command("normal", 9));
            let out = run(&mut cmd);
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    }
}

/// Lines of a stream as they come, with when they came.
type Lines = Receiver<(Instant, String)>;

fn lines_of(stream: impl std::io::Read + Send + 'static) -> Lines {
    let (send, receive) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if send.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    receive
}

fn watch(dir: &Path, args: &[&str]) -> (Child, Lines, Lines) {
    let mut child = honk()
        .current_dir(dir)
        .arg("watch")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    (child, out, err)
}

/// Waits up to 60 s for honk to end; kills it and fails the test if it does not.
fn finish(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("honk did not end within 60 s");
}

/// Waits up to 30 s for a line that `wanted` accepts.
fn wait_for(
    lines: &Receiver<(Instant, String)>,
    seen: &mut Vec<String>,
    wanted: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok((_, line)) = lines.recv_timeout(Duration::from_millis(100)) {
            seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
    }
    None
}

#[test]
fn an_attack_is_alerted_live_before_the_command_exits_and_a_normal_run_scores_clean() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf live é ");
    let model = place.dir.join("normal model.honk");
    place.learn(&model, true, 3);

    // A normal run scores clean, live.
    let model_arg = model.to_str().unwrap();
    let mut args = vec!["-m", model_arg, "--ebpf", "--"];
    let normal = place.command("normal", 9);
    args.extend(normal.iter().map(String::as_str));
    let (mut child, out, err) = watch(&place.dir, &args);
    let status = finish(&mut child);
    let out: Vec<String> = out.iter().map(|(_, l)| l).collect();
    let err: Vec<String> = err.iter().map(|(_, l)| l).collect();
    assert_eq!(status.code(), Some(0), "out: {out:#?}\nerr: {err:#?}");
    assert!(out.is_empty(), "{out:#?}");
    assert!(err.iter().any(|l| l.contains(" 0 anomalies")), "{err:#?}");
    assert!(
        err.iter().any(|l| l.contains("eBPF:") && l.contains(" 0 lost")),
        "{err:#?}"
    );

    // The attack: alerted while it runs, before it is let go.
    std::fs::remove_file(place.dir.join("release")).unwrap();
    std::fs::remove_file(place.dir.join("released")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let attack = place.command("attack", port);
    let mut args = vec!["-m", model_arg, "--ebpf", "--"];
    args.extend(attack.iter().map(String::as_str));
    let (mut child, out, err) = watch(&place.dir, &args);
    let mut seen = Vec::new();
    let shadow = wait_for(&out, &mut seen, |l| l.contains("/etc/shadow") && !l.starts_with("  "));
    let id = wait_for(&out, &mut seen, |l| {
        l.contains("execve(\"/usr/bin/id\"") && !l.starts_with("  ")
    });
    let connect = wait_for(&out, &mut seen, |l| {
        l.contains("connect(") && l.contains(&format!("htons({port})")) && !l.starts_with("  ")
    });
    // Only now is the command let go: it has been waiting all along.
    let released_before = place.dir.join("released").exists();
    std::fs::write(place.dir.join("release"), "").unwrap();
    let status = finish(&mut child);
    seen.extend(out.iter().map(|(_, l)| l));
    let err: Vec<String> = err.iter().map(|(_, l)| l).collect();
    assert!(shadow.is_some(), "no alert on /etc/shadow: {seen:#?}\n{err:#?}");
    assert!(id.is_some(), "no alert on sh -c id: {seen:#?}");
    assert!(connect.is_some(), "no alert on the connection: {seen:#?}");
    assert!(!released_before, "the command ended before the alerts");
    assert_eq!(
        std::fs::read_to_string(place.dir.join("released")).unwrap().trim(),
        "yes"
    );
    assert_eq!(status.code(), Some(1), "{err:#?}");
    assert!(listener.accept().is_ok(), "the connection was made");
}

#[test]
fn models_learned_with_strace_score_ebpf_runs_and_the_other_way_round() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    if !common::strace_works() {
        return skip("strace is not installed, or cannot trace here");
    }
    let place = place("honk ebpf cross ü ");
    let security = [
        "execve", "openat", "connect", "socket", "unlink", "mkdir", "clone", "clone3",
    ];
    for (learn_ebpf, score_ebpf) in [(false, true), (true, false)] {
        let model = place.dir.join(format!("model {learn_ebpf}.honk"));
        place.learn(&model, learn_ebpf, 2);
        let trace = place.dir.join(format!("scored {score_ebpf}.strace"));
        let mut cmd = honk();
        cmd.current_dir(&place.dir).arg("trace").arg("-o").arg(&trace);
        if score_ebpf {
            cmd.arg("--ebpf");
        }
        cmd.arg("--").args(place.command("normal", 9));
        let out = run(&mut cmd);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let scored = run(honk()
            .current_dir(&place.dir)
            .args(["score", "--json", "-m"])
            .arg(&model)
            .arg(&trace));
        assert!(scored.status.code().is_some_and(|c| c <= 1), "{}", text(&scored.stderr));
        let mut alerts = 0;
        for line in text(&scored.stdout).lines() {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            if row["type"] != "anomaly" {
                continue;
            }
            alerts += 1;
            let call = row["text"].as_str().unwrap();
            let name = call.split_whitespace().nth(2).unwrap_or("");
            let name = name.split(['(', '<']).next().unwrap_or("");
            assert!(
                !security.contains(&name),
                "learned with {}, scored {}: {call}",
                if learn_ebpf { "eBPF" } else { "strace" },
                if score_ebpf { "eBPF" } else { "strace" },
            );
        }
        eprintln!("learned with ebpf={learn_ebpf}, scored ebpf={score_ebpf}: {alerts} alerts, none on {security:?}");
    }
}

#[test]
fn an_ebpf_trace_is_detected_as_strace_inspected_and_learned() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf file ñ ");
    let trace = place.dir.join("caught run.strace");
    let out = run(honk()
        .current_dir(&place.dir)
        .args(["trace", "--ebpf", "-o"])
        .arg(&trace)
        .args(["--", "sh", "-c", "cat /etc/hostname; exit 3"]));
    assert_eq!(
        out.status.code(),
        Some(3),
        "the command's status: {}",
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("captured `sh -c cat /etc/hostname; exit 3` with eBPF"),
        "{err}"
    );
    let lines = std::fs::read_to_string(&trace).unwrap();
    assert!(
        lines
            .lines()
            .next()
            .unwrap()
            .contains("execve(\"/usr/bin/sh\", [\"sh\", \"-c\""),
        "{lines}"
    );
    // strace -yy shows AT_FDCWD with the current directory, and so does honk.
    let here = std::fs::canonicalize(&place.dir).unwrap();
    let open = format!(
        "openat(AT_FDCWD<{}>, \"/etc/hostname\", O_RDONLY) = 3</etc/hostname>",
        here.display()
    );
    assert!(lines.contains(&open), "{lines}");
    assert!(lines.contains("+++ exited with 3 +++"), "{lines}");
    // Each call names its process and parent: here the command's sh, whose
    // parent is honk (the test's child).
    let open = lines.lines().find(|l| l.contains("\"/etc/hostname\"")).unwrap();
    let ids: Vec<u32> = open
        .rsplit_once("/* pid ")
        .unwrap()
        .1
        .trim_end_matches(" */")
        .split(" ppid ")
        .map(|n| n.parse().unwrap())
        .collect();
    let tid: u32 = open.split('<').next().unwrap().parse().unwrap();
    assert_eq!(ids[0], tid, "{open}");
    assert!(ids[1] > 1, "the parent is known: {open}");
    let inspected = run(honk().args(["inspect", "--json"]).arg(&trace));
    assert!(inspected.status.success(), "{}", text(&inspected.stderr));
    let row: serde_json::Value = serde_json::from_str(text(&inspected.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(row["format"], "strace", "{row}");
    let model = place.dir.join("m.honk");
    let learned = run(honk()
        .current_dir(&place.dir)
        .args(["learn", "-o"])
        .arg(&model)
        .arg(&trace));
    assert!(learned.status.success(), "{}", text(&learned.stderr));
    // A failed run is not learned unless asked, as with strace.
    let refused = run(honk()
        .current_dir(&place.dir)
        .args(["trace", "--ebpf", "--learn"])
        .arg(&model)
        .args(["--", "sh", "-c", "exit 3"]));
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("not learning"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn an_event_storm_reports_its_lost_records() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf storm ");
    // A ring buffer of one page, and a loop of thousands of opens.
    let storm = "i=0; while [ $i -lt 20000 ]; do : < /etc/hostname; i=$((i + 1)); done";
    let trace = place.dir.join("storm.strace");
    let out = run(honk()
        .current_dir(&place.dir)
        .args(["trace", "--ebpf", "--ebpf-ring-kib", "4", "-o"])
        .arg(&trace)
        .args(["--", "bash", "-c", storm]));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let lost: u64 = err
        .split(" lost)")
        .next()
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no lost count: {err}"));
    assert!(lost > 0, "{err}");
    assert!(err.contains(&format!("{lost} system-call records were lost")), "{err}");
    // And live: the summary says so.
    let model = place.dir.join("m.honk");
    let learned = run(honk()
        .current_dir(&place.dir)
        .args(["learn", "-o"])
        .arg(&model)
        .arg(&trace));
    assert!(learned.status.success(), "{}", text(&learned.stderr));
    let (mut child, out, err) = watch(
        &place.dir,
        &[
            "--json",
            "-m",
            model.to_str().unwrap(),
            "--ebpf",
            "--ebpf-ring-kib",
            "4",
            "--",
            "bash",
            "-c",
            storm,
        ],
    );
    finish(&mut child);
    let rows: Vec<String> = out.iter().map(|(_, l)| l).collect();
    let summary: serde_json::Value = serde_json::from_str(rows.last().expect("a summary row")).unwrap();
    assert_eq!(summary["type"], "summary");
    assert!(summary["lost_events"].as_u64().is_some_and(|n| n > 0), "{summary}");
    let err: Vec<String> = err.iter().map(|(_, l)| l).collect();
    let summary = err
        .iter()
        .find(|l| l.starts_with("honk: eBPF:"))
        .expect("an eBPF summary line");
    assert!(
        summary.contains("(the ring buffer was full: calls were missed)"),
        "{err:#?}"
    );
    assert!(!summary.contains(" 0 lost"), "{summary}");
}

#[test]
fn a_running_process_tree_is_watched_from_its_pid() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf pid ");
    let model = place.dir.join("m.honk");
    place.learn(&model, true, 1);
    std::fs::remove_file(place.dir.join("release")).unwrap();
    // A process that waits, then forks a child that reads /etc/shadow.
    let go = place.dir.join("go");
    let script = format!(
        "while [ ! -e '{}' ]; do sleep 0.05; done; sh -c 'cat /etc/shadow > /dev/null'",
        go.display()
    );
    let mut target = Command::new("bash").arg("-c").arg(&script).spawn().unwrap();
    let pid = target.id().to_string();
    let (mut child, out, err) = watch(&place.dir, &["-m", model.to_str().unwrap(), "--ebpf", "--pid", &pid]);
    let mut said = Vec::new();
    assert!(
        wait_for(&err, &mut said, |l| l.contains("watching pid")).is_some(),
        "{said:#?}"
    );
    std::fs::write(&go, "").unwrap();
    let mut seen = Vec::new();
    let alert = wait_for(&out, &mut seen, |l| l.contains("/etc/shadow") && !l.starts_with("  "));
    target.wait().unwrap();
    // The tree has ended: so does the watch.
    let status = finish(&mut child);
    assert!(alert.is_some(), "{seen:#?}");
    assert_eq!(status.code(), Some(1));
    drop(err);
}

#[test]
fn mistakes_get_a_one_line_reason_and_status_2() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf errors ");
    let model = place.dir.join("m.honk");
    place.learn(&model, true, 1);
    let m = model.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--ebpf", "--pid", "4194303"], "no process 4194303"),
        (
            &["--ebpf", "--cgroup", "/sys/fs/cgroup/honk no such group"],
            "is not a cgroup",
        ),
        (&["--ebpf", "--cgroup", "/tmp"], "is not a cgroup"),
        (&["--ebpf", "--comm", "a-name-much-too-long"], "1 to 15 bytes"),
        (&["--ebpf"], "--ebpf watches one of"),
        (&["--", "true"], "is watched with --ebpf"),
    ];
    for (args, says) in cases {
        let mut cmd = honk();
        cmd.current_dir(&place.dir).args(["watch", "-m", m]).args(*args);
        let out = run(&mut cmd);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Without root: one line saying what to use instead.
    let nobody = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_honk"))
        .args(["trace", "--ebpf", "-o", "/dev/null", "--", "true"]));
    let err = text(&nobody.stderr);
    assert_eq!(nobody.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim(),
        "honk: error: eBPF needs root or CAP_BPF+CAP_PERFMON; use `honk trace` (strace) instead"
    );
}

#[test]
fn the_committed_bpf_object_is_built_from_its_source() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/capture/ebpf");
    if !common::works("clang", &["--version"]) || !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return skip("needs clang and libbpf's headers (apt-get install clang libbpf-dev)");
    }
    let dir = scratch("honk bpf object ");
    let built = dir.path().join("honk.bpf.o");
    let out = run(Command::new("sh").arg(here.join("build.sh")).arg(&built));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let committed = std::fs::read(here.join("honk.bpf.o")).unwrap();
    let fresh = std::fs::read(&built).unwrap();
    // Byte for byte: clang is deterministic for the same version and flags,
    // and build.sh keeps paths out of the debug info.
    let version = run(Command::new("clang").arg("--version"));
    assert!(
        committed == fresh,
        "src/capture/ebpf/honk.bpf.o is not what build.sh makes of honk.bpf.c with {}: \
         run src/capture/ebpf/build.sh and commit the object (it was built with Debian clang 14.0.6)",
        text(&version.stdout).lines().next().unwrap_or("clang")
    );
}

/// Waits for honk's "watching" note, creates `go`, waits for an alert on
/// /etc/shadow, then stops honk with SIGTERM: its exit status and the alert.
fn alert_then_stop(mut child: Child, out: Lines, err: Lines, go: &Path) -> (Option<i32>, Option<String>, Vec<String>) {
    let mut said = Vec::new();
    assert!(
        wait_for(&err, &mut said, |l| l.contains("watching")).is_some(),
        "{said:#?}"
    );
    std::fs::write(go, "").unwrap();
    let mut seen = Vec::new();
    let alert = wait_for(&out, &mut seen, |l| l.contains("/etc/shadow") && !l.starts_with("  "));
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = finish(&mut child);
    said.extend(err.iter().map(|(_, l)| l));
    (status.code(), alert, said)
}

#[test]
fn a_cgroup_and_the_cgroups_below_it_are_watched_until_stopped() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf cgroup ");
    // The cgroup v2 hierarchy: /sys/fs/cgroup, or (on a v1 or hybrid
    // system) one mounted here for the test.
    let mounted = place.dir.join("cgroup2");
    // f_type's width differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let v2 = rustix::fs::statfs("/sys/fs/cgroup").is_ok_and(|s| s.f_type as i64 == 0x6367_7270);
    let root = if v2 {
        PathBuf::from("/sys/fs/cgroup")
    } else {
        std::fs::create_dir(&mounted).unwrap();
        let out = run(Command::new("mount").args(["-t", "cgroup2", "none"]).arg(&mounted));
        assert!(out.status.success(), "mount cgroup2: {}", text(&out.stderr));
        mounted.clone()
    };
    let model = place.dir.join("m.honk");
    place.learn(&model, true, 1);
    // A container's cgroup with one of its own below it (as a pod's
    // containers sit below the pod's): the process runs in the inner one,
    // the outer one is watched.
    let group = root.join(format!("honk-ebpf-test-{}", std::process::id()));
    let inner = group.join("inner ü");
    std::fs::create_dir_all(&inner).unwrap();
    let go = place.dir.join("go");
    let script = format!(
        "while [ ! -e '{}' ]; do sleep 0.05; done; cat /etc/shadow > /dev/null",
        go.display()
    );
    let mut target = Command::new("bash").arg("-c").arg(&script).spawn().unwrap();
    std::fs::write(inner.join("cgroup.procs"), target.id().to_string()).unwrap();
    let (child, out, err) = watch(
        &place.dir,
        &[
            "-m",
            model.to_str().unwrap(),
            "--ebpf",
            "--cgroup",
            group.to_str().unwrap(),
        ],
    );
    let (status, alert, said) = alert_then_stop(child, out, err, &go);
    target.wait().unwrap();
    let _ = std::fs::remove_dir(&inner);
    let _ = std::fs::remove_dir(&group);
    if root == mounted {
        let _ = Command::new("umount").arg(&mounted).status();
    }
    assert!(alert.is_some(), "{said:#?}");
    assert_eq!(status, Some(1), "{said:#?}");
    assert!(said.iter().any(|l| l.contains("stopped by SIGTERM")), "{said:#?}");
}

#[test]
fn processes_are_watched_by_name() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = place("honk ebpf comm ");
    let model = place.dir.join("m.honk");
    place.learn(&model, true, 1);
    // A script's process is named after it: honk-comm-N (at most 15 bytes).
    let name = format!("hc-{}", std::process::id() % 100_000_000);
    let script = place.dir.join(&name);
    let go = place.dir.join("go");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nwhile [ ! -e '{}' ]; do sleep 0.05; done\nread x < /etc/shadow\n",
            go.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut target = Command::new(&script).spawn().unwrap();
    let (child, out, err) = watch(&place.dir, &["-m", model.to_str().unwrap(), "--ebpf", "--comm", &name]);
    let (status, alert, said) = alert_then_stop(child, out, err, &go);
    target.wait().unwrap();
    assert!(alert.is_some(), "{said:#?}");
    assert_eq!(status, Some(1), "{said:#?}");
}

/// Everyday commands captured with eBPF read as strace reads them: what they
/// stat, the extended attributes `ls -l` asks for, signal masks and
/// handlers, pipes, a child's exit status, the current directory on every
/// `AT_FDCWD`, files opened through links (`/lib` is `/usr/lib`). A model
/// learned from one tool scores a run of the same command from the other
/// without a single alert, both ways (before these were rendered, `ls -la`
/// alone made 544 alerts in 1,167 lines).
#[test]
fn everyday_commands_look_the_same_to_strace_and_ebpf() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    if !common::strace_works() {
        return skip("strace is not installed, or cannot trace here");
    }
    let place = scratch("honk ebpf everyday é ");
    let dir = place.path();
    let tree = dir.join("a tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(tree.join("sub").join(format!("file {i}.txt")), "x".repeat(100 * i)).unwrap();
    }
    std::os::unix::fs::symlink("sub/file 3.txt", tree.join("link")).unwrap();
    let tree_arg = tree.to_str().unwrap();
    // A web server on loopback, on a port the kernel picks, for a client to
    // fetch a page from (its connection ends before its records are read).
    let mut server = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
        .arg(&tree)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _server = KillOnDrop(server);
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let port: u16 = first
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let fetch =
        format!("import urllib.request; print(len(urllib.request.urlopen('http://127.0.0.1:{port}/sub/').read()))");
    let commands: Vec<(&str, Vec<String>)> = vec![
        (
            "ls -la",
            vec!["ls".into(), "-la".into(), tree_arg.into(), "/etc".into()],
        ),
        (
            "tar",
            vec![
                "tar".into(),
                "cf".into(),
                dir.join("out.tar").to_str().unwrap().into(),
                "-C".into(),
                tree_arg.into(),
                ".".into(),
            ],
        ),
        ("a web client", vec!["python3".into(), "-c".into(), fetch.clone()]),
        (
            "a shell pipeline",
            vec![
                "sh".into(),
                "-c".into(),
                "cd 'a tree' && cat link | wc -c && id -u && cat /etc/hostname >/dev/null".into(),
            ],
        ),
    ];
    for (what, command) in &commands {
        let mut traces = Vec::new();
        for ebpf in [false, true] {
            let trace = dir.join(format!("{what} {ebpf}.strace"));
            let mut cmd = honk();
            cmd.current_dir(dir).arg("trace").arg("-o").arg(&trace);
            if ebpf {
                cmd.arg("--ebpf");
            }
            let out = run(cmd.arg("--").args(command));
            assert!(out.status.success(), "{what}: {}", text(&out.stderr));
            let model = dir.join(format!("{what} {ebpf}.honk"));
            common::learn(&model, &trace);
            traces.push((trace, model));
        }
        for (learned, scored) in [(0, 1), (1, 0)] {
            let out = run(honk()
                .current_dir(dir)
                .args(["score", "-q", "--json", "-m"])
                .arg(&traces[learned].1)
                .arg(&traces[scored].0));
            let alerts: Vec<String> = text(&out.stdout)
                .lines()
                .filter(|l| l.contains(r#""type":"anomaly""#))
                .map(str::to_owned)
                .collect();
            let tools = ["strace", "eBPF"];
            assert_eq!(
                out.status.code(),
                Some(0),
                "{what}, learned with {}, scored {}: {alerts:#?}",
                tools[learned],
                tools[scored]
            );
            let lines = std::fs::read_to_string(&traces[scored].0).unwrap().lines().count();
            assert!(lines > 50, "{what}: only {lines} lines captured");
            eprintln!(
                "{what}: learned with {}, {lines} lines captured with {}: no alert",
                tools[learned], tools[scored]
            );
        }
    }
}

/// A child process killed when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `honk watch --ebpf --learn`: what the watched command does is learned
/// into the model, saved when the watch ends, so that the next watch of the
/// same command is quiet.
#[test]
fn a_learning_ebpf_watch_grows_the_model_and_the_next_watch_is_quiet() {
    if let Some(why) = no_ebpf() {
        return skip(&why);
    }
    let place = scratch("honk ebpf learn ü ");
    let dir = place.path();
    let model = dir.join("live model.honk");
    let out = run(honk()
        .current_dir(dir)
        .args(["trace", "--ebpf", "-q", "--learn"])
        .arg(&model)
        .args(["--", "sh", "-c", "cat /etc/hostname"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records = |model: &Path| -> u64 {
        let out = run(honk().arg("inspect").arg("--json").arg(model));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let row: serde_json::Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
        row["model"]["records"].as_u64().unwrap_or_else(|| panic!("{row}"))
    };
    let before = records(&model);
    let job = ["sh", "-c", "cat /etc/hostname; ls -la /etc > /dev/null; id > /dev/null"];
    let watch = |learn: bool| {
        let mut cmd = honk();
        cmd.current_dir(dir)
            .args(["watch", "--json", "-m"])
            .arg(&model)
            .arg("--ebpf");
        if learn {
            cmd.arg("--learn");
        }
        run(cmd.arg("--").args(job))
    };
    let first = watch(true);
    assert_eq!(
        first.status.code(),
        Some(1),
        "new calls are alerted while learned: {}",
        text(&first.stderr)
    );
    let after = records(&model);
    assert!(
        after > before + 100,
        "the model grew from {before} records to only {after}"
    );
    let second = watch(false);
    assert_eq!(
        second.status.code(),
        Some(0),
        "the learned job alerts again: {}",
        text(&second.stdout)
    );
}
