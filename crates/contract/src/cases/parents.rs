//! Parents' personal codes and uploads: a new code replaces the old one (and moves its
//! version, which ends the old sessions), and a parent and a teacher uploading at once have
//! exactly one winner, whose kind the record keeps.

use crate::fixture::*;
use gradphoto_core::ports::{Claim, ClaimLost, ParentCode, StudentFilter};
use gradphoto_core::{Status, Uploader};
use std::sync::Arc;

pub async fn parent_codes_replace_the_old_one_and_move_its_version(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班")]).await;
    let code = |k: u32, hash: &str, minute: i64| ParentCode { student_id: u.student(k), hash: hash.to_owned(), version: 99, issued_at: at_min(minute) };
    assert_eq!(r.parent_code(&u.student(1)).await.expect("read"), None);
    let first = r.issue_parent_codes(&[code(1, "aa", 0), code(2, "bb", 0)]).await.expect("issue");
    assert_eq!(first.iter().map(|c| c.version).collect::<Vec<_>>(), vec![1, 1], "the caller's version is ignored");
    let again = r.issue_parent_codes(&[code(1, "cc", 5)]).await.expect("issue again");
    assert_eq!(again[0].version, 2);
    let stored = r.parent_code(&u.student(1)).await.expect("read").expect("code");
    assert_eq!((stored.hash.as_str(), stored.version, stored.issued_at), ("cc", 2, at_min(5)), "the old code is replaced");
    assert_eq!(r.parent_code(&u.student(2)).await.expect("read").map(|c| (c.hash, c.version)), Some(("bb".to_owned(), 1)), "others untouched");
    // Two teachers issuing at once: both land, the version moves twice.
    let (r1, r2) = (Arc::clone(&fx.records), Arc::clone(&fx.records));
    let (a, b) = (code(2, "dd", 6), code(2, "ee", 6));
    let (x, y) = tokio::join!(async move { r1.issue_parent_codes(&[a]).await }, async move { r2.issue_parent_codes(&[b]).await });
    let mut versions = vec![x.expect("issue")[0].version, y.expect("issue")[0].version];
    versions.sort();
    assert_eq!(versions, vec![2, 3]);
}

pub async fn a_parent_and_a_teacher_uploading_at_once_have_one_winner(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let rows: Vec<(u32, &str)> = (1..=6).map(|k| (k, "1班")).collect();
    let a = school_with(r, &u, 1, &u.district(1), &rows).await;
    let mut by_parent = 0;
    for k in 1..=6 {
        let id = u.student(k);
        let teacher_ticket = ticket(&a.school_id, &id, &format!("{}-t", u.ticket(k)), at_min(0));
        let parent_ticket = gradphoto_core::Ticket {
            ticket_id: format!("{}-p", u.ticket(k)),
            issued_by: format!("parent:{id}"),
            uploader: Uploader::Parent,
            auto_cropped: false,
            ..teacher_ticket.clone()
        };
        r.issue_ticket(&teacher_ticket).await.expect("teacher ticket");
        r.issue_ticket(&parent_ticket).await.expect("parent ticket");
        let (r1, r2, i1, i2) = (Arc::clone(&fx.records), Arc::clone(&fx.records), id.clone(), id.clone());
        let (t, p) = (teacher_ticket.ticket_id.clone(), parent_ticket.ticket_id.clone());
        let (x, y) = tokio::join!(async move { r1.claim_upload(&i1, &t, at_min(1)).await }, async move { r2.claim_upload(&i2, &p, at_min(1)).await });
        let s = match (x.expect("claim"), y.expect("claim")) {
            (Claim::Won(s), Claim::Lost(ClaimLost::Superseded)) => {
                assert_eq!(s.uploaded_by, Some(Uploader::School));
                s
            }
            (Claim::Lost(ClaimLost::Superseded), Claim::Won(s)) => {
                assert_eq!(s.uploaded_by, Some(Uploader::Parent));
                by_parent += 1;
                s
            }
            other => panic!("exactly one of a teacher's and a parent's upload wins: {other:?}"),
        };
        assert_eq!(must_student(r, &id).await, s);
        let trail = r.audit_trail(&id).await.expect("trail");
        assert_eq!(trail.len(), 1, "one upload event");
        let want = if s.uploaded_by == Some(Uploader::Parent) { format!("parent:{id}") } else { TEACHER.to_owned() };
        assert_eq!(trail[0].actor, want, "the audit names who uploaded");
    }
    let parents = r.students(&a.school_id, &StudentFilter { uploaded_by: Some(Uploader::Parent), ..Default::default() }).await.expect("students");
    assert_eq!(parents.len(), by_parent, "the roster filters by who uploaded");
    assert!(parents.iter().all(|s| s.status == Status::Uploaded));
    let schools = r.students(&a.school_id, &StudentFilter { uploaded_by: Some(Uploader::School), ..Default::default() }).await.expect("students");
    assert_eq!(schools.len(), 6 - by_parent);
}
