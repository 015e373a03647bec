//! Contract v2's statistics: the counters each adapter keeps with every transition equal what
//! the students' records say, and a replay of the audit trail (core `stats`).

use crate::fixture::*;
use gradphoto_core::lifecycle::AppealRequest;
use gradphoto_core::ports::CheckOutcome;
use gradphoto_core::stats::{DayCounts, Stats, day_of};
use gradphoto_core::{AutoApprove, Decision, Reason, ReviewPolicy, Status, Student, StudentId};
use chrono::Duration;
use futures_util::future::join_all;
use std::collections::BTreeMap;

fn appeal<'a>(photo_id: &'a str, school_id: &'a str) -> AppealRequest<'a> {
    AppealRequest { photo_id, note: Some("背景是白色"), by: TEACHER, school_id: Some(school_id) }
}

fn judged(hash: Option<u64>) -> CheckOutcome {
    failed(hash, &[("background_not_white", "背景不是白色"), ("too_dark", "照片过暗")])
}

/// What the records and the trail say about `ids` of `district`.
async fn replayed(r: &dyn gradphoto_core::ports::Records, district: &str, ids: &[StudentId]) -> (Stats, BTreeMap<Status, i64>) {
    let mut events = Vec::new();
    let mut statuses: BTreeMap<Status, i64> = BTreeMap::new();
    for id in ids {
        let s: Student = must_student(r, id).await;
        *statuses.entry(s.status).or_default() += 1;
        events.extend(r.audit_trail(id).await.expect("trail"));
    }
    let by = Stats::replay([(district, ids.len() as i64)], events.iter().map(|e| (district, e)));
    (by.get(district).cloned().unwrap_or_default(), statuses)
}

pub async fn stats_equal_the_records_and_a_replay_of_the_audit_trail(fx: &Fixture) {
    let r = fx.records();
    let u = Uniq::new();
    let (east, west) = (u.district(1), u.district(2));
    let a = school_with(r, &u, 1, &east, &(1..=10).map(|k| (k, "1班")).collect::<Vec<_>>()).await;
    let b = school_with(r, &u, 2, &east, &[(11, "1班"), (12, "2班")]).await;
    let c = school_with(r, &u, 3, &west, &(21..=36).map(|k| (k, "1班")).collect::<Vec<_>>()).await;
    let h = u.hash();
    let t1 = |k: u32| u.ticket(k);
    let t2 = |k: u32| u.ticket(100 + k);
    // Shanghai's next day starts 8 hours after t0 (16:00 there).
    let next_day = |m: i64| at_min(8 * 60 + m);

    // East, day one: uploads, a check's judgement appealed and overruled, another appealed and
    // upheld, a file rule, a person's approval and rejection, a re-upload.
    for k in 1..=6 {
        upload(r, &a.school_id, &u.student(k), &t1(k), at_min(k as i64)).await;
    }
    decide(r, &u.student(1), &t1(1), &judged(Some(h)), at_min(10)).await;
    decide(r, &u.student(2), &t1(2), &judged(None), at_min(10)).await;
    decide(r, &u.student(3), &t1(3), &failed(None, &[("wrong_size", "尺寸")]), at_min(10)).await;
    decide(r, &u.student(4), &t1(4), &passed(h ^ 4, &[]), at_min(10)).await;
    decide(r, &u.student(5), &t1(5), &passed(h ^ 5, &[("phone_photo", "手机")]), at_min(10)).await;
    r.appeal(&u.student(1), &appeal(&t1(1), &a.school_id), at_min(11)).await.expect("appeal 1");
    r.appeal(&u.student(2), &appeal(&t1(2), &a.school_id), at_min(11)).await.expect("appeal 2");
    r.review(&u.student(1), Some(&t1(1)), Decision::Approve, &[], None, "rev1", next_day(1)).await.expect("overrule");
    r.review(&u.student(2), Some(&t1(2)), Decision::Reject, &[Reason::new("too_dark", "过暗")], None, "rev1", next_day(1)).await.expect("uphold");
    r.review(&u.student(4), None, Decision::Approve, &[], None, "rev1", next_day(2)).await.expect("approve");
    r.review(&u.student(5), None, Decision::Reject, &[Reason::new("phone_photo", "手机")], None, "rev1", next_day(2)).await.expect("reject");
    // Day two: re-uploads after rejections, the bureau reopening an approval.
    upload(r, &a.school_id, &u.student(3), &t2(3), next_day(3)).await;
    decide(r, &u.student(3), &t2(3), &passed(h ^ 33, &[]), next_day(4)).await;
    upload(r, &a.school_id, &u.student(5), &t2(5), next_day(3)).await;
    r.reopen(&u.student(4), &[Reason::new("wrong_person", "非本人")], Some("家长反映"), "bureau", next_day(5)).await.expect("reopen");
    upload(r, &b.school_id, &u.student(11), &t1(11), next_day(6)).await;
    decide(r, &u.student(11), &t1(11), &failed(None, &[("blurry", "模糊"), ("too_dark", "暗")]), next_day(7)).await;

    // West: many at once (the counters' items are shared by a district: concurrent
    // transactions must all count), half of them approved by the policy.
    let clean = ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent: 0 };
    join_all((21..=32).map(|k| {
        let (school, id, t) = (c.school_id.clone(), u.student(k), t1(k));
        async move {
            upload(r, &school, &id, &t, at_min(20)).await;
            let outcome = if k % 3 == 0 { judged(None) } else { CheckOutcome { policy: if k % 2 == 0 { clean } else { ReviewPolicy::default() }, ..passed(h ^ u64::from(k), &[]) } };
            decide(r, &id, &t, &outcome, at_min(21)).await;
        }
    }))
    .await;

    let east_ids: Vec<StudentId> = (1..=12).map(|k| u.student(k)).collect();
    let west_ids: Vec<StudentId> = (21..=36).map(|k| u.student(k)).collect();
    for (district, ids) in [(&east, &east_ids), (&west, &west_ids)] {
        let (expected, statuses) = replayed(r, district, ids).await;
        let got = r.stats(Some(district)).await.expect("stats");
        assert_eq!(got.keys().collect::<Vec<_>>(), vec![district], "one district asked, one answered");
        let got = &got[district];
        assert_eq!(got.counts, statuses, "{district}: status counts equal the students' records");
        assert_eq!(got, &expected, "{district}: the counters equal a replay of the audit trail");
        let everyone = r.stats(None).await.expect("all stats");
        assert_eq!(everyone.get(district), Some(got), "the bureau's view holds the same figures");
    }

    // Spot checks against the history as written above, so a rule that both sides got wrong
    // still fails.
    let e = &r.stats(Some(&east)).await.expect("stats")[&east];
    assert_eq!(e.students, 12);
    assert_eq!((e.appeals.appealed, e.appeals.overruled), (2, 1));
    assert_eq!((e.appeals_by_code["background_not_white"].appealed, e.appeals_by_code["background_not_white"].overruled), (2, 1));
    // too_dark: two check rejections, a person's upholding, one more check rejection (blurry + too_dark).
    assert_eq!(e.rejected_by_code.get("too_dark"), Some(&4));
    assert_eq!(e.rejected_by_code.get("wrong_person"), Some(&1));
    let day1 = day_of(at_min(0));
    assert_eq!(e.per_day[&day1], DayCounts { uploads: 6, approved: 0, rejected: 3 });
    assert_eq!(e.per_day[&(day1 + Duration::days(1))], DayCounts { uploads: 3, approved: 2, rejected: 4 });
    let w = &r.stats(Some(&west)).await.expect("stats")[&west];
    assert_eq!((w.students, w.counts.get(&Status::Rejected), w.counts.get(&Status::Approved)), (16, Some(&4), Some(&4)));
    assert_eq!(w.counts.get(&Status::NotUploaded), Some(&4));
}

/// A table deployed before the counters existed, and counters that drifted: `stats_repair`
/// finds the difference from the records and rebuilds them, only while the window is closed,
/// and never after a purge (the figures are then all that is left).
pub async fn stats_rebuild_restores_the_counters_from_the_records(fx: &Fixture) {
    use gradphoto_core::stats_repair::{self, Drift, RepairError};
    use gradphoto_core::{Campaign, DailyTime};
    let r = fx.records();
    let u = Uniq::new();
    let (east, west) = (u.district(1), u.district(2));
    let a = school_with(r, &u, 1, &east, &(1..=6).map(|k| (k, "1班")).collect::<Vec<_>>()).await;
    school_with(r, &u, 2, &west, &[(11, "1班"), (12, "1班")]).await;
    let h = u.hash();
    for k in 1..=4 {
        upload(r, &a.school_id, &u.student(k), &u.ticket(k), at_min(k as i64)).await;
    }
    decide(r, &u.student(1), &u.ticket(1), &judged(Some(h)), at_min(10)).await;
    decide(r, &u.student(2), &u.ticket(2), &passed(h ^ 2, &[]), at_min(10)).await;
    decide(r, &u.student(3), &u.ticket(3), &failed(None, &[("blurry", "模糊")]), at_min(10)).await;
    r.appeal(&u.student(1), &appeal(&u.ticket(1), &a.school_id), at_min(11)).await.expect("appeal");
    r.review(&u.student(1), Some(&u.ticket(1)), Decision::Approve, &[], None, "rev1", at_min(12)).await.expect("overrule");
    r.review(&u.student(2), None, Decision::Reject, &[Reason::new("phone_photo", "手机")], None, "rev1", at_min(12)).await.expect("reject");

    let kept = r.stats(None).await.expect("stats");
    let fine = stats_repair::check(r).await.expect("check");
    assert_eq!(fine.drift, vec![], "counters written with the transitions equal the records");
    assert_eq!((fine.districts, fine.students), (2, 8));

    // Deployed before the counters: none at all. The check names what is missing.
    r.replace_stats(&BTreeMap::new()).await.expect("clear");
    assert!(r.stats(None).await.expect("stats").values().all(|s| *s == Stats::default()), "no counters left");
    let missing = stats_repair::check(r).await.expect("check");
    assert!(
        missing.drift.contains(&Drift { district: east.clone(), figure: "students".into(), counted: 0, replayed: 6 }),
        "{:?}",
        missing.drift
    );
    assert!(missing.drift.iter().any(|d| d.district == east && d.figure == "overruled:background_not_white" && d.replayed == 1));

    // Open window: refused, nothing written.
    let campaign = Campaign {
        name: "2026届".into(),
        starts_on: day_of(t0()) - Duration::days(10),
        ends_on: day_of(t0()) + Duration::days(10),
        daily_open: DailyTime::parse("06:00").unwrap(),
        daily_close: DailyTime::parse("24:00").unwrap(),
        timezone: "Asia/Shanghai".parse().unwrap(),
        review_policy: ReviewPolicy::default(),
        parents_enabled: false,
    };
    r.put_campaign(&campaign).await.expect("campaign");
    let open = t0(); // 16:00 in Shanghai
    let night = t0() + Duration::hours(11); // 03:00 in Shanghai: maintenance
    assert!(matches!(stats_repair::rebuild(r, open, false).await, Err(RepairError::WindowOpen(_))), "refused while open");
    assert!(r.stats(None).await.expect("stats").values().all(|s| *s == Stats::default()), "nothing written by a refusal");

    let done = stats_repair::rebuild(r, night, false).await.expect("rebuild at night");
    assert_eq!(done.drift, missing.drift, "the rebuild reports what it put right");
    assert_eq!(r.stats(None).await.expect("stats"), kept, "rebuilt figures equal the ones the transitions wrote");

    // A lost write: one district's figure off by five. Put right, and the next check is clean.
    let mut drifted = kept.clone();
    drifted.get_mut(&west).expect("west").students += 5;
    r.replace_stats(&drifted).await.expect("drift");
    assert_eq!(stats_repair::check(r).await.expect("check").drift, vec![Drift { district: west.clone(), figure: "students".into(), counted: 7, replayed: 2 }]);
    assert_eq!(stats_repair::rebuild(r, open, true).await.expect("forced").drift.len(), 1);
    assert_eq!(stats_repair::check(r).await.expect("check").drift, vec![]);
    assert_eq!(r.stats(None).await.expect("stats"), kept);
    // Transitions after a rebuild still add to the rebuilt counters.
    upload(r, &a.school_id, &u.student(5), &u.ticket(5), at_min(30)).await;
    assert_eq!(stats_repair::check(r).await.expect("check").drift, vec![], "a transition after the rebuild counts");

    // After a purge the records hold no students: a rebuild would wipe the campaign's figures.
    let before_purge = r.stats(None).await.expect("stats");
    r.purge_personal_data().await.expect("purge");
    assert!(matches!(stats_repair::rebuild(r, night, false).await, Err(RepairError::NothingToReplay(8))));
    assert_eq!(r.stats(None).await.expect("stats"), before_purge, "the figures survive");
}
