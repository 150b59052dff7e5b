//! Groups.

use serde::Serialize;

/// A group of a pool.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Group {
    pub pool_id: String,
    pub group_name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
