//! The pipeline: read → parse → normalize, then learn a model or score against one.
//!
//! Work is done in chunks of records so memory stays bounded however long the
//! input: each chunk is normalized on all cores, its keys are deduplicated (a
//! key is scored once, however often it occurs), the new keys are searched in
//! the index on all cores, and the chunk's records go to the report in input
//! order. This module wires the stages together; it does not parse, normalize,
//! hash, search or print anything itself.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::index::{Index, Scratch};
use crate::model::{Entries, Merger, Model, ModelError, Settings, Source, Window};
use crate::normalize::{self, Roots};
use crate::parse::{self, Format, Record};
use crate::progress::Progress;
use crate::read::{Input, Lines, ReadError};
use crate::report::{Collect, Explanation, InputProfile, Nearest, Selection, Sink, Summary, NOVEL_TOKENS};
use crate::template::{self, Templater};
use crate::vectorize::{SparseVec, Vectorizer};
use crate::window::{Span, Windower};

pub mod stream;

use stream::InputScorer;
pub use stream::{SourceId, Stream};

/// Records handed on together; large enough to keep both cores busy, small
/// enough to bound memory.
const CHUNK_RECORDS: usize = 16 * 1024;

/// Distinct target keys remembered with their scores; past this the memory is
/// dropped and keys are scored again (hostile inputs where every line differs).
const MAX_CACHED_KEYS: usize = 1 << 20;

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be found, opened or read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A model could not be loaded, saved or merged.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Handing a record or the summary to the report sink failed.
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
}

/// What was read from one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputStats {
    /// The input's name in output (see [`Input::name`]).
    pub name: String,
    /// The format it was parsed as: forced, or detected from its first lines.
    pub format: Format,
    /// Lines read: the number of the last one.
    pub lines: u64,
    /// Records the parser made of them (a record may span lines, and a line may make none).
    pub records: u64,
    /// Lines longer than [`crate::read::MAX_LINE_BYTES`], cut there.
    pub truncated: u64,
}

/// Read one input as records, calling `each` with chunks of them in input order.
///
/// The format is `forced`, or detected from the first lines.
pub fn read_records(
    input: &Input,
    forced: Option<Format>,
    progress: &Progress,
    mut each: impl FnMut(&[Record]) -> Result<(), Error>,
) -> Result<InputStats, Error> {
    let raw = input.open_raw()?;
    let mut lines = Lines::new(input.decode(progress.wrap(raw))?);

    // Detection looks at the first lines; keep them to parse afterwards.
    let mut head: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut last = 0;
    while head.len() < parse::DETECT_LINES {
        match lines.next_line(&mut line).map_err(|e| input.error(e))? {
            Some(n) => {
                last = n;
                head.push(std::mem::take(&mut line));
            }
            None => break,
        }
    }
    let format = forced.unwrap_or_else(|| parse::detect(head.iter().map(String::as_str)));
    let mut parser = parse::parser(format);
    let mut records = Vec::with_capacity(CHUNK_RECORDS);
    let mut count = 0u64;
    for (i, text) in head.iter().enumerate() {
        parser.push(i as u64 + 1, text, &mut records);
    }
    drop(head);
    loop {
        if records.len() >= CHUNK_RECORDS {
            count += records.len() as u64;
            each(&records)?;
            records.clear();
        }
        match lines.next_line(&mut line).map_err(|e| input.error(e))? {
            Some(n) => {
                last = n;
                parser.push(n, &line, &mut records);
            }
            None => break,
        }
    }
    parser.finish(&mut records);
    count += records.len() as u64;
    if !records.is_empty() {
        each(&records)?;
    }
    Ok(InputStats {
        name: input.name(),
        format,
        lines: last,
        records: count,
        truncated: lines.truncated(),
    })
}

/// The keys of a chunk of records, computed on all cores, after `roots` has
/// seen the chunk (so a run's places found anywhere in a chunk apply to all of it).
fn keys_of(records: &[Record], roots: &mut Roots) -> Vec<String> {
    for record in records {
        roots.observe(record);
    }
    let roots = &*roots;
    records.par_iter().map(|r| normalize::key_in(r, roots)).collect()
}

/// Sum of the sizes of the inputs that are files, if all are.
pub fn total_bytes(inputs: &[Input]) -> Option<u64> {
    inputs.iter().map(Input::size_on_disk).sum()
}

/// Learn a model from baseline inputs. Inputs are read in parallel; the model
/// is the same as if they were read one after the other, in order.
pub fn learn(
    inputs: &[Input],
    settings: Settings,
    forced: Option<Format>,
    progress: &Progress,
) -> Result<(Model, Vec<InputStats>), Error> {
    let window = settings.window;
    let parts: Vec<Result<(Model, InputStats), Error>> = inputs
        .par_iter()
        .map(|input| learn_input(input, &settings, forced, window, progress))
        .collect();
    let mut merger = Merger::new(Model::new(settings));
    let mut stats = Vec::with_capacity(inputs.len());
    for part in parts {
        let (model, stat) = part?;
        merger.add(model)?;
        stats.push(stat);
    }
    Ok((merger.finish(), stats))
}

/// One input learned alone: a model of one source, with its distinct keys
/// (its records' and, with windows on, its windows'), each with its first
/// occurrence and count, its system calls by name, and its words counted as
/// one run.
fn learn_input(
    input: &Input,
    settings: &Settings,
    forced: Option<Format>,
    window: Window,
    progress: &Progress,
) -> Result<(Model, InputStats), Error> {
    let mut learner = Learner::default();
    let mut windower = Windower::new(window);
    let mut roots = Roots::for_input();
    let stat = read_records(input, forced, progress, |chunk| {
        for (record, key) in chunk.iter().zip(keys_of(chunk, &mut roots)) {
            let span = windower.push(record, &key);
            learner.add(record, key, span.as_ref());
        }
        Ok(())
    })?;
    let model = learner.into_model(settings.clone(), input.name(), stat.records);
    Ok((model, stat))
}

/// What one input teaches, as its records go by: its distinct keys (its
/// records' and, with windows on, its windows'), each with its first
/// occurrence and count, and its system calls by name. `honk learn` runs one
/// per input; a stream that learns ([`Stream::learning`]) one per source.
#[derive(Clone, Debug, Default)]
pub(crate) struct Learner {
    syscalls: BTreeMap<String, u64>,
    entries: Entries,
    records: u64,
}

impl Learner {
    /// One more record, its key and the window it closes, if any.
    pub(crate) fn add(&mut self, record: &Record, key: impl AsRef<str> + Into<String>, span: Option<&Span>) {
        if let Some(name) = record.syscall_name() {
            match self.syscalls.get_mut(name) {
                Some(count) => *count += 1,
                None => {
                    self.syscalls.insert(name.to_owned(), 1);
                }
            }
        }
        self.records += 1;
        self.entries.add_key(key, 1, || (0, record.line, record.text.clone()));
        if let Some(span) = span {
            self.entries
                .add_key(span.key.as_str(), 1, || (0, span.first_line, span.text.clone()));
        }
    }

    /// Records added so far.
    pub(crate) fn records(&self) -> u64 {
        self.records
    }

    /// The model of one source named `name` that had `records` records.
    pub(crate) fn into_model(self, settings: Settings, name: String, records: u64) -> Model {
        let mut model = Model::new(settings);
        model.entries = self.entries.into_vec();
        model.syscalls = self.syscalls;
        // Each input is one run: its words count once.
        template::count_run(&mut model.words, model.entries.iter().map(|e| e.key.as_str()));
        model.sources.push(Source { path: name, records });
        model
    }
}

/// One input as the sequence of what it does, in record order: the syscall
/// name of each event, and the normalized key of each other record (a line of
/// a text log, a signal, an exit).
///
/// This is the per-trace view `honk eval` compares whole traces by.
pub fn trace_events(input: &Input, forced: Option<Format>, progress: &Progress) -> Result<Vec<String>, Error> {
    let mut events = Vec::new();
    read_records(input, forced, progress, |chunk| {
        for record in chunk {
            match record.syscall_name() {
                Some(name) => events.push(name.to_owned()),
                None => {
                    let key = normalize::key_of(record);
                    if !key.is_empty() {
                        events.push(key);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(events)
}

/// A model made searchable: its keys, with the words that vary between its
/// runs templated away, as vectors in an index and in a table.
pub struct Baseline {
    model: Model,
    sources: Vec<Arc<str>>,
    vectorizer: Vectorizer,
    index: Index,
    /// Templated key → position in the index.
    exact: HashMap<String, u32>,
    /// Index position → the model entry it stands for (the first entry whose
    /// key templates to it).
    entry_of: Vec<u32>,
    /// Every token of the templated keys: what the baseline has seen.
    tokens: HashSet<String>,
}

impl Baseline {
    /// Template every entry's key, vectorize the distinct results (on all
    /// cores) and index them.
    pub fn new(model: Model) -> Baseline {
        let vectorizer = Vectorizer::new(model.settings.n_features, model.settings.tokenizer);
        let templater = Templater::for_model(&model);
        let mut exact: HashMap<String, u32> = HashMap::with_capacity(model.entries.len());
        let mut keys: Vec<String> = Vec::with_capacity(model.entries.len());
        let mut entry_of: Vec<u32> = Vec::with_capacity(model.entries.len());
        for (i, entry) in model.entries.iter().enumerate() {
            let key = templater.apply(&entry.key);
            if !exact.contains_key(key.as_ref()) {
                exact.insert(key.to_string(), keys.len() as u32);
                keys.push(key.into_owned());
                entry_of.push(i as u32);
            }
        }
        let vectors: Vec<SparseVec> = keys.par_iter().map(|k| vectorizer.vectorize(k)).collect();
        let index = Index::new(vectors);
        let tokens = keys.iter().flat_map(|k| k.split(' ')).map(str::to_owned).collect();
        let sources = model.sources.iter().map(|s| Arc::from(s.path.as_str())).collect();
        Baseline {
            model,
            sources,
            vectorizer,
            index,
            exact,
            entry_of,
            tokens,
        }
    }

    /// The tokens of `key`, as compared, that no baseline key has: what is new
    /// in it, in order, each once, at most [`NOVEL_TOKENS`].
    pub fn novel(&self, key: &str) -> Vec<String> {
        let key = self.template(key);
        let mut novel: Vec<String> = Vec::new();
        for token in key.split(' ') {
            if novel.len() >= NOVEL_TOKENS {
                break;
            }
            if !token.is_empty() && !self.tokens.contains(token) && !novel.iter().any(|t| t == token) {
                novel.push(token.to_owned());
            }
        }
        novel
    }

    /// Why a key scored as it did: its nearest baseline record and its new tokens.
    pub fn explain(&self, key: &str, scored: Scored) -> Explanation {
        Explanation {
            nearest: scored.nearest.and_then(|id| self.nearest(id)),
            novel: self.novel(key),
        }
    }

    /// `key` as the baseline compares it: with the words that vary between
    /// the baseline's runs templated away.
    pub fn template<'k>(&self, key: &'k str) -> std::borrow::Cow<'k, str> {
        Templater::for_model(&self.model).apply(key)
    }

    /// The model behind this baseline.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Search space for one thread's calls to [`Baseline::score`].
    pub fn scratch(&self) -> Scratch {
        Scratch::new(&self.index)
    }

    /// Score one key: the mean distance to its `k` nearest baseline entries, and
    /// the nearest entry (none when nothing in the baseline shares a word with it).
    pub fn score(&self, key: &str, k: usize, scratch: &mut Scratch) -> Scored {
        if key.is_empty() {
            // Nothing left after normalization (a blank or all-number line): no evidence either way.
            return Scored {
                score: 0.0,
                nearest: None,
            };
        }
        let key = self.template(key);
        let key = key.as_ref();
        if k == 1 {
            if let Some(&at) = self.exact.get(key) {
                return Scored {
                    score: 0.0,
                    nearest: self.entry_of.get(at as usize).copied(),
                };
            }
        }
        let query = self.vectorizer.vectorize(key);
        let neighbours = self.index.search(&query, k, scratch);
        if neighbours.is_empty() {
            return Scored {
                score: 1.0,
                nearest: None,
            };
        }
        let score = neighbours.iter().map(|n| n.distance).sum::<f64>() / neighbours.len() as f64;
        let nearest = neighbours
            .first()
            .filter(|n| n.distance < 1.0)
            .and_then(|n| self.entry_of.get(n.id as usize).copied());
        Scored { score, nearest }
    }

    /// The baseline record a model entry id stands for.
    pub fn nearest(&self, id: u32) -> Option<Nearest> {
        let entry = self.model.entries.get(id as usize)?;
        Some(Nearest {
            source: self.sources.get(entry.source as usize)?.clone(),
            line: entry.line,
            text: entry.text.clone(),
        })
    }
}

/// The score of one distinct key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// Mean cosine distance to the `k` nearest baseline entries, in `[0, 1]`: 1 when nothing in
    /// the baseline shares a word with the key, 0 for an empty key.
    pub score: f64,
    /// The nearest model entry's index in [`Model::entries`] (see [`Baseline::nearest`]); `None`
    /// when the key is empty or nothing in the baseline shares a word with it.
    pub nearest: Option<u32>,
}

/// How to score.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    /// Neighbours averaged into a score.
    pub k: usize,
    /// The input format, or `None` to detect it per input.
    pub format: Option<Format>,
    /// What is reported.
    pub selection: Selection,
    /// Whether each input's profile gets a [`Sketch`](crate::report::sketch::Sketch) of all its scored
    /// records (for the HTML report's plots).
    pub sketch: bool,
}

impl Default for ScoreOptions {
    /// k 1, the format detected, records above
    /// [`crate::commands::DEFAULT_THRESHOLD`] reported with no context, no sketch.
    fn default() -> ScoreOptions {
        ScoreOptions {
            k: 1,
            format: None,
            selection: Selection {
                threshold: crate::commands::DEFAULT_THRESHOLD,
                before: 0,
                after: 0,
                overlap: false,
            },
            sketch: false,
        }
    }
}

/// What scoring one input found.
struct InputScore {
    stats: InputStats,
    unique: u64,
    profile: InputProfile,
}

/// Score every record of `inputs` against `baseline` and hand the anomalies to
/// `sink` in input order, then finish the sink with the run's summary.
///
/// Several files are scored in parallel, a few at a time, their anomalies held
/// until the files before them are out; standard input or a single file streams.
pub fn score(
    baseline: &Baseline,
    inputs: &[Input],
    options: &ScoreOptions,
    sink: &mut dyn Sink,
    progress: &Progress,
) -> Result<(Summary, Vec<InputStats>), Error> {
    let started = Instant::now();
    let mut summary = Summary {
        inputs: inputs.len(),
        k: options.k,
        threshold: options.selection.threshold,
        baseline_records: baseline.model.records(),
        baseline_unique: baseline.model.entries.len() as u64,
        ..Summary::default()
    };
    let mut stats = Vec::with_capacity(inputs.len());
    let mut tally = |scored: InputScore, summary: &mut Summary| {
        summary.records += scored.stats.records;
        summary.unique += scored.unique;
        summary.anomalies += scored.profile.anomalies;
        summary.violations += scored.profile.violations.iter().map(|v| v.count).sum::<u64>();
        summary.per_input.push(scored.profile);
        summary.truncated_lines += scored.stats.truncated;
        stats.push(scored.stats);
    };
    let parallel = inputs.len() > 1 && !inputs.iter().any(|i| matches!(i, Input::Stdin));
    if parallel {
        let window = 4 * rayon::current_num_threads().max(1);
        for batch in inputs.chunks(window) {
            let results: Vec<Result<(Collect, InputScore), Error>> = batch
                .par_iter()
                .map(|input| {
                    let mut held = Collect::default();
                    let scored = score_input(baseline, input, options, &mut held, progress)?;
                    Ok((held, scored))
                })
                .collect();
            for result in results {
                let (held, scored) = result?;
                for anomaly in &held.anomalies {
                    sink.anomaly(anomaly).map_err(Error::Output)?;
                }
                tally(scored, &mut summary);
            }
        }
    } else {
        for input in inputs {
            let scored = score_input(baseline, input, options, sink, progress)?;
            tally(scored, &mut summary);
        }
    }
    summary.elapsed = started.elapsed();
    sink.finish(&summary).map_err(Error::Output)?;
    Ok((summary, stats))
}

/// Score one input, handing its anomalies to `sink` as they are found.
fn score_input(
    baseline: &Baseline,
    input: &Input,
    options: &ScoreOptions,
    sink: &mut dyn Sink,
    progress: &Progress,
) -> Result<InputScore, Error> {
    let mut scorer = InputScorer::new(baseline, options, &input.name(), MAX_CACHED_KEYS);
    let stats = read_records(input, options.format, progress, |chunk| scorer.chunk(chunk, sink))?;
    let unique = scorer.unique();
    let profile = scorer.end(sink)?;
    Ok(InputScore { stats, unique, profile })
}
