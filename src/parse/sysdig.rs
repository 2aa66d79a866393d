//! PLACEHOLDER: being written.
use super::{Parser, Record};

/// Whether a line has this format's shape.
pub fn looks_like_sysdig(_line: &str) -> bool {
    false
}

/// Whether a line has this format's shape.
pub fn looks_like_sysdig_json(_line: &str) -> bool {
    false
}

/// Placeholder parser.
#[derive(Debug, Default)]
pub struct SysdigParser;

impl Parser for SysdigParser {
    fn push(&mut self, _line_no: u64, _line: &str, _out: &mut Vec<Record>) {}
    fn finish(&mut self, _out: &mut Vec<Record>) {}
}

/// Placeholder parser.
#[derive(Debug, Default)]
pub struct SysdigJsonParser;

impl Parser for SysdigJsonParser {
    fn push(&mut self, _line_no: u64, _line: &str, _out: &mut Vec<Record>) {}
    fn finish(&mut self, _out: &mut Vec<Record>) {}
}
