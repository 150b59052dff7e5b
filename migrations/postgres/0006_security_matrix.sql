-- Cognito's RetryGracePeriodSeconds: how long a rotated refresh token may be retried.
alter table app_clients add column refresh_token_retry_grace bigint not null default 0;
-- Bumped whenever a user is signed out everywhere (global sign-out, password change,
-- disable, ...): hosted-UI sessions remember the value they started with.
alter table users add column session_epoch bigint not null default 0;
