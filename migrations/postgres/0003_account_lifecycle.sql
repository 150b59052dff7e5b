-- Account lifecycle: one-time codes, the mail outbox, sign-in throttling, and the
-- client settings the hosted pages use (branding, attributes a client may write).

-- One live code per user and purpose; a new code replaces the old one.
create table user_codes (
    user_id     text not null references users(user_id) on delete cascade,
    purpose     text not null,            -- signup | reset
    code_hash   text not null,
    link_hash   text,                     -- one-click confirmation link (sign-up)
    attempts    bigint not null default 0,
    created_at  bigint not null,
    expires_at  bigint not null,
    primary key (user_id, purpose)
);
create index user_codes_link on user_codes(link_hash);

-- Messages kept instead of sent when no SMTP server is configured (development).
create table outbox (
    message_id  text primary key,
    pool_id     text not null,
    recipient   text not null,
    kind        text not null,            -- verification | reset | temporary_password
    subject     text not null,
    body_text   text not null,
    body_html   text not null,
    created_at  bigint not null
);
create index outbox_recipient on outbox(recipient, created_at);

-- Failed sign-ins per key ('user:<pool>:<username>' or 'ip:<address>').
create table throttles (
    throttle_key   text primary key,
    failures       bigint not null,
    first_at       bigint not null,
    blocked_until  bigint not null
);

alter table app_clients add column branding text not null default '{}';
alter table app_clients add column write_attributes text not null default '[]';
