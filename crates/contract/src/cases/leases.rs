//! Queue leases and racing reviewers: two reviewers paging the queue never get the same photos,
//! and deciding the same page at once decides each photo once.

use crate::fixture::*;
use chrono::Duration;
use gradphoto_core::ports::{Lease, QueueFilter, ReviewError};
use gradphoto_core::{Decision, Reason, Status, StudentId};
use std::collections::BTreeSet;
use std::sync::Arc;

fn lease(reviewer: &str, minute: i64) -> Lease {
    Lease { reviewer: reviewer.to_owned(), now: at_min(minute), until: at_min(minute) + Duration::minutes(10) }
}

fn page(school_id: &str, limit: u32) -> QueueFilter {
    QueueFilter { school_id: Some(school_id.to_owned()), limit, ..Default::default() }
}

fn ids(v: Vec<gradphoto_core::Student>) -> Vec<StudentId> {
    v.into_iter().map(|s| s.student_id).collect()
}

pub async fn queue_leases_keep_reviewers_apart(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let rows: Vec<(u32, &str)> = (1..=6).map(|k| (k, "1班")).collect();
    let a = school_with(r, &u, 1, &u.district(1), &rows).await;
    for k in 1..=6 {
        pending(r, &a.school_id, &u.student(k), &u.ticket(k), at_min(i64::from(k)), u.hash() ^ (u64::from(k) << 17)).await;
    }
    let first = ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev1", 20)).await.expect("lease"));
    assert_eq!(first, (1..=4).map(|k| u.student(k)).collect::<Vec<_>>(), "the oldest four");
    let second = ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev2", 21)).await.expect("lease"));
    assert_eq!(second, vec![u.student(5), u.student(6)], "another reviewer gets only what nobody holds");
    assert!(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev3", 21)).await.expect("lease").is_empty(), "everything is held");
    assert_eq!(ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev1", 22)).await.expect("lease")), first, "a reviewer's own page comes back");
    // A decision releases its photo; the rest stay held.
    r.review(&u.student(1), None, Decision::Approve, &[], None, "rev1", at_min(23)).await.expect("approve");
    assert_eq!(ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev1", 24)).await.expect("lease")), first[1..].to_vec());
    // rev2's lease (minute 21, ten minutes) has ended by minute 33: rev3 gets those two, and
    // rev1's (renewed at minute 24, until 34) stay held.
    assert_eq!(ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev3", 33)).await.expect("lease")), second);
    // When rev1's lease ends too, rev3 gets its own first, then the abandoned page, oldest first.
    let later = ids(r.lease_review_queue(&page(&a.school_id, 4), &lease("rev3", 35)).await.expect("lease"));
    assert_eq!(later, vec![u.student(5), u.student(6), u.student(2), u.student(3)], "own leases first, then an abandoned page");
    // The plain queue still lists every pending photo, held or not (progress, the bureau).
    assert_eq!(ids(r.review_queue(&page(&a.school_id, 0)).await.expect("queue")).len(), 5);
}

pub async fn reviewers_paging_at_once_get_disjoint_pages(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let rows: Vec<(u32, &str)> = (1..=12).map(|k| (k, "1班")).collect();
    let a = school_with(r, &u, 1, &u.district(1), &rows).await;
    for k in 1..=12 {
        pending(r, &a.school_id, &u.student(k), &u.ticket(k), at_min(i64::from(k)), u.hash() ^ (u64::from(k) << 23)).await;
    }
    let mut tasks = Vec::new();
    for rev in ["revA", "revB", "revC"] {
        let (records, school) = (Arc::clone(&fx.records), a.school_id.clone());
        tasks.push(tokio::spawn(async move { records.lease_review_queue(&page(&school, 5), &lease(rev, 30)).await }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in tasks {
        let got = ids(t.await.expect("task").expect("lease"));
        assert!(got.len() <= 5);
        total += got.len();
        seen.extend(got);
    }
    assert_eq!(seen.len(), total, "no photo handed to two reviewers");
    assert_eq!(total, 12, "together they hold the whole queue");
}

pub async fn two_reviewers_deciding_one_page_at_once_decide_each_photo_once(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let rows: Vec<(u32, &str)> = (1..=10).map(|k| (k, "1班")).collect();
    let a = school_with(r, &u, 1, &u.district(1), &rows).await;
    let mut photos = Vec::new();
    for k in 1..=10 {
        let s = pending(r, &a.school_id, &u.student(k), &u.ticket(k), at_min(i64::from(k)), u.hash() ^ (u64::from(k) << 29)).await;
        photos.push((s.student_id.clone(), s.photo_id().expect("photo")));
    }
    let mut tasks = Vec::new();
    for (reviewer, decision) in [("revA", Decision::Approve), ("revB", Decision::Reject)] {
        let (records, photos) = (Arc::clone(&fx.records), photos.clone());
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for (id, photo) in photos {
                let reasons = if decision == Decision::Reject { vec![Reason::new("blurry", "模糊")] } else { vec![] };
                match records.review(&id, Some(&photo), decision, &reasons, None, reviewer, at_min(30)).await {
                    Ok(s) => won.push((id, s.status)),
                    Err(ReviewError::NotPending(_)) => {}
                    Err(e) => panic!("{reviewer} on {id}: {e:?}"),
                }
            }
            won
        }));
    }
    let mut decided = Vec::new();
    for t in tasks {
        decided.extend(t.await.expect("task"));
    }
    decided.sort_by(|x, y| x.0.cmp(&y.0));
    let once: BTreeSet<_> = decided.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!((decided.len(), once.len()), (10, 10), "each photo decided exactly once: {decided:?}");
    for (id, status) in decided {
        assert_eq!(must_student(r, &id).await.status, status, "the stored status is the winner's");
        let decisions = r.audit_trail(&id).await.expect("trail").into_iter().filter(|e| e.from == Status::PendingReview).count();
        assert_eq!(decisions, 1, "one decision in the trail of {id}");
    }
}
