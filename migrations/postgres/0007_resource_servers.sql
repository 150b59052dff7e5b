-- OAuth 2.0 resource servers (Cognito's CreateResourceServer): an identifier and the
-- custom scopes it defines, granted as `<identifier>/<scope>`.
create table resource_servers (
    pool_id      text not null references user_pools(pool_id) on delete cascade,
    identifier   text not null,
    name         text not null,
    scopes       text not null,            -- JSON: [{"name": …, "description": …}]
    created_at   bigint not null,
    updated_at   bigint not null,
    primary key (pool_id, identifier)
);

-- Cognito's RefreshTokenRotation Feature: when false, /oauth2/token keeps the presented
-- refresh token valid and returns no new one. cognate rotates unless told not to.
alter table app_clients add column refresh_token_rotation boolean not null default true;
