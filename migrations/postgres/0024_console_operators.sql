-- Console operators (issue 20): the people who sign in to the admin console at
-- /admin. Never pool users: their own table, made by `cognate operator create`.
-- `password_hash` is argon2id; `totp_secret` is the authenticator key sealed with the
-- master key; `totp_last_step` is the last 30-second step a code was accepted for, so
-- a code is good once.
create table console_operators (
    operator_id     text primary key,
    name            text not null,
    name_lc         text not null unique,
    password_hash   text not null,
    totp_secret     text not null,
    totp_last_step  bigint not null default 0,
    created_at      bigint not null,
    last_sign_in_at bigint
);

-- Console sessions: one row per signed-in browser, keyed by a keyed digest of the
-- cookie's random value (the value itself is never stored). `seen_at` drives the idle
-- timeout, `created_at` the absolute lifetime, `reauth_at` the last time the operator
-- gave password and code (destructive actions ask for a recent one).
create table console_sessions (
    session_digest  text primary key,
    operator_id     text not null references console_operators(operator_id) on delete cascade,
    created_at      bigint not null,
    seen_at         bigint not null,
    reauth_at       bigint not null
);
create index console_sessions_operator on console_sessions (operator_id);
