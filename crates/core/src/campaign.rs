//! The campaign: its dates, daily opening hours and time zone, parsed once when the bureau sets
//! it. Everything downstream (the window, the API, both stores) holds typed values, so no
//! reader can fall back silently to a default on a bad stored value.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CampaignError(pub String);

/// A time of day on the campaign's clock, in minutes since midnight; 24:00 (the end of the day)
/// is allowed because the seed's hours are 06:00–24:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DailyTime(u16);

impl DailyTime {
    pub const MIDNIGHT: DailyTime = DailyTime(0);
    pub const END_OF_DAY: DailyTime = DailyTime(24 * 60);

    /// "HH:MM", two digits each.
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return None;
        }
        Some(Self(h * 60 + m))
    }

    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }
}

impl fmt::Display for DailyTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for DailyTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DailyTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DailyTime::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("时间应为 HH:MM，当前为“{s}”")))
    }
}

/// IANA zone names on the wire and in both stores.
mod tz_name {
    use super::*;

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Tz>().map_err(|_| serde::de::Error::custom(format!("未知时区“{s}”")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub daily_open: DailyTime,
    pub daily_close: DailyTime,
    #[serde(with = "tz_name")]
    pub timezone: Tz,
    /// What happens to a photo whose check finished (contract v2); campaigns stored before it
    /// existed keep the seed's rule: every photo waits for a person.
    #[serde(default)]
    pub review_policy: ReviewPolicy,
    /// Whether parents may log in and upload (contract v2; default on, as the seed has it).
    #[serde(default = "parents_enabled_by_default")]
    pub parents_enabled: bool,
}

fn parents_enabled_by_default() -> bool {
    true
}

/// Whether a photo the check found nothing wrong with still waits for a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoApprove {
    /// The seed's rule: a person approves every photo.
    #[default]
    None,
    /// A photo that passed every rule with no flag is approved by the policy, except a sample.
    Clean,
}

/// The campaign's review policy (`lifecycle::record_check` applies it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReviewPolicy {
    pub auto_approve: AutoApprove,
    /// Of the photos `clean` would approve, the share (0–100) still sent to a person.
    pub sample_percent: u8,
}

/// The review policy as the bureau typed it; every field optional (kept from the stored one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewPolicyDraft {
    pub auto_approve: Option<String>,
    pub sample_percent: Option<f64>,
}

impl ReviewPolicyDraft {
    fn parse_over(self, previous: ReviewPolicy) -> Result<ReviewPolicy, CampaignError> {
        let auto_approve = match self.auto_approve.as_deref() {
            None => previous.auto_approve,
            Some("none") => AutoApprove::None,
            Some("clean") => AutoApprove::Clean,
            Some(other) => {
                return Err(CampaignError(format!("审核策略应为 none（全部人工审核）或 clean（自动通过无疑点照片），当前为“{}”", other.chars().take(20).collect::<String>())));
            }
        };
        let sample_percent = match self.sample_percent {
            None => previous.sample_percent,
            Some(p) if p.fract() == 0.0 && (0.0..=100.0).contains(&p) => p as u8,
            Some(p) => return Err(CampaignError(format!("抽检比例应为 0–100 的整数，当前为 {p}"))),
        };
        Ok(ReviewPolicy { auto_approve, sample_percent })
    }
}

/// A campaign as the bureau typed it: the times and zone still text, so each mistake gets its
/// own Chinese message instead of a generic "bad body".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignDraft {
    // Every field may be left out of a PUT: it keeps its stored value (contract v2), so a page
    // that knows only some settings cannot reset the others. A first campaign needs them all.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub daily_open: Option<String>,
    #[serde(default)]
    pub daily_close: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    /// Contract v2; left out, the stored campaign's policy is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_policy: Option<ReviewPolicyDraft>,
    /// Contract v2; left out, the stored setting is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents_enabled: Option<bool>,
}

impl CampaignDraft {
    /// A new campaign: settings the draft leaves out take their defaults.
    pub fn parse(self) -> Result<Campaign, CampaignError> {
        self.parse_over(None)
    }

    /// The campaign after a PUT over `previous`: a setting the draft leaves out keeps its stored
    /// value, so an older page cannot reset a newer setting.
    pub fn parse_over(self, previous: Option<&Campaign>) -> Result<Campaign, CampaignError> {
        let fail = |m: String| Err(CampaignError(m));
        let missing = |what: &str| CampaignError(format!("请填写{what}"));
        let name = self.name.or_else(|| previous.map(|c| c.name.clone())).ok_or_else(|| missing("活动名称"))?;
        let starts_on = self.starts_on.or(previous.map(|c| c.starts_on)).ok_or_else(|| missing("开始日期"))?;
        let ends_on = self.ends_on.or(previous.map(|c| c.ends_on)).ok_or_else(|| missing("结束日期"))?;
        let daily_open = self.daily_open.or_else(|| previous.map(|c| c.daily_open.to_string())).ok_or_else(|| missing("每日开放时间"))?;
        let daily_close = self.daily_close.or_else(|| previous.map(|c| c.daily_close.to_string())).ok_or_else(|| missing("每日关闭时间"))?;
        let timezone_name = self.timezone.or_else(|| previous.map(|c| c.timezone.name().to_owned())).ok_or_else(|| missing("时区"))?;
        if name.trim().is_empty() || name.chars().count() > 100 {
            return fail("活动名称不能为空，且不超过 100 字".into());
        }
        if ends_on < starts_on {
            return fail("结束日期不能早于开始日期".into());
        }
        // The window arithmetic adds days to these dates; a year near chrono's limits would make
        // every window check fail, and no real campaign is outside this century.
        for date in [starts_on, ends_on] {
            if !(2000..=2100).contains(&date.year()) {
                return fail(format!("日期“{date}”不在 2000–2100 年之间"));
            }
        }
        let Some(open) = DailyTime::parse(&daily_open) else {
            return fail(format!("每日开放时间应为 HH:MM，当前为“{daily_open}”"));
        };
        let Some(close) = DailyTime::parse(&daily_close) else {
            return fail(format!("每日关闭时间应为 HH:MM，当前为“{daily_close}”"));
        };
        if close <= open {
            return fail("每日关闭时间应晚于开放时间".into());
        }
        let Ok(timezone) = timezone_name.parse::<Tz>() else {
            return fail(format!("未知时区“{timezone_name}”"));
        };
        let kept = previous.map(|c| c.review_policy).unwrap_or_default();
        let review_policy = match self.review_policy {
            Some(d) => d.parse_over(kept)?,
            None => kept,
        };
        let parents_enabled = self.parents_enabled.or(previous.map(|c| c.parents_enabled)).unwrap_or(true);
        Ok(Campaign { name, starts_on, ends_on, daily_open: open, daily_close: close, timezone, review_policy, parents_enabled })
    }
}

/// The seed's campaign shape (06:00–24:00 Shanghai, 2026-06-08 to 2026-10-12), for tests.
#[cfg(test)]
pub(crate) fn example_draft() -> CampaignDraft {
    CampaignDraft {
        name: Some("2026届毕业照片采集".into()),
        starts_on: NaiveDate::from_ymd_opt(2026, 6, 8),
        ends_on: NaiveDate::from_ymd_opt(2026, 10, 12),
        daily_open: Some("06:00".into()),
        daily_close: Some("24:00".into()),
        timezone: Some("Asia/Shanghai".into()),
        review_policy: None,
        parents_enabled: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> CampaignDraft {
        example_draft()
    }

    #[test]
    fn daily_times_parse_strictly() {
        assert_eq!(DailyTime::parse("24:00"), Some(DailyTime::END_OF_DAY));
        assert_eq!(DailyTime::parse("06:30").map(DailyTime::minutes), Some(390));
        assert_eq!(DailyTime::parse("06:30").unwrap().to_string(), "06:30");
        for bad in ["24:01", "6:00", "06:60", "ab:cd", "", "-1:00"] {
            assert_eq!(DailyTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_mistake_has_its_own_message() {
        assert!(draft().parse().is_ok());
        let cases = [
            (CampaignDraft { name: Some(" ".into()), ..draft() }, "活动名称"),
            (CampaignDraft { daily_open: Some("6:00".into()), ..draft() }, "每日开放时间应为 HH:MM，当前为“6:00”"),
            (CampaignDraft { daily_close: Some("25:00".into()), ..draft() }, "每日关闭时间"),
            (CampaignDraft { daily_open: Some("20:00".into()), daily_close: Some("08:00".into()), ..draft() }, "应晚于开放时间"),
            (CampaignDraft { timezone: Some("Mars/Olympus".into()), ..draft() }, "未知时区“Mars/Olympus”"),
            (CampaignDraft { ends_on: NaiveDate::from_ymd_opt(9999, 1, 1), ..draft() }, "2000–2100"),
        ];
        for (d, want) in cases {
            let e = d.clone().parse().expect_err(&format!("{d:?}"));
            assert!(e.0.contains(want), "{e} should mention {want}");
        }
    }

    #[test]
    fn a_put_keeps_every_field_it_leaves_out_and_a_first_campaign_needs_them_all() {
        let first = draft().parse().unwrap();
        let only_policy = CampaignDraft { name: None, starts_on: None, ends_on: None, daily_open: None, daily_close: None, timezone: None, review_policy: None, parents_enabled: Some(false) };
        let next = only_policy.clone().parse_over(Some(&first)).unwrap();
        assert_eq!(next, Campaign { parents_enabled: false, ..first.clone() });
        let e = only_policy.parse().unwrap_err();
        assert!(e.0.contains("请填写活动名称"), "{e}");
        let moved = CampaignDraft { ends_on: NaiveDate::from_ymd_opt(2026, 6, 1), name: None, ..draft() }.parse_over(Some(&first)).unwrap_err();
        assert!(moved.0.contains("结束日期不能早于开始日期"), "a kept field is validated with the new ones: {moved}");
    }

    #[test]
    fn a_put_without_the_policy_keeps_the_stored_one_and_a_bad_policy_is_refused() {
        let clean = ReviewPolicyDraft { auto_approve: Some("clean".into()), sample_percent: Some(5.0) };
        let first = CampaignDraft { review_policy: Some(clean), ..draft() }.parse().unwrap();
        assert_eq!(first.review_policy, ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent: 5 });
        let renamed = CampaignDraft { name: Some("改名".into()), ..draft() }.parse_over(Some(&first)).unwrap();
        assert_eq!(renamed.review_policy, first.review_policy, "an older page's PUT keeps the policy");
        let only_sample = ReviewPolicyDraft { sample_percent: Some(20.0), ..Default::default() };
        let sampled = CampaignDraft { review_policy: Some(only_sample), ..draft() }.parse_over(Some(&first)).unwrap();
        assert_eq!(sampled.review_policy, ReviewPolicy { auto_approve: AutoApprove::Clean, sample_percent: 20 });
        assert_eq!(draft().parse().unwrap().review_policy, ReviewPolicy::default(), "default: every photo to a person");
        for (bad, want) in [(Some("all"), None), (None, Some(101.0)), (None, Some(2.5)), (None, Some(-1.0))] {
            let d = ReviewPolicyDraft { auto_approve: bad.map(str::to_owned), sample_percent: want };
            let e = CampaignDraft { review_policy: Some(d), ..draft() }.parse().unwrap_err();
            assert!(e.0.contains("审核策略") || e.0.contains("抽检比例"), "{e}");
        }
        let old: Campaign = serde_json::from_value(serde_json::json!({"name": "x", "starts_on": "2026-06-08", "ends_on": "2026-06-09",
            "daily_open": "06:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"})).unwrap();
        assert_eq!(old.review_policy, ReviewPolicy::default(), "a campaign stored before v2");
        assert!(old.parents_enabled, "parents may upload unless the bureau says otherwise");
        let off = CampaignDraft { parents_enabled: Some(false), ..draft() }.parse_over(Some(&first)).unwrap();
        assert!(!off.parents_enabled);
        assert!(!CampaignDraft { name: Some("又改名".into()), ..draft() }.parse_over(Some(&off)).unwrap().parents_enabled, "kept when left out");
    }

    #[test]
    fn a_stored_campaign_with_a_bad_zone_is_an_error_not_shanghai() {
        let good = serde_json::to_value(draft().parse().unwrap()).unwrap();
        assert_eq!(good["timezone"], "Asia/Shanghai");
        assert_eq!(good["daily_close"], "24:00");
        let mut bad = good.clone();
        bad["timezone"] = "Nowhere/City".into();
        assert!(serde_json::from_value::<Campaign>(bad).is_err());
        let mut bad = good;
        bad["daily_open"] = "6".into();
        assert!(serde_json::from_value::<Campaign>(bad).is_err());
    }
}
