//! What happens when an object lands in the store, the same steps whether the embedded
//! server's PUT handler saw the bytes arrive or S3 notified the check-photo Lambda:
//! [`land`] (claim it for its student) → [`check_and_record`] (check it, record the decision).
//! The rules each step applies are in `lifecycle`; this module only sequences them.
//!
//! Deliveries are at-least-once and may come out of order, so every step is idempotent: a
//! duplicate of the winning object re-runs the check and recording changes nothing once
//! decided; a losing object is deleted unless it is the student's photo.

use crate::domain::{ObjectKey, PhotoGeometry, Reason, Stage, Status, StudentId, Student};
use crate::messages;
use crate::photo::{self, Report, Rules};
use crate::ports::{BackendError, CheckOutcome, CheckRecorded, Claim, ClaimLost, PhotoStore, ReadError, Records};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Runs the photo check. The embedded server moves it off the async threads; a Lambda runs it
/// inline.
#[async_trait]
pub trait Checker: Send + Sync + 'static {
    async fn check(&self, bytes: Vec<u8>, stage: Stage, rules: &Rules) -> Report;
}

/// Checks on the calling thread.
pub struct InlineChecker;

#[async_trait]
impl Checker for InlineChecker {
    async fn check(&self, bytes: Vec<u8>, stage: Stage, rules: &Rules) -> Report {
        photo::check(&bytes, stage, rules)
    }
}

/// Where a landed object stands after [`land`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// It won: it is the student's photo now; check it.
    Won(Student),
    /// It already was the student's photo (a repeated delivery of the winner): check it again,
    /// never delete it, and never let new bytes replace it.
    Redelivered(Student),
    /// It lost; it must not stay in the store. `status` is the student's, when there is one.
    Lost { why: ClaimLost, status: Option<Status> },
    /// The key is not an upload key of ours.
    NotOurs,
}

/// Step 1: decide whether a landed object becomes the student's photo.
pub async fn land(records: &dyn Records, key: &str, now: DateTime<Utc>) -> Result<Landing, BackendError> {
    let Some(parsed) = ObjectKey::parse(key) else { return Ok(Landing::NotOurs) };
    match records.claim_upload(&parsed.student_id, &parsed.ticket_id, now).await? {
        Claim::Won(student) => Ok(Landing::Won(student)),
        Claim::Lost(why) => match records.student(&parsed.student_id).await? {
            Some(student) if student.photo_key.as_deref() == Some(key) => Ok(Landing::Redelivered(student)),
            other => Ok(Landing::Lost { why, status: other.map(|s| s.status) }),
        },
    }
}

/// How many bits two perceptual hashes may differ by and still be "the same picture".
pub const DUPLICATE_DISTANCE: u32 = 4;

/// Step 2: check the student's current photo and record the decision (if still current).
pub async fn check_and_record(
    records: &dyn Records,
    store: &dyn PhotoStore,
    checker: &dyn Checker,
    rules: &Rules,
    student: &Student,
    now: DateTime<Utc>,
) -> Result<CheckRecorded, BackendError> {
    let (Some(key), Some(photo_id)) = (student.photo_key.as_deref(), student.photo_id()) else { return Ok(CheckRecorded::NoChange) };
    let stage = match records.school(&student.school_id).await? {
        Some(s) => s.stage,
        None => return Err(BackendError::new(format!("student {} has unknown school", student.student_id))),
    };
    let report = match store.read(key, rules.max_bytes).await {
        Ok(bytes) => checker.check(bytes, stage, rules).await,
        Err(ReadError::TooLarge { limit }) => Report { hard: vec![photo::too_large_reason(None, limit)], ..Report::default() },
        Err(ReadError::NotFound) => Report { hard: vec![messages::photo_missing()], ..Report::default() },
        Err(ReadError::Backend(e)) => return Err(e),
    };
    let mut flags = report.soft.clone();
    if report.passed()
        && let Some(hash) = report.phash
    {
        let twins = records.similar_photos(hash, DUPLICATE_DISTANCE, &student.student_id).await?;
        if let Some(flag) = duplicate_flag(records, student, &twins).await? {
            flags.push(flag);
        }
    }
    // Read when the check finishes, so a policy the bureau changes applies from the next photo.
    let policy = records.campaign().await?.map(|c| c.review_policy).unwrap_or_default();
    let geometry = report.geometry.as_ref().map(PhotoGeometry::from);
    let outcome = CheckOutcome { rejections: report.hard, flags, photo_hash: report.phash, geometry, policy };
    records.record_check(&student.student_id, &photo_id, &outcome, now).await
}

/// The `duplicate_photo` flag. The teacher sees it too, so only ids of their own school are
/// named; a twin in another school is mentioned without saying whose it is.
async fn duplicate_flag(records: &dyn Records, student: &Student, twins: &[StudentId]) -> Result<Option<Reason>, BackendError> {
    if twins.is_empty() {
        return Ok(None);
    }
    let mut same_school = Vec::new();
    let mut elsewhere = 0;
    for id in twins.iter().take(5) {
        match records.student(id).await? {
            Some(t) if t.school_id == student.school_id => same_school.push(id.to_string()),
            _ => elsewhere += 1,
        }
    }
    let message = match (same_school.is_empty(), elsewhere) {
        (false, 0) => format!("这张照片与本校学籍副号 {} 的照片几乎相同，请确认没有传错学生", same_school.join("、")),
        (false, _) => format!("这张照片与本校学籍副号 {} 及其他学校的照片几乎相同，请确认没有传错学生", same_school.join("、")),
        (true, _) => "这张照片与其他学校已上传的照片几乎相同，请确认是学生本人的照片".to_owned(),
    };
    Ok(Some(Reason::new("duplicate_photo", message)))
}

/// What one store notification came to (logged by the trigger, returned for tests).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Processed {
    /// The check ran and its decision was written: the new status.
    Decided(Status),
    /// The object is the student's photo but nothing changed (already decided: a duplicate).
    Unchanged,
    /// Not the winning upload (stale, expired, unknown ticket, or not one of our keys).
    Ignored,
    /// Not a notification about a new upload (another event type or bucket, an undecodable key).
    Skipped(String),
}

/// Both steps for an object already in the store (the check-photo Lambda, the AWS command
/// line's re-check): a lost object is deleted.
pub async fn process_landed(
    records: &dyn Records,
    store: &dyn PhotoStore,
    checker: &dyn Checker,
    rules: &Rules,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Processed, BackendError> {
    let student = match land(records, key, now).await? {
        Landing::Won(s) | Landing::Redelivered(s) => s,
        Landing::Lost { .. } => {
            store.delete(key).await?;
            return Ok(Processed::Ignored);
        }
        Landing::NotOurs => return Ok(Processed::Ignored),
    };
    Ok(match check_and_record(records, store, checker, rules, &student, now).await? {
        CheckRecorded::Decided(s) => Processed::Decided(s.status),
        CheckRecorded::NoChange => Processed::Unchanged,
    })
}
