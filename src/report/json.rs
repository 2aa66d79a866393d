//! JSON Lines: one object per anomaly, for `jq` and other programs.
//!
//! `{"source": str, "line": int, "score": float, "text": str,
//!   "nearest": {"source": str, "line": int, "text": str} | null}`, plus
//! `"before"` and `"after"` arrays of `{"line", "text"}` when context was asked for.
//! `line` is 1-based in the original input. This shape is a contract.
//! An unusual window of events (`--window`) also has
//! `"window": {"last_line", "events", "thread"}`, and its `text` (and its
//! nearest's) is the window's events, one per line, as `LINE<TAB>text`.
//!
//! Every row says what it is in `"type"`: `"incident"`, `"anomaly"`,
//! `"policy"` or `"summary"` (`select(.type == "incident")` in jq). README.md
//! documents every field; `tests/json_schema.rs` holds the schema fixed.
//!
//! Anomalies come grouped into incidents ([`super::incident`]): each
//! incident's row comes just before its anomalies':
//! `{"type": "incident", "id": int, "source": str, "line": int (its first
//! record), "last_line": int, "records": int, "score": float (its highest),
//! "threads": [int], "new": [str], "text": str (its first record),
//! "nearest": {...} | null}`. `new` lists tokens of its records (as honk
//! compares them, normalized) that the baseline never had. An anomaly's row
//! then also has `"incident": int` and its own `"new"`.
//!
//! After the anomalies, one object per system call the target made and the
//! baseline never did (a policy violation, whatever its score):
//! `{"type": "policy", "source": str, "line": int (the first call), "policy":
//! "syscall outside the baseline", "syscall": str, "count": int}`.
//!
//! Last, one row of type `"summary"`: what the summary on stderr says
//! (counts, threshold, k, the baseline's size, each input's profile; not the
//! time taken, so that the same inputs give the same bytes).

use std::io::{self, Write};

use serde::Serialize;

use super::{Anomaly, ContextLine, Incident, Nearest, Sink, Summary, ThreadProfile, Violation, WindowInfo};

/// Prints anomalies as JSON Lines.
pub struct JsonPrinter<W: Write> {
    out: W,
    context: bool,
    /// Violations came as they happened ([`Sink::violation`]): not written again at the end.
    told_live: bool,
}

impl<W: Write> JsonPrinter<W> {
    /// `context`: whether to include the `before`/`after` arrays.
    pub fn new(out: W, context: bool) -> Self {
        JsonPrinter {
            out,
            context,
            told_live: false,
        }
    }

    /// The writer, with everything written so far.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[derive(Serialize)]
struct Line<'a> {
    r#type: &'static str,
    source: &'a str,
    line: u64,
    score: f64,
    text: &'a str,
    nearest: Option<&'a Nearest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a [ContextLine]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<&'a [ContextLine]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<&'a WindowInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incident: Option<u64>,
    new: &'a [String],
}

#[derive(Serialize)]
struct IncidentLine<'a> {
    r#type: &'static str,
    id: u64,
    source: &'a str,
    line: u64,
    last_line: u64,
    records: u64,
    score: f64,
    threads: &'a [u32],
    new: &'a [String],
    text: &'a str,
    nearest: Option<&'a Nearest>,
}

/// Scores are distances in [0, 1]; six decimals are more than any threshold needs.
fn round(score: f64) -> f64 {
    (score * 1e6).round() / 1e6
}

impl<W: Write> Sink for JsonPrinter<W> {
    fn anomaly(&mut self, a: &Anomaly) -> io::Result<()> {
        let line = Line {
            r#type: "anomaly",
            source: &a.source,
            line: a.line,
            score: round(a.score),
            text: &a.text,
            nearest: a.nearest.as_ref(),
            before: self.context.then_some(a.before.as_slice()),
            after: self.context.then_some(a.after.as_slice()),
            window: a.window.as_ref(),
            incident: a.incident,
            new: &a.novel,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")
    }

    fn incident(&mut self, i: &Incident) -> io::Result<()> {
        let line = IncidentLine {
            r#type: "incident",
            id: i.id,
            source: &i.source,
            line: i.line,
            last_line: i.last_line,
            records: i.records,
            score: round(i.score),
            threads: &i.threads,
            new: &i.new,
            text: &i.text,
            nearest: i.nearest.as_ref(),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")
    }

    /// A first call outside the baseline, as it happens (`honk watch`): a
    /// policy row with the count so far, 1.
    fn violation(&mut self, source: &str, v: &Violation) -> io::Result<()> {
        let line = PolicyLine {
            r#type: "policy",
            source,
            line: v.line,
            policy: "syscall outside the baseline",
            syscall: &v.syscall,
            count: v.count,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.told_live = true;
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        // Told as they happened (a stream): not again.
        if !self.told_live {
            for input in &summary.per_input {
                for v in &input.violations {
                    let line = PolicyLine {
                        r#type: "policy",
                        source: &input.source,
                        line: v.line,
                        policy: "syscall outside the baseline",
                        syscall: &v.syscall,
                        count: v.count,
                    };
                    serde_json::to_writer(&mut self.out, &line)?;
                    self.out.write_all(b"\n")?;
                }
            }
        }
        serde_json::to_writer(&mut self.out, &SummaryLine::new(summary))?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// A system call the baseline never made, after the anomalies.
#[derive(Serialize)]
struct PolicyLine<'a> {
    r#type: &'static str,
    source: &'a str,
    line: u64,
    policy: &'static str,
    syscall: &'a str,
    count: u64,
}

/// The last row: the run's totals, as the summary on stderr gives them, but
/// for the time taken, so that the same inputs always give the same output.
#[derive(Serialize)]
struct SummaryLine<'a> {
    r#type: &'static str,
    incidents: u64,
    anomalies: u64,
    threshold: f64,
    records: u64,
    unique: u64,
    inputs: Vec<InputLine<'a>>,
    baseline: BaselineLine,
    k: usize,
    violations: u64,
    truncated_lines: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_events: Option<u64>,
}

/// One scored input in the summary: how unusual it is as a whole.
#[derive(Serialize)]
struct InputLine<'a> {
    source: &'a str,
    records: u64,
    anomalies: u64,
    max_score: f64,
    /// The threads with anomalies, most first.
    threads: &'a [ThreadProfile],
}

#[derive(Serialize)]
struct BaselineLine {
    records: u64,
    unique: u64,
}

impl<'a> SummaryLine<'a> {
    fn new(s: &'a Summary) -> Self {
        SummaryLine {
            r#type: "summary",
            incidents: s.incidents,
            anomalies: s.anomalies,
            threshold: s.threshold,
            records: s.records,
            unique: s.unique,
            inputs: s
                .per_input
                .iter()
                .map(|i| InputLine {
                    source: &i.source,
                    records: i.records,
                    anomalies: i.anomalies,
                    max_score: round(i.max_score),
                    threads: &i.threads,
                })
                .collect(),
            baseline: BaselineLine {
                records: s.baseline_records,
                unique: s.baseline_unique,
            },
            k: s.k,
            violations: s.violations,
            truncated_lines: s.truncated_lines,
            lost_events: s.lost_events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn shape_is_the_documented_contract() {
        let mut printer = JsonPrinter::new(Vec::new(), false);
        let anomaly = Anomaly {
            source: Arc::from("t.log"),
            line: 3,
            text: "<script>\u{1b}".into(),
            score: 0.123456789,
            nearest: None,
            before: vec![],
            after: vec![],
            window: None,
            thread: None,
            novel: Vec::new(),
            incident: None,
            rank: 0,
        };
        printer.anomaly(&anomaly).unwrap();
        let out = String::from_utf8(printer.out).unwrap();
        assert_eq!(
            out,
            "{\"type\":\"anomaly\",\"source\":\"t.log\",\"line\":3,\"score\":0.123457,\"text\":\"<script>\\u001b\",\"nearest\":null,\"new\":[]}\n"
        );
    }
}
