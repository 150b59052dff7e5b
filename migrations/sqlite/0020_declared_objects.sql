-- What `cognate apply` declared in each pool (issue 17): `--prune` deletes only objects
-- listed here that the file no longer declares, never what was made another way
-- (a self sign-up, an API call). `kind` is client, identity_provider, resource_server,
-- group, user or external_user; `object_key` the object's key in the file.
create table declared_objects (
    pool_id     text not null references user_pools(pool_id) on delete cascade,
    kind        text not null,
    object_key  text not null,
    primary key (pool_id, kind, object_key)
);
