-- Foundation schema: pools, app clients, users, groups, codes, tokens, keys.
-- Ids are TEXT, times are epoch seconds, JSON is TEXT, so both backends read them alike.

create table user_pools (
    pool_id     text primary key,
    name        text not null,
    settings    text not null,            -- JSON: password policy and pool options
    created_at  bigint not null,
    updated_at  bigint not null
);

create table app_clients (
    client_id               text primary key,
    pool_id                 text not null references user_pools(pool_id) on delete cascade,
    name                    text not null,
    secret_digest           text,         -- hex SHA-256 of the secret, compared in constant time
    secret_enc              blob,         -- the secret sealed with the master key (the API returns it)
    callback_urls           text not null, -- JSON array
    logout_urls             text not null, -- JSON array
    allowed_scopes          text not null, -- JSON array
    allowed_flows           text not null, -- JSON array: code, client_credentials
    id_token_validity       bigint not null,
    access_token_validity   bigint not null,
    refresh_token_validity  bigint not null,
    created_at              bigint not null,
    updated_at              bigint not null
);
create index app_clients_pool on app_clients(pool_id);

create table users (
    user_id        text primary key,      -- the `sub` claim
    pool_id        text not null references user_pools(pool_id) on delete cascade,
    username       text not null,
    username_lc    text not null,
    status         text not null,
    enabled        boolean not null,
    password_hash  text,
    created_at     bigint not null,
    updated_at     bigint not null
);
create unique index users_pool_username on users(pool_id, username_lc);

create table user_attributes (
    user_id  text not null references users(user_id) on delete cascade,
    pool_id  text not null,
    name     text not null,
    value    text not null,
    primary key (user_id, name)
);
create index user_attributes_lookup on user_attributes(pool_id, name, value);

create table groups (
    pool_id      text not null references user_pools(pool_id) on delete cascade,
    group_name   text not null,
    description  text,
    precedence   bigint,
    role_arn     text,
    created_at   bigint not null,
    updated_at   bigint not null,
    primary key (pool_id, group_name)
);

create table memberships (
    pool_id     text not null,
    group_name  text not null,
    user_id     text not null references users(user_id) on delete cascade,
    primary key (pool_id, group_name, user_id),
    foreign key (pool_id, group_name) references groups(pool_id, group_name) on delete cascade
);
create index memberships_user on memberships(user_id);

create table auth_codes (
    code_hash       text primary key,
    pool_id         text not null,
    client_id       text not null,
    user_id         text not null,
    redirect_uri    text not null,
    scopes          text not null,
    nonce           text,
    code_challenge  text,
    auth_time       bigint not null,
    origin_jti      text not null,
    created_at      bigint not null,
    expires_at      bigint not null,
    consumed_at     bigint
);

-- One row per sign-in: every token issued from it carries its id as `origin_jti`.
create table token_families (
    origin_jti  text primary key,
    pool_id     text not null,
    client_id   text not null,
    user_id     text not null,
    scopes      text not null,
    auth_time   bigint not null,
    created_at  bigint not null,
    expires_at  bigint not null,
    revoked_at  bigint
);
create index token_families_user on token_families(user_id);

create table refresh_tokens (
    token_hash  text primary key,
    origin_jti  text not null references token_families(origin_jti) on delete cascade,
    created_at  bigint not null,
    used_at     bigint
);
create index refresh_tokens_family on refresh_tokens(origin_jti);

create table signing_keys (
    kid          text primary key,
    pool_id      text not null references user_pools(pool_id) on delete cascade,
    private_enc  blob not null,           -- PKCS#8 DER sealed with the master key
    jwk_n        text not null,
    jwk_e        text not null,
    created_at   bigint not null
);
create index signing_keys_pool on signing_keys(pool_id);
