//! The model decoder on arbitrary bytes, and the round trip of what it accepts.
//!
//! The first byte picks how the rest is used, so that the fuzzer also gets
//! past the checksum and the compression: 0 (and any other value) the bytes as
//! a model file; 1 the bytes as a zstd payload under a valid header; 2 the
//! bytes as the postcard encoding, compressed and framed.
#![no_main]

use libfuzzer_sys::fuzz_target;

use honk::model::{Model, ModelError, FORMAT_VERSION, MAGIC};

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        let _ = Model::from_bytes(data);
        return;
    };
    let bytes = match mode {
        1 => frame(rest),
        2 => match zstd::encode_all(rest, 1) {
            Ok(payload) => frame(&payload),
            Err(_) => return,
        },
        _ => data.to_vec(),
    };
    let Ok(model) = Model::from_bytes(&bytes) else {
        return;
    };
    // A model that loads is consistent, so it encodes, and decodes equal.
    let encoded = match model.to_bytes() {
        Ok(encoded) => encoded,
        Err(ModelError::TooLarge { .. }) => return,
        Err(e) => panic!("a model that loaded does not encode: {e}"),
    };
    let again = Model::from_bytes(&encoded).expect("a model honk wrote reads back");
    assert_eq!(again, model);
});
