//! Bulk import of users (`cognate user import`): JSON lines, or CSV in the format of
//! Cognito's user import jobs (`GetCSVHeader`: one column per attribute,
//! `cognito:username` and `cognito:mfa_enabled`), read as a stream, one user at a
//! time, so memory stays flat whatever the file's size. A line that cannot be imported
//! is reported with its number and never stops the import; each user is created in one
//! statement, so a failed line leaves nothing behind.
//!
//! A user comes with a password hash exported by another system (`password_hash`, a
//! column cognate adds to Cognito's format) and is `CONFIRMED`, or without one and is
//! `RESET_REQUIRED`, as Cognito imports every user: a reset code by `ForgotPassword`
//! sets the first password. (Cognito answers such a user's sign-in with
//! `PasswordResetRequiredException` whatever the password; cognate, having no password
//! to check, answers as for a wrong one, which tells nobody the account exists.)

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::services::Services;

use super::UserStatus;

/// One user of an import file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub username: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// `CONFIRMED` or `RESET_REQUIRED`; by default `CONFIRMED` with a password hash,
    /// else `RESET_REQUIRED`.
    pub status: Option<String>,
    pub password_hash: Option<String>,
}

/// A line that was not imported.
#[derive(Debug, Serialize)]
pub struct Failed {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub imported: u64,
    /// Usernames the pool already has: left as they are.
    pub skipped: u64,
    pub failed: Vec<Failed>,
}

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// By the file name: `.csv` is CSV, anything else JSON lines.
    pub fn of(path: &str) -> Self {
        if path.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            Format::JsonLines
        }
    }
}

/// Imports every record `input` holds into `pool_id`; `progress` is told how many bytes
/// were read after each line.
pub async fn import(
    app: &Services,
    pool_id: &str,
    input: impl BufRead,
    format: Format,
    progress: impl Fn(u64),
) -> Result<Summary, AppError> {
    let mut summary = Summary::default();
    let mut record_outcome = |line: u64, outcome: Result<Outcome, String>| match outcome {
        Ok(Outcome::Imported) => summary.imported += 1,
        Ok(Outcome::Exists) => summary.skipped += 1,
        Err(reason) => summary.failed.push(Failed { line, reason }),
    };
    match format {
        Format::JsonLines => {
            let mut read = 0u64;
            for (i, line) in input.lines().enumerate() {
                let number = i as u64 + 1;
                let line = line.map_err(|e| AppError::Invalid(format!("line {number}: {e}")))?;
                read += line.len() as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                let outcome = match serde_json::from_str::<Record>(&line) {
                    Ok(record) => create(app, pool_id, record).await,
                    Err(e) => Err(format!("not a user record: {e}")),
                };
                record_outcome(number, outcome);
                progress(read);
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let header = reader
                .headers()
                .map_err(|e| AppError::Invalid(format!("the CSV header: {e}")))?
                .clone();
            if !header.iter().any(|h| h == "cognito:username") {
                return Err(AppError::Invalid(
                    "the CSV header has no cognito:username column".into(),
                ));
            }
            // A row's number counts the header as 1 (its line, unless a field spans lines).
            for (i, row) in reader.records().enumerate() {
                let number = i as u64 + 2;
                let outcome = match row {
                    Ok(row) => {
                        progress(row.position().map_or(0, |p| p.byte()));
                        match csv_record(&header, &row) {
                            Ok(record) => create(app, pool_id, record).await,
                            Err(reason) => Err(reason),
                        }
                    }
                    Err(e) => Err(format!("not a CSV row: {e}")),
                };
                record_outcome(number, outcome);
            }
        }
    }
    Ok(summary)
}

enum Outcome {
    Imported,
    Exists,
}

/// A record from a CSV row of Cognito's format: every non-empty column an attribute,
/// `cognito:username` the username; `cognito:mfa_enabled` may only be false (no MFA).
fn csv_record(header: &csv::StringRecord, row: &csv::StringRecord) -> Result<Record, String> {
    let mut record = Record {
        username: String::new(),
        attributes: BTreeMap::new(),
        status: None,
        password_hash: None,
    };
    for (name, value) in header.iter().zip(row.iter()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name {
            "cognito:username" => record.username = value.to_string(),
            "cognito:mfa_enabled" if value.eq_ignore_ascii_case("false") => {}
            "cognito:mfa_enabled" => return Err("MFA is not available in cognate".into()),
            "password_hash" => record.password_hash = Some(value.to_string()),
            attribute => {
                record
                    .attributes
                    .insert(attribute.to_string(), value.to_string());
            }
        }
    }
    if record.username.is_empty() {
        return Err("cognito:username is empty".into());
    }
    Ok(record)
}

/// Creates one record's user; a reason for the summary when it cannot be.
async fn create(app: &Services, pool_id: &str, record: Record) -> Result<Outcome, String> {
    let status = match (record.status.as_deref(), &record.password_hash) {
        (None, Some(_)) | (Some("CONFIRMED"), Some(_)) => UserStatus::Confirmed,
        (None | Some("RESET_REQUIRED"), _) => UserStatus::ResetRequired,
        (Some("CONFIRMED"), None) => {
            return Err("a CONFIRMED user needs a password_hash".into());
        }
        (Some(other), _) => {
            return Err(format!(
                "status {other} must be CONFIRMED or RESET_REQUIRED"
            ));
        }
    };
    let created = match &record.password_hash {
        Some(hash) => {
            super::create_with_hash(
                app,
                pool_id,
                &record.username,
                hash,
                status,
                record.attributes,
            )
            .await
        }
        None => {
            super::create(
                app,
                pool_id,
                &record.username,
                None,
                status,
                record.attributes,
            )
            .await
        }
    };
    match created {
        Ok(_) => Ok(Outcome::Imported),
        Err(AppError::Conflict(_)) => Ok(Outcome::Exists),
        Err(AppError::Invalid(why)) => Err(why),
        Err(AppError::NotFound(what)) => Err(format!("no such {what}")),
        Err(e) => Err(e.to_string()),
    }
}
