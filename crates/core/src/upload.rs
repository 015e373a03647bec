//! What happens when an object lands in the store: the same steps whether the embedded server's
//! PUT handler saw the bytes arrive or S3 notified the check-photo Lambda.
//!
//! Deliveries are at-least-once and may come out of order, so every step is idempotent: a
//! duplicate of the winning object re-runs the check and `record_check` changes nothing once
//! decided; a losing object is deleted unless it is the student's photo.

use crate::domain::{ObjectKey, Reason, Stage, Student};
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landed {
    /// The object is the student's photo now (or already was: a repeated delivery); check it.
    Claimed(Student),
    /// The object lost; it has been deleted.
    Discarded(ClaimLost),
    /// The key is not an upload key of ours; ignored.
    NotOurs,
}

/// Step 1: decide whether a landed object becomes the student's photo.
pub async fn claim_landed(records: &dyn Records, store: &dyn PhotoStore, key: &str, now: DateTime<Utc>) -> Result<Landed, BackendError> {
    let Some(parsed) = ObjectKey::parse(key) else { return Ok(Landed::NotOurs) };
    match records.claim_upload(&parsed.student_id, &parsed.ticket_id, now).await? {
        Claim::Won(student) => Ok(Landed::Claimed(student)),
        Claim::Lost(why) => {
            // A repeated delivery of the winner must be re-checked, never deleted.
            if let Some(student) = records.student(&parsed.student_id).await?
                && student.photo_key.as_deref() == Some(key)
            {
                return Ok(Landed::Claimed(student));
            }
            store.delete(key).await?;
            Ok(Landed::Discarded(why))
        }
    }
}

/// How many bits two perceptual hashes may differ by and still be "the same picture".
pub const DUPLICATE_DISTANCE: u32 = 4;

/// Step 2: check the claimed photo and record the decision (if still current).
pub async fn check_claimed(
    records: &dyn Records,
    store: &dyn PhotoStore,
    checker: &dyn Checker,
    rules: &Rules,
    student: &Student,
    now: DateTime<Utc>,
) -> Result<CheckRecorded, BackendError> {
    let Some(key) = student.photo_key.as_deref() else { return Ok(CheckRecorded::NoChange) };
    let Some(parsed) = ObjectKey::parse(key) else { return Ok(CheckRecorded::NoChange) };
    let stage = match records.school(&student.school_id).await? {
        Some(s) => s.stage,
        None => return Err(BackendError::new(format!("student {} has unknown school", student.student_id))),
    };
    let report = match store.read(key, rules.max_bytes).await {
        Ok(bytes) => checker.check(bytes, stage, rules).await,
        Err(ReadError::TooLarge { limit }) => Report {
            hard: vec![photo::too_large_reason(None, limit)],
            ..Report::default()
        },
        Err(ReadError::NotFound) => Report {
            hard: vec![Reason::new("corrupt", "照片文件没有上传完整，请重新上传")],
            ..Report::default()
        },
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
    let outcome = CheckOutcome { rejections: report.hard, flags, photo_hash: report.phash };
    records.record_check(&student.student_id, &parsed.ticket_id, &outcome, now).await
}

/// The `duplicate_photo` flag. The teacher sees it too, so only ids of their own school are
/// named; a twin in another school is mentioned without saying whose it is.
async fn duplicate_flag(records: &dyn Records, student: &Student, twins: &[crate::StudentId]) -> Result<Option<Reason>, BackendError> {
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

/// Both steps, for a store notification (the check-photo Lambda, the recovery sweep).
pub async fn process_landed(
    records: &dyn Records,
    store: &dyn PhotoStore,
    checker: &dyn Checker,
    rules: &Rules,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<CheckRecorded>, BackendError> {
    match claim_landed(records, store, key, now).await? {
        Landed::Claimed(student) => Ok(Some(check_claimed(records, store, checker, rules, &student, now).await?)),
        Landed::Discarded(_) | Landed::NotOurs => Ok(None),
    }
}
