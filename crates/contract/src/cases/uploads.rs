//! Tickets, claims (one winner per generation), check results, stuck uploads, near-duplicates.

use crate::fixture::*;
use chrono::Duration;
use gradphoto_core::ports::{CheckRecorded, Claim, ClaimLost, TicketError};
use gradphoto_core::{Decision, ObjectKey, Reason, Status, Ticket};
use std::sync::Arc;

pub async fn tickets_only_when_upload_allowed(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班"), (5, "1班")]).await;
    let b = school_with(r, &u, 2, &u.district(1), &[(9, "1班")]).await;

    // The caller's generation is replaced by the student's; the rest is stored as given.
    let mut t = ticket(&a.school_id, &u.student(1), &u.ticket(1), at_min(0));
    t.generation = 7;
    let issued = r.issue_ticket(&t).await.expect("issue for a new student");
    assert_eq!(issued, gradphoto_core::Ticket { generation: 0, ..t }, "ticket as stored, with the student's generation");

    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    pending(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(0), u.hash()).await;
    pending(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(0), u.hash() ^ 1).await;
    r.review(&u.student(4), None, Decision::Approve, &[], None, "rev", at_min(5)).await.expect("approve");
    for (k, status) in [(2, Status::Uploaded), (3, Status::PendingReview), (4, Status::Approved)] {
        match r.issue_ticket(&ticket(&a.school_id, &u.student(k), &u.ticket(100 + k), at_min(10))).await {
            Err(TicketError::AlreadyUploaded(s)) => assert_eq!(s, status),
            other => panic!("a {status:?} student must not get a ticket, got {other:?}"),
        }
    }

    // Rejected (by the check or a reviewer) may upload again, in the next generation.
    upload(r, &a.school_id, &u.student(5), &u.ticket(5), at_min(0)).await;
    decide(r, &u.student(5), &u.ticket(5), &failed(None, &[("not_jpeg", "不是 JPEG")]), at_min(1)).await;
    let again = issue(r, &a.school_id, &u.student(5), &u.ticket(6), at_min(10)).await;
    assert_eq!(again.generation, 1, "a ticket after a rejection carries the new generation");
    r.review(&u.student(3), None, Decision::Reject, &[Reason::new("background", "背景不合格")], None, "rev", at_min(11)).await.expect("reject");
    assert_eq!(issue(r, &a.school_id, &u.student(3), &u.ticket(7), at_min(12)).await.generation, 1);

    assert!(matches!(r.issue_ticket(&ticket(&a.school_id, &u.student(88), &u.ticket(8), at_min(0))).await, Err(TicketError::UnknownStudent)));
    assert!(
        matches!(r.issue_ticket(&ticket(&a.school_id, &u.student(9), &u.ticket(9), at_min(0))).await, Err(TicketError::UnknownStudent)),
        "a student of another school ({}) is unknown to this one",
        b.school_id
    );
}

pub async fn claim_first_wins_second_superseded(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let t1 = issue(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    let t2 = issue(r, &a.school_id, &id, &u.ticket(2), at_min(1)).await;
    // The later ticket lands first: landing order decides, not issue order.
    let won = match r.claim_upload(&id, &t2.ticket_id, at_min(2)).await.expect("claim") {
        Claim::Won(s) => s,
        Claim::Lost(why) => panic!("first landing must win, lost {why:?}"),
    };
    assert_eq!(won.status, Status::Uploaded);
    assert_eq!(won.generation, 1, "a winning upload moves the generation on");
    assert_eq!(won.photo_key.as_deref(), Some(t2.object_key().as_str()), "the photo is the winning ticket's object");
    assert_eq!(won.uploaded_at, Some(at_min(2)), "uploaded_at is the landing time");
    assert!(won.reasons.is_empty());
    assert_eq!(must_student(r, &id).await, won, "the returned record is the stored one");
    assert_eq!(ObjectKey::parse(won.photo_key.as_deref().unwrap()).map(|k| k.ticket_id), Some(t2.ticket_id.clone()));

    match r.claim_upload(&id, &t1.ticket_id, at_min(3)).await.expect("claim") {
        Claim::Lost(ClaimLost::Superseded) => {}
        other => panic!("the second ticket of a generation must lose Superseded, got {other:?}"),
    }
    // A repeated delivery of the winner does not win twice.
    match r.claim_upload(&id, &t2.ticket_id, at_min(4)).await.expect("claim") {
        Claim::Lost(ClaimLost::Superseded) => {}
        other => panic!("a repeated claim must lose Superseded, got {other:?}"),
    }
    assert_eq!(must_student(r, &id).await, won, "losers change nothing");
}

pub async fn claim_expired_ticket_loses(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let t = issue(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    match r.claim_upload(&id, &t.ticket_id, t.expires_at + Duration::seconds(1)).await.expect("claim") {
        Claim::Lost(ClaimLost::Expired) => {}
        other => panic!("an expired ticket must lose Expired, got {other:?}"),
    }
    let s = must_student(r, &id).await;
    assert_eq!((s.status, s.generation, s.photo_key), (Status::NotUploaded, 0, None), "an expired claim changes nothing");
    // At its expiry instant the ticket is still good.
    assert!(matches!(r.claim_upload(&id, &t.ticket_id, t.expires_at).await.expect("claim"), Claim::Won(_)), "valid up to expires_at");
}

pub async fn claim_unknown_ticket_loses(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let t = issue(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    match r.claim_upload(&u.student(1), &u.ticket(99), at_min(1)).await.expect("claim") {
        Claim::Lost(ClaimLost::UnknownTicket) => {}
        other => panic!("an unknown ticket must lose UnknownTicket, got {other:?}"),
    }
    // A real ticket presented for another student is unknown for that student.
    match r.claim_upload(&u.student(2), &t.ticket_id, at_min(1)).await.expect("claim") {
        Claim::Lost(ClaimLost::UnknownTicket) => {}
        other => panic!("another student's ticket must lose UnknownTicket, got {other:?}"),
    }
    match r.claim_upload(&u.student(77), &t.ticket_id, at_min(1)).await.expect("claim") {
        Claim::Lost(ClaimLost::UnknownTicket) => {}
        other => panic!("an unknown student must lose UnknownTicket, got {other:?}"),
    }
    for k in [1, 2] {
        assert_eq!(must_student(r, &u.student(k)).await.status, Status::NotUploaded);
    }
}

pub async fn claim_old_generation_after_rejection_loses(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    // Two tabs: two tickets of generation 0; the first wins and is rejected by a reviewer.
    let t1 = issue(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    let stale = issue(r, &a.school_id, &id, &u.ticket(2), at_min(0)).await;
    assert!(matches!(r.claim_upload(&id, &t1.ticket_id, at_min(1)).await.expect("claim"), Claim::Won(_)));
    decide(r, &id, &t1.ticket_id, &passed(u.hash(), &[]), at_min(2)).await;
    r.review(&id, None, Decision::Reject, &[Reason::new("glasses", "佩戴眼镜反光")], None, "rev", at_min(3)).await.expect("reject");
    // The student may upload again, but the old tab's ticket is of a past generation.
    match r.claim_upload(&id, &stale.ticket_id, at_min(4)).await.expect("claim") {
        Claim::Lost(ClaimLost::Superseded) => {}
        other => panic!("an old-generation ticket must lose Superseded after a rejection, got {other:?}"),
    }
    let s = must_student(r, &id).await;
    assert_eq!((s.status, s.generation), (Status::Rejected, 1), "the stale claim changed nothing");
    // A fresh ticket wins, clears the review and the previous photo's findings.
    let t3 = issue(r, &a.school_id, &id, &u.ticket(3), at_min(5)).await;
    assert_eq!(t3.generation, 1);
    let won = match r.claim_upload(&id, &t3.ticket_id, at_min(6)).await.expect("claim") {
        Claim::Won(s) => s,
        Claim::Lost(why) => panic!("a fresh ticket after rejection must win, lost {why:?}"),
    };
    assert_eq!((won.status, won.generation), (Status::Uploaded, 2));
    assert_eq!(won.photo_key.as_deref(), Some(t3.object_key().as_str()));
    assert!(won.reasons.is_empty(), "reasons cleared by a new upload");
    assert_eq!(won.reviewed_at, None, "the old review does not apply to the new photo");
    assert_eq!(won.photo_hash, None, "the old photo's hash is gone");
    assert_eq!(won.uploaded_at, Some(at_min(6)));
    for old in [&t1, &stale] {
        assert!(
            matches!(r.claim_upload(&id, &old.ticket_id, at_min(7)).await.expect("claim"), Claim::Lost(ClaimLost::Superseded)),
            "{} is of a past generation",
            old.ticket_id
        );
    }
}

pub async fn concurrent_claims_have_one_winner(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    // 50 tickets of one generation landing at once (50 tabs, or retries).
    let id = u.student(1);
    let mut tickets = Vec::new();
    for n in 0..50 {
        tickets.push(issue(r, &a.school_id, &id, &u.ticket(n), at_min(0)).await.ticket_id);
    }
    let mut tasks = Vec::new();
    for t in tickets.clone() {
        let (records, id) = (Arc::clone(&fx.records), id.clone());
        tasks.push(tokio::spawn(async move { records.claim_upload(&id, &t, at_min(1)).await.map(|c| (t, c)) }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("claim task").expect("claim") {
            (t, Claim::Won(_)) => winners.push(t),
            (_, Claim::Lost(ClaimLost::Superseded)) => {}
            (t, Claim::Lost(why)) => panic!("{t} lost for the wrong reason: {why:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of 50 concurrent claims wins, winners: {winners:?}");
    let s = must_student(r, &id).await;
    assert_eq!((s.status, s.generation), (Status::Uploaded, 1), "one winner means one generation step");
    assert_eq!(s.photo_key.and_then(|k| ObjectKey::parse(&k)).map(|k| k.ticket_id), Some(winners[0].clone()), "the photo is the winner's");

    // The same ticket delivered 50 times at once (at-least-once notifications).
    let other = u.student(2);
    let t = issue(r, &a.school_id, &other, &u.ticket(100), at_min(0)).await.ticket_id;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (records, id, t) = (Arc::clone(&fx.records), other.clone(), t.clone());
        tasks.push(tokio::spawn(async move { records.claim_upload(&id, &t, at_min(1)).await }));
    }
    let mut won = 0;
    for task in tasks {
        if let Claim::Won(_) = task.await.expect("claim task").expect("claim") {
            won += 1;
        }
    }
    assert_eq!(won, 1, "a ticket delivered 50 times wins once");
    assert_eq!(must_student(r, &other).await.generation, 1);
    let trail = r.audit_trail(&other).await.expect("audit");
    assert_eq!(trail.len(), 1, "one winning claim, one audit event: {trail:?}");
}

pub async fn concurrent_issue_and_claim_have_one_winner(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    // 20 teachers' tabs each ask for a ticket and upload at once: tickets may be refused once
    // someone won, and exactly one upload wins.
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (records, id, school, t) = (Arc::clone(&fx.records), id.clone(), a.school_id.clone(), u.ticket(n));
        tasks.push(tokio::spawn(async move {
            match records.issue_ticket(&ticket(&school, &id, &t, at_min(0))).await {
                Ok(_) => Some(records.claim_upload(&id, &t, at_min(1)).await.expect("claim")),
                Err(TicketError::AlreadyUploaded(Status::Uploaded)) => None,
                Err(e) => panic!("unexpected ticket error: {e:?}"),
            }
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("task") {
            Some(Claim::Won(_)) => won += 1,
            Some(Claim::Lost(ClaimLost::Superseded)) | None => {}
            Some(Claim::Lost(why)) => panic!("lost for the wrong reason: {why:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one upload wins");
    assert_eq!(must_student(r, &id).await.generation, 1);
}

pub async fn record_check_decides_once(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let h = u.hash();

    // Passed with soft flags: pending_review, the flags kept apart from the (empty) reasons.
    let up = upload(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    let outcome = passed(h, &[("phone_photo", "疑似手机翻拍")]);
    let s = decide(r, &u.student(1), &u.ticket(1), &outcome, at_min(1)).await;
    assert_eq!(s.status, Status::PendingReview);
    assert_eq!(s.flags, vec![Reason::new("phone_photo", "疑似手机翻拍")]);
    assert!(s.reasons.is_empty());
    assert_eq!(s.decided_by, Some(gradphoto_core::DecidedBy::Check));
    assert_eq!(s.photo_hash, Some(h));
    assert_eq!((s.generation, s.photo_key.clone(), s.uploaded_at), (up.generation, up.photo_key.clone(), up.uploaded_at), "the upload is untouched");
    assert_eq!(must_student(r, &u.student(1)).await, s, "the returned record is the stored one");
    // A duplicate delivery (even with another verdict) changes nothing.
    let again = r.record_check(&u.student(1), &u.ticket(1), &failed(Some(h), &[("blurry", "模糊")]), at_min(2)).await.expect("record_check");
    assert_eq!(again, CheckRecorded::NoChange, "a decided photo is not decided again");
    assert_eq!(must_student(r, &u.student(1)).await, s);

    // Hard findings reject, with the rejections (not the flags) as reasons.
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0)).await;
    let bad = gradphoto_core::ports::CheckOutcome {
        rejections: vec![Reason::new("too_small", "照片尺寸过小"), Reason::new("background", "背景不是纯色")],
        flags: vec![Reason::new("phone_photo", "疑似手机翻拍")],
        photo_hash: Some(!h),
        ..Default::default()
    };
    let s2 = decide(r, &u.student(2), &u.ticket(2), &bad, at_min(1)).await;
    assert_eq!(s2.status, Status::Rejected);
    assert_eq!(s2.reasons, bad.rejections);
    assert_eq!(s2.reviewed_at, None, "an automatic rejection is not a review");
    assert_eq!(r.record_check(&u.student(2), &u.ticket(2), &passed(h, &[]), at_min(2)).await.expect("record_check"), CheckRecorded::NoChange);
}

pub async fn record_check_ignores_stale_tickets(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let loser = issue(r, &a.school_id, &id, &u.ticket(1), at_min(0)).await;
    upload(r, &a.school_id, &id, &u.ticket(2), at_min(1)).await;
    // The loser's object is checked anyway (out-of-order delivery): it must not decide.
    assert_eq!(r.record_check(&id, &loser.ticket_id, &passed(u.hash(), &[]), at_min(2)).await.expect("record_check"), CheckRecorded::NoChange);
    assert_eq!(r.record_check(&id, &u.ticket(99), &passed(u.hash(), &[]), at_min(2)).await.expect("record_check"), CheckRecorded::NoChange, "unknown ticket");
    assert_eq!(r.record_check(&u.student(77), &u.ticket(2), &passed(u.hash(), &[]), at_min(2)).await.expect("record_check"), CheckRecorded::NoChange, "unknown student");
    assert_eq!(must_student(r, &id).await.status, Status::Uploaded, "still waiting for its own check");

    // After a rejection and a new winning upload, a late check of the old photo is stale.
    decide(r, &id, &u.ticket(2), &failed(None, &[("blurry", "模糊")]), at_min(3)).await;
    upload(r, &a.school_id, &id, &u.ticket(3), at_min(4)).await;
    assert_eq!(r.record_check(&id, &u.ticket(2), &passed(u.hash(), &[]), at_min(5)).await.expect("record_check"), CheckRecorded::NoChange);
    let s = must_student(r, &id).await;
    assert_eq!((s.status, s.generation), (Status::Uploaded, 2));
    decide(r, &id, &u.ticket(3), &passed(u.hash(), &[]), at_min(6)).await;
}

pub async fn stuck_uploads_lists_old_uploaded(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班")]).await;
    upload(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    upload(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(10)).await;
    pending(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(0), u.hash()).await;
    let stuck = |v: Vec<gradphoto_core::Student>| {
        let mut ids = mine(&u, v.into_iter().map(|s| s.student_id));
        ids.sort();
        ids
    };
    assert_eq!(stuck(r.stuck_uploads(at_min(5)).await.expect("stuck")), vec![u.student(1)], "uploaded before the bound");
    assert_eq!(stuck(r.stuck_uploads(at_min(20)).await.expect("stuck")), vec![u.student(1), u.student(2)]);
    assert_eq!(stuck(r.stuck_uploads(at_min(0)).await.expect("stuck")), vec![], "strictly before");
    let full = r.stuck_uploads(at_min(20)).await.expect("stuck");
    assert!(full.iter().filter(|s| s.student_id.as_str().starts_with(u.as_str())).all(|s| s.status == Status::Uploaded && s.photo_key.is_some()));
}

pub async fn similar_photos_by_hamming_distance(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班"), (5, "1班"), (6, "1班")]).await;
    let h = u.hash();
    // 1: the photo itself; 2: identical; 3: 4 bits off in one place; 4: 4 bits off spread
    // over the hash; 5: 5 bits off; 6: far away.
    let hashes = [(1, h), (2, h), (3, h ^ 0b1111), (4, h ^ (1 | 1 << 16 | 1 << 32 | 1 << 48)), (5, h ^ 0b1_1111), (6, !h)];
    for (k, hash) in hashes {
        pending(r, &a.school_id, &u.student(k), &u.ticket(k), at_min(k as i64), hash).await;
    }
    let uref = &u;
    let near = |max: u32| async move { mine(uref, r.similar_photos(h, max, &uref.student(1)).await.expect("similar_photos")) };
    assert_eq!(near(4).await, vec![u.student(2), u.student(3), u.student(4)], "within 4 bits, excluding the photo itself, by id");
    assert_eq!(near(0).await, vec![u.student(2)], "distance 0 is identical hashes");
    assert_eq!(near(5).await, vec![u.student(2), u.student(3), u.student(4), u.student(5)]);
    let except_two = mine(&u, r.similar_photos(h, 4, &u.student(2)).await.expect("similar_photos"));
    assert_eq!(except_two, vec![u.student(1), u.student(3), u.student(4)]);

    // A rejected photo keeps its hash (a re-sent copy is still a duplicate); a new upload
    // drops the old photo's hash until the new one is checked.
    r.review(&u.student(2), None, Decision::Reject, &[Reason::new("background", "背景")], None, "rev", at_min(30)).await.expect("reject");
    assert!(near(0).await.contains(&u.student(2)));
    upload(r, &a.school_id, &u.student(2), &u.ticket(20), at_min(31)).await;
    assert_eq!(near(4).await, vec![u.student(3), u.student(4)], "a re-uploaded student's old hash is gone");
    decide(r, &u.student(2), &u.ticket(20), &passed(!h ^ 0xffff, &[]), at_min(32)).await;
    assert_eq!(near(4).await, vec![u.student(3), u.student(4)]);
}

/// 自动裁剪: a ticket for a photo the page made from the crop suggestion marks the photo that
/// wins with it (the reviewer sees it) and the audit says so; the next photo, uploaded after a
/// rejection without the suggestion, is unmarked.
pub async fn an_auto_cropped_upload_is_marked_until_the_next_photo(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班")]).await;
    let id = u.student(1);
    let cropped = Ticket { auto_cropped: true, ..ticket(&a.school_id, &id, &u.ticket(1), at_min(0)) };
    assert!(r.issue_ticket(&cropped).await.expect("issue").auto_cropped, "the ticket keeps the mark");
    let won = match r.claim_upload(&id, &u.ticket(1), at_min(0)).await.expect("claim") {
        Claim::Won(s) => s,
        Claim::Lost(why) => panic!("lost: {why:?}"),
    };
    assert!(won.auto_cropped, "the claim marks the photo");
    assert!(must_student(r, &id).await.auto_cropped, "and it is stored");
    let rejected = decide(r, &id, &u.ticket(1), &failed(Some(u.hash()), &[("background_not_white", "背景")]), at_min(1)).await;
    assert!(rejected.auto_cropped, "the decision keeps the mark of the photo it judged");
    let trail = r.audit_trail(&id).await.expect("audit");
    assert_eq!(trail[0].note.as_deref(), Some(gradphoto_core::messages::AUTO_CROPPED_NOTE), "{trail:?}");
    let again = upload(r, &a.school_id, &id, &u.ticket(2), at_min(2)).await;
    assert!(!again.auto_cropped && !must_student(r, &id).await.auto_cropped, "a new photo made by hand is unmarked");
    let trail = r.audit_trail(&id).await.expect("audit");
    assert_eq!(trail.last().map(|e| e.note.clone()), Some(None), "{trail:?}");
}

/// What the check measured on the head (the reviewer's numbers) is stored with its decision,
/// handed out by the queue, kept by every later transition of the same photo (a reviewer's
/// approval or rejection, an appeal, the bureau's reopening), and cleared by the next photo's
/// claim; a check that measured nothing stores nothing.
pub async fn a_checked_photos_geometry_is_kept_until_the_next_photo(fx: &Fixture) {
    use gradphoto_core::PhotoGeometry;
    use gradphoto_core::ports::{CheckOutcome, Lease, QueueFilter};
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let g = PhotoGeometry { eye_line: 142, crown: 11, chin: 300, head_ratio: 0.659, centre_offset: -3, roll: 1.2, eye_distance: 62, width_to_height: 1.31 };
    let measured = |o: CheckOutcome| CheckOutcome { geometry: Some(g), ..o };
    let (one, two) = (u.student(1), u.student(2));

    // Passed, queued, approved, reopened by the bureau: the same photo keeps its numbers.
    assert_eq!(upload(r, &a.school_id, &one, &u.ticket(1), at_min(0)).await.geometry, None, "nothing measured before the check");
    let checked = decide(r, &one, &u.ticket(1), &measured(passed(u.hash(), &[])), at_min(1)).await;
    assert_eq!((checked.status, checked.geometry), (Status::PendingReview, Some(g)));
    assert_eq!(must_student(r, &one).await.geometry, Some(g), "stored");
    let lease = Lease { reviewer: "rev1".into(), now: at_min(2), until: at_min(12) };
    let page = r.lease_review_queue(&QueueFilter { school_id: Some(a.school_id.clone()), limit: 10, ..Default::default() }, &lease).await.expect("lease");
    assert_eq!(page.iter().map(|s| (s.student_id.clone(), s.geometry)).collect::<Vec<_>>(), vec![(one.clone(), Some(g))], "the queue item carries it");
    let approved = r.review(&one, Some(&u.ticket(1)), Decision::Approve, &[], None, "rev1", at_min(3)).await.expect("approve");
    assert_eq!((approved.status, approved.geometry), (Status::Approved, Some(g)));
    let reopened = r.reopen(&one, &[Reason::new("wrong_person", "照片与学生信息不符")], None, "bureau1", at_min(4)).await.expect("reopen");
    assert_eq!((reopened.status, reopened.geometry), (Status::Rejected, Some(g)));
    assert_eq!(must_student(r, &one).await.geometry, Some(g));
    // The next photo starts without numbers; a check that measured nothing (no face, a wrong
    // size) leaves it so.
    let again = upload(r, &a.school_id, &one, &u.ticket(2), at_min(5)).await;
    assert_eq!(again.geometry, None, "the claim clears the old photo's numbers");
    assert_eq!(must_student(r, &one).await.geometry, None, "and the store forgets them");
    let unmeasured = decide(r, &one, &u.ticket(2), &failed(None, &[("no_face", "没有人脸")]), at_min(6)).await;
    assert_eq!(unmeasured.geometry, None);

    // Rejected by the check with its numbers, appealed, rejected by a reviewer: still there.
    upload(r, &a.school_id, &two, &u.ticket(3), at_min(0)).await;
    let rejected = decide(r, &two, &u.ticket(3), &measured(failed(Some(u.hash() ^ 0xff00), &[("head_too_small", "人像过小")])), at_min(1)).await;
    assert_eq!((rejected.status, rejected.geometry), (Status::Rejected, Some(g)));
    let request = gradphoto_core::lifecycle::AppealRequest { photo_id: &u.ticket(3), note: None, by: TEACHER, school_id: Some(&a.school_id) };
    let appealed = r.appeal(&two, &request, at_min(2)).await.expect("appeal");
    assert_eq!((appealed.status, appealed.geometry), (Status::PendingReview, Some(g)));
    let upheld = r.review(&two, Some(&u.ticket(3)), Decision::Reject, &[Reason::new("head_too_small", "人像过小")], None, "rev1", at_min(3)).await.expect("reject");
    assert_eq!((upheld.status, upheld.geometry), (Status::Rejected, Some(g)));
    assert_eq!(must_student(r, &two).await.geometry, Some(g));
}
