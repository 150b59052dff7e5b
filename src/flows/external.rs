//! External sign-in: a verified provider identity becomes a user-pool user, in this order:
//! 1. an identity already linked: its user (a native user it was linked to, or the
//!    external user, whose mapped attributes are refreshed);
//! 2. a pre-registration, by subject or by verified email: claimed once, atomically,
//!    giving the new external user its groups and attributes;
//! 3. the provider's linking policy when its *verified* email matches a native user
//!    whose email is verified too (`link`, `deny`, or the default `separate`);
//! 4. otherwise a new external user `<ProviderName>_<subject>`, status
//!    `EXTERNAL_PROVIDER`, in the group `<pool-id>_<ProviderName>`.
//!
//! An unverified email never links or claims anything.
//!
//! Only case 4 (and a claimed pre-registration) creates a user, so only it raises the
//! sign-up triggers, as Cognito does at a first federated sign-in:
//! `PreSignUp_ExternalProvider` before the user exists (a refusal creates nothing),
//! then `PostConfirmation_ConfirmSignUp` (not post authentication), the user being
//! confirmed by the provider. Cases 1 and 3 are sign-ins of a user the pool has:
//! `PreAuthentication_Authentication` before anything changes, then
//! `PostAuthentication_Authentication`. None of them migrates a user.

use std::collections::BTreeMap;

use crate::error::{AppError, TriggerError};
use crate::events::{Event, Kind, Reason};
use crate::federation::profile::Profile;
use crate::federation::{IdentityProvider, LinkingPolicy};
use crate::metrics::{SignInFlow, SignInOutcome};
use crate::services::Services;
use crate::store::StoreError;
use crate::triggers;
use crate::users::schema::Writer;
use crate::users::{NewUser, User, UserStatus};

/// Why a provider identity may not sign in.
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    #[error("An account with this email address already exists. Sign in with your password.")]
    EmailTaken,
    #[error("This account is disabled.")]
    Disabled,
    /// A trigger refused or failed; the user was not created (pre sign-up), or was
    /// created and the sign-in still stops (post confirmation), as on Cognito.
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error(transparent)]
    Internal(AppError),
}

impl Denied {
    /// The auth event's failure reason.
    pub fn event_reason(&self) -> Reason {
        match self {
            Denied::EmailTaken => Reason::UsernameExists,
            Denied::Disabled => Reason::Disabled,
            Denied::Trigger(_) => Reason::Refused,
            Denied::Internal(_) => Reason::Internal,
        }
    }
}

impl From<AppError> for Denied {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Trigger(t) => Denied::Trigger(t),
            other => Denied::Internal(other),
        }
    }
}

impl From<StoreError> for Denied {
    fn from(e: StoreError) -> Self {
        Denied::Internal(e.into())
    }
}

/// The pool attributes a profile maps to (never `username`, `sub` or `identities`).
/// Verification flags come only from the provider's own assertion, never a mapping:
/// `email_verified` is the profile's (see [`Profile::email_verified`]), and a phone
/// number is never taken as verified.
pub fn mapped_attributes(idp: &IdentityProvider, profile: &Profile) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (pool_attribute, provider_attribute) in &idp.attribute_mapping {
        if matches!(
            pool_attribute.as_str(),
            "username" | "sub" | "identities" | "email_verified" | "phone_number_verified"
        ) {
            continue;
        }
        if let Some(value) = profile.get(provider_attribute)
            && crate::users::validate_attribute(pool_attribute, &value).is_ok()
        {
            out.insert(pool_attribute.clone(), value);
        }
    }
    if out.contains_key("email") {
        out.insert("email_verified".into(), profile.email_verified.to_string());
    }
    out
}

/// The user this identity signs in as.
pub async fn resolve(
    app: &Services,
    idp: &IdentityProvider,
    profile: &Profile,
    client_id: &str,
) -> Result<User, Denied> {
    let result = find_or_create(app, idp, profile, client_id).await;
    let outcome = match &result {
        Ok(_) => SignInOutcome::Success,
        Err(Denied::Internal(_)) => SignInOutcome::Error,
        Err(_) => SignInOutcome::Refused,
    };
    app.metrics.sign_in(SignInFlow::Federated, outcome);
    let event = Event::new(Kind::FederationSignIn, &idp.pool_id).client(client_id);
    app.record(match &result {
        Ok(user) => event.user(user),
        Err(denied) => event.failed(denied.event_reason()),
    });
    result
}

/// [`resolve`], unrecorded.
async fn find_or_create(
    app: &Services,
    idp: &IdentityProvider,
    profile: &Profile,
    client_id: &str,
) -> Result<User, Denied> {
    let pool_id = &idp.pool_id;
    let schema = app.store.schema(pool_id).await?;
    let mut attributes = mapped_attributes(idp, profile);
    // A mapping to an attribute the pool does not declare maps nothing.
    attributes.retain(|name, _| schema.check_write(name, Writer::Admin).is_ok());
    if let Some(user) = linked_user(app, idp, &profile.subject).await? {
        authenticating(app, client_id, &user).await?;
        if user.status == UserStatus::ExternalProvider {
            for (name, value) in &attributes {
                // Immutable attributes keep the value of the first sign-in.
                if schema.get(name).is_some_and(|a| !a.mutable) {
                    continue;
                }
                app.store
                    .set_attribute(pool_id, &user.user_id, name, value)
                    .await?;
            }
        }
        return authenticated(app, client_id, usable(user)?).await;
    }
    let verified_email = attributes
        .get("email")
        .filter(|_| profile.email_verified)
        .map(|e| e.to_lowercase());
    let mut claims = vec![("subject", profile.subject.as_str())];
    if let Some(email) = &verified_email {
        claims.push(("email", email.as_str()));
    }
    // A waiting pre-registration wins over linking to a native user.
    let mut preregistered = false;
    for (kind, value) in &claims {
        preregistered |= app
            .store
            .has_preregistration(pool_id, &idp.provider_name, kind, value)
            .await?;
    }
    if !preregistered
        && let Some(email) = &verified_email
        && idp.linking_policy != LinkingPolicy::Separate
        && let Some(native) = native_user_with_email(app, pool_id, email).await?
    {
        if idp.linking_policy == LinkingPolicy::Deny {
            return Err(Denied::EmailTaken);
        }
        authenticating(app, client_id, &native).await?;
        app.store
            .insert_identity(
                pool_id,
                &idp.provider_name,
                &profile.subject,
                &native.user_id,
                app.clock.now(),
            )
            .await?;
        app.record(
            Event::new(Kind::FederationLink, pool_id)
                .client(client_id)
                .user(&native),
        );
        return authenticated(app, client_id, usable(native)?).await;
    }
    let username = crate::users::external_username(&idp.provider_name, &profile.subject);
    let settings = triggers::settings_of(app, pool_id).await?;
    if let Some(settings) = &settings {
        triggers::events::pre_sign_up(
            app,
            pool_id,
            settings,
            "PreSignUp_ExternalProvider",
            Some(client_id),
            &username,
            &attributes,
            None,
            None,
        )
        .await?
        .apply_verification(&mut attributes);
    }
    match create_external(app, idp, &username, &profile.subject, attributes, &claims).await {
        Ok(user) => {
            if settings.is_some() {
                triggers::events::post_confirmation(
                    app,
                    "PostConfirmation_ConfirmSignUp",
                    Some(client_id),
                    &user,
                    None,
                )
                .await?;
            }
            Ok(user)
        }
        // Another first sign-in of the same identity won the race: use its user.
        Err(Denied::Internal(AppError::Conflict(_))) => {
            match linked_user(app, idp, &profile.subject).await? {
                Some(user) => usable(user),
                None => Err(AppError::Conflict("a user for this identity").into()),
            }
        }
        Err(e) => Err(e),
    }
}

async fn linked_user(
    app: &Services,
    idp: &IdentityProvider,
    subject: &str,
) -> Result<Option<User>, Denied> {
    let Some(user_id) = app
        .store
        .user_of_identity(&idp.pool_id, &idp.provider_name, subject)
        .await?
    else {
        return Ok(None);
    };
    Ok(app.store.user_by_id(&idp.pool_id, &user_id).await?)
}

/// A returning user (or one linked to their native account): pre authentication,
/// before anything changes.
async fn authenticating(app: &Services, client_id: &str, user: &User) -> Result<(), Denied> {
    let attempt = super::sign_in::Attempt {
        pool_id: &user.pool_id,
        client_id,
        username: &user.username,
        addr: None,
        client_metadata: None,
        hosted_page: false,
    };
    Ok(super::sign_in::pre_authentication(app, &attempt, Some(user)).await?)
}

/// Post authentication for a returning user, as the attributes now are.
async fn authenticated(app: &Services, client_id: &str, user: User) -> Result<User, Denied> {
    let user = crate::users::reload(app, &user).await?;
    super::sign_in::post_authentication(app, client_id, &user, None).await?;
    Ok(user)
}

fn usable(user: User) -> Result<User, Denied> {
    if user.enabled {
        Ok(user)
    } else {
        Err(Denied::Disabled)
    }
}

/// A confirmed native (password) user whose email is `email` and was proven: by a code
/// or link cognate sent, or vouched for by an administrator. An unconfirmed account is
/// never a link target: whoever signed it up has not proven the address, and linking
/// would hand the provider's user to them.
async fn native_user_with_email(
    app: &Services,
    pool_id: &str,
    email: &str,
) -> Result<Option<User>, Denied> {
    let candidates = app
        .store
        .users_by_attribute(pool_id, "email", email)
        .await?;
    Ok(candidates.into_iter().find(|u| {
        u.status == UserStatus::Confirmed
            && u.attributes.get("email_verified").map(String::as_str) == Some("true")
    }))
}

/// Creates the external user `<ProviderName>_<subject>`, claiming the first waiting
/// pre-registration of `claims` in the same transaction (so a failed creation leaves
/// it waiting), in the group `<pool-id>_<ProviderName>` and the claimed groups.
async fn create_external(
    app: &Services,
    idp: &IdentityProvider,
    username: &str,
    subject: &str,
    attributes: BTreeMap<String, String>,
    claims: &[(&str, &str)],
) -> Result<User, Denied> {
    let pool_id = &idp.pool_id;
    crate::users::validate_username(username).map_err(AppError::Invalid)?;
    let user_id = uuid::Uuid::new_v4().to_string();
    let new = NewUser {
        username: username.to_string(),
        password_hash: None,
        status: UserStatus::ExternalProvider,
        attributes,
        pending_code: None,
    };
    app.store
        .insert_external_user(
            pool_id,
            &user_id,
            &new,
            &idp.provider_name,
            subject,
            claims,
            &[idp.group_name()],
            app.clock.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => AppError::Conflict("a user for this identity"),
            other => other.into(),
        })?;
    let user = app
        .store
        .user_by_id(pool_id, &user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    tracing::info!(pool_id = %pool_id, user_id = %user.user_id, provider = %idp.provider_name, "external user created");
    Ok(user)
}

/// Checks the attributes and group names an external user is declared with (a
/// pre-registration, or `cognate apply` making the user outright).
pub async fn check_declared(
    app: &Services,
    pool_id: &str,
    attributes: &BTreeMap<String, String>,
    groups: &[String],
) -> Result<(), AppError> {
    crate::users::NewUserRules::load(app, pool_id)
        .await?
        .check_attributes(attributes)?;
    for group in groups {
        crate::groups::validate_name(group).map_err(AppError::Invalid)?;
    }
    Ok(())
}

/// Registers an identity before its first sign-in, by subject or by verified email.
pub async fn preregister(
    app: &Services,
    pool_id: &str,
    provider_name: &str,
    subject: Option<&str>,
    email: Option<&str>,
    groups: &[String],
    attributes: &BTreeMap<String, String>,
) -> Result<(), AppError> {
    if crate::federation::provider(app, pool_id, provider_name)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound("identity provider"));
    }
    let (kind, value) = match (subject, email) {
        (Some(s), None) => ("subject", s.to_string()),
        (None, Some(e)) => ("email", e.to_lowercase()),
        _ => {
            return Err(AppError::Invalid(
                "give exactly one of subject or email".into(),
            ));
        }
    };
    check_declared(app, pool_id, attributes, groups).await?;
    app.store
        .insert_preregistration(
            pool_id,
            provider_name,
            kind,
            &value,
            groups,
            attributes,
            app.clock.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => AppError::Conflict("a pre-registration for this identity"),
            other => other.into(),
        })
}
