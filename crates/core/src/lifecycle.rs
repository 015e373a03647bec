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
//! | `uploaded` → `pending_review` / `rejected` | only the current photo, only once | [`record_check`] |
//! | `pending_review` → `approved` / `rejected` | only `pending_review`, only the photo the reviewer saw | [`review`] |

use crate::domain::{AuditEvent, Decision, Reason, RosterRow, Status, Student, Ticket};
use crate::ports::{CheckOutcome, ClaimLost, ReviewError, TicketError};
use chrono::{DateTime, Utc};

/// Who the audit trail names for the automatic check's decisions.
pub const ACTOR_CHECK: &str = "check";

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
        };
        Self { before: before.clone(), after, event }
    }

    /// The version the stored student must still have for this transition to be written.
    pub fn expected_version(&self) -> u64 {
        self.before.version
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
        ..before.clone()
    };
    Ok(Transition::new(before, after, &ticket.issued_by, None, now))
}

/// Why a check's outcome was not recorded: the photo was already decided (a repeated
/// delivery) or is no longer the student's current one (a stale ticket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotCurrent;

/// The automatic check's decision on the photo of `ticket_id`.
pub fn record_check(student: Option<&Student>, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<Transition, NotCurrent> {
    let before = student.ok_or(NotCurrent)?;
    if before.status != Status::Uploaded || before.photo_id().as_deref() != Some(ticket_id) {
        return Err(NotCurrent);
    }
    let after = Student { status: outcome.status(), reasons: outcome.reasons(), photo_hash: outcome.photo_hash, ..before.clone() };
    Ok(Transition::new(before, after, ACTOR_CHECK, None, now))
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
    let status = match d.decision {
        Decision::Approve => Status::Approved,
        Decision::Reject => Status::Rejected,
    };
    let after = Student { status, reasons: d.reasons.to_vec(), reviewed_at: Some(now), ..before.clone() };
    Ok(Transition::new(before, after, d.reviewer, d.note, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StudentId;
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
        }
    }

    fn pending() -> Student {
        let won = claim(Some(&student(Status::NotUploaded)), Some(&ticket("t1", 3)), t0()).unwrap().after;
        record_check(Some(&won), "t1", &CheckOutcome { rejections: vec![], flags: vec![], photo_hash: Some(9) }, t0()).unwrap().after
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
        let bad = CheckOutcome { rejections: vec![Reason::new("blurry", "模糊")], flags: vec![], photo_hash: None };
        let decided = record_check(Some(&uploaded), "t1", &bad, t0()).unwrap();
        assert_eq!((decided.after.status, decided.event.actor.as_str()), (Status::Rejected, ACTOR_CHECK));
        assert_eq!(decided.event.reasons, vec!["blurry".to_owned()]);
        assert_eq!(record_check(Some(&decided.after), "t1", &bad, t0()), Err(NotCurrent), "a repeated delivery");
        assert_eq!(record_check(Some(&uploaded), "t0", &bad, t0()), Err(NotCurrent), "a stale ticket");
        assert_eq!(record_check(None, "t1", &bad, t0()), Err(NotCurrent));
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
}
