//! Shared by the fuzz targets: feed lines through a parser and check what
//! honk promises of records and keys.

#![allow(dead_code)]

use std::io::{BufRead, Cursor};

use honk::normalize::{key_of, MAX_TOKENS};
use honk::parse::{parser, Format, Kind, Record};
use honk::read::Lines;

/// Most bytes one token of a key may have (`MAX_TOKEN_BYTES` in normalize).
const MAX_TOKEN_BYTES: usize = 256;

/// The lines of `data` as honk reads them (lossy UTF-8, `\r\n` stripped, capped).
pub fn lines_of(data: &[u8]) -> Vec<String> {
    lines_from(Cursor::new(data))
}

/// The lines of a reader as honk reads them, stopping at the first read error.
pub fn lines_from(reader: impl BufRead) -> Vec<String> {
    let mut lines = Lines::new(reader);
    let mut line = String::new();
    let mut out = Vec::new();
    while let Ok(Some(_)) = lines.next_line(&mut line) {
        out.push(line.clone());
    }
    out
}

/// Parse `lines` as `format`, check every record and its key.
pub fn parse_and_check(format: Format, lines: &[String]) {
    let mut parser = parser(format);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        parser.push(i as u64 + 1, line, &mut out);
    }
    parser.finish(&mut out);
    let mut last_line = 0;
    for record in &out {
        check_record(record, lines.len() as u64);
        // "Records leave a parser in the order of their first line."
        assert!(
            record.line >= last_line,
            "record of line {} after one of line {last_line}",
            record.line
        );
        last_line = record.line;
        check_key(&key_of(record));
    }
}

/// A record starts on a line that was pushed, and its ranges index into its text.
pub fn check_record(record: &Record, lines: u64) {
    assert!(
        record.line >= 1 && record.line <= lines,
        "line {} of {lines}",
        record.line
    );
    let text = record.text.as_str();
    let ranges = match &record.kind {
        Kind::Text => vec![],
        Kind::Syscall { name, args, result } => vec![name, args, result],
        Kind::Signal { body } | Kind::Exit { body } => vec![body],
        Kind::Event {
            name, args, result, ..
        } => vec![name, args, result],
    };
    for range in ranges {
        assert!(
            text.get(range.clone()).is_some(),
            "range {range:?} is not within {text:?} on char boundaries ({:?})",
            record.kind
        );
    }
}

/// A key is at most [`MAX_TOKENS`] space-separated tokens, none empty, none
/// with whitespace in it, none longer than the token cap.
pub fn check_key(key: &str) {
    if key.is_empty() {
        return;
    }
    let mut n = 0;
    for token in key.split(' ') {
        n += 1;
        assert!(!token.is_empty(), "empty token in {key:?}");
        assert!(!token.chars().any(char::is_whitespace), "whitespace in token {token:?}");
        assert!(token.len() <= MAX_TOKEN_BYTES, "token of {} bytes", token.len());
    }
    assert!(n <= MAX_TOKENS, "{n} tokens in {key:?}");
}
