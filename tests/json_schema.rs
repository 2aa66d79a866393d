//! The JSON Lines schema of `honk score`/`diff --json`, held fixed: every row
//! has a `type` and exactly the keys its type has, with values of the right
//! kinds, and README.md documents exactly those keys. A change to the schema
//! fails here until this file and the README say the same.
//!
//! It runs the real binary on the demo's two traces, copied into a temporary
//! directory that is the current directory (not the repository). Scores are
//! not compared: they may change with the method; the shape may not silently.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value};

/// What a value must be.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// This exact string.
    Tag(&'static str),
    Str,
    /// A non-negative integer.
    UInt,
    /// A number (integer or not).
    Num,
    /// An array of strings.
    Strs,
    /// An array of non-negative integers.
    UInts,
    /// An object of this shape.
    Obj(&'static Shape),
    /// An object of this shape, or null.
    ObjOrNull(&'static Shape),
    /// A non-negative integer or null.
    UIntOrNull,
    /// An array of objects of this shape.
    Objs(&'static Shape),
}

/// An object's keys: those always there, and those there only sometimes.
#[derive(Debug)]
struct Shape {
    always: &'static [(&'static str, Kind)],
    sometimes: &'static [(&'static str, Kind)],
}

const NEAREST: Shape = Shape {
    always: &[("source", Kind::Str), ("line", Kind::UInt), ("text", Kind::Str)],
    sometimes: &[],
};

const CONTEXT_LINE: Shape = Shape {
    always: &[("line", Kind::UInt), ("text", Kind::Str)],
    sometimes: &[],
};

const WINDOW: Shape = Shape {
    always: &[
        ("last_line", Kind::UInt),
        ("events", Kind::UInt),
        ("thread", Kind::UIntOrNull),
    ],
    sometimes: &[],
};

const INCIDENT: Shape = Shape {
    always: &[
        ("type", Kind::Tag("incident")),
        ("id", Kind::UInt),
        ("source", Kind::Str),
        ("line", Kind::UInt),
        ("last_line", Kind::UInt),
        ("records", Kind::UInt),
        ("score", Kind::Num),
        ("threads", Kind::UInts),
        ("new", Kind::Strs),
        ("text", Kind::Str),
        ("nearest", Kind::ObjOrNull(&NEAREST)),
    ],
    sometimes: &[],
};

const ANOMALY: Shape = Shape {
    always: &[
        ("type", Kind::Tag("anomaly")),
        ("source", Kind::Str),
        ("line", Kind::UInt),
        ("score", Kind::Num),
        ("text", Kind::Str),
        ("nearest", Kind::ObjOrNull(&NEAREST)),
        ("incident", Kind::UInt),
        ("new", Kind::Strs),
    ],
    // `before` and `after` with -A/-B/-C, `window` for a window of events.
    sometimes: &[
        ("before", Kind::Objs(&CONTEXT_LINE)),
        ("after", Kind::Objs(&CONTEXT_LINE)),
        ("window", Kind::Obj(&WINDOW)),
    ],
};

const POLICY: Shape = Shape {
    always: &[
        ("type", Kind::Tag("policy")),
        ("source", Kind::Str),
        ("line", Kind::UInt),
        ("policy", Kind::Tag("syscall outside the baseline")),
        ("syscall", Kind::Str),
        ("count", Kind::UInt),
    ],
    sometimes: &[],
};

const THREAD: Shape = Shape {
    always: &[
        ("thread", Kind::UInt),
        ("records", Kind::UInt),
        ("anomalies", Kind::UInt),
    ],
    sometimes: &[],
};

const INPUT: Shape = Shape {
    always: &[
        ("source", Kind::Str),
        ("records", Kind::UInt),
        ("anomalies", Kind::UInt),
        ("max_score", Kind::Num),
        ("threads", Kind::Objs(&THREAD)),
    ],
    sometimes: &[],
};

const BASELINE: Shape = Shape {
    always: &[("records", Kind::UInt), ("unique", Kind::UInt)],
    sometimes: &[],
};

const SUMMARY: Shape = Shape {
    always: &[
        ("type", Kind::Tag("summary")),
        ("incidents", Kind::UInt),
        ("anomalies", Kind::UInt),
        ("threshold", Kind::Num),
        ("records", Kind::UInt),
        ("unique", Kind::UInt),
        ("inputs", Kind::Objs(&INPUT)),
        ("baseline", Kind::Obj(&BASELINE)),
        ("k", Kind::UInt),
        ("violations", Kind::UInt),
        ("truncated_lines", Kind::UInt),
    ],
    sometimes: &[("lost_events", Kind::UInt)],
};

/// Every row type, with its shape.
const TYPES: [(&str, &Shape); 4] = [
    ("incident", &INCIDENT),
    ("anomaly", &ANOMALY),
    ("policy", &POLICY),
    ("summary", &SUMMARY),
];

/// Checks `value` against `kind`; `at` names the place for the message.
fn check(value: &Value, kind: Kind, at: &str) {
    let ok = match kind {
        Kind::Tag(tag) => value.as_str() == Some(tag),
        Kind::Str => value.is_string(),
        Kind::UInt => value.is_u64(),
        Kind::Num => value.is_number(),
        Kind::Strs => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::UInts => value.as_array().is_some_and(|a| a.iter().all(Value::is_u64)),
        Kind::UIntOrNull => value.is_u64() || value.is_null(),
        Kind::Obj(shape) => {
            check_shape(value, shape, at);
            true
        }
        Kind::ObjOrNull(shape) => {
            if !value.is_null() {
                check_shape(value, shape, at);
            }
            true
        }
        Kind::Objs(shape) => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_shape(item, shape, &format!("{at}[{i}]"));
                }
                true
            }
            None => false,
        },
    };
    assert!(ok, "{at} is not {kind:?}: {value}");
}

/// Checks that `value` is an object with every key of `shape` that is always
/// there, no key that is not in `shape`, and values of the right kinds.
fn check_shape(value: &Value, shape: &Shape, at: &str) {
    let object: &Map<String, Value> = value
        .as_object()
        .unwrap_or_else(|| panic!("{at} is not an object: {value}"));
    let known: BTreeMap<&str, Kind> = shape.always.iter().chain(shape.sometimes).copied().collect();
    for key in object.keys() {
        assert!(
            known.contains_key(key.as_str()),
            "{at} has the undocumented key {key:?}: {value}"
        );
    }
    for (key, _) in shape.always {
        assert!(object.contains_key(*key), "{at} lacks {key:?}: {value}");
    }
    for (key, v) in object {
        check(v, known[key.as_str()], &format!("{at}.{key}"));
    }
}

/// A temporary directory holding the demo's traces, as `baseline.strace` and `target.strace`.
fn demo_traces() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/demo");
    for name in ["baseline.strace", "target.strace"] {
        std::fs::copy(demo.join(name), dir.path().join(name)).expect("copy a demo trace");
    }
    dir
}

/// Runs honk with `args` in `cwd`: its exit status and its JSON rows.
fn honk_json(cwd: &Path, args: &[&str]) -> (i32, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_honk"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run honk");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let rows = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    (out.status.code().expect("an exit status"), rows)
}

/// Checks every row against its type's shape, and the order and totals of the
/// stream: incidents before their anomalies, policy rows after them, one
/// summary last whose counts are the rows'. Returns the rows' types, counted.
fn check_rows(rows: &[Value], context: bool) -> BTreeMap<String, usize> {
    let shapes: BTreeMap<&str, &Shape> = TYPES.into_iter().collect();
    let mut seen = BTreeMap::new();
    let mut incident = None;
    let mut after_anomalies = false;
    for (i, row) in rows.iter().enumerate() {
        let kind = row["type"]
            .as_str()
            .unwrap_or_else(|| panic!("row {i} has no string \"type\": {row}"));
        let shape = shapes
            .get(kind)
            .unwrap_or_else(|| panic!("row {i} has the undocumented type {kind:?}: {row}"));
        check_shape(row, shape, &format!("row {i} ({kind})"));
        *seen.entry(kind.to_owned()).or_insert(0) += 1;
        match kind {
            "incident" => {
                assert!(!after_anomalies, "an incident after a policy row: {row}");
                incident = row["id"].as_u64();
            }
            "anomaly" => {
                assert!(!after_anomalies, "an anomaly after a policy row: {row}");
                assert_eq!(
                    row["incident"].as_u64(),
                    incident,
                    "an anomaly follows its incident: {row}"
                );
                for side in ["before", "after"] {
                    assert_eq!(
                        row.get(side).is_some(),
                        context,
                        "{side} only with context flags: {row}"
                    );
                }
            }
            "policy" => after_anomalies = true,
            _ => assert_eq!(i, rows.len() - 1, "the summary is the last row: {row}"),
        }
    }
    assert_eq!(seen.get("summary"), Some(&1), "one summary row");
    let summary = &rows[rows.len() - 1];
    let count = |kind: &str| seen.get(kind).copied().unwrap_or(0) as u64;
    assert_eq!(summary["anomalies"].as_u64(), Some(count("anomaly")), "{summary}");
    assert_eq!(summary["incidents"].as_u64(), Some(count("incident")), "{summary}");
    let calls: u64 = rows
        .iter()
        .filter(|r| r["type"] == "policy")
        .filter_map(|r| r["count"].as_u64())
        .sum();
    assert_eq!(summary["violations"].as_u64(), Some(calls), "{summary}");
    seen
}

#[test]
fn every_row_of_diff_and_score_has_its_types_keys_and_a_summary_ends_the_stream() {
    let dir = demo_traces();
    let cwd = dir.path();
    let (code, rows) = honk_json(cwd, &["diff", "-q", "--json", "baseline.strace", "target.strace"]);
    assert_eq!(code, 1, "the compromised run is unusual");
    let seen = check_rows(&rows, false);
    for kind in ["incident", "anomaly", "policy", "summary"] {
        assert!(
            seen.contains_key(kind),
            "the demo gives every row type, not {kind}: {seen:?}"
        );
    }
    let summary = &rows[rows.len() - 1];
    assert_eq!(summary["inputs"][0]["source"], "target.strace");
    assert_eq!(summary["threshold"], 0.3);
    assert_eq!(summary["k"], 1);

    // With context: before and after on every anomaly.
    let (_, rows) = honk_json(
        cwd,
        &["diff", "-q", "--json", "-C", "2", "baseline.strace", "target.strace"],
    );
    check_rows(&rows, true);

    // Scored against a model, from another directory, with windows.
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let model = cwd.join("m.honk");
    let (code, rows) = honk_json(
        cwd,
        &["learn", "-q", "--window", "4", "-o", "m.honk", "baseline.strace"],
    );
    assert_eq!((code, rows.len()), (0, 0), "learn prints no rows");
    let target = cwd.join("target.strace");
    let (code, rows) = honk_json(
        elsewhere.path(),
        &[
            "score",
            "-q",
            "--json",
            "-m",
            &model.to_string_lossy(),
            &target.to_string_lossy(),
        ],
    );
    assert_eq!(code, 1);
    check_rows(&rows, false);

    // Nothing unusual: the summary alone.
    let (code, rows) = honk_json(cwd, &["diff", "-q", "--json", "baseline.strace", "baseline.strace"]);
    assert_eq!(code, 0);
    assert_eq!(
        check_rows(&rows, false).into_iter().collect::<Vec<_>>(),
        [("summary".to_owned(), 1)]
    );
}

/// The fields README.md lists for row type `kind`: the first column of the
/// table that follows its heading line (`` **`"type": "KIND"`** ``).
fn documented_fields(readme: &str, kind: &str) -> BTreeSet<String> {
    let heading = format!("**`\"type\": \"{kind}\"`**");
    let start = readme
        .find(&heading)
        .unwrap_or_else(|| panic!("README.md has no {heading}"));
    readme[start..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header and its rule
        .filter_map(|line| {
            let cell = line.trim_start_matches('|').split('|').next()?.trim();
            Some(cell.trim_matches('`').to_owned())
        })
        .collect()
}

#[test]
fn the_readme_documents_exactly_these_fields() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md");
    for (kind, shape) in TYPES {
        let fields: BTreeSet<String> = shape
            .always
            .iter()
            .chain(shape.sometimes)
            .map(|(key, _)| (*key).to_owned())
            .collect();
        assert_eq!(documented_fields(&readme, kind), fields, "README.md's table for {kind}");
    }
}
