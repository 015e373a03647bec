//! What a case gets (the adapters under test) and the helpers cases share: unique ids, fixed
//! instants, and the common journeys (roster, upload, check).

use chrono::{DateTime, Duration, TimeZone, Utc};
use gradphoto_core::ports::{BackendError, CheckOutcome, CheckRecorded, Claim, PhotoStore, Records};
use gradphoto_core::{Account, Reason, Role, RosterRow, School, Stage, Student, StudentId, Ticket};
use std::any::Any;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Puts an object into the store without HTTP (the port itself has no write: browsers PUT to
/// presigned URLs). Disk: `DiskStore::write`; S3: `put_object` with the SDK.
pub type PutObject = Arc<dyn Fn(String, Vec<u8>) -> BoxFuture<Result<(), BackendError>> + Send + Sync>;

/// The adapters under test, fresh for one case.
pub struct Fixture {
    pub records: Arc<dyn Records>,
    pub store: Arc<dyn PhotoStore>,
    pub put_object: PutObject,
    /// Whatever must live as long as the case (temporary folders, servers).
    guards: Vec<Box<dyn Any + Send>>,
}

impl Fixture {
    pub fn new<F, Fut>(records: Arc<dyn Records>, store: Arc<dyn PhotoStore>, put_object: F) -> Self
    where
        F: Fn(String, Vec<u8>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BackendError>> + Send + 'static,
    {
        let put_object: PutObject = Arc::new(move |k, b| Box::pin(put_object(k, b)));
        Self { records, store, put_object, guards: Vec::new() }
    }

    /// Keeps `guard` alive until the case ends.
    pub fn keep(mut self, guard: impl Any + Send) -> Self {
        self.guards.push(Box::new(guard));
        self
    }

    pub fn records(&self) -> &dyn Records {
        &*self.records
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) {
        (self.put_object)(key.to_owned(), bytes).await.unwrap_or_else(|e| panic!("fixture put_object {key}: {e}"));
    }
}

/// A short random token making one case's ids unique across cases, runs and processes, so
/// cases can share a backend. Lowercase letters and digits only (valid in every id type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uniq(String);

impl Default for Uniq {
    fn default() -> Self {
        Self::new()
    }
}

impl Uniq {
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        let mut v = h.finish();
        let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut s = String::new();
        for _ in 0..10 {
            s.push(digits[(v % 36) as usize] as char);
            v /= 36;
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn school_id(&self, n: u32) -> String {
        format!("sch-{}-{n}", self.0)
    }

    pub fn code(&self, n: u32) -> String {
        format!("C{}{n}", self.0.to_ascii_uppercase())
    }

    pub fn username(&self, n: u32) -> String {
        format!("u{}_{n}", self.0)
    }

    /// A district name only this case uses (filters on it see this case's data only).
    pub fn district(&self, n: u32) -> String {
        format!("区{}-{n}", self.0)
    }

    pub fn student(&self, n: u32) -> StudentId {
        StudentId::parse(&format!("{}S{n}", self.0)).expect("valid student id")
    }

    pub fn ticket(&self, n: u32) -> String {
        format!("t{}-{n}", self.0)
    }

    /// A 64-bit value derived from the token (for photo hashes that no other case uses).
    pub fn hash(&self) -> u64 {
        self.0.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    }

    pub fn school(&self, n: u32, district: &str, name: &str, stage: Stage) -> School {
        School {
            school_id: self.school_id(n),
            district: district.to_owned(),
            name: name.to_owned(),
            stage,
            registration_code: self.code(n),
            username: None,
        }
    }
}

/// The instant every case's clock starts at (whole seconds: exact in every backend).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).single().expect("valid instant")
}

pub fn at_min(m: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(m)
}

pub fn account(username: &str, role: Role, school_id: Option<&str>) -> Account {
    Account {
        username: username.to_owned(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{username}"),
        role,
        school_id: school_id.map(str::to_owned),
        created_at: t0(),
        district: None,
    }
}

pub fn row(school_id: &str, student_id: &StudentId, name: &str, class: &str) -> RosterRow {
    RosterRow { school_id: school_id.to_owned(), student_id: student_id.clone(), name: name.to_owned(), class: class.to_owned() }
}

/// Creates school `n` (in `district`) with `students` as (student number, class).
pub async fn school_with(records: &dyn Records, u: &Uniq, n: u32, district: &str, students: &[(u32, &str)]) -> School {
    let school = u.school(n, district, &format!("学校{n}"), Stage::Junior);
    records.insert_schools(std::slice::from_ref(&school)).await.expect("insert school");
    let rows: Vec<RosterRow> = students.iter().map(|(k, class)| row(&school.school_id, &u.student(*k), &format!("学生{k}"), class)).collect();
    if !rows.is_empty() {
        records.import_roster(&rows).await.expect("import roster");
    }
    school
}

/// A ticket for `student` issued at `at`, valid 15 minutes.
pub fn ticket(school_id: &str, student: &StudentId, ticket_id: &str, at: DateTime<Utc>) -> Ticket {
    Ticket {
        ticket_id: ticket_id.to_owned(),
        student_id: student.clone(),
        school_id: school_id.to_owned(),
        size: 150_000,
        generation: 0,
        issued_at: at,
        expires_at: at + Duration::minutes(15),
        issued_by: TEACHER.to_owned(),
        uploader: Default::default(),
        auto_cropped: false,
    }
}

/// Who asks for the contract cases' tickets (the audit's uploader).
pub const TEACHER: &str = "teacher_contract";

pub async fn issue(records: &dyn Records, school_id: &str, student: &StudentId, ticket_id: &str, at: DateTime<Utc>) -> Ticket {
    records.issue_ticket(&ticket(school_id, student, ticket_id, at)).await.unwrap_or_else(|e| panic!("issue_ticket {ticket_id}: {e}"))
}

/// Issues a ticket at `at` and claims it at `at`: the upload must win.
pub async fn upload(records: &dyn Records, school_id: &str, student: &StudentId, ticket_id: &str, at: DateTime<Utc>) -> Student {
    issue(records, school_id, student, ticket_id, at).await;
    match records.claim_upload(student, ticket_id, at).await.expect("claim_upload") {
        Claim::Won(s) => s,
        Claim::Lost(why) => panic!("upload {ticket_id} of {student} should win, lost: {why:?}"),
    }
}

pub fn passed(hash: u64, flags: &[(&str, &str)]) -> CheckOutcome {
    CheckOutcome { rejections: Vec::new(), flags: flags.iter().map(|(c, m)| Reason::new(*c, *m)).collect(), photo_hash: Some(hash), ..Default::default() }
}

pub fn failed(hash: Option<u64>, rejections: &[(&str, &str)]) -> CheckOutcome {
    CheckOutcome { rejections: rejections.iter().map(|(c, m)| Reason::new(*c, *m)).collect(), flags: Vec::new(), photo_hash: hash, ..Default::default() }
}

/// Records a check outcome that must be decided.
pub async fn decide(records: &dyn Records, student: &StudentId, ticket_id: &str, outcome: &CheckOutcome, at: DateTime<Utc>) -> Student {
    match records.record_check(student, ticket_id, outcome, at).await.expect("record_check") {
        CheckRecorded::Decided(s) => s,
        CheckRecorded::NoChange => panic!("check of {ticket_id} for {student} should be recorded"),
    }
}

/// Uploads and passes the check: the student ends `pending_review` with `uploaded_at = at`.
pub async fn pending(records: &dyn Records, school_id: &str, student: &StudentId, ticket_id: &str, at: DateTime<Utc>, hash: u64) -> Student {
    upload(records, school_id, student, ticket_id, at).await;
    decide(records, student, ticket_id, &passed(hash, &[]), at + Duration::seconds(5)).await
}

pub async fn must_student(records: &dyn Records, id: &StudentId) -> Student {
    records.student(id).await.expect("student").unwrap_or_else(|| panic!("student {id} should exist"))
}

/// Keeps only this case's students (ids carry the case's token), preserving order.
pub fn mine(u: &Uniq, ids: impl IntoIterator<Item = StudentId>) -> Vec<StudentId> {
    ids.into_iter().filter(|id| id.as_str().starts_with(u.as_str())).collect()
}
