//! A regression guard on real labelled data: `honk eval` on ADFA-LD (read from
//! `../shared/data/adfa-ld`, skipped with the reason printed when it is absent).
//!
//! Split as the data set ships: baseline = Training_Data_Master (833 traces),
//! normal = Validation_Data_Master (4,372), attack = Attack_Data_Master (746).
//! The floors are the figures measured when each method was added, rounded
//! down: a drop below them is a regression, not noise (the evaluation is
//! deterministic).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

fn adfa() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/adfa-ld");
    if root.join("Training_Data_Master").is_dir() {
        Some(root)
    } else {
        common::skip(&format!("ADFA-LD is not at {}", root.display()));
        None
    }
}

fn eval(root: &Path, method: &[&str]) -> Value {
    let out = Command::cargo_bin("honk")
        .expect("honk binary")
        .args(["eval", "--json", "-q", "--baseline"])
        .arg(root.join("Training_Data_Master"))
        .arg("--normal")
        .arg(root.join("Validation_Data_Master"))
        .arg("--attack")
        .arg(root.join("Attack_Data_Master"))
        .args(method)
        .output()
        .expect("run honk eval");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn adfa_ld_bags_keep_their_measured_auc() {
    let Some(root) = adfa() else { return };
    let report = eval(&root, &["--method", "bag", "--unseen", "distance"]);
    assert_eq!(report["normal"], 4372);
    assert_eq!(report["attack"], 746);
    let auc = report["roc_auc"].as_f64().expect("roc_auc");
    eprintln!("ADFA-LD, bags of calls, k 1: ROC AUC {auc:.4}");
    // 0.8590 when added (scikit-learn's 1-NN cosine on binary bags of calls: 0.8597).
    assert!(auc >= 0.858, "ROC AUC fell to {auc}");
}

#[test]
fn adfa_ld_stide_keeps_its_measured_auc() {
    let Some(root) = adfa() else { return };
    let report = eval(&root, &["--method", "stide", "--window", "6"]);
    let auc = report["roc_auc"].as_f64().expect("roc_auc");
    eprintln!("ADFA-LD, stide, windows of 6: ROC AUC {auc:.4}");
    // 0.8273 when added.
    assert!(auc >= 0.827, "ROC AUC fell to {auc}");
}
