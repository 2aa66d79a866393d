//! `honk trace --ebpf` and `honk watch --ebpf`: real commands captured with
//! eBPF, read back as strace traces, learned, scored live (needs root; skips
//! with a reason elsewhere, fails under HONK_REQUIRE_ALL).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use common::skip;

fn honk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_honk"))
}

/// Why eBPF capture cannot be tested here, if it cannot.
fn no_ebpf() -> Option<&'static str> {
    if !rustix_is_root() {
        return Some("eBPF capture needs root");
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() && !Path::new("/sys/fs/bpf").exists() {
        return Some("no BPF file system here");
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
        .map(|r| {
            (
                r.syscall_name().unwrap_or("").to_string(),
                honk::normalize::key_of(r),
            )
        })
        .collect()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    out
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
        return skip(why);
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
        let wanted = ["execve", "openat", "connect", "mkdir", "rmdir", "socket", "clone", "clone3", "exit_group"];
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
