-- A user's second factors (issue 18). `totp_secret` is the verified authenticator's
-- key and `totp_pending` one AssociateSoftwareToken handed out and no code has proven
-- yet, both sealed with the master key. `totp_last_step` is the last 30-second step a
-- code was accepted for: a code is good once, and never one older than that.
-- `preferred` is SOFTWARE_TOKEN_MFA, EMAIL_OTP or null.
create table user_mfa (
    user_id         text primary key references users(user_id) on delete cascade,
    pool_id         text not null,
    totp_secret     text,
    totp_pending    text,
    totp_last_step  bigint not null default 0,
    totp_enabled    boolean not null default false,
    email_enabled   boolean not null default false,
    preferred       text
);
