-- Every trigger invocation, per pool (issue 16): read with `cognate triggers log`.
-- Requests and answers are kept with passwords, codes and tokens redacted; only the
-- newest invocations of each pool are kept.
create table trigger_log (
    id              bigserial primary key,
    pool_id         text not null references user_pools(pool_id) on delete cascade,
    at              bigint not null,
    trigger_source  text not null,
    user_name       text not null,
    client_id       text,
    target          text not null,
    duration_ms     bigint not null,
    outcome         text not null,       -- ok, refused, unreachable, invalid_response
    error           text,
    request         text not null,
    response        text
);
create index trigger_log_by_pool on trigger_log (pool_id, id);
