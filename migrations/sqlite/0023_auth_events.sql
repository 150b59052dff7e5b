-- Auth events (issue 20): one row per sign-in, sign-up, token issue, refusal or admin
-- change, read with `cognate events` and AdminListUserAuthEvents. No column takes a
-- password, code or token: every detail is a closed set of names (kind, outcome,
-- reason, grant, action) or an identifier. Kept by count and age (`serve
-- --events-max-count`, `--events-max-age-days`), pruned in the background. No
-- foreign keys: an event outlives the pool, client or user it names.
create table auth_events (
    id          integer primary key autoincrement,
    event_id    text not null,
    at          bigint not null,
    kind        text not null,
    outcome     text not null,       -- pass, fail
    reason      text,
    grant_type  text,
    pool_id     text,
    client_id   text,
    user_sub    text,
    username    text,
    source_ip   text,
    user_agent  text,
    request_id  text,
    actor       text,                -- admin changes: the API key id, or cli
    action      text,                -- admin changes: the API action or CLI command
    target      text                 -- admin changes: the object acted on
);
create index auth_events_by_user on auth_events (pool_id, username, id);
create index auth_events_by_time on auth_events (at);
