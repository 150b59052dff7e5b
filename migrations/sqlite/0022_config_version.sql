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

create trigger user_pools_insert_config_version after insert on user_pools
begin update config_version set version = version + 1; end;

create trigger user_pools_update_config_version after update on user_pools
begin update config_version set version = version + 1; end;

create trigger user_pools_delete_config_version after delete on user_pools
begin update config_version set version = version + 1; end;

create trigger app_clients_insert_config_version after insert on app_clients
begin update config_version set version = version + 1; end;

create trigger app_clients_update_config_version after update on app_clients
begin update config_version set version = version + 1; end;

create trigger app_clients_delete_config_version after delete on app_clients
begin update config_version set version = version + 1; end;

create trigger signing_keys_insert_config_version after insert on signing_keys
begin update config_version set version = version + 1; end;

create trigger signing_keys_update_config_version after update on signing_keys
begin update config_version set version = version + 1; end;

create trigger signing_keys_delete_config_version after delete on signing_keys
begin update config_version set version = version + 1; end;

create trigger user_pool_domains_insert_config_version after insert on user_pool_domains
begin update config_version set version = version + 1; end;

create trigger user_pool_domains_update_config_version after update on user_pool_domains
begin update config_version set version = version + 1; end;

create trigger user_pool_domains_delete_config_version after delete on user_pool_domains
begin update config_version set version = version + 1; end;
