//! Cognito's user import job actions (`CreateUserImportJob`, `StartUserImportJob`,
//! `DescribeUserImportJob`, `ListUserImportJobs`, `StopUserImportJob`) in botocore's
//! shapes, and the job's pre-signed URL: `PUT /import-jobs/<job-id>/upload?token=…`
//! takes the CSV file as S3 would (`requests.put(url, data=f)`, `curl -T`), answering
//! S3-style XML errors. The rules are in [`crate::users::import_jobs`].

use std::collections::HashMap;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Value, json};

use super::management::existing_pool;
use super::paging::{Paging, page_size};
use super::{ActionResult, CognitoError, parse};
use crate::state::AppState;
use crate::store::ImportJobRow;
use crate::users::import_jobs::{self, JobError, UPLOAD_LIMIT, Upload, UploadError};

/// The largest `ListUserImportJobs` page (`PoolQueryLimitType`).
const MAX_RESULTS: i64 = 60;

/// The hashing algorithms botocore's model names (`PasswordHashingAlgorithmType`).
const HASHING_ALGORITHMS: &[&str] = &["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256"];

/// Runs the action if it is one of this module's. Takes the shared state, as a started
/// job runs on after the request.
pub async fn run(app: &AppState, action: &str, request: &Value) -> Option<ActionResult> {
    let result = match action {
        "CreateUserImportJob" => create_user_import_job(app, request).await,
        "StartUserImportJob" => start_user_import_job(app, request).await,
        "DescribeUserImportJob" => describe_user_import_job(app, request).await,
        "ListUserImportJobs" => list_user_import_jobs(app, request).await,
        "StopUserImportJob" => stop_user_import_job(app, request).await,
        _ => return None,
    };
    Some(result)
}

/// The pre-signed URL's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/import-jobs/{job_id}/upload", put(put_upload))
}

impl From<JobError> for CognitoError {
    fn from(e: JobError) -> Self {
        let message = e.to_string();
        match e {
            JobError::NotFound(_) => Self::not_found(message),
            JobError::Precondition(_) => Self::new("PreconditionNotMetException", message),
            JobError::Store(e) => e.into(),
        }
    }
}

/// `UserImportJobType`.
fn job_type(app: &AppState, job: &ImportJobRow) -> Value {
    let mut out = json!({
        "JobName": job.job_name,
        "JobId": job.job_id,
        "UserPoolId": job.pool_id,
        "PreSignedUrl": import_jobs::upload_url(app, &job.job_id),
        "CreationDate": job.created_at,
        "Status": job.status,
        "CloudWatchLogsRoleArn": job.role_arn,
        "ImportedUsers": job.imported_users,
        "SkippedUsers": job.skipped_users,
        "FailedUsers": job.failed_users,
    });
    let optional = [
        ("StartDate", job.started_at.map(Value::from)),
        ("CompletionDate", job.completed_at.map(Value::from)),
        (
            "CompletionMessage",
            job.completion_message.clone().map(Value::from),
        ),
        (
            "PasswordHashingAlgorithm",
            job.hashing_algorithm.clone().map(Value::from),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            out[name] = value;
        }
    }
    out
}

fn answer(app: &AppState, job: &ImportJobRow) -> ActionResult {
    Ok(json!({ "UserImportJob": job_type(app, job) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRequest {
    job_name: String,
    user_pool_id: String,
    cloud_watch_logs_role_arn: String,
    password_hashing_algorithm: Option<String>,
}

/// `CreateUserImportJob`: a `Created` job and the URL to upload its file to.
async fn create_user_import_job(app: &AppState, request: &Value) -> ActionResult {
    let req: CreateRequest = parse(request)?;
    let name_ok = (1..=128).contains(&req.job_name.chars().count())
        && req
            .job_name
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_+=,.@-".contains(c));
    if !name_ok {
        return Err(CognitoError::invalid(
            "1 validation error detected: Value at 'jobName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        ));
    }
    let arn = &req.cloud_watch_logs_role_arn;
    if !(20..=2048).contains(&arn.len()) || !arn.starts_with("arn:") {
        return Err(CognitoError::invalid(
            "1 validation error detected: Value at 'cloudWatchLogsRoleArn' failed to satisfy \
             constraint: Member must be an ARN of 20 to 2048 characters",
        ));
    }
    let algorithm = req.password_hashing_algorithm.filter(|a| !a.is_empty());
    if let Some(a) = &algorithm
        && !HASHING_ALGORITHMS.contains(&a.as_str())
    {
        return Err(CognitoError::invalid(format!(
            "1 validation error detected: Value '{a}' at 'passwordHashingAlgorithm' failed to \
             satisfy constraint: Member must satisfy enum value set: {HASHING_ALGORITHMS:?}"
        )));
    }
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let job =
        import_jobs::create(app, &pool.pool_id, &req.job_name, arn, algorithm.as_deref()).await?;
    answer(app, &job)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobRequest {
    user_pool_id: String,
    job_id: String,
}

impl JobRequest {
    /// The pool and job named, checked for form and existence.
    async fn open(app: &AppState, request: &Value) -> Result<(String, String), CognitoError> {
        let req: JobRequest = parse(request)?;
        if !import_jobs::is_job_id(&req.job_id) {
            return Err(CognitoError::invalid(
                "1 validation error detected: Value at 'jobId' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: import-[0-9a-zA-Z-]+",
            ));
        }
        let pool = existing_pool(app, &req.user_pool_id).await?;
        Ok((pool.pool_id, req.job_id))
    }
}

/// `StartUserImportJob`: `Pending`, then run in the background on this instance.
async fn start_user_import_job(app: &AppState, request: &Value) -> ActionResult {
    let (pool_id, job_id) = JobRequest::open(app, request).await?;
    let job = import_jobs::start(app, &pool_id, &job_id).await?;
    let runner = app.clone();
    tokio::spawn(async move { import_jobs::run(&runner, &job_id).await });
    answer(app, &job)
}

async fn describe_user_import_job(app: &AppState, request: &Value) -> ActionResult {
    let (pool_id, job_id) = JobRequest::open(app, request).await?;
    answer(app, &import_jobs::job(app, &pool_id, &job_id).await?)
}

async fn stop_user_import_job(app: &AppState, request: &Value) -> ActionResult {
    let (pool_id, job_id) = JobRequest::open(app, request).await?;
    answer(app, &import_jobs::stop(app, &pool_id, &job_id).await?)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    user_pool_id: String,
    max_results: i64,
    pagination_token: Option<String>,
}

/// `ListUserImportJobs`: a pool's jobs by id, `MaxResults` (required) at a time.
async fn list_user_import_jobs(app: &AppState, request: &Value) -> ActionResult {
    let req: ListRequest = parse(request)?;
    let size = page_size(Some(req.max_results), "maxResults", 1, MAX_RESULTS)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let listing = ["ListUserImportJobs", pool.pool_id.as_str()];
    let token = req.pagination_token.as_deref().filter(|t| !t.is_empty());
    let page = Paging::new(app.keys.master(), &listing, token, size)?.token_in("PaginationToken");
    let read = import_jobs::list(app, page.at(Some(&pool.pool_id))).await?;
    Ok(page.answer_read("UserImportJobs", read, |j| &j.job_id, |j| job_type(app, j)))
}

/// `PUT` of the CSV file to a job's pre-signed URL. The body is stored as it arrives;
/// it must arrive within `--body-read-timeout`.
async fn put_upload(
    State(app): State<AppState>,
    Path(job_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = query.get("token").map_or("", String::as_str);
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > UPLOAD_LIMIT) {
        return upload_error(UploadError::TooLarge);
    }
    let mut upload = match Upload::begin(&app, &job_id, token).await {
        Ok(upload) => upload,
        Err(e) => return upload_error(e),
    };
    match receive(&mut upload, body).await {
        Ok(()) => match upload.finish().await {
            Ok(bytes) => {
                tracing::info!(job_id, bytes, "user import file uploaded");
                StatusCode::OK.into_response()
            }
            Err(e) => upload_error(e),
        },
        Err(e) => {
            if let Err(e) = upload.abandon().await {
                tracing::error!(job_id, error = %e, "a failed upload could not be dropped");
            }
            e
        }
    }
}

/// Stores the body frame by frame; the error answer if it fails.
async fn receive(upload: &mut Upload<'_>, mut body: Body) -> Result<(), Response> {
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|_| {
            s3_error(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "The request body was not received in full.",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            upload.push(&data).await.map_err(upload_error)?;
        }
    }
    Ok(())
}

fn upload_error(e: UploadError) -> Response {
    match e {
        UploadError::Denied => s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "The URL is not valid: unknown, already used or expired.",
        ),
        UploadError::TooLarge => s3_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "EntityTooLarge",
            &format!("The file may be at most {UPLOAD_LIMIT} bytes."),
        ),
        UploadError::Store(e) => {
            tracing::error!(error = %e, "a user import upload could not be stored");
            s3_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "The file could not be stored; try again.",
            )
        }
    }
}

/// An error as S3 answers a pre-signed upload.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
