//! Domain newtypes: a value of these types has been validated, so the rest of the code never
//! re-checks a student id or a stage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("学籍副号应为 1–32 位字母或数字，当前为“{0}”")]
    StudentId(String),
    #[error("学段应为 小学/初中/高中（primary/junior/senior），当前为“{0}”")]
    Stage(String),
    #[error("状态应为 not_uploaded/uploaded/pending_review/approved/rejected，当前为“{0}”")]
    Status(String),
    #[error("用户名应为 3–32 位字母、数字、下划线或中文，当前为“{0}”")]
    Username(String),
    #[error("密码至少 6 位，且须同时包含字母和数字")]
    WeakPassword,
}

/// 学籍副号: 1–32 ASCII letters or digits, unique within a campaign. Also used as a path
/// component of object keys, which is why nothing else is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudentId(String);

impl StudentId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok { Ok(Self(s.to_owned())) } else { Err(ParseError::StudentId(s.chars().take(40).collect())) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for StudentId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<StudentId> for String {
    fn from(s: StudentId) -> String {
        s.0
    }
}
impl fmt::Display for StudentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Primary,
    Junior,
    Senior,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Primary, Stage::Junior, Stage::Senior];
    /// Accepts the API spelling and the Chinese one, since bureau CSVs come from Excel.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "primary" | "小学" => Ok(Stage::Primary),
            "junior" | "初中" => Ok(Stage::Junior),
            "senior" | "高中" => Ok(Stage::Senior),
            other => Err(ParseError::Stage(other.chars().take(20).collect())),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Primary => "primary",
            Stage::Junior => "junior",
            Stage::Senior => "senior",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Stage::Primary => "小学",
            Stage::Junior => "初中",
            Stage::Senior => "高中",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotUploaded,
    Uploaded,
    PendingReview,
    Approved,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::NotUploaded, Status::Uploaded, Status::PendingReview, Status::Approved, Status::Rejected];
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| ParseError::Status(s.chars().take(20).collect()))
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotUploaded => "not_uploaded",
            Status::Uploaded => "uploaded",
            Status::PendingReview => "pending_review",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }
    /// The seed manual's wording.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotUploaded => "未上传",
            Status::Uploaded => "已上传",
            Status::PendingReview => "待审核",
            Status::Approved => "已审核",
            Status::Rejected => "未通过审核",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    School,
    Reviewer,
    Bureau,
    /// A parent: a session for exactly one student, from the personal code the school printed.
    Parent,
    /// A district (区县) officer: the bureau's reading and school-account work, for one district.
    District,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::School => "school",
            Role::Reviewer => "reviewer",
            Role::Bureau => "bureau",
            Role::Parent => "parent",
            Role::District => "district",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "school" => Some(Role::School),
            "reviewer" => Some(Role::Reviewer),
            "bureau" => Some(Role::Bureau),
            "parent" => Some(Role::Parent),
            "district" => Some(Role::District),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n = s.chars().count();
        let ok = (3..=32).contains(&n)
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' || ('\u{4e00}'..='\u{9fff}').contains(&c));
        if ok { Ok(Self(s.to_owned())) } else { Err(ParseError::Username(s.chars().take(40).collect())) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the seed's rule: at least 6 characters mixing letters and digits.
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.chars().count() >= 6
            && s.chars().count() <= 128
            && s.chars().any(|c| c.is_alphabetic())
            && s.chars().any(|c| c.is_ascii_digit());
        if ok { Ok(Self(s.to_owned())) } else { Err(ParseError::WeakPassword) }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A reason shown on a student record or to a reviewer: a stable code and a teacher's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

impl Reason {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct School {
    pub school_id: String,
    pub district: String,
    pub name: String,
    pub stage: Stage,
    pub registration_code: String,
    /// The teacher account registered with this school's code, if any.
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub school_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A district account's district.
    #[serde(default)]
    pub district: Option<String>,
}

/// One row of a roster import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub school_id: String,
    pub student_id: StudentId,
    pub name: String,
    pub class: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Student {
    pub student_id: StudentId,
    pub school_id: String,
    pub name: String,
    pub class: String,
    pub status: Status,
    /// Why rejected (hard findings or reviewer reasons) or soft flags while pending.
    pub reasons: Vec<Reason>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Object key of the winning upload's photo, if one landed.
    pub photo_key: Option<String>,
    /// Incremented by every winning upload; a ticket is only good for the generation it was
    /// issued in, which is what stops a stale URL replacing a photo that was already decided.
    pub generation: u32,
    /// Perceptual hash of the current photo (for duplicate detection), if checked.
    pub photo_hash: Option<u64>,
    /// Moved on by every write of the student (`lifecycle::Transition`); each conditional write
    /// tests it, so two decisions racing on one student cannot both land.
    #[serde(default)]
    pub version: u64,
    /// Who set the current status (`None` while no one has decided this photo).
    #[serde(default)]
    pub decided_by: Option<DecidedBy>,
    /// The school's (or parent's) request that a person look at the check's rejection.
    #[serde(default)]
    pub appeal: Option<Appeal>,
    /// The check's soft findings on the current photo, kept apart from `reasons` so a
    /// rejection never hides them.
    #[serde(default)]
    pub flags: Vec<Reason>,
    /// Set once a person rejected a photo of this student: every later photo goes to a person,
    /// whatever the campaign's auto-approval policy.
    #[serde(default)]
    pub review_required: bool,
    /// Who uploaded the current photo (contract v2's `uploaded_by`).
    #[serde(default)]
    pub uploaded_by: Option<Uploader>,
    /// The current photo was made by the crop suggestion (自动裁剪): the reviewer sees it.
    /// Left out of stored items when false (DynamoDB bills item bytes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_cropped: bool,
    /// What the automatic check measured on the current photo's head (the reviewer sees why a
    /// verdict was given). Set by the check when the photo is the wanted size and shows exactly
    /// one face, cleared by the next photo; left out of stored items when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<PhotoGeometry>,
}

/// The head's geometry as the automatic check measured it (`photo::geometry::Geometry`),
/// rounded for storing and showing: pixels whole, the head's share of the photo height to
/// 0.001, the roll to 0.1°, width over height to 0.01. The field names are the stored and the
/// API's names.
///
/// Every value is finite — the conversion maps a non-finite measurement to 0, and neither JSON
/// nor DynamoDB numbers can carry NaN or infinities — which is what makes `Eq` sound here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhotoGeometry {
    /// Eye line (mean of the eye centres) below the top edge, px.
    pub eye_line: i32,
    /// First row of hair (the crown) below the top edge, px.
    pub crown: i32,
    /// Estimated chin row below the top edge, px.
    pub chin: i32,
    /// (chin − crown) / photo height.
    pub head_ratio: f64,
    /// Midpoint of the eyes minus the photo's centre, px (positive: right of centre).
    pub centre_offset: i32,
    /// Tilt of the eye line, degrees (positive: the eye on the picture's right is lower).
    pub roll: f64,
    /// Distance between the eye centres, px.
    pub eye_distance: i32,
    /// Eye distance over the nose's drop below the eye line (a stretched photo leaves the
    /// check's band).
    pub width_to_height: f64,
}

impl Eq for PhotoGeometry {}

impl From<&crate::photo::geometry::Geometry> for PhotoGeometry {
    fn from(g: &crate::photo::geometry::Geometry) -> Self {
        /// Whole pixels (`as` saturates; NaN becomes 0).
        fn px(v: f32) -> i32 {
            v.round() as i32
        }
        /// `v` to `1 / scale`, finite, and never −0 (shown as "-0"). In f64, so the value is
        /// the shortest decimal wherever it is serialised (an f32 widened later is not).
        fn places(v: f32, scale: f64) -> f64 {
            let r = (f64::from(v) * scale).round() / scale;
            if r.is_finite() { r + 0.0 } else { 0.0 }
        }
        PhotoGeometry {
            eye_line: px(g.eye_line),
            crown: i32::try_from(g.crown).unwrap_or(i32::MAX),
            chin: px(g.chin),
            head_ratio: places(g.head_ratio, 1000.0),
            centre_offset: px(g.centre_offset),
            roll: places(g.roll_degrees, 10.0),
            eye_distance: px(g.eye_distance),
            width_to_height: places(g.width_to_height, 100.0),
        }
    }
}

/// Who uploads a photo: the school's teacher or the student's parent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Uploader {
    #[default]
    School,
    Parent,
}

impl Uploader {
    pub fn as_str(self) -> &'static str {
        match self {
            Uploader::School => "school",
            Uploader::Parent => "parent",
        }
    }
    /// The roster's 上传人 column.
    pub fn label(self) -> &'static str {
        match self {
            Uploader::School => "学校",
            Uploader::Parent => "家长",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "school" => Some(Uploader::School),
            "parent" => Some(Uploader::Parent),
            _ => None,
        }
    }
}

impl Student {
    /// Which upload the current photo is (its ticket id): what a reviewer's decision names, so a
    /// decision made on one photo never lands on its replacement.
    pub fn photo_id(&self) -> Option<String> {
        self.photo_key.as_deref().and_then(ObjectKey::parse).map(|k| k.ticket_id)
    }

    /// Who set the current status. Records written before `decided_by` was stored are read as
    /// the only deciders that existed then: the check until a reviewer's time is set.
    pub fn decider(&self) -> Option<DecidedBy> {
        self.decided_by.or(match (self.status, self.reviewed_at) {
            (Status::Approved | Status::Rejected, Some(_)) => Some(DecidedBy::Reviewer),
            (Status::Rejected | Status::PendingReview, None) if self.appeal.is_none() && self.photo_key.is_some() => Some(DecidedBy::Check),
            _ => None,
        })
    }
}

/// Who set a student's current status (contract v2's `decided_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The automatic photo check.
    Check,
    /// A person: a reviewer or the bureau.
    Reviewer,
    /// The campaign's auto-approval policy.
    Auto,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Check => "check",
            DecidedBy::Reviewer => "reviewer",
            DecidedBy::Auto => "auto",
        }
    }
}

/// An appeal (申请人工复核) of the current photo's automatic rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    /// Who asked (the audit names them too).
    pub by: String,
    /// The automatic codes a person overruled by approving the appealed photo.
    #[serde(default)]
    pub overruled: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub not_uploaded: u32,
    pub uploaded: u32,
    pub pending_review: u32,
    pub approved: u32,
    pub rejected: u32,
}

impl Counts {
    pub fn add(&mut self, status: Status, n: u32) {
        match status {
            Status::NotUploaded => self.not_uploaded += n,
            Status::Uploaded => self.uploaded += n,
            Status::PendingReview => self.pending_review += n,
            Status::Approved => self.approved += n,
            Status::Rejected => self.rejected += n,
        }
    }
    pub fn total(&self) -> u32 {
        self.not_uploaded + self.uploaded + self.pending_review + self.approved + self.rejected
    }
}

/// An upload ticket: permission to put one photo for one student, valid until `expires_at`,
/// for the student's generation at the time it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub ticket_id: String,
    pub student_id: StudentId,
    pub school_id: String,
    pub size: u64,
    pub generation: u32,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The account that asked for it: the audit names it as who uploaded the photo.
    #[serde(default = "unknown_issuer")]
    pub issued_by: String,
    /// Whether a teacher or a parent asked for it (tickets stored before parents: a teacher).
    #[serde(default)]
    pub uploader: Uploader,
    /// The page made this photo from the crop suggestion (自动裁剪), unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_cropped: bool,
}

/// Tickets stored before issuers were recorded.
fn unknown_issuer() -> String {
    "system".to_owned()
}

impl Ticket {
    /// `uploads/{school}/{student}/{ticket}.jpg` — every part is validated ASCII, so the key
    /// is safe as an S3 key and as a relative path on disk.
    pub fn object_key(&self) -> String {
        object_key(&self.school_id, &self.student_id, &self.ticket_id)
    }
}

pub fn object_key(school_id: &str, student_id: &StudentId, ticket_id: &str) -> String {
    format!("uploads/{school_id}/{student_id}/{ticket_id}.jpg")
}

/// The parts of an object key, parsed back (S3 events arrive with the key only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    pub school_id: String,
    pub student_id: StudentId,
    pub ticket_id: String,
}

impl ObjectKey {
    pub fn parse(key: &str) -> Option<Self> {
        let rest = key.strip_prefix("uploads/")?;
        let mut parts = rest.split('/');
        let school_id = parts.next()?;
        let student = parts.next()?;
        let file = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let ticket_id = file.strip_suffix(".jpg")?;
        let safe = |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !safe(school_id) || !safe(ticket_id) {
            return None;
        }
        Some(Self { school_id: school_id.to_owned(), student_id: StudentId::parse(student).ok()?, ticket_id: ticket_id.to_owned() })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

/// One recorded status change or review decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub student_id: StudentId,
    pub from: Status,
    pub to: Status,
    pub reasons: Vec<String>,
    pub note: Option<String>,
    /// Automatic codes a person overruled with this event (approving an appealed photo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overruled: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_id_rejects_path_tricks_and_accepts_alnum() {
        assert!(StudentId::parse("G310101200901011234").is_ok());
        for bad in ["", "../etc", "a/b", "a b", "学号", &"x".repeat(33), "a.jpg"] {
            assert!(StudentId::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_measured_geometry_is_stored_rounded_and_finite() {
        use crate::photo::geometry::Geometry;
        use crate::photo::landmarks::{Landmarks, Point};
        let p = |x, y| Point { x, y };
        let landmarks = Landmarks { left_eye: [p(100.0, 140.0), p(120.0, 140.0)], right_eye: [p(152.0, 142.0), p(172.0, 142.0)], nose: p(136.0, 180.0) };
        let g = Geometry {
            face_box: [90.0, 100.0, 92.0, 110.0],
            landmarks,
            eye_line: 141.6,
            eye_distance: 52.04,
            roll_degrees: -0.04,
            crown: 11,
            chin: 299.5,
            head_ratio: 0.659_32,
            centre_offset: -2.6,
            width_to_height: f32::INFINITY,
        };
        let stored = PhotoGeometry::from(&g);
        assert_eq!(
            stored,
            PhotoGeometry { eye_line: 142, crown: 11, chin: 300, head_ratio: 0.659, centre_offset: -3, roll: 0.0, eye_distance: 52, width_to_height: 0.0 }
        );
        let json = serde_json::to_string(&stored).unwrap();
        assert_eq!(json, r#"{"eye_line":142,"crown":11,"chin":300,"head_ratio":0.659,"centre_offset":-3,"roll":0.0,"eye_distance":52,"width_to_height":0.0}"#);
        assert_eq!(serde_json::from_str::<PhotoGeometry>(&json).unwrap(), stored, "the stored form reads back equal");
        let wide = PhotoGeometry::from(&Geometry { width_to_height: 1.306, roll_degrees: 1.24, ..g });
        assert_eq!((wide.width_to_height, wide.roll), (1.31, 1.2));
    }

    #[test]
    fn password_rule_is_the_seeds() {
        assert!(Password::parse("abc123").is_ok());
        for bad in ["abc12", "abcdef", "123456", ""] {
            assert!(Password::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn object_key_round_trips_and_refuses_traversal() {
        let sid = StudentId::parse("S1").unwrap();
        let k = object_key("sch-1", &sid, "t-9");
        assert_eq!(ObjectKey::parse(&k).unwrap().student_id, sid);
        assert!(ObjectKey::parse("uploads/../x/S1/t.jpg").is_none());
        assert!(ObjectKey::parse("uploads/a/S1/t.jpg/x").is_none());
        assert!(ObjectKey::parse("other/a/S1/t.jpg").is_none());
    }
}
