//! The campaign's statistics (contract v2, `GET /api/admin/stats`): what every transition adds
//! to its district's figures, written once here so the counters both adapters keep and a replay
//! of the audit trail are the same sum by construction.
//!
//! The figures are anonymous (no student id in them) and survive a purge: after the campaign
//! the bureau still reports where it ended. Days are the bureau's days in Asia/Shanghai, the
//! zone every campaign of a Chinese city runs in (it has no daylight saving, so a date is an
//! instant's UTC+8 calendar day).

use crate::domain::{AuditEvent, Counts, Status};
use crate::review_reasons;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use std::collections::BTreeMap;

/// What one event (or one roster import) adds to a district's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsDelta {
    /// Students enrolled (a roster import); they start `not_uploaded`.
    pub enrolled: i64,
    /// Status moves: one student out of `.0`, into `.1`.
    pub moved: Option<(Status, Status)>,
    /// Codes of a rejection decision (by the check, a reviewer or a reopen).
    pub rejected_codes: Vec<String>,
    /// An appeal, with the codes of the rejection it appeals.
    pub appealed: Option<Vec<String>>,
    /// An appeal a reviewer approved, with the automatic codes it overruled.
    pub overruled: Option<Vec<String>>,
    /// The day's series, when the event counts in it.
    pub day: Option<(NaiveDate, DayCounts)>,
    /// The bureau's day the event happened on (none for an enrolment).
    pub on: Option<NaiveDate>,
}

/// One day's activity: photos that landed, approvals (a person's or the policy's) and
/// rejections (the check's, a person's, or a reopen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub uploads: i64,
    pub approved: i64,
    pub rejected: i64,
}

impl DayCounts {
    pub fn add(&mut self, o: &DayCounts) {
        self.uploads += o.uploads;
        self.approved += o.approved;
        self.rejected += o.rejected;
    }
    pub fn is_zero(&self) -> bool {
        *self == DayCounts::default()
    }
}

/// The bureau's calendar day of an instant.
pub fn day_of(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Shanghai).date_naive()
}

impl StatsDelta {
    /// A roster import enrolled `n` students of one district.
    pub fn enrolled(n: i64) -> Self {
        StatsDelta { enrolled: n, ..Default::default() }
    }

    /// What a transition's audit event adds. Every write of a transition applies exactly this,
    /// in the transition's own transaction.
    pub fn of(e: &AuditEvent) -> Self {
        let moved = (e.from != e.to).then_some((e.from, e.to));
        let mut day = DayCounts::default();
        match e.to {
            _ if e.from == e.to => {}
            Status::Uploaded => day.uploads = 1,
            Status::Approved => day.approved = 1,
            Status::Rejected => day.rejected = 1,
            Status::NotUploaded | Status::PendingReview => {}
        }
        let is_rejection = e.to == Status::Rejected && e.from != Status::Rejected;
        StatsDelta {
            enrolled: 0,
            moved,
            rejected_codes: if is_rejection { e.reasons.clone() } else { Vec::new() },
            // A rejected photo goes back to a person only by an appeal (lifecycle::appeal).
            appealed: (e.from == Status::Rejected && e.to == Status::PendingReview).then(|| e.reasons.clone()),
            overruled: (!e.overruled.is_empty()).then(|| e.overruled.clone()),
            day: (!day.is_zero()).then(|| (day_of(e.at), day)),
            on: Some(day_of(e.at)),
        }
    }

    /// The status counters' moves as (status, by): an enrolment adds to `not_uploaded`.
    pub fn status_moves(&self) -> Vec<(Status, i64)> {
        let mut moves = Vec::new();
        if self.enrolled != 0 {
            moves.push((Status::NotUploaded, self.enrolled));
        }
        if let Some((from, to)) = self.moved.filter(|(f, t)| f != t) {
            moves.extend([(from, -1), (to, 1)]);
        }
        moves
    }

    /// The counters this delta moves, as both stores name them.
    pub fn entries(&self) -> Vec<(StatKey, i64)> {
        let mut out = Vec::new();
        if self.enrolled != 0 {
            out.push((StatKey::Students, self.enrolled));
        }
        out.extend(self.status_moves().into_iter().map(|(st, by)| (StatKey::Status(st), by)));
        out.extend(self.rejected_codes.iter().map(|c| (StatKey::Rejected(c.clone()), 1)));
        if let Some(codes) = &self.appealed {
            out.push((StatKey::Appeals, 1));
            out.extend(codes.iter().map(|c| (StatKey::Appealed(c.clone()), 1)));
        }
        if let Some(codes) = &self.overruled {
            out.push((StatKey::Overrules, 1));
            out.extend(codes.iter().map(|c| (StatKey::Overruled(c.clone()), 1)));
        }
        if let Some((date, day)) = &self.day {
            for (field, by) in [(DayField::Uploads, day.uploads), (DayField::Approved, day.approved), (DayField::Rejected, day.rejected)] {
                if by != 0 {
                    out.push((StatKey::Day(*date, field), by));
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.enrolled == 0 && self.status_moves().is_empty() && self.rejected_codes.is_empty() && self.appealed.is_none() && self.overruled.is_none() && self.day.is_none()
    }
}

/// One counter of a district's figures. Its `name` is the SQLite row key and the DynamoDB
/// attribute name, so both stores read back with [`Stats::add`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatKey {
    Students,
    Status(Status),
    Rejected(String),
    Appeals,
    Overrules,
    Appealed(String),
    Overruled(String),
    Day(NaiveDate, DayField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DayField {
    Uploads,
    Approved,
    Rejected,
}

impl DayField {
    const ALL: [DayField; 3] = [DayField::Uploads, DayField::Approved, DayField::Rejected];
    fn as_str(self) -> &'static str {
        match self {
            DayField::Uploads => "uploads",
            DayField::Approved => "approved",
            DayField::Rejected => "rejected",
        }
    }
}

impl StatKey {
    pub fn name(&self) -> String {
        match self {
            StatKey::Students => "students".into(),
            StatKey::Status(st) => format!("status:{}", st.as_str()),
            StatKey::Rejected(c) => format!("rejected:{c}"),
            StatKey::Appeals => "appeals".into(),
            StatKey::Overrules => "overrules".into(),
            StatKey::Appealed(c) => format!("appealed:{c}"),
            StatKey::Overruled(c) => format!("overruled:{c}"),
            StatKey::Day(d, f) => format!("day:{}:{}", d.format("%Y-%m-%d"), f.as_str()),
        }
    }

    /// The key a name stands for; `None` for anything else (a store's own attributes).
    pub fn parse(name: &str) -> Option<StatKey> {
        let (kind, rest) = name.split_once(':').unwrap_or((name, ""));
        let code = || (!rest.is_empty()).then(|| rest.to_owned());
        match kind {
            "students" if rest.is_empty() => Some(StatKey::Students),
            "appeals" if rest.is_empty() => Some(StatKey::Appeals),
            "overrules" if rest.is_empty() => Some(StatKey::Overrules),
            "status" => Status::parse(rest).ok().map(StatKey::Status),
            "rejected" => code().map(StatKey::Rejected),
            "appealed" => code().map(StatKey::Appealed),
            "overruled" => code().map(StatKey::Overruled),
            "day" => {
                let (date, field) = rest.rsplit_once(':')?;
                let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
                DayField::ALL.into_iter().find(|f| f.as_str() == field).map(|f| StatKey::Day(date, f))
            }
            _ => None,
        }
    }

    /// Whether the key counts moves that happen every day, for every photo (status moves and
    /// the series), rather than rarer ones (enrolments, codes). DynamoDB keeps the former in
    /// per-day items, so the items every transition writes stay small.
    pub fn is_daily(&self) -> bool {
        matches!(self, StatKey::Status(_) | StatKey::Day(..))
    }
}

/// How often appeals named a rule, and how often a person overruled it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppealCounts {
    pub appealed: i64,
    pub overruled: i64,
}

/// One district's figures (or several merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub students: i64,
    pub counts: BTreeMap<Status, i64>,
    /// Rejection decisions carrying each code.
    pub rejected_by_code: BTreeMap<String, i64>,
    pub appeals: AppealCounts,
    pub appeals_by_code: BTreeMap<String, AppealCounts>,
    pub per_day: BTreeMap<NaiveDate, DayCounts>,
}

impl Stats {
    pub fn apply(&mut self, d: &StatsDelta) {
        for (key, by) in d.entries() {
            self.add(&key, by);
        }
    }

    /// Adds `by` to one counter (how a store's rows or attributes are read back).
    pub fn add(&mut self, key: &StatKey, by: i64) {
        match key {
            StatKey::Students => self.students += by,
            StatKey::Status(st) => *self.counts.entry(*st).or_default() += by,
            StatKey::Rejected(code) => *self.rejected_by_code.entry(code.clone()).or_default() += by,
            StatKey::Appeals => self.appeals.appealed += by,
            StatKey::Overrules => self.appeals.overruled += by,
            StatKey::Appealed(code) => self.appeals_by_code.entry(code.clone()).or_default().appealed += by,
            StatKey::Overruled(code) => self.appeals_by_code.entry(code.clone()).or_default().overruled += by,
            StatKey::Day(date, field) => {
                let d = self.per_day.entry(*date).or_default();
                match field {
                    DayField::Uploads => d.uploads += by,
                    DayField::Approved => d.approved += by,
                    DayField::Rejected => d.rejected += by,
                }
            }
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        self.students += o.students;
        for (k, v) in &o.counts {
            *self.counts.entry(*k).or_default() += v;
        }
        for (k, v) in &o.rejected_by_code {
            *self.rejected_by_code.entry(k.clone()).or_default() += v;
        }
        self.appeals.appealed += o.appeals.appealed;
        self.appeals.overruled += o.appeals.overruled;
        for (k, v) in &o.appeals_by_code {
            let e = self.appeals_by_code.entry(k.clone()).or_default();
            e.appealed += v.appealed;
            e.overruled += v.overruled;
        }
        for (k, v) in &o.per_day {
            self.per_day.entry(*k).or_default().add(v);
        }
    }

    /// The status counts as the API shows them (a counter below zero would be a bug; shown as 0).
    pub fn status_counts(&self) -> Counts {
        let mut c = Counts::default();
        for (st, n) in &self.counts {
            c.add(*st, u32::try_from(*n).unwrap_or(0));
        }
        c
    }

    /// Drops the entries a sharded store leaves at zero, so equal figures compare equal.
    pub fn normalized(mut self) -> Self {
        self.counts.retain(|_, n| *n != 0);
        self.rejected_by_code.retain(|_, n| *n != 0);
        self.appeals_by_code.retain(|_, a| *a != AppealCounts::default());
        self.per_day.retain(|_, d| !d.is_zero());
        self
    }

    /// The figures a history adds up to: the enrolments and every audit event, per district.
    /// The contract suite compares the adapters' counters with this.
    pub fn replay<'a>(enrolled: impl IntoIterator<Item = (&'a str, i64)>, events: impl IntoIterator<Item = (&'a str, &'a AuditEvent)>) -> BTreeMap<String, Stats> {
        let mut r = Replay::default();
        for (district, n) in enrolled {
            r.enrol(district, n);
        }
        for (district, e) in events {
            r.event(district, e);
        }
        r.finish()
    }

    /// Every counter with its value, as the stores write them (the inverse of [`Stats::add`]):
    /// reading these back with `add` gives the same figures.
    pub fn entries(&self) -> Vec<(StatKey, i64)> {
        let mut out = vec![(StatKey::Students, self.students)];
        out.extend(self.counts.iter().map(|(st, n)| (StatKey::Status(*st), *n)));
        out.extend(self.rejected_by_code.iter().map(|(c, n)| (StatKey::Rejected(c.clone()), *n)));
        out.extend([(StatKey::Appeals, self.appeals.appealed), (StatKey::Overrules, self.appeals.overruled)]);
        for (c, a) in &self.appeals_by_code {
            out.extend([(StatKey::Appealed(c.clone()), a.appealed), (StatKey::Overruled(c.clone()), a.overruled)]);
        }
        for (date, d) in &self.per_day {
            out.extend([
                (StatKey::Day(*date, DayField::Uploads), d.uploads),
                (StatKey::Day(*date, DayField::Approved), d.approved),
                (StatKey::Day(*date, DayField::Rejected), d.rejected),
            ]);
        }
        out.retain(|(_, n)| *n != 0);
        out
    }
}

/// A replay fed one enrolment or event at a time, so a city's audit trail need not be held in
/// memory at once (`stats_repair`).
#[derive(Debug, Default)]
pub struct Replay {
    out: BTreeMap<String, Stats>,
}

impl Replay {
    pub fn enrol(&mut self, district: &str, n: i64) {
        self.at(district).apply(&StatsDelta::enrolled(n));
    }
    pub fn event(&mut self, district: &str, e: &AuditEvent) {
        self.at(district).apply(&StatsDelta::of(e));
    }
    fn at(&mut self, district: &str) -> &mut Stats {
        if !self.out.contains_key(district) {
            self.out.insert(district.to_owned(), Stats::default());
        }
        self.out.get_mut(district).expect("inserted above")
    }
    pub fn finish(self) -> BTreeMap<String, Stats> {
        self.out.into_iter().map(|(d, s)| (d, s.normalized())).collect()
    }
}

/// A Chinese label for a code in the aggregates: the reviewer's wording where there is one, the
/// file rules' short names otherwise (their messages carry one photo's measured values).
pub fn label(code: &str) -> &str {
    if let Some(m) = review_reasons::message(code) {
        return m;
    }
    match code {
        "not_jpeg" => "不是 JPEG 格式",
        "too_large" => "文件过大",
        "too_small" => "文件过小",
        "corrupt" => "文件损坏或没有上传完整",
        "wrong_size" => "尺寸不是 272×354 像素",
        "low_dpi" => "分辨率低于 300 dpi",
        "not_colour" => "不是彩色照片",
        "green_scarf" => "小学毕业生照片不允许佩戴绿领巾",
        "check_failed" => "自动检查未能完成",
        "possibly_stretched" => "疑似拉伸变形",
        "possibly_rephotographed" => "疑似翻拍",
        other => other,
    }
}

/// Where the campaign will end at the recent pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub ends_on: NaiveDate,
    pub days_left: i64,
    /// Approvals per day over the pace window.
    pub per_day: f64,
    pub expected_approved: i64,
    pub expected_percent: i64,
}

/// Days of approvals the pace is measured over: a week, so a slow weekend or one busy day
/// does not swing the forecast.
pub const PACE_DAYS: i64 = 7;

/// The approvals expected by the end of `ends_on` if the pace of the last `PACE_DAYS` days up
/// to `today` holds — counted from the campaign's first day when it began less than a week ago,
/// so quiet days count as quiet. `None` before the campaign starts, or with no students.
pub fn project(s: &Stats, today: NaiveDate, starts_on: NaiveDate, ends_on: NaiveDate) -> Option<Projection> {
    let from = starts_on.max(today - Duration::days(PACE_DAYS - 1));
    let window_days = (today - from).num_days() + 1;
    if window_days <= 0 || s.students <= 0 {
        return None;
    }
    let approved_in_window: i64 = s.per_day.range(from..=today).map(|(_, d)| d.approved).sum();
    let per_day = approved_in_window as f64 / window_days as f64;
    let approved_now = s.counts.get(&Status::Approved).copied().unwrap_or(0).max(0);
    // Today is still running: the days after it remain.
    let days_left = (ends_on - today).num_days().max(0);
    let expected = (approved_now as f64 + per_day * days_left as f64).round() as i64;
    let expected_approved = expected.min(s.students);
    Some(Projection {
        ends_on,
        days_left,
        per_day,
        expected_approved,
        expected_percent: ((expected_approved as f64 * 100.0) / s.students as f64).floor() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StudentId;
    use chrono::TimeZone;

    fn event(from: Status, to: Status, reasons: &[&str], overruled: &[&str], at: DateTime<Utc>) -> AuditEvent {
        AuditEvent {
            at,
            actor: "x".into(),
            student_id: StudentId::parse("J1").unwrap(),
            from,
            to,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            note: None,
            overruled: overruled.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn days_are_shanghai_days() {
        // 16:30 UTC is 00:30 the next day in Shanghai.
        assert_eq!(day_of(Utc.with_ymd_and_hms(2026, 6, 10, 16, 30, 0).unwrap()), NaiveDate::from_ymd_opt(2026, 6, 11).unwrap());
        assert_eq!(day_of(Utc.with_ymd_and_hms(2026, 6, 10, 15, 59, 0).unwrap()), NaiveDate::from_ymd_opt(2026, 6, 10).unwrap());
    }

    #[test]
    fn a_history_adds_up_to_its_statuses_reasons_appeals_and_days() {
        use Status::*;
        let t = Utc.with_ymd_and_hms(2026, 6, 10, 2, 0, 0).unwrap();
        let history = [
            event(NotUploaded, Uploaded, &[], &[], t),
            event(Uploaded, Rejected, &["blurry", "too_dark"], &[], t),
            event(Rejected, PendingReview, &["blurry", "too_dark"], &[], t + Duration::days(1)),
            event(PendingReview, Approved, &[], &["blurry", "too_dark"], t + Duration::days(1)),
            event(Approved, Rejected, &["wrong_person"], &[], t + Duration::days(2)),
            event(Rejected, Uploaded, &[], &[], t + Duration::days(2)),
        ];
        let by = Stats::replay([("东城区", 3)], history.iter().map(|e| ("东城区", e)));
        let s = &by["东城区"];
        assert_eq!(s.students, 3);
        assert_eq!(s.counts, BTreeMap::from([(NotUploaded, 2), (Uploaded, 1)]));
        assert_eq!(s.rejected_by_code, BTreeMap::from([("blurry".into(), 1), ("too_dark".into(), 1), ("wrong_person".into(), 1)]));
        assert_eq!(s.appeals, AppealCounts { appealed: 1, overruled: 1 });
        assert_eq!(s.appeals_by_code["blurry"], AppealCounts { appealed: 1, overruled: 1 });
        let day = |d: i64| s.per_day[&(day_of(t) + Duration::days(d))];
        assert_eq!(day(0), DayCounts { uploads: 1, approved: 0, rejected: 1 });
        assert_eq!(day(1), DayCounts { uploads: 0, approved: 1, rejected: 0 });
        assert_eq!(day(2), DayCounts { uploads: 1, approved: 0, rejected: 1 });
    }

    #[test]
    fn merged_districts_equal_one_replay_and_zero_entries_vanish() {
        let t = Utc.with_ymd_and_hms(2026, 6, 10, 2, 0, 0).unwrap();
        let up = event(Status::NotUploaded, Status::Uploaded, &[], &[], t);
        let by = Stats::replay([("a", 1), ("b", 1)], [("a", &up), ("b", &up)]);
        let mut all = Stats::default();
        by.values().for_each(|s| all.merge(s));
        let one = Stats::replay([("x", 2)], [("x", &up), ("x", &up)]);
        assert_eq!(all.normalized(), one["x"]);
        let mut back = Stats::default();
        back.apply(&StatsDelta::of(&up));
        back.apply(&StatsDelta::of(&event(Status::Uploaded, Status::NotUploaded, &[], &[], t)));
        assert!(back.normalized().counts.is_empty());
    }

    #[test]
    fn the_projection_follows_the_last_week_and_caps_at_every_student() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() + Duration::days(n);
        let mut s = Stats { students: 1000, ..Default::default() };
        for i in 0..14 {
            // 10 a day for the first week, 20 a day since.
            s.per_day.insert(d(i), DayCounts { approved: if i < 7 { 10 } else { 20 }, ..Default::default() });
        }
        s.counts.insert(Status::Approved, 210);
        let p = project(&s, d(13), d(0), d(33)).unwrap();
        assert_eq!((p.days_left, p.per_day, p.expected_approved, p.expected_percent), (20, 20.0, 610, 61));
        assert_eq!(project(&s, d(13), d(0), d(100)).unwrap().expected_percent, 100);
        // Two days into the campaign, one of them quiet: half the pace of the busy day.
        let early = Stats { per_day: BTreeMap::from([(d(1), DayCounts { approved: 10, ..Default::default() })]), ..s.clone() };
        assert_eq!(project(&early, d(1), d(0), d(33)).unwrap().per_day, 5.0);
        assert_eq!(project(&s, d(0), d(1), d(33)), None, "before the campaign starts");
        assert_eq!(project(&Stats::default(), d(0), d(0), d(10)), None);
    }

    #[test]
    fn every_key_name_reads_back_as_itself() {
        let d = NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
        let keys = [
            StatKey::Students,
            StatKey::Status(Status::PendingReview),
            StatKey::Rejected("blurry".into()),
            StatKey::Appeals,
            StatKey::Overrules,
            StatKey::Appealed("too_dark".into()),
            StatKey::Overruled("head_too_small".into()),
            StatKey::Day(d, DayField::Approved),
        ];
        for k in keys {
            assert_eq!(StatKey::parse(&k.name()), Some(k.clone()), "{}", k.name());
        }
        for other in ["pk", "sk", "status:nope", "rejected:", "day:2026-13-01:uploads", "day:2026-06-10:x", "version"] {
            assert_eq!(StatKey::parse(other), None, "{other}");
        }
    }

    #[test]
    fn every_code_has_a_chinese_label() {
        for code in ["not_jpeg", "wrong_size", "blurry", "red_scarf", "green_scarf", "check_failed"] {
            assert!(label(code).chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{code}");
        }
    }
}
