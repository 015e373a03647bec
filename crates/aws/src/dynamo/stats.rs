//! The statistics' counters on DynamoDB (see `keys`: `STATS#{shard}` items): a transition's
//! delta (core `stats`) becomes `ADD` updates in the transition's own transaction — the
//! district's day item (status moves and the day's series: every transition, ~150 bytes, so
//! 2 WRU in a transaction) and, only for rejections, appeals and overrules, its totals item
//! (codes); a dashboard view is `STATS_SHARDS` queries that sum the items, no scan.

use super::batch::TxOp;
use super::tx::{Cond, Item, n};
use super::{DynamoRecords, Query};
use crate::keys::{self, PK, SK};
use futures_util::future::try_join_all;
use gradphoto_core::ports::BackendError;
use gradphoto_core::stats::{StatKey, Stats, StatsDelta};
use std::collections::BTreeMap;

/// The updates that add `delta` to `district`'s counters in `shard`: one per item touched.
pub(super) fn ops(shard: u32, district: &str, delta: &StatsDelta) -> Vec<TxOp> {
    let mut by_item: BTreeMap<Option<chrono::NaiveDate>, Vec<(StatKey, i64)>> = BTreeMap::new();
    for (key, by) in delta.entries() {
        let item = if key.is_daily() { delta.on } else { None };
        by_item.entry(item).or_default().push((key, by));
    }
    by_item
        .into_iter()
        .map(|(day, entries)| {
            let mut cond = Cond::new("");
            let mut adds = Vec::new();
            for (i, (key, by)) in entries.iter().enumerate() {
                adds.push(format!("#k{i} :v{i}"));
                cond = cond.name(&format!("#k{i}"), &key.name()).value(&format!(":v{i}"), n(*by));
            }
            TxOp::Update { key: super::tx::key(keys::stats_pk(shard), keys::stats_sk(district, day)), expr: format!("ADD {}", adds.join(", ")), cond }
        })
        .collect()
}

impl DynamoRecords {
    /// Every counter item of all shards (of one district, if asked): `STATS_SHARDS` queries.
    async fn stats_items(&self, district: Option<&str>) -> Result<Vec<Item>, BackendError> {
        let shard_items = try_join_all((0..keys::STATS_SHARDS).map(|shard| {
            let mut cond = Cond::new("#p = :p").name("#p", PK).value(":p", super::tx::s(keys::stats_pk(shard)));
            if let Some(d) = district {
                cond = Cond { expr: "#p = :p AND begins_with(#s, :s)".into(), ..cond }.name("#s", SK).value(":s", super::tx::s(keys::stats_prefix(d)));
            }
            self.query(Query { index: None, cond, filter: None, forward: true, consistent: true, limit: 0 })
        }))
        .await?;
        Ok(shard_items.into_iter().flatten().collect())
    }

    pub(super) async fn read_stats(&self, district: Option<&str>) -> Result<BTreeMap<String, Stats>, BackendError> {
        let items = self.stats_items(district).await?;
        let mut out: BTreeMap<String, Stats> = BTreeMap::new();
        for item in &items {
            add_item(&mut out, item, district);
        }
        Ok(out.into_iter().map(|(d, s)| (d, s.normalized())).collect())
    }
}

impl DynamoRecords {
    /// Replaces every counter: deletes the items of all shards, then writes the figures to
    /// shard 0 — a totals item per district (enrolment, status counts, codes) and an item per
    /// day of its series. Not one transaction (a city's figures exceed 100 items): the caller
    /// runs it while the window is closed (`stats_repair::rebuild`), and running it again
    /// finishes an interrupted one.
    pub(super) async fn rewrite_stats(&self, figures: &BTreeMap<String, Stats>) -> Result<(), BackendError> {
        let old = self.stats_items(None).await?;
        self.batch_delete(old.iter().map(super::purge::key_of).collect()).await?;
        self.batch_put(items_of(figures)).await
    }
}

/// The items that hold `figures` in shard 0 (read back by [`add_item`]).
fn items_of(figures: &BTreeMap<String, Stats>) -> Vec<Item> {
    let mut out = Vec::new();
    for (district, stats) in figures {
        let mut by_item: BTreeMap<Option<chrono::NaiveDate>, Item> = BTreeMap::new();
        for (key, by) in stats.entries() {
            // Status counts go to the totals item: after a rebuild they are no day's moves.
            let day = match key {
                StatKey::Day(d, _) => Some(d),
                _ => None,
            };
            by_item.entry(day).or_insert_with(|| super::tx::key(keys::stats_pk(0), keys::stats_sk(district, day))).insert(key.name(), n(by));
        }
        out.extend(by_item.into_values());
    }
    out
}

fn add_item(out: &mut BTreeMap<String, Stats>, item: &Item, only: Option<&str>) {
    let Some(sk) = item.get(SK).and_then(|v| v.as_s().ok()) else { return };
    let Some(district) = keys::stats_district(sk) else { return };
    // begins_with("A#") also matches a district named "A#B".
    if only.is_some_and(|d| d != district) {
        return;
    }
    let stats = out.entry(district.to_owned()).or_default();
    for (name, v) in item {
        if let (Some(key), Some(by)) = (StatKey::parse(name), v.as_n().ok().and_then(|v| v.parse::<i64>().ok())) {
            stats.add(&key, by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gradphoto_core::Status;
    use gradphoto_core::stats::DayField;

    /// DynamoDB's item size: attribute names plus values (a number is at most 21 bytes).
    fn max_size(district: &str, keys: &[StatKey], day: Option<chrono::NaiveDate>) -> usize {
        let key = PK.len() + keys::stats_pk(keys::STATS_SHARDS - 1).len() + SK.len() + keys::stats_sk(district, day).len();
        key + keys.iter().map(|k| k.name().len() + 21).sum::<usize>()
    }

    #[test]
    fn rebuilt_items_read_back_to_the_figures() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
        let mut s = Stats::default();
        for (key, by) in [
            (StatKey::Students, 4),
            (StatKey::Status(Status::NotUploaded), 3),
            (StatKey::Status(Status::Rejected), 1),
            (StatKey::Rejected("blurry".into()), 1),
            (StatKey::Day(d, DayField::Uploads), 1),
            (StatKey::Day(d, DayField::Rejected), 1),
        ] {
            s.add(&key, by);
        }
        let figures = BTreeMap::from([("徐汇区".to_owned(), s.clone()), ("A#B".to_owned(), s)]);
        let items = items_of(&figures);
        assert_eq!(items.len(), 4, "a totals item and one day item per district");
        let mut back = BTreeMap::new();
        for item in &items {
            add_item(&mut back, item, None);
        }
        assert_eq!(back, figures);
    }

    #[test]
    fn the_item_every_transition_writes_stays_under_one_kilobyte() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
        let district = "某某市某某某某某某某新区"; // 12 characters, 36 bytes
        let mut daily: Vec<StatKey> = Status::ALL.into_iter().map(StatKey::Status).collect();
        daily.extend([DayField::Uploads, DayField::Approved, DayField::Rejected].map(|f| StatKey::Day(d, f)));
        let size = max_size(district, &daily, Some(d));
        assert!(size < 1024, "a day item of {size} bytes costs more than 1 WRU");
        // What one transition writes goes to that item only, unless it carries codes.
        let upload = StatsDelta { moved: Some((Status::NotUploaded, Status::Uploaded)), on: Some(d), ..Default::default() };
        assert_eq!(ops(0, district, &upload).len(), 1);
        let rejection = StatsDelta { rejected_codes: vec!["blurry".into()], ..upload };
        assert_eq!(ops(0, district, &rejection).len(), 2, "codes go to the totals item");
    }
}
