//! Arbitrary bytes as a facts cache: reading and verifying them never panics, and only entries
//! that pass their checksums are decoded. The same bytes are then resealed (magic, lengths and
//! checksums made consistent) and decoded again, so that mutated payloads reach the decoder.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    stateleak::cache::decode_image(data);
    let mut resealed = data.to_vec();
    stateleak::cache::reseal_image(&mut resealed);
    stateleak::cache::decode_image(&resealed);
});
