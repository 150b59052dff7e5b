//! `ui_customizations`: a pool's hosted-page stylesheet and logo, for all its clients
//! (`ALL`) or for one.

use super::{Store, StoreError, on_db};
use crate::model::pool::UiCustomization;

#[derive(sqlx::FromRow)]
struct UiRow {
    pool_id: String,
    client_id: String,
    css: Option<String>,
    image_type: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<UiRow> for UiCustomization {
    fn from(r: UiRow) -> Self {
        UiCustomization {
            pool_id: r.pool_id,
            client_id: r.client_id,
            css: r.css,
            image_type: r.image_type,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Store {
    /// The customization set for exactly `client_id` (`ALL` or a client) of `pool_id`.
    pub async fn ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<UiCustomization>, StoreError> {
        const SQL: &str = "select pool_id, client_id, css, image_type, created_at, updated_at \
                           from ui_customizations where pool_id = $1 and client_id = $2";
        let row: Option<UiRow> = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(pool_id)
            .bind(client_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(UiCustomization::from))
    }

    /// The logo's bytes and media type, if the customization has one.
    pub async fn ui_image(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        const SQL: &str = "select image, image_type from ui_customizations \
                           where pool_id = $1 and client_id = $2 \
                           and image is not null and image_type is not null";
        let row: Option<(Vec<u8>, String)> = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(pool_id)
            .bind(client_id)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Sets the customization of `client_id`, keeping its creation time; with neither
    /// a stylesheet nor a logo it is removed (Cognito's reset).
    pub async fn set_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
        css: Option<&str>,
        image: Option<(&[u8], &str)>,
        now: i64,
    ) -> Result<(), StoreError> {
        const DELETE: &str = "delete from ui_customizations where pool_id = $1 and client_id = $2";
        const UPSERT: &str = "insert into ui_customizations \
             (pool_id, client_id, css, image, image_type, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6) \
             on conflict (pool_id, client_id) do update set css = excluded.css, \
             image = excluded.image, image_type = excluded.image_type, \
             updated_at = excluded.updated_at";
        if css.is_none() && image.is_none() {
            on_db!(&self.db, |p| sqlx::query(DELETE)
                .bind(pool_id)
                .bind(client_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected()))?;
            return Ok(());
        }
        let (bytes, media_type) = match image {
            Some((bytes, media_type)) => (Some(bytes.to_vec()), Some(media_type)),
            None => (None, None),
        };
        on_db!(&self.db, |p| sqlx::query(UPSERT)
            .bind(pool_id)
            .bind(client_id)
            .bind(css)
            .bind(&bytes)
            .bind(media_type)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
