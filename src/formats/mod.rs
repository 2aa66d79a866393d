//! Formats: the kinds of input honk reads, one folder each, all listed in [`ALL`].
//!
//! A format's folder, `src/formats/<name>/`, holds everything that knows that
//! format: `parse.rs` recognizes its lines and turns them into
//! [`Record`](crate::parse::Record)s; `normalize.rs` turns its records into keys;
//! `mod.rs` ties the two together as a [`Format`] (and, if its records are
//! [`Kind::Event`]s, a [`Dialect`]). Nothing outside the folder knows the
//! format, except its one line in [`ALL`].
//!
//! What formats share stays in the stage modules: [`crate::parse`] has the
//! record model ([`Record`](crate::parse::Record), [`Kind`], [`Parser`]),
//! detection and the helpers parsers build on (holding records back until a
//! call's other half arrives, byte scanning, the system-call tables);
//! [`crate::normalize`] has the key ([`Tokens`]), which words are kept, path
//! masking and the run's roots. The stages name only two formats: text, the
//! fallback when nothing else fits, whose normalizer also reads every
//! [`Kind::Text`] record; and strace, whose normalizer reads the records
//! written in strace's grammar ([`Kind::Syscall`], [`Kind::Signal`],
//! [`Kind::Exit`]). Every other record finds its normalizer through its
//! [`Dialect`], which its parser stamped on it.
//!
//! # Adding a format
//!
//! 1. Make a folder `src/formats/<name>/` (`numbers/` is the smallest to copy
//!    for a format with its own dialect, `text/` for one without):
//!    - `parse.rs`: a [`Parser`] (one per input, fed every line in order) and a
//!      `looks_like(line) -> bool` for detection, strict enough that ordinary
//!      text logs and the other formats' lines rarely match. A record with no
//!      structure is [`Kind::Text`]; a system call in strace's grammar is
//!      [`Kind::Syscall`]; anything else is a [`Kind::Event`] of the format's
//!      own dialect.
//!    - `normalize.rs` (for [`Kind::Event`] records): `fn event(name, args,
//!      result, out: &mut Tokens)`, pushing the tokens that say what the
//!      event did; the helpers in [`crate::normalize`] (and strace's, for
//!      system-call arguments) do most of the work.
//!    - `mod.rs`: `pub const DIALECT: Dialect` (a unique name and
//!      `normalize::event`), and `pub const FORMAT: Format` (its `--format`
//!      name, a line of help, `looks_like` and the parser), with module docs
//!      saying what the format is and what the folder does not do.
//!    - its tests, next to the code they test.
//! 2. Register it here: `pub mod <name>;` and `<name>::FORMAT` in [`ALL`], at
//!    its place in detection order.
//!
//! That is all: `--format <name>`, its `--help` line, detection, `honk
//! inspect`'s format name and the normalizer all follow from the one entry.
//! A new format leaves the keys of the others as they were, so
//! [`crate::normalize::VERSION`] stays; changing an existing normalizer's keys
//! bumps it.

pub mod audit;
pub mod gvisor;
pub mod numbers;
pub mod strace;
pub mod sysdig;
pub mod text;

use std::fmt;
use std::hash::{Hash, Hasher};

#[cfg(doc)]
use crate::normalize::Tokens;
use crate::parse::Parser;
#[cfg(doc)]
use crate::parse::{Dialect, Kind};

/// Every format honk reads, in the order detection tries them: an input is the
/// first format that most of its first lines look like, so a format comes
/// before any looser one its lines could be mistaken for; text, which every
/// line looks like, comes last. This is also the order `--help` lists them in.
pub const ALL: &[Format] = &[
    strace::FORMAT,
    // No line looks like both (a text event starts with a digit, a JSON one
    // with `{`), so these two can come in either order.
    sysdig::TEXT,
    sysdig::JSON,
    gvisor::FORMAT,
    audit::FORMAT,
    numbers::FORMAT,
    text::FORMAT,
];

/// An input format: its name, how its lines look, and its parser.
///
/// A small `Copy` value, declared as a `const` in the format's folder and
/// listed in [`ALL`]. Two formats are equal when their names are.
#[derive(Clone, Copy)]
pub struct Format {
    /// What users call it: the value of `--format`, and what `honk inspect`,
    /// reports and JSON output say. Unique among [`ALL`]; lower case.
    pub name: &'static str,
    /// What it is, in a line, for `--help`.
    pub help: &'static str,
    /// Whether one line has this format's shape (for detection).
    pub looks_like: fn(&str) -> bool,
    /// A fresh parser, for one input.
    pub new_parser: fn() -> Box<dyn Parser>,
}

impl Format {
    /// Every format, in the order detection tries them (a copy of [`ALL`]).
    pub const ALL: [Format; ALL.len()] = {
        let mut all = [text::FORMAT; ALL.len()];
        let mut i = 0;
        while i < ALL.len() {
            all[i] = ALL[i];
            i += 1;
        }
        all
    };

    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// What the format is, in a line.
    pub fn help(self) -> &'static str {
        self.help
    }

    /// Whether one line has this format's shape (for detection).
    pub fn looks_like(self, line: &str) -> bool {
        (self.looks_like)(line)
    }

    /// A fresh parser for one input of this format.
    pub fn parser(self) -> Box<dyn Parser> {
        (self.new_parser)()
    }

    /// The format called `name` (as [`Format::name`] gives it), if honk has one.
    pub fn from_name(name: &str) -> Option<Format> {
        ALL.iter().copied().find(|format| format.name == name)
    }
}

/// Formats are a named choice (`--format`): their names and help come from [`ALL`].
impl crate::choice::Choice for Format {
    const ALL: &'static [Format] = ALL;

    fn name(self) -> &'static str {
        self.name
    }

    fn help(self) -> &'static str {
        self.help
    }
}

/// The formats honk's own code names (the trace commands force strace or
/// gVisor; `honk inspect` treats text apart), by the names they had as an
/// enum. A new format needs no entry here.
#[allow(non_upper_case_globals)]
impl Format {
    /// strace output; see [`strace`].
    pub const Strace: Format = strace::FORMAT;
    /// sysdig's text output and LID-DS recordings; see [`sysdig`].
    pub const Sysdig: Format = sysdig::TEXT;
    /// sysdig's JSON output; see [`sysdig`].
    pub const SysdigJson: Format = sysdig::JSON;
    /// gVisor's strace log; see [`gvisor`].
    pub const Gvisor: Format = gvisor::FORMAT;
    /// The Linux audit log; see [`audit`].
    pub const Audit: Format = audit::FORMAT;
    /// Bare system-call numbers; see [`numbers`].
    pub const Numbers: Format = numbers::FORMAT;
    /// Any other line-oriented log; see [`text`].
    pub const Text: Format = text::FORMAT;
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name == other.name
    }
}

impl Eq for Format {}

impl Hash for Format {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for format in ALL {
            assert_eq!(Format::from_name(format.name()), Some(*format));
            assert_eq!(ALL.iter().filter(|f| f.name == format.name).count(), 1, "{format}");
            assert!(!format.help().is_empty(), "{format} has no help");
            assert!(
                format.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{format}"
            );
        }
        assert_eq!(Format::from_name("auto"), None);
        assert_eq!(Format::ALL, ALL);
    }

    #[test]
    fn text_is_last_and_takes_any_line() {
        assert_eq!(ALL.last(), Some(&text::FORMAT));
        assert!(text::FORMAT.looks_like("anything at all"));
    }
}
