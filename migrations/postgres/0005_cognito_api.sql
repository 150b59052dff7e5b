-- The Cognito API: each client's ExplicitAuthFlows, and each user's SRP verifier
-- (salt and verifier sealed with the master key; only in pools that allow SRP).
alter table app_clients add column explicit_auth_flows text not null default '["ALLOW_REFRESH_TOKEN_AUTH","ALLOW_USER_SRP_AUTH"]';
alter table users add column srp_verifier bytea;
