//! Normalize: reduce a record to the words that carry its meaning.
//!
//! The result is a *key*: space-separated tokens. Two records with the same key
//! are the same behaviour and are scored once; the vectorizer hashes the key's
//! tokens. What is kept and what is dropped is honk's main lever on quality:
//!
//! - dropped: what varies at random between runs — pids, timestamps, durations,
//!   pointers and other hex, fd numbers, sizes, counts, UUIDs, IP addresses in
//!   text logs, and most of a data buffer;
//! - kept: what a program *does* — the syscall, its flag and errno names, file
//!   paths (whole, and each of their parts, with numeric and random-looking parts
//!   masked), the program and arguments of an `execve`, socket families,
//!   addresses and ports, and short words, which earlier tools dropped (`sh`,
//!   `-c`, `id`).
//!
//! This module is what all normalizers share: the key being built ([`Tokens`],
//! with its budget), which words are kept ([`keep_word`]), path masking
//! ([`mask_path`]), the run's places ([`roots`]) and the version of the rules
//! ([`VERSION`]; a change to any format's keys bumps it). The normalizers live
//! with their formats under [`crate::formats`]; [`normalize_in`] picks one per
//! record, in one place: text's for [`Kind::Text`], strace's for
//! [`Kind::Syscall`], [`Kind::Signal`] and [`Kind::Exit`] (strace's grammar,
//! whichever parser found it), and for a [`Kind::Event`] the normalizer its
//! [`Dialect`](crate::parse::Dialect) carries. This module does not hash,
//! weigh or compare anything.

pub mod roots;

use std::borrow::Cow;

use crate::formats::{strace, text};
use crate::parse::{Kind, Record};
pub use roots::Roots;

/// Version of the normalization rules; a model records the version that made its keys.
///
/// 2: paths under a run's own places are rebased (`$CWD`, `~`, `$TMP`); an fd's
/// path counts where it was opened, not on every call on it; the standard
/// streams' targets and socket inodes are dropped; ports count twice; more
/// generated names are masked.
///
/// 3: in a window of arguments (`--window-args`), an event's key longer than
/// 32 bytes counts as a hash of it; a vertical tab separates tokens like any
/// other white space.
pub const VERSION: u32 = 3;

/// Most tokens kept from one record; the rest of a very long record is ignored.
pub const MAX_TOKENS: usize = 64;

/// Most bytes kept from one token.
const MAX_TOKEN_BYTES: usize = 256;

/// Write the key of `record` into `key` (cleared first), with no run's roots known.
pub fn normalize(record: &Record, key: &mut String) {
    normalize_in(record, &Roots::new(), key);
}

/// Write the key of `record` into `key` (cleared first), with paths under the
/// run's `roots` rebased onto them.
pub fn normalize_in(record: &Record, roots: &Roots, key: &mut String) {
    key.clear();
    let text = record.text.as_str();
    let part = |range: &std::ops::Range<usize>| text.get(range.clone()).unwrap_or("");
    let mut out = Tokens::with_roots(key, roots);
    match &record.kind {
        Kind::Text => text::normalize::normalize(text, &mut out),
        Kind::Syscall { name, args, result } => {
            strace::normalize::syscall(part(name), part(args), part(result), &mut out)
        }
        Kind::Signal { body } => strace::normalize::signal(part(body), &mut out),
        Kind::Exit { body } => strace::normalize::exit(part(body), &mut out),
        Kind::Event {
            name,
            args,
            result,
            dialect,
        } => (dialect.normalize)(part(name), part(args), part(result), &mut out),
    }
}

/// The key of a record, as a new string.
pub fn key_of(record: &Record) -> String {
    let mut key = String::new();
    normalize(record, &mut key);
    key
}

/// The key of a record of a run whose places are `roots`, as a new string.
pub fn key_in(record: &Record, roots: &Roots) -> String {
    let mut key = String::new();
    normalize_in(record, roots, &mut key);
    key
}

/// No roots: what [`Tokens::new`] rebases paths onto.
static NO_ROOTS: Roots = Roots {
    work: None,
    home: None,
    temps: Vec::new(),
};

/// Appends tokens to a key: space-separated, no whitespace inside a token, capped
/// in count and length so a hostile line costs bounded work downstream.
pub struct Tokens<'a> {
    key: &'a mut String,
    count: usize,
    roots: &'a Roots,
}

impl<'a> Tokens<'a> {
    /// Tokens written to `key`, which should be empty.
    pub fn new(key: &'a mut String) -> Self {
        Tokens {
            key,
            count: 0,
            roots: &NO_ROOTS,
        }
    }

    /// Tokens written to `key`, with paths rebased onto a run's `roots`.
    pub fn with_roots(key: &'a mut String, roots: &'a Roots) -> Self {
        Tokens { key, count: 0, roots }
    }

    /// `path` relative to the run's root it lies under, or as it is.
    pub fn rebase<'p>(&self, path: &'p str) -> Cow<'p, str> {
        self.roots.rebase(path)
    }

    /// Whether the token budget is spent.
    pub fn full(&self) -> bool {
        self.count >= MAX_TOKENS
    }

    /// Append one token; empty tokens are ignored.
    pub fn push(&mut self, token: &str) {
        if token.is_empty() || self.full() {
            return;
        }
        if self.count > 0 {
            self.key.push(' ');
        }
        self.count += 1;
        let mut token = token;
        if token.len() > MAX_TOKEN_BYTES {
            let mut end = MAX_TOKEN_BYTES;
            while !token.is_char_boundary(end) {
                end -= 1;
            }
            token = &token[..end];
        }
        // One byte scan decides; only tokens with spaces or non-ASCII text take the slow path
        // (the vertical tab is whitespace to `char` but not to `u8::is_ascii_whitespace`).
        if token.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0b || b >= 0x80)
            && token.chars().any(char::is_whitespace)
        {
            // Spaces separate tokens in a key, so a path with a space keeps it as `_`.
            self.key
                .extend(token.chars().map(|c| if c.is_whitespace() { '_' } else { c }));
        } else {
            self.key.push_str(token);
        }
    }

    /// Append a token made of two parts, e.g. `port=` and `22`.
    pub fn push_pair(&mut self, prefix: &str, value: &str) {
        if value.is_empty() || self.full() {
            return;
        }
        let mut token = String::with_capacity(prefix.len() + value.len());
        token.push_str(prefix);
        token.push_str(value);
        self.push(&token);
    }
}

/// Whether a word is worth keeping, or varies at random (numbers, hex, ids).
///
/// Kept: words of two or more characters with at least one letter, e.g. `sh`,
/// `id`, `ssh`, `python3`, `ipv6`, `sha256`. Dropped: numbers, words that start
/// with a digit (`123ms`), short letter+digit codes (`J12`, `M1`), hex with a
/// digit in it (`7fa3c2`), and long words dense in digits (`a8f3k29d0q`).
pub fn keep_word(word: &str) -> bool {
    let mut chars = 0usize;
    let mut letters = 0usize;
    let mut digits = 0usize;
    let mut all_hex = true;
    for c in word.chars() {
        chars += 1;
        if c.is_ascii_digit() {
            digits += 1;
        } else if c.is_alphabetic() {
            letters += 1;
            if !c.is_ascii_hexdigit() {
                all_hex = false;
            }
        } else {
            all_hex = false;
        }
    }
    if chars < 2 || letters == 0 || word.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    if digits == 0 {
        return true;
    }
    !(letters < 2 || (all_hex && chars >= 4) || (digits >= 3 && chars >= 8))
}

/// Split `s` into words (runs of letters, digits and `_`) and append the ones
/// [`keep_word`] accepts, at most `max` of them.
pub fn push_words(s: &str, max: usize, out: &mut Tokens) {
    let mut kept = 0;
    for word in s.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if kept >= max || out.full() {
            break;
        }
        let word = word.trim_matches('_');
        if keep_word(word) {
            out.push(word);
            kept += 1;
        }
    }
}

/// Whether a string is written as a path (absolute, relative to `.` or `..`, or home).
pub fn looks_like_path(s: &str) -> bool {
    s.starts_with('/') || s.starts_with("./") || s.starts_with("../") || s.starts_with("~/")
}

/// Mask the parts of one path component that vary at random: a numeric component
/// becomes `N`, digit runs of four or more become `N`, and random-looking runs
/// (`tmp.x8Kq2Lz9`, hex object names) become `*`. Names like `libc.so.6`,
/// `python3.11` and `ld-linux-x86-64.so.2` stay as they are.
pub fn mask_component(component: &str, in_tmp: bool, out: &mut String) {
    if !component.is_empty() && component.bytes().all(|b| b.is_ascii_digit()) {
        out.push('N');
        return;
    }
    if in_tmp {
        if let Some(kept) = tempfile_prefix(component) {
            out.push_str(kept);
            out.push('*');
            return;
        }
    }
    // mktemp-style names: a `tmp` prefix, then random characters after a separator
    // (`tmp.kG3x9A`, git's `tmp_obj_teh467`).
    let random_tail = component
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("tmp"))
        .then(|| component.char_indices().rev().find(|&(_, c)| !c.is_alphanumeric()))
        .flatten()
        .filter(|&(at, _)| component.len() - at > 6)
        // Up to the end of the separator, which may be more than one byte.
        .map(|(at, c)| at + c.len_utf8());
    let (component, tail) = match random_tail {
        Some(end) => (&component[..end], true),
        None => (component, false),
    };
    let mut rest = component;
    while !rest.is_empty() {
        let run_end = rest
            .char_indices()
            .find(|&(_, c)| !c.is_alphanumeric())
            .map_or(rest.len(), |(i, _)| i);
        if run_end == 0 {
            // A separator such as `.`, `-` or `_`: copy it.
            let c = rest.chars().next().unwrap_or('_');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let run = &rest[..run_end];
        out.push_str(mask_run(run, in_tmp));
        rest = &rest[run_end..];
    }
    if tail {
        out.push('*');
    }
}

fn mask_run(run: &str, in_tmp: bool) -> &str {
    let len = run.chars().count();
    let digits = run.bytes().filter(u8::is_ascii_digit).count();
    if digits == len {
        return if len >= 4 { "N" } else { run };
    }
    let letters = len - digits;
    let all_hex = run.bytes().all(|b| b.is_ascii_hexdigit());
    let random = (len >= 7 && digits >= 2 && letters >= 2 && digit_groups(run) >= 2)
        || (all_hex && len >= 8 && digits > 0)
        || looks_generated(run)
        // Names made directly in a temporary directory (gcc's `/tmp/ccikgRuA.s`).
        || (in_tmp && len >= 6 && (digits > 0 || run.bytes().any(|b| b.is_ascii_uppercase())))
        // Python's tempfile: "tmp" and eight random characters.
        || (len == 11 && run.starts_with("tmp") && digits > 0);
    if random {
        "*"
    } else {
        run
    }
}

/// Python's `tempfile` names in a temporary directory: an optional prefix, then
/// eight characters of `[a-z0-9_]` (`tmpz2nrhwlf`, `jsonapp-arhpyrih`,
/// `3_zniumv`). Returns the prefix to keep (`tmp`, `jsonapp-`, ``).
fn tempfile_prefix(component: &str) -> Option<&str> {
    const RANDOM: usize = 8;
    let random = |s: &str| {
        s.len() == RANDOM
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if component.len() == RANDOM {
        // No prefix at all: only with a digit or `_`, which words rarely have.
        return (random(component) && component.bytes().any(|b| !b.is_ascii_lowercase())).then_some("");
    }
    // Not at a character boundary: the tail is not eight ASCII characters.
    let (prefix, tail) = component.split_at_checked(component.len().checked_sub(RANDOM)?)?;
    let separated = prefix.ends_with(['-', '.', '_']) || prefix == "tmp";
    (separated && random(tail)).then_some(prefix)
}

/// Mask every component of a path (see [`mask_component`]); also git's object
/// directories (`.git/objects/a7`), named by the first two hex digits of a hash.
pub fn mask_path(path: &str) -> String {
    let mut whole = String::with_capacity(path.len());
    let mut in_tmp = false;
    let mut parent = "";
    for (i, component) in path.split('/').enumerate() {
        if i > 0 {
            whole.push('/');
        }
        if parent == "objects" && component.len() == 2 && component.bytes().all(|b| b.is_ascii_hexdigit()) {
            whole.push('*');
        } else {
            mask_component(component, in_tmp, &mut whole);
        }
        in_tmp = matches!(component, "tmp" | "shm" | "TMP" | "temp" | "Temp");
        parent = component;
    }
    whole
}

/// How many separate runs of digits there are (`a8f3k29d0q`: 4; `sha256sum`: 1).
fn digit_groups(run: &str) -> usize {
    let b = run.as_bytes();
    (0..b.len())
        .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
        .count()
}

/// Whether a mixed-case run looks made by a random name generator (mkstemp's
/// `XXXXXX`: `rLGvzq`, `ccY3geQX`, `Npzk8w`) rather than written by a person
/// (`Makefile`, `DataNode`, `iPhone`): an upper-case letter after the first
/// position that is not a camel-case hump (a lower-case letter before it, one
/// after it), or a digit between letters in a mixed-case run.
fn looks_generated(run: &str) -> bool {
    let b = run.as_bytes();
    if b.len() < 6 || !b.iter().any(u8::is_ascii_uppercase) || !b.iter().any(u8::is_ascii_lowercase) {
        return false;
    }
    let lower = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    // A person's capital starts a word of at least three letters (`DataNode`,
    // `iPhone`); generators leave capitals anywhere (`ccikgRuA`, `tAmdQxL`).
    let odd_capital = (1..b.len()).any(|i| b[i].is_ascii_uppercase() && !(lower(i + 1) && lower(i + 2)));
    let inner_digit = (1..b.len() - 1)
        .any(|i| b[i].is_ascii_digit() && b[i - 1].is_ascii_alphabetic() && b[i + 1].is_ascii_alphabetic());
    odd_capital || inner_digit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_mean_something_are_kept() {
        for word in [
            "sh",
            "id",
            "ssh",
            "python3",
            "ipv6",
            "sha256",
            "ENOENT",
            "O_RDONLY",
            "Ünïcode",
        ] {
            assert!(keep_word(word), "{word} should be kept");
        }
    }

    #[test]
    fn words_that_vary_at_random_are_dropped() {
        for word in [
            "",
            "x",
            "42",
            "123ms",
            "J12",
            "M1",
            "7fa3c2",
            "deadbeef00",
            "a8f3k29d0q",
            "0x7ffd",
        ] {
            assert!(!keep_word(word), "{word} should be dropped");
        }
    }

    fn masked(component: &str) -> String {
        let mut out = String::new();
        mask_component(component, false, &mut out);
        out
    }

    #[test]
    fn components_keep_names_and_mask_ids() {
        assert_eq!(masked("12345"), "N");
        assert_eq!(masked("libc.so.6"), "libc.so.6");
        assert_eq!(masked("python3.11"), "python3.11");
        assert_eq!(masked("ld-linux-x86-64.so.2"), "ld-linux-x86-64.so.2");
        assert_eq!(masked("tmp.x8Kq2Lz9"), "tmp.*");
        assert_eq!(masked("core.20231"), "core.N");
        assert_eq!(masked("3f786850e387550fdab836ed7e6dc881de23001b"), "*");
        // mkstemp and friends, as seen in real traces of gcc, git and python.
        assert_eq!(masked("ccY3geQX.s"), "*.s");
        assert_eq!(masked("tmp_obj_rLGvzq"), "tmp_obj_*");
        assert_eq!(masked("tmp_obj_Npzk8w"), "tmp_obj_*");
        assert_eq!(masked("tmp_obj_teh467"), "tmp_obj_*");
        assert_eq!(masked("tmpfiles.d"), "tmpfiles.d");
        assert_eq!(masked("ccrVKK2c.cdtor.c"), "*.cdtor.c");
        assert_eq!(masked("tmpab3k_9xq"), "tmpab3k_9xq");
        assert_eq!(masked("tmpab3k9xqz"), "*");
        let tmp = |name: &str| mask_path(&format!("/tmp/{name}"));
        // Python's tempfile, with and without a prefix.
        assert_eq!(tmp("tmpz2nrhwlf"), "/tmp/tmp*");
        assert_eq!(tmp("tmpabcdefgh"), "/tmp/tmp*");
        assert_eq!(tmp("jsonapp-arhpyrih"), "/tmp/jsonapp-*");
        assert_eq!(tmp("3_zniumv"), "/tmp/*");
        assert_eq!(tmp("workload"), "/tmp/workload");
        assert_eq!(tmp("build-log"), "/tmp/build-log");
        // Git's object directories.
        assert_eq!(mask_path(".git/objects/a7"), ".git/objects/*");
        assert_eq!(mask_path(".git/objects/de/tmp_obj_Agho95"), ".git/objects/*/tmp_obj_*");
        assert_eq!(mask_path(".git/objects/pack"), ".git/objects/pack");
        assert_eq!(mask_path("/usr/lib/de"), "/usr/lib/de");
        for name in [
            "Makefile",
            "DataNode.java",
            "iPhone",
            "README",
            "sha256sum",
            "CMakeLists.txt",
            "libXext.so",
        ] {
            assert_eq!(masked(name), name);
        }
    }

    #[test]
    fn components_with_multibyte_characters_are_masked_without_panicking() {
        // Found by fuzzing (fuzz/ detect): a `tmp` name whose last separator is
        // a multi-byte character was cut inside it.
        assert_eq!(masked("tmp\u{fffd}x8Kq2Lz9"), "tmp\u{fffd}*");
        assert_eq!(masked("tmp\u{2014}abcdefgh"), "tmp\u{2014}*");
        // In a temporary directory, a name whose last eight bytes start inside
        // a character is not a Python tempfile name.
        assert_eq!(mask_path("/tmp/a\u{e9}abcdefg"), "/tmp/a\u{e9}abcdefg");
        assert_eq!(
            mask_path("/tmp/\u{e9}\u{e9}\u{e9}\u{e9}x"),
            "/tmp/\u{e9}\u{e9}\u{e9}\u{e9}x"
        );
    }

    #[test]
    fn a_vertical_tab_in_a_token_is_replaced_too() {
        // Found by fuzzing (fuzz/ detect): `u8::is_ascii_whitespace` leaves out
        // the vertical tab, which `char::is_whitespace` counts.
        let mut key = String::new();
        let mut out = Tokens::new(&mut key);
        out.push("/usr/lib/l\u{b}ibc.so");
        out.push("a\u{c}b");
        assert_eq!(key, "/usr/lib/l_ibc.so a_b");
    }

    #[test]
    fn tokens_are_capped_and_have_no_spaces() {
        let mut key = String::new();
        let mut out = Tokens::new(&mut key);
        out.push("/home/u/My Documents/x");
        for _ in 0..1000 {
            out.push("word");
        }
        assert!(out.full());
        assert!(key.starts_with("/home/u/My_Documents/x word"));
        assert_eq!(key.split(' ').count(), MAX_TOKENS);
    }
}
