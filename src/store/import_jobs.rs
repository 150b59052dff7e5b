//! `user_import_jobs` and `user_import_chunks`: Cognito's user import jobs and their
//! uploaded CSV files. Every change of a job's state is one conditional `update`
//! (`... where status = ...`), so when several instances share the database exactly
//! one of them moves a job on: one upload, one run, one end.

use super::management::{Keyset, PageAt};
use super::{Store, StoreError, on_db};

/// A stored job.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportJobRow {
    pub job_id: String,
    pub pool_id: String,
    pub job_name: String,
    pub role_arn: String,
    pub hashing_algorithm: Option<String>,
    pub status: String,
    pub upload_state: String,
    pub upload_bytes: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub completion_message: Option<String>,
    pub imported_users: i64,
    pub skipped_users: i64,
    pub failed_users: i64,
}

const COLUMNS: &str = "job_id, pool_id, job_name, role_arn, hashing_algorithm, status, \
    upload_state, upload_bytes, created_at, started_at, completed_at, completion_message, \
    imported_users, skipped_users, failed_users";

const JOBS: Keyset = Keyset::new("user_import_jobs", COLUMNS, "job_id");

/// How a job ended: its final counts and message.
pub struct JobEnd<'a> {
    pub status: &'a str,
    pub at: i64,
    pub message: &'a str,
    pub imported: i64,
    pub skipped: i64,
    pub failed: i64,
}

impl Store {
    /// Records a new job (status `Created`, its upload URL open).
    pub async fn insert_import_job(&self, job: &ImportJobRow) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_import_jobs (job_id, pool_id, job_name, role_arn, \
            hashing_algorithm, status, upload_state, created_at) \
            values ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&job.job_id)
            .bind(&job.pool_id)
            .bind(&job.job_name)
            .bind(&job.role_arn)
            .bind(&job.hashing_algorithm)
            .bind(&job.status)
            .bind(&job.upload_state)
            .bind(job.created_at)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A job by id (any pool).
    pub async fn import_job_by_id(&self, job_id: &str) -> Result<Option<ImportJobRow>, StoreError> {
        let sql = format!("select {COLUMNS} from user_import_jobs where job_id = $1");
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(job_id)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// A page of a pool's jobs, by id.
    pub async fn import_jobs_page(&self, at: PageAt<'_>) -> Result<Vec<ImportJobRow>, StoreError> {
        self.keyset_page(&JOBS, at).await
    }

    /// Moves a job from one state to another if it is in `from` (one of them):
    /// `status` when `column` is `status`, `upload_state` when it is that. True when
    /// this call made the move.
    pub async fn move_import_job(
        &self,
        job_id: &str,
        column: JobColumn,
        from: &[&str],
        to: &str,
    ) -> Result<bool, StoreError> {
        let column = match column {
            JobColumn::Status => "status",
            JobColumn::Upload => "upload_state",
        };
        // `from` holds one or two fixed names, bound one by one (a single one twice).
        let sql = format!(
            "update user_import_jobs set {column} = $2 where job_id = $1 and {column} in ($3, $4)"
        );
        let pick = |i: usize| from.get(i).or(from.first()).copied().unwrap_or("");
        let done = on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(job_id)
            .bind(to)
            .bind(pick(0))
            .bind(pick(1))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Starts a job: `Created` with its file uploaded, created after `not_before`, to
    /// `Pending`. False when it is not in that state.
    pub async fn start_import_job(
        &self,
        job_id: &str,
        now: i64,
        not_before: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update user_import_jobs set status = 'Pending', started_at = $2 \
            where job_id = $1 and status = 'Created' and upload_state = 'done' and created_at >= $3";
        let done = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .bind(now)
            .bind(not_before)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Takes a job's URL for an upload: open, the job `Created` after `not_before`.
    /// False when it is not.
    pub async fn begin_import_upload(
        &self,
        job_id: &str,
        not_before: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update user_import_jobs set upload_state = 'receiving' \
            where job_id = $1 and upload_state = 'open' and status = 'Created' and created_at >= $2";
        let done = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .bind(not_before)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Ends a job that is in one of `from` (up to three): its status, counts and message. A job
    /// asked to stop (`Stopping`) ends `Stopped` whatever `end.status` says.
    pub async fn end_import_job(
        &self,
        job_id: &str,
        from: &[&str],
        end: &JobEnd<'_>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update user_import_jobs set \
            status = case when status = 'Stopping' then 'Stopped' else $2 end, \
            completed_at = $3, completion_message = $4, imported_users = $5, \
            skipped_users = $6, failed_users = $7 \
            where job_id = $1 and status in ($8, $9, $10)";
        let pick = |i: usize| from.get(i).or(from.first()).copied().unwrap_or("");
        let done = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .bind(end.status)
            .bind(end.at)
            .bind(end.message)
            .bind(end.imported)
            .bind(end.skipped)
            .bind(end.failed)
            .bind(pick(0))
            .bind(pick(1))
            .bind(pick(2))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records the size of a completed upload.
    pub async fn set_import_upload_bytes(
        &self,
        job_id: &str,
        bytes: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update user_import_jobs set upload_bytes = $2 where job_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .bind(bytes)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Stores chunk `seq` of a job's file.
    pub async fn insert_import_chunk(
        &self,
        job_id: &str,
        seq: i64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_import_chunks (job_id, seq, data) values ($1, $2, $3)";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .bind(seq)
            .bind(data)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Chunk `seq` of a job's file, if there is one.
    pub async fn import_chunk(
        &self,
        job_id: &str,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        const SQL: &str = "select data from user_import_chunks where job_id = $1 and seq = $2";
        let data = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(job_id)
            .bind(seq)
            .fetch_optional(p)
            .await)?;
        Ok(data)
    }

    /// Deletes the files no job will read: those of jobs still `Created` that were
    /// created before `before` (expired), and any left beside an ended job (an upload
    /// that went on while its job was stopped).
    pub async fn delete_unused_import_chunks(&self, before: i64) -> Result<(), StoreError> {
        const SQL: &str = "delete from user_import_chunks where job_id in \
            (select job_id from user_import_jobs where status in ('Stopped', 'Failed', 'Succeeded') \
             or (status = 'Created' and created_at < $1))";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(before)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes a job's file.
    pub async fn delete_import_chunks(&self, job_id: &str) -> Result<(), StoreError> {
        const SQL: &str = "delete from user_import_chunks where job_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(job_id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// The two state columns of a job.
#[derive(Clone, Copy, Debug)]
pub enum JobColumn {
    Status,
    Upload,
}
