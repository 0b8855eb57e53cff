#![no_main]
//! Fuzz target: see `lvmkit_metadata::fuzzing::lvm1`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| lvmkit_metadata::fuzzing::lvm1(data));
