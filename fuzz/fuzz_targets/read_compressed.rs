//! gzip and zstd decoding as inputs are read (by magic, then capped lines),
//! then format detection and parsing of what came out.
#![no_main]

use std::io::{BufRead, Cursor, Read};

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// Most decoded bytes looked at: a few KB of zstd can expand to gigabytes,
/// which honk reads as a stream; the fuzzer only needs the decoder's paths.
const MAX_DECODED: u64 = 8 << 20;

fuzz_target!(|data: &[u8]| {
    let input = honk::read::Input::Stdin;
    let Ok(reader) = input.decode(Box::new(Cursor::new(data.to_vec()))) else {
        return;
    };
    let reader: Box<dyn BufRead> = Box::new(reader.take(MAX_DECODED));
    let lines = common::lines_from(reader);
    let format = honk::parse::detect(lines.iter().take(256).map(String::as_str));
    common::parse_and_check(format, &lines[..lines.len().min(256)]);
});
