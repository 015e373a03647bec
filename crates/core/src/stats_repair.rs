//! Checking the statistics' counters against the records, and rebuilding them from the records.
//!
//! For a DynamoDB table deployed before the counters existed (SQLite fills its own when schema
//! v7 first opens), or when an operator finds the dashboard and the school lists disagree. The
//! figures the records imply are [`Stats::replay`]'s: today's students as the enrolment, and
//! every student's audit trail, read through the port — one query per student, so a city of
//! 250,000 costs as many small reads once, never on a page view.
//!
//! Both command lines (`gradphoto stats`, `gradphoto-aws stats`) call this one module, so the
//! safety rules and the wording are the same on every backend.

use crate::domain::AuditEvent;
use crate::ports::{BackendError, Records, StudentFilter};
use crate::purge::join_all;
use crate::stats::{Replay, Stats};
use crate::window::{Phase, evaluate};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;

/// Audit trails read at once (each a small query).
const READ_CONCURRENCY: usize = 32;

type TrailRead<'a> = Pin<Box<dyn Future<Output = Result<Vec<AuditEvent>, BackendError>> + Send + 'a>>;

/// One counter that differs from what the records imply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub district: String,
    /// The counter's stored name (`StatKey::name`), e.g. `status:approved`.
    pub figure: String,
    pub counted: i64,
    pub replayed: i64,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub districts: usize,
    pub students: i64,
    pub drift: Vec<Drift>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("采集窗口开放中（{0}）：重算会与正在进行的上传和审核同时写入统计；请在每日维护时段或活动结束后运行，确需现在运行请加 --force")]
    WindowOpen(String),
    #[error("名册中没有学生（个人数据可能已清除），而统计中有 {0} 名学生：清除后的统计只能保留，不能从记录重算")]
    NothingToReplay(i64),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// The figures the records imply, per district.
pub async fn replayed(records: &dyn Records) -> Result<BTreeMap<String, Stats>, BackendError> {
    let mut replay = Replay::default();
    for school in records.schools().await? {
        let students = records.students(&school.school_id, &StudentFilter::default()).await?;
        if students.is_empty() {
            continue;
        }
        replay.enrol(&school.district, students.len() as i64);
        for chunk in students.chunks(READ_CONCURRENCY) {
            let reads: Vec<TrailRead<'_>> = chunk.iter().map(|s| Box::pin(records.audit_trail(&s.student_id)) as _).collect();
            for trail in join_all(reads).await {
                for e in trail? {
                    replay.event(&school.district, &e);
                }
            }
        }
    }
    Ok(replay.finish())
}

/// Every counter where `counted` and `replayed` differ (a figure missing on one side is 0).
pub fn drift(counted: &BTreeMap<String, Stats>, replayed: &BTreeMap<String, Stats>) -> Vec<Drift> {
    let named = |s: Option<&Stats>| -> BTreeMap<String, i64> { s.map(|s| s.entries().into_iter().map(|(k, n)| (k.name(), n)).collect()).unwrap_or_default() };
    let districts: BTreeSet<&String> = counted.keys().chain(replayed.keys()).collect();
    let mut out = Vec::new();
    for d in districts {
        let (c, r) = (named(counted.get(d)), named(replayed.get(d)));
        let figures: BTreeSet<&String> = c.keys().chain(r.keys()).collect();
        for f in figures {
            let (counted, replayed) = (c.get(f).copied().unwrap_or(0), r.get(f).copied().unwrap_or(0));
            if counted != replayed {
                out.push(Drift { district: d.clone(), figure: f.clone(), counted, replayed });
            }
        }
    }
    out
}

/// Compares the stored counters with the records; changes nothing.
pub async fn check(records: &dyn Records) -> Result<Checked, BackendError> {
    let counted = records.stats(None).await?;
    let replayed = replayed(records).await?;
    Ok(Checked { districts: replayed.len().max(counted.len()), students: replayed.values().map(|s| s.students).sum(), drift: drift(&counted, &replayed) })
}

/// Replaces the stored counters with the figures the records imply; returns what differed.
/// Refused while the window is open (a transition between the read and the write would be
/// lost or counted twice) unless `force`, and when the records hold no students but the
/// counters do: after a purge the figures are all that is left of the campaign.
pub async fn rebuild(records: &dyn Records, now: DateTime<Utc>, force: bool) -> Result<Checked, RepairError> {
    let window = evaluate(records.campaign().await?.as_ref(), now);
    if window.phase == Phase::Open && !force {
        return Err(RepairError::WindowOpen(window.message));
    }
    let counted = records.stats(None).await?;
    let replayed = replayed(records).await?;
    let students_counted: i64 = counted.values().map(|s| s.students).sum();
    if replayed.values().all(|s| s.students == 0) && students_counted != 0 {
        return Err(RepairError::NothingToReplay(students_counted));
    }
    let drift = drift(&counted, &replayed);
    if !drift.is_empty() {
        records.replace_stats(&replayed).await?;
    }
    Ok(Checked { districts: replayed.len(), students: replayed.values().map(|s| s.students).sum(), drift })
}

impl Checked {
    /// The report both command lines print (`rebuilt`: whether the counters were replaced).
    pub fn describe(&self, rebuilt: bool) -> String {
        let head = format!("{} 个区县，{} 名学生；", self.districts, self.students);
        if self.drift.is_empty() {
            return head + "统计与记录一致。";
        }
        let mut out = head + &format!("{} 项统计与记录不一致{}：", self.drift.len(), if rebuilt { "，已按记录重算" } else { "" });
        for d in self.drift.iter().take(50) {
            out += &format!("\n  {} {}：统计 {}，按记录应为 {}", d.district, d.figure, d.counted, d.replayed);
        }
        if self.drift.len() > 50 {
            out += &format!("\n  ……另有 {} 项", self.drift.len() - 50);
        }
        if !rebuilt {
            out += "\n这是检查，未改动任何数据；重算请加 --rebuild（在维护时段运行）。";
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use crate::stats::{StatKey, StatsDelta};

    fn figures(district: &str, deltas: &[StatsDelta]) -> BTreeMap<String, Stats> {
        let mut s = Stats::default();
        for d in deltas {
            s.apply(d);
        }
        BTreeMap::from([(district.to_owned(), s.normalized())])
    }

    #[test]
    fn entries_read_back_to_the_same_figures() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
        let deltas = [
            StatsDelta::enrolled(5),
            StatsDelta { moved: Some((Status::NotUploaded, Status::Uploaded)), day: Some((day, crate::stats::DayCounts { uploads: 1, ..Default::default() })), on: Some(day), ..Default::default() },
            StatsDelta { moved: Some((Status::Uploaded, Status::Rejected)), rejected_codes: vec!["blurry".into()], on: Some(day), ..Default::default() },
            StatsDelta { moved: Some((Status::Rejected, Status::PendingReview)), appealed: Some(vec!["blurry".into()]), on: Some(day), ..Default::default() },
            StatsDelta { moved: Some((Status::PendingReview, Status::Approved)), overruled: Some(vec!["blurry".into()]), on: Some(day), ..Default::default() },
        ];
        let s = figures("徐汇区", &deltas).remove("徐汇区").unwrap();
        let mut back = Stats::default();
        for (k, n) in s.entries() {
            assert_eq!(StatKey::parse(&k.name()), Some(k.clone()), "{k:?} round-trips by name");
            back.add(&k, n);
        }
        assert_eq!(back.normalized(), s);
    }

    #[test]
    fn drift_names_each_differing_figure_on_either_side() {
        let up = StatsDelta { moved: Some((Status::NotUploaded, Status::Uploaded)), ..Default::default() };
        let counted = figures("A", &[StatsDelta::enrolled(3)]);
        let mut replayed = figures("A", &[StatsDelta::enrolled(3), up]);
        replayed.extend(figures("B", &[StatsDelta::enrolled(2)]));
        let d = drift(&counted, &replayed);
        let got: Vec<(&str, &str, i64, i64)> = d.iter().map(|d| (d.district.as_str(), d.figure.as_str(), d.counted, d.replayed)).collect();
        assert_eq!(
            got,
            vec![("A", "status:not_uploaded", 3, 2), ("A", "status:uploaded", 0, 1), ("B", "status:not_uploaded", 0, 2), ("B", "students", 0, 2)]
        );
        assert!(drift(&replayed, &replayed).is_empty());
        let text = Checked { districts: 2, students: 5, drift: d }.describe(false);
        assert!(text.contains("4 项统计与记录不一致") && text.contains("--rebuild"), "{text}");
    }
}
