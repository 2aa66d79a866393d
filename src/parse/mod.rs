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

pub(crate) mod bytes;
pub(crate) mod holdback;
pub mod syscall_table;
#[cfg(test)]
pub(crate) mod testing;

use std::ops::Range;

use crate::formats::{audit, gvisor, numbers, strace, sysdig, text};

/// A log format honk knows how to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// strace output, any of its common shapes (`-f`, `-ff`, `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-y`).
    Strace,
    /// sysdig's default text output (also its tty and `-pc` container variants) and
    /// the LID-DS recordings, which are sysdig text.
    Sysdig,
    /// sysdig's JSON output (`sysdig -j`), one object per line.
    SysdigJson,
    /// gVisor's `runsc --strace --debug` log.
    Gvisor,
    /// The Linux audit log (`type=SYSCALL` records and the records of the same event).
    Audit,
    /// Bare system-call numbers (ADFA-LD traces; `pid number` lines as in the UNM data).
    Numbers,
    /// Any other line-oriented log.
    Text,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 7] = [
        Format::Strace,
        Format::SysdigJson,
        Format::Sysdig,
        Format::Gvisor,
        Format::Audit,
        Format::Numbers,
        Format::Text,
    ];

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Strace => "strace",
            Format::Sysdig => "sysdig",
            Format::SysdigJson => "sysdig-json",
            Format::Gvisor => "gvisor",
            Format::Audit => "audit",
            Format::Numbers => "numbers",
            Format::Text => "text",
        }
    }

    /// Whether one line has this format's shape (for detection).
    fn looks_like(self, line: &str) -> bool {
        match self {
            Format::Strace => strace::parse::looks_like_strace(line),
            Format::Sysdig => sysdig::parse::looks_like_sysdig(line),
            Format::SysdigJson => sysdig::parse::looks_like_sysdig_json(line),
            Format::Gvisor => gvisor::parse::looks_like_gvisor(line),
            Format::Audit => audit::parse::looks_like_audit(line),
            Format::Numbers => numbers::parse::looks_like_numbers(line),
            Format::Text => true,
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
    Signal { body: Range<usize> },
    /// A process end: the text between `+++ ` and ` +++`, e.g. `exited with 0`.
    Exit { body: Range<usize> },
    /// A system call from a source other than strace, whose arguments are written
    /// in that source's own way (`dialect`).
    Event {
        /// The syscall name, e.g. `openat` (for [`Dialect::Bare`], the whole record).
        name: Range<usize>,
        /// The arguments, in the dialect's grammar; may be empty.
        args: Range<usize>,
        /// The return value and error, where the source gives them apart from the arguments; may be empty.
        result: Range<usize>,
        dialect: Dialect,
    },
}

/// How the arguments of a [`Kind::Event`] are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// sysdig and LID-DS: `key=value` pairs, `fd=3(<f>/etc/passwd)`, `res=-2(ENOENT)`.
    Sysdig,
    /// gVisor's strace: strace-like, with unquoted path annotations.
    Gvisor,
    /// The audit log: `key=value` fields of the joined records of one event.
    Audit,
    /// A bare syscall name with nothing else (from a number trace).
    Bare,
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
/// [`Format::ALL`] order) that most non-blank lines look like, else plain text.
pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Format {
    let sample: Vec<&str> = lines
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(DETECT_LINES)
        .collect();
    if sample.is_empty() {
        return Format::Text;
    }
    Format::ALL
        .into_iter()
        .find(|format| sample.iter().filter(|l| format.looks_like(l)).count() * 2 > sample.len())
        .unwrap_or(Format::Text)
}

/// A fresh parser for `format`.
pub fn parser(format: Format) -> Box<dyn Parser> {
    match format {
        Format::Strace => Box::new(strace::parse::StraceParser::default()),
        Format::Sysdig => Box::new(sysdig::parse::SysdigParser::default()),
        Format::SysdigJson => Box::new(sysdig::parse::SysdigJsonParser::default()),
        Format::Gvisor => Box::new(gvisor::parse::GvisorParser::default()),
        Format::Audit => Box::new(audit::parse::AuditParser::default()),
        Format::Numbers => Box::new(numbers::parse::NumbersParser::default()),
        Format::Text => Box::new(text::parse::TextParser),
    }
}
