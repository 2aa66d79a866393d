//! Number traces: a record is a system call's name and nothing else, so its
//! key is that name.

use crate::normalize::Tokens;

/// Tokens of one system call: its name (the record's `name` part; the others are empty).
pub fn event(name: &str, _args: &str, _result: &str, out: &mut Tokens) {
    out.push(name);
}
