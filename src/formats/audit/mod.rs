//! The Linux audit log: raw or enriched `audit.log`, and `ausearch -i` output.
//!
//! [`parse`] joins the records of one audit event (a `SYSCALL` record and its
//! `PATH`, `CWD`, `EXECVE`, `SOCKADDR`... companions, or a user-space event
//! alone) into one [`Kind::Event`] of [`DIALECT`]; [`normalize`] reads their
//! `key=value` fields into the tokens strace's normalization gives the same
//! call.
//!
//! Not here: configuring auditd or its rules.

pub mod normalize;
pub mod parse;

use crate::formats::Format;
#[cfg(doc)]
use crate::parse::Kind;
use crate::parse::{Dialect, Parser};

/// How the audit log writes an event: the `key=value` fields of its joined records.
pub const DIALECT: Dialect = Dialect {
    name: "audit",
    normalize: normalize::event,
};

/// The Linux audit log.
pub const FORMAT: Format = Format {
    name: "audit",
    help: "the Linux audit log",
    looks_like: parse::looks_like_audit,
    new_parser,
};

fn new_parser() -> Box<dyn Parser> {
    Box::new(parse::AuditParser::default())
}
