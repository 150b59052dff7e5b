//! The one module that decides where cognate may send a browser. Registered callback
//! and logout URLs are checked when they are registered, and a redirect target must be
//! byte-for-byte one of them (RFC 9700 §4.1.3: exact string matching). Return-to
//! targets (from an overloaded `state`) must match an app client's allow-list entry
//! exactly on scheme, host and port, and on whole path segments.

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
    // An `@` in the authority as written, even with empty credentials
    // (`https://@evil.example/cb`), shows a host that is not where the browser goes.
    let authority = raw
        .split_once(':')
        .and_then(|(_, rest)| rest.strip_prefix("//"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    if !url.username().is_empty()
        || url.password().is_some()
        || authority.is_some_and(|a| a.contains('@'))
    {
        return refuse("it must not carry credentials");
    }
    // URLs match byte for byte, so a wildcard would never mean what its author meant.
    if url.host_str().is_some_and(|h| h.contains('*')) || url.path().contains('*') {
        return refuse("wildcards are not supported; register each URL exactly");
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

/// `base` (a registered or validated URL) with `params` added to its query, before
/// any fragment; the existing query is kept byte for byte.
pub fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let (head, fragment) = match base.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (base, None),
    };
    let sep = match head.find('?') {
        Some(i) if i + 1 < head.len() => "&",
        Some(_) => "",
        None => "?",
    };
    let mut out = format!("{head}{sep}{}", query.finish());
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Longest return-to target accepted.
pub const MAX_TARGET_LEN: usize = 2048;

/// One entry of a return-to allow-list: an origin and a path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowEntry {
    /// `scheme://host[:port]` as the URL parser serialises it (IDNA-normalised host,
    /// default port omitted); a target's raw text must start with exactly this.
    origin: String,
    scheme: String,
    host: String,
    port: Option<u16>,
    /// `/` for the whole origin, else a path without a trailing slash.
    path: String,
}

impl AllowEntry {
    /// Parses an operator's entry: an absolute `https` URL (`http` for loopback hosts)
    /// with an optional path prefix, and no credentials, query or fragment.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let refuse = |why: &str| Err(format!("{raw:?} is not a valid return-to entry: {why}"));
        let url = match Url::parse(raw) {
            Ok(url) => url,
            Err(_) => return refuse("it must be an absolute URL"),
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            _ => return refuse("it must be https (http only for localhost)"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("it must not carry credentials");
        }
        if url.query().is_some() || url.fragment().is_some() {
            return refuse("it must not have a query or fragment");
        }
        let Some(host) = url.host_str() else {
            return refuse("it must have a host");
        };
        let path = match url.path().trim_end_matches('/') {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        if path.contains('%') {
            return refuse("its path must not be percent-encoded");
        }
        let port = url.port();
        let origin = match port {
            Some(p) => format!("{}://{host}:{p}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        Ok(Self {
            origin,
            scheme: url.scheme().to_string(),
            host: host.to_string(),
            port,
            path,
        })
    }

    /// Whether a parsed target lies under this entry.
    fn admits(&self, url: &Url) -> bool {
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host.as_str())
            && url.port() == self.port
            && url.username().is_empty()
            && url.password().is_none()
            && (self.path == "/"
                || url.path() == self.path
                || url
                    .path()
                    .strip_prefix(self.path.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

/// Why a return-to target was refused. The variants name the rule, never the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetRefusal {
    Empty,
    TooLong,
    /// Whitespace, control, non-ASCII or backslash characters.
    BadCharacters,
    /// Percent-encoded `.`, `/` or `\` in the path, which could change its meaning
    /// once a server decodes it.
    EncodedPath,
    NotAllowed,
}

impl std::fmt::Display for TargetRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetRefusal::Empty => "the return-to URL is empty",
            TargetRefusal::TooLong => "the return-to URL is too long",
            TargetRefusal::BadCharacters => {
                "the return-to URL contains characters that must be percent-encoded (spaces, control or non-ASCII characters, backslashes)"
            }
            TargetRefusal::EncodedPath => "the return-to URL has an encoded dot, slash or backslash in its path",
            TargetRefusal::NotAllowed => "the return-to URL is not on this client's allow-list",
        })
    }
}

/// Matches a raw return-to target against an allow-list and returns it parsed (its
/// WHATWG serialisation is where the browser goes). The raw text is checked before
/// parsing, and never decoded: printable ASCII only, no backslash, and it must begin
/// with an allowed origin followed by `/`, `?`, `#` or nothing, so parser quirks
/// (`https:evil.com`, `\@`, userinfo, odd ports) cannot reach the comparison.
pub fn match_target(allow: &[AllowEntry], raw: &str) -> Result<Url, TargetRefusal> {
    if raw.is_empty() {
        return Err(TargetRefusal::Empty);
    }
    if raw.len() > MAX_TARGET_LEN {
        return Err(TargetRefusal::TooLong);
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        return Err(TargetRefusal::BadCharacters);
    }
    for entry in allow {
        let Some(rest) = raw.strip_prefix(entry.origin.as_str()) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(['/', '?', '#'])) {
            continue;
        }
        let raw_path = rest
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ["%2e", "%2f", "%5c"].iter().any(|e| raw_path.contains(e)) {
            return Err(TargetRefusal::EncodedPath);
        }
        if let Ok(url) = Url::parse(raw)
            && entry.admits(&url)
        {
            return Ok(url);
        }
    }
    Err(TargetRefusal::NotAllowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Matrix: RD-05
    #[test]
    fn registration_refuses_unsafe_urls() {
        for bad in [
            "",
            "/callback",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "https://@evil.example/cb",
            "https://:@evil.example/cb",
            "myapp://@callback",
            "javascript:alert(1)",
            "https://app.example.com/a b",
            "https://app.example.com\\@evil.com/",
            "https://*.example.com/cb",
            "https://app.example.com/*",
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
    fn params_are_appended_encoded_before_the_fragment() {
        assert_eq!(
            with_params("https://a/cb", &[("code", "x y")]),
            "https://a/cb?code=x+y"
        );
        assert_eq!(
            with_params("https://a/cb?v=1", &[("s", "&")]),
            "https://a/cb?v=1&s=%26"
        );
        assert_eq!(
            with_params("https://a/?#/r?t=2", &[("c", "1")]),
            "https://a/?c=1#/r?t=2"
        );
        assert_eq!(
            with_params("https://a/p#s", &[("c", "1")]),
            "https://a/p?c=1#s"
        );
    }

    fn allow(entries: &[&str]) -> Vec<AllowEntry> {
        entries
            .iter()
            .map(|e| AllowEntry::parse(e).unwrap())
            .collect()
    }

    #[test]
    fn path_prefixes_match_whole_segments() {
        let list = allow(&["https://app.example.com/app"]);
        assert!(match_target(&list, "https://app.example.com/app").is_ok());
        assert!(match_target(&list, "https://app.example.com/app/x?y=1").is_ok());
        assert!(match_target(&list, "https://app.example.com/app?y=1").is_ok());
        for bad in [
            "https://app.example.com/application",
            "https://app.example.com/",
            "https://app.example.com/app/../admin",
            "https://app.example.com/app/%2e%2e/admin",
            "https://app.example.com/app%2f..%2fadmin",
        ] {
            assert!(match_target(&list, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn each_raw_rule_refuses_what_a_parser_alone_would_accept() {
        let list = allow(&["https://app.example.com"]);
        // Each of these parses to a URL on the allowed origin; only the raw rule stops it.
        let cases = [
            ("https://app.example.com/a\\b", TargetRefusal::BadCharacters),
            ("https://app.example.com/a b", TargetRefusal::BadCharacters),
            (
                "https://app.example.com/caf\u{e9}",
                TargetRefusal::BadCharacters,
            ),
            ("https://app.example.com:443/", TargetRefusal::NotAllowed),
            ("https://APP.example.com/", TargetRefusal::NotAllowed),
            ("https://app.example.com/a%2fb", TargetRefusal::EncodedPath),
            (
                "https://app.example.com/%2E%2E/x",
                TargetRefusal::EncodedPath,
            ),
            ("https://app.example.com/a%5Cb", TargetRefusal::EncodedPath),
        ];
        for (raw, why) in cases {
            assert!(Url::parse(raw).is_ok(), "{raw} should parse");
            assert_eq!(match_target(&list, raw), Err(why), "{raw}");
        }
        assert_eq!(match_target(&list, ""), Err(TargetRefusal::Empty));
        let long = format!("https://app.example.com/{}", "p".repeat(MAX_TARGET_LEN));
        assert_eq!(match_target(&list, &long), Err(TargetRefusal::TooLong));
        // An encoded slash in the query is data, not a path separator.
        assert!(match_target(&list, "https://app.example.com/?next=%2Fhome").is_ok());
    }

    #[test]
    fn entries_are_normalised_and_checked() {
        let e = AllowEntry::parse("https://App.Example.COM:443/").unwrap();
        assert_eq!(e.origin, "https://app.example.com");
        let idn = AllowEntry::parse("https://bücher.example/").unwrap();
        assert_eq!(idn.origin, "https://xn--bcher-kva.example");
        assert!(AllowEntry::parse("http://app.example.com/").is_err());
        assert!(AllowEntry::parse("http://localhost:3000/").is_ok());
        assert!(AllowEntry::parse("https://u:p@app.example.com/").is_err());
        assert!(AllowEntry::parse("https://app.example.com/?q=1").is_err());
        assert!(AllowEntry::parse("app.example.com").is_err());
    }
}
