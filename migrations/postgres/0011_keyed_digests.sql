-- One-time conversions of stored data that need the master key, so they run in Rust
-- after the migrations (Store::upgrade_digests); a row here records that one ran.
-- `keyed_digests`: codes, refresh tokens and handles stored as plain SHA-256 digests
-- become keyed digests, and hosted-UI sessions keyed by the cookie's value are ended.
create table data_upgrades (
    name     text primary key,
    done_at  bigint not null
);
