-- A pool's declared attributes (Cognito's schema): every custom attribute, and the
-- standard ones a pool declared. Writes of undeclared custom attributes are refused, and
-- immutable ones cannot change after the user is created.
create table schema_attributes (
    pool_id        text not null references user_pools(pool_id) on delete cascade,
    name           text not null,            -- full name: `custom:team`, `email`
    data_type      text not null default 'String',
    mutable        boolean not null default true,
    developer_only boolean not null default false,
    constraints    text not null default '{}', -- JSON: Cognito's String/NumberAttributeConstraints
    created_at     bigint not null,
    primary key (pool_id, name)
);

-- Pools from before the schema accepted any custom attribute: declare, as mutable
-- strings, the ones their users already hold, so nothing stored becomes unwritable.
insert into schema_attributes (pool_id, name, created_at)
select distinct pool_id, name, 0 from user_attributes where name like 'custom:%';

-- WriteAttributes used to hold only custom names, standard attributes being always
-- writable; the list now names every writable attribute (empty: all), so the old
-- lists gain the standard ones they implied.
update app_clients set write_attributes = replace(write_attributes, '[',
  '["address","birthdate","email","family_name","gender","given_name","locale","middle_name","name","nickname","phone_number","picture","preferred_username","profile","website","zoneinfo",')
where write_attributes <> '[]';
