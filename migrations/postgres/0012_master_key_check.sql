-- A check value of the master key (an HMAC of a constant under it): an instance or CLI
-- run with another key refuses to start instead of sealing secrets no one else opens.
create table master_key_check (
    id          integer primary key check (id = 1),
    check_value text not null,
    created_at  bigint not null
);
