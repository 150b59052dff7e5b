//! See `cognate::fuzz_checks::check_list_users_filter` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(init: cognate::fuzz_checks::init(), |data: &[u8]| {
    cognate::fuzz_checks::check_list_users_filter(data)
});
