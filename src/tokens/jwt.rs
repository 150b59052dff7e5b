//! RS256 JWTs (RFC 7515/7519): signing with the pool's in-memory key pair, and
//! verification with `jsonwebtoken` against the pool's published keys only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use super::keys::PoolKeys;

impl PoolKeys {
    /// Signs `claims` as a compact JWS with the pool's newest key.
    pub fn sign(&self, claims: &Value) -> String {
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{}.{payload}", self.header_b64);
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing with a valid in-memory key cannot fail");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The key id that signs new tokens.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Verifies a token issued by this pool: RS256 only, a `kid` of this pool, the
    /// signature, `iss`, and `exp` (checked against `now`, no leeway). `None` for any
    /// failure: callers answer every bad token the same way.
    pub fn verify(&self, token: &str, issuer: &str, now: i64) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let key = self.verifiers.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        // Expiry is checked below against the server clock, which tests can move.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, key, &validation).ok()?;
        let exp = data.claims.get("exp")?.as_i64()?;
        (exp > now).then_some(data.claims)
    }
}
