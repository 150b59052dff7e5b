//! OAuth 2.0 resource servers (Cognito's): an API's identifier and the custom scopes it
//! defines. App clients are granted them as `<identifier>/<scope>`, and the
//! `client_credentials` grant issues access tokens for nothing else.

use crate::error::AppError;
pub use crate::model::resource_servers::{ResourceServer, Scope};
use crate::services::Services;
use crate::store::StoreError;

/// Cognito's quotas: resource servers per pool, scopes per resource server.
pub const MAX_PER_POOL: usize = 25;
pub const MAX_SCOPES: usize = 100;

impl ResourceServer {
    /// The scopes as clients are granted them: `<identifier>/<name>`.
    pub fn scope_names(&self) -> impl Iterator<Item = String> + '_ {
        self.scopes
            .iter()
            .map(|s| format!("{}/{}", self.identifier, s.name))
    }
}

/// A custom scope has the form `<identifier>/<name>`; standard ones have no `/`.
pub fn is_custom_scope(scope: &str) -> bool {
    scope.contains('/')
}

/// 1 to 256 characters, each in Cognito's pattern for the field.
fn check(field: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), String> {
    if value.is_empty() || value.chars().count() > 256 || !value.chars().all(allowed) {
        return Err(format!(
            "{field} {value:?} must be 1 to 256 allowed characters"
        ));
    }
    Ok(())
}

/// Printable ASCII without space, `"` and `\` (Cognito's identifier pattern).
fn identifier_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

/// Cognito's patterns and quotas for a resource server.
pub fn validate(identifier: &str, name: &str, scopes: &[Scope]) -> Result<(), String> {
    check("identifier", identifier, identifier_char)?;
    check("name", name, |c| {
        c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
    })?;
    if scopes.len() > MAX_SCOPES {
        return Err(format!("a resource server has at most {MAX_SCOPES} scopes"));
    }
    for (i, s) in scopes.iter().enumerate() {
        // A scope name has no `/`, so `<identifier>/<name>` splits one way only.
        check("scope name", &s.name, |c| identifier_char(c) && c != '/')?;
        if s.description.is_empty() || s.description.chars().count() > 256 {
            return Err(format!(
                "the description of scope {:?} must be 1 to 256 characters",
                s.name
            ));
        }
        if scopes[..i].iter().any(|o| o.name == s.name) {
            return Err(format!("scope {:?} is listed twice", s.name));
        }
    }
    Ok(())
}

/// Creates a resource server in `pool_id` (the caller checks [`MAX_PER_POOL`]).
pub async fn create(
    app: &Services,
    pool_id: &str,
    identifier: &str,
    name: &str,
    scopes: Vec<Scope>,
) -> Result<ResourceServer, AppError> {
    validate(identifier, name, &scopes).map_err(AppError::Invalid)?;
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    let now = app.clock.now();
    let server = ResourceServer {
        pool_id: pool_id.to_string(),
        identifier: identifier.to_string(),
        name: name.to_string(),
        scopes,
        created_at: now,
        updated_at: now,
    };
    app.store
        .insert_resource_server(&server)
        .await
        .map_err(|e| match e {
            StoreError::Conflict => AppError::Conflict("a resource server with that identifier"),
            other => other.into(),
        })?;
    Ok(server)
}

/// Replaces a resource server's name and scopes. Clients keep the scope names they
/// were allowed; tokens carry only scopes that still exist.
pub async fn update(
    app: &Services,
    pool_id: &str,
    identifier: &str,
    name: &str,
    scopes: Vec<Scope>,
) -> Result<ResourceServer, AppError> {
    validate(identifier, name, &scopes).map_err(AppError::Invalid)?;
    let mut server = app
        .store
        .resource_server(pool_id, identifier)
        .await?
        .ok_or(AppError::NotFound("resource server"))?;
    server.name = name.to_string();
    server.scopes = scopes;
    server.updated_at = app.clock.now();
    if !app.store.update_resource_server(&server).await? {
        return Err(AppError::NotFound("resource server"));
    }
    Ok(server)
}

pub async fn delete(app: &Services, pool_id: &str, identifier: &str) -> Result<(), AppError> {
    if !app
        .store
        .delete_resource_server(pool_id, identifier)
        .await?
    {
        return Err(AppError::NotFound("resource server"));
    }
    Ok(())
}

/// Every custom scope `pool_id` defines, as `<identifier>/<name>`.
pub async fn pool_scopes(app: &Services, pool_id: &str) -> Result<Vec<String>, AppError> {
    Ok(app
        .store
        .resource_servers(pool_id)
        .await?
        .iter()
        .flat_map(ResourceServer::scope_names)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(name: &str) -> Scope {
        Scope {
            name: name.into(),
            description: "d".into(),
        }
    }

    #[test]
    fn identifiers_and_scope_names_follow_cognitos_patterns() {
        assert!(validate("https://api.example.com", "My API", &[scope("read")]).is_ok());
        assert!(validate("has space", "n", &[]).is_err());
        assert!(validate("quote\"", "n", &[]).is_err());
        assert!(validate("api", "n", &[scope("a/b")]).is_err());
        assert!(validate("api", "n", &[scope("read"), scope("read")]).is_err());
        assert!(validate("api", "bad!name", &[]).is_err());
        assert!(validate(&"a".repeat(257), "n", &[]).is_err());
        let many: Vec<Scope> = (0..101).map(|i| scope(&format!("s{i}"))).collect();
        assert!(validate("api", "n", &many).is_err());
    }
}
