//! The `Filter` of Cognito's `ListUsers`: `attribute = "value"` (exact) or
//! `attribute ^= "value"` (prefix), on the attributes Cognito allows. Values are in
//! double quotes; inside them `\"` is a quote and `\\` a backslash. Spaces around the
//! operator are optional; an empty filter lists everyone. Anything else is refused
//! with a message saying what was wrong.
//!
//! A small hand-written parser over `char`s, so no input can panic it (a proptest
//! below says so).

use crate::users::admin::{Match, UserFilter};

/// Cognito's limit on the filter's length (`UserFilterType`).
pub const MAX_FILTER_CHARS: usize = 256;

/// The attributes `ListUsers` can filter on.
pub const FILTER_ATTRIBUTES: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

/// Parses a filter; `Ok(None)` for an empty one (every user).
pub fn parse(filter: &str) -> Result<Option<UserFilter>, String> {
    if filter.chars().count() > MAX_FILTER_CHARS {
        return Err(format!(
            "The filter is longer than {MAX_FILTER_CHARS} characters."
        ));
    }
    if filter.chars().any(char::is_control) {
        return Err("The filter must not contain control characters.".into());
    }
    let mut p = Parser {
        rest: filter.trim_start(),
    };
    if p.rest.is_empty() {
        return Ok(None);
    }
    let name = p.attribute_name();
    if name.is_empty() {
        return Err(usage("it must start with an attribute name"));
    }
    let Some(&attribute) = FILTER_ATTRIBUTES.iter().find(|a| **a == name) else {
        return Err(format!(
            "Cannot filter on attribute {name:?}; use one of {}.",
            FILTER_ATTRIBUTES.join(", ")
        ));
    };
    p.skip_spaces();
    let prefix = if p.eat("^=") {
        true
    } else if p.eat("=") {
        false
    } else {
        return Err(usage(&format!("{name} must be followed by = or ^=")));
    };
    p.skip_spaces();
    let value = p.quoted()?;
    p.skip_spaces();
    if !p.rest.is_empty() {
        return Err(usage("nothing may follow the quoted value"));
    }
    let m = if prefix {
        Match::Prefix(value)
    } else {
        Match::Exact(value)
    };
    Ok(to_filter(attribute, m))
}

fn usage(what: &str) -> String {
    format!(
        "Invalid filter: {what}. Write attribute = \"value\" or attribute ^= \"value\", \
         with \\\" for a quote inside the value."
    )
}

/// The filter for an allowed attribute; `None` when every user matches.
fn to_filter(attribute: &'static str, m: Match) -> Option<UserFilter> {
    Some(match attribute {
        "username" => UserFilter::Username(m),
        "cognito:user_status" => UserFilter::Status(m),
        "sub" => UserFilter::Sub(m),
        // Cognito's `status` is `Enabled` or `Disabled`, compared case-sensitively.
        "status" => {
            let matching: Vec<bool> = [("Enabled", true), ("Disabled", false)]
                .into_iter()
                .filter(|(word, _)| match &m {
                    Match::Exact(v) => word == v,
                    Match::Prefix(p) => word.starts_with(p.as_str()),
                })
                .map(|(_, enabled)| enabled)
                .collect();
            match matching.as_slice() {
                [] => UserFilter::Nothing,
                [enabled] => UserFilter::Enabled(*enabled),
                _ => return None,
            }
        }
        other => UserFilter::Attribute(other, m),
    })
}

struct Parser<'a> {
    rest: &'a str,
}

impl<'a> Parser<'a> {
    /// Letters, digits, `_` and `:` (as in `cognito:user_status`).
    fn attribute_name(&mut self) -> &'a str {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(self.rest.len());
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        name
    }

    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// A double-quoted value with `\"` and `\\` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(usage("the value must be in double quotes"));
        }
        let mut value = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + c.len_utf8()..];
                    return Ok(value);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => value.push(e),
                    Some((_, e)) => {
                        return Err(usage(&format!(
                            "\\{e} is not an escape; only \\\" and \\\\ are"
                        )));
                    }
                    None => break,
                },
                c => value.push(c),
            }
        }
        Err(usage("the quoted value is not closed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(filter: &str) -> Option<UserFilter> {
        parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"))
    }

    fn exact(v: &str) -> Match {
        Match::Exact(v.into())
    }

    fn prefix(v: &str) -> Match {
        Match::Prefix(v.into())
    }

    #[test]
    fn exact_and_prefix_filters_on_each_kind_of_attribute() {
        assert_eq!(
            ok(r#"email = "a@example.com""#),
            Some(UserFilter::Attribute("email", exact("a@example.com")))
        );
        assert_eq!(
            ok(r#"family_name^="Re""#),
            Some(UserFilter::Attribute("family_name", prefix("Re")))
        );
        assert_eq!(
            ok(r#"  username  ^=  "Bo"  "#),
            Some(UserFilter::Username(prefix("Bo")))
        );
        assert_eq!(
            ok(r#"cognito:user_status = "FORCE_CHANGE_PASSWORD""#),
            Some(UserFilter::Status(exact("FORCE_CHANGE_PASSWORD")))
        );
        assert_eq!(ok(r#"sub = "abc""#), Some(UserFilter::Sub(exact("abc"))));
    }

    #[test]
    fn an_empty_filter_lists_everyone() {
        assert_eq!(ok(""), None);
        assert_eq!(ok("   "), None);
    }

    #[test]
    fn status_means_enabled_or_disabled() {
        assert_eq!(ok(r#"status = "Enabled""#), Some(UserFilter::Enabled(true)));
        assert_eq!(
            ok(r#"status = "Disabled""#),
            Some(UserFilter::Enabled(false))
        );
        assert_eq!(ok(r#"status ^= "Dis""#), Some(UserFilter::Enabled(false)));
        assert_eq!(ok(r#"status ^= """#), None);
        assert_eq!(ok(r#"status = "enabled""#), Some(UserFilter::Nothing));
    }

    // Matrix: LU-01
    #[test]
    fn escaped_quotes_and_backslashes_are_part_of_the_value() {
        assert_eq!(
            ok(r#"name = "Dwayne \"The Rock\" Johnson""#),
            Some(UserFilter::Attribute(
                "name",
                exact(r#"Dwayne "The Rock" Johnson"#)
            ))
        );
        assert_eq!(
            ok(r#"name ^= "a\\b""#),
            Some(UserFilter::Attribute("name", prefix(r"a\b")))
        );
        assert_eq!(
            ok(r#"name = "100% _real_""#),
            Some(UserFilter::Attribute("name", exact("100% _real_")))
        );
    }

    // Matrix: LU-02
    #[test]
    fn malformed_filters_are_refused_with_a_reason() {
        for (filter, reason) in [
            (r#"custom:team = "blue""#, "Cannot filter on attribute"),
            (r#"address = "x""#, "Cannot filter on attribute"),
            (r#"Email = "x""#, "Cannot filter on attribute"),
            (r#"email == "x""#, "double quotes"),
            (r#"email ~ "x""#, "must be followed by = or ^="),
            (r#"email "x""#, "must be followed by = or ^="),
            ("email = x", "double quotes"),
            ("email = 'x'", "double quotes"),
            (r#"email = "x"#, "not closed"),
            (r#"email = "x\"#, "not closed"),
            (r#"email = "x\n""#, "is not an escape"),
            (r#"email = "x" and name = "y""#, "nothing may follow"),
            (r#"= "x""#, "attribute name"),
            (r#""email" = "x""#, "attribute name"),
            ("email = \"a\u{0}b\"", "control characters"),
            ("email = \"a\r\nb\"", "control characters"),
        ] {
            let err = parse(filter).expect_err(filter);
            assert!(err.contains(reason), "{filter:?}: {err}");
        }
    }

    // Matrix: LU-02
    #[test]
    fn a_filter_longer_than_cognitos_limit_is_refused() {
        let long = format!(r#"email = "{}""#, "a".repeat(250));
        assert!(parse(&long).unwrap_err().contains("longer than 256"));
    }

    fn quote(value: &str) -> String {
        let mut out = String::from("\"");
        for c in value.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn near_miss_input_never_panics(s in r#"[a-z:_ ]{0,12}(\^=|=|==|~)? ?"?([^"\\]|\\.){0,8}"?.{0,3}"#) {
            let _ = parse(&s);
        }

        #[test]
        fn any_value_survives_quoting(value in "\\PC{0,60}", is_prefix in any::<bool>()) {
            let op = if is_prefix { "^=" } else { "=" };
            let parsed = parse(&format!("given_name {op} {}", quote(&value)));
            let m = if is_prefix { Match::Prefix(value) } else { Match::Exact(value) };
            prop_assert_eq!(parsed, Ok(Some(UserFilter::Attribute("given_name", m))));
        }
    }
}
