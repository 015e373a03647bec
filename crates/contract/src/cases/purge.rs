//! Purging a finished campaign's personal data (`gradphoto_core::purge`), on each backend.
//! Unlike the other cases this one needs its own backend: a purge empties all of it.

use crate::fixture::*;
use gradphoto_core::ports::{QueueFilter, StudentFilter};
use gradphoto_core::purge;
use gradphoto_core::{Decision, Reason, Role};

pub async fn purge_removes_every_personal_record_and_object(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "2班")]).await;
    let teacher = account(&u.username(1), Role::School, None);
    r.register(&a.registration_code, &teacher).await.expect("register");
    r.create_account(&account(&u.username(2), Role::Reviewer, None)).await.expect("reviewer");
    r.reserve_login_attempt(&teacher.username, at_min(0), at_min(-60), 5).await.expect("login attempt");
    let p1 = pending(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0), u.hash()).await;
    r.review(&u.student(1), None, Decision::Approve, &[], Some("清晰"), "rev", at_min(2)).await.expect("approve");
    let p2 = pending(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(0), u.hash() ^ 0xffff_0000).await;
    r.review(&u.student(2), None, Decision::Reject, &[Reason::new("glasses", "眼镜")], None, "rev", at_min(2)).await.expect("reject");
    issue(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(1)).await;
    for p in [&p1, &p2] {
        fx.put(p.photo_key.as_deref().expect("photo key"), vec![0xFF, 0xD8, 0xFF, 1, 2, 3]).await;
    }
    fx.put(&format!("exports/approved-{}-20260701-000000-abcdef.zip", a.school_id), b"PK zip".to_vec()).await;
    let codes: Vec<gradphoto_core::ports::ParentCode> = [1, 2]
        .iter()
        .map(|k| gradphoto_core::ports::ParentCode { student_id: u.student(*k), hash: format!("h{k}"), version: 0, issued_at: at_min(1) })
        .collect();
    r.issue_parent_codes(&codes).await.expect("parent codes");

    let figures = r.stats(Some(&u.district(1))).await.expect("stats");
    assert_eq!(figures[&u.district(1)].students, 3, "{figures:?}");

    let plan = purge::plan(r, &*fx.store, at_min(3)).await.expect("plan");
    assert_eq!((plan.students, plan.registered_schools, plan.photos, plan.exports), (3, 1, 2, 1), "{plan:?}");
    let done = purge::purge(r, &*fx.store, at_min(3), true).await.expect("purge");
    assert_eq!((done.records.students, done.records.school_accounts, done.photos, done.exports), (3, 1, 2, 1), "{done:?}");
    assert!(done.records.audit_events >= 4, "uploads and decisions were audited: {done:?}");
    assert!(done.records.tickets >= 1 && done.records.login_failures == 1, "{done:?}");
    assert_eq!(done.records.parent_codes, 2, "{done:?}");
    assert_eq!(r.parent_code(&u.student(1)).await.expect("parent code"), None, "parent codes are gone");

    for k in 1..=3 {
        assert_eq!(r.student(&u.student(k)).await.expect("student"), None, "student {k} is gone");
        assert!(r.audit_trail(&u.student(k)).await.expect("audit").is_empty(), "audit of {k} is gone");
    }
    assert!(r.students(&a.school_id, &StudentFilter::default()).await.expect("roster").is_empty());
    assert!(mine(&u, r.review_queue(&QueueFilter::default()).await.expect("queue").into_iter().map(|s| s.student_id)).is_empty());
    assert!(r.approved(Some(&a.school_id)).await.expect("approved").is_empty());
    assert!(r.similar_photos(u.hash(), 4, &u.student(9)).await.expect("similar").is_empty(), "no photo hash is left to match");
    assert_eq!(r.account(&teacher.username).await.expect("account"), None, "the teacher account is gone");
    assert_eq!(r.login_failures(&teacher.username, at_min(-60)).await.expect("failures"), 0);
    assert!(r.account(&u.username(2)).await.expect("account").is_some(), "reviewer accounts stay");
    let school = r.school(&a.school_id).await.expect("school").expect("the school stays");
    assert_eq!((school.name.as_str(), school.username), (a.name.as_str(), None), "kept, unregistered");
    assert_eq!(r.counts(&a.school_id).await.expect("counts").total(), 0);
    assert!(fx.store.list("uploads/").await.expect("list").is_empty(), "no photo object is left");
    assert!(fx.store.list("exports/").await.expect("list").is_empty(), "no export is left");
    assert!(r.review(&u.student(1), None, Decision::Approve, &[], None, "rev", at_min(4)).await.is_err());

    assert_eq!(r.stats(Some(&u.district(1))).await.expect("stats"), figures, "the anonymous figures survive the purge");

    let again = purge::purge(r, &*fx.store, at_min(5), true).await.expect("second purge");
    assert!(again.is_empty(), "a second purge finds nothing: {again:?}");
}
