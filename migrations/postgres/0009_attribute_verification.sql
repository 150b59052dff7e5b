-- Attribute verification (GetUserAttributeVerificationCode / VerifyUserAttribute):
-- the address a code was sent to, so a code verifies that address only, never one the
-- attribute was changed to after the code went out. NULL for codes from before.
alter table user_codes add column destination text;
