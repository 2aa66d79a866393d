//! gVisor's `runsc --strace --debug` log.
//!
//! [`parse`] picks the system calls out of the log (its other messages are
//! [`Kind::Text`]) and joins each call's enter and exit lines into one
//! [`Kind::Event`] of [`DIALECT`]; [`normalize`] reads gVisor's way of writing
//! arguments into the tokens strace's normalization gives the same call.
//!
//! Not here: running gVisor (that is [`crate::trace`]).

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::{Dialect, Parser};

/// How gVisor's strace writes arguments: strace-like, with unquoted path
/// annotations and Go-quoted strings.
pub const DIALECT: Dialect = Dialect {
    name: "gvisor",
    normalize: normalize::event,
};

/// gVisor's strace log.
pub const FORMAT: Format = Format {
    name: "gvisor",
    help: "gVisor's runsc --strace --debug log",
    looks_like: parse::looks_like_gvisor,
    new_parser,
};

fn new_parser() -> Box<dyn Parser> {
    Box::new(parse::GvisorParser::default())
}
