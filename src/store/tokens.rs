//! `auth_codes`, `token_families`, `refresh_tokens`. Single-use values are consumed by
//! one conditional `update … returning`, which both backends run atomically, and kept
//! afterwards so a replay can be recognised and the tokens it produced revoked.

use super::{Db, Store, StoreError, on_db};

/// A code to store; only its hash is kept.
pub struct NewCode<'a> {
    pub code_hash: &'a str,
    pub pool_id: &'a str,
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub auth_time: i64,
    pub origin_jti: &'a str,
    pub expires_at: i64,
    /// The user's credential version when the password was checked.
    pub credential_version: i64,
}

/// What a consumed code was bound to.
#[derive(Debug, sqlx::FromRow)]
pub struct RedeemedCode {
    pub pool_id: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub origin_jti: String,
    pub expires_at: i64,
}

/// A refresh's family, user and what its tokens say of the user
/// ([`Store::refresh_session`]).
pub struct RefreshSession {
    pub family: Family,
    pub user: crate::model::users::User,
    pub directory: Directory,
}

/// What a user's tokens say besides the user's own attributes: the groups, the linked
/// identities and the pool's schema (which attributes a token may carry).
pub struct Directory {
    pub groups: Vec<crate::model::groups::Group>,
    pub identities: Vec<super::LinkedIdentity>,
    pub schema: crate::model::schema::Schema,
}

/// The groups of the user `u.user_id`, in token order, as [`super::json_rows`].
fn groups_json(db: &Db) -> String {
    super::json_rows(
        db,
        "g.pool_id, g.group_name, g.description, g.precedence, g.role_arn, g.created_at, \
         g.updated_at",
        "from memberships m join groups g \
           on g.pool_id = m.pool_id and g.group_name = m.group_name \
         where m.user_id = u.user_id",
        "g.precedence is null, g.precedence, g.group_name",
    )
}

/// The identities linked to the user `u.user_id`, as [`super::json_rows`].
fn identities_json(db: &Db) -> String {
    super::json_rows(
        db,
        "i.provider_name, coalesce(p.provider_type, i.provider_name), i.provider_subject, \
         i.created_at",
        "from user_identities i left join identity_providers p \
           on p.pool_id = i.pool_id and p.provider_name = i.provider_name \
         where i.user_id = u.user_id",
        "i.created_at, i.provider_name",
    )
}

/// A [`Directory`] as [`Store::directory`] and [`Store::refresh_session`] select it.
#[derive(sqlx::FromRow)]
struct DirectoryRow {
    groups: String,
    identities: String,
    schema: String,
}

impl DirectoryRow {
    fn into_directory(self) -> Result<Directory, StoreError> {
        let corrupt =
            |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
        let groups: Vec<GroupTuple> =
            serde_json::from_str(&self.groups).map_err(|e| corrupt("groups", e))?;
        let identities: Vec<(String, String, String, i64)> =
            serde_json::from_str(&self.identities).map_err(|e| corrupt("identities", e))?;
        Ok(Directory {
            schema: super::schema::schema_from_json(&self.schema)?,
            groups: groups
                .into_iter()
                .map(
                    |(
                        pool_id,
                        group_name,
                        description,
                        precedence,
                        role_arn,
                        created_at,
                        updated_at,
                    )| {
                        crate::model::groups::Group {
                            pool_id,
                            group_name,
                            description,
                            precedence,
                            role_arn,
                            created_at,
                            updated_at,
                        }
                    },
                )
                .collect(),
            identities: identities
                .into_iter()
                .map(
                    |(provider_name, provider_type, provider_subject, created_at)| {
                        super::LinkedIdentity {
                            provider_name,
                            provider_type,
                            provider_subject,
                            created_at,
                        }
                    },
                )
                .collect(),
        })
    }
}

impl Store {
    /// The [`Directory`] of the user `user_id` of `pool_id`, in one statement.
    pub async fn directory(&self, user_id: &str, pool_id: &str) -> Result<Directory, StoreError> {
        let sql = format!(
            "select {} as groups, {} as identities, {} as schema from users u where u.user_id = $1",
            groups_json(&self.db),
            identities_json(&self.db),
            super::schema::schema_json(&self.db, "$2"),
        );
        let row: Option<DirectoryRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(user_id)
            .bind(pool_id)
            .fetch_optional(p)
            .await)?;
        match row {
            Some(row) => row.into_directory(),
            // A user deleted meanwhile: tokens name no group or identity.
            None => Ok(Directory {
                groups: Vec::new(),
                identities: Vec::new(),
                schema: self.schema(pool_id).await?,
            }),
        }
    }
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    #[sqlx(flatten)]
    family: Family,
    #[sqlx(flatten)]
    user: super::users::UserWithAttributes,
    #[sqlx(flatten)]
    directory: DirectoryRow,
}

/// A group as `refresh_session` aggregates it.
type GroupTuple = (
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    i64,
);

impl RefreshRow {
    fn into_session(self) -> Result<RefreshSession, StoreError> {
        Ok(RefreshSession {
            family: self.family,
            user: self.user.into_user()?,
            directory: self.directory.into_directory()?,
        })
    }
}

/// A sign-in's token family: every token from it carries `origin_jti`.
#[derive(Debug, sqlx::FromRow)]
pub struct Family {
    pub origin_jti: String,
    pub pool_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Whether the sign-in's credential version is still the user's: false once the
    /// password changed or the user was signed out everywhere after it began.
    pub is_current: bool,
}

impl Family {
    /// Whether the sign-in has ended: revoked, or overtaken by a credential change.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some() || !self.is_current
    }
}

/// The result of presenting a refresh token.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was live and is now used; its family is returned (check it).
    Rotated(Family),
    /// The token had been used before: its family has been revoked.
    Reused,
    /// No such token.
    Unknown,
}

/// A [`Family`] with its user's current credential version, in the one query that
/// finds it (the refresh path stays one round trip).
const FAMILY_SELECT: &str = "select f.origin_jti, f.pool_id, f.client_id, f.user_id, f.scopes, \
     f.auth_time, f.expires_at, f.revoked_at, f.credential_version = u.credential_version as is_current \
     from token_families f join users u on u.user_id = f.user_id";

/// Opens a family (`$1`..`$8`: its columns) only while the user's credential version is
/// `$9`, the one the sign-in's password was checked at. On PostgreSQL the
/// user row is locked for share, so a concurrent credential change either waits for
/// this sign-in to commit (and then ends it) or is seen here (and nothing is opened);
/// SQLite runs one writer at a time.
fn insert_family_sql(db: &Db) -> String {
    let lock = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " for share",
    };
    format!(
        "insert into token_families (origin_jti, pool_id, client_id, user_id, scopes, auth_time, \
         created_at, expires_at, credential_version) \
         select $1, $2, $3, $4, $5, $6, $7, $8, credential_version from users \
         where user_id = $4 and credential_version = $9{lock}"
    )
}

impl Store {
    /// Stores a code and opens its (not yet usable) token family, so that a replay of
    /// the code can always find the family to revoke. False (nothing stored) if the
    /// user's credentials changed since its password was checked.
    pub async fn insert_code(&self, c: &NewCode<'_>, now: i64) -> Result<bool, StoreError> {
        const CODE: &str = "insert into auth_codes (code_hash, pool_id, client_id, user_id, \
             redirect_uri, scopes, nonce, code_challenge, auth_time, origin_jti, created_at, expires_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        let family = insert_family_sql(&self.db);
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            sqlx::query(CODE)
                .bind(c.code_hash)
                .bind(c.pool_id)
                .bind(c.client_id)
                .bind(c.user_id)
                .bind(c.redirect_uri)
                .bind(c.scopes)
                .bind(c.nonce)
                .bind(c.code_challenge)
                .bind(c.auth_time)
                .bind(c.origin_jti)
                .bind(now)
                .bind(c.expires_at)
                .execute(&mut *tx)
                .await?;
            let opened = sqlx::query(&family)
                .bind(c.origin_jti)
                .bind(c.pool_id)
                .bind(c.client_id)
                .bind(c.user_id)
                .bind(c.scopes)
                .bind(c.auth_time)
                .bind(now)
                .bind(c.expires_at)
                .bind(c.credential_version)
                .execute(&mut *tx)
                .await?;
            if opened.rows_affected() == 0 {
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Consumes a code without redeeming it (burns it). `Ok(None)` if it does not exist
    /// or was already consumed; in the latter case the family of the first redemption
    /// is revoked (RFC 6749 §4.1.2).
    pub async fn consume_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<RedeemedCode>, StoreError> {
        const CONSUME: &str = "update auth_codes set consumed_at = $2 \
             where code_hash = $1 and consumed_at is null \
             returning pool_id, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, \
                       auth_time, origin_jti, expires_at";
        const REPLAYED: &str = "select origin_jti from auth_codes where code_hash = $1";
        let row: Option<RedeemedCode> = on_db!(&self.db, |p| sqlx::query_as(CONSUME)
            .bind(code_hash)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        if row.is_none() {
            let replayed: Option<String> = on_db!(&self.db, |p| sqlx::query_scalar(REPLAYED)
                .bind(code_hash)
                .fetch_optional(p)
                .await)?;
            if let Some(origin_jti) = replayed {
                self.revoke_family(&origin_jti, now).await?;
            }
        }
        Ok(row)
    }

    /// Opens a family for a sign-in that needs no code (the Cognito API) with its first
    /// refresh token, in one transaction. False (nothing stored) if the user's
    /// credentials are no longer at `credential_version`, the version its password was
    /// checked at.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_family(
        &self,
        origin_jti: &str,
        pool_id: &str,
        client_id: &str,
        user_id: &str,
        scopes: &str,
        auth_time: i64,
        expires_at: i64,
        refresh_hash: &str,
        credential_version: i64,
    ) -> Result<bool, StoreError> {
        let family = insert_family_sql(&self.db);
        const REFRESH: &str =
            "insert into refresh_tokens (token_hash, origin_jti, created_at) values ($1, $2, $3)";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let opened = sqlx::query(&family)
                .bind(origin_jti)
                .bind(pool_id)
                .bind(client_id)
                .bind(user_id)
                .bind(scopes)
                .bind(auth_time)
                .bind(auth_time)
                .bind(expires_at)
                .bind(credential_version)
                .execute(&mut *tx)
                .await?;
            if opened.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(REFRESH)
                .bind(refresh_hash)
                .bind(origin_jti)
                .bind(auth_time)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// A code that exists and was not consumed yet, to check before redeeming it.
    pub async fn unconsumed_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<RedeemedCode>, StoreError> {
        const SQL: &str = "select pool_id, client_id, user_id, redirect_uri, scopes, nonce, \
             code_challenge, auth_time, origin_jti, expires_at from auth_codes \
             where code_hash = $1 and consumed_at is null";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(code_hash)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Redeems a checked code in one transaction: consumes it, makes its family usable
    /// until `expires_at` and stores the family's first refresh token. False (and
    /// nothing changed) if another redemption consumed the code first or the family was
    /// revoked meanwhile, by itself or by a change of the user's credentials. A redemption that fails (a full disk) leaves the code
    /// redeemable, and a concurrent replay finds the winner's family open to revoke.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        origin_jti: &str,
        expires_at: i64,
        refresh_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        const CONSUME: &str = "update auth_codes set consumed_at = $2 \
                               where code_hash = $1 and consumed_at is null returning origin_jti";
        const OPEN: &str = "update token_families set expires_at = $2 \
                            where origin_jti = $1 and revoked_at is null and credential_version = \
                            (select u.credential_version from users u where u.user_id = token_families.user_id) \
                            returning origin_jti";
        const REFRESH: &str =
            "insert into refresh_tokens (token_hash, origin_jti, created_at) values ($1, $2, $3)";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let consumed: Option<String> = sqlx::query_scalar(CONSUME)
                .bind(code_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if consumed.as_deref() != Some(origin_jti) {
                return Ok(false);
            }
            let opened: Option<String> = sqlx::query_scalar(OPEN)
                .bind(origin_jti)
                .bind(expires_at)
                .fetch_optional(&mut *tx)
                .await?;
            if opened.is_none() {
                return Ok(false);
            }
            sqlx::query(REFRESH)
                .bind(refresh_hash)
                .bind(origin_jti)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn insert_refresh_token(
        &self,
        origin_jti: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "insert into refresh_tokens (token_hash, origin_jti, created_at) values ($1, $2, $3)";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(token_hash)
            .bind(origin_jti)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Rotates a live refresh token in one step: marks `old_hash` used and stores
    /// `new_hash` for its family, only while the family lives (unrevoked, unexpired, at
    /// its user's credential version). False, and nothing changed, when the token was
    /// used already or its family ended: [`Store::use_refresh_token`] then tells which.
    /// One statement on PostgreSQL (a data-modifying CTE); on SQLite two statements
    /// sent together, so both run in one hop to the connection's thread, in a savepoint.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        const LIVE: &str = "origin_jti in (select f.origin_jti from token_families f \
             join users u on u.user_id = f.user_id where f.revoked_at is null \
             and f.expires_at > $3 and f.credential_version = u.credential_version)";
        if let Db::Sqlite(pool) = &self.db
            && self.tx.is_none()
        {
            // `changes()` is the rows the update just changed: the insert follows it.
            let sql = format!(
                "savepoint rotate; \
                 update refresh_tokens set used_at = $3 \
                   where token_hash = $1 and used_at is null and {LIVE}; \
                 insert into refresh_tokens (token_hash, origin_jti, created_at) \
                   select $2, origin_jti, $3 from refresh_tokens \
                   where token_hash = $1 and changes() = 1 returning origin_jti; \
                 release rotate"
            );
            // The savepoint is unknown to sqlx's transaction count: a connection that
            // did not finish the statements (an error, or the request dropped while they
            // ran) is closed rather than lent again, which rolls the savepoint back.
            let mut conn = CloseUnlessFinished(Some(self.timed(pool.acquire()).await?));
            let rows = sqlx::query_scalar::<_, String>(&sql)
                .bind(old_hash)
                .bind(new_hash)
                .bind(now)
                .fetch_all(&mut **conn.0.as_mut().expect("connection held"))
                .await?;
            conn.finished();
            return Ok(!rows.is_empty());
        }
        let sql = format!(
            "with used as (update refresh_tokens set used_at = $3 \
               where token_hash = $1 and used_at is null and {LIVE} returning origin_jti) \
             insert into refresh_tokens (token_hash, origin_jti, created_at) \
               select $2, origin_jti, $3 from used returning origin_jti"
        );
        let rotated: Option<String> = match &self.db {
            // SQLite inside a caller's transaction: the statements one by one.
            Db::Sqlite(_) => {
                let used: Option<String> = on_db!(&self.db, |p| sqlx::query_scalar(&format!(
                    "update refresh_tokens set used_at = $3 \
                       where token_hash = $1 and used_at is null and {LIVE} and $2 = $2 \
                       returning origin_jti"
                ))
                .bind(old_hash)
                .bind(new_hash)
                .bind(now)
                .fetch_optional(p)
                .await)?;
                if let Some(origin_jti) = &used {
                    self.insert_refresh_token(origin_jti, new_hash, now).await?;
                }
                used
            }
            Db::Postgres(_) => on_db!(&self.db, |p| sqlx::query_scalar(&sql)
                .bind(old_hash)
                .bind(new_hash)
                .bind(now)
                .fetch_optional(p)
                .await)?,
        };
        Ok(rotated.is_some())
    }

    /// Marks a refresh token used. A second use revokes the whole family, unless it
    /// comes within `retry_grace` seconds of the first (Cognito's retry grace period).
    pub async fn use_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        retry_grace: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        const USE: &str = "update refresh_tokens set used_at = $2 \
                           where token_hash = $1 and used_at is null returning origin_jti";
        const SEEN: &str = "select origin_jti, used_at from refresh_tokens where token_hash = $1";
        let used: Option<String> = on_db!(&self.db, |p| sqlx::query_scalar(USE)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        if let Some(origin_jti) = used {
            return Ok(match self.family(&origin_jti).await? {
                Some(f) => RefreshOutcome::Rotated(f),
                None => RefreshOutcome::Unknown,
            });
        }
        let seen: Option<(String, Option<i64>)> = on_db!(&self.db, |p| sqlx::query_as(SEEN)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        match seen {
            // A retry within the client's grace period (a lost response): served again,
            // and the token stays used. Without a grace period never: another instance's
            // clock may be a second behind the one that used the token, and a negative
            // age is no retry.
            Some((origin_jti, Some(used_at))) if retry_grace > 0 && now - used_at < retry_grace => {
                Ok(match self.family(&origin_jti).await? {
                    Some(f) => RefreshOutcome::Rotated(f),
                    None => RefreshOutcome::Unknown,
                })
            }
            Some((origin_jti, _)) => {
                self.revoke_family(&origin_jti, now).await?;
                Ok(RefreshOutcome::Reused)
            }
            None => Ok(RefreshOutcome::Unknown),
        }
    }

    /// What refreshing with a token needs, in one statement: the family the token
    /// belongs to (`live_only`: only while the token is unused), its user with
    /// attributes, groups and linked identities.
    pub async fn refresh_session(
        &self,
        token_hash: &str,
        live_only: bool,
    ) -> Result<Option<RefreshSession>, StoreError> {
        let live = if live_only {
            " and used_at is null"
        } else {
            ""
        };
        let (groups, identities) = (groups_json(&self.db), identities_json(&self.db));
        let sql = format!(
            "select f.origin_jti, f.pool_id, f.client_id, f.user_id, f.scopes, f.auth_time, \
               f.expires_at, f.revoked_at, f.credential_version = u.credential_version as is_current, \
               u.username, u.status, u.enabled, u.password_hash, u.created_at, u.updated_at, \
               u.credential_version, u.password_set_at, {attributes} as attributes, \
               {groups} as groups, {identities} as identities, {schema} as schema \
             from token_families f join users u on u.user_id = f.user_id \
             where f.origin_jti = \
               (select origin_jti from refresh_tokens where token_hash = $1{live})",
            attributes = super::users::attributes_json(&self.db, "u"),
            schema = super::schema::schema_json(&self.db, "f.pool_id"),
        );
        let row: Option<RefreshRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        row.map(RefreshRow::into_session).transpose()
    }

    /// The family a live refresh token belongs to, without using the token.
    pub async fn family_of_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<Family>, StoreError> {
        let sql = format!(
            "{FAMILY_SELECT} where f.origin_jti = \
             (select origin_jti from refresh_tokens where token_hash = $1)"
        );
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    pub async fn family(&self, origin_jti: &str) -> Result<Option<Family>, StoreError> {
        let sql = format!("{FAMILY_SELECT} where f.origin_jti = $1");
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(origin_jti)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// A user's sign-ins (refresh token families) that still work at `now`: not
    /// revoked, not expired, not overtaken by a credential change; newest first, at most
    /// `limit` (the console's user page lists them).
    pub async fn live_families_of_user(
        &self,
        user_id: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Family>, StoreError> {
        let sql = format!(
            "{FAMILY_SELECT} where f.user_id = $1 and f.revoked_at is null and f.expires_at > $2 \
             and f.credential_version = u.credential_version \
             order by f.auth_time desc, f.origin_jti limit $3"
        );
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(user_id)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Signs a user out everywhere (global sign-out, password reset, disabling,
    /// deletion): revokes every live sign-in and ends the user's hosted-UI sessions and
    /// pending challenges. Bumping the credential version also ends a sign-in that
    /// commits concurrently, which the first statement cannot see yet.
    pub async fn revoke_user_families(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str =
            "update token_families set revoked_at = $2 where user_id = $1 and revoked_at is null";
        const SESSIONS: &str = "update users set session_epoch = session_epoch + 1, \
                                credential_version = credential_version + 1 where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        on_db!(&self.db, |p| sqlx::query(SESSIONS)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Signs everyone in `pool` (every pool when `None`) out: revokes the sign-ins that
    /// began at or before `before` (whole seconds, so all of that second counts: a
    /// revocation errs on the side of revoking) and ends all hosted-UI sessions. After restoring a backup,
    /// this re-revokes what was revoked after the backup was taken. Returns how many
    /// sign-ins it revoked.
    pub async fn global_sign_out(
        &self,
        pool: Option<&str>,
        before: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        // '' stands for every pool: one statement for both backends, no typed NULL.
        const FAMILIES: &str = "update token_families set revoked_at = $3 \
            where ($1 = '' or pool_id = $1) and created_at <= $2 and revoked_at is null";
        const SESSIONS: &str =
            "update users set session_epoch = session_epoch + 1 where ($1 = '' or pool_id = $1)";
        let pool = pool.unwrap_or("");
        let revoked = on_db!(&self.db, |p| sqlx::query(FAMILIES)
            .bind(pool)
            .bind(before)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        on_db!(&self.db, |p| sqlx::query(SESSIONS)
            .bind(pool)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(revoked)
    }

    /// Revokes a family: its refresh tokens stop working and its access tokens are
    /// refused wherever cognate checks them.
    pub async fn revoke_family(&self, origin_jti: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "update token_families set revoked_at = $2 \
                           where origin_jti = $1 and revoked_at is null";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(origin_jti)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// A SQLite connection that is closed when dropped, unless [`Self::finished`] gives it
/// back to the pool first.
struct CloseUnlessFinished(Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>);

impl CloseUnlessFinished {
    fn finished(mut self) {
        self.0.take();
    }
}

impl Drop for CloseUnlessFinished {
    fn drop(&mut self) {
        // Detached, the connection is dropped outside the pool: its thread ends and
        // SQLite closes the database handle, rolling back what was left open.
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}
