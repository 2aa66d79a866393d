//! `honk eval --lid-ds` on a scenario built here in the LID-DS 2021 layout:
//! `training/`, `validation/`, `test/normal/`, `test/normal_and_attack/`, one
//! zip per recording holding `NAME.sc` (sysdig text, nanosecond times) and
//! `NAME.json` (whether an exploit ran, and when).

use std::io::Write;
use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const START_NS: u64 = 1_631_209_047_000_000_000;
const STEP_NS: u64 = 1_000_000;

/// A recording's events, each an enter and an exit line of one syscall.
struct Sc {
    text: String,
    time: u64,
}

impl Sc {
    fn new() -> Sc {
        Sc {
            text: String::new(),
            time: START_NS,
        }
    }

    fn call(&mut self, process: &str, name: &str, enter: &str, exit: &str) {
        for (dir, args) in [(">", enter), ("<", exit)] {
            self.time += STEP_NS;
            self.text
                .push_str(&format!("{} 33 4242 {process} 4242 {name} {dir} {args}\n", self.time));
        }
    }

    /// One web request, as the baseline knows it.
    fn request(&mut self) {
        let sock = "fd=9(<4t>172.17.0.1:44536->172.17.0.2:80)";
        self.call(
            "apache2",
            "accept4",
            "flags=0",
            &format!("{sock} tuple=172.17.0.1:44536->172.17.0.2:80"),
        );
        self.call(
            "apache2",
            "read",
            &format!("{sock} size=8000"),
            "res=52 data=R0VUIC8gSFRUUC8xLjEN",
        );
        self.call(
            "apache2",
            "openat",
            "dirfd=-100(AT_FDCWD) name=/var/www/html/index.html flags=1(O_RDONLY) mode=0",
            "fd=10(<f>/var/www/html/index.html) dirfd=-100(AT_FDCWD) name=/var/www/html/index.html flags=1(O_RDONLY) mode=0 dev=803",
        );
        self.call(
            "apache2",
            "write",
            &format!("{sock} size=200"),
            "res=200 data=SFRUUC8xLjEgMjAwIE9L",
        );
        self.call("apache2", "close", "fd=10(<f>/var/www/html/index.html)", "res=0");
    }

    /// Something the baseline never did, but harmless: a false alarm.
    fn oddity(&mut self) {
        self.call(
            "apache2",
            "openat",
            "dirfd=-100(AT_FDCWD) name=/etc/hosts flags=1(O_RDONLY) mode=0",
            "fd=10(<f>/etc/hosts) dirfd=-100(AT_FDCWD) name=/etc/hosts flags=1(O_RDONLY) mode=0 dev=803",
        );
    }

    /// The exploit: a shell that reads the password hashes. Returns its time.
    fn exploit(&mut self) -> u64 {
        let at = self.time + STEP_NS;
        self.call("apache2", "execve", "filename=/bin/sh", "res=0 exe=sh args=LWMAaWQA");
        self.call(
            "sh",
            "openat",
            "dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0",
            "fd=3(<f>/etc/shadow) dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0 dev=803",
        );
        at
    }
}

fn write_recording(folder: &Path, name: &str, sc: &Sc, exploit_ns: Option<u64>) {
    std::fs::create_dir_all(folder).unwrap();
    let metadata = match exploit_ns {
        Some(ns) => serde_json::json!({
            "exploit": true,
            "recording_time": 30,
            "time": { "exploit": [{ "absolute": ns as f64 / 1e9, "name": "exploit", "source": "test" }] },
        }),
        None => serde_json::json!({ "exploit": false, "recording_time": 30, "time": { "exploit": [] } }),
    };
    let file = std::fs::File::create(folder.join(format!("{name}.zip"))).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(format!("{name}.sc"), options).unwrap();
    zip.write_all(sc.text.as_bytes()).unwrap();
    zip.start_file(format!("{name}.json"), options).unwrap();
    zip.write_all(metadata.to_string().as_bytes()).unwrap();
    zip.start_file(format!("{name}.res"), options).unwrap();
    zip.write_all(b"").unwrap();
    zip.finish().unwrap();
}

fn normal(requests: usize) -> Sc {
    let mut sc = Sc::new();
    for _ in 0..requests {
        sc.request();
    }
    sc
}

#[test]
fn lid_ds_scenario_is_scored_as_its_authors_score_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("CVE-TEST");
    write_recording(&root.join("training"), "t1", &normal(5), None);
    write_recording(&root.join("training"), "t2", &normal(3), None);
    write_recording(&root.join("validation"), "v1", &normal(4), None);
    // Test, normal: one clean run, one with a harmless oddity (one run of false alarms).
    write_recording(&root.join("test/normal"), "n1", &normal(4), None);
    let mut odd = normal(2);
    odd.oddity();
    odd.request();
    write_recording(&root.join("test/normal"), "n2", &odd, None);
    // Test, attacks: one with a false alarm before the exploit, one without.
    let mut a1 = normal(2);
    a1.oddity();
    a1.request();
    let t1 = a1.exploit();
    a1.request();
    write_recording(&root.join("test/normal_and_attack"), "a1", &a1, Some(t1));
    let mut a2 = normal(3);
    let t2 = a2.exploit();
    write_recording(&root.join("test/normal_and_attack"), "a2", &a2, Some(t2));

    let out = Command::cargo_bin("honk")
        .unwrap()
        .args(["eval", "--json", "-q", "--lid-ds"])
        .arg(&root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unit"], "recordings");
    assert_eq!(
        (report["normal"].as_u64(), report["attack"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(report["baseline"], 2);
    let m = &report["lid_ds"];
    // Validation is like training: its highest score, the threshold, is 0.
    assert_eq!(m["threshold"], 0.0, "{report}");
    assert_eq!(
        report["confusion"]["chosen_by"],
        "the highest score on the validation recordings"
    );
    assert_eq!(m["exploit_count"], 2, "{m}");
    assert_eq!(m["detected"], 2, "{m}");
    assert_eq!(m["detection_rate"], 1.0, "{m}");
    // The oddity is one syscall: one false alarm event, one run, in each of n2 and a1.
    assert_eq!(m["cfa_normal"], 1, "{m}");
    assert_eq!(m["cfa_exploits"], 1, "{m}");
    assert_eq!(m["false_positives"], 2, "{m}");
    assert_eq!(m["precision_with_cfa"], 0.5, "{m}");
    // The exploit's execve and openat of /etc/shadow, in each attack recording.
    assert_eq!(m["true_positives"], 4, "{m}");

    // Human output names the LID-DS figures.
    let out = Command::cargo_bin("honk")
        .unwrap()
        .args(["eval", "-q", "--lid-ds"])
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("detection rate 1.0000 (2 of 2 attack recordings)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 consecutive false alarms (1 in normal, 1 in attack recordings"),
        "{stdout}"
    );

    // Not a scenario: a clear error naming what is missing.
    std::fs::remove_dir_all(root.join("validation")).unwrap();
    let out = Command::cargo_bin("honk")
        .unwrap()
        .args(["eval", "--lid-ds"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("validation"), "{stderr}");
}
