//! RS256 JWTs (RFC 7515/7519): signing with the pool's in-memory key pair, and
//! verification with `jsonwebtoken` against the pool's published keys only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::keys::PoolKeys;

impl PoolKeys {
    /// Signs `claims` as a compact JWS with the pool's newest key.
    pub fn sign(&self, claims: &Value) -> String {
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{}.{payload}", self.header_b64);
        let sig = self.sign_raw(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The RS256 signature of `input` (the JWS signing input).
    pub fn sign_raw(&self, input: &[u8]) -> Vec<u8> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input,
                &mut sig,
            )
            .expect("RSA signing with a valid in-memory key cannot fail");
        sig
    }

    /// The key id that signs new tokens.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Verifies a token issued by this pool. Anything cognate would not have issued is
    /// refused: a header other than `{"alg":"RS256","kid":…}` (optionally `typ`), so no
    /// `crit`, `jku`, `jwk`, `x5u` or `x5c` is ever acted on; a `kid` not in the pool's
    /// own key map; a bad signature or `iss`; duplicate JSON members; and times outside
    /// [`check_times`]. `None` for any failure: callers answer every bad token alike.
    /// `issuers` are the names the pool goes by; `iss` must be one of them.
    pub fn verify(&self, token: &str, issuers: &[String], now: i64) -> Option<Value> {
        let mut segments = token.split('.');
        let (header, payload) = (segments.next()?, segments.next()?);
        let header = json_object(header)?;
        if header
            .keys()
            .any(|k| !matches!(k.as_str(), "alg" | "kid" | "typ"))
            || header.get("alg")?.as_str()? != "RS256"
        {
            return None;
        }
        let key = self.verifiers.get(header.get("kid")?.as_str()?)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(issuers);
        validation.validate_aud = false;
        // Times are checked below against the server clock, which tests can move.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let data = jsonwebtoken::decode::<Value>(token, key, &validation).ok()?;
        json_object(payload)?;
        check_times(&data.claims, now).then_some(data.claims)
    }
}

/// Leeway for `iat` and `nbf` ahead of this server's clock (another instance's clock
/// may run slightly ahead). Expiry has none: `exp` must be after now.
pub const CLOCK_LEEWAY: i64 = 60;
/// The longest lifetime cognate gives an ID or access token (Cognito's maximum, 1 day).
pub const MAX_LIFETIME: i64 = 86400;

/// `exp` and `iat` are integers, `exp` is in the future, `iat` and `nbf` are not (beyond
/// [`CLOCK_LEEWAY`]), and `exp - iat` is at most [`MAX_LIFETIME`], which also refuses an
/// `exp` in milliseconds.
fn check_times(claims: &Value, now: i64) -> bool {
    let int = |name: &str| claims.get(name).map(Value::as_i64);
    let (Some(Some(exp)), Some(Some(iat))) = (int("exp"), int("iat")) else {
        return false;
    };
    let nbf_ok = match int("nbf") {
        None => true,
        Some(Some(nbf)) => nbf <= now + CLOCK_LEEWAY,
        Some(None) => false,
    };
    exp > now && iat <= now + CLOCK_LEEWAY && exp - iat <= MAX_LIFETIME && nbf_ok
}

/// A base64url segment holding a JSON object without duplicate member names (two
/// parsers could disagree on which one counts). Padding and non-canonical encodings are
/// refused by the engine.
pub(crate) fn json_object(segment: &str) -> Option<serde_json::Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    serde_json::from_slice::<UniqueObject>(&bytes)
        .ok()
        .map(|o| o.0)
}

/// A JSON object that refuses a repeated member name at its top level.
struct UniqueObject(serde_json::Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if out.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("duplicate member {k:?}")));
                    }
                    out.insert(k, v);
                }
                Ok(UniqueObject(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_with_a_repeated_member_are_refused() {
        let seg = |s: &str| URL_SAFE_NO_PAD.encode(s);
        assert!(json_object(&seg(r#"{"a":1,"b":{"a":2}}"#)).is_some());
        assert!(json_object(&seg(r#"{"a":1,"a":1}"#)).is_none());
        assert!(json_object(&seg("[1]")).is_none());
        assert!(json_object(&format!("{}=", seg(r#"{"a":1}"#))).is_none());
    }

    #[test]
    fn times_are_integers_within_bounds() {
        let now = 1_700_000_000;
        let c = |exp: Value, iat: Value| serde_json::json!({ "exp": exp, "iat": iat });
        assert!(check_times(&c((now + 3600).into(), now.into()), now));
        assert!(!check_times(&c(now.into(), (now - 3600).into()), now));
        assert!(!check_times(
            &c(((now + 3600) * 1000).into(), now.into()),
            now
        ));
        assert!(!check_times(&c("1".into(), now.into()), now));
        assert!(!check_times(
            &c((now + 3600).into(), (now + 61).into()),
            now
        ));
        let mut nbf = c((now + 3600).into(), now.into());
        nbf["nbf"] = (now + 61).into();
        assert!(!check_times(&nbf, now));
        nbf["nbf"] = (now + 60).into();
        assert!(check_times(&nbf, now));
    }
}
