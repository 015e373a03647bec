//! Campaign, schools, registration, accounts, login throttling, rosters and counts.

use crate::fixture::*;
use chrono::{Duration, NaiveDate};
use gradphoto_core::ports::{AccountError, ImportError, LoginAttempt, RegisterError, StudentFilter};
use std::sync::Arc;
use gradphoto_core::{Campaign, Counts, DailyTime, Role, School, Stage, Status};

pub async fn campaign_round_trip(fx: &Fixture) {
    let r = fx.records();
    let first = Campaign {
        name: "2026届毕业生照片采集".into(),
        starts_on: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        daily_open: DailyTime::parse("06:00").unwrap(),
        daily_close: DailyTime::parse("24:00").unwrap(),
        timezone: "Asia/Shanghai".parse().unwrap(),
        review_policy: gradphoto_core::ReviewPolicy { auto_approve: gradphoto_core::AutoApprove::Clean, sample_percent: 7 },
        parents_enabled: false,
    };
    r.put_campaign(&first).await.expect("put campaign");
    assert_eq!(r.campaign().await.expect("campaign"), Some(first.clone()), "campaign reads back as written");
    let second = Campaign { name: "延期采集".into(), ends_on: NaiveDate::from_ymd_opt(2026, 7, 15).unwrap(), daily_open: DailyTime::parse("08:30").unwrap(), ..first };
    r.put_campaign(&second).await.expect("put campaign again");
    assert_eq!(r.campaign().await.expect("campaign"), Some(second), "a second put replaces the campaign");
}

pub async fn schools_listing_lookup_and_all_or_none_insert(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let (d1, d2) = (format!("A{}", u.district(1)), format!("B{}", u.district(2)));
    // Inserted out of order: the listing orders by district, name, then stage (primary first).
    let schools = vec![
        u.school(1, &d2, "第一中学", Stage::Senior),
        u.school(2, &d1, "实验学校", Stage::Senior),
        u.school(3, &d1, "实验学校", Stage::Primary),
        u.school(4, &d1, "实验学校", Stage::Junior),
        u.school(5, &d1, "光明学校", Stage::Junior),
    ];
    r.insert_schools(&schools).await.expect("insert schools");
    let listed: Vec<String> = r.schools().await.expect("schools").into_iter().map(|s| s.school_id).filter(|id| id.contains(u.as_str())).collect();
    let expected: Vec<String> = [5, 3, 4, 2, 1].iter().map(|n| u.school_id(*n)).collect();
    assert_eq!(listed, expected, "schools ordered by district, name, stage");

    assert_eq!(r.school(&u.school_id(3)).await.expect("school"), Some(schools[2].clone()), "school by id");
    assert_eq!(r.school_by_code(&u.code(4)).await.expect("by code"), Some(schools[3].clone()), "school by code");
    assert_eq!(r.school(&u.school_id(99)).await.expect("school"), None);
    assert_eq!(r.school_by_code(&u.code(99)).await.expect("by code"), None);

    // A batch with a code that already exists is refused whole.
    let clash = vec![u.school(6, &d1, "新学校", Stage::Primary), School { registration_code: u.code(1), ..u.school(7, &d1, "撞码学校", Stage::Primary) }];
    assert!(r.insert_schools(&clash).await.is_err(), "a duplicate registration code must be refused");
    assert_eq!(r.school(&u.school_id(6)).await.expect("school"), None, "nothing of a refused batch is kept");
    assert_eq!(r.school(&u.school_id(7)).await.expect("school"), None);
    // So is a batch repeating a school id.
    let again = vec![u.school(8, &d1, "新学校", Stage::Primary), u.school(1, &d2, "第一中学", Stage::Senior)];
    assert!(r.insert_schools(&again).await.is_err(), "an existing school id must be refused");
    assert_eq!(r.school(&u.school_id(8)).await.expect("school"), None, "nothing of a refused batch is kept");
}

pub async fn register_uses_a_code_once(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let s1 = school_with(r, &u, 1, &u.district(1), &[]).await;
    let s2 = school_with(r, &u, 2, &u.district(1), &[]).await;
    // The account is bound to the code's school, whatever the caller put in it.
    let teacher = account(&u.username(1), Role::Reviewer, Some("someone-else"));
    let registered = r.register(&s1.registration_code, &teacher).await.expect("first registration");
    assert_eq!(registered.school_id, s1.school_id);
    assert_eq!(registered.username.as_deref(), Some(teacher.username.as_str()), "the returned school shows its account");
    let stored = r.account(&teacher.username).await.expect("account").expect("registered account exists");
    assert_eq!(stored.school_id.as_deref(), Some(s1.school_id.as_str()), "account bound to the code's school");
    assert_eq!(stored.role, Role::School, "a code makes a school account");
    assert_eq!(r.school_by_code(&s1.registration_code).await.expect("by code").and_then(|s| s.username), Some(teacher.username.clone()));

    let other = account(&u.username(2), Role::School, None);
    assert!(matches!(r.register(&s1.registration_code, &other).await, Err(RegisterError::CodeUsed)), "a code registers once");
    assert_eq!(r.account(&other.username).await.expect("account"), None, "a refused registration creates no account");

    assert!(
        matches!(r.register(&s2.registration_code, &teacher).await, Err(RegisterError::UsernameTaken)),
        "a taken username is refused"
    );
    assert_eq!(r.school(&s2.school_id).await.expect("school").and_then(|s| s.username), None, "the code stays unused");
    assert!(matches!(r.register(&u.code(99), &other).await, Err(RegisterError::UnknownCode)));
    // The second school can still register with a free name.
    r.register(&s2.registration_code, &other).await.expect("second school registers");
}

pub async fn accounts_round_trip_and_unique_usernames(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let reviewer = account(&u.username(1), Role::Reviewer, None);
    r.create_account(&reviewer).await.expect("create reviewer");
    assert_eq!(r.account(&reviewer.username).await.expect("account"), Some(reviewer.clone()), "account reads back as written");
    let clash = account(&u.username(1), Role::Bureau, None);
    assert!(matches!(r.create_account(&clash).await, Err(AccountError::UsernameTaken)));
    assert_eq!(r.account(&reviewer.username).await.expect("account").map(|a| a.role), Some(Role::Reviewer), "the first account is untouched");
    assert_eq!(r.account(&u.username(2)).await.expect("account"), None);
    // A school account made by hand (bureau command) keeps its school.
    let school = school_with(r, &u, 1, &u.district(1), &[]).await;
    let teacher = account(&u.username(3), Role::School, Some(&school.school_id));
    r.create_account(&teacher).await.expect("create school account");
    assert_eq!(r.account(&teacher.username).await.expect("account"), Some(teacher));
}

pub async fn login_attempts_are_reserved_within_the_window_and_cleared(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let (name, other) = (u.username(1), u.username(2));
    let window = Duration::minutes(15);
    let reserve = |who: String, at: i64| async move { r.reserve_login_attempt(&who, at_min(at), at_min(at) - window, 3).await.expect("reserve") };
    assert_eq!(r.login_failures(&name, at_min(-60)).await.expect("count"), 0);
    for minute in [0, 1, 2] {
        assert_eq!(reserve(name.clone(), minute).await, LoginAttempt::Reserved, "attempt at minute {minute}");
    }
    assert_eq!(reserve(name.clone(), 3).await, LoginAttempt::Refused, "the fourth attempt within 15 minutes");
    assert_eq!(r.login_failures(&name, at_min(-1)).await.expect("count"), 3, "a refused attempt takes no slot");
    assert_eq!(reserve(name.clone(), 16).await, LoginAttempt::Reserved, "the attempt of minute 0 fell out of the window");
    assert_eq!(r.login_failures(&name, at_min(16) - window).await.expect("count"), 3);
    assert_eq!(r.login_failures(&other, at_min(-60)).await.expect("count"), 0, "counts are per username");
    assert_eq!(reserve(other.clone(), 2).await, LoginAttempt::Reserved);
    r.clear_login_failures(&name).await.expect("clear");
    assert_eq!(r.login_failures(&name, at_min(-60)).await.expect("count"), 0, "cleared");
    assert_eq!(reserve(name.clone(), 17).await, LoginAttempt::Reserved, "a cleared username may try again");
    assert_eq!(r.login_failures(&other, at_min(-60)).await.expect("count"), 1, "clearing one user leaves the others");
}

/// Password guesses sent all at once: the limit holds because the slot is taken before the
/// password is checked, atomically.
pub async fn parallel_login_attempts_get_only_the_limit(fx: &Fixture) {
    let u = Uniq::new();
    let name = u.username(1);
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (records, name) = (Arc::clone(&fx.records), name.clone());
        tasks.push(tokio::spawn(async move { records.reserve_login_attempt(&name, at_min(0), at_min(-15), 5).await }));
    }
    let mut reserved = 0;
    for task in tasks {
        if task.await.expect("reserve task").expect("reserve") == LoginAttempt::Reserved {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 5, "30 simultaneous attempts, limit 5");
    assert_eq!(fx.records().login_failures(&name, at_min(-15)).await.expect("count"), 5);
}

pub async fn roster_import_is_all_or_nothing(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "九(1)班")]).await;
    let b = school_with(r, &u, 2, &u.district(1), &[]).await;
    // Two good rows, then a student who belongs to school A listed under B.
    let bad = vec![row(&b.school_id, &u.student(2), "甲", "1班"), row(&b.school_id, &u.student(3), "乙", "1班"), row(&b.school_id, &u.student(1), "丙", "1班")];
    match r.import_roster(&bad).await {
        Err(ImportError::StudentOfAnotherSchool(id)) => assert_eq!(id, u.student(1)),
        other => panic!("a student of another school must fail the import, got {other:?}"),
    }
    for k in [2, 3] {
        assert_eq!(r.student(&u.student(k)).await.expect("student"), None, "nothing of a failed import is written");
    }
    let s1 = must_student(r, &u.student(1)).await;
    assert_eq!((s1.school_id.as_str(), s1.name.as_str()), (a.school_id.as_str(), "学生1"), "the existing student is untouched");
    assert_eq!(r.counts(&b.school_id).await.expect("counts").total(), 0);

    let unknown = vec![row(&a.school_id, &u.student(4), "丁", "1班"), row(&u.school_id(9), &u.student(5), "戊", "1班")];
    match r.import_roster(&unknown).await {
        Err(ImportError::UnknownSchool(s)) => assert_eq!(s, u.school_id(9)),
        other => panic!("an unknown school must fail the import, got {other:?}"),
    }
    assert_eq!(r.student(&u.student(4)).await.expect("student"), None, "nothing of a failed import is written");
    assert_eq!(r.counts(&a.school_id).await.expect("counts").total(), 1);
    assert_eq!(r.import_roster(&[]).await.expect("empty import"), (0, 0));
}

pub async fn roster_import_counts_new_and_updated(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "九(1)班"), (2, "九(1)班")]).await;
    // Student 1 has uploaded: a re-import renames but never resets the photo state.
    upload(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    let rows = vec![
        row(&a.school_id, &u.student(1), "张三丰", "九(2)班"),
        row(&a.school_id, &u.student(2), "学生2", "九(1)班"),
        row(&a.school_id, &u.student(3), "新同学", "九(3)班"),
    ];
    assert_eq!(r.import_roster(&rows).await.expect("re-import"), (1, 2), "(imported new, updated existing)");
    let s1 = must_student(r, &u.student(1)).await;
    assert_eq!((s1.name.as_str(), s1.class.as_str()), ("张三丰", "九(2)班"), "name and class updated");
    assert_eq!((s1.status, s1.generation), (Status::Uploaded, 1), "status and generation kept");
    assert!(s1.photo_key.is_some() && s1.uploaded_at.is_some(), "photo kept");
    let s3 = must_student(r, &u.student(3)).await;
    assert_eq!((s3.status, s3.generation, s3.reasons.len()), (Status::NotUploaded, 0, 0), "a new student starts not uploaded");
    assert_eq!((s3.uploaded_at, s3.reviewed_at, s3.photo_key, s3.photo_hash), (None, None, None, None));
    // One student twice in a file: imported once, then updated by the later line.
    let twice = vec![row(&a.school_id, &u.student(4), "初稿", "1班"), row(&a.school_id, &u.student(4), "定稿", "2班")];
    assert_eq!(r.import_roster(&twice).await.expect("import"), (1, 1));
    let s4 = must_student(r, &u.student(4)).await;
    assert_eq!((s4.name.as_str(), s4.class.as_str()), ("定稿", "2班"), "the later line wins");
    assert_eq!(r.counts(&a.school_id).await.expect("counts").total(), 4);
}

pub async fn students_filter_and_order(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(5, "九(2)班"), (3, "九(1)班"), (4, "九(2)班"), (1, "九(1)班"), (2, "九(10)班")]).await;
    let b = school_with(r, &u, 2, &u.district(1), &[(9, "九(1)班")]).await;
    upload(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(0)).await;
    let ids = |v: Vec<gradphoto_core::Student>| v.into_iter().map(|s| s.student_id).collect::<Vec<_>>();
    let all = ids(r.students(&a.school_id, &StudentFilter::default()).await.expect("students"));
    // By class (plain string order), then student id.
    assert_eq!(all, vec![u.student(1), u.student(3), u.student(2), u.student(4), u.student(5)]);
    let class2 = ids(r.students(&a.school_id, &StudentFilter { class: Some("九(2)班".into()), status: None, ..Default::default() }).await.expect("students"));
    assert_eq!(class2, vec![u.student(4), u.student(5)]);
    let uploaded = ids(r.students(&a.school_id, &StudentFilter { class: None, status: Some(Status::Uploaded), ..Default::default() }).await.expect("students"));
    assert_eq!(uploaded, vec![u.student(4)]);
    let both = ids(r.students(&a.school_id, &StudentFilter { class: Some("九(2)班".into()), status: Some(Status::NotUploaded), ..Default::default() }).await.expect("students"));
    assert_eq!(both, vec![u.student(5)]);
    let none = r.students(&a.school_id, &StudentFilter { class: Some("九(9)班".into()), status: None, ..Default::default() }).await.expect("students");
    assert!(none.is_empty());
    assert_eq!(ids(r.students(&b.school_id, &StudentFilter::default()).await.expect("students")), vec![u.student(9)], "only the school's own students");
    let one = must_student(r, &u.student(3)).await;
    assert_eq!((one.school_id.as_str(), one.name.as_str(), one.class.as_str()), (a.school_id.as_str(), "学生3", "九(1)班"));
    assert_eq!(r.student(&u.student(77)).await.expect("student"), None);
}

pub async fn counts_follow_every_transition(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[(1, "1班"), (2, "1班"), (3, "1班"), (4, "1班"), (5, "1班"), (6, "1班")]).await;
    let empty = school_with(r, &u, 2, &u.district(1), &[]).await;
    let h = u.hash();
    upload(r, &a.school_id, &u.student(1), &u.ticket(1), at_min(0)).await;
    pending(r, &a.school_id, &u.student(2), &u.ticket(2), at_min(1), h).await;
    pending(r, &a.school_id, &u.student(3), &u.ticket(3), at_min(2), h ^ 0xff00).await;
    r.review(&u.student(3), None, gradphoto_core::Decision::Approve, &[], None, "rev", at_min(10)).await.expect("approve");
    upload(r, &a.school_id, &u.student(4), &u.ticket(4), at_min(3)).await;
    decide(r, &u.student(4), &u.ticket(4), &failed(None, &[("blurry", "照片模糊")]), at_min(4)).await;
    let expected = Counts { not_uploaded: 2, uploaded: 1, pending_review: 1, approved: 1, rejected: 1 };
    assert_eq!(r.counts(&a.school_id).await.expect("counts"), expected);
    assert_eq!(r.counts(&empty.school_id).await.expect("counts"), Counts::default());
    assert_eq!(r.counts(&u.school_id(99)).await.expect("counts of an unknown school"), Counts::default());
    let all = r.all_counts().await.expect("all counts");
    assert_eq!(all.get(&a.school_id), Some(&expected), "all_counts agrees with counts");
    assert_eq!(all.get(&empty.school_id), Some(&Counts::default()), "a school without students is listed with zeros");
    // A rejected student uploads again: counts move with it.
    upload(r, &a.school_id, &u.student(4), &u.ticket(5), at_min(20)).await;
    let after = r.counts(&a.school_id).await.expect("counts");
    assert_eq!(after, Counts { uploaded: 2, rejected: 0, ..expected });
}

pub async fn reset_school_gives_a_new_code_and_removes_the_old_account(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let a = school_with(r, &u, 1, &u.district(1), &[]).await;
    let teacher = account(&u.username(1), Role::School, None);
    r.register(&a.registration_code, &teacher).await.expect("register");
    let new_code = u.code(50);
    let reset = r.reset_school(&a.school_id, &new_code).await.expect("reset");
    assert_eq!((reset.registration_code.as_str(), reset.username.as_deref()), (new_code.as_str(), None));
    assert_eq!(r.school(&a.school_id).await.expect("school"), Some(reset.clone()), "the returned school is the stored one");
    assert_eq!(r.account(&teacher.username).await.expect("account"), None, "the old account can no longer log in");
    assert_eq!(r.school_by_code(&a.registration_code).await.expect("by code"), None, "the old code is gone");
    assert_eq!(r.school_by_code(&new_code).await.expect("by code").map(|s| s.school_id), Some(a.school_id.clone()));
    // The new code registers once, even the old username (it was freed).
    r.register(&new_code, &teacher).await.expect("register again");
    assert!(matches!(r.register(&new_code, &account(&u.username(2), Role::School, None)).await, Err(RegisterError::CodeUsed)));
    assert!(matches!(r.reset_school(&u.school_id(9), &u.code(51)).await, Err(gradphoto_core::ports::ResetError::UnknownSchool)));
    // A district account keeps its district.
    let district = gradphoto_core::Account { district: Some(u.district(1)), ..account(&u.username(3), Role::District, None) };
    r.create_account(&district).await.expect("district account");
    assert_eq!(r.account(&district.username).await.expect("account"), Some(district));
}
