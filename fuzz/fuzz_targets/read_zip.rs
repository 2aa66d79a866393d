//! The zip archive reader: members listed and read as honk reads an archive
//! on disk (each decompressed, gzip and zstd members decoded), lines capped.
#![no_main]

use std::io::{BufRead, Read};

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// Most decoded bytes looked at per member (deflate expands up to ~1000×).
const MAX_DECODED: u64 = 8 << 20;

fuzz_target!(|data: &[u8]| {
    let _ = honk::read::read_zip_bytes(data, |_name, member| {
        let capped: Box<dyn BufRead + '_> = Box::new(member.take(MAX_DECODED));
        let lines = common::lines_from(capped);
        let format = honk::parse::detect(lines.iter().take(256).map(String::as_str));
        common::parse_and_check(format, &lines[..lines.len().min(256)]);
        Ok(())
    });
});
