//! Index: exact k-nearest-neighbour search by cosine distance over the
//! baseline's sparse vectors.
//!
//! The baseline vectors come from [`crate::vectorize`] and have unit length, so
//! cosine similarity is a dot product and the distance is
//! `clamp(1 − dot, 0, 1)`. Results are exact: [`Index::search`] returns the
//! same neighbours, in the same order and with the same distance bits, as the
//! brute-force scan [`Index::brute_force`]. Ties in distance go to the smaller
//! id, i.e. the earlier baseline line. Vectors sharing no feature with the
//! query are at distance 1 and fill the result when too few others exist.
//!
//! How it stays fast:
//!
//! - Identical vectors are stored once. Normalized logs repeat themselves a
//!   lot, and a repeated line then costs one dot product instead of many.
//! - An inverted index (postings in CSR form: vector numbers and weights
//!   grouped by feature, found by binary search in a sorted feature array)
//!   yields the vectors that share a feature with the query.
//! - Query features are visited from the rarest to the most common, and
//!   before each one we bound the best cosine a vector not met yet could
//!   reach with the features left (per-feature maximum weights, and
//!   Cauchy–Schwarz; absolute values, so negative weights are fine). Once
//!   that bound cannot beat the k-th best distance so far, the remaining,
//!   longest postings are never read (MaxScore-style pruning).
//! - Short postings are scored vector by vector with exact dot products:
//!   this finds the near-duplicates of a typical line through its rare
//!   features and sets a high bar early. Long postings are summed
//!   term-at-a-time into per-vector partial dot products, much cheaper per
//!   entry. Partial sums only serve as bounds: whatever could still enter the
//!   top k gets an exact dot product, the same arithmetic as the brute force.
//!
//! The worst case (a query whose features are all common and which has no
//! close neighbour) reads all its postings, still far from a full scan.
//!
//! What it does not do: approximate search, incremental updates (build a new
//! index instead), or persistence (the model stores what it needs to rebuild
//! one). Weights of any sign and vectors of any length are accepted, and the
//! bounds stay valid for them; only "distance" assumes unit vectors.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::vectorize::{dot_sorted, SparseVec};

/// One neighbour of a query: a baseline id (its position in the vectors given
/// to [`Index::new`]) and its cosine distance, in `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// The neighbour's position in the vectors given to [`Index::new`].
    pub id: u32,
    /// `1 − cosine`, clamped to `[0, 1]`: 0 for the same direction, 1 for nothing in common.
    pub distance: f64,
}

/// The cosine distance for a cosine similarity. Vectors pointing away from
/// each other are as far as unrelated ones: honk cares about similarity only.
#[inline]
fn distance(cosine: f64) -> f64 {
    (1.0 - cosine).clamp(0.0, 1.0)
}

/// The result order: nearer first, then smaller id.
#[inline]
fn before(a: &Neighbour, b: &Neighbour) -> bool {
    a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)).is_lt()
}

/// Marks a vector number with no further vector of the same content hash.
const NONE: u32 = u32::MAX;

/// Exact cosine kNN over a fixed set of sparse vectors. `Sync`: search it from
/// many threads, each with its own [`Scratch`].
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// Number of ids (input vectors, duplicates included).
    len: u32,

    /// The distinct vectors in CSR form, numbered in order of their first id.
    vec_ptr: Vec<usize>,
    vec_idx: Vec<u32>,
    vec_val: Vec<f64>,
    /// Largest Euclidean norm of a vector (1 for unit vectors, up to rounding).
    max_norm: f64,

    /// The ids of each distinct vector, increasing: `member_ids[member_ptr[u]..member_ptr[u + 1]]`.
    member_ptr: Vec<u32>,
    member_ids: Vec<u32>,

    /// The inverted index: `features` sorted; feature `features[s]` is in the
    /// distinct vectors `post_ids[post_ptr[s]..post_ptr[s + 1]]` (increasing),
    /// with weights `post_val[..]` in the same positions.
    features: Vec<u32>,
    post_ptr: Vec<usize>,
    post_ids: Vec<u32>,
    post_val: Vec<f64>,
    /// Per feature, the largest absolute weight in its postings.
    max_abs: Vec<f64>,

    tuning: Tuning,
}

impl Index {
    /// Builds the index; the id of `vectors[i]` is `i`.
    ///
    /// Vectors should have strictly increasing indices, as
    /// [`crate::vectorize::Vectorizer`] produces; others are sorted (summing
    /// repeated indices) rather than rejected.
    ///
    /// # Panics
    ///
    /// If there are more than `u32::MAX` vectors (ids are `u32`); such a
    /// baseline would not fit in memory anyway.
    pub fn new(vectors: Vec<SparseVec>) -> Index {
        let len = u32::try_from(vectors.len())
            .unwrap_or_else(|_| panic!("an index holds at most {} vectors, got {}", u32::MAX, vectors.len()));
        let mut index = Index {
            len,
            vec_ptr: vec![0],
            ..Index::default()
        };

        // Deduplicate by content. Equality is on the exact bits of the values,
        // so that every member of a group has bit-identical dot products.
        let mut unique_of: Vec<u32> = Vec::with_capacity(vectors.len());
        let mut first_with_hash: HashMap<u64, u32> = HashMap::new();
        let mut next_with_hash: Vec<u32> = Vec::new();
        for vector in vectors {
            let vector = canonical(vector);
            let hash = content_hash(&vector);
            let mut candidate = first_with_hash.get(&hash).copied().unwrap_or(NONE);
            while candidate != NONE {
                if index.same_as(candidate, &vector) {
                    break;
                }
                candidate = next_with_hash[candidate as usize];
            }
            if candidate == NONE {
                // Fewer distinct vectors than ids, so this fits in u32.
                let u = (index.vec_ptr.len() - 1) as u32;
                next_with_hash.push(first_with_hash.insert(hash, u).unwrap_or(NONE));
                index.vec_idx.extend_from_slice(&vector.indices);
                index.vec_val.extend_from_slice(&vector.values);
                index.vec_ptr.push(index.vec_idx.len());
                let norm = vector.values.iter().map(|v| v * v).sum::<f64>().sqrt();
                index.max_norm = index.max_norm.max(norm);
                candidate = u;
            }
            unique_of.push(candidate);
        }
        drop(first_with_hash);
        drop(next_with_hash);
        index.group_members(&unique_of);
        index.build_postings();
        index
    }

    /// Counting sort of ids by distinct vector; ids stay increasing per group.
    fn group_members(&mut self, unique_of: &[u32]) {
        let n_unique = self.vec_ptr.len() - 1;
        let mut ptr = vec![0u32; n_unique + 1];
        for &u in unique_of {
            ptr[u as usize + 1] += 1;
        }
        for u in 0..n_unique {
            ptr[u + 1] += ptr[u];
        }
        let mut cursor = ptr.clone();
        let mut ids = vec![0u32; unique_of.len()];
        for (id, &u) in unique_of.iter().enumerate() {
            let slot = &mut cursor[u as usize];
            ids[*slot as usize] = id as u32;
            *slot += 1;
        }
        self.member_ptr = ptr;
        self.member_ids = ids;
    }

    /// Builds the CSR postings from the distinct vectors.
    fn build_postings(&mut self) {
        let mut features = self.vec_idx.clone();
        features.sort_unstable();
        features.dedup();
        features.shrink_to_fit();

        // Every index is in `features`, so the searches below succeed; the
        // fallback only keeps this panic-free.
        let slot_of = |f: u32| features.binary_search(&f).unwrap_or_else(|s| s.min(features.len() - 1));
        let mut ptr = vec![0usize; features.len() + 1];
        for &f in &self.vec_idx {
            ptr[slot_of(f) + 1] += 1;
        }
        for s in 0..features.len() {
            ptr[s + 1] += ptr[s];
        }
        let mut cursor = ptr.clone();
        let mut ids = vec![0u32; self.vec_idx.len()];
        let mut vals = vec![0f64; self.vec_idx.len()];
        let mut max_abs = vec![0f64; features.len()];
        for u in 0..self.vec_ptr.len() - 1 {
            let range = self.vec_ptr[u]..self.vec_ptr[u + 1];
            for (&f, &w) in self.vec_idx[range.clone()].iter().zip(&self.vec_val[range]) {
                let s = slot_of(f);
                ids[cursor[s]] = u as u32;
                vals[cursor[s]] = w;
                cursor[s] += 1;
                max_abs[s] = max_abs[s].max(w.abs());
            }
        }
        self.features = features;
        self.post_ptr = ptr;
        self.post_ids = ids;
        self.post_val = vals;
        self.max_abs = max_abs;
    }

    fn same_as(&self, u: u32, v: &SparseVec) -> bool {
        let (idx, val) = self.vector(u);
        idx == v.indices.as_slice()
            && val.len() == v.values.len()
            && val.iter().zip(&v.values).all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// The indices and values of distinct vector `u`.
    #[inline]
    fn vector(&self, u: u32) -> (&[u32], &[f64]) {
        let range = self.vec_ptr[u as usize]..self.vec_ptr[u as usize + 1];
        (&self.vec_idx[range.clone()], &self.vec_val[range])
    }

    /// The ids whose vector is distinct vector `u`, increasing.
    #[inline]
    fn members(&self, u: u32) -> &[u32] {
        &self.member_ids[self.member_ptr[u as usize] as usize..self.member_ptr[u as usize + 1] as usize]
    }

    fn n_unique(&self) -> usize {
        // `Index::default()` has no sentinel offset.
        self.vec_ptr.len().saturating_sub(1)
    }

    /// The number of ids (vectors given to [`Index::new`]).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when the index holds no vector.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of distinct vectors; searching costs scale with this.
    pub fn distinct_len(&self) -> usize {
        self.n_unique()
    }

    /// The `k` baseline vectors nearest to `query`, nearest first, ties to the
    /// smaller id. Fewer than `k` only when the index is smaller. An empty
    /// query has no neighbours.
    ///
    /// `query` should have strictly increasing indices (see
    /// [`crate::vectorize::Vectorizer`]); others are sorted first, at a cost.
    pub fn search(&self, query: &SparseVec, k: usize, scratch: &mut Scratch) -> Vec<Neighbour> {
        if k == 0 || self.is_empty() || query.is_empty() {
            return Vec::new();
        }
        if is_canonical(query) {
            self.run(&query.indices, &query.values, k, scratch);
        } else {
            let sorted = canonical(query.clone());
            self.run(&sorted.indices, &sorted.values, k, scratch);
        }
        scratch.top.clone()
    }

    /// The reference: a dot product with every vector, then a sort. Same
    /// results as [`Index::search`]; meant for tests and cross-checks.
    pub fn brute_force(&self, query: &SparseVec, k: usize) -> Vec<Neighbour> {
        if k == 0 || self.is_empty() || query.is_empty() {
            return Vec::new();
        }
        let query = canonical(query.clone());
        let mut all = Vec::with_capacity(self.len());
        for u in 0..self.n_unique() as u32 {
            let (idx, val) = self.vector(u);
            let d = distance(dot_sorted(&query.indices, &query.values, idx, val));
            all.extend(self.members(u).iter().map(|&id| Neighbour { id, distance: d }));
        }
        all.sort_unstable_by(|a, b| a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)));
        all.truncate(k);
        all
    }

    /// The search proper; leaves the result in `scratch.top`.
    fn run(&self, q_idx: &[u32], q_val: &[f64], k: usize, scratch: &mut Scratch) {
        let gen = scratch.begin(self.n_unique());
        let open = gen + 1;
        let Scratch {
            marks,
            touched,
            best,
            terms,
            suffix,
            top,
            ..
        } = scratch;
        let query = Query { idx: q_idx, val: q_val };

        // The query features that some baseline vector has, rarest first.
        terms.clear();
        for (&f, &q) in q_idx.iter().zip(q_val) {
            if let Ok(s) = self.features.binary_search(&f) {
                let len = self.post_ptr[s + 1] - self.post_ptr[s];
                let ub = q.abs() * self.max_abs[s].min(self.max_norm);
                terms.push(Term { slot: s, q, len, ub });
            }
        }
        terms.sort_unstable_by_key(|t| (t.len, t.slot));

        // suffix[i]: what the terms i.. can still contribute to a vector that
        // has none of the terms before i.
        suffix.clear();
        suffix.resize(terms.len() + 1, Suffix::default());
        for i in (0..terms.len()).rev() {
            let t = &terms[i];
            let next = suffix[i + 1];
            suffix[i] = Suffix {
                ub: next.ub + t.ub,
                sq: next.sq + t.q * t.q,
                len: next.len + t.len,
            };
        }
        // Rounding in the bounds, in dot products and in accumulated sums is
        // far below this; it only keeps the pruning safe.
        let margin = 1e-9 * (1.0 + suffix[0].ub);
        let bound = |s: Suffix| s.ub.min(s.sq.sqrt() * self.max_norm) + margin;
        // Bounds the rounding of a single-precision partial sum: at most
        // `terms.len()` conversions and as many additions, each off by at
        // most 2^-24 of the sum of magnitudes, itself ≤ `suffix[0].ub`; with
        // a factor 2 to spare.
        let slack = if suffix[0].ub < 1e30 {
            (terms.len() as f64 + 1.0) * 2.0 * f64::from(f32::EPSILON) * (1.0 + suffix[0].ub)
        } else {
            // Products could overflow single precision: trust no sum.
            f64::INFINITY
        };
        let tuning = self.tuning;

        // Phase 1: short postings, every new vector scored exactly. Cheap, and
        // finds near-duplicates through their rare features early, which
        // tightens the k-th best distance before the long lists.
        let mut i = 0;
        let mut exact = 0; // postings scored one vector at a time so far
        while i < terms.len() {
            if cannot_enter(top, k, bound(suffix[i])) {
                // Only vectors with none of the terms so far are unscored,
                // and they cannot qualify.
                return;
            }
            let t = terms[i];
            let after = suffix[i + 1];
            exact += t.len;
            if t.len > tuning.short_postings && exact.saturating_mul(tuning.exact_cost) > after.len {
                // Scoring vectors one at a time would have cost more than
                // reading everything left: this is no longer a bet worth making.
                break;
            }
            let after_norm = after.sq.sqrt();
            let range = self.post_ptr[t.slot]..self.post_ptr[t.slot + 1];
            for (&u, &w) in self.post_ids[range.clone()].iter().zip(&self.post_val[range]) {
                let seen = &mut marks[u as usize].stamp;
                if *seen == gen {
                    continue;
                }
                *seen = gen;
                // This vector has none of the earlier terms: its cosine is
                // q·w plus what the later terms can add. Skipping it for good
                // is safe because the k-th best distance only improves.
                if top.len() >= k {
                    let rest_norm = (self.max_norm * self.max_norm - w * w).max(0.0).sqrt();
                    let later = after.ub.min(after_norm * rest_norm);
                    if cannot_enter(top, k, t.q * w + later + margin) {
                        continue;
                    }
                }
                self.offer(top, k, u, distance(query.dot(self, u)));
            }
            i += 1;
        }

        // Phase 2: the long postings, summed term-at-a-time into partial dot
        // products (much cheaper per entry than a dot product). Once the most
        // common terms left cannot lift an unseen vector into the top k, they
        // are not read at all.
        touched.clear();
        let mut left_out = None;
        while i < terms.len() {
            let t = terms[i];
            if t.len >= tuning.refresh_min && t.len >= 2 * touched.len() {
                // Worth a pass over the sums to raise the bar before reading
                // this list: it may make the list unnecessary.
                self.score_best(query, touched, marks, best, gen, top, k);
            }
            let rest = bound(suffix[i]);
            if cannot_enter(top, k, rest) {
                // Leaving the rest out saves reading its postings, but every
                // summed vector that could still qualify then needs a dot
                // product: leave out only if that is cheaper.
                let saved = suffix[i].len;
                if touched.len() <= saved {
                    let limit = saved / tuning.exact_cost.max(1);
                    let survivors = touched
                        .iter()
                        .filter(|&&u| {
                            let mark = marks[u as usize];
                            mark.stamp == open && !cannot_enter(top, k, f64::from(mark.sum) + rest + slack)
                        })
                        .take(limit + 1)
                        .count();
                    if survivors <= limit {
                        left_out = Some(rest);
                        break;
                    }
                }
            }
            let range = self.post_ptr[t.slot]..self.post_ptr[t.slot + 1];
            for (&u, &w) in self.post_ids[range.clone()].iter().zip(&self.post_val[range]) {
                // Stamp and sum share a cache line: one miss per entry.
                let mark = &mut marks[u as usize];
                if mark.stamp == gen {
                    continue;
                }
                if mark.stamp != open {
                    *mark = Mark { stamp: open, sum: 0.0 };
                    touched.push(u);
                }
                mark.sum += (t.q * w) as f32;
            }
            i += 1;
        }

        // The summed vectors: an exact dot product for those that could still
        // enter the top k, the best first so the bar rises early.
        self.score_best(query, touched, marks, best, gen, top, k);
        let missing = left_out.unwrap_or(margin) + slack;
        for &u in touched.iter() {
            let mark = marks[u as usize];
            if mark.stamp != open {
                continue;
            }
            let ceiling = f64::from(mark.sum) + missing;
            if cannot_enter(top, k, ceiling) {
                continue;
            }
            if ceiling <= 0.0 {
                // Cosine ≤ 0 means distance exactly 1, no need to compute it.
                self.offer(top, k, u, 1.0);
            } else {
                self.offer(top, k, u, distance(query.dot(self, u)));
            }
        }

        // With no term left out, every vector sharing a feature is decided;
        // the others are at distance 1 and may still be needed.
        let full = top.len() >= k && top.last().is_some_and(|w| w.distance < 1.0);
        if left_out.is_none() && !full {
            self.fill_disjoint(top, k, marks, gen);
        }
    }

    /// Scores exactly the `k` summed vectors with the largest partial sums
    /// and offers them; they are then done (stamped `gen`).
    #[allow(clippy::too_many_arguments)]
    fn score_best(
        &self,
        query: Query,
        touched: &mut [u32],
        marks: &mut [Mark],
        best: &mut Vec<(f64, u32)>,
        gen: u32,
        top: &mut Vec<Neighbour>,
        k: usize,
    ) {
        let open = gen + 1;
        let n = k.min(touched.len());
        best.clear();
        if n <= self.tuning.small_k {
            // One pass keeping the n largest: far cheaper than a selection
            // over all of `touched` when n is small.
            for &u in touched.iter() {
                let mark = marks[u as usize];
                let sum = f64::from(mark.sum);
                if mark.stamp != open || (best.len() >= n && best.last().is_some_and(|b| sum <= b.0)) {
                    continue;
                }
                if best.len() >= n {
                    best.pop();
                }
                let pos = best.partition_point(|b| b.0 >= sum);
                best.insert(pos, (sum, u));
            }
        } else {
            if n < touched.len() {
                touched.select_nth_unstable_by(n - 1, |a, b| marks[*b as usize].sum.total_cmp(&marks[*a as usize].sum));
            }
            best.extend(touched[..n].iter().map(|&u| (f64::from(marks[u as usize].sum), u)));
        }
        for &(_, u) in best.iter() {
            let mark = &mut marks[u as usize];
            if mark.stamp != open {
                continue;
            }
            mark.stamp = gen;
            self.offer(top, k, u, distance(query.dot(self, u)));
        }
    }

    /// Offers distance `d` for every id of distinct vector `u`; true if its
    /// first id made it into the top `k`.
    #[inline]
    fn offer(&self, top: &mut Vec<Neighbour>, k: usize, u: u32, d: f64) -> bool {
        // Most offers lose; reject those without touching the member lists.
        if top.len() >= k && top.last().is_some_and(|worst| d > worst.distance) {
            return false;
        }
        let mut first = true;
        for &id in self.members(u) {
            if !offer(top, k, Neighbour { id, distance: d }) {
                // Later ids of the group tie in distance and lose on id.
                return !first;
            }
            first = false;
        }
        true
    }

    /// Tops up with the vectors that share no feature with the query (cosine 0,
    /// distance 1), smallest ids first. Valid only once every vector sharing a
    /// feature has been scored, i.e. stamped in `marks`.
    fn fill_disjoint(&self, top: &mut Vec<Neighbour>, k: usize, marks: &[Mark], gen: u32) {
        for u in 0..self.n_unique() as u32 {
            let seen = marks[u as usize].stamp;
            if seen == gen || seen == gen + 1 {
                continue;
            }
            // Distinct vectors are numbered by first id: once one is
            // rejected, all later ones would be.
            if !self.offer(top, k, u, distance(0.0)) {
                break;
            }
        }
    }
}

/// Inserts `n` into the sorted top-`k` list if it belongs there.
#[inline]
fn offer(top: &mut Vec<Neighbour>, k: usize, n: Neighbour) -> bool {
    if top.len() >= k {
        match top.last() {
            Some(worst) if before(&n, worst) => {
                top.pop();
            }
            _ => return false,
        }
    }
    let pos = top.partition_point(|m| before(m, &n));
    top.insert(pos, n);
    true
}

/// True when no vector whose cosine is at most `bound` can enter a full top-`k`
/// list: its distance would be larger than the worst kept, and a tie cannot be
/// ruled out otherwise (it would win with a smaller id).
#[inline]
fn cannot_enter(top: &[Neighbour], k: usize, bound: f64) -> bool {
    top.len() >= k && top.last().is_some_and(|worst| distance(bound) > worst.distance)
}

/// The search's cost trade-offs. They never change results, only speed;
/// tests vary them to drive every path.
#[derive(Clone, Copy, Debug)]
struct Tuning {
    /// Lists this short are always scored vector by vector.
    short_postings: usize,
    /// Roughly how many postings summed cost as much as one dot product.
    exact_cost: usize,
    /// Before summing a list at least this long, score the best partial sums
    /// exactly to raise the bar.
    refresh_min: usize,
    /// Up to this k, the best partial sums are picked in one pass.
    small_k: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        // Measured on synthetic workloads (see the `throughput` test).
        Tuning {
            short_postings: 32,
            exact_cost: 32,
            refresh_min: 256,
            small_k: 32,
        }
    }
}

/// The query, for exact dot products with the index's vectors.
///
/// Every exact score goes through [`dot_sorted`], as in
/// [`Index::brute_force`]: the same products added in the same order give
/// the same bits, which is what makes the two agree exactly.
#[derive(Clone, Copy)]
struct Query<'a> {
    idx: &'a [u32],
    val: &'a [f64],
}

impl Query<'_> {
    /// The dot product with distinct vector `u` of `index`.
    #[inline]
    fn dot(self, index: &Index, u: u32) -> f64 {
        let (idx, val) = index.vector(u);
        dot_sorted(self.idx, self.val, idx, val)
    }
}

/// One query feature present in the index.
#[derive(Clone, Copy, Debug, Default)]
struct Term {
    slot: usize,
    q: f64,
    len: usize,
    /// Bound on `|q · w|` over the feature's postings.
    ub: f64,
}

/// Sums over a suffix of the terms.
#[derive(Clone, Copy, Debug, Default)]
struct Suffix {
    /// Sum of the terms' `ub`.
    ub: f64,
    /// Sum of the squared query weights.
    sq: f64,
    /// Total postings.
    len: usize,
}

/// What one search knows of one distinct vector.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    /// The search's generation once the vector is scored (or ruled out),
    /// generation + 1 while its sum is being accumulated; anything else means
    /// not seen in this search.
    stamp: u32,
    /// The accumulated partial dot product, valid while accumulating. Only
    /// ever used as a bound, so single precision (half the cache footprint)
    /// is enough; `slack` covers its rounding.
    sum: f32,
}

/// Per-thread working memory for [`Index::search`], reused across searches so
/// that a search allocates little beyond its result.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// Per distinct vector: what this search knows of it.
    marks: Vec<Mark>,
    generation: u32,
    touched: Vec<u32>,
    best: Vec<(f64, u32)>,
    terms: Vec<Term>,
    suffix: Vec<Suffix>,
    top: Vec<Neighbour>,
}

impl Scratch {
    /// Scratch sized for `index` (any index works; it grows as needed).
    pub fn new(index: &Index) -> Scratch {
        Scratch {
            marks: vec![Mark::default(); index.n_unique()],
            ..Scratch::default()
        }
    }

    /// Starts a search over `n` distinct vectors; returns its generation.
    fn begin(&mut self, n: usize) -> u32 {
        if self.marks.len() < n {
            self.marks.resize(n, Mark::default());
        }
        // Two stamps per search; restart before they wrap so an old stamp
        // can never equal a current one.
        if self.generation >= u32::MAX - 3 {
            self.marks.fill(Mark::default());
            self.generation = 0;
        }
        self.generation += 2;
        self.top.clear();
        self.generation
    }
}

/// True when indices are strictly increasing and match the values one to one.
fn is_canonical(v: &SparseVec) -> bool {
    v.indices.len() == v.values.len() && v.indices.windows(2).all(|w| w[0] < w[1])
}

/// `v` with strictly increasing indices: sorted, repeated indices summed,
/// unmatched trailing entries dropped.
fn canonical(mut v: SparseVec) -> SparseVec {
    if is_canonical(&v) {
        return v;
    }
    let mut pairs: Vec<(u32, f64)> = v.indices.iter().copied().zip(v.values.iter().copied()).collect();
    // Stable, so repeated indices are summed in their given order.
    pairs.sort_by_key(|p| p.0);
    v.indices.clear();
    v.values.clear();
    for (i, x) in pairs {
        match v.indices.last() {
            Some(&last) if last == i => {
                if let Some(sum) = v.values.last_mut() {
                    *sum += x;
                }
            }
            _ => {
                v.indices.push(i);
                v.values.push(x);
            }
        }
    }
    v
}

fn content_hash(v: &SparseVec) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.indices.hash(&mut h);
    for x in &v.values {
        x.to_bits().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A unit vector from `(index, weight)` pairs.
    fn unit(pairs: &[(u32, f64)]) -> SparseVec {
        let v = canonical(SparseVec {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        });
        let norm = v.values.iter().map(|x| x * x).sum::<f64>().sqrt();
        let values = if norm > 0.0 {
            v.values.iter().map(|x| x / norm).collect()
        } else {
            v.values
        };
        SparseVec {
            indices: v.indices,
            values,
        }
    }

    /// The reference independent of the index's internals: the raw vectors.
    fn naive(vectors: &[SparseVec], query: &SparseVec, k: usize) -> Vec<Neighbour> {
        if query.is_empty() {
            return Vec::new();
        }
        let mut all: Vec<Neighbour> = vectors
            .iter()
            .enumerate()
            .map(|(id, v)| Neighbour {
                id: id as u32,
                distance: distance(query.dot(v)),
            })
            .collect();
        all.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.id.cmp(&b.id)));
        all.truncate(k);
        all
    }

    fn ids(ns: &[Neighbour]) -> Vec<u32> {
        ns.iter().map(|n| n.id).collect()
    }

    /// Tunings that force each path of the search: the default, scoring
    /// everything vector by vector, summing everything (refreshing the bar
    /// before every list), and summing with the selection for large k.
    fn tunings() -> [Tuning; 4] {
        let default = Tuning::default();
        [
            default,
            Tuning {
                short_postings: usize::MAX,
                ..default
            },
            Tuning {
                short_postings: 0,
                exact_cost: usize::MAX,
                refresh_min: 0,
                ..default
            },
            Tuning {
                short_postings: 0,
                exact_cost: 1,
                refresh_min: 2,
                small_k: 0,
            },
        ]
    }

    fn search(index: &Index, query: &SparseVec, k: usize) -> Vec<Neighbour> {
        index.search(query, k, &mut Scratch::new(index))
    }

    #[test]
    fn index_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Index>();
        shareable::<Scratch>();
    }

    #[test]
    fn identical_vector_is_at_distance_zero() {
        let a = unit(&[(1, 1.0), (5, -2.0), (9, 0.5)]);
        let b = unit(&[(2, 1.0), (5, 1.0)]);
        let index = Index::new(vec![b.clone(), a.clone(), b.clone()]);
        let got = search(&index, &a, 1);
        assert_eq!(ids(&got), [1]);
        assert!(got[0].distance.abs() < 1e-15);
        // Duplicates tie: smaller id first.
        let got = search(&index, &b, 2);
        assert_eq!(ids(&got), [0, 2]);
        assert_eq!(index.len(), 3);
        assert_eq!(index.distinct_len(), 2);
    }

    #[test]
    fn disjoint_query_returns_first_ids_at_distance_one() {
        let vectors: Vec<SparseVec> = (0..10).map(|i| unit(&[(i, 1.0)])).collect();
        let index = Index::new(vectors);
        let got = search(&index, &unit(&[(100, 1.0)]), 3);
        assert_eq!(ids(&got), [0, 1, 2]);
        assert!(got.iter().all(|n| n.distance == 1.0));
    }

    #[test]
    fn partial_overlap_is_topped_up_with_smallest_disjoint_ids() {
        let vectors = vec![
            unit(&[(1, 1.0)]),
            unit(&[(2, 1.0)]),
            unit(&[(3, 1.0), (7, 1.0)]),
            unit(&[(4, 1.0)]),
        ];
        let index = Index::new(vectors);
        let got = search(&index, &unit(&[(7, 1.0)]), 3);
        assert_eq!(ids(&got), [2, 0, 1]);
        assert_eq!(got[1].distance, 1.0);
    }

    #[test]
    fn opposite_vectors_tie_with_disjoint_ones_by_id() {
        let vectors = vec![unit(&[(1, 1.0)]), unit(&[(7, -1.0)]), unit(&[(7, 1.0), (8, 1.0)])];
        let index = Index::new(vectors.clone());
        let query = unit(&[(7, 1.0)]);
        let got = search(&index, &query, 3);
        assert_eq!(ids(&got), [2, 0, 1]);
        assert_eq!(got[1].distance, 1.0);
        assert_eq!(got[2].distance, 1.0);
        assert_eq!(got, naive(&vectors, &query, 3));
    }

    #[test]
    fn ties_between_different_vectors_go_to_the_smaller_id() {
        // Both at cosine 1/sqrt(2) from the query.
        let vectors = vec![
            unit(&[(3, 1.0), (4, 1.0)]),
            unit(&[(1, 1.0), (3, 1.0)]),
            unit(&[(3, 1.0), (9, 1.0)]),
        ];
        let index = Index::new(vectors);
        let got = search(&index, &unit(&[(3, 1.0)]), 2);
        assert_eq!(ids(&got), [0, 1]);
        assert_eq!(got[0].distance, got[1].distance);
    }

    #[test]
    fn k_larger_than_the_baseline_returns_everything() {
        let vectors = vec![unit(&[(1, 1.0)]), unit(&[(2, 1.0)]), unit(&[(1, 1.0)])];
        let index = Index::new(vectors.clone());
        let query = unit(&[(1, 1.0), (2, 0.5)]);
        let got = search(&index, &query, 10);
        assert_eq!(ids(&got), [0, 2, 1]);
        assert_eq!(got, index.brute_force(&query, 10));
        assert_eq!(got, naive(&vectors, &query, 10));
    }

    #[test]
    fn empty_cases() {
        let index = Index::new(vec![unit(&[(1, 1.0)])]);
        assert!(search(&index, &SparseVec::default(), 3).is_empty());
        assert!(index.brute_force(&SparseVec::default(), 3).is_empty());
        assert!(search(&index, &unit(&[(1, 1.0)]), 0).is_empty());

        let empty = Index::new(Vec::new());
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert!(search(&empty, &unit(&[(1, 1.0)]), 3).is_empty());
        assert!(empty.brute_force(&unit(&[(1, 1.0)]), 3).is_empty());
        // Scratch from another index, and a default one, both work.
        let mut scratch = Scratch::default();
        assert_eq!(ids(&index.search(&unit(&[(1, 1.0)]), 1, &mut scratch)), [0]);
        assert!(empty.search(&unit(&[(1, 1.0)]), 1, &mut scratch).is_empty());

        // Empty baseline vectors are valid neighbours at distance 1.
        let index = Index::new(vec![SparseVec::default(), unit(&[(2, 1.0)])]);
        let got = search(&index, &unit(&[(1, 1.0)]), 2);
        assert_eq!(ids(&got), [0, 1]);
    }

    #[test]
    fn unsorted_input_is_sorted_not_misread() {
        let messy = SparseVec {
            indices: vec![5, 1, 5],
            values: vec![0.5, 0.5, 0.5],
        };
        let index = Index::new(vec![messy.clone(), unit(&[(1, 1.0), (5, 2.0)])]);
        let got = search(&index, &messy, 2);
        assert_eq!(got, index.brute_force(&messy, 2));
        assert_eq!(ids(&got), [0, 1]);
    }

    #[test]
    fn long_postings_take_the_accumulator_path() {
        // Feature 0 is in every vector, so its postings are long enough to be
        // read term-at-a-time; the rare feature is scored vector by vector.
        let mut vectors: Vec<SparseVec> = (0..500)
            .map(|i| unit(&[(0, 1.0), (1 + i % 50, if i % 3 == 0 { -1.0 } else { 0.7 })]))
            .collect();
        vectors.push(unit(&[(0, 1.0), (999, 1.0)]));
        let mut index = Index::new(vectors.clone());
        let mut scratch = Scratch::new(&index);
        for tuning in tunings() {
            index.tuning = tuning;
            for query in [
                unit(&[(0, 1.0), (3, 0.2)]),
                unit(&[(0, 0.3), (999, 1.0), (7, -0.5)]),
                unit(&[(0, 1.0)]),
            ] {
                for k in [1, 3, 20, 60] {
                    let got = index.search(&query, k, &mut scratch);
                    assert_eq!(got, index.brute_force(&query, k));
                    assert_eq!(got, naive(&vectors, &query, k));
                }
            }
        }
    }

    #[test]
    fn long_lists_with_random_weights_match_brute_force_bit_for_bit() {
        // Long postings (the summing path), weights whose sums round
        // differently in different orders, rarity order unlike feature order.
        let mut rng = SplitMix(7);
        let vectors: Vec<SparseVec> = (0..2000)
            .map(|i| {
                let mut pairs = vec![(10, rng.unit() - 0.5)];
                if i % 4 != 0 {
                    pairs.push((20, rng.unit() - 0.5));
                }
                if i % 2 == 0 {
                    pairs.push((30, rng.unit() - 0.5));
                }
                if i % 7 == 0 {
                    pairs.push((5, rng.unit() - 0.2));
                }
                pairs.push((40 + i % 300, rng.unit()));
                unit(&pairs)
            })
            .collect();
        let mut index = Index::new(vectors.clone());
        let mut scratch = Scratch::new(&index);
        for q in 0..40 {
            let mut pairs = vec![(10, rng.unit() - 0.5), (20, rng.unit() - 0.5), (30, rng.unit() - 0.5)];
            if q % 2 == 0 {
                pairs.push((5, rng.unit()));
            }
            if q % 3 == 0 {
                pairs.push((40 + q, rng.unit()));
            }
            let query = unit(&pairs);
            for tuning in tunings() {
                index.tuning = tuning;
                for k in [1, 2, 5, 50, 3000] {
                    let got = index.search(&query, k, &mut scratch);
                    assert_eq!(got, index.brute_force(&query, k));
                    assert_eq!(got, naive(&vectors, &query, k));
                }
            }
        }
    }

    #[test]
    fn generation_wraparound_resets_stamps() {
        let vectors = vec![unit(&[(1, 1.0)]), unit(&[(2, 1.0)]), unit(&[(1, 1.0), (2, 1.0)])];
        let index = Index::new(vectors);
        let mut scratch = Scratch::new(&index);
        let query = unit(&[(1, 1.0)]);
        let want = index.brute_force(&query, 3);
        scratch.generation = u32::MAX - 5;
        for _ in 0..6 {
            assert_eq!(index.search(&query, 3, &mut scratch), want);
        }
    }

    /// Small random data: few features so vectors overlap, skewed popularity
    /// so some postings are long and some short, weights of both signs, and
    /// repeated vectors.
    fn vector_strategy() -> impl Strategy<Value = SparseVec> {
        let feature = prop_oneof![4 => 0u32..4, 2 => 4u32..12, 1 => 12u32..40];
        let weight = prop_oneof![Just(1.0), Just(-1.0), Just(2.0), Just(-3.0), Just(0.5)];
        prop::collection::vec((feature, weight), 0..6).prop_map(|pairs| unit(&pairs))
    }

    fn baseline_strategy() -> impl Strategy<Value = Vec<SparseVec>> {
        (
            prop::collection::vec(vector_strategy(), 0..120),
            prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        )
            .prop_map(|(mut vectors, copies)| {
                if !vectors.is_empty() {
                    for c in copies {
                        let v = vectors[c.index(vectors.len())].clone();
                        vectors.push(v);
                    }
                }
                vectors
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn search_equals_brute_force(
            vectors in baseline_strategy(),
            queries in prop::collection::vec(vector_strategy(), 1..8),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut index = Index::new(vectors.clone());
            let mut scratch = Scratch::new(&index);
            // Queries: fresh vectors, and copies of baseline vectors.
            let mut queries = queries;
            if !vectors.is_empty() {
                queries.extend(picks.iter().map(|p| vectors[p.index(vectors.len())].clone()));
            }
            for tuning in tunings() {
                index.tuning = tuning;
                for query in &queries {
                    for k in 1..5 {
                        let got = index.search(query, k, &mut scratch);
                        let want = index.brute_force(query, k);
                        let reference = naive(&vectors, query, k);
                        prop_assert_eq!(ids(&got), ids(&want));
                        prop_assert_eq!(ids(&got), ids(&reference));
                        for (g, w) in got.iter().zip(&reference) {
                            prop_assert!((g.distance - w.distance).abs() <= 1e-9);
                        }
                        prop_assert_eq!(&got, &want);
                    }
                }
            }
        }
    }

    /// A tiny deterministic generator for the throughput check.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Zipf(`s`) sampling over `0..n` by inverse CDF.
    struct Zipf(Vec<f64>);

    impl Zipf {
        fn new(n: usize, s: f64) -> Zipf {
            let mut total = 0.0;
            Zipf(
                (1..=n)
                    .map(|r| {
                        total += 1.0 / (r as f64).powf(s);
                        total
                    })
                    .collect(),
            )
        }

        fn sample(&self, rng: &mut SplitMix) -> u32 {
            let x = rng.unit() * self.0.last().copied().unwrap_or(0.0);
            self.0.partition_point(|&c| c < x).min(self.0.len() - 1) as u32
        }
    }

    /// A hashed-word-like vector: spread feature numbers, sign from the word.
    fn bag(words: &[u32]) -> SparseVec {
        let pairs: Vec<(u32, f64)> = words
            .iter()
            .map(|&w| (w.wrapping_mul(2_654_435_761) >> 12, if w % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        unit(&pairs)
    }

    /// A baseline and named sets of queries against it.
    struct Workload {
        name: &'static str,
        baseline: Vec<SparseVec>,
        query_sets: Vec<(&'static str, Vec<SparseVec>)>,
    }

    /// Two synthetic workloads of 30k baseline vectors and 30k queries each.
    ///
    /// - `zipf`: bags of ~10 words with Zipf(1) popularity over 20k words, so
    ///   the commonest words are in most vectors (a hard case: long postings
    ///   everywhere, and fresh queries have no close neighbour).
    /// - `logs`: lines from 400 templates (Zipf popularity) of common words,
    ///   with variable slots that are either one of a few values or a rare
    ///   token; queries are new lines from the same templates, 3% from
    ///   templates the baseline never saw.
    fn workloads() -> Vec<Workload> {
        const N: usize = 30_000;
        let mut rng = SplitMix(42);

        let words = Zipf::new(20_000, 1.0);
        let random_bag = |rng: &mut SplitMix| {
            let n = 5 + (rng.next() % 11) as usize; // 5..=15, about 10
            bag(&(0..n).map(|_| words.sample(rng)).collect::<Vec<_>>())
        };
        let baseline: Vec<SparseVec> = (0..N).map(|_| random_bag(&mut rng)).collect();
        let fresh: Vec<SparseVec> = (0..N).map(|_| random_bag(&mut rng)).collect();
        // Near duplicates: a baseline vector with one feature replaced by
        // another of the same weight.
        let near: Vec<SparseVec> = (0..N)
            .map(|_| {
                let mut v = baseline[(rng.next() % N as u64) as usize].clone();
                let f = random_bag(&mut rng).indices.first().copied();
                if let (Some(i), Some(x), Some(f)) = (v.indices.pop(), v.values.pop(), f) {
                    if i != f {
                        v.indices.push(f);
                        v.values.push(x);
                    }
                }
                unit(
                    &v.indices
                        .iter()
                        .copied()
                        .zip(v.values.iter().copied())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let zipf = Workload {
            name: "zipf",
            baseline,
            query_sets: vec![("fresh", fresh), ("near-duplicate", near)],
        };

        // Templates: common words, and slots (marked u32::MAX) for variables.
        let common = Zipf::new(3_000, 1.0);
        let templates: Vec<Vec<u32>> = (0..400)
            .map(|_| {
                let n = 4 + (rng.next() % 9) as usize;
                let mut t: Vec<u32> = (0..n).map(|_| common.sample(&mut rng)).collect();
                for _ in 0..rng.next() % 4 {
                    t.push(u32::MAX);
                }
                t
            })
            .collect();
        let popularity = Zipf::new(380, 1.1);
        let line = |rng: &mut SplitMix, template: usize| {
            let words: Vec<u32> = templates[template]
                .iter()
                .map(|&w| match w {
                    // A few normalized values, or a rare token.
                    u32::MAX if rng.next().is_multiple_of(2) => 100_000 + (rng.next() % 20) as u32,
                    u32::MAX => 200_000 + (rng.next() % 1_000_000) as u32,
                    w => w,
                })
                .collect();
            bag(&words)
        };
        let baseline: Vec<SparseVec> = (0..N)
            .map(|_| {
                let template = popularity.sample(&mut rng) as usize;
                line(&mut rng, template)
            })
            .collect();
        let queries: Vec<SparseVec> = (0..N)
            .map(|i| {
                let template = if i % 33 == 0 {
                    380 + (rng.next() % 20) as usize
                } else {
                    popularity.sample(&mut rng) as usize
                };
                line(&mut rng, template)
            })
            .collect();
        let logs = Workload {
            name: "logs",
            baseline,
            query_sets: vec![("new lines", queries)],
        };
        vec![zipf, logs]
    }

    /// Run by hand: `cargo test --release --lib index::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        use rayon::prelude::*;
        use std::time::Instant;

        for Workload {
            name: workload,
            baseline,
            query_sets,
        } in workloads()
        {
            let start = Instant::now();
            let index = Index::new(baseline);
            println!(
                "{workload}: build {:?} ({} vectors, {} distinct)",
                start.elapsed(),
                index.len(),
                index.distinct_len()
            );
            for (name, queries) in &query_sets {
                for k in [1, 5] {
                    let start = Instant::now();
                    let mut scratch = Scratch::new(&index);
                    let found: usize = queries.iter().map(|q| index.search(q, k, &mut scratch).len()).sum();
                    let single = start.elapsed();
                    let start = Instant::now();
                    let found_par: usize = queries
                        .par_iter()
                        .map_init(|| Scratch::new(&index), |s, q| index.search(q, k, s).len())
                        .sum();
                    let parallel = start.elapsed();
                    assert_eq!(found, found_par);
                    println!(
                        "  {name} k={k}: {} queries in {single:?} on one thread ({:.1} µs/query), {parallel:?} with rayon",
                        queries.len(),
                        single.as_secs_f64() * 1e6 / queries.len() as f64
                    );
                }
            }
            let start = Instant::now();
            let sample = 200;
            for q in query_sets[0].1.iter().take(sample) {
                std::hint::black_box(index.brute_force(q, 5));
            }
            println!("  brute force: {:?} per query", start.elapsed() / sample as u32);
            // Spot-check exactness on the same data.
            let mut scratch = Scratch::new(&index);
            for (_, queries) in &query_sets {
                for q in queries.iter().step_by(97) {
                    for k in [1, 5] {
                        assert_eq!(index.search(q, k, &mut scratch), index.brute_force(q, k));
                    }
                }
            }
        }
    }
}
