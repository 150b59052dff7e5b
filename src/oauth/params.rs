//! Form and query parameters for OAuth endpoints. A parameter sent twice is an error
//! (RFC 6749 §3.1 and §3.2), and an empty value counts as absent. A NUL character is
//! refused: no parameter has a use for it, and PostgreSQL text cannot hold it.

use std::collections::HashMap;

/// Single-valued parameters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text; `Err` names a repeated parameter.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            // Before the empty-value rule: an ignored parameter may not carry one either.
            if k.contains('\0') || v.contains('\0') {
                return Err("a parameter contains a NUL character".to_string());
            }
            if v.is_empty() {
                continue;
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(format!("parameter {k} was sent more than once"));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Re-encodes the parameters (sorted), e.g. to carry a validated request from the
    /// authorization endpoint to the login page.
    pub fn encode(&self) -> String {
        let mut pairs: Vec<_> = self.0.iter().collect();
        pairs.sort();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }

    /// The longest value's name, if any value is longer than `max` bytes.
    pub fn oversized(&self, max: usize) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, v)| v.len() > max)
            .map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn repeated_parameters_are_refused_and_empty_ones_ignored() {
        assert!(Params::parse("a=1&a=2").is_err());
        assert!(Params::parse("a=1%00").is_err());
        assert!(
            Params::parse("a%00=").is_err(),
            "NUL in an ignored parameter"
        );
        let p = Params::parse("a=1&b=&c=x%20y").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y"));
    }
}
