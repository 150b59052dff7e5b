//! Bulk import of users (`cognate user import`): JSON lines, or CSV in the format of
//! Cognito's user import jobs (`GetCSVHeader`: one column per attribute,
//! `cognito:username` and `cognito:mfa_enabled`), read as a stream and written in
//! batches of [`BATCH`] users, one transaction each, so memory stays flat whatever the
//! file's size and a million users take minutes. A line that cannot be imported is
//! reported with its number and never stops the import; a batch the database refuses
//! is written again user by user, so a bad row fails its own line only and no line
//! leaves a partial user.
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
use crate::store::StoreError;

use super::{NewUser, NewUserRules, UserStatus};

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

/// Users written per transaction: few commits, a bounded batch in memory.
const BATCH: usize = 2000;

/// Imports every record `input` holds into `pool_id`; `progress` is told how many bytes
/// were read after each line.
pub async fn import(
    app: &Services,
    pool_id: &str,
    mut input: impl BufRead,
    format: Format,
    progress: impl Fn(u64),
) -> Result<Summary, AppError> {
    let mut importer = Importer {
        app,
        pool_id,
        rules: NewUserRules::load(app, pool_id).await?,
        lines: Vec::with_capacity(BATCH),
        users: Vec::with_capacity(BATCH),
        summary: Summary::default(),
    };
    match format {
        Format::JsonLines => {
            let (mut read, mut number, mut line) = (0u64, 0u64, Vec::new());
            loop {
                line.clear();
                let n = input
                    .read_until(b'\n', &mut line)
                    .map_err(|e| AppError::Invalid(format!("line {}: {e}", number + 1)))?;
                if n == 0 {
                    break;
                }
                number += 1;
                read += n as u64;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                // Bytes, not a string: a line that is not UTF-8 fails alone.
                let record = serde_json::from_slice::<Record>(&line)
                    .map_err(|e| format!("not a user record: {e}"));
                importer.take(number, record).await?;
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
                let record = match row {
                    Ok(row) => {
                        progress(row.position().map_or(0, |p| p.byte()));
                        csv_record(&header, &row)
                    }
                    Err(e) => Err(format!("not a CSV row: {e}")),
                };
                importer.take(number, record).await?;
            }
        }
    }
    importer.flush().await?;
    let mut summary = importer.summary;
    // Lines refused by the database are known after later lines of their batch.
    summary.failed.sort_by_key(|f| f.line);
    Ok(summary)
}

/// An import under way: the pool's rules, the batch being filled, the counts so far.
struct Importer<'a> {
    app: &'a Services,
    pool_id: &'a str,
    rules: NewUserRules,
    /// The line numbers of `users`.
    lines: Vec<u64>,
    /// Checked users waiting for their batch's transaction, with the ids they get.
    users: Vec<(String, NewUser)>,
    summary: Summary,
}

impl Importer<'_> {
    /// Takes one line's record: checked into the batch, which is written when full, or
    /// failed with its reason.
    async fn take(&mut self, line: u64, record: Result<Record, String>) -> Result<(), AppError> {
        match record.and_then(|r| self.check(r)) {
            Ok(user) => {
                self.lines.push(line);
                self.users.push((uuid::Uuid::new_v4().to_string(), user));
                if self.users.len() >= BATCH {
                    self.flush().await?;
                }
            }
            Err(reason) => self.summary.failed.push(Failed { line, reason }),
        }
        Ok(())
    }

    /// The user a record creates, checked as [`super::create_with_hash`] and
    /// [`super::create`] check one; a reason for the summary when it cannot be.
    fn check(&self, record: Record) -> Result<NewUser, String> {
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
        let password_hash = record
            .password_hash
            .as_deref()
            .map(super::password::check_imported)
            .transpose()?;
        self.rules
            .check(&record.username, &record.attributes)
            .map_err(reason)?;
        Ok(NewUser {
            username: record.username,
            password_hash,
            status,
            attributes: record.attributes,
            pending_code: None,
        })
    }

    /// Writes the batch in one transaction. A part the database refuses is halved and
    /// tried again, down to a few users written one by one, so that only the bad rows'
    /// lines fail, at the cost of a few more transactions rather than one per user. An
    /// unavailable database stops the import.
    async fn flush(&mut self) -> Result<(), AppError> {
        const ONE_BY_ONE: usize = 8;
        let (store, now) = (&self.app.store, self.app.clock.now());
        let summary = &mut self.summary;
        // Parts in file order (a stack, first part on top): of two users with the same
        // name, the first one is imported and the second skipped.
        let mut parts = Vec::with_capacity(32);
        parts.push(0..self.users.len());
        while let Some(part) = parts.pop() {
            if part.is_empty() {
                continue;
            }
            let users = &self.users[part.clone()];
            let refused = match store.insert_users(self.pool_id, users, now).await {
                Ok(inserted) => {
                    let imported =
                        users.iter().filter(|(id, _)| inserted.contains(id)).count() as u64;
                    summary.imported += imported;
                    summary.skipped += users.len() as u64 - imported;
                    continue;
                }
                Err(e) if e.is_transient() => return Err(e.into()),
                Err(e) => e,
            };
            if users.len() > ONE_BY_ONE {
                let middle = part.start + users.len() / 2;
                parts.push(middle..part.end);
                parts.push(part.start..middle);
                continue;
            }
            tracing::warn!(error = %refused, "imported users refused in a batch: writing them one by one");
            for (&line, (user_id, user)) in self.lines[part].iter().zip(users) {
                match store.insert_user(self.pool_id, user_id, user, now).await {
                    Ok(()) => summary.imported += 1,
                    Err(StoreError::Conflict) => summary.skipped += 1,
                    Err(e) if e.is_transient() => return Err(e.into()),
                    Err(e) => summary.failed.push(Failed {
                        line,
                        reason: reason(e.into()),
                    }),
                }
            }
        }
        self.lines.clear();
        self.users.clear();
        Ok(())
    }
}

/// A record from a CSV row of Cognito's format: every non-empty column an attribute,
/// `cognito:username` the username; `cognito:mfa_enabled` may only be false (true is
/// Cognito's SMS MFA).
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
            "cognito:mfa_enabled" => {
                return Err(
                    "cognito:mfa_enabled true is SMS MFA, which cognate does not offer: import \
                     with false and let the user set up an authenticator or e-mail codes"
                        .into(),
                );
            }
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

/// Why a user could not be created, for the summary.
fn reason(e: AppError) -> String {
    match e {
        AppError::Invalid(why) => why,
        AppError::NotFound(what) => format!("no such {what}"),
        e => e.to_string(),
    }
}
