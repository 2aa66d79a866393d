//! The text parser and the normalizer on arbitrary input.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let lines = common::lines_of(data);
    common::parse_and_check(honk::parse::Format::Text, &lines);
});
