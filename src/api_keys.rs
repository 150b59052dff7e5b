//! The Cognito API's access keys (`COGNATE_API_KEYS`: `AKID:SECRET,…`), parsed once
//! when the configuration is built: a malformed spec stops the server with a message
//! that names the bad entry and never prints a secret.

use std::fmt;

use subtle::ConstantTimeEq;

/// The longest access key id accepted.
const MAX_ACCESS_KEY_ID_LEN: usize = 128;

/// The API's access keys: access key id -> secret access key. None (the default)
/// closes the signed API.
#[derive(Clone, Default)]
pub struct ApiKeys {
    entries: Vec<KeyEntry>,
}

#[derive(Clone)]
struct KeyEntry {
    access_key_id: String,
    secret: String,
}

impl ApiKeys {
    /// Parses "AKID:SECRET[,AKID2:SECRET2...]" (the COGNATE_API_KEYS format); errors name the bad entry without printing secrets.
    ///
    /// A blank spec gives no keys. Entries are trimmed; inside an entry the first `:`
    /// separates the access key id (ASCII letters and digits) from the secret.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries: Vec<KeyEntry> = Vec::new();
        if spec.trim().is_empty() {
            return Ok(ApiKeys { entries });
        }
        for (i, entry) in spec.split(',').enumerate() {
            let n = i + 1;
            let entry = entry.trim();
            if entry.is_empty() {
                return Err(format!("API key entry {n} is empty"));
            }
            // The entry itself is never echoed: without a ':' it may be a pasted secret.
            let Some((id, secret)) = entry.split_once(':') else {
                return Err(format!(
                    "API key entry {n} has no ':' (expected ACCESS_KEY_ID:SECRET)"
                ));
            };
            if id.is_empty() {
                return Err(format!("API key entry {n} has an empty access key id"));
            }
            if !is_access_key_id(id) {
                return Err(format!(
                    "API key entry {n}: the access key id must be 1 to \
                     {MAX_ACCESS_KEY_ID_LEN} ASCII letters and digits"
                ));
            }
            if secret.is_empty() {
                return Err(format!("API key entry {n} ({id}) has an empty secret"));
            }
            if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "API key entry {n} ({id}): the secret contains whitespace"
                ));
            }
            if entries.iter().any(|e| e.access_key_id == id) {
                return Err(format!("API key entry {n} ({id}) repeats an access key id"));
            }
            entries.push(KeyEntry {
                access_key_id: id.to_owned(),
                secret: secret.to_owned(),
            });
        }
        Ok(ApiKeys { entries })
    }

    /// True when no key is configured (the signed API is then closed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The secret for `access_key_id`. Every entry is compared, in constant time, so the
    /// time taken does not tell which configured id shares a prefix with the one sent.
    pub fn secret_for(&self, access_key_id: &str) -> Option<&str> {
        let mut found = None;
        for entry in &self.entries {
            let same = entry
                .access_key_id
                .as_bytes()
                .ct_eq(access_key_id.as_bytes());
            if bool::from(same) && found.is_none() {
                found = Some(entry.secret.as_str());
            }
        }
        found
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self
            .entries
            .iter()
            .map(|e| e.access_key_id.as_str())
            .collect();
        f.debug_struct("ApiKeys")
            .field("access_key_ids", &ids)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

/// An access key id: 1 to 128 ASCII letters and digits.
pub fn is_access_key_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ACCESS_KEY_ID_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_several_pairs() {
        let keys =
            ApiKeys::parse(" AKID1:secret/one+x , AKID2:s:with:colons,AKID3:three\n").unwrap();
        assert!(!keys.is_empty());
        assert_eq!(keys.secret_for("AKID1"), Some("secret/one+x"));
        assert_eq!(keys.secret_for("AKID2"), Some("s:with:colons"));
        assert_eq!(keys.secret_for("AKID3"), Some("three"));
        assert_eq!(keys.secret_for("AKID"), None);
        assert!(ApiKeys::parse("").unwrap().is_empty());
        assert!(ApiKeys::parse("  ").unwrap().is_empty());
    }

    #[test]
    fn keys_parse_refuses_bad_entries_without_printing_secrets() {
        for bad in [
            "nocolon",
            ":topsecret",
            "AKID:",
            "AKID1:topsecret,,AKID2:topsecret",
            "AKID1:topsecret,",
            ",AKID1:topsecret",
            "AK/ID:topsecret",
            "AKID:top secret",
            "AKID:topsecret,AKID:topsecret",
        ] {
            let error = ApiKeys::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} parsed"));
            assert!(!error.contains("topsecret"), "{error}");
            assert!(!error.contains("top secret"), "{error}");
        }
        let error = ApiKeys::parse("AKID1:a,nocolonsecret").err().unwrap();
        assert!(error.contains("entry 2"), "{error}");
        assert!(!error.contains("nocolonsecret"), "{error}");
    }
}
