//! PKCE (RFC 7636) with `S256` only: `plain` offers no protection against a leaked
//! authorization request, so it is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::crypto::ct_eq;

/// RFC 7636 §4.1: a verifier is 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a `code_challenge` is acceptable at the authorization endpoint: with S256
/// the only method, exactly what `BASE64URL(SHA256(verifier))` can be (43 characters
/// of base64url for 32 bytes, canonical trailing bits). Anything else could never match
/// a verifier, and would only be stored.
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|digest| digest.len() == 32)
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, in constant time.
pub fn verify(challenge: &str, verifier: &str) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    ct_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(is_valid_challenge(challenge));
        assert!(verify(challenge, verifier));
        // Longer, shorter, other alphabets, or non-canonical last characters: never a digest.
        for bad in [
            &format!("{challenge}A"),
            &challenge[..42],
            &challenge.replace('-', "."),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
        ] {
            assert!(!is_valid_challenge(bad), "{bad}");
        }
        assert!(!verify(challenge, &verifier.replace('d', "e")));
    }

    proptest! {
        #[test]
        fn only_the_matching_verifier_passes(v in "[A-Za-z0-9._~-]{43,128}", w in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            prop_assert!(verify(&challenge, &v));
            prop_assert_eq!(verify(&challenge, &w), v == w);
        }

        #[test]
        fn malformed_verifiers_never_pass(v in ".{0,200}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            prop_assert_eq!(verify(&challenge, &v), is_well_formed(&v));
        }
    }
}
