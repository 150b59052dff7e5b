-- Overloaded state: a return-to allow-list and the grammar of each client's state.
alter table app_clients add column return_to_allow_list text not null default '[]';
alter table app_clients add column state_separator text not null default '_';
alter table app_clients add column state_encoding text not null default 'plain';
