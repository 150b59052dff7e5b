-- When each user's password was last set, so a temporary password expires after the
-- pool's `TemporaryPasswordValidityDays`. Users stored before it get the time of their
-- last change, which is never earlier than the password itself.
alter table users add column password_set_at bigint;
update users set password_set_at = updated_at where password_hash is not null;

-- The argon2 hashes of passwords a user has replaced, newest last, kept only as many
-- as the pool's `PasswordHistorySize` needs (the current password is the user's own
-- `password_hash`), so a new password can be refused for repeating one.
create table password_history (
    seq            integer primary key autoincrement,
    user_id        text not null references users(user_id) on delete cascade,
    password_hash  text not null,
    created_at     bigint not null
);
create index password_history_user on password_history(user_id, seq);

-- A changed attribute held until the user proves it (Cognito's
-- `AttributesRequireVerificationBeforeUpdate`): the old value stays in force meanwhile.
create table pending_attributes (
    user_id     text not null references users(user_id) on delete cascade,
    name        text not null,
    value       text not null,
    created_at  bigint not null,
    primary key (user_id, name)
);
