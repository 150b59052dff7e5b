//! Which request members each implemented action takes, from one table,
//! `fields.json` beside this file: nothing sent to the Cognito API is silently dropped.
//! A member is honoured (the action acts on it, or refuses by name the values it
//! cannot act on), accepted (it has no effect here, and the table says why that cannot
//! surprise anyone), or refused before the action runs with
//! `InvalidParameterException` "<Member> is not supported by cognate: <reason>.".
//! Empty values (`null`, `""`, `[]`, `{}`) of any member are let through, since SDKs
//! send them by default (Amplify's `ClientMetadata: {}`, `ValidationData: []`).
//! An action the table does not list is `UnknownOperationException`.
//!
//! `tests/python/test_botocore_walk.py` reads the same table and checks it against
//! botocore's `cognito-idp` model: every member of every listed action is honoured,
//! accepted or refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::CognitoError;

/// The table's text, compiled in.
const TABLE_JSON: &str = include_str!("fields.json");

/// The table, parsed once; a unit test keeps it well-formed.
static TABLE: LazyLock<Result<Table, String>> = LazyLock::new(|| Table::parse(TABLE_JSON));

/// `fields.json` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(rename = "about")]
    _about: Vec<String>,
    reasons: BTreeMap<String, String>,
    sets: BTreeMap<String, Vec<String>>,
    actions: BTreeMap<String, ActionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFile {
    honoured: Vec<String>,
    #[serde(default)]
    accepted: Vec<String>,
}

/// What a member of a request (or of a structure in it) may hold.
#[derive(Debug, PartialEq)]
enum Member {
    /// Taken whole: honoured or accepted.
    Taken,
    /// A structure whose members are checked.
    Structure(Members),
    /// A list of structures, each checked.
    List(Members),
}

type Members = BTreeMap<String, Member>;

/// The parsed table.
struct Table {
    actions: HashMap<String, Members>,
    reasons: BTreeMap<String, String>,
}

impl Table {
    fn parse(text: &str) -> Result<Self, String> {
        let file: TableFile =
            serde_json::from_str(text).map_err(|e| format!("fields.json: {e}"))?;
        let mut actions = HashMap::new();
        for (action, spec) in &file.actions {
            let mut members = Members::new();
            for entry in spec.honoured.iter().chain(&spec.accepted) {
                for path in expand(entry, &file.sets)? {
                    insert(&mut members, &path).map_err(|e| format!("{action}: {e}"))?;
                }
            }
            actions.insert(action.clone(), members);
        }
        Ok(Self {
            actions,
            reasons: file.reasons,
        })
    }
}

/// An entry's paths: `prefix@set` stands for the prefix before each path of the set.
fn expand(entry: &str, sets: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    match entry.split_once('@') {
        None => Ok(vec![entry.to_string()]),
        Some((prefix, set)) => sets
            .get(set)
            .map(|paths| paths.iter().map(|p| format!("{prefix}{p}")).collect())
            .ok_or_else(|| format!("no set {set:?}")),
    }
}

/// Adds `path` (`A.B[].C`) to the tree.
fn insert(members: &mut Members, path: &str) -> Result<(), String> {
    let (step, rest) = match path.split_once('.') {
        Some((step, rest)) => (step, Some(rest)),
        None => (path, None),
    };
    let (name, list) = match step.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (step, false),
    };
    if name.is_empty() {
        return Err(format!("{path:?} has an empty step"));
    }
    let Some(rest) = rest else {
        if list {
            return Err(format!("{path:?} ends in a list step"));
        }
        return match members.insert(name.to_string(), Member::Taken) {
            None => Ok(()),
            Some(_) => Err(format!("{name} is listed twice")),
        };
    };
    let node = members.entry(name.to_string()).or_insert_with(|| {
        if list {
            Member::List(Members::new())
        } else {
            Member::Structure(Members::new())
        }
    });
    match (node, list) {
        (Member::Structure(inner), false) | (Member::List(inner), true) => insert(inner, rest),
        _ => Err(format!("{name} is listed both whole and by member")),
    }
}

/// Whether a value says nothing: what SDKs send for a member not set.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.iter().all(is_empty),
        Value::Object(members) => members.values().all(is_empty),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A refused member: as sent (`Schema[1].Foo`) and as the table names it (`Schema[].Foo`).
struct Refused {
    shown: String,
    path: String,
}

/// Collects the members of `object` that `members` does not take.
fn refused(
    members: &Members,
    object: &Map<String, Value>,
    at: (&str, &str),
    out: &mut Vec<Refused>,
) {
    let (shown_at, path_at) = at;
    for (name, value) in object {
        if is_empty(value) {
            continue;
        }
        let shown = format!("{shown_at}{name}");
        let path = format!("{path_at}{name}");
        match (members.get(name), value) {
            (Some(Member::Taken), _) => {}
            (Some(Member::Structure(inner)), Value::Object(object)) => {
                refused(
                    inner,
                    object,
                    (&format!("{shown}."), &format!("{path}.")),
                    out,
                );
            }
            (Some(Member::List(inner)), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(object) = item {
                        let at = (&format!("{shown}[{i}]."), &format!("{path}[]."));
                        refused(inner, object, (at.0.as_str(), at.1.as_str()), out);
                    }
                }
            }
            // A value of the wrong type is the action's parser's to refuse.
            (Some(_), _) => {}
            (None, _) => out.push(Refused { shown, path }),
        }
    }
}

/// Refuses, before `action` runs, every member of `request` that it does not take.
/// The table's own spelling of `action`, if it is an implemented one: a name that
/// lives as long as the table (for auth events, which take only known names).
pub fn known_action(action: &str) -> Option<&'static str> {
    let table = TABLE.as_ref().ok()?;
    table
        .actions
        .get_key_value(action)
        .map(|(name, _)| name.as_str())
}

pub fn check(action: &str, request: &Map<String, Value>) -> Result<(), CognitoError> {
    let table = table()?;
    let Some(members) = table.actions.get(action) else {
        return Err(not_implemented(action));
    };
    let mut out = Vec::new();
    refused(members, request, ("", ""), &mut out);
    if out.is_empty() {
        return Ok(());
    }
    let sentences: Vec<String> = out
        .iter()
        .map(|r| match table.reasons.get(&r.path) {
            Some(why) => format!("{} is not supported by cognate: {why}.", r.shown),
            None => format!("{} is not supported by cognate.", r.shown),
        })
        .collect();
    Err(CognitoError::invalid(sentences.join(" ")))
}

/// Cognito's answer to an action it does not have.
pub fn not_implemented(action: &str) -> CognitoError {
    let why = if DEVICE_ACTIONS.contains(&action) {
        ": cognate does not track or remember devices (a second factor is asked at every sign-in)"
    } else {
        ""
    };
    CognitoError::new(
        "UnknownOperationException",
        format!("The action {action} is not supported by this server{why}."),
    )
}

/// Cognito's device-tracking actions, refused with the reason.
const DEVICE_ACTIONS: &[&str] = &[
    "ListDevices",
    "AdminListDevices",
    "GetDevice",
    "AdminGetDevice",
    "ConfirmDevice",
    "ForgetDevice",
    "AdminForgetDevice",
    "UpdateDeviceStatus",
    "AdminUpdateDeviceStatus",
];

fn table() -> Result<&'static Table, CognitoError> {
    TABLE
        .as_ref()
        .map_err(|e| anyhow::anyhow!("the API's field table: {e}").into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check_json(action: &str, request: Value) -> Result<(), String> {
        let Value::Object(request) = request else {
            unreachable!("a test request is an object")
        };
        check(action, &request).map_err(|e| format!("{}: {}", e.kind, e.message))
    }

    #[test]
    fn the_table_is_well_formed() {
        let table = Table::parse(TABLE_JSON).expect("fields.json parses");
        assert!(table.actions.contains_key("InitiateAuth"));
    }

    #[test]
    fn listed_members_pass_and_others_are_refused_by_name_with_their_reason() {
        assert_eq!(
            check_json(
                "InitiateAuth",
                json!({ "ClientId": "c", "AuthFlow": "USER_SRP_AUTH" })
            ),
            Ok(())
        );
        let refused = check_json(
            "CreateUserPool",
            json!({ "PoolName": "p", "DeviceConfiguration": { "ChallengeRequiredOnNewDevice": true } }),
        )
        .unwrap_err();
        assert!(refused.starts_with("InvalidParameterException: DeviceConfiguration is not supported by cognate: cognate does not track devices"), "{refused}");
        let unknown = check_json("GetUser", json!({ "AccessToken": "t", "Bogus": 1 })).unwrap_err();
        assert_eq!(
            unknown,
            "InvalidParameterException: Bogus is not supported by cognate."
        );
    }

    #[test]
    fn empty_values_pass_as_sdks_send_them_by_default() {
        let request = json!({
            "ClientId": "c", "Username": "u", "Password": "p",
            "ClientMetadata": {}, "ValidationData": [], "Bogus": null,
            "Session": "", "LambdaConfig": { "PreSignUp": null },
        });
        assert_eq!(check_json("SignUp", request), Ok(()));
    }

    #[test]
    fn nested_members_are_refused_by_their_path_and_list_position() {
        let request = json!({
            "PoolName": "p",
            "Policies": { "PasswordPolicy": { "MinimumLength": 8, "Extra": true } },
            "Schema": [{ "Name": "a" }, { "Name": "b", "Colour": "red" }],
            "EmailConfiguration": { "EmailSendingAccount": "COGNITO_DEFAULT", "SourceArn": "arn" },
            "DeviceConfiguration": { "ChallengeRequiredOnNewDevice": false },
        });
        let message = check_json("CreateUserPool", request).unwrap_err();
        for named in [
            "Policies.PasswordPolicy.Extra is not supported by cognate.",
            "Schema[1].Colour is not supported by cognate.",
            "EmailConfiguration.SourceArn is not supported by cognate: the sender",
            "DeviceConfiguration is not supported by cognate: cognate does not track devices.",
        ] {
            assert!(message.contains(named), "{named} in {message}");
        }
        assert!(!message.contains("MinimumLength") && !message.contains("Schema[0]"));
    }

    #[test]
    fn an_action_the_table_does_not_list_is_an_unknown_operation() {
        let message = check_json("AdminListDevices", json!({})).unwrap_err();
        assert!(
            message.starts_with("UnknownOperationException:") && message.contains("devices"),
            "{message}"
        );
    }

    #[test]
    fn malformed_tables_are_refused() {
        let table = |actions: Value| {
            json!({ "about": [], "reasons": {}, "sets": { "s": ["A"] }, "actions": actions })
                .to_string()
        };
        for actions in [
            json!({ "X": { "honoured": ["A", "A.B"] } }),
            json!({ "X": { "honoured": ["A[].B", "A.C"] } }),
            json!({ "X": { "honoured": ["A[]"] } }),
            json!({ "X": { "honoured": ["@missing"] } }),
            json!({ "X": { "honoured": ["A", "A"] } }),
        ] {
            assert!(Table::parse(&table(actions.clone())).is_err(), "{actions}");
        }
        assert!(Table::parse(&table(json!({ "X": { "honoured": ["B.@s"] } }))).is_ok());
    }
}
