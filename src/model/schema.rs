//! A pool's attribute schema and who may write which attribute (Cognito's
//! `SchemaAttributes`, `Mutable` and an app client's `WriteAttributes`). One rule set
//! for every writer: sign-up (API and hosted form), a user's own `UpdateUserAttributes`,
//! and the administrator's actions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One declared attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaAttribute {
    /// The full name: `custom:team`, `email`.
    pub name: String,
    /// `String`, `Number`, `DateTime` or `Boolean`.
    pub data_type: String,
    /// Whether the value may change after the user is created.
    pub mutable: bool,
    pub developer_only: bool,
    /// The bounds declared with it, exactly as declared (Cognito reports them back so).
    pub constraints: Constraints,
}

/// Cognito's `StringAttributeConstraints` and `NumberAttributeConstraints`, in their
/// wire form: the bounds are decimal strings, each optional. Stored as this JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraints {
    #[serde(
        rename = "StringAttributeConstraints",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub string: Option<StringConstraints>,
    #[serde(
        rename = "NumberAttributeConstraints",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub number: Option<NumberConstraints>,
}

/// The length bounds of a `String` attribute, in characters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringConstraints {
    #[serde(rename = "MinLength", default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<String>,
    #[serde(rename = "MaxLength", default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<String>,
}

/// The value bounds of a `Number` attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberConstraints {
    #[serde(rename = "MinValue", default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    #[serde(rename = "MaxValue", default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
}

impl Constraints {
    /// Checks the declared bounds themselves: integers, the lower not above the upper,
    /// and only the kind that fits `data_type`.
    pub fn validate(&self, data_type: &str) -> Result<(), String> {
        if let Some(c) = &self.string {
            if data_type != "String" {
                return Err(format!(
                    "StringAttributeConstraints do not apply to a {data_type} attribute"
                ));
            }
            let min = bound(c.min_length.as_deref(), "MinLength")?;
            let max = bound(c.max_length.as_deref(), "MaxLength")?;
            if min.is_some_and(|m| m < 0) || max.is_some_and(|m| !(0..=2048).contains(&m)) {
                return Err("string lengths must be 0 to 2048".into());
            }
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                return Err("MinLength must not exceed MaxLength".into());
            }
        }
        if let Some(c) = &self.number {
            if data_type != "Number" {
                return Err(format!(
                    "NumberAttributeConstraints do not apply to a {data_type} attribute"
                ));
            }
            let min = bound(c.min_value.as_deref(), "MinValue")?;
            let max = bound(c.max_value.as_deref(), "MaxValue")?;
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                return Err("MinValue must not exceed MaxValue".into());
            }
        }
        Ok(())
    }

    /// Checks a value against the bounds (a bound that does not parse, which
    /// [`Self::validate`] refuses, bounds nothing).
    fn check_value(&self, name: &str, value: &str) -> Result<(), AttributeRefusal> {
        let out_of = |why: String| AttributeRefusal::OutOfBounds(name.to_string(), why);
        if let Some(c) = &self.string {
            let len = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
            if let Ok(Some(min)) = bound(c.min_length.as_deref(), "")
                && len < min
            {
                return Err(out_of(format!("shorter than {min} characters")));
            }
            if let Ok(Some(max)) = bound(c.max_length.as_deref(), "")
                && len > max
            {
                return Err(out_of(format!("longer than {max} characters")));
            }
        }
        if let Some(c) = &self.number {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| out_of("not a whole number".into()))?;
            if let Ok(Some(min)) = bound(c.min_value.as_deref(), "")
                && n < min
            {
                return Err(out_of(format!("less than {min}")));
            }
            if let Ok(Some(max)) = bound(c.max_value.as_deref(), "")
                && n > max
            {
                return Err(out_of(format!("greater than {max}")));
            }
        }
        Ok(())
    }
}

/// An optional decimal bound.
fn bound(value: Option<&str>, what: &str) -> Result<Option<i64>, String> {
    value
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{what} {v:?} is not a whole number"))
        })
        .transpose()
}

impl SchemaAttribute {
    /// A mutable string attribute, as Cognito declares one by default.
    pub fn string(name: &str) -> Self {
        Self {
            name: name.to_string(),
            data_type: "String".into(),
            mutable: true,
            developer_only: false,
            constraints: Constraints::default(),
        }
    }
}

/// Who writes attributes, which decides the rules that apply.
#[derive(Clone, Copy, Debug)]
pub enum Writer<'a> {
    /// The user, through an app client: sign-up or their own access token. The client's
    /// `WriteAttributes` (empty: every attribute) bounds what they may write, and
    /// verification flags are never theirs to set.
    User { writable: &'a [String] },
    /// An administrator (the signed API or the CLI).
    Admin,
}

/// Whether a write happens as the user is created or to an existing user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Creating,
    Updating,
}

/// Why an attribute may not be written. The Cognito API words each as Cognito does
/// (`cognito_api::attribute_error`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttributeRefusal {
    #[error("this application may not set the attribute {0}")]
    NotWritable(String),
    #[error("the attribute {0} cannot be changed once set")]
    Immutable(String),
    #[error("the attribute {0} is not part of this user pool")]
    Undeclared(String),
    /// Outside the bounds the schema declares; the second part says how.
    #[error("the attribute {0} is {1}")]
    OutOfBounds(String, String),
}

/// The verification flags only cognate (a proven code or link), a provider's assertion
/// or an administrator may set.
pub fn is_verification_flag(name: &str) -> bool {
    matches!(name, "email_verified" | "phone_number_verified")
}

/// A pool's declared attributes, as loaded for one write.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    declared: BTreeMap<String, SchemaAttribute>,
}

impl Schema {
    pub fn new(attributes: Vec<SchemaAttribute>) -> Self {
        Self {
            declared: attributes
                .into_iter()
                .map(|a| (a.name.clone(), a))
                .collect(),
        }
    }

    /// Every declaration, by name.
    pub fn attributes(&self) -> impl Iterator<Item = &SchemaAttribute> {
        self.declared.values()
    }

    /// The declaration of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&SchemaAttribute> {
        self.declared.get(name)
    }

    /// Checks that `writer` may set every attribute of `changes` (`current` holds the
    /// user's values before the write: setting an immutable attribute to the value it
    /// already has is no change).
    pub fn check_writes<'v>(
        &self,
        changes: impl IntoIterator<Item = (&'v String, &'v String)>,
        current: &BTreeMap<String, String>,
        writer: Writer<'_>,
        when: When,
    ) -> Result<(), AttributeRefusal> {
        for (name, value) in changes {
            self.check_write(name, writer)?;
            if let Some(a) = self.get(name) {
                a.constraints.check_value(name, value)?;
            }
            let immutable = self.get(name).is_some_and(|a| !a.mutable);
            if immutable && when == When::Updating && current.get(name) != Some(value) {
                return Err(AttributeRefusal::Immutable(name.clone()));
            }
        }
        Ok(())
    }

    /// Checks that `writer` may remove `name`: a write, and never of an immutable one.
    pub fn check_delete(&self, name: &str, writer: Writer<'_>) -> Result<(), AttributeRefusal> {
        self.check_write(name, writer)?;
        match self.get(name) {
            Some(a) if !a.mutable => Err(AttributeRefusal::Immutable(name.to_string())),
            _ => Ok(()),
        }
    }

    /// Checks that `writer` may write (or delete) `name` at all.
    pub fn check_write(&self, name: &str, writer: Writer<'_>) -> Result<(), AttributeRefusal> {
        if name.starts_with("custom:") && self.get(name).is_none() {
            return Err(AttributeRefusal::Undeclared(name.to_string()));
        }
        if let Writer::User { writable } = writer
            && (is_verification_flag(name)
                || self.is_developer_only(name)
                || !(writable.is_empty() || writable.iter().any(|w| w == name)))
        {
            return Err(AttributeRefusal::NotWritable(name.to_string()));
        }
        Ok(())
    }

    /// Whether `name` is declared developer-only (Cognito's `DeveloperOnlyAttribute`,
    /// reported as `dev:custom:…`): only administrators write or read it, never users or
    /// app clients, and no token carries it.
    pub fn is_developer_only(&self, name: &str) -> bool {
        self.get(name).is_some_and(|a| a.developer_only)
    }

    /// Whether an app client reading `read_attributes` (Cognito's `ReadAttributes`;
    /// empty: every attribute) may see the user's `name`, in its ID tokens, at userInfo
    /// and through `GetUser`. Developer-only attributes are never a client's.
    pub fn readable_by_client(&self, read_attributes: &[String], name: &str) -> bool {
        !self.is_developer_only(name)
            && (read_attributes.is_empty() || read_attributes.iter().any(|r| r == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let mut fixed = SchemaAttribute::string("custom:tenant");
        fixed.mutable = false;
        Schema::new(vec![SchemaAttribute::string("custom:team"), fixed])
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn undeclared_custom_attributes_are_refused_for_everyone() {
        let s = schema();
        let change = map(&[("custom:is_admin", "1")]);
        for writer in [Writer::Admin, Writer::User { writable: &[] }] {
            assert_eq!(
                s.check_writes(&change, &BTreeMap::new(), writer, When::Creating),
                Err(AttributeRefusal::Undeclared("custom:is_admin".into()))
            );
        }
    }

    #[test]
    fn users_write_only_what_their_client_allows_and_never_verification_flags() {
        let s = schema();
        let writable = ["name".to_string(), "custom:team".to_string()];
        let user = Writer::User {
            writable: &writable,
        };
        let none = BTreeMap::new();
        assert!(
            s.check_writes(&map(&[("custom:team", "x")]), &none, user, When::Updating)
                .is_ok()
        );
        assert_eq!(
            s.check_writes(&map(&[("email", "a@b.co")]), &none, user, When::Updating),
            Err(AttributeRefusal::NotWritable("email".into()))
        );
        let everything = Writer::User { writable: &[] };
        assert_eq!(
            s.check_writes(
                &map(&[("email_verified", "true")]),
                &none,
                everything,
                When::Creating
            ),
            Err(AttributeRefusal::NotWritable("email_verified".into()))
        );
        assert!(
            s.check_writes(
                &map(&[("email_verified", "true")]),
                &none,
                Writer::Admin,
                When::Updating
            )
            .is_ok()
        );
    }

    #[test]
    fn developer_only_attributes_are_the_administrators_alone() {
        let mut secret = SchemaAttribute::string("custom:secret");
        secret.developer_only = true;
        let s = Schema::new(vec![secret, SchemaAttribute::string("custom:team")]);
        let change = map(&[("custom:secret", "x")]);
        let none = BTreeMap::new();
        let user = Writer::User { writable: &[] };
        assert_eq!(
            s.check_writes(&change, &none, user, When::Creating),
            Err(AttributeRefusal::NotWritable("custom:secret".into()))
        );
        assert!(
            s.check_writes(&change, &none, Writer::Admin, When::Updating)
                .is_ok()
        );
        let listed = ["custom:secret".to_string(), "email".to_string()];
        assert!(!s.readable_by_client(&[], "custom:secret"));
        assert!(!s.readable_by_client(&listed, "custom:secret"));
        assert!(s.readable_by_client(&[], "custom:team"));
        assert!(!s.readable_by_client(&listed, "custom:team"));
        assert!(s.readable_by_client(&listed, "email"));
    }

    #[test]
    fn immutable_attributes_are_set_once() {
        let s = schema();
        let set = map(&[("custom:tenant", "acme")]);
        let none = BTreeMap::new();
        assert!(
            s.check_writes(&set, &none, Writer::Admin, When::Creating)
                .is_ok()
        );
        assert_eq!(
            s.check_writes(&set, &none, Writer::Admin, When::Updating),
            Err(AttributeRefusal::Immutable("custom:tenant".into()))
        );
        // The same value again is no change.
        assert!(
            s.check_writes(&set, &set, Writer::Admin, When::Updating)
                .is_ok()
        );
    }

    #[test]
    fn declared_bounds_are_checked_and_then_enforced() {
        let bounded = |string, number| Constraints { string, number };
        let length = |min: &str, max: &str| {
            Some(StringConstraints {
                min_length: Some(min.into()),
                max_length: Some(max.into()),
            })
        };
        assert!(bounded(length("1", "5"), None).validate("String").is_ok());
        assert!(bounded(length("6", "5"), None).validate("String").is_err());
        assert!(bounded(length("x", "5"), None).validate("String").is_err());
        assert!(bounded(length("0", "5"), None).validate("Number").is_err());
        let mut team = SchemaAttribute::string("custom:team");
        team.constraints = bounded(length("2", "4"), None);
        let mut level = SchemaAttribute::string("custom:level");
        level.data_type = "Number".into();
        level.constraints = bounded(
            None,
            Some(NumberConstraints {
                min_value: Some("0".into()),
                max_value: None,
            }),
        );
        let s = Schema::new(vec![team, level]);
        let none = BTreeMap::new();
        let write = |name: &str, value: &str| {
            s.check_writes(&map(&[(name, value)]), &none, Writer::Admin, When::Creating)
        };
        assert!(write("custom:team", "abc").is_ok());
        assert!(matches!(
            write("custom:team", "a"),
            Err(AttributeRefusal::OutOfBounds(..))
        ));
        assert!(write("custom:team", "abcde").is_err());
        assert!(write("custom:level", "42").is_ok());
        assert!(write("custom:level", "-1").is_err());
        assert!(write("custom:level", "4.5").is_err());
    }
}
