-- An app client's settings become one JSON document (`clients::ClientSettings`), so a
-- new setting needs no column of its own: it is a field with a default, which also
-- fills it in for the clients stored before it. The list columns already hold JSON
-- text, so they go in as JSON, not as strings.
alter table app_clients add column settings text not null default '{}';

update app_clients set settings = json_object(
    'name', name,
    'callback_urls', json(callback_urls),
    'logout_urls', json(logout_urls),
    'allowed_scopes', json(allowed_scopes),
    'allowed_flows', json(allowed_flows),
    'id_token_validity', id_token_validity,
    'access_token_validity', access_token_validity,
    'refresh_token_validity', refresh_token_validity,
    'state_relay', json_object(
        'allow_list', json(return_to_allow_list),
        'separator', state_separator,
        'encoding', state_encoding),
    'branding', json(branding),
    'write_attributes', json(write_attributes),
    'supported_identity_providers', json(supported_identity_providers),
    'explicit_auth_flows', json(explicit_auth_flows),
    'refresh_token_retry_grace', refresh_token_retry_grace,
    -- SQLite keeps booleans as 0 and 1; the document wants true and false.
    'refresh_token_rotation', json(case when refresh_token_rotation then 'true' else 'false' end)
);

alter table app_clients drop column name;
alter table app_clients drop column callback_urls;
alter table app_clients drop column logout_urls;
alter table app_clients drop column allowed_scopes;
alter table app_clients drop column allowed_flows;
alter table app_clients drop column id_token_validity;
alter table app_clients drop column access_token_validity;
alter table app_clients drop column refresh_token_validity;
alter table app_clients drop column return_to_allow_list;
alter table app_clients drop column state_separator;
alter table app_clients drop column state_encoding;
alter table app_clients drop column branding;
alter table app_clients drop column write_attributes;
alter table app_clients drop column supported_identity_providers;
alter table app_clients drop column explicit_auth_flows;
alter table app_clients drop column refresh_token_retry_grace;
alter table app_clients drop column refresh_token_rotation;
