//! `honk trace` through the real binary, on real commands: that a traced
//! command cannot forge its trace, in every mode; the limits of a sandboxed
//! run; the exit status; gVisor and the caller's descriptors; commands under
//! `/tmp` in the sandbox; messages that say what failed; `honk demo --keep`
//! with a relative path. Tests whose tool is missing (strace, bubblewrap,
//! runsc as root) say so and skip, unless `HONK_REQUIRE_ALL` is set, as CI
//! sets it; CI installs them.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use common::{skip, strace_works, works};
use serde_json::Value;

fn honk(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("honk").unwrap();
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    assert!(!stderr.contains("panicked"), "honk panicked: {stderr}");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("honk was killed by a signal: {stderr}"));
    (code, String::from_utf8_lossy(&stdout).into_owned(), stderr)
}

fn sandbox_works() -> bool {
    strace_works()
        && works(
            "bwrap",
            &["--ro-bind", "/", "/", "--unshare-user", "--unshare-net", "true"],
        )
}

fn runsc_works() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    root && works("runsc", &["--version"])
}

/// The modes this machine can run, by their flags; the others skip, saying why.
fn modes() -> Vec<&'static [&'static str]> {
    let mut modes: Vec<&'static [&'static str]> = Vec::new();
    if strace_works() {
        modes.push(&[]);
    } else {
        skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    if sandbox_works() {
        modes.push(&["--sandbox"]);
    } else {
        skip("bubblewrap is missing or cannot make its sandbox (apt-get install bubblewrap)");
    }
    if runsc_works() {
        modes.push(&["--gvisor"]);
    } else {
        skip("needs runsc (apt-get install runsc) and root");
    }
    modes
}

/// A command that reads /etc/shadow, then does its best to make honk score a
/// clean trace instead: it copies `clean` over the trace's `-o` path, over
/// every file where honk used to keep traces (`/tmp/honk-sandbox-*`,
/// `/tmp/honk-trace-*`, `/tmp/honk-runsc-*`), renames one over them,
/// truncates them, and in a sandbox writes over every regular file any process
/// it can see holds open. Outside a sandbox it touches only its own
/// directory's files (it must not harm the machine's).
fn forger(sandboxed: bool) -> String {
    let mut script = String::from(
        "cat /etc/shadow > /dev/null 2>&1\n\
         for f in \"$PWD/t.trace\" $ELSEWHERE; do\n\
           cp clean.trace \"$f\"; cp clean.trace \"$f.new\" && mv -f \"$f.new\" \"$f\"; cp clean.trace \"$f\"\n\
         done 2>/dev/null\n",
    );
    if sandboxed {
        script = script.replace(
            "$ELSEWHERE",
            "/tmp/honk-sandbox-*/* /tmp/honk-trace-*/* /tmp/honk-runsc-*/*",
        );
        script.push_str(
            "for f in /proc/[0-9]*/fd/*; do\n\
               t=$(readlink \"$f\"); case \"$t\" in /*) [ -f \"$t\" ] || [ ! -e \"$t\" ] && cat clean.trace > \"$f\" ;; esac\n\
             done 2>/dev/null\n",
        );
    } else {
        script = script.replace(" $ELSEWHERE", "");
    }
    script + "exit 0\n"
}

#[test]
fn a_command_cannot_forge_its_trace_in_any_mode() {
    for mode in modes() {
        let dir = tempfile::tempdir().unwrap();
        let sandboxed = !mode.is_empty();
        fs::write(dir.path().join("forge.sh"), forger(sandboxed)).unwrap();
        fs::write(dir.path().join("normal.sh"), "cat /etc/hostname > /dev/null\nexit 0\n").unwrap();
        // The clean trace the forger plants: a normal run's, in this mode.
        let with = |args: &[&str]| {
            let mut cmd = honk(dir.path());
            cmd.arg("trace").args(mode).args(args);
            cmd
        };
        let (code, _, stderr) = run(&mut with(&[
            "-o",
            "clean.trace",
            "--learn",
            "m.honk",
            "--",
            "sh",
            "normal.sh",
        ]));
        assert_eq!(code, 0, "{mode:?}: {stderr}");
        let clean = fs::read(dir.path().join("clean.trace")).unwrap();
        assert!(!clean.is_empty());

        // Scored, the forger's run is unusual: its read of /etc/shadow is found.
        let (code, stdout, stderr) = run(&mut with(&[
            "-o", "t.trace", "--score", "m.honk", "--json", "--", "sh", "forge.sh",
        ]));
        assert_eq!(code, 1, "{mode:?}: the forged trace was scored: {stdout} {stderr}");
        let found: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|row| row["type"] != "summary")
            .collect();
        assert!(
            found
                .iter()
                .any(|a| a["text"].as_str().is_some_and(|t| t.contains("/etc/shadow"))),
            "{mode:?}: {found:?}"
        );
        // Reports point into the trace kept with -o...
        assert!(found.iter().all(|a| a["source"] == "t.trace"), "{mode:?}: {found:?}");
        // ...which is the real one, not the planted file.
        let kept = fs::read(dir.path().join("t.trace")).unwrap();
        assert_ne!(kept, clean, "{mode:?}");
        assert!(String::from_utf8_lossy(&kept).contains("/etc/shadow"), "{mode:?}");
        assert!(String::from_utf8_lossy(&kept).contains("forge.sh"), "{mode:?}");
    }
}

#[test]
fn the_exit_status_is_the_commands_and_a_failed_run_is_not_learned() {
    if !strace_works() {
        return skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    let dir = tempfile::tempdir().unwrap();
    for (script, status) in [("true", 0), ("false", 1), ("exit 7", 7), ("kill $$", 143)] {
        let (code, _, stderr) = run(honk(dir.path()).args(["trace", "-q", "-o", "t.strace", "--", "sh", "-c", script]));
        assert_eq!(code, status, "`{script}`: {stderr}");
        assert!(fs::read_to_string(dir.path().join("t.strace"))
            .unwrap()
            .contains("execve("));
    }

    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "--learn", "m.honk", "--", "false"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not learning `false`") && stderr.contains("exit status 1"),
        "{stderr}"
    );
    assert!(stderr.contains("--learn-failed"), "{stderr}");
    assert!(!dir.path().join("m.honk").exists(), "a failed run was learned");

    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "--learn", "m.honk", "--learn-failed", "--", "false"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("m.honk").exists());
}

/// Runs `honk trace` with `limit` on `script` (a Perl program), in the sandbox;
/// `None` if this machine cannot enforce that limit (it says so).
fn limited(dir: &Path, limit: &[&str], script: &str) -> Option<(i32, String, String)> {
    let mut cmd = honk(dir);
    cmd.args(["trace", "--sandbox", "-o", "t.strace"]).args(limit);
    let (code, stdout, stderr) = run(cmd.args(["--", "perl", "-e", script]));
    if stderr.contains("not enforced") {
        skip(&format!("this machine cannot enforce {limit:?}: {stderr}"));
        return None;
    }
    Some((code, stdout, stderr))
}

#[test]
fn a_fork_bomb_is_bounded_by_the_process_limit() {
    if !sandbox_works() {
        return skip("bubblewrap is missing or cannot make its sandbox (apt-get install bubblewrap)");
    }
    let dir = tempfile::tempdir().unwrap();
    // 200 children that wait for their parent to finish forking.
    let bomb = "pipe(R, W); my $n = 0; for (1 .. 200) { my $p = fork; last unless defined $p; \
                if ($p == 0) { close W; my $b; sysread(R, $b, 1); exit 0 } $n++ } \
                close W; print \"forked $n\\n\"; 1 while wait != -1;";
    let Some((code, stdout, stderr)) = limited(dir.path(), &["--max-procs", "16"], bomb) else {
        return;
    };
    assert_eq!(code, 0, "{stderr}");
    let forked: u32 = stdout.trim().strip_prefix("forked ").unwrap().parse().unwrap();
    assert!(forked < 16, "{forked} processes under a limit of 16");
    assert!(stderr.contains("ran into the process limit"), "{stderr}");
    let trace = fs::read_to_string(dir.path().join("t.strace")).unwrap();
    assert!(trace.contains("EAGAIN"), "the failed forks are in the trace");

    // The default limit (1,024) lets all 200 run.
    let Some((code, stdout, stderr)) = limited(dir.path(), &[], bomb) else {
        return;
    };
    assert_eq!((code, stdout.trim()), (0, "forked 200"), "{stderr}");
}

#[test]
fn a_memory_hog_is_stopped_by_the_memory_limit() {
    if !sandbox_works() {
        return skip("bubblewrap is missing or cannot make its sandbox (apt-get install bubblewrap)");
    }
    let dir = tempfile::tempdir().unwrap();
    let hog = "my $x = \"a\" x (512 << 20); print length($x), \"\\n\";";
    let Some((code, stdout, stderr)) = limited(dir.path(), &["--max-memory", "64M"], hog) else {
        return;
    };
    assert_ne!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "the hog got its memory: {stdout}");
    assert!(stderr.contains("ran into the memory limit"), "{stderr}");
    // Learning such a run is refused.
    let (code, _, stderr) = run(honk(dir.path()).args([
        "trace",
        "--sandbox",
        "--max-memory",
        "64M",
        "--learn",
        "m.honk",
        "--",
        "perl",
        "-e",
        hog,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not learning"), "{stderr}");
}

#[test]
fn the_timeout_kills_the_run() {
    for mode in modes() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = honk(dir.path());
        cmd.arg("trace").args(mode).args([
            "--timeout",
            "1",
            "-o",
            "t.trace",
            "--",
            "sh",
            "-c",
            "sleep 100 & sleep 100",
        ]);
        let (code, _, stderr) = run(&mut cmd);
        assert_eq!(code, 124, "{mode:?}: {stderr}");
        assert!(stderr.contains("killed at its time limit"), "{mode:?}: {stderr}");
        assert!(fs::read_to_string(dir.path().join("t.trace"))
            .unwrap()
            .contains("sleep"));
        // Scored, a run killed at its time limit is unusual in itself.
        let (code, _, stderr) = run(honk(dir.path()).args(["trace", "-q", "--learn", "m.honk", "--", "true"]));
        assert_eq!(code, 0, "{stderr}");
        let mut cmd = honk(dir.path());
        cmd.arg("trace")
            .args(mode)
            .args(["--timeout", "1", "--score", "m.honk", "--", "sleep", "100"]);
        let (code, _, stderr) = run(&mut cmd);
        assert_eq!(code, 1, "{mode:?}: {stderr}");
    }
}

#[test]
fn gvisor_leaves_the_callers_descriptors_alone() {
    if !runsc_works() {
        return skip("needs runsc (apt-get install runsc) and root");
    }
    let dir = tempfile::tempdir().unwrap();
    // A file shared with the caller: honk's output lands after the caller's.
    let honk_path = assert_cmd::cargo::cargo_bin("honk");
    let script = format!(
        "{{ echo first line; '{}' trace --gvisor -q -o g.log -- echo hi; echo last line; }} > out.txt",
        honk_path.display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "first line\nhi\nlast line\n"
    );

    // Standard output and input stay blocking.
    let (read_end, write_end) = std::io::pipe().unwrap();
    let keep = write_end.try_clone().unwrap();
    let (_in_read, in_write) = std::io::pipe().unwrap();
    let in_keep = in_write.try_clone().unwrap();
    let _ = read_end;
    let status = honk(dir.path())
        .args(["trace", "--gvisor", "-q", "-o", "g.log", "--", "true"])
        .stdin(Stdio::from(_in_read.try_clone().unwrap()))
        .stdout(Stdio::from(write_end))
        .status()
        .unwrap();
    assert!(status.success());
    use std::os::fd::AsRawFd;
    for fd in [keep.as_raw_fd(), _in_read.as_raw_fd()] {
        // SAFETY: F_GETFL reads the flags of a descriptor this test holds.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        assert!(
            flags >= 0 && flags & libc::O_NONBLOCK == 0,
            "O_NONBLOCK left set on fd {fd}"
        );
    }
    drop(in_keep);
}

#[test]
fn the_sandbox_runs_commands_under_tmp_in_their_directory() {
    if !sandbox_works() {
        return skip("bubblewrap is missing or cannot make its sandbox (apt-get install bubblewrap)");
    }
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    let script = dir.path().join("hello.sh");
    fs::write(&script, "#!/bin/sh\npwd\necho made > here.txt || echo read-only\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let (code, stdout, stderr) =
        run(honk(dir.path()).args(["trace", "--sandbox", "-o", "t.strace", "--", "./hello.sh"]));
    assert_eq!(code, 0, "{stderr}");
    let real = fs::canonicalize(dir.path()).unwrap();
    assert_eq!(stdout, format!("{}\nread-only\n", real.display()), "{stderr}");
    assert!(!dir.path().join("here.txt").exists());

    // By its absolute path, from elsewhere.
    let (code, stdout, stderr) = run(honk(Path::new("/"))
        .args(["trace", "--sandbox", "-o"])
        .arg(dir.path().join("t.strace"))
        .arg("--")
        .arg(&script));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("/\n"), "{stdout}");
}

#[test]
fn failures_say_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [&[][..], &["--sandbox"], &["--gvisor"]] {
        let (code, _, stderr) = run(honk(dir.path())
            .arg("trace")
            .args(mode)
            .args(["--", "honk-no-such-command"]));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("no such command"), "{mode:?}: {stderr}");
        assert!(!stderr.contains("ptrace") && !stderr.contains("namespaces"), "{stderr}");
    }
    if !strace_works() {
        return skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    // A full disk: the write that failed, and why.
    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "-o", "/dev/full", "--", "true"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("/dev/full") && stderr.contains("No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("ptrace") && !stderr.contains("namespaces"), "{stderr}");
    // A trace emptied while the command ran (possible without a sandbox only).
    let empty = "for f in /proc/$PPID/fd/*; do case $(readlink $f) in *deleted*) : > $f ;; esac; done";
    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "-o", "t.strace", "--", "sh", "-c", empty]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("emptied"), "{stderr}");
    assert!(!stderr.contains("ptrace") && !stderr.contains("namespaces"), "{stderr}");
    assert!(
        !dir.path().join("t.strace").exists(),
        "nothing is kept of a trace that never started"
    );
    // An -o in no directory: said before the command runs.
    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "-o", "no/such/dir/t", "--", "touch", "ran"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no directory no/such/dir"), "{stderr}");
    assert!(!dir.path().join("ran").exists(), "the command ran");
    // A command that exists but cannot be run.
    fs::write(dir.path().join("data.txt"), "not a program").unwrap();
    let (code, _, stderr) = run(honk(dir.path()).args(["trace", "--", "./data.txt"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not an executable file"), "{stderr}");
}

#[test]
fn demo_keep_takes_a_relative_directory() {
    if !strace_works() {
        return skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(honk(dir.path()).args(["demo", "--keep", "kept"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("built-in"), "{stderr}");
    assert!(stderr.contains("traced just now"), "{stderr}");
    let target = fs::read_to_string(dir.path().join("kept/target.strace")).unwrap();
    assert!(target.contains("/etc/shadow"));
    assert_ne!(
        target,
        honk::demo::EMBEDDED_TARGET,
        "the live trace, not the built-in one"
    );
}

#[test]
fn reports_name_a_temporary_trace_trace() {
    if !strace_works() {
        return skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) =
        run(honk(dir.path()).args(["trace", "-q", "--learn", "m.honk", "--", "cat", "/etc/hostname"]));
    assert_eq!(code, 0, "{stderr}");
    let odd = [
        "trace",
        "-q",
        "--score",
        "m.honk",
        "--json",
        "--html",
        "r.html",
        "--",
        "sh",
        "-c",
        "cat /etc/shadow",
    ];
    let (code, stdout, stderr) = run(honk(dir.path()).args(odd));
    assert_eq!(code, 1, "{stderr}");
    let found: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|row| row["type"] != "summary")
        .collect();
    assert!(!found.is_empty());
    for anomaly in &found {
        assert_eq!(anomaly["source"], "trace", "{anomaly}");
        if let Some(nearest) = anomaly["nearest"].as_object() {
            assert_eq!(nearest["source"], "trace", "the learned trace too: {anomaly}");
        }
    }
    // Relative paths still mean the current directory's.
    assert!(dir.path().join("r.html").is_file());
    assert!(dir.path().join("m.honk").is_file());
}

#[test]
fn an_interrupt_ends_the_run_and_honk_still_cleans_up() {
    if !strace_works() {
        return skip("strace is missing or cannot trace here (apt-get install strace)");
    }
    let dir = tempfile::tempdir().unwrap();
    // The command sends SIGINT to its process group, as Ctrl-C does: honk's
    // (a group of its own, so that this test is not in it).
    use std::os::unix::process::CommandExt;
    let mut cmd = honk(dir.path());
    cmd.process_group(0).args([
        "trace",
        "--max-procs",
        "100",
        "-o",
        "t.strace",
        "--",
        "sh",
        "-c",
        "kill -INT 0; echo survived",
    ]);
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "honk exits as the command did: {stderr}");
    assert!(stderr.contains("honk: traced"), "{stderr}");
    let trace = fs::read_to_string(dir.path().join("t.strace")).unwrap();
    assert!(trace.contains("killed by SIGINT"), "the trace is kept: {trace}");
    // Its cgroup, if it made one, is gone.
    let prefix = format!("honk-{pid}-");
    let left: Vec<_> = walkdir::WalkDir::new("/sys/fs/cgroup")
        .max_depth(6)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(left.is_empty(), "cgroups left behind: {left:?}");
}
