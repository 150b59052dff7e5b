//! A pool's attribute schema and who may write which attribute (Cognito's
//! `SchemaAttributes`, `Mutable` and an app client's `WriteAttributes`). One rule set
//! for every writer: sign-up (API and hosted form), a user's own `UpdateUserAttributes`,
//! and the administrator's actions.

use std::collections::BTreeMap;

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
}

impl SchemaAttribute {
    /// A mutable string attribute, as Cognito declares one by default.
    pub fn string(name: &str) -> Self {
        Self {
            name: name.to_string(),
            data_type: "String".into(),
            mutable: true,
            developer_only: false,
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
                || !(writable.is_empty() || writable.iter().any(|w| w == name)))
        {
            return Err(AttributeRefusal::NotWritable(name.to_string()));
        }
        Ok(())
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
}
