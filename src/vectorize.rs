//! Vectorize: turn a normalized key into a sparse, L2-normalized vector with the
//! hashing trick, bit-compatible with scikit-learn's `HashingVectorizer`.
//!
//! A key is cut into tokens (see [`Tokenizer`]), each token is hashed with
//! MurmurHash3 ([`murmur3_32`]) to a column in `0..n_features`, the sign of the
//! hash decides whether it adds +1 or −1 there (`alternate_sign=True`, which
//! keeps inner products unbiased when two tokens collide), and the row is
//! divided by its Euclidean norm. With [`Tokenizer::Sklearn`] and
//! [`DEFAULT_N_FEATURES`] the result equals
//! `HashingVectorizer().transform([key])` of scikit-learn, so baselines can be
//! compared with Python tooling.
//!
//! What this module does not do: it does not decide which words matter (that
//! is [`crate::normalize`]), it keeps no vocabulary (hashing needs none, and
//! collisions are accepted), and it does not search ([`crate::index`]).
//!
//! Two deliberate differences from scikit-learn. When `+1` and `−1` for the
//! same column cancel out, scikit-learn keeps an explicit `0.0` in its sparse
//! matrix; we drop it. A zero contributes nothing to a norm or a dot product, so
//! cosine distances are identical, and dropping it keeps the index smaller.
//! And the `Sklearn` tokenizer scans for words itself rather than running the
//! regex `(?u)\b\w\w+\b`: the same matches, with Python's notion of a word
//! character, which the `regex` crate's `\w` does not share for combining
//! marks (only a few rare characters that Unicode calls alphabetic without
//! being letters still differ).

use std::borrow::Cow;
use std::cell::RefCell;

/// The number of hash columns honk uses unless told otherwise: 2^20, as
/// scikit-learn's `HashingVectorizer`.
pub const DEFAULT_N_FEATURES: u32 = 1 << 20;

/// How a normalized key is cut into the words that get hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tokenizer {
    /// honk's own: the key is already a space-separated list of tokens; hash each as it is.
    Honk,
    /// scikit-learn's `HashingVectorizer` defaults: lowercase, then words matching `\b\w\w+\b`.
    Sklearn,
}

crate::choices!(Tokenizer {
    Tokenizer::Honk => "honk", "honk's syscall- and log-aware tokens";
    Tokenizer::Sklearn => "sklearn", "scikit-learn HashingVectorizer's default tokenization (bit-compatible vectors)";
});

/// A sparse vector: indices strictly increasing, `values[i]` belongs to `indices[i]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseVec {
    /// The columns stored (hash columns, for a [`Vectorizer`]'s vectors), strictly increasing.
    pub indices: Vec<u32>,
    /// The value in each of those columns; a column not stored is 0.
    pub values: Vec<f64>,
}

impl SparseVec {
    /// The dot product, by merging the two index lists.
    ///
    /// Products are added in increasing index order starting from `0.0`; the
    /// index relies on exactly this order to reproduce the same bits.
    pub fn dot(&self, other: &SparseVec) -> f64 {
        dot_sorted(&self.indices, &self.values, &other.indices, &other.values)
    }

    /// True when the vector has no stored entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of stored entries.
    pub fn len(&self) -> usize {
        // Guard against hand-built vectors whose two lists disagree.
        self.indices.len().min(self.values.len())
    }
}

/// Dot product of two sparse vectors given as sorted index and value slices.
///
/// Mismatched slice lengths are tolerated (the extra entries are ignored)
/// so that a malformed vector cannot make this panic.
pub(crate) fn dot_sorted(ai: &[u32], av: &[f64], bi: &[u32], bv: &[f64]) -> f64 {
    let na = ai.len().min(av.len());
    let nb = bi.len().min(bv.len());
    let (ai, av, bi, bv) = (&ai[..na], &av[..na], &bi[..nb], &bv[..nb]);
    let (mut i, mut j) = (0, 0);
    let mut sum = 0.0;
    while i < na && j < nb {
        let (a, b) = (ai[i], bi[j]);
        if a < b {
            i += 1;
        } else if a > b {
            j += 1;
        } else {
            sum += av[i] * bv[j];
            i += 1;
            j += 1;
        }
    }
    sum
}

/// MurmurHash3_x86_32 of `data`, as a signed integer.
///
/// Equal to scikit-learn's `murmurhash3_32(key, seed, positive=False)`, which
/// hashes the UTF-8 bytes of a `str` key.
pub fn murmur3_32(data: &[u8], seed: u32) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;

    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }

    let tail = blocks.remainder();
    let mut k: u32 = 0;
    for (i, &byte) in tail.iter().enumerate() {
        k ^= u32::from(byte) << (8 * i);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }

    // The reference implementation takes an `int` length; truncation is what
    // it does for (absurd) inputs over 4 GiB.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// Turns keys into L2-normalized hashed bag-of-words vectors.
///
/// Cheap to clone and `Sync`: share one across threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vectorizer {
    n_features: u32,
    tokenizer: Tokenizer,
}

/// Per-thread working memory, so vectorizing a key allocates nothing but its
/// output once the buffers have grown.
#[derive(Default)]
struct Buffers {
    /// One entry per token: `column << 1 | (hash < 0)`, sorted to sum duplicates.
    keys: Vec<u64>,
    /// The lowercased key for [`Tokenizer::Sklearn`].
    lower: String,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

impl Vectorizer {
    /// A vectorizer hashing into `n_features` columns.
    ///
    /// # Panics
    ///
    /// If `n_features` is 0: there would be no column to hash into. Callers
    /// taking the value from a user should reject 0 first.
    pub fn new(n_features: u32, tokenizer: Tokenizer) -> Self {
        assert!(n_features >= 1, "n_features must be at least 1");
        Vectorizer { n_features, tokenizer }
    }

    /// The number of hash columns.
    pub fn n_features(&self) -> u32 {
        self.n_features
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> Tokenizer {
        self.tokenizer
    }

    /// The vector of `key`: indices strictly increasing, unit length (or empty
    /// when the key has no token, or all its tokens cancelled out).
    pub fn vectorize(&self, key: &str) -> SparseVec {
        let mut out = SparseVec::default();
        self.vectorize_into(key, &mut out);
        out
    }

    /// Like [`Vectorizer::vectorize`], but overwrites `out`, reusing its memory.
    pub fn vectorize_into(&self, key: &str, out: &mut SparseVec) {
        // Falling back to fresh buffers instead of panicking keeps this total
        // even during thread teardown; neither fallback happens in practice.
        let done = BUFFERS.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffers) => self.fill(key, out, &mut buffers),
            Err(_) => self.fill(key, out, &mut Buffers::default()),
        });
        if done.is_err() {
            self.fill(key, out, &mut Buffers::default());
        }
    }

    fn fill(&self, key: &str, out: &mut SparseVec, buffers: &mut Buffers) {
        let Buffers { keys, lower } = buffers;
        keys.clear();
        let mut push = |token: &str| keys.push(self.hash_key(token));
        match self.tokenizer {
            Tokenizer::Honk => key.split_ascii_whitespace().for_each(&mut push),
            Tokenizer::Sklearn => {
                let text = lowercase(key, lower);
                sklearn_tokens(&text, &mut push);
            }
        }
        keys.sort_unstable();
        sum_and_normalize(keys, out);
    }

    /// The sort key of one token: its column shifted left, and the sign in bit 0
    /// (set when the token subtracts).
    #[inline]
    fn hash_key(&self, token: &str) -> u64 {
        let h = murmur3_32(token.as_bytes(), 0);
        // `unsigned_abs` maps i32::MIN to 2^31, as numpy's abs on an int64 does.
        let column = h.unsigned_abs() % self.n_features;
        (u64::from(column) << 1) | u64::from(h < 0)
    }
}

/// Python's `str.lower()` of `key`, borrowing when nothing changes and reusing
/// `buf` for ASCII text (the common case) to avoid an allocation.
fn lowercase<'a>(key: &'a str, buf: &'a mut String) -> Cow<'a, str> {
    if key.is_ascii() {
        if !key.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Borrowed(key);
        }
        buf.clear();
        buf.push_str(key);
        buf.make_ascii_lowercase();
        Cow::Borrowed(buf.as_str())
    } else {
        // Full Unicode lowercasing (with final sigma), as Python does; rare
        // enough that its allocation does not matter.
        Cow::Owned(key.to_lowercase())
    }
}

/// Python's `\w` for a `str` pattern: `str.isalnum()` or `_`.
///
/// Rust's `char::is_alphanumeric` (Alphabetic or Numeric) agrees with Python
/// on letters and numbers, and like Python rejects combining accents and
/// connector punctuation, which the `regex` crate's `\w` would accept. It still
/// differs on the few non-letters Unicode calls Alphabetic (Indic vowel signs,
/// circled letters); we accept that.
#[inline]
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Calls `emit` with every match of scikit-learn's token pattern
/// `(?u)\b\w\w+\b` in `text`, in order.
///
/// A match starts at a word boundary and is greedy, so the matches are
/// exactly the maximal runs of word characters that are at least two
/// characters long; scanning for those directly is much faster than a regex.
fn sklearn_tokens(text: &str, mut emit: impl FnMut(&str)) {
    if text.is_ascii() {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !is_ascii_word(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_ascii_word(bytes[i]) {
                i += 1;
            }
            if i - start >= 2 {
                // Slicing an ASCII string at any byte is on a char boundary.
                emit(&text[start..i]);
            }
        }
        return;
    }

    let mut run_start = None; // byte offset of the current run
    let mut run_chars = 0usize;
    for (offset, c) in text.char_indices() {
        if is_word_char(c) {
            if run_start.is_none() {
                run_start = Some(offset);
                run_chars = 0;
            }
            run_chars += 1;
        } else if let Some(start) = run_start.take() {
            if run_chars >= 2 {
                emit(&text[start..offset]);
            }
        }
    }
    if let Some(start) = run_start {
        if run_chars >= 2 {
            emit(&text[start..]);
        }
    }
}

#[inline]
fn is_ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Writes into `out` the sum of the sorted token keys per column, without the
/// columns that cancelled out, divided by the Euclidean norm.
fn sum_and_normalize(keys: &[u64], out: &mut SparseVec) {
    out.indices.clear();
    out.values.clear();
    let mut i = 0;
    while i < keys.len() {
        let column = keys[i] >> 1;
        let mut value = 0i64;
        while i < keys.len() && keys[i] >> 1 == column {
            value += if keys[i] & 1 == 0 { 1 } else { -1 };
            i += 1;
        }
        if value != 0 {
            // The column came from a u32, so it fits.
            out.indices.push(column as u32);
            // Exact: token counts are far below 2^53.
            out.values.push(value as f64);
        }
    }
    // Same arithmetic as scikit-learn's `inplace_csr_row_normalize_l2`: sum of
    // squares in column order, one square root, then a division per entry.
    let sum_sq: f64 = out.values.iter().map(|v| v * v).sum();
    if sum_sq > 0.0 {
        let norm = sum_sq.sqrt();
        for v in &mut out.values {
            *v /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn murmur_matches_scikit_learn() {
        assert_eq!(murmur3_32(b"a", 0), 1_009_084_850);
        assert_eq!(murmur3_32(b"hello", 0), 613_153_351);
        assert_eq!(murmur3_32("Ünïcode".as_bytes(), 0), -258_622_410);
        assert_eq!(murmur3_32(b"a", 42), -1_293_573_533);
        assert_eq!(murmur3_32(b"jp2jsnr", 0), i32::MIN);
    }

    #[test]
    fn murmur_of_empty_input_is_the_finalized_seed() {
        // MurmurHash3_x86_32("", 0) is 0 by construction (fmix32(0) == 0).
        assert_eq!(murmur3_32(b"", 0), 0);
    }

    #[test]
    fn min_hash_lands_in_column_zero_with_negative_sign() {
        let v = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Honk);
        let out = v.vectorize("jp2jsnr");
        assert_eq!(out.indices, vec![0]);
        assert_eq!(out.values, vec![-1.0]);
        // 2^31 % 3 == 2, as numpy computes abs(-2^31) % n in int64.
        let three = Vectorizer::new(3, Tokenizer::Honk).vectorize("jp2jsnr");
        assert_eq!(three.indices, vec![2]);
    }

    #[test]
    fn sklearn_reference_vector() {
        let v = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Sklearn);
        let out = v.vectorize("openat AT_FDCWD etc passwd O_RDONLY");
        let x = 1.0 / 5f64.sqrt();
        assert_eq!(out.indices, vec![22773, 192301, 335827, 488287, 757616]);
        let bits: Vec<u64> = out.values.iter().map(|v| v.to_bits()).collect();
        let want: Vec<u64> = [-x, x, -x, x, -x].iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, want);
    }

    #[test]
    fn sklearn_lowercases_and_honk_does_not() {
        let sk = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Sklearn);
        assert_eq!(sk.vectorize("OPENAT Passwd"), sk.vectorize("openat passwd"));
        let honk = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Honk);
        assert_ne!(honk.vectorize("OPENAT"), honk.vectorize("openat"));
    }

    #[test]
    fn sklearn_drops_one_character_words_and_punctuation() {
        let mut tokens = Vec::new();
        sklearn_tokens("a bc, d-ef_g x1 é ça __ 7", |t| tokens.push(t.to_string()));
        assert_eq!(tokens, ["bc", "ef_g", "x1", "ça", "__"]);
        // A combining accent is not a word character in Python: "e\u{301}te"
        // yields only "te".
        let mut tokens = Vec::new();
        sklearn_tokens("e\u{301}te", |t| tokens.push(t.to_string()));
        assert_eq!(tokens, ["te"]);
    }

    #[test]
    fn honk_splits_on_ascii_whitespace_only() {
        let v = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Honk);
        let a = v.vectorize("  x\ty\n\u{a0}z ");
        let b = v.vectorize("x y \u{a0}z");
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn duplicates_add_up_and_cancellations_are_dropped() {
        // With one column every token collides; "a" is positive, "jp2jsnr" negative.
        let v = Vectorizer::new(1, Tokenizer::Honk);
        assert!(v.vectorize("a jp2jsnr").is_empty());
        let out = v.vectorize("a a jp2jsnr a");
        assert_eq!((out.indices, out.values), (vec![0], vec![1.0]));

        let v = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Honk);
        let out = v.vectorize("a b a");
        let a = v.vectorize("a").indices[0];
        let pos = out.indices.iter().position(|&i| i == a).unwrap_or(usize::MAX);
        assert!(pos < out.len());
        // "a" counts twice: 2/sqrt(5) against 1/sqrt(5).
        assert_eq!(out.values[pos].abs(), 2.0 / 5f64.sqrt());
    }

    #[test]
    fn empty_keys_give_empty_vectors() {
        for tokenizer in [Tokenizer::Honk, Tokenizer::Sklearn] {
            let v = Vectorizer::new(DEFAULT_N_FEATURES, tokenizer);
            assert!(v.vectorize("").is_empty());
            assert!(v.vectorize("   ").is_empty());
        }
        let sk = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Sklearn);
        assert!(sk.vectorize("a b c - ,").is_empty());
    }

    #[test]
    fn vectorize_into_reuses_and_overwrites() {
        let v = Vectorizer::new(DEFAULT_N_FEATURES, Tokenizer::Honk);
        let mut out = v.vectorize("many different tokens here");
        v.vectorize_into("one", &mut out);
        assert_eq!(out, v.vectorize("one"));
    }

    #[test]
    fn dot_merges_sorted_indices() {
        let a = SparseVec {
            indices: vec![1, 3, 5],
            values: vec![1.0, 2.0, 3.0],
        };
        let b = SparseVec {
            indices: vec![0, 3, 5, 9],
            values: vec![7.0, 10.0, 100.0, 1.0],
        };
        assert_eq!(a.dot(&b), 320.0);
        assert_eq!(b.dot(&a), 320.0);
        assert_eq!(a.dot(&SparseVec::default()), 0.0);
        // Mismatched lists are tolerated, not a panic.
        let bad = SparseVec {
            indices: vec![1, 3],
            values: vec![1.0],
        };
        assert_eq!(bad.len(), 1);
        assert_eq!(a.dot(&bad), 1.0);
    }

    fn regex_tokens(text: &str) -> Vec<String> {
        let re = regex::Regex::new(r"(?u)\b\w\w+\b").unwrap_or_else(|e| panic!("{e}"));
        re.find_iter(text).map(|m| m.as_str().to_string()).collect()
    }

    proptest! {
        #[test]
        fn scanner_matches_the_regex_on_ascii(text in "[a-zA-Z0-9_ .,:/()=-]{0,40}") {
            let mut tokens = Vec::new();
            sklearn_tokens(&text, |t| tokens.push(t.to_string()));
            prop_assert_eq!(tokens, regex_tokens(&text));
        }

        #[test]
        fn scanner_matches_the_regex_on_latin_letters(text in "[a-zäöüßéÀ_0-9 ,.]{0,30}") {
            let mut tokens = Vec::new();
            sklearn_tokens(&text, |t| tokens.push(t.to_string()));
            prop_assert_eq!(tokens, regex_tokens(&text));
        }

        #[test]
        fn vectors_are_sorted_and_unit(text in "[a-e ]{0,40}", n in 1u32..50) {
            for tokenizer in [Tokenizer::Honk, Tokenizer::Sklearn] {
                let v = Vectorizer::new(n, tokenizer).vectorize(&text);
                prop_assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(v.indices.iter().all(|&i| i < n));
                prop_assert!(v.values.iter().all(|&x| x != 0.0));
                if !v.is_empty() {
                    prop_assert!((v.dot(&v) - 1.0).abs() < 1e-12);
                }
            }
        }
    }
}
