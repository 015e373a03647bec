//! Purging a campaign's personal data once it has ended and been exported.
//!
//! The photos serve only diploma printing and exam registration, so after the export nothing
//! personal needs to stay: the records lose every student, audit event, school (teacher)
//! account and login failure (`Records::purge_personal_data`), and the store loses every object
//! under `uploads/` and `exports/`. What stays is not personal: the campaign, the schools
//! (district, name, stage) and the bureau/reviewer accounts.
//!
//! This is the one place both command lines (`gradphoto purge`, `gradphoto-aws purge`) call,
//! so the safety rules (refuse before the campaign ends unless forced) and the wording are the
//! same on every backend.

pub use crate::ports::RecordsPurged;
use crate::ports::{BackendError, PhotoStore, Records};
use crate::window::{Phase, evaluate};
use chrono::{DateTime, NaiveDate, Utc};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Object prefixes that hold personal data: uploaded photos and export ZIPs (photos plus a
/// manifest with names).
pub const PHOTO_PREFIX: &str = "uploads/";
pub const EXPORT_PREFIX: &str = "exports/";

/// How many object deletions run at once (S3 answers each in tens of milliseconds; a city's
/// 250,000 photos one by one would take hours).
const DELETE_CONCURRENCY: usize = 32;


/// What a purge would delete (the dry run prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub campaign: Option<String>,
    pub ends_on: Option<NaiveDate>,
    pub ended: bool,
    pub students: u32,
    pub registered_schools: u32,
    pub photos: usize,
    pub exports: usize,
}

/// What a purge deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub records: RecordsPurged,
    pub photos: usize,
    pub exports: usize,
}

impl Purged {
    /// A purge that found nothing (the second run).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.photos == 0 && self.exports == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("尚未设置采集活动，无法判断活动是否已结束；确需清除请加 --force")]
    NoCampaign,
    #[error("采集活动尚未结束（结束日期 {0}），不能清除个人数据；确需提前清除请加 --force")]
    NotEnded(NaiveDate),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Counts what a purge would delete, without deleting anything.
pub async fn plan(records: &dyn Records, store: &dyn PhotoStore, now: DateTime<Utc>) -> Result<Plan, BackendError> {
    let campaign = records.campaign().await?;
    let ended = evaluate(campaign.as_ref(), now).phase == Phase::Ended;
    let students = records.all_counts().await?.values().map(|c| c.total()).sum();
    let registered_schools = records.schools().await?.iter().filter(|s| s.username.is_some()).count() as u32;
    Ok(Plan {
        ended: campaign.is_some() && ended,
        campaign: campaign.as_ref().map(|c| c.name.clone()),
        ends_on: campaign.map(|c| c.ends_on),
        students,
        registered_schools,
        photos: store.list(PHOTO_PREFIX).await?.len(),
        exports: store.list(EXPORT_PREFIX).await?.len(),
    })
}

/// The refusal rule: only after the campaign's last day (in its time zone, per `now`), unless
/// `force`.
pub fn may_purge(plan: &Plan, force: bool) -> Result<(), PurgeError> {
    if force || plan.ended {
        return Ok(());
    }
    match plan.ends_on {
        None => Err(PurgeError::NoCampaign),
        Some(d) => Err(PurgeError::NotEnded(d)),
    }
}

/// Deletes every personal record and every photo/export object, after checking the campaign
/// has ended (unless `force`). Idempotent: a second run deletes nothing and says so.
pub async fn purge(records: &dyn Records, store: &dyn PhotoStore, now: DateTime<Utc>, force: bool) -> Result<Purged, PurgeError> {
    let before = plan(records, store, now).await?;
    may_purge(&before, force)?;
    // Records first: they hold the names and ids; the objects are only reachable through them
    // (or through an operator with bucket access). A failure half way is fixed by running the
    // purge again.
    let purged = records.purge_personal_data().await?;
    let photos = delete_prefix(store, PHOTO_PREFIX).await?;
    let exports = delete_prefix(store, EXPORT_PREFIX).await?;
    Ok(Purged { records: purged, photos, exports })
}

async fn delete_prefix(store: &dyn PhotoStore, prefix: &str) -> Result<usize, BackendError> {
    let keys = store.list(prefix).await?;
    for chunk in keys.chunks(DELETE_CONCURRENCY) {
        let results = join_all(chunk.iter().map(|k| store.delete(k)).collect()).await;
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
    }
    Ok(keys.len())
}

/// Polls every future until all are done (the core has no async runtime or futures crate).
pub(crate) async fn join_all<'a, T>(mut futs: Vec<Pin<Box<dyn Future<Output = T> + Send + 'a>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|v| v.expect("every future finished")).collect()
}

impl Plan {
    /// The dry run's report (Chinese, like the rest of the command line).
    pub fn describe(&self) -> String {
        let campaign = match (&self.campaign, self.ends_on) {
            (Some(name), Some(end)) => format!("采集活动“{name}”，结束日期 {end}（{}）", if self.ended { "已结束" } else { "尚未结束" }),
            _ => "尚未设置采集活动".to_owned(),
        };
        format!(
            "{campaign}\n将清除：学生 {} 名（姓名、学籍副号、班级、照片记录、上传凭证、审核记录与家长上传码），已注册的学校账号 {} 个及其登录失败记录，照片文件 {} 个，导出文件 {} 个。\n保留：采集活动、学校（区县、名称、学段）、区县/市教委与审核员账号。\n这是预演，未删除任何数据；确认后加 --yes 执行。",
            self.students, self.registered_schools, self.photos, self.exports
        )
    }
}

impl Purged {
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "没有需要清除的个人数据（此前已清除）。".to_owned();
        }
        let r = &self.records;
        format!(
            "已清除：学生 {} 名，上传凭证 {} 条，审核记录 {} 条，家长上传码 {} 个，学校账号 {} 个，登录失败记录 {} 条，照片文件 {} 个，导出文件 {} 个。",
            r.students, r.tickets, r.audit_events, r.parent_codes, r.school_accounts, r.login_failures, self.photos, self.exports
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(ends_on: Option<NaiveDate>, ended: bool) -> Plan {
        Plan { campaign: ends_on.map(|_| "c".into()), ends_on, ended, students: 3, registered_schools: 1, photos: 2, exports: 0 }
    }

    #[test]
    fn refuses_before_the_end_unless_forced() {
        let end = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert!(matches!(may_purge(&plan(Some(end), false), false), Err(PurgeError::NotEnded(d)) if d == end));
        assert!(matches!(may_purge(&plan(None, false), false), Err(PurgeError::NoCampaign)));
        assert!(may_purge(&plan(Some(end), false), true).is_ok());
        assert!(may_purge(&plan(Some(end), true), false).is_ok());
        assert!(PurgeError::NotEnded(end).to_string().contains("--force"));
    }

    #[test]
    fn join_all_keeps_order() {
        let futs: Vec<Pin<Box<dyn Future<Output = u32> + Send>>> = (0..5u32).map(|i| Box::pin(async move { i * 2 }) as _).collect();
        let got = block_on(join_all(futs));
        assert_eq!(got, vec![0, 2, 4, 6, 8]);
    }

    /// A minimal executor for a future that never waits on I/O.
    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
