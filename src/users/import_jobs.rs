//! Cognito's user import jobs (`CreateUserImportJob` … `StopUserImportJob`): a job is
//! created with a pre-signed URL that cognate serves itself, takes one CSV upload
//! there, and, once started, runs in the background through the same importer as
//! `cognate user import` ([`super::import`]), reporting Cognito's counts.
//!
//! - The URL's token is an HMAC of the job id under a key derived from the master key:
//!   the database holds neither the token nor anything to test guesses against, and
//!   `DescribeUserImportJob` can show the URL again, as Cognito does. It takes one
//!   complete upload ([`UPLOAD_LIMIT`] at most) within [`UPLOAD_LIFETIME`].
//! - The file is kept in the database in sealed 1 MiB chunks, so any instance can run
//!   a job whichever one received the upload, on SQLite and PostgreSQL alike; the
//!   chunks are deleted when the job ends.
//! - Each state change is one conditional update: on PostgreSQL with several instances
//!   exactly one runs a started job. A job an instance was running when it died stays
//!   `InProgress` (Cognito's jobs cannot be restarted either: create a new one; users
//!   already imported are then skipped).

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::import::{self, Format, Summary};
use crate::services::Services;
use crate::store::{ImportJobRow, JobColumn, JobEnd, PageAt, StoreError};

/// The largest file a job takes: Cognito's own limit (100 MB).
pub const UPLOAD_LIMIT: u64 = 100 * 1024 * 1024;

/// How long the pre-signed URL takes an upload, from the job's creation.
pub const UPLOAD_LIFETIME: i64 = 3600;

/// How long a job may wait to be started before it is `Expired` (Cognito: 24 to 48 hours).
pub const START_WITHIN: i64 = 24 * 3600;

/// The size of the sealed pieces the file is stored in.
const CHUNK: usize = 1024 * 1024;

/// `CompletionMessage`s.
const SUCCEEDED: &str = "Import Job Completed Successfully.";
const STOPPED: &str = "Import Job Stopped.";
const STOPPED_BEFORE_RUNNING: &str = "Import Job Stopped before it ran.";

/// Why a job action was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("Import job {0} does not exist.")]
    NotFound(String),
    #[error("{0}")]
    Precondition(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A job's `JobId`: `import-` and ten letters and digits, as Cognito's.
pub fn is_job_id(job_id: &str) -> bool {
    job_id.len() <= 55
        && job_id.strip_prefix("import-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The upload token of a job: stable, so the URL can be shown again, and unguessable
/// without the master key.
fn upload_token(app: &Services, job_id: &str) -> String {
    let digest = app
        .keys
        .digests()
        .keyed_digest("user-import-upload-url", &[job_id.as_bytes()]);
    URL_SAFE_NO_PAD.encode(digest)
}

/// The job's pre-signed URL: `PUT` the CSV file there.
pub fn upload_url(app: &Services, job_id: &str) -> String {
    format!(
        "{}/import-jobs/{job_id}/upload?token={}",
        app.public_url,
        upload_token(app, job_id)
    )
}

/// Creates a job in `pool_id` (which must exist), `Created`, its URL open.
pub async fn create(
    app: &Services,
    pool_id: &str,
    job_name: &str,
    role_arn: &str,
    hashing_algorithm: Option<&str>,
) -> Result<ImportJobRow, JobError> {
    let job = ImportJobRow {
        job_id: format!("import-{}", crate::crypto::random_alnum(10, false)),
        pool_id: pool_id.to_string(),
        job_name: job_name.to_string(),
        role_arn: role_arn.to_string(),
        hashing_algorithm: hashing_algorithm.map(str::to_string),
        status: "Created".into(),
        upload_state: "open".into(),
        upload_bytes: 0,
        created_at: app.clock.now(),
        started_at: None,
        completed_at: None,
        completion_message: None,
        imported_users: 0,
        skipped_users: 0,
        failed_users: 0,
    };
    app.store.insert_import_job(&job).await?;
    Ok(job)
}

/// A job of `pool_id`, with `Expired` for one left unstarted too long.
pub async fn job(app: &Services, pool_id: &str, job_id: &str) -> Result<ImportJobRow, JobError> {
    let job = match app.store.import_job_by_id(job_id).await? {
        Some(job) if job.pool_id == pool_id => job,
        _ => return Err(JobError::NotFound(job_id.to_string())),
    };
    Ok(with_expiry(app, job))
}

fn with_expiry(app: &Services, mut job: ImportJobRow) -> ImportJobRow {
    if job.status == "Created" && app.clock.now() >= job.created_at + START_WITHIN {
        job.status = "Expired".into();
    }
    job
}

/// A page of a pool's jobs.
pub async fn list(app: &Services, at: PageAt<'_>) -> Result<Vec<ImportJobRow>, JobError> {
    let jobs = app.store.import_jobs_page(at).await?;
    Ok(jobs.into_iter().map(|j| with_expiry(app, j)).collect())
}

/// Starts a `Created` job whose file was uploaded: `Pending`, until [`run`] takes it.
pub async fn start(app: &Services, pool_id: &str, job_id: &str) -> Result<ImportJobRow, JobError> {
    let before = job(app, pool_id, job_id).await?;
    let now = app.clock.now();
    if !app
        .store
        .start_import_job(job_id, now, now - START_WITHIN)
        .await?
    {
        return Err(JobError::Precondition(match before.status.as_str() {
            "Created" => "The CSV file has not been uploaded to the job's PreSignedUrl.",
            "Expired" => "The job has expired: create a new one.",
            _ => "The job has already been started.",
        }));
    }
    job(app, pool_id, job_id).await
}

/// Stops a job: one that is not running yet stops at once, a running one is
/// `Stopping` until its run sees it (within a second or so).
pub async fn stop(app: &Services, pool_id: &str, job_id: &str) -> Result<ImportJobRow, JobError> {
    job(app, pool_id, job_id).await?;
    let end = JobEnd {
        status: "Stopped",
        at: app.clock.now(),
        message: STOPPED_BEFORE_RUNNING,
        imported: 0,
        skipped: 0,
        failed: 0,
    };
    let stopped = app
        .store
        .end_import_job(job_id, &["Created", "Pending"], &end)
        .await?;
    if stopped {
        app.store.delete_import_chunks(job_id).await?;
    } else if !app
        .store
        .move_import_job(job_id, JobColumn::Status, &["InProgress"], "Stopping")
        .await?
    {
        return Err(JobError::Precondition("The job is not running."));
    }
    job(app, pool_id, job_id).await
}

/// Deletes the files of jobs that expired before being started or have ended.
pub async fn delete_expired_files(app: &Services) -> Result<(), StoreError> {
    let before = app.clock.now() - START_WITHIN;
    app.store.delete_unused_import_chunks(before).await
}

/// Runs a started job, if no other run (on any instance) has taken it.
pub async fn run(app: &Services, job_id: &str) {
    if let Err(e) = run_job(app, job_id).await {
        tracing::error!(job_id, error = %e, "a user import job could not run");
        let end = JobEnd {
            status: "Failed",
            at: app.clock.now(),
            message: "The job failed on an internal error; create a new one.",
            imported: 0,
            skipped: 0,
            failed: 0,
        };
        let ended = app
            .store
            .end_import_job(job_id, &["InProgress", "Stopping"], &end)
            .await;
        if let Err(e) = ended.and(app.store.delete_import_chunks(job_id).await) {
            tracing::error!(job_id, error = %e, "a failed user import job could not be ended");
        }
    }
}

async fn run_job(app: &Services, job_id: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let store = &app.store;
    if !store
        .move_import_job(job_id, JobColumn::Status, &["Pending"], "InProgress")
        .await?
    {
        return Ok(()); // stopped, or taken by another run
    }
    let job = store
        .import_job_by_id(job_id)
        .await?
        .context("the job was deleted")?;
    let file = spool(app, job_id).await.context("read the uploaded file")?;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_for_stop(
        store.clone(),
        job_id.to_string(),
        Arc::clone(&stop),
    ));
    let input = StopAtRow::new(BufReader::new(file.open()?), Arc::clone(&stop));
    let outcome = import::import(app, &job.pool_id, input, Format::Csv, |_| {}).await;
    watcher.abort();
    let stopped = stop.load(Ordering::Relaxed);
    let (status, message, summary) = match outcome {
        Ok(summary) if stopped => ("Stopped", STOPPED.to_string(), summary),
        Ok(summary) => ("Succeeded", SUCCEEDED.to_string(), summary),
        Err(e) => (
            "Failed",
            failure_message(&e.to_string()),
            Summary::default(),
        ),
    };
    if !summary.failed.is_empty() {
        // Line numbers only: a reason may quote a value from the file.
        let lines: Vec<u64> = summary.failed.iter().map(|f| f.line).collect();
        tracing::info!(job_id, ?lines, "user import job: lines not imported");
    }
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let end = JobEnd {
        status,
        at: app.clock.now(),
        message: &message,
        imported: count(summary.imported),
        skipped: count(summary.skipped),
        failed: count(summary.failed.len() as u64),
    };
    store
        .end_import_job(job_id, &["InProgress", "Stopping"], &end)
        .await?;
    store.delete_import_chunks(job_id).await?;
    Ok(())
}

/// A `CompletionMessage` for a file that could not be read (Cognito's are at most 128
/// characters).
fn failure_message(why: &str) -> String {
    let message = format!("The CSV file could not be imported: {why}");
    match message.char_indices().nth(128) {
        Some((end, _)) => message[..end].to_string(),
        None => message,
    }
}

/// Sets `stop` once the job is asked to stop (`Stopping`), looking every second from a
/// second after the run began reading (so a run always makes some progress first).
async fn watch_for_stop(store: crate::store::Store, job_id: String, stop: Arc<AtomicBool>) {
    let second = std::time::Duration::from_secs(1);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + second, second);
    loop {
        tick.tick().await;
        if let Ok(Some(job)) = store.import_job_by_id(&job_id).await
            && job.status == "Stopping"
        {
            stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// The uploaded file, copied from the database to a private temporary file so the
/// importer can stream it with flat memory; removed when dropped.
struct Spooled(std::path::PathBuf);

impl Spooled {
    fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.0)
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn spool(app: &Services, job_id: &str) -> anyhow::Result<Spooled> {
    let name = format!(
        "cognate-{job_id}-{}.csv",
        crate::crypto::random_alnum(8, true)
    );
    let spooled = Spooled(std::env::temp_dir().join(name));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&spooled.0)?;
    let mut seq = 0;
    while let Some(sealed) = app.store.import_chunk(job_id, seq).await? {
        file.write_all(
            &app.keys
                .master()
                .open(&chunk_context(job_id, seq), &sealed)?,
        )?;
        seq += 1;
    }
    file.flush()?;
    Ok(spooled)
}

/// What a chunk is sealed for: its job and place, so chunks cannot be swapped.
fn chunk_context(job_id: &str, seq: i64) -> String {
    format!("user-import-chunk:{job_id}:{seq}")
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Unknown job, wrong token, URL used or expired: one answer for all.
    #[error("the URL is not valid")]
    Denied,
    #[error("the file is larger than {UPLOAD_LIMIT} bytes")]
    TooLarge,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An upload in progress to a job's URL, taken by [`Upload::begin`]; no other upload
/// to the URL is taken meanwhile. The file is stored as it arrives.
pub struct Upload<'a> {
    app: &'a Services,
    job_id: String,
    buffer: Vec<u8>,
    seq: i64,
    received: u64,
}

impl<'a> Upload<'a> {
    /// Takes the job's URL for an upload if `token` is its token, the job is
    /// `Created`, the URL is unused and not expired.
    pub async fn begin(app: &'a Services, job_id: &str, token: &str) -> Result<Self, UploadError> {
        if !is_job_id(job_id)
            || !crate::crypto::ct_eq(upload_token(app, job_id).as_bytes(), token.as_bytes())
        {
            return Err(UploadError::Denied);
        }
        let not_before = app.clock.now() - UPLOAD_LIFETIME + 1;
        if !app.store.begin_import_upload(job_id, not_before).await? {
            return Err(UploadError::Denied);
        }
        Ok(Self {
            app,
            job_id: job_id.to_string(),
            buffer: Vec::with_capacity(CHUNK),
            seq: 0,
            received: 0,
        })
    }

    /// Stores the next bytes of the file.
    pub async fn push(&mut self, bytes: &[u8]) -> Result<(), UploadError> {
        self.received += bytes.len() as u64;
        if self.received > UPLOAD_LIMIT {
            return Err(UploadError::TooLarge);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let take = rest.len().min(CHUNK - self.buffer.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() == CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), UploadError> {
        let context = chunk_context(&self.job_id, self.seq);
        let sealed = self.app.keys.master().seal(&context, &self.buffer);
        self.app
            .store
            .insert_import_chunk(&self.job_id, self.seq, &sealed)
            .await?;
        self.seq += 1;
        self.buffer.clear();
        Ok(())
    }

    /// Completes the upload: the URL is used up and the job can be started.
    pub async fn finish(mut self) -> Result<u64, UploadError> {
        if !self.buffer.is_empty() {
            self.flush().await?;
        }
        let store = &self.app.store;
        let size = i64::try_from(self.received).unwrap_or(i64::MAX);
        store.set_import_upload_bytes(&self.job_id, size).await?;
        store
            .move_import_job(&self.job_id, JobColumn::Upload, &["receiving"], "done")
            .await?;
        Ok(self.received)
    }

    /// Drops what was received of a failed upload and opens the URL again.
    pub async fn abandon(self) -> Result<(), UploadError> {
        let store = &self.app.store;
        store.delete_import_chunks(&self.job_id).await?;
        store
            .move_import_job(&self.job_id, JobColumn::Upload, &["receiving"], "open")
            .await?;
        Ok(())
    }
}

/// Reads `inner` until `stop` is set, then to the end of the CSV row being read (a
/// line end outside quotes) and no further, so a stopped job never imports half a row.
struct StopAtRow<R> {
    inner: R,
    stop: Arc<AtomicBool>,
    in_quotes: bool,
    at_row_start: bool,
}

impl<R: BufRead> StopAtRow<R> {
    fn new(inner: R, stop: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            stop,
            in_quotes: false,
            at_row_start: true,
        }
    }
}

impl<R: BufRead> BufRead for StopAtRow<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let stopping = self.stop.load(Ordering::Relaxed);
        if stopping && self.at_row_start {
            return Ok(&[]);
        }
        let in_quotes = self.in_quotes;
        let buf = self.inner.fill_buf()?;
        if !stopping {
            return Ok(buf);
        }
        // A doubled quote inside a quoted field flips the state twice: parity is enough.
        let mut quoted = in_quotes;
        let end = buf.iter().position(|&b| {
            quoted ^= b == b'"';
            b == b'\n' && !quoted
        });
        Ok(&buf[..end.map_or(buf.len(), |i| i + 1)])
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            for &b in &buf[..amount.min(buf.len())] {
                self.in_quotes ^= b == b'"';
                self.at_row_start = b == b'\n' && !self.in_quotes;
            }
        }
        self.inner.consume(amount);
    }
}

impl<R: BufRead> Read for StopAtRow<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(reader: &mut impl Read, step: usize) -> String {
        let mut out = Vec::new();
        let mut buf = vec![0; step];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                return String::from_utf8(out).unwrap();
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn a_stopped_reader_ends_after_the_row_it_is_in_even_inside_quotes() {
        let csv = "h1,h2\na,\"x\ny\"\"z\"\nb,c\n";
        let stop = Arc::new(AtomicBool::new(false));
        let mut reader = StopAtRow::new(
            std::io::BufReader::with_capacity(4, csv.as_bytes()),
            Arc::clone(&stop),
        );
        let mut first = [0u8; 8];
        let n = reader.read(&mut first).unwrap(); // "h1,h" then stop
        assert_eq!(&first[..n], b"h1,h");
        stop.store(true, Ordering::Relaxed);
        assert_eq!(read_all(&mut reader, 3), "2\n");
        // Stopped inside a quoted field that spans lines: the whole row, not its first line.
        let stop = Arc::new(AtomicBool::new(false));
        let mut reader = StopAtRow::new(
            std::io::BufReader::with_capacity(4, csv.as_bytes()),
            Arc::clone(&stop),
        );
        let mut head = [0u8; 9];
        let mut got = 0;
        while got < 9 {
            got += reader.read(&mut head[got..]).unwrap(); // "h1,h2\na,\""
        }
        stop.store(true, Ordering::Relaxed);
        assert_eq!(read_all(&mut reader, 2), "x\ny\"\"z\"\n");
    }

    #[test]
    fn an_unstopped_reader_reads_everything() {
        let csv = "a,\"b\nc\"\nd,e";
        let stop = Arc::new(AtomicBool::new(false));
        let mut reader = StopAtRow::new(std::io::BufReader::with_capacity(3, csv.as_bytes()), stop);
        assert_eq!(read_all(&mut reader, 5), csv);
    }

    #[test]
    fn job_ids_have_cognitos_form() {
        assert!(is_job_id("import-AbC123xyz0"));
        for bad in [
            "import-",
            "AbC123",
            "import-a/b",
            &format!("import-{}", "a".repeat(60)),
        ] {
            assert!(!is_job_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_failure_message_fits_cognitos_128_characters() {
        assert_eq!(failure_message(&"é".repeat(300)).chars().count(), 128);
        assert!(failure_message("no header").ends_with("no header"));
    }
}
