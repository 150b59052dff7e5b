-- One number that every change to what the instances cache (pools with their settings,
-- app clients with their secrets, signing keys, domains) raises, in the transaction
-- of the change, by the triggers below: whichever process writes (a server, the CLI,
-- `cognate apply`), every instance sees the number move at its next check
-- (`serve --config-check-ms`) and drops its caches (issue 19).
create table config_version (
    id       integer primary key check (id = 1),
    version  bigint not null
);
insert into config_version (id, version) values (1, 0);

-- Constraint triggers deferred to the commit: the row is locked only while the
-- transaction commits, after its last change, so two writers can never each hold a
-- row the other waits for (a change to a client waiting on the version row that an
-- `apply` holding that client had locked long before).
create function bump_config_version() returns trigger language plpgsql as $$
begin
    update config_version set version = version + 1;
    return null;
end
$$;

create constraint trigger user_pools_config_version after insert or update or delete on user_pools
    deferrable initially deferred for each row execute procedure bump_config_version();

create constraint trigger app_clients_config_version after insert or update or delete on app_clients
    deferrable initially deferred for each row execute procedure bump_config_version();

create constraint trigger signing_keys_config_version after insert or update or delete on signing_keys
    deferrable initially deferred for each row execute procedure bump_config_version();

create constraint trigger user_pool_domains_config_version after insert or update or delete on user_pool_domains
    deferrable initially deferred for each row execute procedure bump_config_version();
