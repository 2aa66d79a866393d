//! Report: turn the stream of scored records into what people and programs read.
//!
//! Scoring hands every target record, in input order, to one [`Selector`]. The
//! selector keeps the anomalies (score above the threshold), attaches their
//! context records, optionally keeps only the `--top N`, and passes each
//! [`Anomaly`] to a [`Sink`]. Every output format is a sink: [`human`] for the
//! terminal, [`json`] for JSON Lines. None of them scores or reads anything.

pub mod human;
pub mod json;
pub mod progress;

use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// The baseline record a target record was found nearest to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Nearest {
    pub source: Arc<str>,
    pub line: u64,
    pub text: String,
}

/// A record shown around an anomaly.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ContextLine {
    pub line: u64,
    pub text: String,
}

/// A target record whose score is above the threshold, with what explains it.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    pub source: Arc<str>,
    pub line: u64,
    pub text: String,
    /// Distance to the baseline in [0, 1]: the mean cosine distance to the k nearest baseline records.
    pub score: f64,
    /// The nearest baseline record, if the baseline is not empty.
    pub nearest: Option<Nearest>,
    /// Records just before it in the same input (`-B`), oldest first.
    pub before: Vec<ContextLine>,
    /// Records just after it in the same input (`-A`).
    pub after: Vec<ContextLine>,
}

/// What a run did, for the closing summary.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    pub inputs: usize,
    pub records: u64,
    pub unique: u64,
    pub anomalies: u64,
    pub threshold: f64,
    pub k: usize,
    pub baseline_records: u64,
    pub baseline_unique: u64,
    pub truncated_lines: u64,
    #[serde(skip)]
    pub elapsed: Duration,
}

/// A consumer of anomalies: one per output format.
pub trait Sink {
    /// One anomaly, in the order the selector releases them.
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()>;
    /// The run is over.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        (**self).anomaly(anomaly)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).finish(summary)
    }
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
    /// Keep only the N highest-scoring anomalies, printed highest first.
    pub top: Option<usize>,
}

/// Picks anomalies out of the scored stream and feeds them, with context, to a sink.
pub struct Selector<S: Sink> {
    sink: S,
    selection: Selection,
    source: Arc<str>,
    recent: VecDeque<ContextLine>,
    /// An anomaly still collecting its after-context.
    open: Option<Anomaly>,
    top: BinaryHeap<Ranked>,
    order: u64,
    anomalies: u64,
}

impl<S: Sink> Selector<S> {
    pub fn new(selection: Selection, sink: S) -> Self {
        Selector {
            sink,
            selection,
            source: Arc::from(""),
            recent: VecDeque::new(),
            open: None,
            top: BinaryHeap::new(),
            order: 0,
            anomalies: 0,
        }
    }

    /// Anomalies seen so far (all of them, not only the `--top` ones).
    pub fn anomalies(&self) -> u64 {
        self.anomalies
    }

    /// Records from a new input follow; context never crosses inputs.
    pub fn start_source(&mut self, source: Arc<str>) -> io::Result<()> {
        self.close_open()?;
        self.recent.clear();
        self.source = source;
        Ok(())
    }

    /// The next scored record of the current input.
    pub fn record(
        &mut self,
        line: u64,
        text: &str,
        score: f64,
        nearest: impl FnOnce() -> Option<Nearest>,
    ) -> io::Result<()> {
        let anomalous = score > self.selection.threshold;
        if let Some(open) = &mut self.open {
            if anomalous || open.after.len() >= self.selection.after {
                self.close_open()?;
            } else if let Some(open) = &mut self.open {
                open.after.push(ContextLine {
                    line,
                    text: text.to_owned(),
                });
            }
        }
        if anomalous {
            self.anomalies += 1;
            let anomaly = Anomaly {
                source: self.source.clone(),
                line,
                text: text.to_owned(),
                score,
                nearest: nearest(),
                before: self.recent.iter().cloned().collect(),
                after: Vec::new(),
            };
            self.open = Some(anomaly);
            if self.selection.after == 0 {
                self.close_open()?;
            }
        }
        if self.selection.before > 0 {
            if self.recent.len() == self.selection.before {
                self.recent.pop_front();
            }
            self.recent.push_back(ContextLine {
                line,
                text: text.to_owned(),
            });
        }
        Ok(())
    }

    /// All input is scored: release what is held and let the sink close.
    pub fn finish(mut self, summary: &mut Summary) -> io::Result<S> {
        self.close_open()?;
        let mut ranked = std::mem::take(&mut self.top).into_vec();
        ranked.sort();
        for Ranked { anomaly, .. } in ranked {
            self.sink.anomaly(&anomaly)?;
        }
        summary.anomalies = self.anomalies;
        summary.threshold = self.selection.threshold;
        self.sink.finish(summary)?;
        Ok(self.sink)
    }

    fn close_open(&mut self) -> io::Result<()> {
        let Some(anomaly) = self.open.take() else {
            return Ok(());
        };
        match self.selection.top {
            None => self.sink.anomaly(&anomaly),
            Some(n) => {
                self.order += 1;
                self.top.push(Ranked {
                    score: anomaly.score,
                    order: self.order,
                    anomaly,
                });
                if self.top.len() > n {
                    self.top.pop();
                }
                Ok(())
            }
        }
    }
}

/// Orders anomalies for `--top`: the heap's top is the one to drop first
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

    #[derive(Default)]
    struct Collect(Vec<Anomaly>, bool);

    impl Sink for Collect {
        fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
            self.0.push(anomaly.clone());
            Ok(())
        }
        fn finish(&mut self, _: &Summary) -> io::Result<()> {
            self.1 = true;
            Ok(())
        }
    }

    fn run(selection: Selection, scores: &[f64]) -> (Vec<Anomaly>, u64) {
        let mut selector = Selector::new(selection, Collect::default());
        selector.start_source(Arc::from("t.log")).unwrap();
        for (i, &score) in scores.iter().enumerate() {
            selector
                .record(i as u64 + 1, &format!("line {}", i + 1), score, || None)
                .unwrap();
        }
        let mut summary = Summary::default();
        let sink = selector.finish(&mut summary).unwrap();
        assert!(sink.1, "finish reached the sink");
        (sink.0, summary.anomalies)
    }

    fn selection(before: usize, after: usize, top: Option<usize>) -> Selection {
        Selection {
            threshold: 0.5,
            before,
            after,
            top,
        }
    }

    #[test]
    fn only_scores_above_the_threshold_are_anomalies() {
        let (found, count) = run(selection(0, 0, None), &[0.1, 0.5, 0.51, 0.0, 0.9]);
        assert_eq!(found.iter().map(|a| a.line).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(count, 2);
    }

    #[test]
    fn context_comes_from_neighbouring_records_and_stops_at_the_next_anomaly() {
        let (found, _) = run(selection(2, 2, None), &[0.0, 0.0, 0.0, 0.9, 0.0, 0.9, 0.0, 0.0, 0.0]);
        let lines = |c: &Vec<ContextLine>| c.iter().map(|c| c.line).collect::<Vec<_>>();
        assert_eq!(found[0].line, 4);
        assert_eq!(lines(&found[0].before), [2, 3]);
        assert_eq!(lines(&found[0].after), [5]);
        assert_eq!(found[1].line, 6);
        assert_eq!(lines(&found[1].before), [4, 5]);
        assert_eq!(lines(&found[1].after), [7, 8]);
    }

    #[test]
    fn top_keeps_the_highest_scores_highest_first() {
        let (found, count) = run(selection(0, 0, Some(2)), &[0.6, 0.9, 0.7, 0.9, 0.8]);
        assert_eq!(found.iter().map(|a| a.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(count, 5, "the count covers every anomaly, not only the top");
    }
}
