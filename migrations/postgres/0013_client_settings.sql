-- An app client's settings become one JSON document (`clients::ClientSettings`), so a
-- new setting needs no column of its own: it is a field with a default, which also
-- fills it in for the clients stored before it. The list columns already hold JSON
-- text, so they go in as JSON, not as strings.
alter table app_clients add column settings text not null default '{}';

update app_clients set settings = json_build_object(
    'name', name,
    'callback_urls', callback_urls::json,
    'logout_urls', logout_urls::json,
    'allowed_scopes', allowed_scopes::json,
    'allowed_flows', allowed_flows::json,
    'id_token_validity', id_token_validity,
    'access_token_validity', access_token_validity,
    'refresh_token_validity', refresh_token_validity,
    'state_relay', json_build_object(
        'allow_list', return_to_allow_list::json,
        'separator', state_separator,
        'encoding', state_encoding),
    'branding', branding::json,
    'write_attributes', write_attributes::json,
    'supported_identity_providers', supported_identity_providers::json,
    'explicit_auth_flows', explicit_auth_flows::json,
    'refresh_token_retry_grace', refresh_token_retry_grace,
    'refresh_token_rotation', refresh_token_rotation
)::text;

alter table app_clients
    drop column name,
    drop column callback_urls,
    drop column logout_urls,
    drop column allowed_scopes,
    drop column allowed_flows,
    drop column id_token_validity,
    drop column access_token_validity,
    drop column refresh_token_validity,
    drop column return_to_allow_list,
    drop column state_separator,
    drop column state_encoding,
    drop column branding,
    drop column write_attributes,
    drop column supported_identity_providers,
    drop column explicit_auth_flows,
    drop column refresh_token_retry_grace,
    drop column refresh_token_rotation;
