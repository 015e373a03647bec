//! The student lifecycle: every rule that moves a student between statuses, in one place.
//!
//! Each function takes what an adapter read (the student, the ticket) and what happened (a
//! landing, a check outcome, a decision, the time) and answers either a typed refusal or a
//! [`Transition`]: the next record, its audit event and the counter move. The adapters only
//! read, ask here, and write the transition if the student's `version` is still the one they
//! read (SQLite inside its write transaction, DynamoDB as a condition on the write).
//!
//! | status → | rule | function |
//! |---|---|---|
//! | → `not_uploaded` | a roster import enrols a student with no photo | [`enrol`] |
//! | `not_uploaded` / `rejected` → ticket | only these may upload; another school's student is unknown | [`issue_ticket`] |
//! | → `uploaded` | the first landing of a live ticket of the current generation wins | [`claim`] |
//! | `uploaded` → `pending_review` / `rejected` / `approved` | only the current photo, only once; the campaign's policy may approve a clean photo | [`record_check`] |
//! | `rejected` (by the check) → `pending_review` | an appeal of a judgement a person can see, once per photo | [`appeal`], [`appealable`] |
//! | `pending_review` → `approved` / `rejected` | only `pending_review`, only the photo the reviewer saw | [`review`] |
//! | `approved` → `rejected` | the bureau sends a photo back | [`reopen`] |

use crate::campaign::{AutoApprove, ReviewPolicy};
use crate::domain::{Appeal, AuditEvent, DecidedBy, Decision, Reason, RosterRow, Status, Student, StudentId, Ticket};
use crate::ports::{AppealError, CheckOutcome, ClaimLost, ReopenError, ReviewError, TicketError};
use crate::review_reasons;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Who the audit trail names for the automatic check's decisions.
pub const ACTOR_CHECK: &str = "check";
/// Who the audit trail names for approvals by the campaign's auto-approval policy.
pub const ACTOR_AUTO: &str = "auto";

/// One change of a student, as decided here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The record as read; the write must find it unchanged (`before.version`).
    pub before: Student,
    /// The record to write (`version` already moved on).
    pub after: Student,
    pub event: AuditEvent,
}

impl Transition {
    fn new(before: &Student, after: Student, actor: &str, note: Option<&str>, at: DateTime<Utc>) -> Self {
        let after = Student { version: before.version + 1, ..after };
        let event = AuditEvent {
            at,
            actor: actor.to_owned(),
            student_id: before.student_id.clone(),
            from: before.status,
            to: after.status,
            reasons: after.reasons.iter().map(|r| r.code.clone()).collect(),
            note: note.map(str::to_owned),
            overruled: Vec::new(),
        };
        Self { before: before.clone(), after, event }
    }

    /// The version the stored student must still have for this transition to be written.
    pub fn expected_version(&self) -> u64 {
        self.before.version
    }

    /// What the transition adds to its district's statistics, written in the same transaction.
    pub fn stats_delta(&self) -> crate::stats::StatsDelta {
        crate::stats::StatsDelta::of(&self.event)
    }

    /// How the school's status counters move: one student out of `from`, into `to`.
    pub fn counter_move(&self) -> Option<(Status, Status)> {
        (self.before.status != self.after.status).then_some((self.before.status, self.after.status))
    }
}

/// A student as a roster import enrols them: no photo yet, nothing decided.
pub fn enrol(row: &RosterRow) -> Student {
    Student {
        student_id: row.student_id.clone(),
        school_id: row.school_id.clone(),
        name: row.name.clone(),
        class: row.class.clone(),
        status: Status::NotUploaded,
        reasons: Vec::new(),
        uploaded_at: None,
        reviewed_at: None,
        photo_key: None,
        generation: 0,
        photo_hash: None,
        version: 0,
        decided_by: None,
        appeal: None,
        flags: Vec::new(),
        review_required: false,
        uploaded_by: None,
        auto_cropped: false,
        geometry: None,
    }
}

/// One successful upload per student: only a student with no photo, or whose photo was
/// rejected, may upload.
pub fn may_upload(student: &Student) -> Result<(), TicketError> {
    match student.status {
        Status::NotUploaded | Status::Rejected => Ok(()),
        other => Err(TicketError::AlreadyUploaded(other)),
    }
}

/// The ticket to store for `request`, pinned to the student's current generation (the caller's
/// value is ignored). A student of another school is as unknown as a missing one, so no school
/// learns or touches another's roster through tickets.
pub fn issue_ticket(student: Option<&Student>, request: &Ticket) -> Result<Ticket, TicketError> {
    let student = student.filter(|s| s.school_id == request.school_id).ok_or(TicketError::UnknownStudent)?;
    may_upload(student)?;
    Ok(Ticket { generation: student.generation, ..request.clone() })
}

/// An object landed for `ticket`: it becomes the student's photo if the ticket is live and of
/// the student's current generation. The generation is the one-winner rule: the first claim
/// moves it on, so every other ticket of that generation (and any older one) is stale from
/// then on.
pub fn claim(student: Option<&Student>, ticket: Option<&Ticket>, now: DateTime<Utc>) -> Result<Transition, ClaimLost> {
    let ticket = ticket.ok_or(ClaimLost::UnknownTicket)?;
    if now > ticket.expires_at {
        return Err(ClaimLost::Expired);
    }
    let before = student.ok_or(ClaimLost::UnknownTicket)?;
    if before.generation != ticket.generation || may_upload(before).is_err() {
        return Err(ClaimLost::Superseded);
    }
    let after = Student {
        status: Status::Uploaded,
        generation: before.generation + 1,
        photo_key: Some(ticket.object_key()),
        uploaded_at: Some(now),
        reviewed_at: None,
        reasons: Vec::new(),
        photo_hash: None,
        decided_by: None,
        appeal: None,
        flags: Vec::new(),
        uploaded_by: Some(ticket.uploader),
        auto_cropped: ticket.auto_cropped,
        geometry: None,
        ..before.clone()
    };
    let note = ticket.auto_cropped.then_some(crate::messages::AUTO_CROPPED_NOTE);
    Ok(Transition::new(before, after, &ticket.issued_by, note, now))
}

/// Why a check's outcome was not recorded: the photo was already decided (a repeated
/// delivery) or is no longer the student's current one (a stale ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotCurrent;

/// The automatic check's decision on the photo of `ticket_id`: rejected on any hard finding;
/// otherwise waiting for a person, unless the campaign's policy approves it (see
/// [`auto_approves`]).
pub fn record_check(student: Option<&Student>, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<Transition, NotCurrent> {
    let before = student.ok_or(NotCurrent)?;
    if before.status != Status::Uploaded || before.photo_id().as_deref() != Some(ticket_id) {
        return Err(NotCurrent);
    }
    let (status, decided_by, actor) = if !outcome.rejections.is_empty() {
        (Status::Rejected, DecidedBy::Check, ACTOR_CHECK)
    } else if auto_approves(before, ticket_id, outcome) {
        (Status::Approved, DecidedBy::Auto, ACTOR_AUTO)
    } else {
        (Status::PendingReview, DecidedBy::Check, ACTOR_CHECK)
    };
    let after = Student {
        status,
        decided_by: Some(decided_by),
        reasons: outcome.rejections.clone(),
        flags: outcome.flags.clone(),
        photo_hash: outcome.photo_hash,
        geometry: outcome.geometry,
        reviewed_at: (status == Status::Approved).then_some(now),
        ..before.clone()
    };
    Ok(Transition::new(before, after, actor, None, now))
}

/// The auto-approval rule (contract v2): under `clean`, a photo that passed every rule with no
/// flag is approved without a person, except the stable sample and any student a person has
/// rejected before (a re-upload after a person's rejection always goes to a person).
pub fn auto_approves(student: &Student, photo_id: &str, outcome: &CheckOutcome) -> bool {
    outcome.policy.auto_approve == AutoApprove::Clean
        && outcome.rejections.is_empty()
        && outcome.flags.is_empty()
        && !student.review_required
        && !sampled(&student.student_id, photo_id, outcome.policy)
}

/// Whether this photo is in the policy's sample for a person: SHA-256(student_id ‖ photo_id),
/// read as one big-endian number, mod 100, below `sample_percent`. Stable, so a re-delivery
/// or a re-check decides the same way, and spread evenly over schools.
pub fn sampled(student_id: &StudentId, photo_id: &str, policy: ReviewPolicy) -> bool {
    let digest = Sha256::new().chain_update(student_id.as_str()).chain_update(photo_id).finalize();
    let bucket = digest.iter().fold(0u32, |r, b| (r * 256 + u32::from(*b)) % 100);
    bucket < u32::from(policy.sample_percent)
}

/// Whether the current photo's rejection can be appealed: the automatic check rejected it, every
/// reason is a judgement a person can see in the photo (those a reviewer may give, see
/// `review_reasons` — never a file rule such as `wrong_size` or `not_jpeg`), and this photo was
/// not appealed before.
pub fn appealable(s: &Student) -> bool {
    s.status == Status::Rejected
        && s.decider() == Some(DecidedBy::Check)
        && s.appeal.is_none()
        && s.photo_key.is_some()
        && !s.reasons.is_empty()
        && s.reasons.iter().all(|r| review_reasons::message(&r.code).is_some())
}

/// An appeal as the school (or a parent) makes it.
#[derive(Debug, Clone, Copy)]
pub struct AppealRequest<'a> {
    /// The photo the appellant saw: an appeal never lands on its replacement.
    pub photo_id: &'a str,
    pub note: Option<&'a str>,
    /// The account that appeals (the audit names it).
    pub by: &'a str,
    /// The appellant's school: another school's student is as unknown as a missing one.
    pub school_id: Option<&'a str>,
}

/// A false automatic rejection is never a dead end: the photo goes to a person, with the
/// check's reasons kept as the findings to look at.
pub fn appeal(student: Option<&Student>, r: &AppealRequest<'_>, now: DateTime<Utc>) -> Result<Transition, AppealError> {
    let before = student.filter(|s| r.school_id.is_none_or(|sc| s.school_id == sc)).ok_or(AppealError::UnknownStudent)?;
    if before.photo_id().as_deref() != Some(r.photo_id) {
        return Err(AppealError::PhotoChanged);
    }
    if !appealable(before) {
        return Err(AppealError::NotAppealable(before.status));
    }
    let after = Student {
        status: Status::PendingReview,
        decided_by: None,
        appeal: Some(Appeal { note: r.note.map(str::to_owned), at: now, by: r.by.to_owned(), overruled: Vec::new() }),
        ..before.clone()
    };
    Ok(Transition::new(before, after, r.by, r.note, now))
}

/// A person's decision on a photo in review.
#[derive(Debug, Clone, Copy)]
pub struct ReviewDecision<'a> {
    /// The photo the reviewer saw (`Student::photo_id`); `None` decides whatever is current.
    pub photo_id: Option<&'a str>,
    pub decision: Decision,
    pub reasons: &'a [Reason],
    pub note: Option<&'a str>,
    pub reviewer: &'a str,
}

/// Only a `pending_review` photo is decided, and only the one the reviewer saw: a decision made
/// on one photo never lands on its replacement.
pub fn review(student: Option<&Student>, d: &ReviewDecision<'_>, now: DateTime<Utc>) -> Result<Transition, ReviewError> {
    let before = student.ok_or(ReviewError::UnknownStudent)?;
    if d.photo_id.is_some() && before.photo_id().as_deref() != d.photo_id {
        return Err(ReviewError::PhotoChanged);
    }
    if before.status != Status::PendingReview {
        return Err(ReviewError::NotPending(before.status));
    }
    let mut after = Student { reasons: d.reasons.to_vec(), reviewed_at: Some(now), decided_by: Some(DecidedBy::Reviewer), ..before.clone() };
    let mut overruled = Vec::new();
    match d.decision {
        Decision::Approve => {
            after.status = Status::Approved;
            after.reasons.clear();
            // Approving an appealed photo overrules the check's reasons it was rejected for.
            if let Some(appeal) = &mut after.appeal {
                overruled = before.reasons.iter().map(|r| r.code.clone()).collect();
                appeal.overruled = overruled.clone();
            }
        }
        Decision::Reject => {
            after.status = Status::Rejected;
            after.review_required = true;
        }
    }
    let mut t = Transition::new(before, after, d.reviewer, d.note, now);
    t.event.overruled = overruled;
    Ok(t)
}

/// The bureau sends an approved photo back (wrong child found later, misprint): rejected by a
/// person, so the school may upload again, and the export leaves it out.
pub fn reopen(student: Option<&Student>, reasons: &[Reason], note: Option<&str>, by: &str, now: DateTime<Utc>) -> Result<Transition, ReopenError> {
    let before = student.ok_or(ReopenError::UnknownStudent)?;
    if before.status != Status::Approved {
        return Err(ReopenError::NotApproved(before.status));
    }
    let after = Student {
        status: Status::Rejected,
        reasons: reasons.to_vec(),
        reviewed_at: Some(now),
        decided_by: Some(DecidedBy::Reviewer),
        review_required: true,
        ..before.clone()
    };
    Ok(Transition::new(before, after, by, note, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PhotoGeometry, StudentId};
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 10, 2, 0, 0).unwrap()
    }

    fn student(status: Status) -> Student {
        Student {
            student_id: StudentId::parse("J1").unwrap(),
            school_id: "s1".into(),
            name: "张三".into(),
            class: "1".into(),
            status,
            reasons: Vec::new(),
            uploaded_at: None,
            reviewed_at: None,
            photo_key: None,
            generation: 3,
            photo_hash: None,
            version: 7,
            decided_by: None,
            appeal: None,
            flags: Vec::new(),
            review_required: false,
            uploaded_by: None,
            auto_cropped: false,
            geometry: None,
        }
    }

    fn ticket(id: &str, generation: u32) -> Ticket {
        Ticket {
            ticket_id: id.into(),
            student_id: StudentId::parse("J1").unwrap(),
            school_id: "s1".into(),
            size: 20_000,
            generation,
            issued_at: t0(),
            expires_at: t0() + Duration::minutes(15),
            issued_by: "teacher1".into(),
            uploader: Default::default(),
            auto_cropped: false,
        }
    }

    fn pending() -> Student {
        let won = claim(Some(&student(Status::NotUploaded)), Some(&ticket("t1", 3)), t0()).unwrap().after;
        record_check(Some(&won), "t1", &CheckOutcome { photo_hash: Some(9), ..Default::default() }, t0()).unwrap().after
    }

    #[test]
    fn only_students_without_a_decided_photo_get_tickets_pinned_to_their_generation() {
        for st in Status::ALL {
            let got = issue_ticket(Some(&student(st)), &ticket("t1", 0));
            match st {
                Status::NotUploaded | Status::Rejected => assert_eq!(got.unwrap().generation, 3),
                other => assert!(matches!(got, Err(TicketError::AlreadyUploaded(s)) if s == other)),
            }
        }
        let other_school = Ticket { school_id: "s2".into(), ..ticket("t1", 3) };
        assert!(matches!(issue_ticket(Some(&student(Status::NotUploaded)), &other_school), Err(TicketError::UnknownStudent)));
        assert!(matches!(issue_ticket(None, &ticket("t1", 3)), Err(TicketError::UnknownStudent)));
    }

    #[test]
    fn a_claim_moves_the_generation_so_the_same_generation_cannot_win_twice() {
        let s = student(Status::NotUploaded);
        let won = claim(Some(&s), Some(&ticket("t1", 3)), t0()).unwrap();
        assert_eq!((won.after.status, won.after.generation, won.after.version), (Status::Uploaded, 4, 8));
        assert_eq!(won.after.photo_id().as_deref(), Some("t1"));
        assert_eq!((won.event.actor.as_str(), won.event.from, won.event.to), ("teacher1", Status::NotUploaded, Status::Uploaded));
        assert_eq!(won.counter_move(), Some((Status::NotUploaded, Status::Uploaded)));
        assert_eq!(won.expected_version(), 7);
        assert_eq!(claim(Some(&won.after), Some(&ticket("t2", 3)), t0()), Err(ClaimLost::Superseded));
        assert_eq!(claim(Some(&s), Some(&ticket("t1", 2)), t0()), Err(ClaimLost::Superseded), "an older generation");
        assert_eq!(claim(Some(&s), Some(&ticket("t1", 3)), t0() + Duration::minutes(16)), Err(ClaimLost::Expired));
        assert!(claim(Some(&s), Some(&ticket("t1", 3)), t0() + Duration::minutes(15)).is_ok(), "valid up to expires_at");
        assert_eq!(claim(Some(&s), None, t0()), Err(ClaimLost::UnknownTicket));
        assert_eq!(claim(None, Some(&ticket("t1", 3)), t0()), Err(ClaimLost::UnknownTicket));
    }

    #[test]
    fn a_check_decides_only_the_current_photo_once() {
        let uploaded = claim(Some(&student(Status::NotUploaded)), Some(&ticket("t1", 3)), t0()).unwrap().after;
        let bad = CheckOutcome { rejections: vec![Reason::new("blurry", "模糊")], ..Default::default() };
        let decided = record_check(Some(&uploaded), "t1", &bad, t0()).unwrap();
        assert_eq!((decided.after.status, decided.event.actor.as_str()), (Status::Rejected, ACTOR_CHECK));
        assert_eq!(decided.event.reasons, vec!["blurry".to_owned()]);
        assert_eq!(record_check(Some(&decided.after), "t1", &bad, t0()), Err(NotCurrent), "a repeated delivery");
        assert_eq!(record_check(Some(&uploaded), "t0", &bad, t0()), Err(NotCurrent), "a stale ticket");
        assert_eq!(record_check(None, "t1", &bad, t0()), Err(NotCurrent));
    }

    #[test]
    fn the_check_records_its_geometry_and_the_next_photo_clears_it() {
        let g = PhotoGeometry { eye_line: 142, crown: 11, chin: 300, head_ratio: 0.66, centre_offset: 3, roll: 1.2, eye_distance: 62, width_to_height: 1.31 };
        let uploaded = claim(Some(&student(Status::NotUploaded)), Some(&ticket("t1", 3)), t0()).unwrap().after;
        let checked = record_check(Some(&uploaded), "t1", &CheckOutcome { geometry: Some(g), ..Default::default() }, t0()).unwrap().after;
        assert_eq!(checked.geometry, Some(g));
        let reasons = [Reason::new("other", "其他")];
        let d = ReviewDecision { photo_id: None, decision: Decision::Reject, reasons: &reasons, note: None, reviewer: "r" };
        let rejected = review(Some(&checked), &d, t0()).unwrap().after;
        assert_eq!(rejected.geometry, Some(g), "a decision on the same photo keeps it");
        let next = claim(Some(&rejected), Some(&ticket("t2", rejected.generation)), t0()).unwrap().after;
        assert_eq!(next.geometry, None, "a new photo has not been measured");
    }

    #[test]
    fn review_needs_pending_and_the_photo_the_reviewer_saw() {
        let p = pending();
        let approve = |photo| ReviewDecision { photo_id: photo, decision: Decision::Approve, reasons: &[], note: Some("ok"), reviewer: "rev1" };
        assert!(matches!(review(Some(&p), &approve(Some("t0")), t0()), Err(ReviewError::PhotoChanged)));
        let done = review(Some(&p), &approve(Some("t1")), t0()).unwrap();
        assert_eq!((done.after.status, done.after.reviewed_at, done.event.note.as_deref()), (Status::Approved, Some(t0()), Some("ok")));
        assert!(matches!(review(Some(&done.after), &approve(None), t0()), Err(ReviewError::NotPending(Status::Approved))));
        assert!(matches!(review(None, &approve(None), t0()), Err(ReviewError::UnknownStudent)));
    }

    #[test]
    fn every_transition_bumps_the_version_by_one() {
        let p = pending();
        assert_eq!(p.version, 9);
        let reasons = [Reason::new("other", "其他")];
        let d = ReviewDecision { photo_id: None, decision: Decision::Reject, reasons: &reasons, note: None, reviewer: "r" };
        assert_eq!(review(Some(&p), &d, t0()).unwrap().after.version, 10);
    }

    fn uploaded() -> Student {
        claim(Some(&student(Status::NotUploaded)), Some(&ticket("t1", 3)), t0()).unwrap().after
    }

    fn clean() -> CheckOutcome {
        CheckOutcome { policy: ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent: 0 }, ..Default::default() }
    }

    #[test]
    fn the_policy_approves_only_clean_unsampled_photos_of_students_no_person_rejected() {
        let u = uploaded();
        let auto = record_check(Some(&u), "t1", &clean(), t0()).unwrap();
        assert_eq!((auto.after.status, auto.after.decided_by, auto.event.actor.as_str()), (Status::Approved, Some(DecidedBy::Auto), ACTOR_AUTO));
        assert_eq!(auto.after.reviewed_at, Some(t0()));
        let none = CheckOutcome::default();
        assert_eq!(record_check(Some(&u), "t1", &none, t0()).unwrap().after.status, Status::PendingReview, "default policy: a person");
        let flagged = CheckOutcome { flags: vec![Reason::new("phone_photo", "手机")], ..clean() };
        let f = record_check(Some(&u), "t1", &flagged, t0()).unwrap().after;
        assert_eq!((f.status, f.decided_by, f.reasons.len(), f.flags.len()), (Status::PendingReview, Some(DecidedBy::Check), 0, 1), "flags kept apart");
        let all = CheckOutcome { policy: ReviewPolicy { sample_percent: 100, ..clean().policy }, ..clean() };
        assert_eq!(record_check(Some(&u), "t1", &all, t0()).unwrap().after.status, Status::PendingReview, "a 100 % sample");
        let once_rejected = Student { review_required: true, ..u.clone() };
        assert_eq!(record_check(Some(&once_rejected), "t1", &clean(), t0()).unwrap().after.status, Status::PendingReview);
    }

    #[test]
    fn the_sample_is_stable_and_near_its_share() {
        let policy = ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent: 5 };
        let hits = (0..10_000).filter(|i| sampled(&StudentId::parse(&format!("J{i}")).unwrap(), "t-1", policy)).count();
        assert!((400..=600).contains(&hits), "{hits} of 10000 sampled at 5 %");
        let id = StudentId::parse("J42").unwrap();
        assert_eq!(sampled(&id, "t-9", policy), sampled(&id, "t-9", policy));
        assert!(!sampled(&id, "t-9", ReviewPolicy { sample_percent: 0, ..policy }));
    }

    #[test]
    fn only_a_checks_judgement_is_appealable_once_and_approval_records_what_was_overruled() {
        let u = uploaded();
        let by_check = |codes: &[&str]| {
            let rej = CheckOutcome { rejections: codes.iter().map(|c| Reason::new(*c, "x")).collect(), ..Default::default() };
            record_check(Some(&u), "t1", &rej, t0()).unwrap().after
        };
        let req = |photo| AppealRequest { photo_id: photo, note: Some("白色背景，灯光偏暗"), by: "teacher1", school_id: Some("s1") };
        let rejected = by_check(&["background_not_white", "head_too_small"]);
        assert!(appealable(&rejected));
        assert!(!appealable(&by_check(&["background_not_white", "wrong_size"])), "a file rule is never appealable");
        assert!(matches!(appeal(Some(&rejected), &req("t0"), t0()), Err(AppealError::PhotoChanged)));
        let other_school = AppealRequest { school_id: Some("s2"), ..req("t1") };
        assert!(matches!(appeal(Some(&rejected), &other_school, t0()), Err(AppealError::UnknownStudent)));
        let appealed = appeal(Some(&rejected), &req("t1"), t0()).unwrap();
        assert_eq!((appealed.after.status, appealed.after.decided_by, appealed.after.reasons.len()), (Status::PendingReview, None, 2));
        assert_eq!(appealed.event.note.as_deref(), Some("白色背景，灯光偏暗"));
        let approve = ReviewDecision { photo_id: Some("t1"), decision: Decision::Approve, reasons: &[], note: None, reviewer: "rev1" };
        let approved = review(Some(&appealed.after), &approve, t0()).unwrap();
        assert_eq!(approved.event.overruled, vec!["background_not_white".to_owned(), "head_too_small".to_owned()]);
        assert_eq!(approved.after.appeal.as_ref().unwrap().overruled, approved.event.overruled);
        assert!(approved.after.reasons.is_empty());
        let reasons = [Reason::new("other", "其他")];
        let reject = ReviewDecision { decision: Decision::Reject, reasons: &reasons, ..approve };
        let refused = review(Some(&appealed.after), &reject, t0()).unwrap().after;
        assert!(!appealable(&refused), "a person's rejection is not appealable");
        assert!(matches!(appeal(Some(&refused), &req("t1"), t0()), Err(AppealError::NotAppealable(Status::Rejected))));
        assert!(refused.review_required, "the next photo goes to a person");
        let auto = record_check(Some(&u), "t1", &clean(), t0()).unwrap().after;
        assert!(matches!(appeal(Some(&auto), &req("t1"), t0()), Err(AppealError::NotAppealable(Status::Approved))), "auto-approval and an appeal cannot both land");
    }

    #[test]
    fn the_bureau_reopens_only_approved_photos_and_the_school_may_upload_again() {
        let p = pending();
        let approve = ReviewDecision { photo_id: None, decision: Decision::Approve, reasons: &[], note: None, reviewer: "rev1" };
        let approved = review(Some(&p), &approve, t0()).unwrap().after;
        let reasons = [Reason::new("wrong_person", "照片与学生信息不符")];
        assert!(matches!(reopen(Some(&p), &reasons, None, "bureau", t0()), Err(ReopenError::NotApproved(Status::PendingReview))));
        let back = reopen(Some(&approved), &reasons, Some("家长反映非本人"), "bureau", t0()).unwrap();
        assert_eq!((back.after.status, back.after.decided_by, back.event.actor.as_str()), (Status::Rejected, Some(DecidedBy::Reviewer), "bureau"));
        assert!(may_upload(&back.after).is_ok());
        assert!(!appealable(&back.after));
    }
}
