//! Resource servers and their custom scopes.

use serde::{Deserialize, Serialize};

/// A resource server of a pool.
#[derive(Clone, Debug, Serialize)]
pub struct ResourceServer {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A custom scope; clients see it as `<identifier>/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub name: String,
    pub description: String,
}
