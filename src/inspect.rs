//! `honk inspect`: what honk made of an input, before any scoring.
//!
//! For each input: the format detected, lines and records read, how many lines
//! were cut for length, the processes or threads seen, a histogram of the system
//! calls, and the lines the parser could not make sense of, with examples. The
//! first place to look when results seem odd. It reads and parses; it does not
//! normalize or score.
//!
//! A honk model (recognised by its magic, whatever its name) is shown as a
//! model instead ([`inspect_model`]): how it was built, the inputs it was
//! learned from, its counts and its system calls.

use crate::choice::Choice;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Model, Settings, Source, FORMAT_VERSION};
use crate::parse::{Format, Kind};
use crate::pipeline::{read_records, Error};
use crate::progress::Progress;
use crate::read::Input;
use crate::report::human::escape;

/// Unparsed lines shown per input.
const EXAMPLES: usize = 5;

/// What one input holds. In JSON, `"type": "input"` leads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename = "input")]
pub struct Inspection {
    /// The input's name: its path as given, or `<stdin>`.
    pub source: String,
    /// The format it was read as, by name (`"strace"`, `"text"`, ...): forced, or detected.
    pub format: &'static str,
    /// Lines read.
    pub lines: u64,
    /// Records the parser made of them (a record may span lines, as a resumed call does).
    pub records: u64,
    /// Lines longer than [`crate::read::MAX_LINE_BYTES`], cut there.
    pub truncated_lines: u64,
    /// Distinct process or thread ids (0 when the format has none).
    pub processes: usize,
    /// Records per system call name (or `--- signal` / `+++ exit`), most frequent first.
    pub syscalls: Vec<Count>,
    /// Records the parser could not read as the detected format.
    pub unparsed: u64,
    /// The first few of them.
    pub unparsed_examples: Vec<Example>,
}

/// How often a system call occurs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The system call's name, or `--- signal` / `+++ exit`.
    pub name: String,
    /// How many records are of it.
    pub count: u64,
}

/// A line the parser could not read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The 1-based number of the line where the record starts.
    pub line: u64,
    /// The record's text as read (not yet escaped for the terminal).
    pub text: String,
}

/// What a model holds, for `honk inspect MODEL`. In JSON, `"type": "model"` leads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename = "model")]
pub struct ModelInspection {
    /// The model's name: its path as given.
    pub source: String,
    /// Always "honk model", so that JSON consumers tell it from a log's inspection.
    pub format: &'static str,
    /// What the model holds.
    pub model: ModelView,
}

/// The parts of a model worth showing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelView {
    /// The model file format: [`FORMAT_VERSION`], the only one this honk loads.
    pub format_version: u16,
    /// How its keys were made and how vectors are built from them.
    pub settings: Settings,
    /// The inputs it was learned from, in order.
    pub sources: Vec<Source>,
    /// Baseline records learned, and how many distinct ones.
    pub records: u64,
    /// Distinct normalized keys among them: the model's entries.
    pub unique: u64,
    /// Records per system call (or audit or sysdig event) of the baseline.
    pub syscalls: BTreeMap<String, u64>,
}

/// The view of a loaded model.
pub fn inspect_model(name: &str, model: &Model) -> ModelInspection {
    ModelInspection {
        source: name.to_owned(),
        format: "honk model",
        model: ModelView {
            format_version: FORMAT_VERSION,
            settings: model.settings.clone(),
            sources: model.sources.clone(),
            records: model.records(),
            unique: model.entries.len() as u64,
            syscalls: model.syscalls.clone(),
        },
    }
}

/// Print a model's view for people.
pub fn print_model(i: &ModelInspection, out: &mut dyn Write) -> io::Result<()> {
    let m = &i.model;
    let s = &m.settings;
    writeln!(out, "{}: honk model, format {}", escape(&i.source), m.format_version)?;
    write!(
        out,
        "  settings: features {}, tokenizer {}, normalizer version {}",
        s.n_features,
        s.tokenizer.name(),
        s.normalizer
    )?;
    match (s.window.size, s.window.args) {
        (0, _) => writeln!(out, ", no windows")?,
        (n, args) => writeln!(out, ", windows of {n}{}", if args { " with arguments" } else { "" })?,
    }
    writeln!(out, "  {} records, {} unique records", m.records, m.unique)?;
    writeln!(out, "  inputs ({}):", m.sources.len())?;
    for source in &m.sources {
        writeln!(out, "    {} ({} records)", escape(&source.path), source.records)?;
    }
    if m.syscalls.is_empty() {
        writeln!(
            out,
            "  system calls: none (learned from logs that are not system-call traces)"
        )?;
    } else {
        let mut calls: Vec<(&String, &u64)> = m.syscalls.iter().collect();
        calls.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let shown: Vec<String> = calls.iter().map(|(n, c)| format!("{} {c}", escape(n))).collect();
        writeln!(out, "  system calls ({}): {}", calls.len(), shown.join(", "))?;
    }
    Ok(())
}

/// Read and parse one input, tallying what is in it.
pub fn inspect(input: &Input, forced: Option<Format>, progress: &Progress) -> Result<Inspection, Error> {
    let mut pids = HashSet::new();
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    let mut unparsed = 0u64;
    let mut examples = Vec::new();
    let stats = read_records(input, forced, progress, |chunk| {
        for record in chunk {
            if let Some(pid) = record.pid {
                pids.insert(pid);
            }
            let name = match &record.kind {
                Kind::Syscall { name, .. } | Kind::Event { name, .. } => record.text.get(name.clone()),
                Kind::Signal { .. } => Some("--- signal"),
                Kind::Exit { .. } => Some("+++ exit"),
                Kind::Text => None,
            };
            match name {
                Some(name) => {
                    *calls.entry(name.to_owned()).or_default() += 1;
                }
                None => {
                    unparsed += 1;
                    if examples.len() < EXAMPLES {
                        examples.push(Example {
                            line: record.line,
                            text: record.text.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    })?;
    if stats.format == Format::Text {
        // A text log has no structure to miss: every line is read as it is.
        unparsed = 0;
        examples.clear();
    }
    let mut syscalls: Vec<Count> = calls.into_iter().map(|(name, count)| Count { name, count }).collect();
    syscalls.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    Ok(Inspection {
        source: stats.name,
        format: stats.format.name(),
        lines: stats.lines,
        records: stats.records,
        truncated_lines: stats.truncated,
        processes: pids.len(),
        syscalls,
        unparsed,
        unparsed_examples: examples,
    })
}

/// Print an inspection for people.
pub fn print_human(i: &Inspection, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}: {}", escape(&i.source), i.format)?;
    writeln!(
        out,
        "  lines {}, records {}, lines cut for length {}",
        i.lines, i.records, i.truncated_lines
    )?;
    if i.processes > 0 {
        writeln!(out, "  processes/threads {}", i.processes)?;
    }
    if !i.syscalls.is_empty() {
        let shown: Vec<String> = i
            .syscalls
            .iter()
            .take(20)
            .map(|c| format!("{} {}", escape(&c.name), c.count))
            .collect();
        let more = i.syscalls.len().saturating_sub(20);
        write!(out, "  syscalls ({} kinds): {}", i.syscalls.len(), shown.join(", "))?;
        if more > 0 {
            write!(out, ", and {more} more")?;
        }
        writeln!(out)?;
    }
    if i.unparsed > 0 {
        writeln!(out, "  unparsed records {}, e.g.:", i.unparsed)?;
        for example in &i.unparsed_examples {
            writeln!(out, "    {}: {}", example.line, escape(&example.text))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Input {
        Input::File(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/strace")
                .join(name),
        )
    }

    #[test]
    fn a_strace_fixture_is_tallied() {
        let i = inspect(&fixture("f.strace"), None, &Progress::hidden()).unwrap();
        assert_eq!(i.format, "strace");
        assert!(i.processes >= 2, "sh and its children: {}", i.processes);
        assert!(i.records < i.lines, "resumed halves are merged");
        let count = |name: &str| i.syscalls.iter().find(|c| c.name == name).map_or(0, |c| c.count);
        assert!(count("execve") >= 2 && count("openat") > 0, "{:?}", i.syscalls);
        assert_eq!(i.syscalls.iter().map(|c| c.count).sum::<u64>() + i.unparsed, i.records);
    }

    #[test]
    fn junk_in_a_strace_file_is_counted_with_examples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.strace");
        let mut text = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strace/plain.strace"),
        )
        .unwrap();
        text.push_str("this is not strace\n\u{1b}[31m also not\n");
        std::fs::write(&path, text).unwrap();
        let i = inspect(&Input::File(path), None, &Progress::hidden()).unwrap();
        assert_eq!(i.unparsed, 2);
        assert_eq!(i.unparsed_examples.len(), 2);
        let mut out = Vec::new();
        print_human(&i, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("unparsed records 2") && out.contains("this is not strace"),
            "{out}"
        );
        assert!(!out.contains('\u{1b}'), "escaped: {out}");
    }
}
