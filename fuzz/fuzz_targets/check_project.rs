//! Arbitrary bytes and mutated Python, through discovery to every report, for a small project.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stateleak_fuzz::project::run(data));
