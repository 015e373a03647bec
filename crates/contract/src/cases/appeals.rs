//! Contract v2's transitions beyond the first review: appeals of the check's judgement, the
//! campaign's auto-approval policy, and the bureau reopening an approved photo.

use crate::fixture::*;
use gradphoto_core::lifecycle::{ACTOR_AUTO, AppealRequest};
use gradphoto_core::ports::{AppealError, CheckOutcome, Claim, ClaimLost, ReopenError, TicketError};
use gradphoto_core::{AutoApprove, DecidedBy, Decision, Reason, ReviewPolicy, Status, StudentId};
use std::sync::Arc;

fn appeal_of<'a>(photo_id: &'a str, school_id: &'a str) -> AppealRequest<'a> {
    AppealRequest { photo_id, note: Some("背景是白色幕布，只是灯光偏暗"), by: TEACHER, school_id: Some(school_id) }
}

fn judged(hash: Option<u64>) -> CheckOutcome {
    failed(hash, &[("background_not_white", "背景不是白色"), ("too_dark", "照片过暗")])
}

fn clean_policy(sample_percent: u8) -> ReviewPolicy {
    ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent }
}

pub async fn appeal_only_a_checks_judgement_once(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班")]).await;
    let b = school_with(r, &u, 2, &u.district(1), &[]).await;
    let id = u.student(1);
    upload(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    let rejected = decide(r, &id, &u.ticket(1), &judged(Some(u.hash())), at_min(1)).await;
    assert_eq!((rejected.status, rejected.decided_by), (Status::Rejected, Some(DecidedBy::Check)));

    // Refusals change nothing: another school, another photo.
    let t1 = u.ticket(1);
    let other_school = appeal_of(&t1, &b.school_id);
    assert!(matches!(r.appeal(&id, &other_school, at_min(2)).await, Err(AppealError::UnknownStudent)));
    assert!(matches!(r.appeal(&id, &appeal_of(&u.ticket(9), &a.school_id), at_min(2)).await, Err(AppealError::PhotoChanged)));
    assert!(matches!(r.appeal(&u.student(99), &appeal_of(&u.ticket(1), &a.school_id), at_min(2)).await, Err(AppealError::UnknownStudent)));
    assert_eq!(must_student(r, &id).await, rejected, "a refused appeal changes nothing");

    let appealed = r.appeal(&id, &appeal_of(&u.ticket(1), &a.school_id), at_min(2)).await.expect("appeal");
    assert_eq!((appealed.status, appealed.decided_by), (Status::PendingReview, None));
    assert_eq!(appealed.reasons, rejected.reasons, "the check's reasons stay as the reviewer's findings");
    let appeal = appealed.appeal.clone().expect("appeal recorded");
    assert_eq!((appeal.note.as_deref(), appeal.at, appeal.by.as_str()), (Some("背景是白色幕布，只是灯光偏暗"), at_min(2), TEACHER));
    assert_eq!(must_student(r, &id).await, appealed);
    assert_eq!(r.counts(&a.school_id).await.expect("counts").pending_review, 1, "counters follow the appeal");
    assert!(matches!(r.appeal(&id, &appeal_of(&u.ticket(1), &a.school_id), at_min(3)).await, Err(AppealError::NotAppealable(Status::PendingReview))));
    let queued: Vec<StudentId> = r.review_queue(&gradphoto_core::ports::QueueFilter { school_id: Some(a.school_id.clone()), ..Default::default() }).await.expect("queue").into_iter().map(|s| s.student_id).collect();
    assert_eq!(queued, vec![id.clone()], "an appealed photo waits for a person");

    // Approving it records what the person overruled, on the record and in the trail.
    let approved = r.review(&id, Some(&u.ticket(1)), Decision::Approve, &[], None, "rev1", at_min(4)).await.expect("approve");
    assert_eq!((approved.status, approved.decided_by), (Status::Approved, Some(DecidedBy::Reviewer)));
    assert_eq!(approved.appeal.as_ref().map(|a| a.overruled.clone()), Some(vec!["background_not_white".to_owned(), "too_dark".to_owned()]));
    let trail = r.audit_trail(&id).await.expect("trail");
    let last = trail.last().expect("events");
    assert_eq!((last.actor.as_str(), last.overruled.clone()), ("rev1", vec!["background_not_white".to_owned(), "too_dark".to_owned()]));
    let appeal_event = &trail[trail.len() - 2];
    assert_eq!((appeal_event.actor.as_str(), appeal_event.from, appeal_event.to), (TEACHER, Status::Rejected, Status::PendingReview));
    assert_eq!(appeal_event.note.as_deref(), Some("背景是白色幕布，只是灯光偏暗"));

    // A file rule is never appealable; nor is a person's rejection of an appealed photo.
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    decide(r, &u.student(2), &u.ticket(2), &failed(None, &[("wrong_size", "尺寸"), ("too_dark", "暗")]), at_min(1)).await;
    assert!(matches!(r.appeal(&u.student(2), &appeal_of(&u.ticket(2), &a.school_id), at_min(2)).await, Err(AppealError::NotAppealable(Status::Rejected))));
    upload(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(0)).await;
    decide(r, &u.student(3), &u.ticket(3), &judged(None), at_min(1)).await;
    r.appeal(&u.student(3), &appeal_of(&u.ticket(3), &a.school_id), at_min(2)).await.expect("appeal");
    let refused = r.review(&u.student(3), None, Decision::Reject, &[Reason::new("too_dark", "过暗")], None, "rev1", at_min(3)).await.expect("reject");
    assert_eq!((refused.decided_by, refused.review_required), (Some(DecidedBy::Reviewer), true));
    assert!(matches!(r.appeal(&u.student(3), &appeal_of(&u.ticket(3), &a.school_id), at_min(4)).await, Err(AppealError::NotAppealable(Status::Rejected))));
}

pub async fn appeal_racing_a_reupload_has_one_winner(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let rows: Vec<(u32, &str)> = (1..=8).map(|k| (k, "1班")).collect();
    let a = school_with(r, &u, 1, &u.district(1), &rows).await;
    for k in 1..=8 {
        let id = u.student(k);
        upload(r, &a.school_id, &id, &u.ticket(k), at_min(0)).await;
        decide(r, &id, &u.ticket(k), &judged(None), at_min(1)).await;
        let again = format!("{}-again", u.ticket(k));
        issue(r, &a.school_id, &id, &again, at_min(2)).await;
        let (records, school) = (Arc::clone(&fx.records), a.school_id.clone());
        let (appeal_id, claim_id, first) = (id.clone(), id.clone(), u.ticket(k));
        let appeal = tokio::spawn(async move { records.appeal(&appeal_id, &appeal_of(&first, &school), at_min(3)).await });
        let records = Arc::clone(&fx.records);
        let claim = tokio::spawn(async move { records.claim_upload(&claim_id, &again, at_min(3)).await });
        let (appeal, claim) = (appeal.await.expect("appeal task"), claim.await.expect("claim task").expect("claim"));
        let s = must_student(r, &id).await;
        match (appeal, claim) {
            (Ok(_), Claim::Lost(ClaimLost::Superseded)) => assert_eq!(s.status, Status::PendingReview),
            (Err(AppealError::PhotoChanged | AppealError::NotAppealable(_)), Claim::Won(_)) => assert_eq!(s.status, Status::Uploaded),
            (appeal, claim) => panic!("exactly one of an appeal and a re-upload lands, got {appeal:?} and {claim:?}"),
        }
        let trail = r.audit_trail(&id).await.expect("trail");
        assert_eq!(trail.len(), 3, "upload, check, then one winner: {trail:?}");
        for pair in trail.windows(2) {
            assert_eq!(pair[0].to, pair[1].from, "the audit chain is unbroken");
        }
        assert_eq!(trail.last().map(|e| e.to), Some(s.status));
    }
}

pub async fn review_policy_approves_clean_photos_and_sends_the_rest_to_a_person(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班"), (5, "1班")]).await;
    let h = u.hash();
    let with = |outcome: CheckOutcome, policy| CheckOutcome { policy, ..outcome };
    // Clean under `clean`: approved by the policy.
    upload(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    let auto = decide(r, &u.student(1), &u.ticket(1), &with(passed(h, &[]), clean_policy(0)), at_min(1)).await;
    assert_eq!((auto.status, auto.decided_by, auto.reviewed_at), (Status::Approved, Some(DecidedBy::Auto), Some(at_min(1))));
    assert_eq!(r.audit_trail(&u.student(1)).await.expect("trail").last().map(|e| e.actor.clone()), Some(ACTOR_AUTO.to_owned()));
    assert!(r.approved(Some(&a.school_id)).await.expect("approved").iter().any(|s| s.student_id == u.student(1)), "exported like any approval");
    // A flag, the sample, or the default policy: a person.
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    let flagged = decide(r, &u.student(2), &u.ticket(2), &with(passed(h ^ 1, &[("phone_photo", "手机")]), clean_policy(0)), at_min(1)).await;
    assert_eq!((flagged.status, flagged.decided_by), (Status::PendingReview, Some(DecidedBy::Check)));
    upload(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(0)).await;
    assert_eq!(decide(r, &u.student(3), &u.ticket(3), &with(passed(h ^ 2, &[]), clean_policy(100)), at_min(1)).await.status, Status::PendingReview, "sampled");
    upload(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(0)).await;
    assert_eq!(decide(r, &u.student(4), &u.ticket(4), &passed(h ^ 3, &[]), at_min(1)).await.status, Status::PendingReview, "default: none");
    // After a person's rejection every later photo goes to a person.
    r.review(&u.student(4), None, Decision::Reject, &[Reason::new("not_recent", "近期")], None, "rev1", at_min(2)).await.expect("reject");
    upload(r, &a.school_id, &u.student(4), &u.ticket(14), at_min(3)).await;
    let again = decide(r, &u.student(4), &u.ticket(14), &with(passed(h ^ 4, &[]), clean_policy(0)), at_min(4)).await;
    assert_eq!(again.status, Status::PendingReview, "a re-upload after a person's rejection");
    // An auto-approved photo cannot be appealed (nothing to appeal) and the counters agree.
    assert!(matches!(r.appeal(&u.student(1), &appeal_of(&u.ticket(1), &a.school_id), at_min(5)).await, Err(AppealError::NotAppealable(Status::Approved))));
    let c = r.counts(&a.school_id).await.expect("counts");
    assert_eq!((c.approved, c.pending_review, c.not_uploaded), (1, 3, 1));
}

pub async fn reopen_sends_an_approved_photo_back_to_the_school(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let id = u.student(1);
    pending(r, &a.school_id, &id, &u.ticket(1), at_min(0), u.hash()).await;
    let reasons = [Reason::new("wrong_person", "照片与学生信息不符")];
    assert!(matches!(r.reopen(&id, &reasons, None, "bureau", at_min(1)).await, Err(ReopenError::NotApproved(Status::PendingReview))));
    assert!(matches!(r.reopen(&u.student(99), &reasons, None, "bureau", at_min(1)).await, Err(ReopenError::UnknownStudent)));
    r.review(&id, None, Decision::Approve, &[], None, "rev1", at_min(2)).await.expect("approve");
    let back = r.reopen(&id, &reasons, Some("家长反映不是本人"), "bureau", at_min(3)).await.expect("reopen");
    assert_eq!((back.status, back.decided_by, back.reasons.clone(), back.reviewed_at), (Status::Rejected, Some(DecidedBy::Reviewer), reasons.to_vec(), Some(at_min(3))));
    assert_eq!(must_student(r, &id).await, back);
    assert!(r.approved(Some(&a.school_id)).await.expect("approved").is_empty(), "the export leaves it out");
    let last = r.audit_trail(&id).await.expect("trail").pop().expect("event");
    assert_eq!((last.actor.as_str(), last.from, last.to, last.note.as_deref()), ("bureau", Status::Approved, Status::Rejected, Some("家长反映不是本人")));
    assert!(matches!(r.reopen(&id, &reasons, None, "bureau", at_min(4)).await, Err(ReopenError::NotApproved(Status::Rejected))));
    // The school may upload again; that photo goes to a person whatever the policy.
    upload(r, &a.school_id, &id, &u.ticket(2), at_min(5)).await;
    let next = decide(r, &id, &u.ticket(2), &CheckOutcome { policy: clean_policy(0), ..passed(u.hash() ^ 9, &[]) }, at_min(6)).await;
    assert_eq!(next.status, Status::PendingReview);
    assert!(!matches!(r.issue_ticket(&ticket(&a.school_id, &id, "late", at_min(7))).await, Ok(_)), "no upload while in review");
    assert!(matches!(r.issue_ticket(&ticket(&a.school_id, &id, "late", at_min(7))).await, Err(TicketError::AlreadyUploaded(Status::PendingReview))));
}
