//! `GET /api/admin/stats` as contract v2 shapes it, from the districts' figures the store keeps.

use chrono::{DateTime, Utc};
use gradphoto_core::stats::{self, Stats};
use gradphoto_core::{Campaign, Counts};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
pub struct StatsView {
    pub students: i64,
    pub counts: Counts,
    pub by_district: Vec<DistrictView>,
    pub by_reason: Vec<ReasonView>,
    pub appeals: AppealsView,
    pub per_day: Vec<DayView>,
    pub projection: Option<ProjectionView>,
}

#[derive(Serialize)]
pub struct DistrictView {
    pub district: String,
    pub students: i64,
    pub counts: Counts,
}

#[derive(Serialize)]
pub struct ReasonView {
    pub code: String,
    pub message: String,
    pub rejected: i64,
}

#[derive(Serialize)]
pub struct AppealsView {
    pub total: i64,
    pub overruled: i64,
    pub by_code: Vec<AppealCodeView>,
}

#[derive(Serialize)]
pub struct AppealCodeView {
    pub code: String,
    pub message: String,
    pub appealed: i64,
    pub overruled: i64,
}

#[derive(Serialize)]
pub struct DayView {
    pub date: String,
    pub uploads: i64,
    pub approved: i64,
    pub rejected: i64,
}

#[derive(Serialize)]
pub struct ProjectionView {
    pub ends_on: String,
    pub days_left: i64,
    pub per_day: f64,
    pub expected_approved: i64,
    pub expected_percent: i64,
}

/// `by_district` is every district in `districts`, in name order; the totals are their sum.
pub fn stats_view(districts: &BTreeMap<String, Stats>, campaign: Option<&Campaign>, now: DateTime<Utc>) -> StatsView {
    let mut all = Stats::default();
    districts.values().for_each(|s| all.merge(s));
    let mut by_reason: Vec<ReasonView> = all
        .rejected_by_code
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(code, n)| ReasonView { code: code.clone(), message: stats::label(code).to_owned(), rejected: *n })
        .collect();
    // Most frequent first; ties in code order, so the ranking is stable between views.
    by_reason.sort_by(|a, b| b.rejected.cmp(&a.rejected).then_with(|| a.code.cmp(&b.code)));
    let mut by_code: Vec<AppealCodeView> = all
        .appeals_by_code
        .iter()
        .map(|(code, a)| AppealCodeView { code: code.clone(), message: stats::label(code).to_owned(), appealed: a.appealed, overruled: a.overruled })
        .collect();
    by_code.sort_by(|a, b| b.overruled.cmp(&a.overruled).then_with(|| b.appealed.cmp(&a.appealed)).then_with(|| a.code.cmp(&b.code)));
    let projection = campaign.and_then(|c| stats::project(&all, stats::day_of(now).min(c.ends_on), c.starts_on, c.ends_on)).map(|p| ProjectionView {
        ends_on: p.ends_on.format("%Y-%m-%d").to_string(),
        days_left: p.days_left,
        per_day: (p.per_day * 10.0).round() / 10.0,
        expected_approved: p.expected_approved,
        expected_percent: p.expected_percent,
    });
    StatsView {
        students: all.students,
        counts: all.status_counts(),
        by_district: districts.iter().map(|(d, s)| DistrictView { district: d.clone(), students: s.students, counts: s.status_counts() }).collect(),
        by_reason,
        appeals: AppealsView { total: all.appeals.appealed, overruled: all.appeals.overruled, by_code },
        per_day: all
            .per_day
            .iter()
            .map(|(d, c)| DayView { date: d.format("%Y-%m-%d").to_string(), uploads: c.uploads, approved: c.approved, rejected: c.rejected })
            .collect(),
        projection,
    }
}
