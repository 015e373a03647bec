//! The upload window: campaign dates plus daily opening hours in the campaign's time zone.

use crate::campaign::Campaign;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    NotStarted,
    Open,
    Maintenance,
    Ended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowState {
    pub open: bool,
    pub phase: Phase,
    pub message: String,
    pub next_open_at: Option<DateTime<Tz>>,
    pub closes_at: Option<DateTime<Tz>>,
}

fn at_minutes(tz: Tz, day: NaiveDate, minutes: u32) -> DateTime<Tz> {
    let naive = day.and_time(NaiveTime::MIN) + Duration::minutes(minutes as i64);
    // Asia/Shanghai has no DST; for zones that do, take the earliest valid instant.
    tz.from_local_datetime(&naive).earliest().unwrap_or_else(|| tz.from_utc_datetime(&naive))
}

fn fmt_local(t: &DateTime<Tz>) -> String {
    t.format("%Y年%m月%d日 %H:%M").to_string()
}

/// Where `now` falls in the campaign. With no campaign configured the window is closed.
pub fn evaluate(campaign: Option<&Campaign>, now: DateTime<Utc>) -> WindowState {
    let Some(c) = campaign else {
        return WindowState {
            open: false,
            phase: Phase::NotStarted,
            message: "照片采集活动尚未设置，请等待区县通知。".into(),
            next_open_at: None,
            closes_at: None,
        };
    };
    let tz = c.timezone;
    let open_min = c.daily_open.minutes();
    let close_min = c.daily_close.minutes();
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let first_open = at_minutes(tz, c.starts_on, open_min);
    let last_close = at_minutes(tz, c.ends_on, close_min);
    let hours = format!("每天 {}—{} 开放", c.daily_open, c.daily_close);

    if local < first_open {
        return WindowState {
            open: false,
            phase: Phase::NotStarted,
            message: format!("照片上传尚未开始，将于 {} 开放（{}）。", fmt_local(&first_open), hours),
            next_open_at: Some(first_open),
            closes_at: None,
        };
    }
    if local >= last_close {
        return WindowState {
            open: false,
            phase: Phase::Ended,
            message: format!("照片上传已于 {} 结束。如有疑问请联系区县或客服热线。", fmt_local(&last_close)),
            next_open_at: None,
            closes_at: None,
        };
    }
    if open_min == 0 && close_min >= 24 * 60 {
        // Open around the clock: the next closing is the campaign's end, not midnight.
        return WindowState {
            open: true,
            phase: Phase::Open,
            message: format!("系统全天开放，照片上传截止到 {} 24:00。", c.ends_on.format("%Y年%m月%d日")),
            next_open_at: None,
            closes_at: Some(last_close),
        };
    }
    let open_today = at_minutes(tz, today, open_min);
    let close_today = at_minutes(tz, today, close_min);
    if local >= open_today && local < close_today {
        return WindowState {
            open: true,
            phase: Phase::Open,
            message: format!("系统开放中，今天 {} 进入维护。", close_today.format("%H:%M").to_string().replace("00:00", "24:00")),
            next_open_at: None,
            closes_at: Some(close_today),
        };
    }
    let next = if local < open_today { open_today } else { at_minutes(tz, today + Duration::days(1), open_min) };
    WindowState {
        open: false,
        phase: Phase::Maintenance,
        message: format!("系统维护中，将于 {} 重新开放（{}）。维护时间内无法登录和上传。", fmt_local(&next), hours),
        next_open_at: Some(next),
        closes_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::DailyTime;

    fn campaign() -> Campaign {
        crate::campaign::example_draft().parse().unwrap()
    }

    fn shanghai(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_campaign_open_around_the_clock_names_its_end_not_midnight() {
        let c = Campaign { daily_open: DailyTime::MIDNIGHT, daily_close: DailyTime::END_OF_DAY, ..campaign() };
        for at in ["2026-06-08T00:00:00+08:00", "2026-07-01T23:59:00+08:00", "2026-10-12T23:59:59+08:00"] {
            let w = evaluate(Some(&c), shanghai(at));
            assert_eq!((w.open, w.phase), (true, Phase::Open), "{at}");
            assert_eq!(w.message, "系统全天开放，照片上传截止到 2026年10月12日 24:00。", "{at}");
            assert_eq!(w.closes_at.map(|t| t.with_timezone(&Utc)), Some(shanghai("2026-10-13T00:00:00+08:00")), "{at}");
        }
        assert_eq!(evaluate(Some(&c), shanghai("2026-10-13T00:00:00+08:00")).phase, Phase::Ended);
        assert_eq!(evaluate(Some(&c), shanghai("2026-06-07T23:59:00+08:00")).phase, Phase::NotStarted);
    }

    #[test]
    fn phases_across_a_campaign() {
        let c = campaign();
        let w = evaluate(Some(&c), shanghai("2026-06-07T12:00:00+08:00"));
        assert_eq!(w.phase, Phase::NotStarted);
        assert_eq!(w.next_open_at.unwrap().to_rfc3339(), "2026-06-08T06:00:00+08:00");

        let w = evaluate(Some(&c), shanghai("2026-06-08T06:00:00+08:00"));
        assert_eq!(w.phase, Phase::Open);
        assert!(w.open);

        let w = evaluate(Some(&c), shanghai("2026-07-01T23:59:59+08:00"));
        assert_eq!(w.phase, Phase::Open);

        let w = evaluate(Some(&c), shanghai("2026-07-02T05:59:00+08:00"));
        assert_eq!(w.phase, Phase::Maintenance);
        assert_eq!(w.next_open_at.unwrap().to_rfc3339(), "2026-07-02T06:00:00+08:00");
        assert!(w.message.contains("2026年07月02日 06:00"), "{}", w.message);

        let w = evaluate(Some(&c), shanghai("2026-10-12T23:00:00+08:00"));
        assert_eq!(w.phase, Phase::Open);
        let w = evaluate(Some(&c), shanghai("2026-10-13T00:00:00+08:00"));
        assert_eq!(w.phase, Phase::Ended);
        assert!(w.next_open_at.is_none());
    }

    #[test]
    fn evening_close_reopens_next_morning() {
        let mut c = campaign();
        c.daily_close = DailyTime::parse("20:00").unwrap();
        let w = evaluate(Some(&c), shanghai("2026-07-01T21:00:00+08:00"));
        assert_eq!(w.phase, Phase::Maintenance);
        assert_eq!(w.next_open_at.unwrap().to_rfc3339(), "2026-07-02T06:00:00+08:00");
    }
}
