//! The one module that decides where cognate may send a browser. Registered callback
//! and logout URLs are checked when they are registered, and a redirect target must be
//! byte-for-byte one of them (RFC 9700 §4.1.3: exact string matching).

use url::Url;

/// Schemes that can run code or read local data in a browser; never registrable.
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "vbscript", "blob", "about"];

/// Checks a URL an operator registers as a callback or logout URL: absolute, at most
/// 1024 printable ASCII characters, no fragment (RFC 6749 §3.1.2) or userinfo, `https`
/// (plain `http` only for loopback hosts), or an app's own custom scheme.
pub fn validate_registered(raw: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("{raw:?} is not a valid redirect URL: {why}"));
    if raw.is_empty() || raw.len() > 1024 {
        return refuse("it must be 1 to 1024 characters");
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) || raw.contains('\\') {
        return refuse("it must be printable ASCII without spaces or backslashes");
    }
    let url = match Url::parse(raw) {
        Ok(url) => url,
        Err(_) => return refuse("it must be an absolute URL"),
    };
    if url.fragment().is_some() {
        return refuse("it must not have a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("it must not carry credentials");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => refuse("http is allowed only for localhost"),
        s if FORBIDDEN_SCHEMES.contains(&s) => refuse("that scheme is not allowed"),
        _ => Ok(()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `candidate` is exactly one of the `registered` URLs.
pub fn is_registered(registered: &[String], candidate: &str) -> bool {
    registered.iter().any(|r| r == candidate)
}

/// `base` (a registered URL) with `params` added to its query.
pub fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_refuses_unsafe_urls() {
        for bad in [
            "",
            "/callback",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "https://app.example.com/a b",
            "https://app.example.com\\@evil.com/",
        ] {
            assert!(validate_registered(bad).is_err(), "{bad}");
        }
        for good in [
            "https://app.example.com/cb",
            "http://localhost:3000/callback",
            "http://127.0.0.1:8080/cb?x=1",
            "myapp://callback",
        ] {
            assert!(validate_registered(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let reg = vec!["https://app.example.com/cb".to_string()];
        assert!(is_registered(&reg, "https://app.example.com/cb"));
        for near in [
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://APP.example.com/cb",
            "https://app.example.com/CB",
            "https://app.example.com:443/cb",
        ] {
            assert!(!is_registered(&reg, near), "{near}");
        }
    }

    #[test]
    fn params_are_appended_encoded() {
        assert_eq!(
            with_params("https://a/cb", &[("code", "x y")]),
            "https://a/cb?code=x+y"
        );
        assert_eq!(
            with_params("https://a/cb?v=1", &[("s", "&")]),
            "https://a/cb?v=1&s=%26"
        );
    }
}
