//! The ports: everything persistent (`Records`), the object store (`PhotoStore`) and time
//! (`Clock`). The embedded server implements them on SQLite and a folder, the AWS deployment on
//! DynamoDB and S3; one contract test suite holds both to the same behaviour.
//!
//! Every state transition with a condition (one winning upload, single-use codes, review only
//! from `pending_review`) is a single method here, so each adapter can make it atomic with the
//! tool its backend has (a SQLite transaction, a DynamoDB conditional write).

use crate::campaign::{Campaign, ReviewPolicy};
use crate::domain::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A backend failure that is not a rule being applied: the store is down, corrupt, or said
/// something unexpected. The API answers 500 without details; the log has them.
#[derive(Debug, thiserror::Error)]
#[error("store error: {0}")]
pub struct BackendError(pub String);

impl BackendError {
    pub fn new(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("unknown registration code")]
    UnknownCode,
    #[error("registration code already used")]
    CodeUsed,
    #[error("username taken")]
    UsernameTaken,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("unknown school")]
    UnknownSchool,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("username taken")]
    UsernameTaken,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A roster line names a school that does not exist (line numbers are the caller's).
    #[error("unknown school {0}")]
    UnknownSchool(String),
    /// The student id already belongs to another school in this campaign.
    #[error("student {0} belongs to another school")]
    StudentOfAnotherSchool(StudentId),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("unknown student")]
    UnknownStudent,
    #[error("student's status does not allow an upload")]
    AlreadyUploaded(Status),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// The answer to `reserve_login_attempt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The password may be checked; a success clears the slot, a failure keeps it.
    Reserved,
    /// Too many recent failures: the password must not even be checked.
    Refused,
}

/// Why a landed object did not become the student's photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimLost {
    UnknownTicket,
    Expired,
    /// Another upload already won this generation, or the photo was decided since.
    Superseded,
}

#[derive(Debug)]
pub enum Claim {
    Won(Student),
    Lost(ClaimLost),
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("unknown student")]
    UnknownStudent,
    #[error("student is not pending review")]
    NotPending(Status),
    /// The decision named a photo that has since been replaced (rejected, then uploaded again).
    #[error("the photo under review was replaced")]
    PhotoChanged,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// The automatic check's outcome, as recorded on the student.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Hard findings: any means `rejected`.
    pub rejections: Vec<Reason>,
    /// Soft findings: a flagged photo always goes to a person.
    pub flags: Vec<Reason>,
    pub photo_hash: Option<u64>,
    /// What the check measured on the head (`photo::Report::geometry`, rounded), when it did.
    pub geometry: Option<PhotoGeometry>,
    /// The campaign's review policy when the check finished (read by the caller, applied by
    /// `lifecycle::record_check`).
    pub policy: ReviewPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum AppealError {
    #[error("unknown student")]
    UnknownStudent,
    /// Not a rejection by the automatic check for a judgement a person can see, or already
    /// appealed.
    #[error("not appealable")]
    NotAppealable(Status),
    #[error("the photo was replaced")]
    PhotoChanged,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[derive(Debug, thiserror::Error)]
pub enum ReopenError {
    #[error("unknown student")]
    UnknownStudent,
    #[error("student is not approved")]
    NotApproved(Status),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// A reviewer's hold on the photos a queue page handed them (contract v2: queue leases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub reviewer: String,
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckRecorded {
    /// The decision was written; the record after it.
    Decided(Student),
    /// This ticket's photo was already decided (a duplicate delivery) or is no longer the
    /// student's current upload: nothing changed.
    NoChange,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudentFilter {
    pub class: Option<String>,
    pub status: Option<Status>,
    pub uploaded_by: Option<Uploader>,
}

/// A student's personal code for parents, as stored: only its keyed hash (never the code), and
/// a version that every new issue moves on (a parent's session carries it, so issuing again
/// ends the sessions made with the old code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentCode {
    pub student_id: StudentId,
    pub hash: String,
    pub version: u32,
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub district: Option<String>,
    pub school_id: Option<String>,
    pub limit: u32,
}

#[async_trait]
pub trait Records: Send + Sync + 'static {
    // Campaign
    async fn campaign(&self) -> Result<Option<Campaign>, BackendError>;
    async fn put_campaign(&self, campaign: &Campaign) -> Result<(), BackendError>;

    // Schools and registration
    /// Inserts all schools or none.
    async fn insert_schools(&self, schools: &[School]) -> Result<(), BackendError>;
    async fn school(&self, school_id: &str) -> Result<Option<School>, BackendError>;
    async fn school_by_code(&self, code: &str) -> Result<Option<School>, BackendError>;
    /// All schools ordered by district, then name, then stage.
    async fn schools(&self) -> Result<Vec<School>, BackendError>;
    /// Atomically: the code exists and is unused, the username is free; the account is created
    /// with `school_id` set to the code's school (whatever the caller put there) and the code
    /// marked used by it (`School::username`).
    async fn register(&self, code: &str, account: &Account) -> Result<School, RegisterError>;

    /// A school's lost account (区县 重置): atomically, the school gets `new_code` as its
    /// single-use registration code and no registered account, and the old account is deleted
    /// (it can no longer log in, and its sessions end: a school session must name the school's
    /// current account). Returns the school as it now is.
    async fn reset_school(&self, school_id: &str, new_code: &str) -> Result<School, ResetError>;

    // Accounts and login throttling
    async fn create_account(&self, account: &Account) -> Result<(), AccountError>;
    async fn account(&self, username: &str) -> Result<Option<Account>, BackendError>;
    /// Takes one of the `max` attempt slots this username has per cool-off window, *before* its
    /// password is checked, and counts it as a failure until `clear_login_failures`. Atomic, so a
    /// burst of parallel guesses gets `max` tries, not one each. Refused when `max` attempts
    /// since `since` already hold a slot.
    async fn reserve_login_attempt(&self, username: &str, at: DateTime<Utc>, since: DateTime<Utc>, max: u32) -> Result<LoginAttempt, BackendError>;
    /// Attempts still counted against this username since `since`.
    async fn login_failures(&self, username: &str, since: DateTime<Utc>) -> Result<u32, BackendError>;
    async fn clear_login_failures(&self, username: &str) -> Result<(), BackendError>;

    // Students
    /// Inserts or updates (name, class) of every row, all or none. A student id already in
    /// another school is an error. Returns (imported, updated).
    async fn import_roster(&self, rows: &[RosterRow]) -> Result<(u32, u32), ImportError>;
    async fn student(&self, student_id: &StudentId) -> Result<Option<Student>, BackendError>;
    /// A school's students ordered by class, then student id.
    async fn students(&self, school_id: &str, filter: &StudentFilter) -> Result<Vec<Student>, BackendError>;
    async fn counts(&self, school_id: &str) -> Result<Counts, BackendError>;
    /// Counts for every school (one query, not one per school).
    async fn all_counts(&self) -> Result<BTreeMap<String, Counts>, BackendError>;

    // Uploads
    /// Records a ticket if the student may upload now; the ticket carries the student's current
    /// generation (the caller's value is overwritten) and is returned as stored.
    async fn issue_ticket(&self, ticket: &Ticket) -> Result<Ticket, TicketError>;
    /// An object landed for `ticket_id`: the first landing of a live ticket of the current
    /// generation wins and moves the student to `uploaded` (generation + 1); anything else loses
    /// and changes nothing.
    async fn claim_upload(&self, student_id: &StudentId, ticket_id: &str, now: DateTime<Utc>) -> Result<Claim, BackendError>;
    /// Writes the check's decision if the student is still `uploaded` with this ticket's photo.
    async fn record_check(&self, student_id: &StudentId, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<CheckRecorded, BackendError>;
    /// Students stuck in `uploaded` since before `before` (the recovery sweep re-checks them).
    async fn stuck_uploads(&self, before: DateTime<Utc>) -> Result<Vec<Student>, BackendError>;
    /// Other students whose photo hash is within `max_distance` bits of `hash`.
    async fn similar_photos(&self, hash: u64, max_distance: u32, except: &StudentId) -> Result<Vec<StudentId>, BackendError>;

    // Review
    /// `pending_review` students, oldest upload first.
    async fn review_queue(&self, filter: &QueueFilter) -> Result<Vec<Student>, BackendError>;
    /// Decides a `pending_review` photo. With `photo_id`, only if the current photo is that
    /// upload (`Student::photo_id`), checked in the same atomic step as the status.
    // Each argument is one fact of the decision, and every caller names them all.
    #[allow(clippy::too_many_arguments)]
    async fn review(&self, student_id: &StudentId, photo_id: Option<&str>, decision: Decision, reasons: &[Reason], note: Option<&str>, reviewer: &str, now: DateTime<Utc>) -> Result<Student, ReviewError>;
    /// The queue page for one reviewer: `pending_review` students no other reviewer holds a live
    /// lease on (the reviewer's own first, then oldest upload first), each leased to
    /// `lease.reviewer` until `lease.until` in the same atomic step per student. A transition
    /// of the student ends its lease.
    async fn lease_review_queue(&self, filter: &QueueFilter, lease: &Lease) -> Result<Vec<Student>, BackendError>;
    /// A school's (or parent's) appeal of the check's rejection (`lifecycle::appeal`).
    async fn appeal(&self, student_id: &StudentId, request: &crate::lifecycle::AppealRequest<'_>, now: DateTime<Utc>) -> Result<Student, AppealError>;
    /// The bureau sends an approved photo back (`lifecycle::reopen`).
    async fn reopen(&self, student_id: &StudentId, reasons: &[Reason], note: Option<&str>, by: &str, now: DateTime<Utc>) -> Result<Student, ReopenError>;
    /// Stores each student's new parent-code hash, replacing the old one and moving its version
    /// on (the `version` given is ignored); returns the stored records.
    async fn issue_parent_codes(&self, codes: &[ParentCode]) -> Result<Vec<ParentCode>, BackendError>;
    async fn parent_code(&self, student_id: &StudentId) -> Result<Option<ParentCode>, BackendError>;
    /// Each district's statistics (one district, if asked), kept by counters every transition
    /// and roster import moves in its own transaction (`stats`). Survives a purge.
    async fn stats(&self, district: Option<&str>) -> Result<BTreeMap<String, crate::stats::Stats>, BackendError>;
    /// Replaces every district's counters with `figures` (`stats_repair::rebuild`, which runs
    /// it only while the window is closed).
    async fn replace_stats(&self, figures: &BTreeMap<String, crate::stats::Stats>) -> Result<(), BackendError>;
    /// Approved students, of one school or all, ordered by school then student id.
    async fn approved(&self, school_id: Option<&str>) -> Result<Vec<Student>, BackendError>;
    async fn audit_trail(&self, student_id: &StudentId) -> Result<Vec<AuditEvent>, BackendError>;

    // Privacy (see crate::purge, which also deletes the photos)
    /// Deletes every piece of personal data: students (names, ids, classes, photo keys and
    /// hashes), their tickets and audit trail, school (teacher) accounts and login failures,
    /// and clears each school's registered username. Keeps the campaign, the schools and the
    /// bureau/reviewer accounts. A second call finds nothing and reports zeros.
    async fn purge_personal_data(&self) -> Result<RecordsPurged, BackendError> {
        Err(BackendError::new("this backend cannot purge personal data"))
    }
}

/// What `Records::purge_personal_data` deleted, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordsPurged {
    pub students: u32,
    pub tickets: u32,
    pub audit_events: u32,
    pub school_accounts: u32,
    pub login_failures: u32,
    pub parent_codes: u32,
}

impl RecordsPurged {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A request the browser makes directly to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly (they are part of the signature).
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("object not found")]
    NotFound,
    #[error("object larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[async_trait]
pub trait PhotoStore: Send + Sync + 'static {
    /// A PUT the store itself refuses unless the body has exactly `size` bytes of
    /// `content_type`, before `expires_at`.
    async fn presign_put(&self, key: &str, size: u64, content_type: &str, expires_at: DateTime<Utc>) -> Result<PresignedRequest, BackendError>;
    /// A short-lived URL to read one object (photo previews).
    async fn presign_get(&self, key: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError>;
    /// Reads an object whole, refusing (without reading it all) one larger than `limit`.
    async fn read(&self, key: &str, limit: u64) -> Result<Vec<u8>, ReadError>;
    async fn delete(&self, key: &str) -> Result<(), BackendError>;
    /// Keys under a prefix, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError>;
    /// Stores a finished local file (an export ZIP) under `key`, streamed, never half-written.
    async fn put_file(&self, key: &str, path: &std::path::Path, content_type: &str) -> Result<(), BackendError>;
    /// A short-lived URL that downloads an object as an attachment named `filename`.
    async fn presign_download(&self, key: &str, filename: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError>;
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
