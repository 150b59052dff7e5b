//! What Sign in with Apple does differently from other OpenID Connect providers
//! (Apple's "Generate and validate tokens" and "Incorporating Sign in with Apple into
//! other platforms"; Cognito's `SignInWithApple` provider type):
//! - there is no static client secret: each token request carries an ES256 JWT signed
//!   with the team's private key (`iss` team id, `sub` Services ID, `aud` Apple's issuer,
//!   `kid` key id), made here;
//! - the token response's ID token may say `"email_verified": "true"` (a string), which
//!   `openidconnect` refuses to parse, so it is verified here with `jsonwebtoken`:
//!   RS256 signature by a key of Apple's JWKS, `iss`, `aud` (the Services ID), `exp`
//!   and the nonce of this sign-in;
//! - the person's name is not in the ID token: Apple posts it, unsigned, in a `user`
//!   form field on the first authorization of a client only, so a later sign-in without
//!   it keeps the name already stored (absent attributes are never erased).

use anyhow::{Context, bail};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::profile::{Profile, asserts_verified};
use super::{Endpoints, IdentityProvider, ProviderDetails};
use crate::services::Services;
use crate::store::FederationRequest;

/// How long a client secret JWT is valid: one token request needs seconds; Apple
/// accepts up to six months.
const SECRET_LIFETIME: i64 = 5 * 60;

/// The client secret JWT's claims (Apple's "Creating a client secret").
#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    aud: &'a str,
    sub: &'a str,
}

/// Checks what Sign in with Apple needs besides `client_id`: `team_id`, `key_id`, and
/// the private key when given (it is absent while a declaration's secret is unresolved).
pub fn check_details(d: &ProviderDetails, private_key: Option<&str>) -> Result<(), String> {
    for (name, value) in [("team_id", &d.team_id), ("key_id", &d.key_id)] {
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
            return Err(format!("Sign in with Apple needs {name}"));
        }
    }
    match private_key {
        Some(pem) => check_private_key(pem),
        None => Ok(()),
    }
}

/// Whether `pem` is a key Apple's tokens can be signed with: a PKCS#8 PEM EC P-256
/// private key (Apple's `AuthKey_<kid>.p8`). Proven by signing, the way it is used.
pub fn check_private_key(pem: &str) -> Result<(), String> {
    sign("team", "key", "client", "https://appleid.apple.com", pem, 0)
        .map(drop)
        .map_err(|_| "private_key must be a PEM (PKCS#8) EC P-256 private key".into())
}

/// The client secret for one token request of `idp` at `now`, for the provider whose
/// issuer is `audience` (`https://appleid.apple.com`, or a stand-in's).
pub fn client_secret(idp: &IdentityProvider, audience: &str, now: i64) -> anyhow::Result<String> {
    let d = &idp.details;
    let pem = idp.client_secret.as_deref().context("no private key")?;
    sign(
        d.team_id.as_deref().context("no team_id")?,
        d.key_id.as_deref().context("no key_id")?,
        &d.client_id,
        audience,
        pem,
        now,
    )
}

fn sign(
    team_id: &str,
    key_id: &str,
    client_id: &str,
    audience: &str,
    pem: &str,
    now: i64,
) -> anyhow::Result<String> {
    // The key's parse error is not passed on: it could quote the key.
    let key = EncodingKey::from_ec_pem(pem.as_bytes())
        .ok()
        .context("the private key is not an EC PEM key")?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key_id.to_string());
    let claims = SecretClaims {
        iss: team_id,
        iat: now,
        exp: now + SECRET_LIFETIME,
        aud: audience,
        sub: client_id,
    };
    jsonwebtoken::encode(&header, &claims, &key)
        .ok()
        .context("sign the client secret (is the key P-256?)")
}

/// The token endpoint's answer, as far as it is used.
#[derive(Deserialize)]
struct TokenBody {
    id_token: String,
}

/// Redeems `code` at Apple's token endpoint with a fresh client secret, and returns
/// the profile its verified ID token gives.
pub async fn fetch(
    app: &Services,
    idp: &IdentityProvider,
    endpoints: Endpoints,
    code: &str,
    request: &FederationRequest,
    redirect_uri: &str,
) -> anyhow::Result<Profile> {
    let issuer = endpoints.issuer.context("no issuer")?;
    let jwks_url = endpoints.jwks.context("no JWKS URI")?;
    let client_id = idp.details.client_id.as_str();
    let secret = client_secret(idp, &issuer, app.clock.now())?;
    let res = app
        .http
        .post(&endpoints.token)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .context("redeem the code")?;
    let status = res.status();
    if !status.is_success() {
        // Apple's error code only (`invalid_client`, `invalid_grant`): safe to log.
        let error = res.json::<Value>().await.ok();
        let error = error.as_ref().and_then(|v| v["error"].as_str());
        bail!(
            "the token endpoint answered {status}: {}",
            error.unwrap_or("?")
        );
    }
    let body: TokenBody = res.json().await.context("parse the token response")?;
    let header = jsonwebtoken::decode_header(&body.id_token).context("malformed ID token")?;
    if header.alg != Algorithm::RS256 {
        bail!("the ID token is signed {:?}, not RS256", header.alg);
    }
    let kid = header.kid.context("the ID token names no key")?;
    let jwks: JwkSet = app
        .http
        .get(&jwks_url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("fetch the provider's JWKS")?
        .json()
        .await
        .context("parse the provider's JWKS")?;
    let jwk = jwks
        .find(&kid)
        .context("the ID token's key is not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).context("the JWKS key")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&issuer]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(&body.id_token, &key, &validation)
        .context("verify the ID token")?
        .claims;
    // The nonce is this sign-in's, so a code obtained elsewhere does not fit here.
    if claims.get("nonce").and_then(Value::as_str) != Some(request.nonce.as_str()) {
        bail!("the ID token's nonce is not this sign-in's");
    }
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => bail!("the ID token has no sub"),
    };
    Ok(Profile {
        subject,
        email_verified: asserts_verified(&claims),
        claims,
    })
}

/// Apple's `user` field: `{"name":{"firstName":…,"lastName":…},"email":…}`.
#[derive(Deserialize)]
struct UserField {
    name: Option<NameField>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameField {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Adds the name of Apple's `user` field to `profile` as `firstName`, `lastName` and
/// `name` (both, space-separated). Only the name is taken: the field is not signed, and
/// the email comes from the verified ID token. A malformed field adds nothing.
pub fn add_user_field(profile: &mut Profile, user: &str) {
    let Ok(UserField { name: Some(name) }) = serde_json::from_str::<UserField>(user) else {
        return;
    };
    let first = name.first_name.unwrap_or_default().trim().to_string();
    let last = name.last_name.unwrap_or_default().trim().to_string();
    let full = [first.as_str(), last.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    for (claim, value) in [("firstName", first), ("lastName", last), ("name", full)] {
        if !value.is_empty() {
            profile.claims.insert(claim.into(), Value::String(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_field_adds_the_name_and_never_the_email() {
        let mut profile = Profile {
            subject: "s".into(),
            claims: Default::default(),
            email_verified: false,
        };
        add_user_field(
            &mut profile,
            r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"evil@example.com"}"#,
        );
        assert_eq!(profile.get("name").as_deref(), Some("Ada Lovelace"));
        assert_eq!(profile.get("firstName").as_deref(), Some("Ada"));
        assert_eq!(profile.get("lastName").as_deref(), Some("Lovelace"));
        assert_eq!(profile.get("email"), None);
        add_user_field(&mut profile, "not json");
        assert_eq!(profile.get("name").as_deref(), Some("Ada Lovelace"));
    }

    #[test]
    fn only_a_p256_pem_key_is_accepted() {
        assert!(check_private_key("not a key").is_err());
        // A P-384 key: a valid EC key, but not one ES256 can sign with.
        let p384 = "-----BEGIN PRIVATE KEY-----\n\
            MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDArgh1LujfMJSaMR4pW\n\
            hCZlx1eOFUc5Vc5gEPKNHZQYqyeB4EYLm/U+04zn1nDFJhmhZANiAASorUJ2B8xa\n\
            YEBlGaRhRAKkVBRbdhSDyQaCKb4YmWl03Dv/CZlCOrPJpefTFU1DQUeFAigZpkfT\n\
            CLc1BPxDnHAAAutJuYX2spHAgmGHWJEubUw0+dmAi2F4D82p7mnBXGc=\n\
            -----END PRIVATE KEY-----\n";
        assert!(check_private_key(p384).is_err());
        let p256 = "-----BEGIN PRIVATE KEY-----\n\
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzXX1skfeD4aO28LD\n\
            7DxAPDnUcKZIhVOT0z3/6N0wtBChRANCAAQ6INCuIZ4qhklNafFVbj5u9VzcKL0t\n\
            grVXn3+1c3/vSX4b2VFj9kyMFrlW1mtet2NIbpl3wJoMwcGYfS59O4lW\n\
            -----END PRIVATE KEY-----\n";
        assert!(check_private_key(p256).is_ok());
    }
}
