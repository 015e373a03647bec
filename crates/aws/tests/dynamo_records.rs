//! DynamoRecords against moto's DynamoDB: the rules that depend on conditional writes and
//! transactions, and the access paths (every one a GetItem or Query).

use gradphoto_aws::testing as support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use gradphoto_aws::DynamoRecords;
use gradphoto_core::ports::*;
use gradphoto_core::*;
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 1, 0, 0).unwrap()
}

fn sid(s: &str) -> StudentId {
    StudentId::parse(s).unwrap()
}

fn school(id: &str, district: &str, name: &str, stage: Stage) -> School {
    School { school_id: id.into(), district: district.into(), name: name.into(), stage, registration_code: format!("CODE{id}"), username: None }
}

fn row(school: &str, id: &str, name: &str, class: &str) -> RosterRow {
    RosterRow { school_id: school.into(), student_id: sid(id), name: name.into(), class: class.into() }
}

fn account(username: &str, role: Role, school_id: Option<&str>) -> Account {
    Account { username: username.into(), password_hash: "$argon2id$x".into(), role, school_id: school_id.map(Into::into), created_at: t0(), district: None }
}

async fn records() -> DynamoRecords {
    support::fresh().await.records
}

/// Two schools, three students in s1 and one in s2.
async fn seeded() -> DynamoRecords {
    let r = records().await;
    r.insert_schools(&[school("s1", "浦东新区", "建平中学", Stage::Senior), school("s2", "黄浦区", "格致中学", Stage::Junior)]).await.unwrap();
    r.import_roster(&[row("s1", "A1", "张三", "1班"), row("s1", "A2", "李四", "2班"), row("s1", "A3", "王五", "1班"), row("s2", "B1", "赵六", "1班")])
        .await
        .unwrap();
    r
}

fn ticket(student: &str, school: &str, id: &str, at: DateTime<Utc>) -> Ticket {
    Ticket {
        ticket_id: id.into(),
        student_id: sid(student),
        school_id: school.into(),
        size: 20_000,
        generation: 99, // overwritten by issue_ticket
        issued_at: at,
        expires_at: at + Duration::minutes(15),
        issued_by: "teacher1".into(),
        uploader: Default::default(),
        auto_cropped: false,
    }
}

/// Issues a ticket and lands it: the student is `uploaded` with that ticket's photo.
async fn upload(r: &DynamoRecords, student: &str, school: &str, tid: &str, at: DateTime<Utc>) -> Student {
    r.issue_ticket(&ticket(student, school, tid, at)).await.unwrap();
    match r.claim_upload(&sid(student), tid, at + Duration::seconds(5)).await.unwrap() {
        Claim::Won(s) => s,
        Claim::Lost(why) => panic!("claim lost: {why:?}"),
    }
}

fn pass(hash: Option<u64>) -> CheckOutcome {
    CheckOutcome { rejections: vec![], flags: vec![Reason::new("phone_photo", "疑似手机拍摄")], photo_hash: hash, ..Default::default() }
}

#[tokio::test]
async fn campaign_round_trips() {
    let r = records().await;
    assert_eq!(r.campaign().await.unwrap(), None);
    let c = Campaign {
        name: "2025 届毕业生".into(),
        starts_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        ends_on: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        daily_open: DailyTime::parse("06:00").unwrap(),
        daily_close: DailyTime::parse("24:00").unwrap(),
        timezone: "Asia/Shanghai".parse().unwrap(),
        review_policy: Default::default(),
        parents_enabled: true,
    };
    r.put_campaign(&c).await.unwrap();
    assert_eq!(r.campaign().await.unwrap(), Some(c));
}

#[tokio::test]
async fn schools_list_in_district_name_stage_order_and_codes_resolve() {
    let r = records().await;
    let mut list = vec![
        school("x3", "黄浦区", "格致中学", Stage::Senior),
        school("x1", "黄浦区", "格致中学", Stage::Junior),
        school("x2", "浦东新区", "建平中学", Stage::Senior),
    ];
    r.insert_schools(&list).await.unwrap();
    let got: Vec<String> = r.schools().await.unwrap().into_iter().map(|s| s.school_id).collect();
    list.sort_by(|a, b| (&a.district, &a.name).cmp(&(&b.district, &b.name)));
    assert_eq!(got, vec!["x2", "x1", "x3"], "district, then name, then stage (junior before senior)");
    assert_eq!(r.school_by_code("CODEx1").await.unwrap().unwrap().school_id, "x1");
    assert_eq!(r.school_by_code("nope").await.unwrap(), None);
    assert_eq!(r.counts("x1").await.unwrap(), Counts::default());
}

#[tokio::test]
async fn inserting_an_existing_school_writes_nothing_of_the_batch() {
    let r = records().await;
    r.insert_schools(&[school("s1", "d", "n", Stage::Primary)]).await.unwrap();
    // 60 schools span two transactions (2 items each, 100 per transaction); the clash is in the
    // second, so the first must be undone.
    let mut batch: Vec<School> = (0..59).map(|i| school(&format!("n{i}"), "d", &format!("n{i}"), Stage::Primary)).collect();
    batch.push(school("s1", "d", "again", Stage::Primary));
    assert!(r.insert_schools(&batch).await.is_err());
    let ids: Vec<String> = r.schools().await.unwrap().into_iter().map(|s| s.school_id).collect();
    assert_eq!(ids, vec!["s1"]);
    assert!(r.school_by_code("CODEn0").await.unwrap().is_none());
}

#[tokio::test]
async fn a_registration_code_registers_exactly_one_account() {
    let r = seeded().await;
    assert!(matches!(r.register("bogus", &account("t1", Role::School, Some("s1"))).await, Err(RegisterError::UnknownCode)));
    let s = r.register("CODEs1", &account("teacher1", Role::School, Some("s1"))).await.unwrap();
    assert_eq!(s.username.as_deref(), Some("teacher1"));
    assert_eq!(r.school("s1").await.unwrap().unwrap().username.as_deref(), Some("teacher1"));
    assert!(matches!(r.register("CODEs1", &account("teacher2", Role::School, Some("s1"))).await, Err(RegisterError::CodeUsed)));
    assert!(matches!(r.register("CODEs2", &account("teacher1", Role::School, Some("s2"))).await, Err(RegisterError::UsernameTaken)));
    // The failed attempt did not consume s2's code.
    assert!(r.school("s2").await.unwrap().unwrap().username.is_none());
    assert_eq!(r.account("teacher1").await.unwrap().unwrap().school_id.as_deref(), Some("s1"));
}

#[tokio::test]
async fn concurrent_registrations_with_one_code_have_one_winner() {
    let r = Arc::new(seeded().await);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let r = r.clone();
        tasks.push(tokio::spawn(async move { r.register("CODEs1", &account(&format!("user{i}"), Role::School, Some("s1"))).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(RegisterError::CodeUsed) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn accounts_are_unique_and_login_failures_count_within_the_window() {
    let r = records().await;
    r.create_account(&account("bureau1", Role::Bureau, None)).await.unwrap();
    assert!(matches!(r.create_account(&account("bureau1", Role::Reviewer, None)).await, Err(AccountError::UsernameTaken)));
    assert_eq!(r.account("bureau1").await.unwrap().unwrap().role, Role::Bureau);
    assert!(r.account("nobody").await.unwrap().is_none());

    let since = t0();
    // Two slots: the one taken before the window is free again inside it.
    let early = since - Duration::minutes(1);
    assert_eq!(r.reserve_login_attempt("u", early, early - Duration::minutes(15), 2).await.unwrap(), LoginAttempt::Reserved);
    assert_eq!(r.login_failures("u", since).await.unwrap(), 0, "older than the window");
    assert_eq!(r.reserve_login_attempt("u", since, since, 2).await.unwrap(), LoginAttempt::Reserved);
    assert_eq!(r.reserve_login_attempt("u", since + Duration::seconds(1), since, 2).await.unwrap(), LoginAttempt::Reserved, "the stale slot is reused");
    assert_eq!(r.reserve_login_attempt("u", since + Duration::seconds(2), since, 2).await.unwrap(), LoginAttempt::Refused);
    assert_eq!(r.login_failures("u", since).await.unwrap(), 2);
    assert_eq!(r.login_failures("other", since).await.unwrap(), 0);
    r.clear_login_failures("u").await.unwrap();
    assert_eq!(r.login_failures("u", since - Duration::hours(1)).await.unwrap(), 0);
}

#[tokio::test]
async fn roster_import_counts_updates_and_keeps_counters() {
    let r = seeded().await;
    assert_eq!(r.counts("s1").await.unwrap().not_uploaded, 3);
    let (imported, updated) = r.import_roster(&[row("s1", "A1", "张三丰", "3班"), row("s1", "A4", "钱七", "1班")]).await.unwrap();
    assert_eq!((imported, updated), (1, 1));
    let a1 = r.student(&sid("A1")).await.unwrap().unwrap();
    assert_eq!((a1.name.as_str(), a1.class.as_str(), a1.status), ("张三丰", "3班", Status::NotUploaded));
    assert_eq!(r.counts("s1").await.unwrap().not_uploaded, 4);
    let all = r.all_counts().await.unwrap();
    assert_eq!(all["s1"].total(), 4);
    assert_eq!(all["s2"].total(), 1);
}

#[tokio::test]
async fn roster_import_with_a_bad_line_writes_nothing() {
    let r = seeded().await;
    let before = r.students("s1", &StudentFilter::default()).await.unwrap();
    let err = r.import_roster(&[row("s1", "N1", "新", "1班"), row("s9", "N2", "无校", "1班")]).await.unwrap_err();
    assert!(matches!(err, ImportError::UnknownSchool(ref s) if s == "s9"));
    let err = r.import_roster(&[row("s1", "N1", "新", "1班"), row("s1", "B1", "抢", "1班")]).await.unwrap_err();
    assert!(matches!(err, ImportError::StudentOfAnotherSchool(ref s) if s.as_str() == "B1"));
    assert_eq!(r.students("s1", &StudentFilter::default()).await.unwrap(), before);
    assert!(r.student(&sid("N1")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_roster_larger_than_one_transaction_imports_whole() {
    let r = seeded().await;
    // 250 students in two schools: three transactions, counters aggregated per chunk.
    let rows: Vec<RosterRow> = (0..250).map(|i| row(if i % 2 == 0 { "s1" } else { "s2" }, &format!("R{i:03}"), "学生", &format!("{}班", i % 7))).collect();
    assert_eq!(r.import_roster(&rows).await.unwrap(), (250, 0));
    assert_eq!(r.counts("s1").await.unwrap().not_uploaded, 3 + 125);
    assert_eq!(r.counts("s2").await.unwrap().not_uploaded, 1 + 125);
    assert_eq!(r.students("s2", &StudentFilter::default()).await.unwrap().len(), 126);
}

#[tokio::test]
async fn students_by_school_filter_by_class_and_status_in_class_then_id_order() {
    let r = seeded().await;
    let ids = |v: Vec<Student>| v.into_iter().map(|s| s.student_id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(r.students("s1", &StudentFilter::default()).await.unwrap()), ["A1", "A3", "A2"]);
    assert_eq!(ids(r.students("s1", &StudentFilter { class: Some("1班".into()), status: None, ..Default::default() }).await.unwrap()), ["A1", "A3"]);
    upload(&r, "A3", "s1", "t1", t0()).await;
    let f = StudentFilter { class: None, status: Some(Status::Uploaded), ..Default::default() };
    assert_eq!(ids(r.students("s1", &f).await.unwrap()), ["A3"]);
    assert!(r.students("s2", &f).await.unwrap().is_empty());
}

#[tokio::test]
async fn only_one_upload_per_generation_wins_and_stale_tickets_lose() {
    let r = seeded().await;
    let a1 = sid("A1");
    // Two tickets of generation 0; the first landing wins.
    let t1 = r.issue_ticket(&ticket("A1", "s1", "t1", t0())).await.unwrap();
    let t2 = r.issue_ticket(&ticket("A1", "s1", "t2", t0())).await.unwrap();
    assert_eq!((t1.generation, t2.generation), (0, 0));
    let won = match r.claim_upload(&a1, "t2", t0() + Duration::seconds(1)).await.unwrap() {
        Claim::Won(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!((won.status, won.generation), (Status::Uploaded, 1));
    assert_eq!(won.photo_key.as_deref(), Some("uploads/s1/A1/t2.jpg"));
    assert!(matches!(r.claim_upload(&a1, "t1", t0() + Duration::seconds(2)).await.unwrap(), Claim::Lost(ClaimLost::Superseded)));
    assert!(matches!(r.claim_upload(&a1, "t2", t0() + Duration::seconds(2)).await.unwrap(), Claim::Lost(ClaimLost::Superseded)), "a duplicate delivery is not a second win");
    assert!(matches!(r.claim_upload(&a1, "nope", t0()).await.unwrap(), Claim::Lost(ClaimLost::UnknownTicket)));
    assert!(matches!(r.issue_ticket(&ticket("A1", "s1", "t3", t0())).await, Err(TicketError::AlreadyUploaded(Status::Uploaded))));
    assert!(matches!(r.issue_ticket(&ticket("ZZ", "s1", "t3", t0())).await, Err(TicketError::UnknownStudent)));
    assert!(matches!(r.issue_ticket(&ticket("B1", "s1", "t3", t0())).await, Err(TicketError::UnknownStudent)), "another school's student");
    let c = r.counts("s1").await.unwrap();
    assert_eq!((c.not_uploaded, c.uploaded), (2, 1));

    // Rejected: a new ticket (generation 1) may win; an old generation-0 ticket may not.
    let rejected = CheckOutcome { rejections: vec![Reason::new("too_small", "小")], flags: vec![], photo_hash: None, ..Default::default() };
    assert!(matches!(r.record_check(&a1, "t2", &rejected, t0()).await.unwrap(), CheckRecorded::Decided(ref s) if s.status == Status::Rejected));
    assert!(matches!(r.claim_upload(&a1, "t1", t0() + Duration::seconds(3)).await.unwrap(), Claim::Lost(ClaimLost::Superseded)));
    let t4 = r.issue_ticket(&ticket("A1", "s1", "t4", t0())).await.unwrap();
    assert_eq!(t4.generation, 1);
    assert!(matches!(r.claim_upload(&a1, "t4", t0() + Duration::seconds(4)).await.unwrap(), Claim::Won(_)));
}

#[tokio::test]
async fn an_expired_ticket_loses() {
    let r = seeded().await;
    r.issue_ticket(&ticket("A1", "s1", "t1", t0())).await.unwrap();
    let late = t0() + Duration::minutes(16);
    assert!(matches!(r.claim_upload(&sid("A1"), "t1", late).await.unwrap(), Claim::Lost(ClaimLost::Expired)));
    assert_eq!(r.student(&sid("A1")).await.unwrap().unwrap().status, Status::NotUploaded);
}

#[tokio::test]
async fn concurrent_landings_have_exactly_one_winner() {
    let r = Arc::new(seeded().await);
    for i in 0..8 {
        r.issue_ticket(&ticket("A2", "s1", &format!("c{i}"), t0())).await.unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let r = r.clone();
        tasks.push(tokio::spawn(async move { r.claim_upload(&sid("A2"), &format!("c{i}"), t0() + Duration::seconds(1)).await.unwrap() }));
    }
    let mut winners = 0;
    for t in tasks {
        if let Claim::Won(_) = t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    let s = r.student(&sid("A2")).await.unwrap().unwrap();
    assert_eq!(s.generation, 1);
    assert_eq!(r.counts("s1").await.unwrap().uploaded, 1);
}

#[tokio::test]
async fn check_results_are_recorded_once_and_only_for_the_current_photo() {
    let r = seeded().await;
    let a1 = sid("A1");
    upload(&r, "A1", "s1", "t1", t0()).await;
    assert_eq!(r.record_check(&a1, "other", &pass(Some(7)), t0()).await.unwrap(), CheckRecorded::NoChange);
    let CheckRecorded::Decided(s) = r.record_check(&a1, "t1", &pass(Some(7)), t0()).await.unwrap() else { panic!() };
    assert_eq!(s.status, Status::PendingReview);
    assert_eq!(s.flags[0].code, "phone_photo");
    assert_eq!(s.photo_hash, Some(7));
    assert_eq!(r.record_check(&a1, "t1", &pass(Some(7)), t0()).await.unwrap(), CheckRecorded::NoChange, "duplicate delivery");
    let c = r.counts("s1").await.unwrap();
    assert_eq!((c.uploaded, c.pending_review), (0, 1));
}

#[tokio::test]
async fn review_only_from_pending_and_the_queue_is_oldest_first() {
    let r = seeded().await;
    for (i, id) in ["A2", "A1", "A3"].into_iter().enumerate() {
        let at = t0() + Duration::minutes(i as i64);
        upload(&r, id, "s1", &format!("t{id}"), at).await;
        r.record_check(&sid(id), &format!("t{id}"), &pass(None), at + Duration::seconds(30)).await.unwrap();
    }
    upload(&r, "B1", "s2", "tB1", t0() + Duration::minutes(10)).await;
    r.record_check(&sid("B1"), "tB1", &pass(None), t0()).await.unwrap();

    let ids = |v: Vec<Student>| v.into_iter().map(|s| s.student_id.to_string()).collect::<Vec<_>>();
    let all = QueueFilter { limit: 100, ..Default::default() };
    assert_eq!(ids(r.review_queue(&all).await.unwrap()), ["A2", "A1", "A3", "B1"]);
    assert_eq!(ids(r.review_queue(&QueueFilter { limit: 2, ..Default::default() }).await.unwrap()), ["A2", "A1"]);
    assert_eq!(ids(r.review_queue(&QueueFilter { district: Some("黄浦区".into()), limit: 10, ..Default::default() }).await.unwrap()), ["B1"]);
    assert_eq!(ids(r.review_queue(&QueueFilter { school_id: Some("s1".into()), limit: 10, ..Default::default() }).await.unwrap()), ["A2", "A1", "A3"]);

    let later = t0() + Duration::hours(1);
    let s = r.review(&sid("A1"), None, Decision::Approve, &[], None, "rev1", later).await.unwrap();
    assert_eq!((s.status, s.reviewed_at), (Status::Approved, Some(later)));
    assert!(matches!(r.review(&sid("A1"), None, Decision::Reject, &[Reason::new("blurry", "模糊")], None, "rev2", later).await, Err(ReviewError::NotPending(Status::Approved))));
    assert!(matches!(r.review(&sid("ZZ"), None, Decision::Approve, &[], None, "rev1", later).await, Err(ReviewError::UnknownStudent)));
    let s = r.review(&sid("A2"), None, Decision::Reject, &[Reason::new("blurry", "模糊")], Some("请重拍"), "rev1", later).await.unwrap();
    assert_eq!(s.status, Status::Rejected);
    assert_eq!(ids(r.review_queue(&all).await.unwrap()), ["A3", "B1"]);
    let c = r.counts("s1").await.unwrap();
    assert_eq!((c.pending_review, c.approved, c.rejected), (1, 1, 1));

    let trail = r.audit_trail(&sid("A2")).await.unwrap();
    let steps: Vec<(Status, Status)> = trail.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(steps, [(Status::NotUploaded, Status::Uploaded), (Status::Uploaded, Status::PendingReview), (Status::PendingReview, Status::Rejected)]);
    assert_eq!(trail[2].actor, "rev1");
    assert_eq!(trail[2].note.as_deref(), Some("请重拍"));
}

#[tokio::test]
async fn concurrent_reviews_of_one_photo_have_one_winner() {
    let r = Arc::new(seeded().await);
    upload(&r, "A1", "s1", "t1", t0()).await;
    r.record_check(&sid("A1"), "t1", &pass(None), t0()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let r = r.clone();
        let d = if i % 2 == 0 { Decision::Approve } else { Decision::Reject };
        tasks.push(tokio::spawn(async move { r.review(&sid("A1"), None, d, &[Reason::new("x", "x")], None, &format!("rev{i}"), t0()).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(ReviewError::NotPending(s)) => eprintln!("lost: {s:?}"),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok, 1);
    let c = r.counts("s1").await.unwrap();
    assert_eq!(c.approved + c.rejected, 1);
    assert_eq!(c.pending_review, 0);
}

#[tokio::test]
async fn stuck_uploads_are_those_uploaded_before_the_cutoff() {
    let r = seeded().await;
    upload(&r, "A1", "s1", "t1", t0()).await; // claimed at t0+5s
    upload(&r, "A2", "s1", "t2", t0() + Duration::minutes(30)).await;
    let stuck = r.stuck_uploads(t0() + Duration::minutes(10)).await.unwrap();
    assert_eq!(stuck.iter().map(|s| s.student_id.as_str()).collect::<Vec<_>>(), ["A1"]);
}

#[tokio::test]
async fn similar_photos_finds_near_hashes_and_follows_photo_changes() {
    let r = seeded().await;
    let h = 0x0123_4567_89AB_CDEFu64;
    upload(&r, "A1", "s1", "t1", t0()).await;
    r.record_check(&sid("A1"), "t1", &pass(Some(h)), t0()).await.unwrap();
    upload(&r, "A2", "s1", "t2", t0()).await;
    r.record_check(&sid("A2"), "t2", &pass(Some(!h)), t0()).await.unwrap();

    // 4 differing bits spread over the hash: still found; the asker itself is excluded.
    let near = h ^ (1 << 3) ^ (1 << 20) ^ (1 << 40) ^ (1 << 60);
    assert_eq!(r.similar_photos(near, 4, &sid("A3")).await.unwrap(), vec![sid("A1")]);
    assert_eq!(r.similar_photos(near, 3, &sid("A3")).await.unwrap(), Vec::<StudentId>::new());
    assert_eq!(r.similar_photos(h, 4, &sid("A1")).await.unwrap(), Vec::<StudentId>::new());

    // A1's photo is rejected by a reviewer and replaced: its old hash no longer matches.
    r.review(&sid("A1"), None, Decision::Reject, &[Reason::new("blurry", "模糊")], None, "rev", t0()).await.unwrap();
    upload(&r, "A1", "s1", "t3", t0()).await;
    assert!(r.similar_photos(h, 4, &sid("A3")).await.unwrap().is_empty());
    r.record_check(&sid("A1"), "t3", &pass(Some(h ^ 1)), t0()).await.unwrap();
    assert_eq!(r.similar_photos(h, 4, &sid("A3")).await.unwrap(), vec![sid("A1")]);
}

#[tokio::test]
async fn approved_lists_by_school_then_student() {
    let r = seeded().await;
    for (id, school) in [("A3", "s1"), ("B1", "s2"), ("A1", "s1")] {
        upload(&r, id, school, &format!("t{id}"), t0()).await;
        r.record_check(&sid(id), &format!("t{id}"), &pass(None), t0()).await.unwrap();
        r.review(&sid(id), None, Decision::Approve, &[], None, "rev", t0()).await.unwrap();
    }
    let ids = |v: Vec<Student>| v.into_iter().map(|s| s.student_id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(r.approved(None).await.unwrap()), ["A1", "A3", "B1"]);
    assert_eq!(ids(r.approved(Some("s2")).await.unwrap()), ["B1"]);
}
