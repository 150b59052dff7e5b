-- Cognito's user pool domains (CreateUserPoolDomain). A prefix domain is served at
-- `<prefix>.auth.<base domain>`, a custom domain at its own host name. A name belongs to
-- one pool, and a pool has at most one domain of each kind, as on Cognito. The
-- certificate is only recorded: TLS ends at the operator's proxy, not here.
create table user_pool_domains (
    name                   text primary key,
    pool_id                text not null references user_pools(pool_id) on delete cascade,
    kind                   text not null,          -- 'prefix' or 'custom'
    certificate_arn        text,
    managed_login_version  bigint not null,
    created_at             bigint not null,
    updated_at             bigint not null,
    unique (pool_id, kind)
);
