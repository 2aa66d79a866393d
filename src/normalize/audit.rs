//! PLACEHOLDER: being written.

use super::Tokens;

/// Tokens of one event.
pub fn event(name: &str, _args: &str, _result: &str, out: &mut Tokens) {
    out.push(name);
}
