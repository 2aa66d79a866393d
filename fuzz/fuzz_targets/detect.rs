//! Format detection on arbitrary input, then the detected format's parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let lines = common::lines_of(data);
    let format = honk::parse::detect(lines.iter().map(String::as_str));
    // Detection looks at the first non-blank lines only.
    let sample: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .take(honk::parse::DETECT_LINES)
        .collect();
    assert_eq!(honk::parse::detect(sample), format);
    common::parse_and_check(format, &lines);
});
