//! Plain text logs: every non-blank line is one record, with no structure.

use crate::parse::{Kind, Parser, Record};

/// Whether a line could be a text log's: any line can, so detection tries text last.
pub fn looks_like(_line: &str) -> bool {
    true
}

/// Parser for any line-oriented log.
#[derive(Debug, Default)]
pub struct TextParser;

impl Parser for TextParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        out.push(Record {
            line: line_no,
            text: line.to_owned(),
            pid: None,
            process: None,
            kind: Kind::Text,
        });
    }

    fn finish(&mut self, _out: &mut Vec<Record>) {}
}
