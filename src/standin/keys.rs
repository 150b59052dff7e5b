//! The stand-in's signing keys: one published RSA key that signs ID tokens (RS256,
//! RFC 7515), and an unpublished "impostor" key for the `bad_signature` quirk. Both
//! live only in memory: a restart invalidates earlier tokens, which a stand-in may do.

use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::crypto::random_token;

/// The signing keys and the JWKS that publishes the real one.
pub(super) struct Keys {
    real: RsaKeyPair,
    impostor: RsaKeyPair,
    /// `{"alg":"RS256","kid":…,"typ":"JWT"}`, base64url: the impostor claims the real
    /// kid too, so only the signature check can catch it.
    header_b64: String,
    jwks: Value,
}

/// A fresh 2048-bit key as an aws-lc-rs key pair, and its public JWK.
fn generate(kid: &str) -> (RsaKeyPair, Value) {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .expect("generating an RSA key with the OS generator");
    let der = private
        .to_pkcs8_der()
        .expect("encoding an RSA key as PKCS#8");
    let pair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("aws-lc-rs reads rsa's PKCS#8");
    let jwk = json!({
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
    });
    (pair, jwk)
}

impl Keys {
    /// Generates both keys, in parallel because unoptimised key generation is slow and
    /// this runs once per router (so once per test).
    pub(super) fn generate() -> Self {
        let kid = random_token(12);
        let ((real, jwk), (impostor, _)) = std::thread::scope(|s| {
            let other = s.spawn(|| generate(&kid));
            let real = generate(&kid);
            let impostor = other.join().expect("key generation thread");
            (real, impostor)
        });
        let header = json!({ "alg": "RS256", "kid": kid, "typ": "JWT" });
        Self {
            real,
            impostor,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            jwks: json!({ "keys": [jwk] }),
        }
    }

    /// The JWKS document (RFC 7517 §5) with the real key only.
    pub(super) fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Signs `claims` as a compact JWS; with `impostor` the signature is made by the
    /// unpublished key, so verification against the JWKS must fail.
    pub(super) fn sign(&self, claims: &Value, impostor: bool) -> String {
        let pair = if impostor { &self.impostor } else { &self.real };
        let input = format!(
            "{}.{}",
            self.header_b64,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .expect("RSA signing with a valid in-memory key cannot fail");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}
