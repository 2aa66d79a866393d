//! PLACEHOLDER: being written.
use super::{Parser, Record};

/// Whether a line has this format's shape.
pub fn looks_like_audit(_line: &str) -> bool {
    false
}

/// Placeholder parser.
#[derive(Debug, Default)]
pub struct AuditParser;

impl Parser for AuditParser {
    fn push(&mut self, _line_no: u64, _line: &str, _out: &mut Vec<Record>) {}
    fn finish(&mut self, _out: &mut Vec<Record>) {}
}
