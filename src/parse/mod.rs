//! Parse: turn the lines of one input into [`Record`]s, the unit that honk scores.
//!
//! A record is one logical event: one line of a text log, or one system call of
//! a strace trace (an `<unfinished ...>` call and its `<... resumed>` tail are
//! merged into one record that keeps the line number of its start). Parsing only
//! finds structure; it does not decide what is random or meaningful — that is
//! [`crate::normalize`]'s job.
//!
//! Records leave a parser in the order of their first line, whatever order their
//! pieces arrived in.
//!
//! This module is what all parsers share: the record model ([`Record`],
//! [`Kind`], [`Dialect`]), the [`Parser`] trait, format detection ([`detect`],
//! which tries the formats of [`crate::formats::ALL`] in order), and helpers
//! for parsers (holding records back until a call's other half arrives, byte
//! scanning, the [`syscall_table`]s). Each format's own parser, and the test
//! of whether a line looks like that format, live in its folder under
//! [`crate::formats`]; this module names no format but text, the fallback.

pub(crate) mod bytes;
pub(crate) mod holdback;
pub mod syscall_table;
#[cfg(test)]
pub(crate) mod testing;

use std::ops::Range;

pub use crate::formats::Format;
use crate::formats::{self, text};
use crate::normalize::Tokens;

/// One scored unit of a log: a line, or one event of a syscall trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based number of the line where the record starts in its input.
    pub line: u64,
    /// What the user sees: the original line (for a resumed call, the two halves joined).
    pub text: String,
    /// Thread id (or process id, when that is all the format gives): a sequence of
    /// events is one thread's.
    pub pid: Option<u32>,
    /// The process (command) name, when the format gives one.
    pub process: Option<String>,
    /// Where the parts of `text` are.
    pub kind: Kind,
}

impl Record {
    /// The name of the system call (or audit or sysdig event) this record is, if it is one.
    pub fn syscall_name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Syscall { name, .. } | Kind::Event { name, .. } => {
                self.text.get(name.clone()).filter(|n| !n.is_empty())
            }
            Kind::Text | Kind::Signal { .. } | Kind::Exit { .. } => None,
        }
    }
}

/// The structure the parser found in a record; ranges index into [`Record::text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No structure: normalize the whole text as a log line.
    Text,
    /// A system call: `name(args) = result`.
    Syscall {
        /// The syscall name, e.g. `openat`.
        name: Range<usize>,
        /// Everything between the outer parentheses.
        args: Range<usize>,
        /// What follows ` = ` (return value, errno name and message), without a `-T`
        /// duration; empty when the call never returned.
        result: Range<usize>,
    },
    /// A signal delivery: the text between `--- ` and ` ---`, e.g. `SIGCHLD {si_signo=...}`.
    Signal {
        /// The signal and its details, without the `--- ` and ` ---` markers.
        body: Range<usize>,
    },
    /// A process end: the text between `+++ ` and ` +++`, e.g. `exited with 0`.
    Exit {
        /// How the process ended, without the `+++ ` and ` +++` markers.
        body: Range<usize>,
    },
    /// A system call from a source other than strace, whose arguments are written
    /// in that source's own way (`dialect`).
    Event {
        /// The syscall name, e.g. `openat` (for a number trace's, the whole record).
        name: Range<usize>,
        /// The arguments, in the dialect's grammar; may be empty.
        args: Range<usize>,
        /// The return value and error, where the source gives them apart from the arguments; may be empty.
        result: Range<usize>,
        /// How the parts are written: the normalizer that reads them.
        dialect: Dialect,
    },
}

/// How the parts of a [`Kind::Event`] are written, and so how they are read.
///
/// A format whose records are events declares its dialect in its folder
/// (`formats::<name>::DIALECT`) and its parser stamps it on each record; the
/// normalizer finds the function that reads the record here. Formats that
/// write events the same way share one (sysdig's text and JSON output). Two
/// dialects are equal when their names are.
#[derive(Clone, Copy)]
pub struct Dialect {
    /// A name for debugging output, unique among dialects (usually the format's).
    pub name: &'static str,
    /// Appends the tokens of an event to a key, given the texts of its `name`,
    /// `args` and `result` ranges.
    pub normalize: fn(name: &str, args: &str, result: &str, out: &mut Tokens),
}

impl PartialEq for Dialect {
    fn eq(&self, other: &Dialect) -> bool {
        self.name == other.name
    }
}

impl Eq for Dialect {}

impl std::hash::Hash for Dialect {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A line-by-line parser for one input. Feed it every line in order, then call `finish`.
pub trait Parser: Send {
    /// Consume line `line_no` (1-based); append any records that are complete to `out`.
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>);
    /// The input ended: append every record still held back.
    fn finish(&mut self, out: &mut Vec<Record>);
}

/// How many leading lines format detection looks at.
pub const DETECT_LINES: usize = 64;

/// Guess the format of an input from its first lines: the first format (in
/// [`formats::ALL`] order) that most non-blank lines look like, else plain text.
pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Format {
    let sample: Vec<&str> = lines
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(DETECT_LINES)
        .collect();
    if sample.is_empty() {
        return text::FORMAT;
    }
    formats::ALL
        .iter()
        .copied()
        .find(|format| sample.iter().filter(|l| format.looks_like(l)).count() * 2 > sample.len())
        .unwrap_or(text::FORMAT)
}

/// A fresh parser for `format`.
pub fn parser(format: Format) -> Box<dyn Parser> {
    format.parser()
}
