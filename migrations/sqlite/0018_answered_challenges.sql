-- Custom sign-in sessions already answered (issue 16, CUSTOM_AUTH): a CUSTOM_CHALLENGE
-- session is answered once, as on Cognito, though its state travels sealed with the
-- caller. A row is kept until the session it stands for would have expired.
create table answered_challenges (
    session_id  text primary key,
    pool_id     text not null references user_pools(pool_id) on delete cascade,
    expires_at  bigint not null
);
create index answered_challenges_by_expiry on answered_challenges (expires_at);
