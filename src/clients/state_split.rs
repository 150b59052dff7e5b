//! Overloaded `state`: `<nonce><separator><return-to>`. For a client with a return-to
//! allow-list, the state is split at the first separator; the nonce goes back to the
//! app as `state`, and the browser lands on the return-to only if the allow-list (see
//! [`super::redirect::match_target`]) admits it. Nothing is decoded beyond the one
//! encoding the client declares: plain (never decoded), hex (Amplify sends
//! `<random>-<hex(customState)>`) or base64url.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use super::redirect::{AllowEntry, TargetRefusal, match_target};
pub use crate::model::clients::{StateEncoding, StateRelay};

/// Longest state accepted from a client with an allow-list.
pub const MAX_STATE_LEN: usize = 2048;
/// Longest nonce part.
pub const MAX_NONCE_LEN: usize = 256;

impl StateEncoding {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "plain" => Some(Self::Plain),
            "hex" => Some(Self::Hex),
            "base64url" => Some(Self::Base64url),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Hex => "hex",
            Self::Base64url => "base64url",
        }
    }
}

impl Default for StateRelay {
    fn default() -> Self {
        Self {
            allow_list: Vec::new(),
            separator: '_',
            encoding: StateEncoding::Plain,
        }
    }
}

/// What a state means for the flow.
#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// Passed through untouched.
    Opaque,
    /// Return `nonce` as `state`, at `target`.
    Relay { nonce: String, target: Url },
}

/// Why a state was refused. Names the rule, never the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRefusal {
    TooLong,
    BadNonce,
    BadEncoding,
    Target(TargetRefusal),
}

impl std::fmt::Display for StateRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateRefusal::TooLong => write!(f, "the state is longer than {MAX_STATE_LEN} bytes"),
            StateRefusal::BadNonce => write!(
                f,
                "the part before the separator must be 1 to {MAX_NONCE_LEN} letters, digits, '.', '~' or '-'"
            ),
            StateRefusal::BadEncoding => {
                f.write_str("the return-to part is not encoded as this client declares")
            }
            StateRefusal::Target(t) => t.fmt(f),
        }
    }
}

impl StateRefusal {
    /// A short label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            StateRefusal::TooLong => "too_long",
            StateRefusal::BadNonce => "bad_nonce",
            StateRefusal::BadEncoding => "bad_encoding",
            StateRefusal::Target(TargetRefusal::Empty) => "empty_target",
            StateRefusal::Target(TargetRefusal::TooLong) => "target_too_long",
            StateRefusal::Target(TargetRefusal::BadCharacters) => "bad_characters",
            StateRefusal::Target(TargetRefusal::EncodedPath) => "encoded_path",
            StateRefusal::Target(TargetRefusal::NotAllowed) => "not_allowed",
        }
    }
}

impl StateRelay {
    /// Checks the settings an operator gives: every entry parses, and the separator
    /// is one ASCII punctuation character.
    pub fn validate(&self) -> Result<(), String> {
        if !self.separator.is_ascii_punctuation() {
            return Err("the state separator must be one ASCII punctuation character".into());
        }
        for entry in &self.allow_list {
            AllowEntry::parse(entry)?;
        }
        Ok(())
    }

    /// Splits `state` under this client's grammar.
    pub fn split(&self, state: &str) -> Result<Split, StateRefusal> {
        if self.allow_list.is_empty() {
            return Ok(Split::Opaque);
        }
        // Entries were validated when stored; one that no longer parses admits nothing.
        let allow: Vec<AllowEntry> = self
            .allow_list
            .iter()
            .filter_map(|e| AllowEntry::parse(e).ok())
            .collect();
        split(&allow, self.separator, self.encoding, state)
    }
}

/// The splitter itself, on parsed entries (the unit the property tests and the fuzz
/// target exercise).
pub fn split(
    allow: &[AllowEntry],
    separator: char,
    encoding: StateEncoding,
    state: &str,
) -> Result<Split, StateRefusal> {
    if state.len() > MAX_STATE_LEN {
        return Err(StateRefusal::TooLong);
    }
    let Some((nonce, rest)) = state.split_once(separator) else {
        return Ok(Split::Opaque);
    };
    let nonce_ok = (1..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'~' | b'-'));
    if !nonce_ok {
        return Err(StateRefusal::BadNonce);
    }
    let decoded;
    let raw_target = match encoding {
        StateEncoding::Plain => rest,
        StateEncoding::Hex => {
            decoded = hex::decode(rest)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(StateRefusal::BadEncoding)?;
            &decoded
        }
        StateEncoding::Base64url => {
            let bytes = URL_SAFE_NO_PAD.decode(rest.trim_end_matches('='));
            decoded = bytes
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(StateRefusal::BadEncoding)?;
            &decoded
        }
    };
    let target = match_target(allow, raw_target).map_err(StateRefusal::Target)?;
    Ok(Split::Relay {
        nonce: nonce.to_string(),
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORIGIN: &str = "https://app.example.com";

    fn allow() -> Vec<AllowEntry> {
        vec![AllowEntry::parse(ORIGIN).unwrap()]
    }

    /// An independent check of an accepted target: `http::Uri` (hyper's parser) must
    /// see the allowed scheme, host and default port, and the serialisation must begin
    /// with the origin and a `/`, so nothing before the path can differ.
    fn assert_inside(target: &Url) {
        let s = target.as_str();
        assert!(s.starts_with("https://app.example.com/"), "{s}");
        if let Ok(uri) = s.split('#').next().unwrap().parse::<axum::http::Uri>() {
            assert_eq!(uri.scheme_str(), Some("https"), "{s}");
            assert_eq!(uri.host(), Some("app.example.com"), "{s}");
            assert_eq!(uri.port_u16(), None, "{s}");
            assert!(!uri.authority().unwrap().as_str().contains('@'), "{s}");
        }
    }

    #[test]
    fn hex_and_base64url_targets_decode_once() {
        let target = "https://app.example.com/after?x=1";
        let hex_state = format!("abc123-{}", hex::encode(target));
        match split(&allow(), '-', StateEncoding::Hex, &hex_state).unwrap() {
            Split::Relay { nonce, target: t } => {
                assert_eq!(nonce, "abc123");
                assert_eq!(t.as_str(), target);
            }
            other => panic!("{other:?}"),
        }
        let b64_state = format!("n0nce_{}", URL_SAFE_NO_PAD.encode(target));
        assert!(matches!(
            split(&allow(), '_', StateEncoding::Base64url, &b64_state),
            Ok(Split::Relay { .. })
        ));
        let evil = format!("n0nce_{}", URL_SAFE_NO_PAD.encode("https://evil.com/"));
        assert_eq!(
            split(&allow(), '_', StateEncoding::Base64url, &evil),
            Err(StateRefusal::Target(TargetRefusal::NotAllowed))
        );
        let double = format!("n0nce-{}", hex::encode(hex::encode("https://evil.com/")));
        assert!(split(&allow(), '-', StateEncoding::Hex, &double).is_err());
        assert_eq!(
            split(&allow(), '-', StateEncoding::Hex, "n0nce-zz"),
            Err(StateRefusal::BadEncoding)
        );
    }

    fn tricky() -> impl Strategy<Value = String> {
        let parts = prop::sample::select(vec![
            "/",
            "\\",
            "@",
            ":",
            "%2f",
            "%2F",
            "%2e",
            "%5c",
            ".",
            "..",
            "#",
            "?",
            "&",
            "=",
            "evil.com",
            "app.example.com",
            ORIGIN,
            "_",
            "https:",
            "http:",
            "//",
            "%40",
            " ",
            "\t",
            "\r\n",
            "ａ",
            "。",
            "%00",
            "443",
            "xn--",
            "javascript:",
            "%252f",
        ]);
        prop::collection::vec(parts, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_splitter_never_panics_and_accepts_only_allowed_targets(s in any::<String>()) {
            for encoding in [StateEncoding::Plain, StateEncoding::Hex, StateEncoding::Base64url] {
                if let Ok(Split::Relay { target, .. }) = split(&allow(), '_', encoding, &s) {
                    assert_inside(&target);
                }
            }
        }

        #[test]
        fn tricky_targets_never_escape_the_allowed_origin(prefix in prop::sample::select(vec!["", ORIGIN, "https://", "https://app.example.com/"]), rest in tricky()) {
            let state = format!("n0nce_{prefix}{rest}");
            if let Ok(Split::Relay { nonce, target }) = split(&allow(), '_', StateEncoding::Plain, &state) {
                prop_assert_eq!(nonce, "n0nce");
                assert_inside(&target);
            }
        }

        #[test]
        fn path_prefixed_entries_keep_to_their_segments(rest in tricky()) {
            let entry = vec![AllowEntry::parse("https://app.example.com/app").unwrap()];
            let state = format!("n_https://app.example.com/app{rest}");
            if let Ok(Split::Relay { target, .. }) = split(&entry, '_', StateEncoding::Plain, &state) {
                let path = target.path();
                prop_assert!(path == "/app" || path.starts_with("/app/"), "{}", target);
                assert_inside(&target);
            }
        }
    }
}
