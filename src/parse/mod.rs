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

pub mod strace;
pub mod text;

use std::ops::Range;

/// A log format honk knows how to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// strace output, any of its common shapes (`-f`, `-ff`, `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-y`).
    Strace,
    /// Any other line-oriented log.
    Text,
}

impl Format {
    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Strace => "strace",
            Format::Text => "text",
        }
    }
}

/// One scored unit of a log: a line, or one event of a syscall trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based number of the line where the record starts in its input.
    pub line: u64,
    /// What the user sees: the original line (for a resumed call, the two halves joined).
    pub text: String,
    /// Process or thread id, when the format gives one.
    pub pid: Option<u32>,
    /// Where the parts of `text` are.
    pub kind: Kind,
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
    Signal { body: Range<usize> },
    /// A process end: the text between `+++ ` and ` +++`, e.g. `exited with 0`.
    Exit { body: Range<usize> },
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

/// Guess the format of an input from its first lines: strace when most non-blank
/// lines look like strace output, else plain text.
pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Format {
    let (mut seen, mut strace) = (0usize, 0usize);
    for line in lines.into_iter().filter(|l| !l.trim().is_empty()).take(DETECT_LINES) {
        seen += 1;
        if strace::looks_like_strace(line) {
            strace += 1;
        }
    }
    if seen > 0 && strace * 2 > seen {
        Format::Strace
    } else {
        Format::Text
    }
}

/// A fresh parser for `format`.
pub fn parser(format: Format) -> Box<dyn Parser> {
    match format {
        Format::Strace => Box::new(strace::StraceParser::default()),
        Format::Text => Box::new(text::TextParser),
    }
}
