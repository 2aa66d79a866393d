//! Projection: a 2-D map of sparse vectors, for the HTML report.
//!
//! [`Projection::fit`] finds the first two principal axes of a set of baseline
//! vectors centred on their mean; [`Projection::project`] places any vector,
//! baseline or target, on those axes, so that target lines unlike the baseline
//! land away from it. [`Projection::explained`] says how much of the
//! baseline's variance the two axes show, so that a reader can tell how much
//! of the picture the map leaves out.
//!
//! The axes are computed by randomized SVD (Halko, Martinsson & Tropp,
//! "Finding structure with randomness", SIAM Review 2011, algorithms 4.4 and
//! 5.1): the centred data is multiplied by a random test matrix with a few
//! extra columns (oversampling), the sketch is refined by power iterations with
//! an orthonormalization after every product, and the exact eigen-decomposition
//! of the small projected Gram matrix (Jacobi) gives the axes. Nothing of width
//! `n_features` is ever allocated: the random matrix is a hash of (feature,
//! column, seed) evaluated on demand, the right factors are kept only over the
//! features that occur in the fitted vectors, and the centring is folded into
//! the products instead of densifying the data. The result is deterministic for
//! a given seed, and each axis's sign is fixed (its largest loading is
//! positive) so that maps do not mirror between runs.
//!
//! What it does not do: it does not sample (the caller passes a sample of a
//! large baseline), it does not scale features (the vectors are compared as
//! honk compares them), it does not update incrementally, and it is an
//! approximation of PCA whose error is small when the two leading variances
//! stand out from the rest. It does not draw anything either: coordinates are
//! numbers, the HTML report places them. Features the baseline never had
//! contribute nothing to a projection, so target vectors made only of new words
//! land where the empty vector lands. Degenerate baselines (none, one vector,
//! identical vectors, empty vectors) give zero axes: every coordinate is 0 and
//! the explained shares are 0; a baseline that varies in one direction only
//! gives a second axis of zeros. Non-finite values are ignored, and
//! coordinates are always finite.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::vectorize::SparseVec;

/// The number of axes of the map.
const AXES: usize = 2;
/// Extra columns of the random sketch beyond [`AXES`] (Halko et al. suggest 5–10).
const OVERSAMPLING: usize = 8;
/// Power iterations: scikit-learn's `randomized_svd` uses 7 when few
/// components are wanted; each costs two passes over the data, which is cheap here.
const POWER_ITERATIONS: usize = 7;
/// A baseline whose total variance is below this share of its sum of squares
/// is taken to have none (what is left is rounding in the mean).
const ZERO_VARIANCE: f64 = 1e-14;
/// An axis whose variance is below this share of the total is dropped: it
/// would show rounding noise, not structure.
const ZERO_AXIS: f64 = 1e-10;
/// Gram–Schmidt drops a column whose norm fell below this share of its norm
/// before orthogonalization (it lay in the span of the previous columns).
const DROP_COLUMN: f64 = 1e-10;
/// Gram–Schmidt orthogonalizes a column a second time when the first pass
/// left less than this share of its norm.
const REORTHOGONALIZE: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// Jacobi sweeps after which the eigen-decomposition stops even if not converged.
const MAX_SWEEPS: usize = 100;

/// A 2-D principal-component projection of sparse vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The loadings of the two axes, for each feature of the baseline with a nonzero loading.
    loadings: HashMap<u32, [f64; AXES], BuildHasherDefault<FeatureHasher>>,
    /// The coordinates of the baseline mean, subtracted from every projection.
    offset: [f64; AXES],
    /// The share of the baseline's total variance along each axis.
    explained: [f64; AXES],
}

impl Projection {
    /// A 2-D principal-component projection fitted on `vectors` (the baseline;
    /// sample them before if there are many — the caller passes at most
    /// ~20,000), centred on their mean, by randomized SVD (Halko, Martinsson &
    /// Tropp 2011): a random sketch with 8 columns of oversampling, 7 power
    /// iterations with modified Gram–Schmidt orthonormalization after every
    /// product, and the Jacobi eigen-decomposition of the small (2+8)×(2+8)
    /// matrix. Deterministic for a given `seed`. Time O(nnz + features) per
    /// pass over the data, about twenty passes; memory O(nnz + 10·features).
    ///
    /// Empty vectors count as points at the origin. Non-finite values are
    /// ignored; unsorted or repeated indices are accepted (repeats add up).
    pub fn fit(vectors: &[SparseVec], seed: u64) -> Projection {
        let Some(data) = Data::new(vectors) else {
            return Projection::zero();
        };
        let mut axes = principal_axes(&data, seed);
        if axes.is_empty() {
            return Projection::zero();
        }
        // The variance along each axis, measured (the sketch's estimates of it
        // are close but may order two nearly equal axes the other way).
        let mut variances: Vec<f64> = axes
            .iter()
            .map(|axis| data.times_vector(axis).iter().map(|w| w * w).sum())
            .collect();
        if variances.len() == 2 && variances[1] > variances[0] {
            axes.swap(0, 1);
            variances.swap(0, 1);
        }

        let mut explained = [0.0; AXES];
        let mut offset = [0.0; AXES];
        for (j, (axis, variance)) in axes.iter().zip(&variances).enumerate() {
            explained[j] = (variance / data.total).clamp(0.0, 1.0);
            let mean_coordinate: f64 = data.mean.iter().zip(axis).map(|(m, a)| m * a).sum();
            offset[j] = saturate(mean_coordinate * data.scale);
        }

        let mut loadings = HashMap::default();
        for (c, &feature) in data.features.iter().enumerate() {
            let mut loading = [0.0; AXES];
            for (l, axis) in loading.iter_mut().zip(&axes) {
                *l = axis[c];
            }
            if loading.iter().any(|&l| l != 0.0) {
                loadings.insert(feature, loading);
            }
        }
        Projection {
            loadings,
            offset,
            explained,
        }
    }

    /// The coordinates of any vector (features the baseline never had
    /// contribute nothing). Non-finite values are ignored; the coordinates are
    /// always finite (saturated at ±`f64::MAX` in the unlikely event of an
    /// overflow). O(number of stored entries).
    pub fn project(&self, v: &SparseVec) -> [f64; 2] {
        let mut sum = [0.0; AXES];
        if self.loadings.is_empty() {
            return sum;
        }
        for (index, &x) in v.indices.iter().zip(&v.values) {
            if !x.is_finite() {
                continue;
            }
            if let Some(loading) = self.loadings.get(index) {
                for (s, l) in sum.iter_mut().zip(loading) {
                    *s += x * l;
                }
            }
        }
        let mut out = [0.0; AXES];
        for ((o, s), m) in out.iter_mut().zip(sum).zip(self.offset) {
            *o = saturate(s - m);
        }
        out
    }

    /// The share of the baseline's total variance along each of the two axes
    /// (each in `[0, 1]`, their sum at most 1; 0 for an axis the baseline does not have).
    pub fn explained(&self) -> [f64; 2] {
        self.explained
    }

    /// The projection of a baseline without variance: everything maps to the origin.
    fn zero() -> Projection {
        Projection {
            loadings: HashMap::default(),
            offset: [0.0; AXES],
            explained: [0.0; AXES],
        }
    }
}

/// A finite stand-in for a coordinate: NaN (∞ − ∞) becomes 0, ±∞ becomes ±`f64::MAX`.
fn saturate(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

/// The fitted vectors over the features that occur in them, by rows and by
/// columns, scaled by a power of two so that the largest magnitude is in
/// `[1, 2)` (no overflow or underflow in the products, whatever the input's
/// magnitude).
struct Data {
    /// The features that occur, sorted; a feature's position here is its column.
    features: Vec<u32>,
    /// Row `i` is `cols[starts[i]..starts[i + 1]]`, `vals[..]` (columns strictly increasing).
    starts: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
    /// Column `c` is `col_rows[col_starts[c]..col_starts[c + 1]]`, `col_vals[..]` (rows increasing).
    col_starts: Vec<usize>,
    col_rows: Vec<usize>,
    col_vals: Vec<f64>,
    /// The mean of the scaled rows, per column.
    mean: Vec<f64>,
    /// The original values are the stored ones times `scale` (a power of two).
    scale: f64,
    /// The total variance, ‖X − 1μᵀ‖²_F, in scaled units.
    total: f64,
}

/// The entries of a vector that count: finite and nonzero (extra indices or values are ignored).
fn entries(v: &SparseVec) -> impl Iterator<Item = (u32, f64)> + '_ {
    v.indices
        .iter()
        .zip(&v.values)
        .filter(|(_, x)| x.is_finite() && **x != 0.0)
        .map(|(&i, &x)| (i, x))
}

/// 2^e, exactly, for `e` in the normal range `-1022..=1023`.
fn pow2(e: i32) -> f64 {
    let e = e.clamp(-1022, 1023);
    f64::from_bits(((1023 + e) as u64) << 52)
}

impl Data {
    /// The data, or `None` when it has no variance to show.
    fn new(vectors: &[SparseVec]) -> Option<Data> {
        let n = vectors.len();
        if n < 2 {
            return None;
        }
        // The rows with their original indices, made canonical: sorted, repeats
        // added up, zeros dropped. (Beyond 2^32 entries in all, which no
        // baseline sample comes near, further entries are ignored.)
        let mut starts = Vec::with_capacity(n + 1);
        let mut globals: Vec<u32> = Vec::new();
        let mut vals: Vec<f64> = Vec::new();
        let mut row: Vec<(u32, f64)> = Vec::new();
        let mut max_abs = 0.0_f64;
        starts.push(0);
        for v in vectors {
            row.clear();
            row.extend(entries(v));
            if row.windows(2).any(|w| w[0].0 >= w[1].0) {
                row.sort_by_key(|e| e.0); // stable: repeats add up in input order
                let mut merged: Vec<(u32, f64)> = Vec::with_capacity(row.len());
                for &(i, x) in &row {
                    match merged.last_mut() {
                        Some(last) if last.0 == i => last.1 += x,
                        _ => merged.push((i, x)),
                    }
                }
                row = merged;
            }
            for &(i, x) in &row {
                if x != 0.0 && x.is_finite() && globals.len() <= u32::MAX as usize {
                    globals.push(i);
                    vals.push(x);
                    max_abs = max_abs.max(x.abs());
                }
            }
            starts.push(globals.len());
        }
        if globals.is_empty() {
            return None;
        }
        // max_abs is finite and positive here, so is its logarithm.
        let exponent = (max_abs.log2().floor() as i32).clamp(-1000, 1000);
        let scale = pow2(exponent);
        let inverse = pow2(-exponent);
        for x in &mut vals {
            *x *= inverse;
        }

        // The columns: sort the entries by (feature, position); each new feature opens a column.
        let nnz = globals.len();
        let mut row_of = vec![0usize; nnz];
        for (i, w) in starts.windows(2).enumerate() {
            row_of[w[0]..w[1]].fill(i);
        }
        let mut keys: Vec<u64> = globals
            .iter()
            .enumerate()
            .map(|(e, &g)| (u64::from(g) << 32) | e as u64)
            .collect();
        keys.sort_unstable();
        let mut features: Vec<u32> = Vec::new();
        let mut cols = vec![0u32; nnz];
        let mut col_starts = Vec::new();
        let mut col_rows = Vec::with_capacity(nnz);
        let mut col_vals = Vec::with_capacity(nnz);
        for (k, &key) in keys.iter().enumerate() {
            let (feature, e) = ((key >> 32) as u32, (key & 0xffff_ffff) as usize);
            if features.last() != Some(&feature) {
                features.push(feature);
                col_starts.push(k);
            }
            cols[e] = (features.len() - 1) as u32;
            col_rows.push(row_of[e]);
            col_vals.push(vals[e]);
        }
        col_starts.push(nnz);

        // The mean, and the total variance Σ_c Σ_i (x_ic − μ_c)² summing only
        // non-negative terms: the rows where column c is absent add μ_c² each.
        let mut mean = Vec::with_capacity(features.len());
        let mut total = 0.0;
        for w in col_starts.windows(2) {
            let column = &col_vals[w[0]..w[1]];
            let mu = column.iter().sum::<f64>() / n as f64;
            let squares: f64 = column.iter().map(|x| (x - mu) * (x - mu)).sum();
            total += squares + (n - column.len()) as f64 * mu * mu;
            mean.push(mu);
        }
        let sum_squares: f64 = vals.iter().map(|x| x * x).sum();
        if !total.is_finite() || total <= ZERO_VARIANCE * sum_squares {
            return None;
        }
        Some(Data {
            features,
            starts,
            cols,
            vals,
            col_starts,
            col_rows,
            col_vals,
            mean,
            scale,
            total,
        })
    }

    /// The number of rows.
    fn rows(&self) -> usize {
        self.starts.len() - 1
    }

    /// `X_c·M = X·M − 1·(μᵀM)` for `m` of `d` rows of width `l` (row-major); the result has `n` rows.
    fn times(&self, m: &[f64], l: usize, out: &mut Vec<f64>) {
        let mut shift = vec![0.0; l];
        for (mu, m_row) in self.mean.iter().zip(m.chunks_exact(l)) {
            for (s, x) in shift.iter_mut().zip(m_row) {
                *s += mu * x;
            }
        }
        out.clear();
        out.resize(self.rows() * l, 0.0);
        for (out_row, w) in out.chunks_exact_mut(l).zip(self.starts.windows(2)) {
            for (&c, &x) in self.cols[w[0]..w[1]].iter().zip(&self.vals[w[0]..w[1]]) {
                let c = c as usize;
                for (o, y) in out_row.iter_mut().zip(&m[c * l..(c + 1) * l]) {
                    *o += x * y;
                }
            }
            for (o, s) in out_row.iter_mut().zip(&shift) {
                *o -= s;
            }
        }
    }

    /// `X_cᵀ·Q = XᵀQ − μ·(1ᵀQ)` for `q` of `n` rows of width `l` (row-major); the result has `d` rows.
    fn times_transposed(&self, q: &[f64], l: usize, out: &mut Vec<f64>) {
        let mut column_sums = vec![0.0; l];
        for q_row in q.chunks_exact(l) {
            for (s, x) in column_sums.iter_mut().zip(q_row) {
                *s += x;
            }
        }
        out.clear();
        out.resize(self.features.len() * l, 0.0);
        for ((out_row, w), mu) in out.chunks_exact_mut(l).zip(self.col_starts.windows(2)).zip(&self.mean) {
            for (&i, &x) in self.col_rows[w[0]..w[1]].iter().zip(&self.col_vals[w[0]..w[1]]) {
                for (o, y) in out_row.iter_mut().zip(&q[i * l..(i + 1) * l]) {
                    *o += x * y;
                }
            }
            for (o, s) in out_row.iter_mut().zip(&column_sums) {
                *o -= mu * s;
            }
        }
    }

    /// `X_c·v` for a vector `v` over the columns.
    fn times_vector(&self, v: &[f64]) -> Vec<f64> {
        let mut out = Vec::new();
        self.times(v, 1, &mut out);
        out
    }
}

/// Up to two orthonormal principal axes of the centred data, over its columns,
/// in decreasing order of variance, each with its largest loading positive.
fn principal_axes(data: &Data, seed: u64) -> Vec<Vec<f64>> {
    let d = data.features.len();
    let l = (AXES + OVERSAMPLING).min(d).min(data.rows());

    // The random test matrix Ω, d × l, over the occurring features only.
    let seed_mix = splitmix64(seed);
    let mut right: Vec<f64> = Vec::with_capacity(d * l);
    for &feature in &data.features {
        for column in 0..l {
            right.push(gaussianish(seed_mix, feature, column));
        }
    }

    // Randomized subspace iteration: Q = orth(A Ω), then Q = orth(A orth(Aᵀ Q)).
    let mut left = Vec::new();
    data.times(&right, l, &mut left);
    orthonormalize(&mut left, l);
    for _ in 0..POWER_ITERATIONS {
        data.times_transposed(&left, l, &mut right);
        orthonormalize(&mut right, l);
        data.times(&right, l, &mut left);
        orthonormalize(&mut left, l);
    }
    // Bᵀ = A_cᵀ Q (d × l); B Bᵀ = Qᵀ A_c A_cᵀ Q is the small matrix.
    data.times_transposed(&left, l, &mut right);
    let mut gram = vec![0.0; l * l];
    for b_row in right.chunks_exact(l) {
        for (p, &x) in b_row.iter().enumerate() {
            for (g, &y) in gram[p * l..(p + 1) * l].iter_mut().zip(b_row) {
                *g += x * y;
            }
        }
    }
    let (values, vectors) = jacobi(&mut gram, l);
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));

    let mut axes: Vec<Vec<f64>> = Vec::with_capacity(AXES);
    for &k in order.iter().take(AXES) {
        if values[k].is_nan() || values[k] <= ZERO_AXIS * data.total {
            break;
        }
        // The right singular vector: Bᵀ u_k, normalized.
        let u: Vec<f64> = (0..l).map(|p| vectors[p * l + k]).collect();
        let mut axis: Vec<f64> = right
            .chunks_exact(l)
            .map(|b_row| b_row.iter().zip(&u).map(|(x, y)| x * y).sum())
            .collect();
        let before = norm(&axis);
        for _ in 0..2 {
            for previous in &axes {
                let r: f64 = axis.iter().zip(previous).map(|(x, y)| x * y).sum();
                for (a, p) in axis.iter_mut().zip(previous) {
                    *a -= r * p;
                }
            }
        }
        let after = norm(&axis);
        if !after.is_finite() || after <= DROP_COLUMN * before {
            break;
        }
        for a in &mut axis {
            *a /= after;
        }
        // Sign: the largest |loading| (the first of equals, in feature order) is positive.
        let mut largest = 0.0_f64;
        let mut sign = 1.0;
        for &a in &axis {
            if a.abs() > largest {
                largest = a.abs();
                sign = if a < 0.0 { -1.0 } else { 1.0 };
            }
        }
        if sign < 0.0 {
            for a in &mut axis {
                *a = -*a;
            }
        }
        axes.push(axis);
    }
    axes
}

/// The Euclidean norm.
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The dot product, with four partial sums (which lets the compiler vectorize it).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut partial = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a_rest, b_rest) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            partial[k] += x[k] * y[k];
        }
    }
    let rest: f64 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    (partial[0] + partial[1]) + (partial[2] + partial[3]) + rest
}

/// Orthonormalizes the columns of a row-major matrix of width `l` by modified
/// Gram–Schmidt, with a second pass for a column that lost much of its norm
/// in the first ("twice is enough"). A column that falls
/// into the span of the previous ones is set to zero, so the result has
/// orthonormal or zero columns. The work is done on a column-major copy, so
/// that each step reads two contiguous columns rather than the whole matrix.
fn orthonormalize(a: &mut [f64], l: usize) {
    let rows = a.len() / l;
    let mut columns = vec![0.0; rows * l];
    for (i, row) in a.chunks_exact(l).enumerate() {
        for (j, &x) in row.iter().enumerate() {
            columns[j * rows + i] = x;
        }
    }
    for j in 0..l {
        let (done, rest) = columns.split_at_mut(j * rows);
        let column = &mut rest[..rows];
        let before = dot(column, column).sqrt();
        let mut after = before;
        for pass in 0..2 {
            // A second pass only when the first removed much of the column
            // (Daniel, Gragg, Kaufman & Stewart's criterion): then rounding may
            // have left it not quite orthogonal to the previous ones.
            if pass == 1 && after >= REORTHOGONALIZE * before {
                break;
            }
            for previous in done.chunks_exact(rows) {
                let r = dot(previous, column);
                if r != 0.0 {
                    for (x, p) in column.iter_mut().zip(previous) {
                        *x -= r * p;
                    }
                }
            }
            after = dot(column, column).sqrt();
        }
        let factor = if before > 0.0 && after > DROP_COLUMN * before && after.is_finite() {
            1.0 / after
        } else {
            0.0
        };
        for x in column.iter_mut() {
            *x *= factor;
        }
    }
    for (i, row) in a.chunks_exact_mut(l).enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = columns[j * rows + i];
        }
    }
}

/// The eigen-decomposition of the symmetric `l × l` row-major matrix `a` by
/// cyclic Jacobi rotations: the eigenvalues (in no particular order), and the
/// eigenvectors as the columns of an `l × l` row-major matrix. `a` is left
/// (nearly) diagonal.
fn jacobi(a: &mut [f64], l: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; l * l];
    for p in 0..l {
        v[p * l + p] = 1.0;
    }
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..l {
            for q in p + 1..l {
                let apq = a[p * l + q];
                let (app, aqq) = (a[p * l + p], a[q * l + q]);
                if apq == 0.0 {
                    continue;
                }
                // Negligible next to both diagonal entries: it would not change them.
                if app.abs() + 1e-3 * apq.abs() == app.abs() && aqq.abs() + 1e-3 * apq.abs() == aqq.abs() {
                    a[p * l + q] = 0.0;
                    a[q * l + p] = 0.0;
                    continue;
                }
                rotated = true;
                let theta = (aqq - app) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← Aᵀ-rotation: columns p and q, then rows p and q.
                for row in a.chunks_exact_mut(l) {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
                for k in 0..l {
                    let (x, y) = (a[p * l + k], a[q * l + k]);
                    a[p * l + k] = c * x - s * y;
                    a[q * l + k] = s * x + c * y;
                }
                a[p * l + q] = 0.0;
                a[q * l + p] = 0.0;
                for row in v.chunks_exact_mut(l) {
                    let (x, y) = (row[p], row[q]);
                    row[p] = c * x - s * y;
                    row[q] = s * x + c * y;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let values = (0..l).map(|p| a[p * l + p]).collect();
    (values, v)
}

/// splitmix64's output function applied to `x + γ`: a bijective 64-bit mix.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Entry (`feature`, `column`) of the random test matrix: the sum of four
/// 16-bit uniforms cut from one hash, centred and scaled to unit variance
/// (Irwin–Hall, close enough to a Gaussian for a sketch).
fn gaussianish(seed_mix: u64, feature: u32, column: usize) -> f64 {
    let key = (u64::from(feature) << 8) | (column as u64 & 0xff);
    let h = splitmix64(key ^ seed_mix);
    let sum = (h & 0xffff) + ((h >> 16) & 0xffff) + ((h >> 32) & 0xffff) + (h >> 48);
    // Four uniforms on 0..=65535: mean 2·65535, variance ≈ 65536²/3.
    (sum as f64 - 2.0 * 65535.0) * (3.0_f64.sqrt() / 65536.0)
}

/// A fast hasher for feature indices (splitmix64 of the index), for the loadings map.
#[derive(Clone, Copy, Debug, Default)]
struct FeatureHasher(u64);

impl Hasher for FeatureHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = splitmix64(self.0 ^ u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = splitmix64(self.0 ^ u64::from(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::Instant;

    /// A tiny deterministic generator for test data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(1);
            splitmix64(self.0)
        }

        /// Uniform in [0, 1).
        fn uniform(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A sparse vector from (index, value) pairs in any order (repeats add up), L2-normalized.
    fn normalized(pairs: &[(u32, f64)]) -> SparseVec {
        let mut map = std::collections::BTreeMap::new();
        for &(i, x) in pairs {
            *map.entry(i).or_insert(0.0) += x;
        }
        map.retain(|_, x| *x != 0.0);
        let n = map.values().map(|x| x * x).sum::<f64>().sqrt();
        SparseVec {
            indices: map.keys().copied().collect(),
            values: map.values().map(|x| x / n).collect(),
        }
    }

    fn raw(pairs: &[(u32, f64)]) -> SparseVec {
        SparseVec {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// The loadings of the axes as seen through `project`: e_f's coordinates minus the empty vector's.
    fn loading(p: &Projection, feature: u32) -> [f64; 2] {
        let origin = p.project(&SparseVec::default());
        let e = p.project(&raw(&[(feature, 1.0)]));
        [e[0] - origin[0], e[1] - origin[1]]
    }

    fn assert_all_zero(p: &Projection, probes: &[SparseVec]) {
        assert_eq!(p.explained(), [0.0, 0.0]);
        for v in probes {
            assert_eq!(p.project(v), [0.0, 0.0], "{v:?}");
        }
    }

    /// Two clusters of log-like vectors with disjoint own features and shared noise features.
    fn two_clusters(rng: &mut Rng, per_cluster: usize) -> (Vec<SparseVec>, Vec<SparseVec>) {
        let make = |rng: &mut Rng, own: &[u32]| -> SparseVec {
            let mut pairs: Vec<(u32, f64)> = own.iter().map(|&f| (f, 0.7 + 0.6 * rng.uniform())).collect();
            for _ in 0..3 {
                // Noise: shared features 500..540, small weights of either sign.
                pairs.push((500 + rng.below(40) as u32, 0.4 * (rng.uniform() - 0.5)));
            }
            normalized(&pairs)
        };
        let a = (0..per_cluster).map(|_| make(rng, &[10, 20, 30, 40])).collect();
        let b = (0..per_cluster)
            .map(|_| make(rng, &[1000, 2000, 3000, u32::MAX]))
            .collect();
        (a, b)
    }

    #[test]
    fn separable_clusters_separate_along_the_first_axis() {
        let mut rng = Rng(7);
        let (a, b) = two_clusters(&mut rng, 150);
        let baseline: Vec<SparseVec> = a.iter().chain(&b).cloned().collect();
        let p = Projection::fit(&baseline, 42);
        let xa: Vec<f64> = a.iter().map(|v| p.project(v)[0]).collect();
        let xb: Vec<f64> = b.iter().map(|v| p.project(v)[0]).collect();
        let (a_min, a_max) = xa
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let (b_min, b_max) = xb
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(
            a_max < b_min || b_max < a_min,
            "A [{a_min}, {a_max}] B [{b_min}, {b_max}]"
        );
        // The gap is wide compared with each cluster's spread.
        let gap = (b_min - a_max).max(a_min - b_max);
        assert!(gap > 2.0 * (a_max - a_min).max(b_max - b_min), "gap {gap}");
        let explained = p.explained();
        assert!(explained[0] > 0.5 && explained[1] < explained[0], "{explained:?}");
        // A target line unlike both clusters stands apart from both.
        let odd = normalized(&[(10, 1.0), (20, 1.0), (1000, -1.0), (2000, -1.0), (505, 1.0)]);
        let odd_y = p.project(&odd);
        assert!(odd_y.iter().all(|c| c.is_finite()));
    }

    /// Largest eigenpair of a symmetric dense matrix by power iteration.
    fn power_iteration(c: &[Vec<f64>]) -> (f64, Vec<f64>) {
        let d = c.len();
        let mut v: Vec<f64> = (0..d).map(|i| 1.0 + 0.01 * i as f64).collect();
        let mut lambda = 0.0;
        for _ in 0..100_000 {
            let w: Vec<f64> = (0..d).map(|i| (0..d).map(|j| c[i][j] * v[j]).sum()).collect();
            let n = norm(&w);
            let next: Vec<f64> = w.iter().map(|x| x / n).collect();
            let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = next;
            lambda = n;
            if change < 1e-15 {
                break;
            }
        }
        (lambda, v)
    }

    #[test]
    fn first_axis_matches_brute_force_pca() {
        // 80 vectors over 30 features: three latent directions of decreasing strength plus noise.
        let mut rng = Rng(11);
        let d = 30usize;
        let directions: Vec<Vec<f64>> = (0..3).map(|_| (0..d).map(|_| rng.uniform() - 0.5).collect()).collect();
        let strengths = [3.0, 1.5, 0.6];
        let base: Vec<f64> = (0..d).map(|_| rng.uniform()).collect();
        let vectors: Vec<SparseVec> = (0..80)
            .map(|_| {
                let mut x = base.clone();
                for (dir, s) in directions.iter().zip(strengths) {
                    let coefficient = s * (rng.uniform() - 0.5);
                    for (xi, di) in x.iter_mut().zip(dir) {
                        *xi += coefficient * di;
                    }
                }
                // Sparse-ish: a few features off, plus noise; hashed-like large indices.
                let mut pairs: Vec<(u32, f64)> = Vec::new();
                for (i, xi) in x.iter().enumerate() {
                    if rng.uniform() > 0.1 {
                        pairs.push((i as u32 * 30_011 + 7, xi + 0.05 * (rng.uniform() - 0.5)));
                    }
                }
                raw(&pairs)
            })
            .collect();

        // Brute force: the explicit covariance over the 30 features.
        let n = vectors.len() as f64;
        let dense: Vec<Vec<f64>> = vectors
            .iter()
            .map(|v| {
                let mut row = vec![0.0; d];
                for (&i, &x) in v.indices.iter().zip(&v.values) {
                    row[((i - 7) / 30_011) as usize] = x;
                }
                row
            })
            .collect();
        let mean: Vec<f64> = (0..d).map(|j| dense.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let mut cov = vec![vec![0.0; d]; d];
        for r in &dense {
            for i in 0..d {
                for j in 0..d {
                    cov[i][j] += (r[i] - mean[i]) * (r[j] - mean[j]) / n;
                }
            }
        }
        let trace: f64 = (0..d).map(|i| cov[i][i]).sum();
        let (lambda1, v1) = power_iteration(&cov);
        let mut deflated = cov.clone();
        for i in 0..d {
            for j in 0..d {
                deflated[i][j] -= lambda1 * v1[i] * v1[j];
            }
        }
        let (lambda2, v2) = power_iteration(&deflated);

        let p = Projection::fit(&vectors, 1);
        let explained = p.explained();
        assert!(
            (explained[0] - lambda1 / trace).abs() < 1e-6,
            "{explained:?} vs {}",
            lambda1 / trace
        );
        assert!(
            (explained[1] - lambda2 / trace).abs() < 1e-6,
            "{explained:?} vs {}",
            lambda2 / trace
        );
        for (axis, want) in [(0, &v1), (1, &v2)] {
            let got: Vec<f64> = (0..d).map(|j| loading(&p, j as u32 * 30_011 + 7)[axis]).collect();
            let cosine: f64 = got.iter().zip(want).map(|(a, b)| a * b).sum::<f64>() / (norm(&got) * norm(want));
            assert!(
                (cosine.abs() - 1.0).abs() < 1e-6,
                "axis {axis}: |cos| = {}",
                cosine.abs()
            );
        }
        // Coordinates are the centred data times the axes.
        for (v, r) in vectors.iter().zip(&dense) {
            let got = p.project(v);
            let want: f64 = (0..d)
                .map(|j| (r[j] - mean[j]) * loading(&p, j as u32 * 30_011 + 7)[0])
                .sum();
            assert!((got[0] - want).abs() < 1e-9, "{got:?} vs {want}");
        }
    }

    #[test]
    fn same_seed_same_output_and_seeds_agree() {
        let mut rng = Rng(3);
        let (a, b) = two_clusters(&mut rng, 60);
        let baseline: Vec<SparseVec> = a.iter().chain(&b).cloned().collect();
        let p1 = Projection::fit(&baseline, 99);
        let p2 = Projection::fit(&baseline, 99);
        assert_eq!(p1, p2);
        for v in &baseline {
            assert_eq!(p1.project(v).map(f64::to_bits), p2.project(v).map(f64::to_bits));
        }
        // Another seed finds the same leading axis with the same sign (the second
        // may differ where the spectrum has near-ties).
        let p3 = Projection::fit(&baseline, 100);
        for v in &baseline {
            assert!((p1.project(v)[0] - p3.project(v)[0]).abs() < 1e-6);
        }
    }

    #[test]
    fn sign_convention_makes_the_largest_loading_positive() {
        let mut rng = Rng(5);
        let (a, b) = two_clusters(&mut rng, 40);
        let baseline: Vec<SparseVec> = a.iter().chain(&b).cloned().collect();
        let p = Projection::fit(&baseline, 0);
        for axis in 0..2 {
            let largest = p
                .loadings
                .values()
                .map(|l| l[axis])
                .fold(0.0_f64, |m, x| if x.abs() > m.abs() { x } else { m });
            assert!(largest > 0.0, "axis {axis}: {largest}");
        }
    }

    #[test]
    fn degenerate_inputs_give_zero_maps() {
        let probes = [
            SparseVec::default(),
            normalized(&[(1, 1.0), (2, 2.0)]),
            raw(&[(u32::MAX, 1.0)]),
            raw(&[(3, f64::NAN), (4, f64::INFINITY)]),
        ];
        // No vectors.
        assert_all_zero(&Projection::fit(&[], 0), &probes);
        // One vector.
        let one = normalized(&[(1, 1.0), (7, -3.0), (u32::MAX, 0.5)]);
        assert_all_zero(&Projection::fit(std::slice::from_ref(&one), 0), &probes);
        // Identical vectors, with values whose mean rounds (thirds, sevenths).
        let same = normalized(&[(1, 1.0 / 3.0), (5, 1.0 / 7.0), (9, 0.1), (u32::MAX - 1, 0.3)]);
        let copies = vec![same.clone(); 1000];
        assert_all_zero(&Projection::fit(&copies, 0), &probes);
        // Empty vectors only, and vectors with only zero or non-finite values.
        assert_all_zero(&Projection::fit(&vec![SparseVec::default(); 5], 0), &probes);
        let junk = [
            raw(&[(1, 0.0)]),
            raw(&[(2, f64::NAN), (3, f64::NEG_INFINITY)]),
            SparseVec::default(),
        ];
        assert_all_zero(&Projection::fit(&junk, 0), &probes);
    }

    #[test]
    fn fewer_than_two_directions_give_one_axis() {
        // Two distinct points, repeated: rank one after centring.
        let x = normalized(&[(1, 1.0), (2, 1.0)]);
        let y = normalized(&[(2, 1.0), (u32::MAX, 1.0)]);
        let baseline: Vec<SparseVec> = (0..20)
            .map(|i| if i % 3 == 0 { x.clone() } else { y.clone() })
            .collect();
        let p = Projection::fit(&baseline, 5);
        let explained = p.explained();
        assert!(
            (explained[0] - 1.0).abs() < 1e-12 && explained[1] == 0.0,
            "{explained:?}"
        );
        let (px, py) = (p.project(&x), p.project(&y));
        assert_eq!((px[1], py[1]), (0.0, 0.0));
        // ‖x − y‖ = 1, all of it along the axis.
        assert!(((px[0] - py[0]).abs() - 1.0).abs() < 1e-12, "{px:?} {py:?}");
        // Mean of the baseline's coordinates is the origin.
        let centre = (7.0 * px[0] + 13.0 * py[0]) / 20.0;
        assert!(centre.abs() < 1e-12, "{centre}");

        // Collinear points: x_t = a + t·b.
        let line: Vec<SparseVec> = (0..10)
            .map(|t| raw(&[(0, 1.0), (4, t as f64), (u32::MAX, -0.5 * t as f64)]))
            .collect();
        let p = Projection::fit(&line, 5);
        assert!((p.explained()[0] - 1.0).abs() < 1e-12 && p.explained()[1] == 0.0);
        let coordinates: Vec<[f64; 2]> = line.iter().map(|v| p.project(v)).collect();
        for w in coordinates.windows(2) {
            let step = (w[1][0] - w[0][0]).abs();
            assert!((step - 1.25_f64.sqrt()).abs() < 1e-9, "{step}");
            assert_eq!(w[1][1], 0.0);
        }

        // A single feature: one axis, along it.
        let single: Vec<SparseVec> = (1..6).map(|k| raw(&[(123, k as f64)])).collect();
        let p = Projection::fit(&single, 5);
        assert_eq!(p.explained(), [1.0, 0.0]);
        assert_eq!(p.project(&raw(&[(123, 3.0)])), [0.0, 0.0]);
        assert_eq!(p.project(&raw(&[(123, 5.0)])), [2.0, 0.0]);
        assert_eq!(p.project(&raw(&[(124, 5.0)])), [-3.0, 0.0]);

        // Empty vectors are points at the origin: an empty and a non-empty vector differ.
        let p = Projection::fit(&[SparseVec::default(), raw(&[(8, 1.0)])], 5);
        assert_eq!(p.explained(), [1.0, 0.0]);
        assert_eq!(p.project(&SparseVec::default()), [-0.5, 0.0]);
        assert_eq!(p.project(&raw(&[(8, 1.0)])), [0.5, 0.0]);
    }

    #[test]
    fn huge_indices_and_malformed_vectors_are_handled() {
        let baseline = vec![
            raw(&[(0, 1.0), (u32::MAX, 1.0)]),
            raw(&[(u32::MAX - 1, 1.0), (u32::MAX, -1.0)]),
            // Unsorted, repeated, lengths that disagree, non-finite values.
            SparseVec {
                indices: vec![u32::MAX, 0, u32::MAX, 5, 6],
                values: vec![0.5, 1.0, 0.5, f64::NAN],
            },
            SparseVec {
                indices: vec![1],
                values: vec![2.0, 3.0, 4.0],
            },
        ];
        let p = Projection::fit(&baseline, 17);
        let explained = p.explained();
        assert!(
            explained[0] > 0.0 && explained[0] + explained[1] <= 1.0 + 1e-12,
            "{explained:?}"
        );
        for v in &baseline {
            assert!(p.project(v).iter().all(|c| c.is_finite()));
        }
        // Repeats add up: {MAX: 0.5, 0: 1.0, MAX: 0.5} equals {0: 1.0, MAX: 1.0}.
        assert_eq!(p.project(&baseline[0]), p.project(&baseline[2]));
        // Huge and tiny magnitudes: scaled, not overflowed.
        for magnitude in [1e300, 1e-300, 5e-324] {
            let scaled: Vec<SparseVec> = baseline
                .iter()
                .map(|v| SparseVec {
                    indices: v.indices.clone(),
                    values: v.values.iter().map(|x| x * magnitude).collect(),
                })
                .collect();
            let q = Projection::fit(&scaled, 17);
            for v in scaled.iter().chain(&baseline) {
                assert!(q.project(v).iter().all(|c| c.is_finite()));
            }
            assert!(q.explained().iter().all(|e| (0.0..=1.0).contains(e)));
        }
        // Extreme values when projecting.
        let wild = raw(&[
            (0, f64::MAX),
            (u32::MAX, f64::MAX),
            (u32::MAX - 1, -f64::MAX),
            (1, f64::NAN),
        ]);
        assert!(p.project(&wild).iter().all(|c| c.is_finite()));
    }

    #[test]
    fn jacobi_diagonalizes() {
        let mut rng = Rng(9);
        for l in 1..=10 {
            let mut a = vec![0.0; l * l];
            for p in 0..l {
                for q in p..l {
                    let x = rng.uniform() - 0.5;
                    a[p * l + q] = x;
                    a[q * l + p] = x;
                }
            }
            let original = a.clone();
            let (values, v) = jacobi(&mut a, l);
            // A v_k = λ_k v_k, and V is orthogonal.
            for k in 0..l {
                for p in 0..l {
                    let av: f64 = (0..l).map(|q| original[p * l + q] * v[q * l + k]).sum();
                    assert!((av - values[k] * v[p * l + k]).abs() < 1e-12);
                }
                for m in 0..l {
                    let dot: f64 = (0..l).map(|p| v[p * l + k] * v[p * l + m]).sum();
                    assert!((dot - if k == m { 1.0 } else { 0.0 }).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn gram_schmidt_gives_orthonormal_or_zero_columns() {
        let mut rng = Rng(13);
        let (rows, l) = (50, 6);
        let mut a: Vec<f64> = (0..rows * l).map(|_| rng.uniform() - 0.5).collect();
        // Column 3 = column 0 + column 1: dependent.
        for r in a.chunks_exact_mut(l) {
            r[3] = r[0] + r[1];
        }
        orthonormalize(&mut a, l);
        for j in 0..l {
            for k in 0..l {
                let dot: f64 = a.chunks_exact(l).map(|r| r[j] * r[k]).sum();
                let want = if j == k && j != 3 { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "({j}, {k}): {dot}");
            }
        }
    }

    fn index_strategy() -> impl Strategy<Value = u32> {
        prop_oneof![0u32..24, (u32::MAX - 3)..=u32::MAX, any::<u32>()]
    }

    fn sparse_strategy() -> impl Strategy<Value = SparseVec> {
        prop::collection::btree_map(index_strategy(), -2.0f64..2.0, 0..8).prop_map(|m| SparseVec {
            indices: m.keys().copied().collect(),
            values: m.values().copied().collect(),
        })
    }

    fn baseline_strategy() -> impl Strategy<Value = Vec<SparseVec>> {
        (
            prop::collection::vec(sparse_strategy(), 0..40),
            prop::collection::vec(any::<prop::sample::Index>(), 0..20),
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

    /// Anything: unsorted, repeated, mismatched lengths, every f64 including NaN and ±∞.
    fn wild_strategy() -> impl Strategy<Value = SparseVec> {
        (
            prop::collection::vec(index_strategy(), 0..8),
            prop::collection::vec(prop::num::f64::ANY, 0..8),
        )
            .prop_map(|(indices, values)| SparseVec { indices, values })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn coordinates_are_finite_and_consistent(
            baseline in baseline_strategy(),
            others in prop::collection::vec(sparse_strategy(), 0..6),
            seed in any::<u64>(),
        ) {
            let p = Projection::fit(&baseline, seed);
            let explained = p.explained();
            prop_assert!(explained.iter().all(|e| (0.0..=1.0).contains(e)));
            prop_assert!(explained[0] + explained[1] <= 1.0 + 1e-9);
            prop_assert!(explained[1] <= explained[0]);
            let mut sums = [0.0; 2];
            let mut squares = [0.0; 2];
            for v in baseline.iter().chain(&others) {
                let c = p.project(v);
                prop_assert!(c.iter().all(|x| x.is_finite()), "{:?}", c);
            }
            for v in &baseline {
                let c = p.project(v);
                for j in 0..2 {
                    sums[j] += c[j];
                    squares[j] += c[j] * c[j];
                }
            }
            // Centred: the baseline's coordinates average to zero; and their
            // spread along an axis is its explained share of the total variance.
            let n = baseline.len().max(1) as f64;
            let mut total = 0.0;
            if !baseline.is_empty() {
                let mut mean = std::collections::BTreeMap::new();
                for v in &baseline {
                    for (&i, &x) in v.indices.iter().zip(&v.values) {
                        *mean.entry(i).or_insert(0.0) += x / n;
                    }
                }
                for v in &baseline {
                    let mut d = mean.clone();
                    for (&i, &x) in v.indices.iter().zip(&v.values) {
                        if let Some(m) = d.get_mut(&i) {
                            *m -= x;
                        }
                    }
                    total += d.values().map(|x| x * x).sum::<f64>();
                }
            }
            for j in 0..2 {
                prop_assert!(sums[j].abs() <= 1e-9 * n, "{:?}", sums);
                if explained[j] > 0.0 {
                    prop_assert!((squares[j] - explained[j] * total).abs() <= 1e-9 * total.max(1.0),
                        "{} vs {}", squares[j], explained[j] * total);
                }
            }
        }

        #[test]
        fn wild_inputs_never_panic_or_give_non_finite_coordinates(
            baseline in prop::collection::vec(wild_strategy(), 0..20),
            others in prop::collection::vec(wild_strategy(), 0..6),
            seed in any::<u64>(),
        ) {
            let p = Projection::fit(&baseline, seed);
            prop_assert!(p.explained().iter().all(|e| (0.0..=1.0).contains(e)));
            for v in baseline.iter().chain(&others) {
                let c = p.project(v);
                prop_assert!(c.iter().all(|x| x.is_finite()), "{:?}", c);
            }
        }
    }

    /// Log-like vectors: templates of fixed words plus a few variable words, hashed to 2^20 features.
    fn log_like(count: usize, nnz: usize, seed: u64) -> Vec<SparseVec> {
        let mut rng = Rng(seed);
        let templates: Vec<Vec<u32>> = (0..300)
            .map(|_| (0..nnz - 5).map(|_| rng.below(1 << 20) as u32).collect())
            .collect();
        (0..count)
            .map(|_| {
                // Skewed template frequencies, as in real logs: a few templates make most lines.
                let u = rng.uniform();
                let t = &templates[(u * u * u * templates.len() as f64) as usize];
                let mut pairs: Vec<(u32, f64)> = t.iter().map(|&f| (f, if f % 2 == 0 { 1.0 } else { -1.0 })).collect();
                for _ in 0..5 {
                    pairs.push((rng.below(1 << 20) as u32, 1.0));
                }
                normalized(&pairs)
            })
            .collect()
    }

    /// Run with `cargo test --release -- --ignored --nocapture projection_speed`.
    #[test]
    #[ignore]
    fn projection_speed() {
        let vectors = log_like(20_000, 20, 1);
        let nnz: usize = vectors.iter().map(|v| v.indices.len()).sum();
        for run in 0..3 {
            let start = Instant::now();
            let p = Projection::fit(&vectors, run);
            let fit = start.elapsed();
            let start = Instant::now();
            let mut checksum = 0.0;
            for v in &vectors {
                let c = p.project(v);
                checksum += c[0] + c[1];
            }
            let project = start.elapsed();
            println!(
                "run {run}: fit {} vectors ({nnz} non-zeros, {} features) in {:.1} ms; \
                 projected them in {:.2} ms ({:.0} ns/vector); explained {:?}; checksum {checksum:.3e}",
                vectors.len(),
                p.loadings.len(),
                fit.as_secs_f64() * 1e3,
                project.as_secs_f64() * 1e3,
                project.as_secs_f64() * 1e9 / vectors.len() as f64,
                p.explained(),
            );
        }
    }
}
