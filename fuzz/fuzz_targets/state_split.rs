//! See `cognate::fuzz_checks::check_state_split` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(init: cognate::fuzz_checks::init(), |data: &[u8]| {
    cognate::fuzz_checks::check_state_split(data)
});
