//! Review decisions, the queue, approved listings and the audit trail.

use crate::fixture::*;
use gradphoto_core::ports::{QueueFilter, ReviewError};
use gradphoto_core::{Decision, Reason, Status, Student, StudentId};

pub async fn review_only_from_pending(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班")]).await;
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    pending(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(0), u.hash()).await;
    r.review(&u.student(3), None, Decision::Approve, &[], None, "rev1", at_min(5)).await.expect("approve");
    upload(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(0)).await;
    decide(r, &u.student(4), &u.ticket(4), &failed(None, &[("blurry", "模糊")]), at_min(1)).await;
    for (k, status) in [(1, Status::NotUploaded), (2, Status::Uploaded), (3, Status::Approved), (4, Status::Rejected)] {
        for decision in [Decision::Approve, Decision::Reject] {
            let before = must_student(r, &u.student(k)).await;
            match r.review(&u.student(k), None, decision, &[Reason::new("background", "背景")], None, "rev2", at_min(9)).await {
                Err(ReviewError::NotPending(s)) => assert_eq!(s, status),
                other => panic!("reviewing a {status:?} student must fail NotPending, got {other:?}"),
            }
            assert_eq!(must_student(r, &u.student(k)).await, before, "a refused review changes nothing");
        }
    }
    assert!(matches!(r.review(&u.student(99), None, Decision::Approve, &[], None, "rev", at_min(9)).await, Err(ReviewError::UnknownStudent)));
    // A second reviewer racing the first: the decision is made once.
    pending(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(1), u.hash() ^ 3).await;
    let first = r.review(&u.student(1), None, Decision::Approve, &[], None, "rev1", at_min(10)).await;
    let second = r.review(&u.student(1), None, Decision::Reject, &[Reason::new("glasses", "眼镜")], None, "rev2", at_min(10)).await;
    assert!(first.is_ok());
    assert!(matches!(second, Err(ReviewError::NotPending(Status::Approved))), "the second decision is refused: {second:?}");
}

pub async fn review_sets_status_reasons_and_time(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let p1 = pending(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0), u.hash()).await;
    let approved = r.review(&u.student(1), None, Decision::Approve, &[], Some("清晰"), "rev1", at_min(7)).await.expect("approve");
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.reviewed_at, Some(at_min(7)));
    assert!(approved.reasons.is_empty());
    assert_eq!((approved.photo_key.clone(), approved.generation, approved.uploaded_at, approved.photo_hash), (p1.photo_key, p1.generation, p1.uploaded_at, p1.photo_hash), "the photo is untouched");
    assert_eq!(must_student(r, &u.student(1)).await, approved, "the returned record is the stored one");

    // Flags from the check are replaced by the reviewer's reasons.
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    decide(r, &u.student(2), &u.ticket(2), &passed(u.hash() ^ 0xf0f0, &[("phone_photo", "疑似翻拍")]), at_min(1)).await;
    let reasons = vec![Reason::new("background", "背景不是纯色"), Reason::new("glasses", "眼镜反光")];
    let rejected = r.review(&u.student(2), None, Decision::Reject, &reasons, Some("请重拍"), "rev2", at_min(8)).await.expect("reject");
    assert_eq!(rejected.status, Status::Rejected);
    assert_eq!(rejected.reasons, reasons);
    assert_eq!(rejected.reviewed_at, Some(at_min(8)));
    assert_eq!(must_student(r, &u.student(2)).await, rejected);
}

fn ids(v: Vec<Student>) -> Vec<StudentId> {
    v.into_iter().map(|s| s.student_id).collect()
}

pub async fn review_queue_oldest_first_with_filters(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let (d1, d2) = (u.district(1), u.district(2));
    let a = school_with(r, &u, 1, &d1, &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班"), (5, "1班")]).await;
    let b = school_with(r, &u, 2, &d1, &[(11, "1班"), (12, "1班")]).await;
    let c = school_with(r, &u, 3, &d2, &[(21, "1班")]).await;
    let h = u.hash();
    // Upload times interleave the schools; ids are deliberately not in time order.
    for (school, k, minute) in [(&a, 3, 1), (&b, 12, 2), (&a, 1, 3), (&c, 21, 4), (&a, 5, 5), (&b, 11, 6)] {
        pending(r, &school.school_id, &u.student(k), &u.ticket(k), at_min(minute), h ^ (u64::from(k) << 20)).await;
    }
    // Not in the queue: uploaded but unchecked, rejected by the check, approved.
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    upload(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(0)).await;
    decide(r, &u.student(4), &u.ticket(4), &failed(None, &[("blurry", "模糊")]), at_min(0)).await;
    r.review(&u.student(5), None, Decision::Approve, &[], None, "rev", at_min(30)).await.expect("approve");

    let q = |district: Option<&str>, school: Option<&str>, limit: u32| QueueFilter { district: district.map(Into::into), school_id: school.map(Into::into), limit };
    let all = mine(&u, ids(r.review_queue(&q(None, None, 0)).await.expect("queue")));
    assert_eq!(all, vec![u.student(3), u.student(12), u.student(1), u.student(21), u.student(11)], "oldest upload first, only pending");
    assert_eq!(ids(r.review_queue(&q(Some(&d1), None, 0)).await.expect("queue")), vec![u.student(3), u.student(12), u.student(1), u.student(11)], "district filter");
    assert_eq!(ids(r.review_queue(&q(Some(&d2), None, 0)).await.expect("queue")), vec![u.student(21)]);
    assert_eq!(ids(r.review_queue(&q(None, Some(&b.school_id), 0)).await.expect("queue")), vec![u.student(12), u.student(11)], "school filter");
    assert_eq!(ids(r.review_queue(&q(Some(&d1), None, 2)).await.expect("queue")), vec![u.student(3), u.student(12)], "limit keeps the oldest");
    assert_eq!(ids(r.review_queue(&q(Some(&d1), Some(&a.school_id), 1)).await.expect("queue")), vec![u.student(3)], "both filters and a limit");
    assert!(r.review_queue(&q(Some(&d2), Some(&a.school_id), 0)).await.expect("queue").is_empty(), "filters combine with AND");
    let first = r.review_queue(&q(None, Some(&a.school_id), 1)).await.expect("queue");
    assert_eq!(first.first().map(|s| (s.status, s.uploaded_at)), Some((Status::PendingReview, Some(at_min(1)))));
    // Deciding removes from the queue.
    r.review(&u.student(3), None, Decision::Reject, &[Reason::new("glasses", "眼镜")], None, "rev", at_min(31)).await.expect("reject");
    assert_eq!(ids(r.review_queue(&q(Some(&d1), None, 1)).await.expect("queue")), vec![u.student(12)]);
}

pub async fn approved_listing(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "2班")]).await;
    let b = school_with(r, &u, 2, &u.district(1), &[(11, "1班"), (12, "1班")]).await;
    let h = u.hash();
    for (school, k) in [(&a, 4), (&a, 1), (&a, 2), (&b, 12), (&b, 11)] {
        pending(r, &school.school_id, &u.student(k), &u.ticket(k), at_min(i64::from(k)), h ^ (u64::from(k) << 30)).await;
    }
    for k in [4, 1, 12, 11] {
        r.review(&u.student(k), None, Decision::Approve, &[], None, "rev", at_min(40)).await.expect("approve");
    }
    r.review(&u.student(2), None, Decision::Reject, &[Reason::new("background", "背景")], None, "rev", at_min(40)).await.expect("reject");
    let of_a = r.approved(Some(&a.school_id)).await.expect("approved");
    assert_eq!(ids(of_a.clone()), vec![u.student(1), u.student(4)], "one school's approved, by id");
    assert!(of_a.iter().all(|s| s.status == Status::Approved && s.photo_key.is_some()));
    let all = mine(&u, ids(r.approved(None).await.expect("approved")));
    assert_eq!(all, vec![u.student(1), u.student(4), u.student(11), u.student(12)], "all schools, by school then id");
    assert!(r.approved(Some(&u.school_id(9))).await.expect("approved").is_empty());
}

pub async fn audit_trail_of_a_full_journey(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let stale = issue(r, &a.school_id, &id, &u.ticket(9), at_min(0)).await;
    // Upload, pass with a flag, reviewer rejects with a note.
    upload(r, &a.school_id, &id, &u.ticket(1), at_min(1)).await;
    decide(r, &id, &u.ticket(1), &passed(u.hash(), &[("phone_photo", "疑似翻拍")]), at_min(2)).await;
    r.review(&id, None, Decision::Reject, &[Reason::new("glasses", "眼镜反光")], Some("请摘掉眼镜重拍"), "reviewer7", at_min(3)).await.expect("reject");
    // Losers and duplicates leave no trace.
    r.claim_upload(&id, &stale.ticket_id, at_min(4)).await.expect("claim");
    r.record_check(&id, &u.ticket(1), &passed(u.hash(), &[]), at_min(4)).await.expect("record_check");
    // Upload again, rejected by the check; once more, passed and approved.
    upload(r, &a.school_id, &id, &u.ticket(2), at_min(5)).await;
    decide(r, &id, &u.ticket(2), &failed(None, &[("too_small", "尺寸过小"), ("not_jpeg", "格式")]), at_min(6)).await;
    upload(r, &a.school_id, &id, &u.ticket(3), at_min(7)).await;
    decide(r, &id, &u.ticket(3), &passed(u.hash() ^ 1, &[]), at_min(8)).await;
    r.review(&id, None, Decision::Approve, &[], None, "reviewer8", at_min(9)).await.expect("approve");

    let trail = r.audit_trail(&id).await.expect("audit trail");
    let got: Vec<(i64, &str, Status, Status, Vec<&str>, Option<&str>)> = trail
        .iter()
        .map(|e| {
            assert_eq!(e.student_id, id);
            ((e.at - t0()).num_minutes(), e.actor.as_str(), e.from, e.to, e.reasons.iter().map(String::as_str).collect(), e.note.as_deref())
        })
        .collect();
    use Status::*;
    let expected: Vec<(i64, &str, Status, Status, Vec<&str>, Option<&str>)> = vec![
        (1, TEACHER, NotUploaded, Uploaded, vec![], None),
        // Soft flags are not reasons (contract v2): the trail's reasons are why a photo was rejected.
        (2, "check", Uploaded, PendingReview, vec![], None),
        (3, "reviewer7", PendingReview, Rejected, vec!["glasses"], Some("请摘掉眼镜重拍")),
        (5, TEACHER, Rejected, Uploaded, vec![], None),
        (6, "check", Uploaded, Rejected, vec!["too_small", "not_jpeg"], None),
        (7, TEACHER, Rejected, Uploaded, vec![], None),
        (8, "check", Uploaded, PendingReview, vec![], None),
        (9, "reviewer8", PendingReview, Approved, vec![], None),
    ];
    assert_eq!(got, expected, "every status change, in order, with actor, reasons and note");
    assert!(r.audit_trail(&u.student(99)).await.expect("audit trail").is_empty());
}

pub async fn review_of_a_replaced_photo_is_refused(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let first = pending(r, &a.school_id, &id, &u.ticket(1), at_min(0), u.hash()).await;
    assert_eq!(first.photo_id().as_deref(), Some(u.ticket(1).as_str()), "photo_id is the winning upload's ticket");
    // Reviewer A opens the photo; reviewer B rejects it; the school uploads a new one, which
    // passes the check. A's decision, made on the first photo, must not land on the second.
    r.review(&id, first.photo_id().as_deref(), Decision::Reject, &[Reason::new("glasses", "眼镜")], None, "revB", at_min(2)).await.expect("B rejects");
    let second = pending(r, &a.school_id, &id, &u.ticket(2), at_min(3), u.hash() ^ 0xff).await;
    for decision in [Decision::Approve, Decision::Reject] {
        match r.review(&id, first.photo_id().as_deref(), decision, &[Reason::new("glasses", "眼镜")], None, "revA", at_min(4)).await {
            Err(ReviewError::PhotoChanged) => {}
            other => panic!("a decision on a replaced photo must fail PhotoChanged, got {other:?}"),
        }
    }
    assert_eq!(must_student(r, &id).await, second, "the refused decision changed nothing");
    let approved = r.review(&id, second.photo_id().as_deref(), Decision::Approve, &[], None, "revA", at_min(5)).await.expect("approve the new photo");
    assert_eq!((approved.status, approved.photo_key), (Status::Approved, second.photo_key));
    let trail = r.audit_trail(&id).await.expect("audit");
    assert_eq!(trail.iter().filter(|e| e.actor == "revA").count(), 1, "one decision by A, on the photo A saw");
}

/// Every write of a student moves its version on by one, and a decision racing a roster rename
/// neither loses the rename nor is lost itself: each write is conditional on what it read.
pub async fn every_write_moves_the_version_and_a_rename_survives_a_review(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let fresh = must_student(r, &id).await;
    let uploaded = upload(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    assert_eq!(uploaded.version, fresh.version + 1, "a won claim is one write");
    let checked = decide(r, &id, &u.ticket(1), &passed(u.hash(), &[]), at_min(1)).await;
    assert_eq!(checked.version, fresh.version + 2, "a recorded check is one write");
    let renamed = row(&a.school_id, &id, "新名字", "2班");
    let photo = checked.photo_id();
    let (review, import) = tokio::join!(
        r.review(&id, photo.as_deref(), Decision::Approve, &[], None, "rev1", at_min(2)),
        r.import_roster(std::slice::from_ref(&renamed)),
    );
    review.expect("the review lands despite the rename");
    assert_eq!(import.expect("the rename lands despite the review"), (0, 1));
    let after = must_student(r, &id).await;
    assert_eq!((after.status, after.name.as_str(), after.class.as_str()), (Status::Approved, "新名字", "2班"), "both writes kept: {after:?}");
    assert_eq!(after.version, fresh.version + 4, "review and rename are one write each");
}
