//! Bare system-call numbers, as research data sets ship their traces (ADFA-LD
//! sequences; `pid number` lines as in the UNM data).
//!
//! [`parse`] names each number from a system-call table and makes it one
//! [`Kind::Event`] of [`DIALECT`]; [`normalize`] keeps just that name, all
//! there is.
//!
//! Not here: guessing a trace's architecture (the files carry no hint of it).

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::{Dialect, Parser};

/// A bare system-call name with nothing else.
pub const DIALECT: Dialect = Dialect {
    name: "numbers",
    normalize: normalize::event,
};

/// Bare system-call numbers.
pub const FORMAT: Format = Format {
    name: "numbers",
    help: "bare syscall numbers (ADFA-LD, UNM)",
    looks_like: parse::looks_like_numbers,
    new_parser,
};

fn new_parser() -> Box<dyn Parser> {
    Box::new(parse::NumbersParser::default())
}
