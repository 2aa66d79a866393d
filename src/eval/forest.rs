//! A supervised random forest, scored out of fold: the reference for `honk eval --method forest`.
//!
//! When labelled attack traces exist, this answers "how well could a classifier that has *seen*
//! attacks separate them, given the same features honk uses?". Each trace is a sparse feature
//! vector; stratified K-fold cross-validation gives every trace an attack probability from a forest
//! that was trained on the other folds only, so the scores can go straight into the ROC AUC and
//! detection-rate metrics of [`crate::eval`].
//!
//! It is a supervised upper reference, not honk's anomaly detector: it needs attack labels to
//! learn, it learns what the known attacks look like rather than what is unusual, and its scores say
//! nothing about unseen kinds of attack. It builds no model that is kept, and reads no files.
//!
//! The forest is a plain CART random forest written here (no external ML crate): Gini impurity,
//! a bootstrap sample per tree, a fresh random subset of features at every split, and leaves that
//! hold the attack share of their training samples. An item's probability is the mean of its
//! leaves' attack shares over all trees. Trees are grown in parallel with rayon; every random
//! choice comes from a seeded generator per fold and tree, so the output depends only on the
//! input and the seed, never on the number of threads.
//!
//! Features are kept sparse throughout (by row to follow a trace down a tree, by column to
//! gather a feature's non-zero values at a node), so memory grows with the number of non-zero
//! values, not with traces × distinct features.

use rayon::prelude::*;

/// Sparse feature vector: sorted, distinct feature indices with their values.
///
/// Absent indices are zero. Values must be finite. Unsorted or repeated indices are tolerated
/// (a repeated index keeps its first value), but not intended.
pub type Features = Vec<(u32, f32)>;

/// How the forests are grown.
///
/// Two choices are fixed rather than parameters. Bootstrap is always on: each tree is grown from
/// as many draws with replacement as there are training items. Each split tries `floor(sqrt(d))`
/// features (at least one), where `d` is the number of distinct features with a non-zero value in
/// the training folds; features that are constant within the node do not count towards that
/// number, so a split is found whenever one exists (as scikit-learn does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForestParams {
    /// Trees per forest (one forest per fold). Default 100.
    pub trees: usize,
    /// Most split levels from the root to a leaf; 0 makes every tree a single leaf. Default
    /// `usize::MAX`: no limit, trees grow until their leaves are pure or too small to split.
    pub max_depth: usize,
    /// Fewest distinct training items in a leaf; 0 is taken as 1. Default 1.
    pub min_samples_leaf: usize,
    /// Seed of every random choice (fold assignment, bootstrap samples, feature subsets). Default 0.
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            max_depth: usize::MAX,
            min_samples_leaf: 1,
            seed: 0,
        }
    }
}

/// Why out-of-fold scores cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForestError {
    /// Fewer than 2 folds were asked for; the field is the number asked for.
    #[error("cross-validation needs at least 2 folds, not {0}")]
    TooFewFolds(usize),
    /// One label has fewer items than there are folds, so some fold would lack it.
    #[error("there are {count} {class} items, fewer than the {folds} folds; every fold needs one of each label")]
    ClassTooSmall {
        /// The short label: `"normal"` or `"attack"`.
        class: &'static str,
        /// How many items have that label.
        count: usize,
        /// How many folds were asked for.
        folds: usize,
    },
    /// The feature vectors and the labels differ in number.
    #[error("there are {items} items but {labels} labels")]
    LengthMismatch {
        /// How many feature vectors were given.
        items: usize,
        /// How many labels were given.
        labels: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("item {item} has a feature value that is not a finite number")]
    NotFinite {
        /// The 0-based index of the first such item.
        item: usize,
    },
    /// `ForestParams::trees` is 0.
    #[error("a forest needs at least one tree")]
    NoTrees,
    /// There are more than `u32::MAX` items; the field is their number.
    #[error("there are {0} items, more than the 4,294,967,295 a forest can learn from")]
    TooManyItems(usize),
}

/// Out-of-fold attack probability for every item: stratified K-fold cross-validation (folds ≥ 2),
/// each fold's items scored by a forest trained on the other folds. Deterministic for a given seed.
///
/// Items are assigned to folds by shuffling each label's items with the seed and dealing them out
/// in turn, so every fold holds about `1/folds` of each label. A score is the mean over the fold's
/// trees of the attack share of the leaf the item reaches, in `0.0..=1.0`; `scores[i]` belongs to
/// `items[i]`.
///
/// Errors when `folds < 2`, when either label has fewer items than `folds`, when `items` and
/// `attack` differ in length, when a value is NaN or infinite, when `params.trees` is 0, or when
/// there are more than `u32::MAX` items.
pub fn cross_validated_scores(
    items: &[Features],
    attack: &[bool],
    folds: usize,
    params: &ForestParams,
) -> Result<Vec<f64>, ForestError> {
    if folds < 2 {
        return Err(ForestError::TooFewFolds(folds));
    }
    if items.len() != attack.len() {
        return Err(ForestError::LengthMismatch {
            items: items.len(),
            labels: attack.len(),
        });
    }
    if params.trees == 0 {
        return Err(ForestError::NoTrees);
    }
    if u32::try_from(items.len()).is_err() {
        return Err(ForestError::TooManyItems(items.len()));
    }
    let attacks = attack.iter().filter(|&&a| a).count();
    for (class, count) in [("normal", attack.len() - attacks), ("attack", attacks)] {
        if count < folds {
            return Err(ForestError::ClassTooSmall { class, count, folds });
        }
    }
    if let Some(item) = items.iter().position(|f| f.iter().any(|(_, v)| !v.is_finite())) {
        return Err(ForestError::NotFinite { item });
    }

    let fold_of = stratified_folds(attack, folds, params.seed);
    let mut scores = vec![0.0; items.len()];
    for fold in 0..folds {
        let (train, test): (Vec<usize>, Vec<usize>) = (0..items.len()).partition(|&i| fold_of[i] != fold);
        let data = TrainSet::new(items, attack, &train);
        let fold_seed = mix(params.seed ^ mix(fold as u64 ^ 0x666f_6c64));
        let trees: Vec<Tree> = (0..params.trees)
            .into_par_iter()
            .map(|t| TreeBuilder::new(&data, params, mix(fold_seed ^ mix(t as u64))).grow())
            .collect();
        let fold_scores: Vec<f64> = test
            .par_iter()
            .map(|&i| {
                let row = data.remap(&items[i]);
                trees.iter().map(|tree| tree.predict(&row)).sum::<f64>() / trees.len() as f64
            })
            .collect();
        for (&i, score) in test.iter().zip(fold_scores) {
            scores[i] = score;
        }
    }
    Ok(scores)
}

/// The fold of every item: each label's items shuffled, then dealt out round-robin, carrying the
/// turn over from one label to the next so that fold sizes differ by at most one.
fn stratified_folds(attack: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(mix(seed ^ 0x7374_7261_7469_6679));
    let mut fold_of = vec![0; attack.len()];
    let mut turn = 0;
    for label in [false, true] {
        let mut members: Vec<usize> = (0..attack.len()).filter(|&i| attack[i] == label).collect();
        rng.shuffle(&mut members);
        for i in members {
            fold_of[i] = turn % folds;
            turn += 1;
        }
    }
    fold_of
}

/// The training folds, with feature indices remapped to dense columns `0..d`, stored both by row
/// (CSR) and by column (CSC). Only non-zero values are stored.
struct TrainSet {
    /// The original feature index of each column, sorted.
    columns: Vec<u32>,
    attack: Vec<bool>,
    row_start: Vec<usize>,
    row_entries: Vec<(u32, f32)>,
    col_start: Vec<usize>,
    /// Training rows of each column with their values, in increasing order of value.
    col_entries: Vec<(u32, f32)>,
}

impl TrainSet {
    fn new(items: &[Features], attack: &[bool], train: &[usize]) -> TrainSet {
        let mut columns: Vec<u32> = train
            .iter()
            .flat_map(|&i| items[i].iter())
            .filter(|(_, v)| *v != 0.0)
            .map(|&(f, _)| f)
            .collect();
        columns.sort_unstable();
        columns.dedup();
        let mut set = TrainSet {
            columns,
            attack: train.iter().map(|&i| attack[i]).collect(),
            row_start: Vec::with_capacity(train.len() + 1),
            row_entries: Vec::new(),
            col_start: Vec::new(),
            col_entries: Vec::new(),
        };
        set.row_start.push(0);
        for &i in train {
            let row = set.remap(&items[i]);
            set.row_entries.extend_from_slice(&row);
            set.row_start.push(set.row_entries.len());
        }
        let mut counts = vec![0usize; set.columns.len() + 1];
        for &(c, _) in &set.row_entries {
            counts[c as usize + 1] += 1;
        }
        for c in 1..counts.len() {
            counts[c] += counts[c - 1];
        }
        set.col_start = counts.clone();
        set.col_entries = vec![(0, 0.0); set.row_entries.len()];
        for r in 0..train.len() {
            for &(c, v) in &set.row_entries[set.row_start[r]..set.row_start[r + 1]] {
                set.col_entries[counts[c as usize]] = (r as u32, v);
                counts[c as usize] += 1;
            }
        }
        for c in 0..set.columns.len() {
            let range = set.col_start[c]..set.col_start[c + 1];
            set.col_entries[range].sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        }
        set
    }

    fn rows(&self) -> usize {
        self.attack.len()
    }

    /// An item's non-zero values by column, sorted by column; features never seen in training
    /// are dropped (no tree can split on them).
    fn remap(&self, item: &Features) -> Vec<(u32, f32)> {
        let mut row: Vec<(u32, f32)> = item
            .iter()
            .filter(|(_, v)| *v != 0.0)
            .filter_map(|&(f, v)| self.columns.binary_search(&f).ok().map(|c| (c as u32, v)))
            .collect();
        row.sort_by_key(|&(c, _)| c);
        row.dedup_by_key(|&mut (c, _)| c);
        row
    }

    fn row(&self, r: u32) -> &[(u32, f32)] {
        &self.row_entries[self.row_start[r as usize]..self.row_start[r as usize + 1]]
    }

    fn column(&self, c: u32) -> &[(u32, f32)] {
        &self.col_entries[self.col_start[c as usize]..self.col_start[c as usize + 1]]
    }
}

/// The value of column `c` in a sparse row sorted by column.
fn value(row: &[(u32, f32)], c: u32) -> f32 {
    match row.binary_search_by_key(&c, |&(col, _)| col) {
        Ok(k) => row[k].1,
        Err(_) => 0.0,
    }
}

/// A node: a split when `left != 0` (the root is never a child), else a leaf.
#[derive(Clone, Copy, Debug)]
struct Node {
    column: u32,
    threshold: f32,
    left: u32,
    right: u32,
    /// A leaf's attack share.
    attack_share: f64,
}

struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The attack share of the leaf reached by a remapped row; `value <= threshold` goes left.
    fn predict(&self, row: &[(u32, f32)]) -> f64 {
        let mut at = 0;
        while let Some(node) = self.nodes.get(at) {
            if node.left == 0 {
                return node.attack_share;
            }
            at = if value(row, node.column) <= node.threshold {
                node.left
            } else {
                node.right
            } as usize;
        }
        0.0
    }
}

/// Weighted counts of a set of training items: bootstrap draws in total, draws of attack items,
/// and distinct items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    drawn: u32,
    attack: u32,
    items: u32,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.drawn += other.drawn;
        self.attack += other.attack;
        self.items += other.items;
    }

    fn minus(self, other: Counts) -> Counts {
        Counts {
            drawn: self.drawn - other.drawn,
            attack: self.attack - other.attack,
            items: self.items - other.items,
        }
    }

    /// Sum of squared class counts over the total: maximising its sum over the two children
    /// minimises their weighted Gini impurity.
    fn purity(self) -> f64 {
        let (a, n) = (self.attack as f64, (self.drawn - self.attack) as f64);
        (a * a + n * n) / self.drawn as f64
    }
}

/// A distinct feature value at a node with the counts of the items holding it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    value: f32,
    counts: Counts,
}

struct Split {
    column: u32,
    threshold: f32,
    purity: f64,
}

/// A column gathered through its own entries when it has at most this many per item in the node,
/// else through the node's rows.
const COLUMN_SCAN_FACTOR: usize = 4;

struct TreeBuilder<'a> {
    data: &'a TrainSet,
    max_depth: usize,
    min_leaf: u64,
    tries: usize,
    rng: Rng,
    /// Bootstrap draws of each training row.
    draws: Vec<u32>,
    /// The distinct drawn rows; every node owns a contiguous range of them.
    rows: Vec<u32>,
    /// Each training row's place in `rows`, `u32::MAX` when it was not drawn.
    place: Vec<u32>,
    /// Scratch: which of the node's rows go left.
    goes_left: Vec<bool>,
    /// All columns, shuffled in part at every node to pick the ones to try.
    columns: Vec<u32>,
    entries: Vec<Entry>,
}

impl<'a> TreeBuilder<'a> {
    fn new(data: &'a TrainSet, params: &ForestParams, seed: u64) -> TreeBuilder<'a> {
        let mut rng = Rng::new(seed);
        let n = data.rows();
        let mut draws = vec![0u32; n];
        for _ in 0..n {
            draws[rng.below(n)] += 1;
        }
        let rows: Vec<u32> = (0..n as u32).filter(|&r| draws[r as usize] > 0).collect();
        let mut place = vec![u32::MAX; n];
        for (p, &r) in rows.iter().enumerate() {
            place[r as usize] = p as u32;
        }
        let d = data.columns.len();
        TreeBuilder {
            data,
            max_depth: params.max_depth,
            min_leaf: params.min_samples_leaf.max(1) as u64,
            tries: ((d as f64).sqrt().floor() as usize).max(1),
            rng,
            draws,
            rows,
            place,
            goes_left: vec![false; n],
            columns: (0..d as u32).collect(),
            entries: Vec::new(),
        }
    }

    fn counts_of(&self, row: u32) -> Counts {
        let drawn = self.draws[row as usize];
        Counts {
            drawn,
            attack: if self.data.attack[row as usize] { drawn } else { 0 },
            items: 1,
        }
    }

    fn grow(mut self) -> Tree {
        let leaf = Node {
            column: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            attack_share: 0.0,
        };
        let mut nodes = vec![leaf];
        let mut pending = vec![(0usize, 0usize, self.rows.len(), 0usize)];
        while let Some((at, start, end, depth)) = pending.pop() {
            let mut total = Counts::default();
            for p in start..end {
                total.add(self.counts_of(self.rows[p]));
            }
            nodes[at].attack_share = if total.drawn == 0 {
                0.0
            } else {
                total.attack as f64 / total.drawn as f64
            };
            if total.attack == 0
                || total.attack == total.drawn
                || depth >= self.max_depth
                || u64::from(total.items) < 2 * self.min_leaf
            {
                continue;
            }
            let Some(split) = self.best_split(start, end, total) else {
                continue;
            };
            let middle = self.partition(start, end, split.column, split.threshold);
            let (left, right) = (nodes.len(), nodes.len() + 1);
            nodes.push(leaf);
            nodes.push(leaf);
            nodes[at] = Node {
                column: split.column,
                threshold: split.threshold,
                left: left as u32,
                right: right as u32,
                attack_share: nodes[at].attack_share,
            };
            pending.push((right, middle, end, depth + 1));
            pending.push((left, start, middle, depth + 1));
        }
        Tree { nodes }
    }

    /// The best split of the node over `tries` randomly chosen columns that are not constant in it.
    fn best_split(&mut self, start: usize, end: usize, total: Counts) -> Option<Split> {
        let mut best: Option<Split> = None;
        let mut tried = 0;
        let d = self.columns.len();
        for t in 0..d {
            if tried == self.tries {
                break;
            }
            let pick = t + self.rng.below(d - t);
            self.columns.swap(t, pick);
            let column = self.columns[t];
            if !self.gather(column, start, end, total) {
                continue;
            }
            tried += 1;
            let mut left = Counts::default();
            for k in 0..self.entries.len() - 1 {
                left.add(self.entries[k].counts);
                let (here, next) = (self.entries[k].value, self.entries[k + 1].value);
                if here == next {
                    continue;
                }
                let right = total.minus(left);
                if u64::from(left.items) < self.min_leaf || u64::from(right.items) < self.min_leaf {
                    continue;
                }
                let purity = left.purity() + right.purity();
                if best.as_ref().is_none_or(|b| purity > b.purity) {
                    best = Some(Split {
                        column,
                        threshold: midpoint(here, next),
                        purity,
                    });
                }
            }
        }
        best
    }

    /// Fill `entries` with the column's values at the node's rows in increasing order, all zeros as
    /// one entry. Returns whether the column takes more than one value there.
    fn gather(&mut self, column: u32, start: usize, end: usize, total: Counts) -> bool {
        self.entries.clear();
        let mut nonzero = Counts::default();
        let col = self.data.column(column);
        let zero_at = if col.len() <= COLUMN_SCAN_FACTOR * (end - start) {
            // The column's entries are sorted by value: keep those in the node, and leave a place
            // for the zeros between the negative and the positive values.
            let mut zero_at = None;
            for &(row, value) in col {
                if zero_at.is_none() && value > 0.0 {
                    zero_at = Some(self.entries.len());
                    self.entries.push(Entry {
                        value: 0.0,
                        counts: Counts::default(),
                    });
                }
                let p = self.place[row as usize] as usize;
                if (start..end).contains(&p) {
                    let counts = self.counts_of(row);
                    nonzero.add(counts);
                    self.entries.push(Entry { value, counts });
                }
            }
            zero_at.unwrap_or(self.entries.len())
        } else {
            for p in start..end {
                let row = self.rows[p];
                let value = value(self.data.row(row), column);
                if value != 0.0 {
                    let counts = self.counts_of(row);
                    nonzero.add(counts);
                    self.entries.push(Entry { value, counts });
                }
            }
            self.entries.sort_unstable_by(|a, b| a.value.total_cmp(&b.value));
            self.entries.partition_point(|e| e.value < 0.0)
        };
        let zeros = total.minus(nonzero);
        match (
            zeros.items > 0,
            self.entries.get(zero_at).is_some_and(|e| e.counts.items == 0),
        ) {
            (true, true) => self.entries[zero_at].counts = zeros,
            (true, false) => self.entries.insert(
                zero_at,
                Entry {
                    value: 0.0,
                    counts: zeros,
                },
            ),
            (false, true) => {
                self.entries.remove(zero_at);
            }
            (false, false) => {}
        }
        let first = self.entries.first().map_or(0.0, |e| e.value);
        self.entries.iter().any(|e| e.value != first)
    }

    /// Reorder the node's rows so that those going left come first; returns where the right ones start.
    fn partition(&mut self, start: usize, end: usize, column: u32, threshold: f32) -> usize {
        let col = self.data.column(column);
        if col.len() <= COLUMN_SCAN_FACTOR * (end - start) {
            // Every row goes the way of zero but those whose value lies on the other side of the
            // threshold: a run at one end of the sorted column.
            let zero_left = 0.0 <= threshold;
            for p in start..end {
                self.goes_left[self.rows[p] as usize] = zero_left;
            }
            let cut = col.partition_point(|&(_, v)| v <= threshold);
            let others = if zero_left { &col[cut..] } else { &col[..cut] };
            for &(row, _) in others {
                if (start..end).contains(&(self.place[row as usize] as usize)) {
                    self.goes_left[row as usize] = !zero_left;
                }
            }
        } else {
            for p in start..end {
                let row = self.rows[p];
                self.goes_left[row as usize] = value(self.data.row(row), column) <= threshold;
            }
        }
        let (mut i, mut j) = (start, end);
        while i < j {
            if self.goes_left[self.rows[i] as usize] {
                i += 1;
            } else {
                j -= 1;
                self.rows.swap(i, j);
            }
        }
        for p in start..end {
            self.place[self.rows[p] as usize] = p as u32;
        }
        i
    }
}

/// A threshold `t` with `low <= t < high`, halfway where floating point allows.
fn midpoint(low: f32, high: f32) -> f32 {
    let mid = low / 2.0 + high / 2.0;
    if low <= mid && mid < high {
        mid
    } else {
        low
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash, used to derive seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: small, fast and good enough for sampling.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for the sizes here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ROC AUC by counting pairs, ties as half.
    fn auc(scores: &[f64], attack: &[bool]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &a) in scores.iter().enumerate() {
            for (j, &b) in scores.iter().enumerate() {
                if attack[i] && !attack[j] {
                    pairs += 1.0;
                    wins += if a > b {
                        1.0
                    } else if a == b {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        wins / pairs
    }

    /// `n` items of 40 hashed features, about 12 non-zero each, from a seeded generator; every
    /// fourth item an attack. When `separable`, attacks carry a large value on feature 7_777_777
    /// and normal items do not.
    fn synthetic(n: usize, separable: bool, seed: u64) -> (Vec<Features>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let mut items = Vec::new();
        let mut attack = Vec::new();
        for i in 0..n {
            let is_attack = i % 4 == 0;
            let mut f: Features = Vec::new();
            for k in 0..40u32 {
                if rng.below(10) < 3 {
                    f.push((k.wrapping_mul(2_654_435_761), rng.below(1000) as f32 / 1000.0));
                }
            }
            if separable {
                f.push((
                    7_777_777,
                    if is_attack {
                        5.0 + rng.below(100) as f32 / 100.0
                    } else {
                        0.0
                    },
                ));
            }
            f.sort_by_key(|&(k, _)| k);
            items.push(f);
            attack.push(is_attack);
        }
        (items, attack)
    }

    #[test]
    fn separable_items_score_perfectly() {
        let (items, attack) = synthetic(300, true, 1);
        let params = ForestParams {
            trees: 30,
            ..ForestParams::default()
        };
        let scores = cross_validated_scores(&items, &attack, 5, &params).unwrap();
        assert_eq!(scores.len(), items.len());
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        assert_eq!(auc(&scores, &attack), 1.0);
    }

    #[test]
    fn shuffled_labels_score_near_chance() {
        let (items, mut attack) = synthetic(400, false, 2);
        Rng::new(3).shuffle(&mut attack);
        let params = ForestParams {
            trees: 30,
            ..ForestParams::default()
        };
        let scores = cross_validated_scores(&items, &attack, 5, &params).unwrap();
        let area = auc(&scores, &attack);
        assert!((0.35..0.65).contains(&area), "AUC {area}");
    }

    #[test]
    fn same_seed_same_scores_other_seed_other_scores() {
        let (items, attack) = synthetic(200, false, 4);
        let params = ForestParams {
            trees: 20,
            seed: 9,
            ..ForestParams::default()
        };
        let first = cross_validated_scores(&items, &attack, 3, &params).unwrap();
        let second = cross_validated_scores(&items, &attack, 3, &params).unwrap();
        assert_eq!(first, second);
        let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let third = one_thread
            .install(|| cross_validated_scores(&items, &attack, 3, &params))
            .unwrap();
        assert_eq!(first, third);
        let other = ForestParams { seed: 10, ..params };
        assert_ne!(first, cross_validated_scores(&items, &attack, 3, &other).unwrap());
    }

    #[test]
    fn bad_input_is_an_error() {
        let (items, attack) = synthetic(20, true, 5);
        let params = ForestParams::default();
        assert_eq!(
            cross_validated_scores(&items, &attack, 1, &params),
            Err(ForestError::TooFewFolds(1))
        );
        assert_eq!(
            cross_validated_scores(&items, &attack, 0, &params),
            Err(ForestError::TooFewFolds(0))
        );
        // 5 attacks among 20 items.
        assert_eq!(
            cross_validated_scores(&items, &attack, 6, &params),
            Err(ForestError::ClassTooSmall {
                class: "attack",
                count: 5,
                folds: 6
            })
        );
        let all_normal = vec![false; items.len()];
        assert_eq!(
            cross_validated_scores(&items, &all_normal, 2, &params),
            Err(ForestError::ClassTooSmall {
                class: "attack",
                count: 0,
                folds: 2
            })
        );
        assert_eq!(
            cross_validated_scores(&items, &attack[1..], 2, &params),
            Err(ForestError::LengthMismatch { items: 20, labels: 19 })
        );
        let no_trees = ForestParams { trees: 0, ..params };
        assert_eq!(
            cross_validated_scores(&items, &attack, 2, &no_trees),
            Err(ForestError::NoTrees)
        );
        let mut bad = items.clone();
        bad[3].push((u32::MAX, f32::NAN));
        assert_eq!(
            cross_validated_scores(&bad, &attack, 2, &params),
            Err(ForestError::NotFinite { item: 3 })
        );
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        // No features at all, duplicate and unsorted indices, explicit zeros, shallow trees.
        let attack = [false, true, false, true, false, true];
        let empty: Vec<Features> = vec![Vec::new(); 6];
        let scores = cross_validated_scores(&empty, &attack, 2, &ForestParams::default()).unwrap();
        // Every tree is a single leaf holding its bootstrap sample's attack share.
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
        let messy: Vec<Features> = (0..6)
            .map(|i| vec![(9, i as f32), (3, -0.0), (9, 1.0), (1, f32::MAX), (2, -f32::MAX)])
            .collect();
        let params = ForestParams {
            trees: 5,
            max_depth: 1,
            min_samples_leaf: 0,
            seed: 1,
        };
        let scores = cross_validated_scores(&messy, &attack, 3, &params).unwrap();
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn midpoint_stays_between() {
        assert_eq!(midpoint(1.0, 2.0), 1.5);
        assert_eq!(midpoint(-f32::MAX, f32::MAX), 0.0);
        let next = f32::from_bits(1.0f32.to_bits() + 1);
        let mid = midpoint(1.0, next);
        assert!((1.0..next).contains(&mid));
    }
}
