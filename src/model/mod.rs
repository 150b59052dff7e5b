//! The domain's data types, below both the domain modules (which own their rules and
//! re-export these) and the store (which maps rows into them), so that imports run one
//! way: domain -> store -> model.

pub mod clients;
pub mod domains;
pub mod federation;
pub mod groups;
pub mod pool;
pub mod resource_servers;
pub mod schema;
pub mod triggers;
pub mod users;
