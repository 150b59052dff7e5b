//! The people a file declares: users of the pool's own and external users, kept in
//! step with their declared attributes, groups and enabled flag.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use serde_json::json;

use super::{Action, Walk, diff};
use crate::declared::format::{ExternalUserDecl, UserDecl};
use crate::declared::state::Stored;
use crate::model::users::{NewUser, UserStatus, username_key};
use crate::users::schema::{When, Writer};

pub(super) async fn user(
    walk: &mut Walk<'_>,
    u: &UserDecl,
    hash: Option<&str>,
    stored: &Stored,
) -> anyhow::Result<()> {
    let key = username_key(&u.username);
    walk.declared.push(("user", key.clone()));
    let object = format!("user {}", u.username);
    let current = stored
        .decl
        .users
        .iter()
        .find(|s| username_key(&s.username) == key);
    let Some(current) = current else {
        walk.record(object.clone(), Action::Create);
        if walk.execute {
            let status = match &u.status {
                Some(s) => UserStatus::parse(s).context("status")?,
                None => UserStatus::Confirmed,
            };
            let user = crate::users::create_declared(
                walk.app,
                &walk.pool_id,
                u.sub.as_deref(),
                &u.username,
                hash,
                status,
                u.attributes.clone(),
            )
            .await
            .context(object.clone())?;
            if !u.enabled {
                walk.app
                    .store
                    .update_user_enabled(&user.user_id, false, walk.app.clock.now())
                    .await?;
            }
            set_groups(walk, &user.user_id, &[], &u.groups)
                .await
                .context(object)?;
        }
        return Ok(());
    };
    let user_id = current.sub.clone().unwrap_or_default();
    let now = Member {
        attributes: &current.attributes,
        groups: &current.groups,
        enabled: Some(current.enabled),
    };
    let wanted = Member {
        attributes: &u.attributes,
        groups: &u.groups,
        enabled: Some(u.enabled),
    };
    update_member(walk, object, &user_id, now, wanted).await
}

/// What `apply` keeps in step on an existing user, native or external.
struct Member<'a> {
    attributes: &'a BTreeMap<String, String>,
    groups: &'a [String],
    /// `None`: not declared (external users).
    enabled: Option<bool>,
}

/// Brings an existing user's declared attributes, groups and enabled flag to `wanted`.
async fn update_member(
    walk: &mut Walk<'_>,
    object: String,
    user_id: &str,
    now: Member<'_>,
    wanted: Member<'_>,
) -> anyhow::Result<()> {
    let mut fields = changed_attributes(now.attributes, wanted.attributes);
    let enable = wanted.enabled.filter(|e| Some(*e) != now.enabled);
    if enable.is_some() {
        fields.push("enabled".into());
    }
    if sorted(now.groups) != sorted(wanted.groups) {
        fields.push("groups".into());
    }
    if fields.is_empty() {
        return Ok(());
    }
    walk.record(object.clone(), Action::Update(fields));
    if walk.execute {
        set_attributes(walk, user_id, now.attributes, wanted.attributes)
            .await
            .context(object.clone())?;
        if let Some(enabled) = enable {
            walk.app
                .store
                .update_user_enabled(user_id, enabled, walk.app.clock.now())
                .await?;
        }
        set_groups(walk, user_id, now.groups, wanted.groups)
            .await
            .context(object)?;
    }
    Ok(())
}

pub(super) async fn external_user(
    walk: &mut Walk<'_>,
    e: &ExternalUserDecl,
    stored: &Stored,
) -> anyhow::Result<()> {
    let key = e.key();
    walk.declared.push(("external_user", key.clone()));
    let object = format!("external user {key}");
    let (kind, value) = e
        .matching()
        .context("give exactly one of subject or email")?;
    let signed_in = find_external(stored, &e.provider, kind, &value).filter(|s| s.sub.is_some());
    if let Some(current) = signed_in {
        let user_id = current.sub.clone().unwrap_or_default();
        let now = Member {
            attributes: &current.attributes,
            groups: &current.groups,
            enabled: None,
        };
        let wanted = Member {
            attributes: &e.attributes,
            groups: &e.groups,
            enabled: None,
        };
        return update_member(walk, object, &user_id, now, wanted).await;
    }
    let pending = find_external(stored, &e.provider, kind, &value).filter(|s| s.sub.is_none());
    let action = match pending {
        None => Action::Create,
        Some(p) => {
            let mut fields = diff(&json!(p.attributes), &json!(e.attributes))
                .into_iter()
                .map(|f| format!("attributes.{f}"))
                .collect::<Vec<_>>();
            if sorted(&p.groups) != sorted(&e.groups) {
                fields.push("groups".into());
            }
            if fields.is_empty() {
                return Ok(());
            }
            Action::Update(fields)
        }
    };
    walk.record(object.clone(), action);
    if !walk.execute {
        return Ok(());
    }
    let app = walk.app;
    if pending.is_some() {
        app.store
            .delete_preregistration(&walk.pool_id, &e.provider, kind, &value)
            .await?;
    }
    match (&e.sub, &e.subject) {
        // Exported after the first sign-in: the user comes back as it was.
        (Some(sub), Some(subject)) => {
            let new = NewUser {
                username: crate::users::external_username(&e.provider, subject),
                password_hash: None,
                status: UserStatus::ExternalProvider,
                attributes: e.attributes.clone(),
                pending_code: None,
            };
            crate::flows::external::check_declared(app, &walk.pool_id, &e.attributes, &e.groups)
                .await
                .context(object.clone())?;
            let mut groups = e.groups.clone();
            groups.push(crate::federation::provider_group(
                &walk.pool_id,
                &e.provider,
            ));
            app.store
                .insert_external_user(
                    &walk.pool_id,
                    sub,
                    &new,
                    &e.provider,
                    subject,
                    &[("subject", subject)],
                    &groups,
                    app.clock.now(),
                )
                .await
                .context(object)?;
        }
        _ => crate::flows::external::preregister(
            app,
            &walk.pool_id,
            &e.provider,
            e.subject.as_deref(),
            e.email.as_deref(),
            &e.groups,
            &e.attributes,
        )
        .await
        .context(object)?,
    }
    Ok(())
}

/// The stored external user (signed in, or pre-registered) a declaration's
/// `(kind, value)` names: a signed-in one by its identity's subject or its email.
fn find_external<'a>(
    stored: &'a Stored,
    provider: &str,
    kind: &str,
    value: &str,
) -> Option<&'a ExternalUserDecl> {
    stored.decl.external_users.iter().find(|s| {
        s.provider == provider
            && match (kind, s.sub.is_some()) {
                ("subject", _) => s.subject.as_deref() == Some(value),
                (_, true) => {
                    s.attributes
                        .get("email")
                        .map(|m| m.to_lowercase())
                        .as_deref()
                        == Some(value)
                }
                (_, false) => s.email.as_deref() == Some(value),
            }
    })
}

/// [`find_external`] by a key `--prune` remembered (`Google:subject:123`).
pub(super) fn external_of_key<'a>(stored: &'a Stored, key: &str) -> Option<&'a ExternalUserDecl> {
    let mut parts = key.splitn(3, ':');
    let (provider, kind, value) = (parts.next()?, parts.next()?, parts.next()?);
    find_external(stored, provider, kind, value)
}

/// Writes the declared attributes that differ from the user's (others are left).
async fn set_attributes(
    walk: &Walk<'_>,
    user_id: &str,
    current: &BTreeMap<String, String>,
    declared: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let set: BTreeMap<String, String> = declared
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if set.is_empty() {
        return Ok(());
    }
    for (name, value) in &set {
        crate::users::validate_attribute(name, value).map_err(anyhow::Error::msg)?;
    }
    walk.app
        .store
        .schema(&walk.pool_id)
        .await?
        .check_writes(&set, current, Writer::Admin, When::Updating)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    walk.app
        .store
        .update_user_attributes(&walk.pool_id, user_id, &set, &[], walk.app.clock.now())
        .await?;
    Ok(())
}

/// Makes the user's memberships exactly `declared`.
async fn set_groups(
    walk: &Walk<'_>,
    user_id: &str,
    current: &[String],
    declared: &[String],
) -> anyhow::Result<()> {
    let store = &walk.app.store;
    for group in declared.iter().filter(|g| !current.contains(g)) {
        store
            .group_by_name(&walk.pool_id, group)
            .await?
            .with_context(|| format!("group {group} does not exist"))?;
        store
            .insert_membership(&walk.pool_id, group, user_id)
            .await?;
    }
    for group in current.iter().filter(|g| !declared.contains(g)) {
        store
            .delete_membership(&walk.pool_id, group, user_id)
            .await?;
    }
    Ok(())
}

/// `attributes.<name>` for each declared attribute whose value differs.
fn changed_attributes(
    current: &BTreeMap<String, String>,
    declared: &BTreeMap<String, String>,
) -> Vec<String> {
    declared
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, _)| format!("attributes.{k}"))
        .collect()
}

fn sorted(list: &[String]) -> BTreeSet<&str> {
    list.iter().map(String::as_str).collect()
}
