-- The version of a user's credentials, bumped in the statement that changes them (a new
-- password by any path, an administrator's reset) and whenever the user is signed out
-- everywhere (disabling, global sign-out). A sign-in carries the version its password
-- was checked against: its token family, hosted session or pending challenge is valid
-- only while that version is still the user's, so a sign-in that races a reset on
-- another instance dies with the old password.
alter table users add column credential_version bigint not null default 0;
alter table token_families add column credential_version bigint not null default 0;
