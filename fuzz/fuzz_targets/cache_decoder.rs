//! Arbitrary bytes as a facts cache: reading and verifying them never panics, and only entries
//! that pass their checksums are decoded.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    stateleak::cache::decode_image(data);
});
