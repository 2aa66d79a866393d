//! sysdig captures: its default text output (also the tty and `-pc`
//! container variants, and the LID-DS recordings, which are sysdig text), and
//! its JSON output (`sysdig -j`), one object per line.
//!
//! Two formats share this folder because they are two spellings of the same
//! events: [`TEXT`] and [`JSON`] have their own detection and parser
//! ([`parse::SysdigParser`], [`parse::SysdigJsonParser`]), and both join a
//! call's enter and exit events into one [`Kind::Event`] of [`DIALECT`], which
//! [`normalize`] reads.
//!
//! Not here: running sysdig, or reading its binary `.scap` captures.

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::{Dialect, Parser};

/// How sysdig writes an event's parameters: `key=value` pairs,
/// `fd=3(<f>/etc/passwd)`, `res=-2(ENOENT)`.
pub const DIALECT: Dialect = Dialect {
    name: "sysdig",
    normalize: normalize::event,
};

/// sysdig's text output and the LID-DS recordings.
pub const TEXT: Format = Format {
    name: "sysdig",
    help: "sysdig text output (default, tty and -pc container shapes) and LID-DS recordings",
    looks_like: parse::looks_like_sysdig,
    new_parser: new_text_parser,
};

/// sysdig's JSON output (`sysdig -j`).
pub const JSON: Format = Format {
    name: "sysdig-json",
    help: "sysdig JSON output (sysdig -j)",
    looks_like: parse::looks_like_sysdig_json,
    new_parser: new_json_parser,
};

fn new_text_parser() -> Box<dyn Parser> {
    Box::new(parse::SysdigParser::default())
}

fn new_json_parser() -> Box<dyn Parser> {
    Box::new(parse::SysdigJsonParser::default())
}
