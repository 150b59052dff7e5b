-- Federation: identity providers per pool, pending sign-ins at a provider, the links
-- between provider identities and users, and identities registered before first use.

create table identity_providers (
    pool_id            text not null references user_pools(pool_id) on delete cascade,
    provider_name      text not null,
    provider_type      text not null,     -- Google | Facebook | LoginWithAmazon | OIDC
    details            text not null,     -- JSON: Cognito's ProviderDetails without the secret
    client_secret_enc  blob,                -- sealed with the master key
    attribute_mapping  text not null,     -- JSON: pool attribute -> provider attribute
    linking_policy     text not null,     -- separate | link | deny
    idp_identifiers    text not null default '[]', -- JSON: names apps may pass as idp_identifier
    created_at         bigint not null,
    updated_at         bigint not null,
    primary key (pool_id, provider_name)
);

-- A sign-in sent to a provider; the handle is cognate's own state, consumed once.
create table federation_requests (
    handle_hash      text primary key,
    pool_id          text not null,
    provider_name    text not null,
    browser_binding  text not null,       -- hash of a value kept in the browser's session
    authorize_query  text not null,       -- the app's authorization request
    pkce_verifier    text not null,
    nonce            text not null,
    created_at       bigint not null,
    expires_at       bigint not null
);

create table user_identities (
    pool_id           text not null,
    provider_name     text not null,
    provider_subject  text not null,
    user_id           text not null references users(user_id) on delete cascade,
    created_at        bigint not null,
    primary key (pool_id, provider_name, provider_subject)
);
create index user_identities_user on user_identities(user_id);

-- Identities provisioned before the person first signs in (claimed atomically).
create table preregistrations (
    pool_id        text not null references user_pools(pool_id) on delete cascade,
    provider_name  text not null,
    match_kind     text not null,         -- subject | email
    match_value    text not null,
    groups         text not null,         -- JSON array
    attributes     text not null,         -- JSON object
    created_at     bigint not null,
    primary key (pool_id, provider_name, match_kind, match_value)
);

alter table app_clients add column supported_identity_providers text not null default '["COGNITO"]';
