//! Report: turn the stream of scored records into what people and programs read.
//!
//! Scoring hands every record of an input, in order, to a [`Selector`]. The
//! selector keeps the anomalies (score above the threshold), attaches their
//! context records and passes each [`Anomaly`] to a [`Sink`]. Every output
//! format is a sink: [`human`] for the terminal, [`json`] for JSON Lines,
//! [`html::builder::PageBuilder`] for the HTML report ([`html`]); [`Top`]
//! wraps a sink to keep only the highest scores, [`Collect`] holds anomalies in
//! memory. None of them scores or reads anything.

pub mod html;
pub mod human;
pub mod incident;
pub mod json;
pub mod projection;
pub mod sketch;

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::window::Span;
pub use incident::{Incident, Incidents};

/// The baseline record a target record was found nearest to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Nearest {
    /// The name of the baseline input it came from, as it was learned.
    pub source: Arc<str>,
    /// 1-based line of its first occurrence in that input.
    pub line: u64,
    /// Its original text (of the first occurrence), not the normalized key.
    pub text: String,
}

/// A record shown around an anomaly.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContextLine {
    /// 1-based line where the record starts in the input.
    pub line: u64,
    /// The record's original text.
    pub text: String,
}

/// A target record whose score is above the threshold, with what explains it.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// The name of the input it is in: a path, `<stdin>`, or `ARCHIVE/ENTRY`.
    pub source: Arc<str>,
    /// 1-based line where the record starts; for a window, its first event's line.
    pub line: u64,
    /// The record's original text (for a resumed call, both halves joined).
    pub text: String,
    /// Distance to the baseline in [0, 1]: the mean cosine distance to the k nearest baseline records.
    pub score: f64,
    /// The nearest baseline record, if the baseline is not empty.
    pub nearest: Option<Nearest>,
    /// Records just before it in the same input (`-B`), oldest first.
    pub before: Vec<ContextLine>,
    /// Records just after it in the same input (`-A`).
    pub after: Vec<ContextLine>,
    /// For an unusual window of events rather than a single record: where it ends.
    /// `text` then holds the window's events, one per line, as `LINE<TAB>text`.
    pub window: Option<WindowInfo>,
    /// The thread (or process) of the record, when the format names one.
    pub thread: Option<u32>,
    /// Tokens of the record (as compared) that the baseline never had, in
    /// order, at most [`NOVEL_TOKENS`]: what is new in it.
    pub novel: Vec<String>,
    /// The incident it belongs to, once [`Incidents`] has grouped it.
    pub incident: Option<u64>,
    /// Its rank by score within its incident (1: the highest; earlier first
    /// on ties), once grouped; 0 before.
    pub rank: u32,
}

/// New tokens kept per anomaly.
pub const NOVEL_TOKENS: usize = 8;

/// What is special about a window anomaly.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WindowInfo {
    /// Line of the window's last event (`line` is its first).
    pub last_line: u64,
    /// Events in the window.
    pub events: usize,
    /// The thread whose events these are, when the format names one.
    pub thread: Option<u32>,
}

/// What a run did, for the closing summary.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Target inputs scored.
    pub inputs: usize,
    /// Records parsed from them, over all inputs.
    pub records: u64,
    /// Distinct keys scored (records' and windows'), counted per input; a key
    /// is counted again if the score cache was cleared on a very large input.
    pub unique: u64,
    /// Anomalies found (records above the threshold and the windows reported),
    /// over all inputs, before any `--top` cut.
    pub anomalies: u64,
    /// Groups of anomalies that are one event ([`Incidents`]); 0 until grouped.
    pub incidents: u64,
    /// The score anomalies are strictly above (scores are distances in [0, 1]).
    pub threshold: f64,
    /// How many nearest baseline records each score is the mean distance to.
    pub k: usize,
    /// Records the baseline was learned from (the sum of its keys' counts).
    pub baseline_records: u64,
    /// Distinct keys in the baseline (its model's entries).
    pub baseline_unique: u64,
    /// Lines longer than [`crate::read::MAX_LINE_BYTES`], cut there, over all inputs.
    pub truncated_lines: u64,
    /// Calls to system calls the baseline never made, over all inputs.
    pub violations: u64,
    /// Per input, in input order: how unusual it is as a whole.
    pub per_input: Vec<InputProfile>,
    /// With eBPF capture: system-call records the kernel dropped because its
    /// ring buffer was full (`None`: not an eBPF capture).
    pub lost_events: Option<u64>,
    /// Wall-clock time of the scoring run; not serialized.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// How unusual one input is as a whole, and which of its threads most.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct InputProfile {
    /// The input's name, as in [`Anomaly::source`].
    pub source: String,
    /// Records scored in it.
    pub records: u64,
    /// Its anomalies: records above the threshold and the windows reported.
    pub anomalies: u64,
    /// The highest score of any record or window.
    pub max_score: f64,
    /// The highest scores of its records and windows, highest first
    /// (at most [`PROFILED_SCORES`]), for trace-level aggregates such as the mean of the top few.
    pub top_scores: Vec<f64>,
    /// The threads with anomalies, most anomalies first (at most [`PROFILED_THREADS`]).
    pub threads: Vec<ThreadProfile>,
    /// A bounded summary of every scored record, for plots (when asked for).
    #[serde(skip)]
    pub sketch: Option<sketch::Sketch>,
    /// System calls the baseline never made (policy violations), in the order
    /// of their first call; at most [`PROFILED_VIOLATIONS`] names.
    pub violations: Vec<Violation>,
}

/// A system call of the target that the baseline never made: outside the
/// baseline's policy, whatever its distance.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The system call's name, e.g. `ptrace`.
    pub syscall: String,
    /// How many records made it.
    pub count: u64,
    /// The line of the first.
    pub line: u64,
}

/// System-call names listed per input as violations.
pub const PROFILED_VIOLATIONS: usize = 256;

/// How unusual one thread of an input is.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ThreadProfile {
    /// The thread id (or process id, when that is all the format gives).
    pub thread: u32,
    /// Records of this thread scored.
    pub records: u64,
    /// Its anomalies: records above the threshold and the windows reported.
    pub anomalies: u64,
}

/// Threads listed per input in a profile.
pub const PROFILED_THREADS: usize = 5;

/// Highest scores kept per input in a profile.
pub const PROFILED_SCORES: usize = 16;

/// `n` with thousands separators: 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A consumer of anomalies: one per output format.
pub trait Sink {
    /// One anomaly, in the order the selector releases them.
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()>;
    /// An incident, just before its anomalies (only downstream of [`Incidents`]).
    fn incident(&mut self, _incident: &Incident) -> io::Result<()> {
        Ok(())
    }
    /// The first call of `source` to a system call the baseline never made,
    /// as it happens: only a stream ([`crate::pipeline::Stream`], `honk
    /// watch`) reports them live, and then it reports every one the summary
    /// lists at the end, so a sink that prints them need not list them again.
    fn violation(&mut self, _source: &str, _violation: &Violation) -> io::Result<()> {
        Ok(())
    }
    /// The run is over.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Two sinks fed the same stream: say, the terminal printer and the HTML page.
pub struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        self.0.anomaly(anomaly)?;
        self.1.anomaly(anomaly)
    }
    fn incident(&mut self, incident: &Incident) -> io::Result<()> {
        self.0.incident(incident)?;
        self.1.incident(incident)
    }
    fn violation(&mut self, source: &str, violation: &Violation) -> io::Result<()> {
        self.0.violation(source, violation)?;
        self.1.violation(source, violation)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.finish(summary)?;
        self.1.finish(summary)
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        (**self).anomaly(anomaly)
    }
    fn incident(&mut self, incident: &Incident) -> io::Result<()> {
        (**self).incident(incident)
    }
    fn violation(&mut self, source: &str, violation: &Violation) -> io::Result<()> {
        (**self).violation(source, violation)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

/// Why an anomaly is one: its nearest baseline record and what is new in it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Explanation {
    /// The nearest baseline record; `None` when the baseline is empty or no
    /// record of it shares a token with the anomaly.
    pub nearest: Option<Nearest>,
    /// Tokens the baseline never had, in order, each once, at most [`NOVEL_TOKENS`].
    pub novel: Vec<String>,
}

/// What the selector keeps and how much context it attaches.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Records scoring strictly above this are anomalies.
    pub threshold: f64,
    /// Context records before each anomaly.
    pub before: usize,
    /// Context records after each anomaly.
    pub after: usize,
    /// Whether anomalies' contexts may overlap, each anomaly carrying its
    /// whole context even when a neighbouring anomaly already carries some of
    /// it (for `--top`, which reorders blocks so that each must stand alone).
    /// Without it, as grep prints each line once, a record is given once: an
    /// anomaly's `before` holds only the records since the previous block
    /// (the previous anomaly and its `after`), at most `before` of them,
    /// preceded by that block's last record when the two blocks touch (no
    /// record left out between them), so that a reader can tell they touch.
    /// Output then grows with the input, not with anomalies × context.
    pub overlap: bool,
}

/// Picks the anomalies out of one input's scored records, in input order, and
/// hands each to a sink with its context. Context never crosses inputs: use one
/// selector per input.
pub struct Selector {
    selection: Selection,
    source: Arc<str>,
    /// The last records, at most `before`: without `overlap`, only those not
    /// yet given to an anomaly (as the anomaly or its context).
    recent: VecDeque<ContextLine>,
    /// Without `overlap`: the last record given to an anomaly's block, while
    /// no record has been left out since (the next block touches it).
    touching: Option<ContextLine>,
    /// An anomaly still collecting its after-context.
    open: Option<Anomaly>,
    anomalies: u64,
    /// Per thread: the last line of an unusual single event, and the last line of
    /// a reported window, to keep windows to what single events do not explain.
    last_event_anomaly: HashMap<Option<u32>, u64>,
    last_window: HashMap<Option<u32>, u64>,
    /// Per thread: records and anomalies.
    threads: HashMap<u32, (u64, u64)>,
    records: u64,
    max_score: f64,
    /// The highest scores seen, as a small min-heap of their bits (scores are non-negative).
    top_scores: BinaryHeap<std::cmp::Reverse<u64>>,
}

impl Selector {
    /// A selector for the records of the input named `source`.
    pub fn new(selection: Selection, source: Arc<str>) -> Self {
        Selector {
            selection,
            source,
            recent: VecDeque::new(),
            touching: None,
            open: None,
            anomalies: 0,
            last_event_anomaly: HashMap::new(),
            last_window: HashMap::new(),
            threads: HashMap::new(),
            records: 0,
            max_score: 0.0,
            top_scores: BinaryHeap::new(),
        }
    }

    /// How unusual the input was as a whole, so far.
    pub fn profile(&self) -> InputProfile {
        let mut threads: Vec<ThreadProfile> = self
            .threads
            .iter()
            .filter(|(_, &(_, anomalies))| anomalies > 0)
            .map(|(&thread, &(records, anomalies))| ThreadProfile {
                thread,
                records,
                anomalies,
            })
            .collect();
        threads.sort_by(|a, b| b.anomalies.cmp(&a.anomalies).then(a.thread.cmp(&b.thread)));
        threads.truncate(PROFILED_THREADS);
        InputProfile {
            source: self.source.to_string(),
            records: self.records,
            anomalies: self.anomalies,
            max_score: self.max_score,
            top_scores: {
                let mut top: Vec<f64> = self.top_scores.iter().map(|r| f64::from_bits(r.0)).collect();
                top.sort_by(|a, b| b.total_cmp(a));
                top
            },
            threads,
            sketch: None,
            violations: Vec::new(),
        }
    }

    /// Anomalies seen so far.
    pub fn anomalies(&self) -> u64 {
        self.anomalies
    }

    /// The next scored record of the input, from `thread`. `explain` (the
    /// nearest baseline record and the new tokens) is only called for anomalies.
    pub fn record(
        &mut self,
        line: u64,
        thread: Option<u32>,
        text: &str,
        score: f64,
        explain: impl FnOnce() -> Explanation,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let anomalous = score > self.selection.threshold;
        self.records += 1;
        self.note_score(score);
        if let Some(t) = thread {
            let counts = self.threads.entry(t).or_default();
            counts.0 += 1;
            counts.1 += u64::from(anomalous);
        }
        if anomalous {
            self.last_event_anomaly.insert(thread, line);
        }
        let mut given = anomalous;
        if let Some(open) = &mut self.open {
            if anomalous || open.after.len() >= self.selection.after {
                self.close(sink)?;
            } else {
                open.after.push(ContextLine {
                    line,
                    text: text.to_owned(),
                });
                given = true;
            }
        }
        if anomalous {
            self.anomalies += 1;
            let Explanation { nearest, novel } = explain();
            self.open = Some(Anomaly {
                source: self.source.clone(),
                line,
                text: text.to_owned(),
                score,
                nearest,
                before: self.before_context(),
                after: Vec::new(),
                window: None,
                thread,
                novel,
                incident: None,
                rank: 0,
            });
            if self.selection.after == 0 {
                self.close(sink)?;
            }
        }
        if self.selection.before > 0 {
            let record = || ContextLine {
                line,
                text: text.to_owned(),
            };
            if self.selection.overlap || !given {
                if self.recent.len() == self.selection.before {
                    self.recent.pop_front();
                    // A record left out: the next block will not touch the last one.
                    self.touching = None;
                }
                self.recent.push_back(record());
            } else {
                self.touching = Some(record());
            }
        }
        Ok(())
    }

    /// The before-context of an anomaly at the record being read (see
    /// [`Selection::overlap`]): each record once, unless contexts may overlap.
    fn before_context(&mut self) -> Vec<ContextLine> {
        if self.selection.overlap {
            return self.recent.iter().cloned().collect();
        }
        let mut before = Vec::with_capacity(self.recent.len() + 1);
        before.extend(self.touching.take());
        before.extend(self.recent.drain(..));
        before
    }

    /// A scored window that ends with the record given last. It is reported when
    /// it is above the threshold, none of its events was unusual by itself, and
    /// it does not overlap a window of the same thread reported before.
    pub fn window(
        &mut self,
        span: &Span,
        events: usize,
        score: f64,
        explain: impl FnOnce() -> Explanation,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        self.note_score(score);
        if score <= self.selection.threshold {
            return Ok(());
        }
        let explained = self
            .last_event_anomaly
            .get(&span.thread)
            .is_some_and(|&l| l >= span.first_line);
        let overlaps = self
            .last_window
            .get(&span.thread)
            .is_some_and(|&l| l >= span.first_line);
        if explained || overlaps {
            return Ok(());
        }
        // Release a pending single anomaly first, so output stays in line order as far as it can.
        self.close(sink)?;
        self.last_window.insert(span.thread, span.last_line);
        self.anomalies += 1;
        if let Some(t) = span.thread {
            self.threads.entry(t).or_default().1 += 1;
        }
        let Explanation { nearest, novel } = explain();
        sink.anomaly(&Anomaly {
            source: self.source.clone(),
            line: span.first_line,
            text: span.text.clone(),
            score,
            nearest,
            before: Vec::new(),
            after: Vec::new(),
            window: Some(WindowInfo {
                last_line: span.last_line,
                events,
                thread: span.thread,
            }),
            thread: span.thread,
            novel,
            incident: None,
            rank: 0,
        })
    }

    fn note_score(&mut self, score: f64) {
        self.max_score = self.max_score.max(score);
        // Non-negative floats order like their bit patterns.
        let bits = score.max(0.0).to_bits();
        if self.top_scores.len() < PROFILED_SCORES {
            self.top_scores.push(std::cmp::Reverse(bits));
        } else if self.top_scores.peek().is_some_and(|low| bits > low.0) {
            self.top_scores.pop();
            self.top_scores.push(std::cmp::Reverse(bits));
        }
    }

    /// Threads whose counts are kept now.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Forget what is kept per thread for threads whose last unusual event or
    /// window is on a line before `line`, and keep the counts of at most
    /// `threads` threads (those with the most anomalies): a stream that runs
    /// for ever through endless short-lived threads keeps bounded memory. The
    /// profile then lists only the threads kept.
    pub fn forget_before(&mut self, line: u64, threads: usize) {
        self.last_event_anomaly.retain(|_, &mut l| l >= line);
        self.last_window.retain(|_, &mut l| l >= line);
        if self.threads.len() > threads {
            let mut counts: Vec<(u32, (u64, u64))> = self.threads.drain().collect();
            counts.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(b.1 .0.cmp(&a.1 .0)));
            counts.truncate(threads);
            self.threads = counts.into_iter().collect();
        }
    }

    /// The input ended: release the anomaly still waiting for after-context.
    pub fn end(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        self.close(sink)
    }

    fn close(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        match self.open.take() {
            Some(anomaly) => sink.anomaly(&anomaly),
            None => Ok(()),
        }
    }
}

/// A sink that keeps anomalies in memory, in the order they came.
#[derive(Debug, Default)]
pub struct Collect {
    /// Every anomaly received, in order.
    pub anomalies: Vec<Anomaly>,
}

impl Sink for Collect {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        self.anomalies.push(anomaly.clone());
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that drops anomalies (when only the summary counts, as in `honk eval`).
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn anomaly(&mut self, _anomaly: &Anomaly) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that passes on only the `n` highest-scoring anomalies, highest first
/// (earlier ones first on ties), when the run finishes.
pub struct Top<S: Sink> {
    inner: S,
    n: usize,
    heap: BinaryHeap<Ranked>,
    order: u64,
}

impl<S: Sink> Top<S> {
    /// Keeps the `n` highest-scoring anomalies and hands them to `inner` when
    /// the run finishes.
    pub fn new(n: usize, inner: S) -> Self {
        Top {
            inner,
            n,
            heap: BinaryHeap::new(),
            order: 0,
        }
    }
}

impl<S: Sink> Sink for Top<S> {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        self.order += 1;
        let weakest_kept = self.heap.peek().map(|r| r.score);
        if self.heap.len() >= self.n && weakest_kept.is_some_and(|w| anomaly.score <= w) {
            // Not better than the weakest of a full top: later ones lose ties.
            return Ok(());
        }
        self.heap.push(Ranked {
            score: anomaly.score,
            order: self.order,
            anomaly: anomaly.clone(),
        });
        if self.heap.len() > self.n {
            self.heap.pop();
        }
        Ok(())
    }

    fn violation(&mut self, source: &str, violation: &Violation) -> io::Result<()> {
        self.inner.violation(source, violation)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let mut ranked = std::mem::take(&mut self.heap).into_vec();
        ranked.sort();
        for Ranked { anomaly, .. } in ranked {
            self.inner.anomaly(&anomaly)?;
        }
        self.inner.finish(summary)
    }
}

/// Orders anomalies for [`Top`]: the heap's top is the one to drop first
/// (lowest score, then latest in the input).
struct Ranked {
    score: f64,
    order: u64,
    anomaly: Anomaly,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // "Greater" means weaker, so that BinaryHeap (a max-heap) pops the weakest
        // and an ascending sort lists the strongest first, earlier input first on ties.
        other.score.total_cmp(&self.score).then(self.order.cmp(&other.order))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Ranked {}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(selection: Selection, top: Option<usize>, scores: &[f64]) -> (Vec<Anomaly>, u64) {
        let mut selector = Selector::new(selection, Arc::from("t.log"));
        let mut collect = Collect::default();
        let mut top_sink = top.map(|n| Top::new(n, Collect::default()));
        let sink: &mut dyn Sink = match &mut top_sink {
            Some(top) => top,
            None => &mut collect,
        };
        for (i, &score) in scores.iter().enumerate() {
            selector
                .record(
                    i as u64 + 1,
                    None,
                    &format!("line {}", i + 1),
                    score,
                    Explanation::default,
                    sink,
                )
                .unwrap();
        }
        selector.end(sink).unwrap();
        sink.finish(&Summary::default()).unwrap();
        let found = match top_sink {
            Some(top) => top.inner.anomalies,
            None => collect.anomalies,
        };
        (found, selector.anomalies())
    }

    fn selection(before: usize, after: usize) -> Selection {
        Selection {
            threshold: 0.5,
            before,
            after,
            overlap: true,
        }
    }

    #[test]
    fn only_scores_above_the_threshold_are_anomalies() {
        let (found, count) = run(selection(0, 0), None, &[0.1, 0.5, 0.51, 0.0, 0.9]);
        assert_eq!(found.iter().map(|a| a.line).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(count, 2);
    }

    #[test]
    fn context_comes_from_neighbouring_records_and_stops_at_the_next_anomaly() {
        let (found, _) = run(selection(2, 2), None, &[0.0, 0.0, 0.0, 0.9, 0.0, 0.9, 0.0, 0.0, 0.0]);
        let lines = |c: &Vec<ContextLine>| c.iter().map(|c| c.line).collect::<Vec<_>>();
        assert_eq!(found[0].line, 4);
        assert_eq!(lines(&found[0].before), [2, 3]);
        assert_eq!(lines(&found[0].after), [5]);
        assert_eq!(found[1].line, 6);
        assert_eq!(lines(&found[1].before), [4, 5]);
        assert_eq!(lines(&found[1].after), [7, 8]);
    }

    #[test]
    fn without_overlap_each_record_is_given_once() {
        let once = |before, after| Selection {
            overlap: false,
            ..selection(before, after)
        };
        let lines = |c: &Vec<ContextLine>| c.iter().map(|c| c.line).collect::<Vec<_>>();
        let (found, _) = run(once(2, 2), None, &[0.0, 0.0, 0.0, 0.9, 0.0, 0.9, 0.0, 0.0, 0.0]);
        assert_eq!(lines(&found[0].before), [2, 3]);
        assert_eq!(lines(&found[0].after), [5]);
        // Line 5 went with line 4: only the touching record (5) starts line 6's before.
        assert_eq!(lines(&found[1].before), [5]);
        assert_eq!(lines(&found[1].after), [7, 8]);
        // Blocks apart: no touching record, only what lies between them.
        let (found, _) = run(once(2, 1), None, &[0.9, 0.0, 0.0, 0.0, 0.0, 0.9]);
        assert_eq!(lines(&found[0].after), [2]);
        assert_eq!(lines(&found[1].before), [4, 5]);
        // -B only, anomalies in a row: the previous anomaly is the touching record.
        let (found, _) = run(once(3, 0), None, &[0.0, 0.9, 0.9, 0.0, 0.9]);
        assert_eq!(lines(&found[0].before), [1]);
        assert_eq!(lines(&found[1].before), [2]);
        assert_eq!(lines(&found[2].before), [3, 4]);
    }

    #[test]
    fn without_overlap_context_grows_with_the_input_not_with_anomalies_times_context() {
        // Every other record unusual, -C 1000: each anomaly would carry 2,000
        // records if contexts overlapped (10 million in all).
        let scores: Vec<f64> = (0..10_000).map(|i| if i % 2 == 0 { 0.9 } else { 0.0 }).collect();
        let (found, count) = run(
            Selection {
                overlap: false,
                ..selection(1000, 1000)
            },
            None,
            &scores,
        );
        assert_eq!(count, 5_000);
        let given: usize = found.iter().map(|a| 1 + a.before.len() + a.after.len()).sum();
        assert!(given <= 2 * 10_000, "{given} records given for 10,000");
        let (found, _) = run(selection(1000, 1000), None, &scores);
        let overlapping: usize = found.iter().map(|a| 1 + a.before.len() + a.after.len()).sum();
        assert!(overlapping > 1_000_000, "{overlapping}");
    }

    #[test]
    fn top_keeps_the_highest_scores_highest_first_and_earlier_on_ties() {
        let (found, count) = run(selection(0, 0), Some(2), &[0.6, 0.9, 0.7, 0.9, 0.8]);
        assert_eq!(found.iter().map(|a| a.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(count, 5, "the count covers every anomaly, not only the top");
        let (found, _) = run(selection(0, 0), Some(3), &[0.6, 0.9, 0.7, 0.9, 0.8]);
        assert_eq!(found.iter().map(|a| a.line).collect::<Vec<_>>(), [2, 4, 5]);
    }

    #[test]
    fn the_profile_counts_per_thread_and_keeps_the_highest_score() {
        let mut selector = Selector::new(selection(0, 0), Arc::from("t.strace"));
        let mut sink = Collect::default();
        for (line, thread, score) in [(1, 7, 0.1), (2, 7, 0.9), (3, 8, 0.0), (4, 7, 0.6), (5, 8, 0.2)] {
            selector
                .record(line, Some(thread), "x", score, Explanation::default, &mut sink)
                .unwrap();
        }
        let profile = selector.profile();
        assert_eq!((profile.records, profile.anomalies), (5, 2));
        assert_eq!(profile.max_score, 0.9);
        assert_eq!(profile.top_scores, [0.9, 0.6, 0.2, 0.1, 0.0]);
        assert_eq!(
            profile.threads,
            [ThreadProfile {
                thread: 7,
                records: 3,
                anomalies: 2
            }],
            "only threads with anomalies are listed"
        );
    }
}
