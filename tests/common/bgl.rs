//! The BGL log of `../shared/data/loghub-2k` as a broker test's data: a
//! model learned from the normal lines of its first half, its second half as
//! the records to send, and what `honk score` finds in them (the alerts the
//! workers must give).

#![allow(dead_code)] // Not every test crate that includes `common` uses it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A scratch directory (its name has spaces and accents), the model in it,
/// and the records to send.
pub struct Bgl {
    pub dir: tempfile::TempDir,
    pub model: PathBuf,
    pub records: Vec<String>,
}

impl Bgl {
    /// `None` (after saying why, see [`super::skip`]) when the data set is missing.
    pub fn new(prefix: &str) -> Option<Bgl> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/loghub-2k/BGL/BGL_2k.log");
        if !path.exists() {
            super::skip("no ../shared/data/loghub-2k/BGL/BGL_2k.log");
            return None;
        }
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (first, second) = lines.split_at(lines.len() / 2);
        let normal: Vec<&str> = first.iter().filter(|l| l.starts_with("- ")).copied().collect();
        let base = dir.path().join("bgl normal.log");
        std::fs::write(&base, normal.join("\n") + "\n").unwrap();
        let model = dir.path().join("bgl ü.honk");
        super::learn(&model, &base);
        let records = second.iter().map(|l| l.to_string()).collect();
        Some(Bgl { dir, model, records })
    }

    /// The texts of the records `honk score` finds anomalous among the records.
    pub fn anomalies(&self) -> BTreeSet<String> {
        let target = self.dir.path().join("target.log");
        std::fs::write(&target, self.records.join("\n") + "\n").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_honk"))
            .args(["score", "--json", "-q", "-m"])
            .arg(&self.model)
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|row| row["type"] == "anomaly")
            .map(|row| row["text"].as_str().unwrap().to_owned())
            .collect()
    }
}
