-- Cognito's user import jobs (issue 17): CreateUserImportJob, an upload of the CSV to
-- the job's pre-signed URL (served by cognate itself), StartUserImportJob, and the
-- counts the run reports. The file is kept in the database, in sealed chunks, so that
-- every instance can run a job whichever one received the upload; the chunks are
-- deleted once the job ends.
create table user_import_jobs (
    job_id              text primary key,
    pool_id             text not null references user_pools(pool_id) on delete cascade,
    job_name            text not null,
    role_arn            text not null,
    hashing_algorithm   text,
    status              text not null,        -- Created, Pending, InProgress, Stopping, Stopped, Failed, Succeeded
    upload_state        text not null,        -- open, receiving, done: the URL takes one complete upload
    upload_bytes        bigint not null default 0,
    created_at          bigint not null,
    started_at          bigint,
    completed_at        bigint,
    completion_message  text,
    imported_users      bigint not null default 0,
    skipped_users       bigint not null default 0,
    failed_users        bigint not null default 0
);
create index user_import_jobs_by_pool on user_import_jobs (pool_id, job_id);

create table user_import_chunks (
    job_id  text not null references user_import_jobs(job_id) on delete cascade,
    seq     bigint not null,
    data    blob not null,                   -- sealed with the master key
    primary key (job_id, seq)
);
