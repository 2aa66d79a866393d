//! Incidents: anomalies that are one event, told once.
//!
//! One thing a program does shows up as many records: `sh -c id` is a search
//! of `PATH`, an `execve`, the libraries `id` loads, its reads and writes; one
//! new file name makes every call that touches it new. [`Incidents`] is a sink
//! that groups the anomalies of an input into incidents before passing them
//! on: an anomaly joins an incident when it shares a token the baseline never
//! had with it (`/etc/shadow`, `cat`), or when it comes from a thread the
//! incident has, within [`THREAD_GAP`] lines of that thread's last anomaly.
//! Incidents that turn out to be linked are merged.
//!
//! Each incident goes to the inner sink ([`Sink::incident`]) followed by its
//! anomalies, in order of first line (or highest score first with a top `n`,
//! which then counts incidents). Memory is bounded: an input's incidents are
//! released when it ends, or early once [`MAX_HELD`] anomalies or
//! [`MAX_HELD_BYTES`] of their text are held (an incident that goes on past
//! that point continues as a new one). So output comes per input, not per
//! record.
//!
//! This module groups; it neither scores nor prints.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use super::{Anomaly, Nearest, Sink, Summary};

/// Lines within which anomalies of one thread belong to one incident.
pub const THREAD_GAP: u64 = 256;

/// Anomalies held before incidents are released early.
pub const MAX_HELD: usize = 50_000;

/// Bytes of anomaly text held before incidents are released early.
pub const MAX_HELD_BYTES: usize = 64 << 20;

/// New tokens listed per incident.
pub const LISTED_TOKENS: usize = 8;

/// Threads listed per incident.
pub const LISTED_THREADS: usize = 8;

/// A group of anomalies that are one event.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Incident {
    /// 1-based, in the order incidents are released.
    pub id: u64,
    /// The name of the input its anomalies are in, as in [`Anomaly::source`].
    pub source: Arc<str>,
    /// The first record's line and text.
    pub line: u64,
    /// The first record's original text (for a window, its events, one per line).
    pub text: String,
    /// The line of the last record.
    pub last_line: u64,
    /// How many anomalies it has.
    pub records: u64,
    /// The highest score of its anomalies.
    pub score: f64,
    /// The threads its anomalies come from, first ones first (at most [`LISTED_THREADS`]).
    pub threads: Vec<u32>,
    /// Tokens of its records that the baseline never had: what is new in it
    /// (at most [`LISTED_TOKENS`]; sensitive names, then other paths and ports,
    /// then the rest, each kind in order of first appearance).
    pub new: Vec<String>,
    /// The nearest baseline record of its first record.
    pub nearest: Option<Nearest>,
}

/// An incident being assembled.
struct Open {
    anomalies: Vec<Anomaly>,
    /// Anomalies merged in from other groups: re-sorted on release.
    merged: bool,
}

/// Groups anomalies into incidents, then hands both on (see the module docs).
pub struct Incidents<S: Sink> {
    inner: S,
    top: Option<usize>,
    source: Option<Arc<str>>,
    /// Groups by slot; a slot merged into another is `None` and points to it in `parent`.
    groups: Vec<Option<Open>>,
    parent: Vec<usize>,
    /// A new token → a slot of the group that has it.
    by_token: HashMap<String, usize>,
    /// A thread → a slot of the group of its last anomaly, and that anomaly's line.
    by_thread: HashMap<Option<u32>, (usize, u64)>,
    held: usize,
    held_bytes: usize,
    /// With a top `n`: the incidents released so far, kept for the end.
    ranked: Vec<(Incident, Vec<Anomaly>)>,
    released: u64,
}

impl<S: Sink> Incidents<S> {
    /// Incidents handed to `inner`; with `top`, only the `n` highest-scoring, highest first.
    pub fn new(inner: S, top: Option<usize>) -> Self {
        Incidents {
            inner,
            top,
            source: None,
            groups: Vec::new(),
            parent: Vec::new(),
            by_token: HashMap::new(),
            by_thread: HashMap::new(),
            held: 0,
            held_bytes: 0,
            ranked: Vec::new(),
            released: 0,
        }
    }

    /// How many incidents were found (all of them, also with a top `n`).
    pub fn count(&self) -> u64 {
        self.released
    }

    /// The inner sink.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The slot a slot's group now lives in.
    fn find(&mut self, mut slot: usize) -> usize {
        while self.parent[slot] != slot {
            self.parent[slot] = self.parent[self.parent[slot]];
            slot = self.parent[slot];
        }
        slot
    }

    fn add(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        if self.source.as_ref().is_some_and(|s| !Arc::ptr_eq(s, &anomaly.source)) {
            self.release()?;
        }
        self.source = Some(anomaly.source.clone());
        let thread = anomaly.window.as_ref().map_or(anomaly.thread, |w| w.thread);
        let mut joins: Vec<usize> = Vec::new();
        if thread.is_some() {
            if let Some(&(slot, last)) = self.by_thread.get(&thread) {
                if anomaly.line.saturating_sub(last) <= THREAD_GAP {
                    joins.push(slot);
                }
            }
        }
        for token in &anomaly.novel {
            if let Some(&slot) = self.by_token.get(token) {
                joins.push(slot);
            }
        }
        let mut roots: Vec<usize> = joins.into_iter().map(|s| self.find(s)).collect();
        roots.sort_unstable();
        roots.dedup();
        let root = match roots.first() {
            Some(&root) => {
                // Fold the other linked groups into the oldest.
                for &other in &roots[1..] {
                    self.parent[other] = root;
                    if let Some(moved) = self.groups[other].take() {
                        if let Some(group) = self.groups[root].as_mut() {
                            group.anomalies.extend(moved.anomalies);
                            group.merged = true;
                        }
                    }
                }
                root
            }
            None => {
                self.groups.push(Some(Open {
                    anomalies: Vec::new(),
                    merged: false,
                }));
                self.parent.push(self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        for token in &anomaly.novel {
            self.by_token.insert(token.clone(), root);
        }
        self.by_thread.insert(thread, (root, anomaly.line));
        if let Some(group) = self.groups[root].as_mut() {
            group.anomalies.push(anomaly.clone());
        }
        self.held += 1;
        self.held_bytes += anomaly.text.len()
            + anomaly.nearest.as_ref().map_or(0, |n| n.text.len())
            + anomaly
                .before
                .iter()
                .chain(&anomaly.after)
                .map(|c| c.text.len())
                .sum::<usize>();
        if self.held >= MAX_HELD || self.held_bytes >= MAX_HELD_BYTES {
            self.release()?;
        }
        Ok(())
    }

    /// Release the held incidents, in order of first line.
    fn release(&mut self) -> io::Result<()> {
        let mut groups: Vec<Open> = std::mem::take(&mut self.groups).into_iter().flatten().collect();
        self.parent.clear();
        self.by_token.clear();
        self.by_thread.clear();
        self.held = 0;
        self.held_bytes = 0;
        for group in &mut groups {
            if group.merged {
                group.anomalies.sort_by_key(|a| a.line);
            }
        }
        groups.sort_by_key(|g| g.anomalies.first().map_or(0, |a| a.line));
        for group in groups {
            let Some(incident) = self.incident_of(&group.anomalies) else {
                continue;
            };
            let mut anomalies = group.anomalies;
            for (rank, at) in telling_order(&anomalies).into_iter().enumerate() {
                anomalies[at].rank = u32::try_from(rank + 1).unwrap_or(u32::MAX);
            }
            for a in &mut anomalies {
                a.incident = Some(incident.id);
            }
            if self.top.is_some() {
                self.ranked.push((incident, anomalies));
                self.trim_ranked();
            } else {
                self.inner.incident(&incident)?;
                for a in &anomalies {
                    self.inner.anomaly(a)?;
                }
            }
        }
        Ok(())
    }

    fn incident_of(&mut self, anomalies: &[Anomaly]) -> Option<Incident> {
        let first = anomalies.first()?;
        self.released += 1;
        let mut threads: Vec<u32> = Vec::new();
        // The first new tokens of each kind, in order of appearance; what tells most first.
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut by_kind: [Vec<&str>; 3] = Default::default();
        for a in anomalies {
            if let Some(t) = a.thread {
                if threads.len() < LISTED_THREADS && !threads.contains(&t) {
                    threads.push(t);
                }
            }
            for token in &a.novel {
                if seen.insert(token) {
                    let kind = &mut by_kind[usize::from(telling(token))];
                    if kind.len() < LISTED_TOKENS {
                        kind.push(token);
                    }
                }
            }
        }
        let new: Vec<String> = by_kind
            .iter()
            .rev()
            .flatten()
            .take(LISTED_TOKENS)
            .map(|t| (*t).to_owned())
            .collect();
        Some(Incident {
            id: self.released,
            source: first.source.clone(),
            line: first.line,
            text: first.text.clone(),
            last_line: anomalies
                .iter()
                .map(|a| a.window.as_ref().map_or(a.line, |w| w.last_line))
                .max()
                .unwrap_or(first.line),
            records: anomalies.len() as u64,
            score: anomalies.iter().map(|a| a.score).fold(0.0, f64::max),
            threads,
            new,
            nearest: first.nearest.clone(),
        })
    }

    /// Keep the `n` highest-scoring incidents (earlier ones on ties).
    fn trim_ranked(&mut self) {
        let n = self.top.unwrap_or(usize::MAX);
        if self.ranked.len() > n.saturating_mul(2).max(64) {
            self.sort_ranked();
            self.ranked.truncate(n);
        }
    }

    fn sort_ranked(&mut self) {
        self.ranked
            .sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then(a.0.id.cmp(&b.0.id)));
    }
}

/// How much a new token tells a person: 2 for a sensitive name
/// ([`crate::template::SENSITIVE`]: `/etc/shadow`, `~/.ssh/...`), 1 for another
/// place or peer (a path, a port), 0 for anything else.
fn telling(token: &str) -> u8 {
    if token.split('/').any(|c| crate::template::SENSITIVE.contains(&c)) {
        2
    } else {
        u8::from(token.contains('/') || token.starts_with("port="))
    }
}

/// The order in which an incident's records tell most about it (indices into
/// `anomalies`). Records that bring a sensitive name, then those that bring
/// another new place or peer (see [`telling`]), rank before others, and higher
/// scores before lower; in that order come first the best record of each
/// thread (each process's part of the story), then each record that adds a
/// new token not yet told, then the rest.
fn telling_order(anomalies: &[Anomaly]) -> Vec<usize> {
    let weight = |a: &Anomaly| a.novel.iter().map(|t| telling(t)).max().unwrap_or(0);
    let mut order: Vec<usize> = (0..anomalies.len()).collect();
    order.sort_by(|&x, &y| {
        let (a, b) = (&anomalies[x], &anomalies[y]);
        weight(b)
            .cmp(&weight(a))
            .then(b.score.total_cmp(&a.score))
            .then(x.cmp(&y))
    });
    let mut told: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut threads: std::collections::HashSet<Option<u32>> = std::collections::HashSet::new();
    let mut picked = vec![false; anomalies.len()];
    let mut out = Vec::with_capacity(anomalies.len());
    for &at in &order {
        if threads.insert(anomalies[at].thread) {
            told.extend(anomalies[at].novel.iter().map(String::as_str));
            picked[at] = true;
            out.push(at);
        }
    }
    for &at in &order {
        if !picked[at] && anomalies[at].novel.iter().any(|t| !told.contains(t.as_str())) {
            told.extend(anomalies[at].novel.iter().map(String::as_str));
            picked[at] = true;
            out.push(at);
        }
    }
    out.extend(order.into_iter().filter(|&at| !picked[at]));
    out
}

impl<S: Sink> Sink for Incidents<S> {
    fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
        self.add(anomaly)
    }

    fn incident(&mut self, _incident: &Incident) -> io::Result<()> {
        // Incidents are made here; none come from upstream.
        Ok(())
    }

    fn violation(&mut self, source: &str, violation: &crate::report::Violation) -> io::Result<()> {
        self.inner.violation(source, violation)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.release()?;
        if let Some(n) = self.top {
            self.sort_ranked();
            self.ranked.truncate(n);
            for (incident, anomalies) in std::mem::take(&mut self.ranked) {
                self.inner.incident(&incident)?;
                for a in &anomalies {
                    self.inner.anomaly(a)?;
                }
            }
        }
        let mut summary = summary.clone();
        summary.incidents = self.released;
        self.inner.finish(&summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Collect;

    fn anomaly(source: &Arc<str>, line: u64, thread: u32, score: f64, novel: &[&str]) -> Anomaly {
        Anomaly {
            source: source.clone(),
            line,
            text: format!("record {line}"),
            score,
            nearest: None,
            before: Vec::new(),
            after: Vec::new(),
            window: None,
            thread: Some(thread),
            novel: novel.iter().map(|s| s.to_string()).collect(),
            incident: None,
            rank: 0,
        }
    }

    /// (incident ids in order, each incident's (first line, records, new tokens)).
    #[derive(Default)]
    struct Seen {
        incidents: Vec<Incident>,
        anomalies: Vec<Anomaly>,
        summary: Option<Summary>,
    }

    impl Sink for Seen {
        fn anomaly(&mut self, anomaly: &Anomaly) -> io::Result<()> {
            self.anomalies.push(anomaly.clone());
            Ok(())
        }
        fn incident(&mut self, incident: &Incident) -> io::Result<()> {
            self.incidents.push(incident.clone());
            Ok(())
        }
        fn finish(&mut self, summary: &Summary) -> io::Result<()> {
            self.summary = Some(summary.clone());
            Ok(())
        }
    }

    #[test]
    fn shared_new_tokens_and_one_threads_burst_make_one_incident() {
        let t: Arc<str> = Arc::from("t.strace");
        let mut grouped = Incidents::new(Seen::default(), None);
        for a in [
            // The shell searches PATH for `cat`, then a child runs it on /etc/shadow.
            anomaly(&t, 100, 7, 0.45, &["cat"]),
            anomaly(&t, 101, 7, 0.45, &["cat"]),
            anomaly(&t, 103, 9, 0.87, &["/usr/bin/cat", "cat", "/etc/shadow"]),
            anomaly(&t, 104, 9, 0.58, &["/etc/shadow", "shadow"]),
            anomaly(&t, 106, 9, 0.50, &[]),
            // Unrelated, far away, in another thread.
            anomaly(&t, 900, 12, 0.33, &["ngroups_max"]),
            // Thread 7 again, but long after: a new incident unless it shares a token.
            anomaly(&t, 2000, 7, 0.40, &["other"]),
        ] {
            grouped.anomaly(&a).unwrap();
        }
        grouped.finish(&Summary::default()).unwrap();
        assert_eq!(grouped.count(), 3);
        let seen = grouped.into_inner();
        let shape: Vec<(u64, u64, Vec<String>)> = seen
            .incidents
            .iter()
            .map(|i| (i.line, i.records, i.new.clone()))
            .collect();
        assert_eq!(
            shape,
            [
                (
                    100,
                    5,
                    // Sensitive names first, then other places, then the rest.
                    vec![
                        "/etc/shadow".into(),
                        "shadow".into(),
                        "/usr/bin/cat".into(),
                        "cat".into()
                    ]
                ),
                (900, 1, vec!["ngroups_max".into()]),
                (2000, 1, vec!["other".into()]),
            ]
        );
        assert_eq!(seen.incidents[0].score, 0.87);
        assert_eq!(seen.incidents[0].threads, [7, 9]);
        assert_eq!(seen.summary.map(|s| s.incidents), Some(3));
        // Every anomaly is passed on, after its incident, naming it.
        let ids: Vec<Option<u64>> = seen.anomalies.iter().map(|a| a.incident).collect();
        assert_eq!(ids, [Some(1), Some(1), Some(1), Some(1), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn linked_groups_merge_and_keep_line_order() {
        let t: Arc<str> = Arc::from("t.strace");
        let mut grouped = Incidents::new(Seen::default(), None);
        for a in [
            anomaly(&t, 10, 1, 0.5, &["alpha"]),
            anomaly(&t, 20, 2, 0.5, &["beta"]),
            anomaly(&t, 30, 3, 0.5, &["alpha", "beta"]),
        ] {
            grouped.anomaly(&a).unwrap();
        }
        grouped.finish(&Summary::default()).unwrap();
        let seen = grouped.into_inner();
        assert_eq!(seen.incidents.len(), 1);
        let lines: Vec<u64> = seen.anomalies.iter().map(|a| a.line).collect();
        assert_eq!(lines, [10, 20, 30]);
    }

    #[test]
    fn inputs_never_share_an_incident_and_top_counts_incidents() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a.strace"), Arc::from("b.strace"));
        let mut grouped = Incidents::new(Seen::default(), Some(1));
        for x in [
            anomaly(&a, 1, 1, 0.4, &["same"]),
            anomaly(&a, 2, 1, 0.4, &["same"]),
            anomaly(&b, 1, 1, 0.9, &["same"]),
        ] {
            grouped.anomaly(&x).unwrap();
        }
        grouped.finish(&Summary::default()).unwrap();
        assert_eq!(grouped.count(), 2);
        let seen = grouped.into_inner();
        assert_eq!(seen.incidents.len(), 1, "the top 1 incident");
        assert_eq!(&*seen.incidents[0].source, "b.strace");
        assert_eq!(seen.anomalies.len(), 1);
        let _ = Collect::default();
    }
}
