//! Helpers for the parsers' tests: run a parser over a text, and check the
//! invariants every parser keeps whatever its input.

use std::ops::Range;

use super::{Kind, Parser, Record};

/// Every record `parser` makes of `input`, lines numbered from 1.
pub(crate) fn parse_all(mut parser: impl Parser, input: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        parser.push(i as u64 + 1, line, &mut out);
    }
    parser.finish(&mut out);
    out
}

/// The ranges a record's kind points into its text with.
fn ranges(kind: &Kind) -> Vec<Range<usize>> {
    match kind {
        Kind::Text => vec![],
        Kind::Syscall { name, args, result } | Kind::Event { name, args, result, .. } => {
            vec![name.clone(), args.clone(), result.clone()]
        }
        Kind::Signal { body } | Kind::Exit { body } => vec![body.clone()],
    }
}

/// Invariants that hold for any input: records in strictly increasing line
/// order, and every range a slice of the record's text (on char boundaries).
pub(crate) fn assert_well_formed(records: &[Record]) {
    for w in records.windows(2) {
        assert!(w[0].line < w[1].line, "out of order: {} then {}", w[0].line, w[1].line);
    }
    for r in records {
        for range in ranges(&r.kind) {
            assert!(range.start <= range.end, "{range:?} in {:?}", r.text);
            assert!(
                r.text.get(range.clone()).is_some(),
                "{range:?} not a slice of {:?}",
                r.text
            );
        }
    }
}
