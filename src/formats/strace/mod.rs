//! strace output, any of its common shapes (`-f`, `-ff`, `-t`/`-tt`/`-ttt`/`-r`, `-T`, `-y`).
//!
//! [`parse`] turns a trace into one record per system call (an interrupted
//! call's two halves joined), signal, process exit or message, as
//! [`Kind::Syscall`], [`Kind::Signal`], [`Kind::Exit`] and [`Kind::Text`].
//! [`normalize`] reads those kinds: it is the normalizer for strace's grammar
//! wherever a record of it comes from, and its argument helpers are shared
//! with the other system-call formats (gVisor, sysdig, audit), so that the
//! same behaviour gives the same tokens whatever recorded it.
//!
//! Not here: running strace (that is [`crate::trace`]), and the system-call
//! tables ([`crate::parse::syscall_table`]).

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::Parser;

/// strace output.
pub const FORMAT: Format = Format {
    name: "strace",
    help: "strace output (-f, -ff, -t/-tt/-ttt/-r, -T, -y all understood)",
    looks_like: parse::looks_like_strace,
    new_parser,
};

fn new_parser() -> Box<dyn Parser> {
    Box::new(parse::StraceParser::default())
}
