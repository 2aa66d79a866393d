//! Any other line-oriented log: every non-blank line is one record.
//!
//! [`parse`] makes each non-blank line a [`Kind::Text`] record with no
//! structure; [`normalize`] keeps a line's words and paths and drops what
//! varies at random (dates, numbers, ids, addresses). Text is the format
//! detection falls back to, so its [`FORMAT`] takes every line, and its
//! normalizer reads every [`Kind::Text`] record, whichever format's parser made
//! it (a strace trace's stray messages, an audit log's unparsed lines).
//!
//! Not here: any particular log format's fields (nothing here knows syslog,
//! Apache or HDFS; their structure is left to the words).

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::Parser;

/// Any line-oriented log.
pub const FORMAT: Format = Format {
    name: "text",
    help: "any line-oriented log",
    looks_like: parse::looks_like,
    new_parser,
};

fn new_parser() -> Box<dyn Parser> {
    Box::new(parse::TextParser)
}
