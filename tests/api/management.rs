//! Deleting through the management layer: a deleted pool leaves nothing behind in any
//! table (cascades plus explicit deletes, on both backends) and spares other pools; a
//! deleted client's tokens stop working.

use std::collections::BTreeMap;

use cognate::clients::ClientSettings;
use cognate::federation::{LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use cognate::store::{Db, FederationRequest, OutboxMessage};
use cognate::users::UserStatus;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

/// Rows of `table` matching `filter` (bound to `value`).
async fn count(app: &TestApp, table: &str, filter: &str, value: &str) -> i64 {
    let sql = format!("select count(*) from {table} where {filter}");
    match &app.state.store.db {
        Db::Sqlite(p) => sqlx::query_scalar(&sql).bind(value).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar(&sql).bind(value).fetch_one(p).await,
    }
    .unwrap()
}

/// Tables with a `pool_id` column.
const POOL_TABLES: &[&str] = &[
    "user_pools",
    "app_clients",
    "users",
    "user_attributes",
    "groups",
    "memberships",
    "auth_codes",
    "token_families",
    "signing_keys",
    "identity_providers",
    "federation_requests",
    "user_identities",
    "preregistrations",
    "outbox",
    "resource_servers",
    "user_pool_domains",
];

#[tokio::test]
async fn deleting_a_pool_leaves_nothing_of_it_and_spares_other_pools() {
    // Arrange: one of everything in the test pool, and a second pool.
    let app = TestApp::spawn().await;
    let (state, pool_id) = (&app.state, app.pool_id.as_str());
    let now = state.clock.now();
    let tokens = app.tokens().await;
    cognate::groups::create(state, pool_id, "admins", None, Some(1))
        .await
        .unwrap();
    cognate::groups::set_membership(state, pool_id, "admins", "alice", true)
        .await
        .unwrap();
    cognate::resource_servers::create(state, pool_id, "api", "API", Vec::new())
        .await
        .unwrap();
    let domain = cognate::domains::NewDomain {
        name: "deleted-pool",
        certificate_arn: None,
        managed_login_version: None,
    };
    cognate::domains::create(state, pool_id, &domain)
        .await
        .unwrap();
    let google = NewProvider {
        provider_name: "Google".into(),
        provider_type: ProviderType::Google,
        details: ProviderDetails {
            client_id: "cid".into(),
            ..ProviderDetails::default()
        },
        client_secret: Some("csecret".into()),
        attribute_mapping: BTreeMap::new(),
        linking_policy: LinkingPolicy::default(),
        idp_identifiers: Vec::new(),
    };
    cognate::federation::put_provider(state, pool_id, google)
        .await
        .unwrap();
    let alice = state
        .store
        .user_by_name(pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    let store = &state.store;
    store
        .insert_identity(pool_id, "Google", "g-123", &alice.user_id, now)
        .await
        .unwrap();
    store
        .insert_preregistration(
            pool_id,
            "Google",
            "email",
            "b@example.com",
            &[],
            &BTreeMap::new(),
            now,
        )
        .await
        .unwrap();
    let pending = FederationRequest {
        pool_id: pool_id.into(),
        provider_name: "Google".into(),
        browser_binding: "b".into(),
        authorize_query: "q".into(),
        pkce_verifier: "v".into(),
        nonce: "n".into(),
        expires_at: now + 600,
    };
    store
        .insert_federation_request("handle", &pending, now)
        .await
        .unwrap();
    let message = |id: &str, pool: &str| OutboxMessage {
        message_id: id.into(),
        pool_id: pool.into(),
        recipient: "alice@example.com".into(),
        kind: "verification".into(),
        subject: "s".into(),
        body_text: "t".into(),
        body_html: "h".into(),
        created_at: now,
    };
    store.insert_outbox(&message("m1", pool_id)).await.unwrap();
    let throttle = format!("user:{pool_id}:alice");
    store.count_failure(&throttle, now, 0).await.unwrap();

    let other = cognate::pool::create(state, "other", "us-east-1")
        .await
        .unwrap();
    let (other_client, _) = cognate::clients::create(
        state,
        &other.pool_id,
        &ClientSettings::new("o"),
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    cognate::users::create(
        state,
        &other.pool_id,
        "bob",
        Some(PASSWORD),
        UserStatus::Confirmed,
        BTreeMap::new(),
    )
    .await
    .unwrap();
    store
        .insert_outbox(&message("m2", &other.pool_id))
        .await
        .unwrap();
    let other_throttle = format!("user:{}:bob", other.pool_id);
    store.count_failure(&other_throttle, now, 0).await.unwrap();

    // Act
    cognate::pool::delete(state, pool_id).await.unwrap();

    // Assert
    for table in POOL_TABLES {
        assert_eq!(
            count(&app, table, "pool_id = $1", pool_id).await,
            0,
            "{table} keeps rows of the deleted pool"
        );
    }
    // The deleted pool's domain name is free for another pool.
    cognate::domains::create(state, &other.pool_id, &domain)
        .await
        .unwrap();
    assert_eq!(
        count(&app, "refresh_tokens", "token_hash <> $1", "").await,
        0
    );
    assert_eq!(
        count(&app, "throttles", "throttle_key = $1", &throttle).await,
        0
    );
    assert_eq!(
        count(&app, "throttles", "throttle_key = $1", &other_throttle).await,
        1
    );
    let userinfo = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
    for table in [
        "user_pools",
        "app_clients",
        "users",
        "signing_keys",
        "outbox",
    ] {
        assert_eq!(
            count(&app, table, "pool_id = $1", &other.pool_id).await,
            1,
            "{table} lost a row of the other pool"
        );
    }
    assert!(
        store
            .client_by_id(&other.pool_id, &other_client.client_id)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_deleted_clients_refresh_tokens_stop_working() {
    // Arrange
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    // Act
    cognate::clients::delete(&app.state, &app.pool_id, &app.public.client_id)
        .await
        .unwrap();
    // Assert
    let res = app.refresh(&app.public, refresh_token).await;
    assert_ne!(res.status(), StatusCode::OK);
    assert_eq!(
        count(
            &app,
            "token_families",
            "client_id = $1",
            &app.public.client_id
        )
        .await,
        0
    );
    assert!(
        cognate::clients::delete(&app.state, &app.pool_id, &app.public.client_id)
            .await
            .is_err()
    );
}
