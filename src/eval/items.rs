//! Items: whole traces or sessions, each scored as one unit.
//!
//! Where labels belong to a whole trace (ADFA-LD) or a whole session (HDFS), the
//! natural unit to compare is the item itself, read as the sequence of its
//! events: the syscall names of a trace, the event ids of a session. This
//! module reads items, turns them into vectors and scores them against the
//! baseline's items in three ways:
//!
//! - [`BagScorer`]: the cosine distance to the `k` nearest baseline items, each
//!   item a bag of its n-grams (orders 1 to n), weighted binary, by count or by
//!   tf-idf. An item with an event the baseline never had can score 1 outright
//!   ([`Unseen::Alarm`]): a call nobody made before is the plainest news.
//! - [`StideScorer`]: the share of the item's windows of `n` consecutive
//!   events that no baseline item contains (after Forrest et al.'s stide).
//! - [`bag_features`] for the supervised forest in [`super::forest`].
//!
//! Both scorers also give each baseline item's leave-one-out score: what it
//! would score if it were left out of the baseline. Their largest value is a
//! threshold chosen from known-good data alone (no known-good item would be
//! flagged), the way a user without labelled attacks has to choose one.
//!
//! Events are exact (interned strings and their n-grams), not hashed: an
//! evaluation should not be blurred by collisions. This module does not
//! compute metrics (that is [`super`]) or learn a model file.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use rayon::prelude::*;

use crate::index::Index;
use crate::parse::Format;
use crate::pipeline::{self, Error};
use crate::progress::Progress;
use crate::read::{Input, Lines, ReadError};
use crate::vectorize::SparseVec;

/// Events, interned: one id per distinct event string.
#[derive(Debug, Default)]
pub struct Vocabulary {
    ids: HashMap<String, u32>,
}

impl Vocabulary {
    /// The id of `event`, new ones numbered from 0 in order of appearance.
    pub fn id(&mut self, event: &str) -> u32 {
        if let Some(&id) = self.ids.get(event) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(event.to_owned(), id);
        id
    }

    /// The sequence of ids of `events`.
    pub fn sequence<S: AsRef<str>>(&mut self, events: &[S]) -> Vec<u32> {
        events.iter().map(|e| self.id(e.as_ref())).collect()
    }

    /// How many distinct events there are.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no event has been seen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Every input read as one trace (on all cores): the sequence of its events.
pub fn read_traces(
    inputs: &[Input],
    forced: Option<Format>,
    progress: &Progress,
    vocabulary: &mut Vocabulary,
) -> Result<Vec<Vec<u32>>, Error> {
    let traces: Vec<Result<Vec<String>, Error>> = inputs
        .par_iter()
        .map(|input| pipeline::trace_events(input, forced, progress))
        .collect();
    traces
        .into_iter()
        .map(|events| events.map(|events| vocabulary.sequence(&events)))
        .collect()
}

/// Every non-blank line of the inputs as one item: its whitespace-separated
/// words, taken as they are (a session of event ids, say; no normalization).
pub fn read_line_items(inputs: &[Input], vocabulary: &mut Vocabulary) -> Result<Vec<Vec<u32>>, ReadError> {
    let mut items = Vec::new();
    for input in inputs {
        each_line(input, |_, line| {
            let words: Vec<&str> = line.split_ascii_whitespace().collect();
            if !words.is_empty() {
                items.push(vocabulary.sequence(&words));
            }
            Ok(())
        })?;
    }
    Ok(items)
}

/// Why a labelled file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The file could not be found, opened or read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The text after a line's last comma is not a whole number (and the line is not the first).
    #[error("{path}:{line}: the label `{label}` is not a whole number (0 for normal, any other for an attack)")]
    BadLabel {
        /// The input's name (see [`Input::name`]).
        path: String,
        /// The line's number, from 1.
        line: u64,
        /// The label as found, trimmed and cut to its first 40 characters.
        label: String,
    },
    /// A non-blank line has no comma.
    #[error("{path}:{line}: no label: a line should end with `,LABEL`")]
    NoLabel {
        /// The input's name (see [`Input::name`]).
        path: String,
        /// The line's number, from 1.
        line: u64,
    },
}

/// The items of CSV files whose lines are `EVENTS,LABEL` (as HDFS session
/// files are shared): the events whitespace-separated, the label `0` for
/// normal and any other whole number for an attack. A first line whose label
/// is not a number is a header and skipped. Returns the items and whether each
/// is an attack.
pub fn read_labelled(inputs: &[Input], vocabulary: &mut Vocabulary) -> Result<(Vec<Vec<u32>>, Vec<bool>), LabelError> {
    let mut items = Vec::new();
    let mut attack = Vec::new();
    for input in inputs {
        each_line(input, |n, line| {
            if line.trim().is_empty() {
                return Ok(());
            }
            let Some((events, label)) = line.rsplit_once(',') else {
                return Err(LabelError::NoLabel {
                    path: input.name(),
                    line: n,
                });
            };
            let label = label.trim();
            match label.parse::<i64>() {
                Ok(value) => {
                    let words: Vec<&str> = events.split_ascii_whitespace().collect();
                    items.push(vocabulary.sequence(&words));
                    attack.push(value != 0);
                    Ok(())
                }
                Err(_) if n == 1 => Ok(()), // a header
                Err(_) => Err(LabelError::BadLabel {
                    path: input.name(),
                    line: n,
                    label: label.chars().take(40).collect(),
                }),
            }
        })?;
    }
    Ok((items, attack))
}

/// Calls `each` with every line of `input` and its number, stopping at the first error.
fn each_line<E: From<ReadError>>(input: &Input, mut each: impl FnMut(u64, &str) -> Result<(), E>) -> Result<(), E> {
    let reader: Box<dyn BufRead + Send> = input.open()?;
    let mut lines = Lines::new(reader);
    let mut line = String::new();
    while let Some(n) = lines.next_line(&mut line).map_err(|e| input.error(e))? {
        each(n, &line)?;
    }
    Ok(())
}

/// How the n-grams of a bag are weighted before the vector is normalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Weight {
    /// 1 for every n-gram present: which things happen, not how often.
    Binary,
    /// How often each n-gram occurs.
    Counts,
    /// Counts times the inverse document frequency over the baseline's items
    /// (`ln((1 + n) / (1 + df)) + 1`, as scikit-learn smooths it).
    TfIdf,
}

/// What an item with an event the baseline never had scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unseen {
    /// 1, the highest score, whatever its distance.
    Alarm,
    /// Its distance, like any other item.
    Distance,
}

crate::choices!(Weight {
    Weight::Binary => "binary", "1 for every n-gram present";
    Weight::Counts => "counts", "how often each n-gram occurs";
    Weight::TfIdf => "tf-idf", "counts times the n-gram's inverse document frequency among the baseline's items";
});

crate::choices!(Unseen {
    Unseen::Alarm => "alarm", "an item with an event the baseline never had scores 1";
    Unseen::Distance => "distance", "it scores its distance, like any item";
});

/// The n-grams of orders 1 to `n` of the items, numbered: each item as counts per n-gram id.
struct Grams {
    ids: HashMap<Box<[u32]>, u32>,
}

impl Grams {
    fn new() -> Grams {
        Grams { ids: HashMap::new() }
    }

    /// The n-gram counts of `item`, by id; ids are handed out to new n-grams.
    fn count(&mut self, item: &[u32], n: usize) -> Vec<(u32, u32)> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for order in 1..=n.max(1) {
            for gram in item.windows(order) {
                let next = self.ids.len() as u32;
                let id = match self.ids.get(gram) {
                    Some(&id) => id,
                    None => {
                        self.ids.insert(gram.into(), next);
                        next
                    }
                };
                *counts.entry(id).or_default() += 1;
            }
        }
        let mut counts: Vec<(u32, u32)> = counts.into_iter().collect();
        counts.sort_unstable();
        counts
    }
}

/// The weighted, L2-normalized vector of n-gram counts.
fn weigh(counts: &[(u32, u32)], weight: Weight, idf: &dyn Fn(u32) -> f64) -> SparseVec {
    let values: Vec<f64> = counts
        .iter()
        .map(|&(id, count)| match weight {
            Weight::Binary => 1.0,
            Weight::Counts => f64::from(count),
            Weight::TfIdf => f64::from(count) * idf(id),
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    SparseVec {
        indices: counts.iter().map(|&(id, _)| id).collect(),
        values: if norm > 0.0 {
            values.iter().map(|v| v / norm).collect()
        } else {
            values
        },
    }
}

/// Document frequencies of n-gram ids over the baseline's items.
fn document_frequencies(counts: &[Vec<(u32, u32)>]) -> HashMap<u32, u32> {
    let mut df: HashMap<u32, u32> = HashMap::new();
    for item in counts {
        for &(id, _) in item {
            *df.entry(id).or_default() += 1;
        }
    }
    df
}

/// The parameters of the bag method.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct BagParams {
    /// n-grams of orders 1 to `ngram`.
    pub ngram: usize,
    /// How the n-grams of a bag are weighted before the vector is normalized.
    pub weight: Weight,
    /// Score by the mean distance to the `k` nearest baseline items.
    pub k: usize,
    /// What an item with an event the baseline never had scores.
    pub unseen: Unseen,
}

/// Baseline items as bags of n-grams, searchable by cosine distance.
pub struct BagScorer {
    params: BagParams,
    grams: Grams,
    df: HashMap<u32, u32>,
    baseline_items: usize,
    baseline_events: HashSet<u32>,
    vectors: Vec<SparseVec>,
    index: Index,
}

impl BagScorer {
    /// Index the baseline's items.
    pub fn new(baseline: &[Vec<u32>], params: BagParams) -> BagScorer {
        let mut grams = Grams::new();
        let counts: Vec<Vec<(u32, u32)>> = baseline.iter().map(|item| grams.count(item, params.ngram)).collect();
        let df = document_frequencies(&counts);
        let baseline_events = baseline.iter().flatten().copied().collect();
        let mut scorer = BagScorer {
            params,
            grams,
            df,
            baseline_items: baseline.len(),
            baseline_events,
            vectors: Vec::new(),
            index: Index::default(),
        };
        scorer.vectors = counts.iter().map(|c| scorer.vector_of_counts(c)).collect();
        scorer.index = Index::new(scorer.vectors.clone());
        scorer
    }

    fn idf(&self, id: u32) -> f64 {
        let n = self.baseline_items as f64;
        let df = self.df.get(&id).copied().unwrap_or(0) as f64;
        ((1.0 + n) / (1.0 + df)).ln() + 1.0
    }

    fn vector_of_counts(&self, counts: &[(u32, u32)]) -> SparseVec {
        weigh(counts, self.params.weight, &|id| self.idf(id))
    }

    /// The vector of an item: its n-grams as the baseline numbers them (new
    /// n-grams get new ids, which no baseline vector has).
    pub fn vector(&mut self, item: &[u32]) -> SparseVec {
        let counts = self.grams.count(item, self.params.ngram);
        self.vector_of_counts(&counts)
    }

    /// Scores of test items, on all cores.
    pub fn score_all(&mut self, items: &[Vec<u32>]) -> Vec<f64> {
        let vectors: Vec<SparseVec> = items.iter().map(|item| self.vector(item)).collect();
        let this = &*self;
        items
            .par_iter()
            .zip(vectors.par_iter())
            .map_init(
                || crate::index::Scratch::new(&this.index),
                |scratch, (item, vector)| {
                    if this.params.unseen == Unseen::Alarm && item.iter().any(|e| !this.baseline_events.contains(e)) {
                        return 1.0;
                    }
                    mean_distance(&this.index.search(vector, this.params.k, scratch), this.params.k)
                },
            )
            .collect()
    }

    /// Each baseline item's score against the other baseline items, in the
    /// order given to [`BagScorer::new`] (which must be `baseline` again).
    pub fn leave_one_out(&self, baseline: &[Vec<u32>]) -> Vec<f64> {
        // How many baseline items have each event.
        let mut holders: HashMap<u32, u32> = HashMap::new();
        for item in baseline {
            for &event in item.iter().collect::<HashSet<_>>() {
                *holders.entry(event).or_default() += 1;
            }
        }
        let k = self.params.k;
        (0..baseline.len())
            .into_par_iter()
            .map_init(
                || crate::index::Scratch::new(&self.index),
                |scratch, i| {
                    // An event only this item has would be unseen without it.
                    let alone = baseline[i].iter().any(|e| holders.get(e).copied().unwrap_or(0) <= 1);
                    if self.params.unseen == Unseen::Alarm && alone {
                        return 1.0;
                    }
                    let Some(vector) = self.vectors.get(i) else {
                        return 1.0;
                    };
                    let mut found = self.index.search(vector, k + 1, scratch);
                    match found.iter().position(|n| n.id as usize == i) {
                        Some(at) => {
                            found.remove(at);
                        }
                        None => {
                            found.pop();
                        }
                    }
                    mean_distance(&found, k)
                },
            )
            .collect()
    }
}

/// Distances below this are rounding noise: the distance of a unit vector to
/// itself comes out as 1e-16 or so, and a threshold must not hinge on that.
const ROUNDING: f64 = 1e-12;

/// The mean of the first `k` distances; missing neighbours count as 1.
fn mean_distance(found: &[crate::index::Neighbour], k: usize) -> f64 {
    let k = k.max(1);
    let sum: f64 = found
        .iter()
        .take(k)
        .map(|n| if n.distance < ROUNDING { 0.0 } else { n.distance })
        .sum();
    (sum + (k.saturating_sub(found.len())) as f64) / k as f64
}

/// The windows of `n` consecutive events of an item; a shorter item is one window.
fn item_windows(item: &[u32], n: usize) -> impl Iterator<Item = &[u32]> {
    let n = n.max(1);
    let short = (item.len() < n && !item.is_empty()).then_some(item);
    item.windows(n).chain(short)
}

/// The baseline's windows of `n` events, for the stide score.
pub struct StideScorer {
    n: usize,
    /// Each window, with the number of baseline items that contain it.
    windows: HashMap<Box<[u32]>, u32>,
}

impl StideScorer {
    /// Collect the windows of the baseline's items.
    pub fn new(baseline: &[Vec<u32>], n: usize) -> StideScorer {
        let mut windows: HashMap<Box<[u32]>, u32> = HashMap::new();
        for item in baseline {
            let distinct: HashSet<&[u32]> = item_windows(item, n).collect();
            for window in distinct {
                match windows.get_mut(window) {
                    Some(count) => *count += 1,
                    None => {
                        windows.insert(window.into(), 1);
                    }
                }
            }
        }
        StideScorer { n, windows }
    }

    /// The share of `item`'s windows the baseline has fewer than `min` items with (0 for an empty item).
    fn share(&self, item: &[u32], min: u32) -> f64 {
        let (mut all, mut unseen) = (0usize, 0usize);
        for window in item_windows(item, self.n) {
            all += 1;
            if self.windows.get(window).copied().unwrap_or(0) < min {
                unseen += 1;
            }
        }
        if all == 0 {
            0.0
        } else {
            unseen as f64 / all as f64
        }
    }

    /// The share of each item's windows that no baseline item has, on all cores.
    pub fn score_all(&self, items: &[Vec<u32>]) -> Vec<f64> {
        items.par_iter().map(|item| self.share(item, 1)).collect()
    }

    /// Each baseline item's score with itself left out: its windows that no
    /// other baseline item has count as unseen.
    pub fn leave_one_out(&self, baseline: &[Vec<u32>]) -> Vec<f64> {
        baseline.par_iter().map(|item| self.share(item, 2)).collect()
    }
}

/// Each item as sparse features for the forest: its n-gram counts divided by
/// the item's length (so long and short traces compare), ids shared by all items.
pub fn bag_features(items: &[Vec<u32>], ngram: usize) -> Vec<Vec<(u32, f32)>> {
    let mut grams = Grams::new();
    items
        .iter()
        .map(|item| {
            let length = item.len().max(1) as f32;
            grams
                .count(item, ngram)
                .into_iter()
                .map(|(id, count)| (id, count as f32 / length))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &[&str], vocabulary: &mut Vocabulary) -> Vec<Vec<u32>> {
        text.iter()
            .map(|t| vocabulary.sequence(&t.split_whitespace().collect::<Vec<_>>()))
            .collect()
    }

    fn params(weight: Weight, unseen: Unseen) -> BagParams {
        BagParams {
            ngram: 1,
            weight,
            k: 1,
            unseen,
        }
    }

    #[test]
    fn bags_by_hand() {
        let mut v = Vocabulary::default();
        let baseline = items(&["a b", "a b b", "c"], &mut v);
        let test = items(&["b a", "a c", "a b d"], &mut v);
        let mut bag = BagScorer::new(&baseline, params(Weight::Binary, Unseen::Distance));
        let scores = bag.score_all(&test);
        // "b a" is the bag {a, b}: distance 0. "a c" is nearer {c} (cos 1/√2)
        // than {a, b} (cos 1/2). "a b d" vs {a, b}: cos = 2/(√3·√2).
        assert_eq!(scores[0], 0.0);
        assert!((scores[1] - (1.0 - 1.0 / 2f64.sqrt())).abs() < 1e-12);
        assert!((scores[2] - (1.0 - 2.0 / 6f64.sqrt())).abs() < 1e-12);
        // With counts, "a b b" is nearer to itself than "a b" is.
        let mut counts = BagScorer::new(&baseline, params(Weight::Counts, Unseen::Distance));
        let probe = items(&["a b b"], &mut v);
        assert_eq!(counts.score_all(&probe)[0], 0.0);
        // An unseen event alarms outright.
        let mut alarm = BagScorer::new(&baseline, params(Weight::Binary, Unseen::Alarm));
        assert_eq!(alarm.score_all(&test)[2], 1.0);
        assert_eq!(alarm.score_all(&test)[1], scores[1]);
    }

    #[test]
    fn leave_one_out_by_hand() {
        let mut v = Vocabulary::default();
        let baseline = items(&["a b", "a b", "a c", "d"], &mut v);
        let bag = BagScorer::new(&baseline, params(Weight::Binary, Unseen::Distance));
        let loo = bag.leave_one_out(&baseline);
        // A repeated item has a twin at 0; "a c" is nearest "a b" at 1/2; "d" shares nothing.
        assert_eq!(loo[0], 0.0);
        assert_eq!(loo[1], 0.0);
        assert!((loo[2] - 0.5).abs() < 1e-12);
        assert_eq!(loo[3], 1.0);
        // Alarming on unseen events: "a c" alone has c, "d" alone has d.
        let alarm = BagScorer::new(&baseline, params(Weight::Binary, Unseen::Alarm));
        assert_eq!(alarm.leave_one_out(&baseline), vec![0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn tfidf_weighs_rare_grams_up() {
        let mut v = Vocabulary::default();
        // "a" is in every baseline item, "x" in one: idf(a) = 1, idf(x) = ln(4/2) + 1.
        let baseline = items(&["a x", "a", "a"], &mut v);
        let mut bag = BagScorer::new(&baseline, params(Weight::TfIdf, Unseen::Distance));
        let vector = bag.vector(&items(&["a x"], &mut v)[0]);
        let idf_x = 2f64.ln() + 1.0;
        let norm = (1.0 + idf_x * idf_x).sqrt();
        assert!((vector.values[0] - 1.0 / norm).abs() < 1e-12);
        assert!((vector.values[1] - idf_x / norm).abs() < 1e-12);
    }

    #[test]
    fn stide_by_hand() {
        let mut v = Vocabulary::default();
        let baseline = items(&["a b c d", "a b c e"], &mut v);
        let stide = StideScorer::new(&baseline, 3);
        let test = items(&["a b c d", "b c e a", "x", "a b"], &mut v);
        // Windows of "b c e a": bce (seen), cea (not) → 1/2. "x" and "a b": one short window each, unseen.
        assert_eq!(stide.score_all(&test), vec![0.0, 0.5, 1.0, 1.0]);
        // Left out, "a b c d" keeps abc (in the other item) and loses bcd → 1/2.
        assert_eq!(stide.leave_one_out(&baseline), vec![0.5, 0.5]);
    }

    #[test]
    fn ngrams_of_every_order_up_to_n() {
        let mut v = Vocabulary::default();
        let item = items(&["a b a b"], &mut v);
        let mut grams = Grams::new();
        // Orders 1 and 2: a×2, b×2, ab×2, ba×1.
        let counts = grams.count(&item[0], 2);
        let mut values: Vec<u32> = counts.iter().map(|&(_, c)| c).collect();
        values.sort_unstable();
        assert_eq!(values, vec![1, 2, 2, 2]);
    }

    #[test]
    fn labelled_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "Sequence,label\n5 5 22,0\n5 22 9,1\n\n").unwrap();
        let mut v = Vocabulary::default();
        let (items, attack) = read_labelled(&[Input::File(path.clone())], &mut v).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(attack, vec![false, true]);
        assert_eq!(items[0], vec![0, 0, 1]);
        std::fs::write(&path, "1 2,0\n3 4,maybe\n").unwrap();
        let err = read_labelled(&[Input::File(path.clone())], &mut v).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("s.csv:2: the label `maybe` is not a whole number (0 for normal, any other for an attack)"),
            "{err}"
        );
        std::fs::write(&path, "1 2\n").unwrap();
        let err = read_labelled(&[Input::File(path)], &mut v).unwrap_err();
        assert!(err.to_string().contains(":1: no label"), "{err}");
    }
}
