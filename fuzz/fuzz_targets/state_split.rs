//! Fuzzes the overloaded-state splitter and the return-to matcher: never a panic, and
//! every accepted target stays on an allowed origin and path prefix.
#![no_main]

use cognate::oauth::redirect::AllowEntry;
use cognate::oauth::state_split::{Split, StateEncoding, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = std::str::from_utf8(data) else { return };
    let allow = [
        AllowEntry::parse("https://app.example.com").unwrap(),
        AllowEntry::parse("https://other.example.com:8443/app").unwrap(),
    ];
    for encoding in [StateEncoding::Plain, StateEncoding::Hex, StateEncoding::Base64url] {
        for separator in ['_', '-'] {
            if let Ok(Split::Relay { target, .. }) = split(&allow, separator, encoding, state) {
                let s = target.as_str();
                let on_root = s.starts_with("https://app.example.com/");
                let on_app = s.starts_with("https://other.example.com:8443/app")
                    && (target.path() == "/app" || target.path().starts_with("/app/"));
                assert!(on_root || on_app, "escaped the allow-list: {s}");
                assert!(s.bytes().all(|b| b.is_ascii_graphic()), "unsafe bytes in {s:?}");
            }
        }
    }
});
