//! One-time conversions of stored data that need the master key, so they cannot be SQL
//! migrations: each runs after the migrations, at most once per database (a row in
//! `data_upgrades`, inserted in the conversion's own transaction, records it; a second
//! instance starting meanwhile waits for that row and then skips).

use super::{Store, StoreError, on_db};
use crate::crypto::{Digests, Secret};

/// Columns that held hex SHA-256 digests of secrets before issue 13, and what they hold.
const PLAIN_DIGESTS: [(&str, &str, Secret); 5] = [
    ("auth_codes", "code_hash", Secret::AuthCode),
    ("refresh_tokens", "token_hash", Secret::RefreshToken),
    ("user_codes", "code_hash", Secret::UserCode),
    ("user_codes", "link_hash", Secret::LinkToken),
    (
        "federation_requests",
        "handle_hash",
        Secret::FederationHandle,
    ),
];

impl Store {
    /// Converts the plain SHA-256 digests of secrets stored before keyed digests
    /// ([`Digests::secret`]) into keyed ones, so that codes, refresh tokens and handles
    /// issued before an upgrade keep working; the secrets themselves are not needed.
    /// Hosted-UI sessions were keyed by the cookie's value, which must not stay in the
    /// database: they are deleted (those browsers sign in again). Does nothing on a
    /// database converted before. Returns how many rows it converted or deleted.
    pub async fn upgrade_digests(&self, digests: &Digests, now: i64) -> Result<u64, StoreError> {
        const CLAIM: &str = "insert into data_upgrades (name, done_at) values ('keyed_digests', $1) \
                             on conflict (name) do nothing";
        let sessions = format!("delete from {}", self.session_table());
        let converted = on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let mut changed = 0;
            let claimed = sqlx::query(CLAIM).bind(now).execute(&mut *tx).await?;
            if claimed.rows_affected() == 1 {
                for (table, column, kind) in PLAIN_DIGESTS {
                    let select = format!("select {column} from {table} where {column} is not null");
                    let update = format!("update {table} set {column} = $1 where {column} = $2");
                    let plain: Vec<String> =
                        sqlx::query_scalar(&select).fetch_all(&mut *tx).await?;
                    for old in plain {
                        changed += sqlx::query(&update)
                            .bind(digests.upgrade(kind, &old))
                            .bind(&old)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    }
                }
                changed += sqlx::query(&sessions)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            changed
        });
        Ok(converted)
    }
}
