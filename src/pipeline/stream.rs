//! Streaming: score records as they arrive, one source at a time or several
//! at once, and hand each anomaly to the sink as soon as it is found.
//!
//! `InputScorer` is the scoring of one input's records, chunk by chunk,
//! that [`super::score`] runs over a whole file; [`Stream`] runs the same
//! scorer over lines handed to it one at a time (`honk watch`). Both go
//! through the same stages (parse, the run's roots, normalize, windows, the
//! bounded cache of scored keys, the selector), so a stream fed a file and
//! ended finds what `honk score` finds in it.
//!
//! A stream holds a source's lines until it knows its format: forced, or
//! detected from the first [`crate::parse::DETECT_LINES`] lines, or from the
//! lines there are when the caller first flushes the source (a log that
//! starts slowly is detected on what it has said so far). Records that
//! parsers hold back (an `<unfinished ...>` call waiting for its tail, a
//! sysdig enter waiting for its exit) wait until [`Stream::release`] or the
//! end of the source. Memory is bounded per source: the parsers' hold-back
//! queues are capped, the cache of scored keys is cleared past its limit,
//! window history is kept for a bounded number of threads and dropped for
//! threads that went idle, and the selector's per-thread counts are capped.
//! This module reads nothing from disk: following files is
//! [`crate::read::follow`]'s job.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use super::{keys_of, Baseline, Error, InputStats, Learner, ScoreOptions, Scored, CHUNK_RECORDS};
use crate::index::Scratch;
use crate::model::{Merger, Model};
use crate::normalize::Roots;
use crate::parse::{self, Format, Parser, Record};
use crate::report::sketch::Sketch;
use crate::report::{InputProfile, Selector, Sink, Summary, Violation, PROFILED_VIOLATIONS};
use crate::window::{Span, Windower};

/// Distinct keys a stream remembers per source with their scores; past this
/// the memory is dropped and keys are scored again.
pub const STREAM_CACHED_KEYS: usize = 1 << 16;

/// Records of a thread's window history are dropped once this many records of
/// its source have passed without an event of the thread (an idle thread).
pub const IDLE_THREAD_RECORDS: u64 = 1 << 16;

/// Threads whose counts a streamed source's selector keeps.
const STREAM_THREADS: usize = 4096;

/// Ended sources whose profiles a stream keeps for its summary (a log rotated
/// every minute for a year does not grow it without bound).
const KEPT_PROFILES: usize = 1024;

/// The scoring of one input's records, chunk by chunk, in input order.
pub(crate) struct InputScorer<'b> {
    baseline: &'b Baseline,
    k: usize,
    threshold: f64,
    cache: HashMap<String, Scored>,
    cache_limit: usize,
    unique: u64,
    selector: Selector,
    sketch: Option<Sketch>,
    /// System calls outside the baseline's set, by name: (count, first line).
    violations: HashMap<String, (u64, u64)>,
    windower: Windower,
    window_events: usize,
    roots: Roots,
    /// The input's name, for violations reported as they happen.
    source: Arc<str>,
    /// Whether the first call to each system call outside the baseline goes
    /// to the sink at once ([`Sink::violation`]), as a stream does.
    live_violations: bool,
    /// What the input teaches, when its records are learned as they are scored.
    learner: Option<Learner>,
}

impl<'b> InputScorer<'b> {
    /// A scorer for the input named `name`, remembering at most `cache_limit` scored keys.
    pub(crate) fn new(baseline: &'b Baseline, options: &ScoreOptions, name: &str, cache_limit: usize) -> Self {
        InputScorer {
            baseline,
            k: options.k,
            threshold: options.selection.threshold,
            cache: HashMap::new(),
            cache_limit,
            unique: 0,
            selector: Selector::new(options.selection.clone(), Arc::from(name)),
            sketch: options.sketch.then(|| Sketch::new(name)),
            violations: HashMap::new(),
            windower: Windower::new(baseline.model.settings.window),
            window_events: baseline.model.settings.window.size as usize,
            roots: Roots::for_input(),
            source: Arc::from(name),
            live_violations: false,
            learner: None,
        }
    }

    /// Distinct keys scored so far.
    pub(crate) fn unique(&self) -> u64 {
        self.unique
    }

    /// Score the next records of the input, handing anomalies to `sink`.
    pub(crate) fn chunk(&mut self, chunk: &[Record], sink: &mut dyn Sink) -> Result<(), Error> {
        let baseline = self.baseline;
        let keys = keys_of(chunk, &mut self.roots);
        let spans: Vec<Option<Span>> = if self.windower.enabled() {
            chunk.iter().zip(&keys).map(|(r, k)| self.windower.push(r, k)).collect()
        } else {
            Vec::new()
        };
        if let Some(learner) = self.learner.as_mut() {
            for (i, (record, key)) in chunk.iter().zip(&keys).enumerate() {
                learner.add(record, key.as_str(), spans.get(i).and_then(Option::as_ref));
            }
        }
        if self.cache.len() > self.cache_limit {
            self.cache.clear();
        }
        // Distinct keys of this chunk (records' and windows') not scored before, each once.
        let mut fresh: Vec<&str> = Vec::new();
        let mut fresh_seen: HashSet<&str> = HashSet::new();
        let window_keys = spans.iter().flatten().map(|s| s.key.as_str());
        for key in keys.iter().map(String::as_str).chain(window_keys) {
            if !self.cache.contains_key(key) && fresh_seen.insert(key) {
                fresh.push(key);
            }
        }
        let k = self.k;
        let scored: Vec<Scored> = if fresh.len() > 1 {
            fresh
                .par_iter()
                .map_init(
                    || Scratch::new(&baseline.index),
                    |scratch, key| baseline.score(key, k, scratch),
                )
                .collect()
        } else {
            // One key (a line of a live log): no threads to wake.
            let mut scratch = Scratch::new(&baseline.index);
            fresh.iter().map(|key| baseline.score(key, k, &mut scratch)).collect()
        };
        self.unique += fresh.len() as u64;
        for (key, result) in fresh.iter().zip(scored) {
            self.cache.insert((*key).to_owned(), result);
        }
        let unscored = Scored {
            score: 0.0,
            nearest: None,
        };
        // Only when the baseline has system calls: a text baseline has no policy.
        let policy = &baseline.model.syscalls;
        let threshold = self.threshold;
        for (i, (record, key)) in chunk.iter().zip(&keys).enumerate() {
            let result = self.cache.get(key.as_str()).copied().unwrap_or(unscored);
            // `restart_syscall` is the kernel resuming an interrupted call, made
            // whenever a signal lands at the wrong moment: not a program's choice.
            let outside = |name: &&str| !policy.is_empty() && *name != "restart_syscall" && !policy.contains_key(*name);
            if let Some(name) = record.syscall_name().filter(outside) {
                if let Some(seen) = self.violations.get_mut(name) {
                    seen.0 += 1;
                } else if self.violations.len() < PROFILED_VIOLATIONS {
                    self.violations.insert(name.to_owned(), (1, record.line));
                    if self.live_violations {
                        let first = Violation {
                            syscall: name.to_owned(),
                            count: 1,
                            line: record.line,
                        };
                        sink.violation(&self.source, &first).map_err(Error::Output)?;
                    }
                }
            }
            if let Some(sketch) = self.sketch.as_mut() {
                if let (Some(thread), Some(process)) = (record.pid, record.process.as_deref()) {
                    sketch.process(thread, process);
                }
                let anomaly = result.score > threshold;
                sketch.record(record.line, result.score, anomaly, key, &record.text);
            }
            self.selector
                .record(
                    record.line,
                    record.pid,
                    &record.text,
                    result.score,
                    || baseline.explain(key, result),
                    sink,
                )
                .map_err(Error::Output)?;
            if let Some(Some(span)) = spans.get(i) {
                let result = self.cache.get(span.key.as_str()).copied().unwrap_or(unscored);
                if let Some(sketch) = self.sketch.as_mut() {
                    sketch.window(span.last_line, result.score, result.score > threshold);
                }
                self.selector
                    .window(
                        span,
                        self.window_events,
                        result.score,
                        || baseline.explain(&span.key, result),
                        sink,
                    )
                    .map_err(Error::Output)?;
            }
        }
        Ok(())
    }

    /// Drop what is kept per thread for threads idle since before `line` (in
    /// windows and the selector), and cap the selector's per-thread counts.
    pub(crate) fn forget_idle_threads(&mut self, line: u64) {
        self.windower.forget_idle(line);
        self.selector.forget_before(line, STREAM_THREADS);
    }

    /// The input ended: release the anomaly still waiting for after-context
    /// and return the input's profile.
    pub(crate) fn end(mut self, sink: &mut dyn Sink) -> Result<InputProfile, Error> {
        self.selector.end(sink).map_err(Error::Output)?;
        let mut profile = self.selector.profile();
        profile.sketch = self.sketch;
        profile.violations = self
            .violations
            .into_iter()
            .map(|(syscall, (count, line))| Violation { syscall, count, line })
            .collect();
        profile
            .violations
            .sort_by(|a, b| a.line.cmp(&b.line).then(a.syscall.cmp(&b.syscall)));
        Ok(profile)
    }
}

/// A source of a [`Stream`], as returned by [`Stream::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceId(usize);

/// One open source of a stream.
struct Source<'b> {
    name: String,
    /// Lines waiting for the format to be known.
    head: Vec<String>,
    /// The format and its parser, once known.
    parser: Option<(Format, Box<dyn Parser>)>,
    /// Records parsed and not yet scored.
    pending: Vec<Record>,
    scorer: InputScorer<'b>,
    /// Lines before the first one given.
    skipped: u64,
    /// The number of the last line given.
    lines: u64,
    records: u64,
    truncated: u64,
    /// Records scored when idle threads were last forgotten.
    forgotten_at: u64,
}

/// Scores lines as they arrive from any number of named sources, handing
/// anomalies to a sink as soon as they are found (see the module documentation).
///
/// Feed a source's lines with [`Stream::line`], call [`Stream::flush`] when no
/// more are at hand for now, and [`Stream::end`] when it ended (or was
/// truncated or rotated: a new [`Stream::open`] then starts it again from
/// line 1). [`Stream::finish`] ends every source and the sink.
pub struct Stream<'b> {
    baseline: &'b Baseline,
    options: ScoreOptions,
    cache_limit: usize,
    sources: HashMap<usize, Source<'b>>,
    next: usize,
    started: Instant,
    summary: Summary,
    stats: Vec<InputStats>,
    /// What ended sources taught, when the stream learns.
    learned: Option<Merger>,
}

impl<'b> Stream<'b> {
    /// A stream scoring against `baseline` as `options` say (`options.sketch` is ignored).
    pub fn new(baseline: &'b Baseline, options: &ScoreOptions) -> Stream<'b> {
        let options = ScoreOptions {
            sketch: false,
            ..options.clone()
        };
        Stream {
            baseline,
            summary: Summary {
                k: options.k,
                threshold: options.selection.threshold,
                baseline_records: baseline.model.records(),
                baseline_unique: baseline.model.entries.len() as u64,
                ..Summary::default()
            },
            options,
            cache_limit: STREAM_CACHED_KEYS,
            sources: HashMap::new(),
            next: 0,
            started: Instant::now(),
            stats: Vec::new(),
            learned: None,
        }
    }

    /// Also learn every record scored, from sources opened from now on:
    /// [`Stream::learned`] is then what they taught so far, a model with the
    /// baseline's settings and a source per source opened. Scoring is not
    /// changed by it: records are scored against the baseline the stream
    /// was made with.
    pub fn learning(mut self) -> Self {
        let settings = self.baseline.model.settings.clone();
        self.learned = Some(Merger::new(Model::new(settings)));
        self
    }

    /// What the sources taught so far (see [`Stream::learning`]), ended
    /// ones and open ones alike; `None` if the stream does not learn.
    pub fn learned(&self) -> Result<Option<Model>, Error> {
        let Some(done) = &self.learned else {
            return Ok(None);
        };
        let mut all = done.clone();
        let mut open: Vec<(&usize, &Source<'_>)> = self.sources.iter().collect();
        open.sort_unstable_by_key(|(id, _)| **id);
        for (_, src) in open {
            if let Some(learner) = &src.scorer.learner {
                let settings = self.baseline.model.settings.clone();
                all.add(learner.clone().into_model(settings, src.name.clone(), src.records))?;
            }
        }
        Ok(Some(all.finish()))
    }

    /// Records learned so far, in ended and open sources (0 if the stream does not learn).
    pub fn learned_records(&self) -> u64 {
        let open: u64 = self
            .sources
            .values()
            .filter_map(|s| s.scorer.learner.as_ref())
            .map(Learner::records)
            .sum();
        self.learned.as_ref().map_or(0, |done| done.records() + open)
    }

    /// Remember at most `keys` scored keys per source (default [`STREAM_CACHED_KEYS`]).
    pub fn with_cache_limit(mut self, keys: usize) -> Self {
        self.cache_limit = keys;
        self
    }

    /// Start a source named `name` in reports; its first line is line 1.
    pub fn open(&mut self, name: &str) -> SourceId {
        self.open_at(name, 0)
    }

    /// Start a source named `name` whose first `skipped` lines are not
    /// given (a file followed from its end): its first line given is line
    /// `skipped + 1`.
    pub fn open_at(&mut self, name: &str, skipped: u64) -> SourceId {
        let id = self.next;
        self.next += 1;
        let mut scorer = InputScorer::new(self.baseline, &self.options, name, self.cache_limit);
        scorer.live_violations = true;
        if self.learned.is_some() {
            scorer.learner = Some(Learner::default());
        }
        self.sources.insert(
            id,
            Source {
                name: name.to_owned(),
                head: Vec::new(),
                parser: None,
                pending: Vec::new(),
                scorer,
                skipped,
                lines: skipped,
                records: 0,
                truncated: 0,
                forgotten_at: 0,
            },
        );
        self.summary.inputs += 1;
        SourceId(id)
    }

    /// The format `source` is parsed as, once known.
    pub fn format(&self, source: SourceId) -> Option<Format> {
        self.sources.get(&source.0)?.parser.as_ref().map(|(f, _)| *f)
    }

    /// The next line of `source` (without its line ending). `cut` says it was
    /// longer than the reader keeps and was cut (counted for the summary).
    /// Records are scored when a chunk is full or on [`Stream::flush`].
    pub fn line(&mut self, source: SourceId, line: &str, cut: bool, sink: &mut dyn Sink) -> Result<(), Error> {
        let forced = self.options.format;
        let Some(src) = self.sources.get_mut(&source.0) else {
            return Ok(());
        };
        src.lines += 1;
        src.truncated += u64::from(cut);
        match &mut src.parser {
            Some((_, parser)) => parser.push(src.lines, line, &mut src.pending),
            None => {
                src.head.push(line.to_owned());
                if forced.is_some() || src.head.len() >= parse::DETECT_LINES {
                    start_parsing(src, forced);
                }
            }
        }
        if src.pending.len() >= CHUNK_RECORDS {
            score_pending(src, sink)?;
        }
        Ok(())
    }

    /// No more lines of `source` for now: detect its format if it is not
    /// known yet (from the lines there are), and score the records parsed.
    /// Records a parser holds back stay held (see [`Stream::release`]).
    pub fn flush(&mut self, source: SourceId, sink: &mut dyn Sink) -> Result<(), Error> {
        let forced = self.options.format;
        let Some(src) = self.sources.get_mut(&source.0) else {
            return Ok(());
        };
        if src.parser.is_none() && !src.head.is_empty() {
            start_parsing(src, forced);
        }
        score_pending(src, sink)
    }

    /// Flush `source` and let go of the records its parser holds back (an
    /// unfinished call whose tail has not come): they are scored as they are;
    /// and of an anomaly still waiting for its after-context (`-A`): it goes
    /// with the records after it so far. For a source that has been quiet a
    /// while; a tail that comes later is scored as a record of its own.
    pub fn release(&mut self, source: SourceId, sink: &mut dyn Sink) -> Result<(), Error> {
        self.flush(source, sink)?;
        if let Some(src) = self.sources.get_mut(&source.0) {
            if let Some((_, parser)) = &mut src.parser {
                parser.finish(&mut src.pending);
            }
            score_pending(src, sink)?;
            src.scorer.selector.end(sink).map_err(Error::Output)?;
        }
        Ok(())
    }

    /// `source` ended (or was truncated or replaced): score everything it
    /// still holds, release its last anomaly and add it to the summary.
    pub fn end(&mut self, source: SourceId, sink: &mut dyn Sink) -> Result<(), Error> {
        self.release(source, sink)?;
        let Some(mut src) = self.sources.remove(&source.0) else {
            return Ok(());
        };
        let unique = src.scorer.unique();
        if let (Some(done), Some(learner)) = (self.learned.as_mut(), src.scorer.learner.take()) {
            let settings = self.baseline.model.settings.clone();
            done.add(learner.into_model(settings, src.name.clone(), src.records))?;
        }
        let profile = src.scorer.end(sink)?;
        let summary = &mut self.summary;
        summary.records += src.records;
        summary.unique += unique;
        summary.anomalies += profile.anomalies;
        summary.violations += profile.violations.iter().map(|v| v.count).sum::<u64>();
        summary.truncated_lines += src.truncated;
        if summary.per_input.len() < KEPT_PROFILES {
            summary.per_input.push(profile);
            self.stats.push(InputStats {
                name: src.name,
                format: src.parser.map_or(Format::Text, |(f, _)| f),
                lines: src.lines,
                records: src.records,
                truncated: src.truncated,
            });
        }
        Ok(())
    }

    /// Records scored so far, in ended and open sources.
    pub fn records_so_far(&self) -> u64 {
        self.summary.records + self.sources.values().map(|s| s.records).sum::<u64>()
    }

    /// Anomalies found so far, in ended and open sources.
    pub fn anomalies(&self) -> u64 {
        self.summary.anomalies
            + self
                .sources
                .values()
                .map(|s| s.scorer.selector.anomalies())
                .sum::<u64>()
    }

    /// Records the capture feeding the stream lost (eBPF), for the summary.
    pub fn set_lost_events(&mut self, lost: u64) {
        self.summary.lost_events = Some(lost);
    }

    /// End every open source (in the order they were opened) and the sink;
    /// return the run's summary and what was read from each source.
    pub fn finish(self, sink: &mut dyn Sink) -> Result<(Summary, Vec<InputStats>), Error> {
        let (summary, stats, _) = self.finish_learning(sink)?;
        Ok((summary, stats))
    }

    /// [`Stream::finish`], and what the sources taught (see [`Stream::learning`]).
    pub fn finish_learning(mut self, sink: &mut dyn Sink) -> Result<(Summary, Vec<InputStats>, Option<Model>), Error> {
        let mut open: Vec<usize> = self.sources.keys().copied().collect();
        open.sort_unstable();
        for id in open {
            self.end(SourceId(id), sink)?;
        }
        self.summary.elapsed = self.started.elapsed();
        sink.finish(&self.summary).map_err(Error::Output)?;
        Ok((self.summary, self.stats, self.learned.map(Merger::finish)))
    }
}

/// The format of `src` is known now: forced, or detected from its head; parse the head.
fn start_parsing(src: &mut Source<'_>, forced: Option<Format>) {
    let format = forced.unwrap_or_else(|| parse::detect(src.head.iter().map(String::as_str)));
    let mut parser = parse::parser(format);
    for (i, text) in src.head.drain(..).enumerate() {
        parser.push(src.skipped + i as u64 + 1, &text, &mut src.pending);
    }
    src.head = Vec::new();
    src.parser = Some((format, parser));
}

/// Score the records of `src` parsed so far.
fn score_pending(src: &mut Source<'_>, sink: &mut dyn Sink) -> Result<(), Error> {
    if src.pending.is_empty() {
        return Ok(());
    }
    let chunk = std::mem::take(&mut src.pending);
    src.records += chunk.len() as u64;
    src.scorer.chunk(&chunk, sink)?;
    if src.records - src.forgotten_at >= IDLE_THREAD_RECORDS {
        src.forgotten_at = src.records;
        if let Some(last) = chunk.last() {
            src.scorer
                .forget_idle_threads(last.line.saturating_sub(IDLE_THREAD_RECORDS));
        }
    }
    // Keep the allocation for the next records, but not a huge one.
    src.pending = chunk;
    src.pending.clear();
    if src.pending.capacity() > CHUNK_RECORDS {
        src.pending = Vec::new();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::ModelChoices;
    use crate::demo::{EMBEDDED_BASELINE, EMBEDDED_TARGET};
    use crate::progress::Progress;
    use crate::read::Input;
    use crate::report::{Anomaly, Collect};

    fn baseline(text: &str, window: Option<u32>) -> Baseline {
        let choices = ModelChoices {
            window,
            ..ModelChoices::default()
        };
        let input = Input::text("base.strace", text);
        let (model, _) = super::super::learn(&[input], choices.settings(), None, &Progress::hidden()).unwrap();
        Baseline::new(model)
    }

    fn batch(baseline: &Baseline, name: &str, text: &str, options: &ScoreOptions) -> (Vec<Anomaly>, Summary) {
        let mut found = Collect::default();
        let (summary, _) = super::super::score(
            baseline,
            &[Input::text(name, text)],
            options,
            &mut found,
            &Progress::hidden(),
        )
        .unwrap();
        (found.anomalies, summary)
    }

    /// Streams `text` line by line, flushing after every `flush_every` lines
    /// (never: 0), and releasing held-back records at every flush when `release`.
    fn streamed(
        baseline: &Baseline,
        name: &str,
        text: &str,
        options: &ScoreOptions,
        flush_every: usize,
        release: bool,
    ) -> (Vec<Anomaly>, Summary) {
        let mut found = Collect::default();
        let mut stream = Stream::new(baseline, options);
        let source = stream.open(name);
        for (i, line) in text.lines().enumerate() {
            stream.line(source, line, false, &mut found).unwrap();
            if flush_every > 0 && (i + 1) % flush_every == 0 {
                if release {
                    stream.release(source, &mut found).unwrap();
                } else {
                    stream.flush(source, &mut found).unwrap();
                }
            }
        }
        let (summary, stats) = stream.finish(&mut found).unwrap();
        assert_eq!(stats.len(), 1);
        (found.anomalies, summary)
    }

    fn lines(found: &[Anomaly]) -> Vec<(u64, String)> {
        found.iter().map(|a| (a.line, format!("{:.4}", a.score))).collect()
    }

    #[test]
    fn a_stream_fed_a_whole_trace_finds_what_batch_scoring_finds() {
        let base = baseline(EMBEDDED_BASELINE, None);
        let options = ScoreOptions::default();
        let (expected, summary) = batch(&base, "target.strace", EMBEDDED_TARGET, &options);
        assert!(
            expected.len() > 10,
            "the demo's target has anomalies: {}",
            expected.len()
        );
        let (found, streamed_summary) = streamed(&base, "target.strace", EMBEDDED_TARGET, &options, 0, false);
        assert_eq!(found, expected);
        assert_eq!(streamed_summary.records, summary.records);
        assert_eq!(streamed_summary.anomalies, summary.anomalies);
        assert_eq!(streamed_summary.violations, summary.violations);
        assert_eq!(streamed_summary.per_input, summary.per_input);
    }

    #[test]
    fn flushing_after_every_line_finds_the_same_anomalies() {
        let base = baseline(EMBEDDED_BASELINE, None);
        let options = ScoreOptions::default();
        let (expected, _) = batch(&base, "target.strace", EMBEDDED_TARGET, &options);
        for every in [1, 7, 100] {
            let (found, _) = streamed(&base, "target.strace", EMBEDDED_TARGET, &options, every, false);
            assert_eq!(lines(&found), lines(&expected), "flushed every {every} lines");
            assert_eq!(found, expected, "flushed every {every} lines");
        }
    }

    #[test]
    fn windows_and_context_stream_as_they_score() {
        let base = baseline(EMBEDDED_BASELINE, Some(4));
        let mut options = ScoreOptions::default();
        options.selection.before = 2;
        options.selection.after = 1;
        let (expected, _) = batch(&base, "target.strace", EMBEDDED_TARGET, &options);
        assert!(expected.iter().any(|a| a.window.is_some()) || !expected.is_empty());
        let (found, _) = streamed(&base, "target.strace", EMBEDDED_TARGET, &options, 5, false);
        assert_eq!(found, expected);
    }

    #[test]
    fn held_back_records_come_out_on_release_and_at_the_end() {
        let base = baseline(EMBEDDED_BASELINE, None);
        let options = ScoreOptions {
            format: Some(Format::Strace),
            ..ScoreOptions::default()
        };
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &options);
        let source = stream.open("live.strace");
        // An unusual call that never resumes holds back what follows it.
        stream
            .line(
                source,
                "9 openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY <unfinished ...>",
                false,
                &mut found,
            )
            .unwrap();
        stream
            .line(
                source,
                "8 execve(\"/usr/bin/nc\", [\"nc\", \"-l\"], 0x1 /* 3 vars */) = 0",
                false,
                &mut found,
            )
            .unwrap();
        stream.flush(source, &mut found).unwrap();
        assert!(found.anomalies.is_empty(), "held behind the unfinished call");
        stream.release(source, &mut found).unwrap();
        assert_eq!(found.anomalies.iter().map(|a| a.line).collect::<Vec<_>>(), [1, 2]);
        // The end releases what is held too.
        stream
            .line(
                source,
                "9 connect(3, {sa_family=AF_INET, sin_port=htons(4444)} <unfinished ...>",
                false,
                &mut found,
            )
            .unwrap();
        stream.flush(source, &mut found).unwrap();
        assert_eq!(found.anomalies.len(), 2);
        let (summary, _) = stream.finish(&mut found).unwrap();
        assert_eq!(found.anomalies.last().map(|a| a.line), Some(3));
        assert_eq!(summary.anomalies, 3);
    }

    #[test]
    fn state_per_thread_stays_bounded_however_many_threads_come_and_go() {
        let base = baseline(EMBEDDED_BASELINE, Some(3));
        let options = ScoreOptions {
            format: Some(Format::Strace),
            ..ScoreOptions::default()
        };
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &options).with_cache_limit(1000);
        let source = stream.open("many threads.strace");
        // 100,000 short-lived threads, each with two calls on a path of its
        // own (keys keep changing); every other one says that it exited.
        let threads = 100_000u32;
        let mut records = 0u64;
        for pid in 1..=threads {
            let mut lines = vec![
                format!("{pid} openat(AT_FDCWD, \"/srv/data/f{pid}\", O_RDONLY) = 3"),
                format!("{pid} read(3, \"x\", 1) = 1"),
            ];
            if pid % 2 == 0 {
                lines.push(format!("{pid} +++ exited with 0 +++"));
            }
            for line in &lines {
                stream.line(source, line, false, &mut found).unwrap();
            }
            records += lines.len() as u64;
            if pid % 1000 == 0 {
                stream.flush(source, &mut found).unwrap();
            }
        }
        stream.flush(source, &mut found).unwrap();
        let src = &stream.sources[&source.0];
        // Within the last 65,536 lines: at most 26,215 threads (2.5 lines each), twice over between forgets.
        let kept = src.scorer.windower.footprint();
        assert!(kept <= 2 * 2 * 26_215, "{kept} entries for threads' windows");
        let counted = src.scorer.selector.threads();
        assert!(counted <= STREAM_THREADS + 2 * 26_215, "{counted} threads' counts");
        assert!(
            src.scorer.cache.len() <= 1000 + CHUNK_RECORDS,
            "{}",
            src.scorer.cache.len()
        );
        let (summary, _) = stream.finish(&mut found).unwrap();
        assert_eq!(summary.records, records);
    }

    #[test]
    fn an_anomaly_waiting_for_its_after_context_goes_on_release() {
        let base = baseline("GET /index.html 200\nGET /about.html 200\n", None);
        let mut options = ScoreOptions::default();
        options.selection.after = 2;
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &options);
        let source = stream.open("access.log");
        for line in ["GET /index.html 200", "DELETE /admin/users 500", "GET /about.html 200"] {
            stream.line(source, line, false, &mut found).unwrap();
        }
        stream.flush(source, &mut found).unwrap();
        assert!(found.anomalies.is_empty(), "waiting for a second line of context");
        stream.release(source, &mut found).unwrap();
        assert_eq!(found.anomalies.len(), 1);
        assert_eq!(found.anomalies[0].after.len(), 1);
        stream.line(source, "GET /index.html 200", false, &mut found).unwrap();
        stream.finish(&mut found).unwrap();
        assert_eq!(found.anomalies.len(), 1, "released once");
    }

    #[test]
    fn a_slow_source_is_detected_from_the_lines_it_has_and_alerts_at_once() {
        let base = baseline("GET /index.html 200\nGET /about.html 200\n", None);
        let options = ScoreOptions::default();
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &options);
        let source = stream.open("access.log");
        stream.line(source, "GET /index.html 200", false, &mut found).unwrap();
        stream.flush(source, &mut found).unwrap();
        assert_eq!(stream.format(source), Some(Format::Text));
        assert!(found.anomalies.is_empty());
        stream
            .line(source, "DELETE /admin/users 500", false, &mut found)
            .unwrap();
        stream.flush(source, &mut found).unwrap();
        assert_eq!(found.anomalies.len(), 1, "alerted before the source ends");
        assert_eq!(found.anomalies[0].line, 2);
        assert_eq!(stream.anomalies(), 1);
        let (summary, _) = stream.finish(&mut found).unwrap();
        assert_eq!((summary.records, summary.anomalies), (2, 1));
    }

    #[test]
    fn sources_are_scored_apart_and_a_restarted_source_counts_from_line_one() {
        let base = baseline("GET /index.html 200\nGET /about.html 200\n", None);
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &ScoreOptions::default()).with_cache_limit(1);
        let a = stream.open("a.log");
        let b = stream.open("b.log");
        for (source, line) in [
            (a, "GET /index.html 200"),
            (b, "rm -rf /"),
            (a, "sudo su"),
            (a, "curl evil"),
        ] {
            stream.line(source, line, false, &mut found).unwrap();
            stream.flush(source, &mut found).unwrap();
        }
        stream.end(a, &mut found).unwrap();
        let again = stream.open("a.log");
        stream.line(again, "sudo su", false, &mut found).unwrap();
        let (summary, stats) = stream.finish(&mut found).unwrap();
        let seen: Vec<(&str, u64)> = found.anomalies.iter().map(|x| (&*x.source, x.line)).collect();
        assert_eq!(seen, [("b.log", 1), ("a.log", 2), ("a.log", 3), ("a.log", 1)]);
        assert_eq!(summary.inputs, 3);
        assert_eq!(stats.iter().map(|s| s.lines).collect::<Vec<_>>(), [3, 1, 1]);
    }

    #[test]
    fn a_learning_stream_learns_what_learning_the_whole_file_learns_and_snapshots_count_once() {
        let base = baseline(EMBEDDED_BASELINE, Some(4));
        let options = ScoreOptions {
            k: 1,
            ..ScoreOptions::default()
        };
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &options).learning();
        let source = stream.open("target.strace");
        for line in EMBEDDED_TARGET.lines() {
            stream.line(source, line, false, &mut found).unwrap();
        }
        assert_eq!(stream.learned_records(), 0, "nothing is learned before it is scored");
        stream.flush(source, &mut found).unwrap();
        let first = stream.learned().unwrap().unwrap();
        let again = stream.learned().unwrap().unwrap();
        assert_eq!(first, again, "a snapshot takes nothing away and counts nothing twice");
        let (_, _, learned) = stream.finish_learning(&mut found).unwrap();
        let learned = learned.unwrap();

        let input = Input::text("target.strace", EMBEDDED_TARGET);
        let (whole, _) =
            super::super::learn(&[input], base.model().settings.clone(), None, &Progress::hidden()).unwrap();
        assert!(whole.entries.len() > 10, "the demo's target has keys to learn");
        assert_eq!(learned.entries, whole.entries);
        assert_eq!(learned.syscalls, whole.syscalls);
        assert_eq!(learned.words, whole.words);
        assert_eq!(learned.sources, whole.sources);
        assert!(!first.entries.is_empty() && first.entries.len() <= whole.entries.len());
    }

    #[test]
    fn a_stream_that_does_not_learn_learns_nothing() {
        let base = baseline(EMBEDDED_BASELINE, None);
        let mut found = Collect::default();
        let mut stream = Stream::new(&base, &ScoreOptions::default());
        let source = stream.open("t");
        for line in EMBEDDED_TARGET.lines() {
            stream.line(source, line, false, &mut found).unwrap();
        }
        stream.flush(source, &mut found).unwrap();
        assert_eq!(stream.learned_records(), 0);
        assert!(stream.learned().unwrap().is_none());
        assert!(stream.finish_learning(&mut found).unwrap().2.is_none());
    }
}
