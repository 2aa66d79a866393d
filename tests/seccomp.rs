//! From baseline to policy, for real: a workload traced with `honk trace
//! --learn`, its profile made with `honk seccomp`, then enforced. The same
//! workload runs to completion under the profile (`honk trace --seccomp`, with
//! and without `--sandbox`); a command that needs a call outside it fails with
//! EPERM, or is killed with `--action kill`; and the OCI form loads in a gVisor
//! bundle run by `runsc --oci-seccomp`. Tests whose tool is missing (strace,
//! bubblewrap, runsc as root) say so and skip; CI installs them.

mod common;

use common::{strace_works, works};

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// The workload: a shell that reads files and lists a directory.
const WORKLOAD: &str = "cat /etc/os-release > /dev/null; ls /usr > /dev/null; echo done";

fn honk(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("honk")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Learn the workload and write its profile (`extra` options for `honk seccomp`); returns the profile's path.
fn learn_and_profile(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    if !dir.join("m.honk").exists() {
        let out = honk(
            dir,
            &[
                "trace", "-q", "-o", "w.strace", "--learn", "m.honk", "--", "sh", "-c", WORKLOAD,
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut args = vec!["seccomp", "-q", "-m", "m.honk", "-o", name];
    args.extend(extra);
    let out = honk(dir, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join(name)
}

#[test]
fn a_profile_from_a_traced_workload_is_enforced() {
    if !strace_works() {
        common::skip("strace cannot trace here (apt-get install strace; ptrace allowed)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = learn_and_profile(dir.path(), "p.json", &[]);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    assert_eq!(json["defaultAction"], "SCMP_ACT_ERRNO");
    let names = json["syscalls"][0]["names"].as_array().unwrap();
    for call in ["execve", "openat", "read", "getdents64"] {
        assert!(names.iter().any(|n| n == call), "{call} is not allowed: {names:?}");
    }

    // The same workload runs to completion under its profile...
    let out = honk(
        dir.path(),
        &[
            "trace",
            "-o",
            "again.strace",
            "--seccomp",
            "p.json",
            "--",
            "sh",
            "-c",
            WORKLOAD,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
    assert!(String::from_utf8_lossy(&out.stderr).contains("(exit status: 0)"));
    // ...and the trace is the command's alone: honk's launcher is cut out.
    let trace = std::fs::read_to_string(dir.path().join("again.strace")).unwrap();
    let first = trace.lines().next().unwrap();
    assert!(first.contains("execve(\"/usr/bin/sh\""), "{first}");
    assert!(!trace.contains("__seccomp-exec"), "the launcher is in the trace");
    assert!(!trace.contains("EPERM"), "an allowed workload hit the filter");

    // A command that needs a call outside the profile gets EPERM for it.
    let out = honk(
        dir.path(),
        &["trace", "-o", "uname.strace", "--seccomp", "p.json", "--", "uname"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"));
    let trace = std::fs::read_to_string(dir.path().join("uname.strace")).unwrap();
    assert!(
        trace.lines().any(|l| l.contains(" uname(") && l.contains("EPERM")),
        "{trace}"
    );

    // With --action kill, it is killed instead.
    learn_and_profile(dir.path(), "kill.json", &["--action", "kill"]);
    let out = honk(
        dir.path(),
        &["trace", "-o", "k.strace", "--seccomp", "kill.json", "--", "uname"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIGSYS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(dir.path().join("k.strace")).unwrap();
    assert!(trace.contains("killed by SIGSYS"), "{trace}");

    // With --action log, nothing is blocked.
    learn_and_profile(dir.path(), "log.json", &["--action", "log"]);
    let out = honk(
        dir.path(),
        &["trace", "-o", "l.strace", "--seccomp", "log.json", "--", "uname"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Linux");
}

#[test]
fn the_profile_is_enforced_in_the_sandbox_too() {
    if !strace_works()
        || !works(
            "bwrap",
            &["--ro-bind", "/", "/", "--unshare-user", "--unshare-net", "true"],
        )
    {
        common::skip("needs strace and bubblewrap with user namespaces (apt-get install bubblewrap)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    learn_and_profile(dir.path(), "p.json", &[]);
    let out = honk(
        dir.path(),
        &[
            "trace",
            "--sandbox",
            "-o",
            "s.strace",
            "--seccomp",
            "p.json",
            "--",
            "sh",
            "-c",
            WORKLOAD,
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
    let out = honk(
        dir.path(),
        &[
            "trace",
            "--sandbox",
            "-o",
            "u.strace",
            "--seccomp",
            "p.json",
            "--",
            "uname",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"));
}

#[test]
fn the_oci_form_loads_in_a_gvisor_bundle() {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    });
    if !strace_works() || !root || !works("runsc", &["--version"]) {
        common::skip("needs strace, runsc (apt-get install runsc) and root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = learn_and_profile(dir.path(), "oci.json", &["--format", "oci", "--base", "default"]);
    let seccomp: Value = serde_json::from_str(&std::fs::read_to_string(profile).unwrap()).unwrap();
    assert!(seccomp.get("architectures").is_some() && seccomp.get("archMap").is_none());

    // A bundle over the host's root, read-only, with the profile as linux.seccomp.
    let bundle = dir.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    let spec = Command::new("runsc")
        .current_dir(&bundle)
        .args(["spec", "--", "true"])
        .output()
        .unwrap();
    assert!(spec.status.success(), "{}", String::from_utf8_lossy(&spec.stderr));
    let run = |name: &str, args: &[&str], oci_seccomp: bool| -> Output {
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(bundle.join("config.json")).unwrap()).unwrap();
        config["root"] = serde_json::json!({"path": "/", "readonly": true});
        config["process"]["terminal"] = Value::Bool(false);
        config["process"]["args"] = serde_json::json!(args);
        config["linux"]["seccomp"] = seccomp.clone();
        std::fs::write(bundle.join("config.json"), config.to_string()).unwrap();
        let mut runsc = Command::new("runsc");
        if oci_seccomp {
            runsc.arg("--oci-seccomp");
        }
        let id = format!("honk-{}-{name}", std::process::id());
        runsc
            .args(["--network=none", "run", "--bundle"])
            .arg(&bundle)
            .arg(id)
            .output()
            .unwrap()
    };
    let out = run("workload", &["/bin/sh", "-c", WORKLOAD], true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
    // uname is outside the profile: refused under it, allowed without it.
    let out = run("uname", &["/usr/bin/uname"], true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Operation not permitted"));
    let out = run("control", &["/usr/bin/uname"], false);
    assert!(
        out.status.success(),
        "without --oci-seccomp uname runs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_text_model_has_no_profile_and_sysdig_events_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.log"), "service started\nrequest served\n").unwrap();
    let out = honk(dir.path(), &["learn", "-q", "-o", "t.honk", "app.log"]);
    assert!(out.status.success());
    let out = honk(dir.path(), &["seccomp", "-m", "t.honk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no system calls"));

    // A sysdig capture names events that are not system calls (procexit, switch...).
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sysdig-captures/curl_google.txt");
    if !capture.is_file() {
        common::skip(&format!("the sysdig part: {} is absent", capture.display()));
        return;
    }
    let out = honk(dir.path(), &["learn", "-q", "-o", "s.honk", capture.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = honk(dir.path(), &["seccomp", "-m", "s.honk"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = json["syscalls"][0]["names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.contains(&"connect") || names.contains(&"socket"), "{names:?}");
    assert!(!names.contains(&"procexit") && !names.contains(&"switch"), "{names:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("left out") && stderr.contains("procexit"), "{stderr}");
}
