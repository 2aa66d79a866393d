//! An attack made only of ordinary calls in an unusual order: window scoring
//! catches it, line scoring cannot. Traced for real with strace (skipped, with
//! the reason printed, where strace or python3 is missing).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// The same calls with the same arguments either way; only their order differs.
const PROGRAM: &str = r#"
import os, sys
def work():
    fd = os.open("/etc/hostname", os.O_RDONLY)
    os.read(fd, 64)
    os.close(fd)
def report():
    os.write(1, b"done\n")
for _ in range(3):
    if sys.argv[1] == "normal":
        work(); report()
    else:
        report(); work()
"#;

fn python() -> Option<PathBuf> {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn trace(python: &Path, script: &Path, mode: &str, out: &Path) -> Result<(), String> {
    let status = Command::new("strace")
        .args(["-f", "-o"])
        .arg(out)
        .arg(python)
        .args(["-S", "-E"])
        .arg(script)
        .arg(mode)
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("strace is not installed ({e}); apt-get install strace"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("strace failed: {status}"))
    }
}

fn diff(args: &[&str], base: &Path, target: &Path) -> (i32, Vec<Value>) {
    let out = Command::cargo_bin("honk")
        .expect("honk binary")
        .args(["diff", "--json", "-q"])
        .args(args)
        .arg(base)
        .arg(target)
        .output()
        .expect("run honk");
    let found = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        // The anomalies, not the incidents that group them.
        .filter(|v| v["type"] != "incident" && v["type"] != "summary")
        .collect();
    (out.status.code().expect("exit status"), found)
}

#[test]
fn an_unusual_order_of_ordinary_calls_is_caught_by_windows_only() {
    let Some(python) = python() else {
        common::skip("no python3 at /usr/bin or /usr/local/bin");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("order.py");
    std::fs::write(&script, PROGRAM).expect("write script");
    let (base, attack) = (dir.path().join("normal.strace"), dir.path().join("attack.strace"));
    if let Err(why) = trace(&python, &script, "normal", &base).and_then(|()| trace(&python, &script, "attack", &attack))
    {
        common::skip(&why);
        return;
    }

    // Line by line, every call of the attack was seen in the baseline.
    let (code, found) = diff(&[], &base, &attack);
    assert_eq!(code, 0, "no single line is unusual: {found:?}");

    // Windows of the same thread see the new order.
    let (code, found) = diff(&["--window", "3"], &base, &attack);
    assert_eq!(code, 1, "the reordering is found");
    assert!(!found.is_empty());
    for anomaly in &found {
        let window = anomaly
            .get("window")
            .unwrap_or_else(|| panic!("only windows are reported: {anomaly}"));
        assert_eq!(window["events"], 3);
        assert!(window["last_line"].as_u64() >= anomaly["line"].as_u64());
    }
    let texts: Vec<&str> = found.iter().filter_map(|a| a["text"].as_str()).collect();
    assert!(
        texts.iter().any(|t| t.contains("write(1, \"done\\n\"")),
        "a reported window holds the moved write: {texts:?}"
    );
    let nearest = found[0]["nearest"]["text"].as_str().unwrap_or("");
    assert_eq!(
        nearest.lines().count(),
        3,
        "the nearest baseline window is shown: {nearest:?}"
    );

    // The baseline against itself is quiet with windows too.
    let (code, found) = diff(&["--window", "3"], &base, &base);
    assert_eq!(code, 0, "{found:?}");
}
