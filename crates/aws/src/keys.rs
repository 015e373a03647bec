//! The single-table key design. Every access path of `Records` is a `GetItem` or a `Query` on one
//! of these keys; nothing scans.
//!
//! | item            | pk                      | sk                         | gsi1 (pk / sk)                          | gsi2 (pk / sk)                                    |
//! |-----------------|-------------------------|----------------------------|-----------------------------------------|---------------------------------------------------|
//! | campaign        | `CAMPAIGN`              | `CAMPAIGN`                 |                                         |                                                   |
//! | school          | `SCHOOL#{id}`           | `SCHOOL`                   | `SCHOOLS` / `{district}#{name}#{stage}` |                                                   |
//! | code            | `CODE#{code}`           | `CODE`                     |                                         |                                                   |
//! | account         | `ACCOUNT#{username}`    | `ACCOUNT`                  |                                         |                                                   |
//! | login failure   | `LOGIN#{username}`      | `FAIL#{at}#{rand}`         |                                         |                                                   |
//! | student         | `STUDENT#{id}`          | `STUDENT`                  | `ROSTER#{school}` / `{class}#{id}`      | `STATUS#{status}` / see below (sparse)            |
//! | ticket          | `STUDENT#{id}`          | `TICKET#{ticket}`          |                                         |                                                   |
//! | parent code     | `STUDENT#{id}`          | `PARENT_CODE`              |                                         |                                                   |
//! | audit event     | `STUDENT#{id}`          | `AUDIT#{at}#{version}`      |                                         |                                                   |
//! | hash band       | `PHASH#{band}#{value}`  | `STUDENT#{id}`             |                                         |                                                   |
//! | stats totals    | `STATS#{shard}`         | `{district}#TOTAL`         |                                         |                                                   |
//! | stats day       | `STATS#{shard}`         | `{district}#DAY#{date}`    |                                         |                                                   |
//!
//! The statistics are sharded by student (`stats_shard`): every transition adds to its
//! district's items in one of `STATS_SHARDS` partitions, so a busy district's transactions
//! rarely touch the same item at once, and a dashboard reads `STATS_SHARDS` queries whatever
//! the campaign's size. A day item holds that day's status moves and series (written by every
//! transition); the totals item holds enrolments and the codes of rejections, appeals and
//! overrules (written only by those). The status counts are the sum over every item.
//!
//! gsi2 is written only for the statuses something queries: `uploaded` (the recovery sweep,
//! oldest first: sk `{uploaded_at}#{id}`), `pending_review` (the review queue, oldest first: sk
//! `{uploaded_at}#{id}`) and `approved` (the export, sk `{school}#{id}`).

use chrono::{DateTime, Utc};
use gradphoto_core::{Stage, Status, StudentId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";
/// Epoch seconds; the table's TTL attribute (tickets and login failures expire by themselves).
pub const TTL: &str = "ttl";
/// Optimistic-lock counter on student items: every write of a student is conditional on it.
pub const VERSION: &str = "version";

/// A sortable time: fixed width (microseconds, always 6 digits, `Z`), so string order is time
/// order. chrono's RFC 3339 output drops trailing zeros and would not sort.
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub const CAMPAIGN: &str = "CAMPAIGN";
pub const SCHOOL_SK: &str = "SCHOOL";
pub const SCHOOLS: &str = "SCHOOLS";
pub const CODE_SK: &str = "CODE";
pub const ACCOUNT_SK: &str = "ACCOUNT";
pub const STUDENT_SK: &str = "STUDENT";
/// A student's parent code (its keyed hash and version), beside the student in its partition.
pub const PARENT_CODE_SK: &str = "PARENT_CODE";

pub fn school_pk(school_id: &str) -> String {
    format!("SCHOOL#{school_id}")
}
pub fn school_gsi1sk(district: &str, name: &str, stage: Stage) -> String {
    format!("{district}#{name}#{}", stage.as_str())
}
pub fn code_pk(code: &str) -> String {
    format!("CODE#{code}")
}
pub fn account_pk(username: &str) -> String {
    format!("ACCOUNT#{username}")
}
pub fn login_pk(username: &str) -> String {
    format!("LOGIN#{username}")
}
/// One of a username's `max` attempt slots: a conditional put on a fixed key is how DynamoDB
/// makes "at most `max` attempts per window" atomic.
pub fn login_slot_sk(slot: u32) -> String {
    format!("SLOT#{slot:03}")
}
/// The attribute holding a slot's attempt time (a sortable time, so `<` compares times).
pub const LOGIN_AT: &str = "at";

pub fn student_pk(student_id: &StudentId) -> String {
    format!("STUDENT#{student_id}")
}
pub fn roster_pk(school_id: &str) -> String {
    format!("ROSTER#{school_id}")
}
pub fn roster_sk(class: &str, student_id: &StudentId) -> String {
    format!("{class}#{student_id}")
}
pub fn ticket_sk(ticket_id: &str) -> String {
    format!("TICKET#{ticket_id}")
}
pub fn audit_sk(at: DateTime<Utc>, seq: u64) -> String {
    format!("AUDIT#{}#{seq:010}", sortable_time(at))
}
pub const AUDIT_PREFIX: &str = "AUDIT#";

pub fn status_pk(status: Status) -> String {
    format!("STATUS#{}", status.as_str())
}

/// The gsi2 key of a student in `status`, or none when no query needs students in that status
/// (the index stays sparse: `not_uploaded` and `rejected` students cost nothing there).
pub fn status_keys(status: Status, school_id: &str, student_id: &StudentId, uploaded_at: Option<DateTime<Utc>>) -> Option<(String, String)> {
    let by_time = || {
        let at = uploaded_at.map(sortable_time).unwrap_or_default();
        format!("{at}#{student_id}")
    };
    match status {
        Status::Uploaded | Status::PendingReview => Some((status_pk(status), by_time())),
        // '#' sorts below every character allowed in a school id, so this is (school, id) order.
        Status::Approved => Some((status_pk(status), format!("{school_id}#{student_id}"))),
        Status::NotUploaded | Status::Rejected => None,
    }
}

/// Counter attribute on the school item for students in `status`.
pub fn counter(status: Status) -> String {
    format!("c_{}", status.as_str())
}

/// Partitions of the statistics. More shards, fewer transaction conflicts between a district's
/// concurrent transitions; each costs one more query per dashboard view.
pub const STATS_SHARDS: u32 = 8;
pub const STATS_TOTAL: &str = "TOTAL";
const STATS_DAY: &str = "#DAY#";

/// The shard of a student's statistics: FNV-1a of the id, so it is stable across processes.
pub fn stats_shard(student_id: &StudentId) -> u32 {
    let h = student_id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (h % u64::from(STATS_SHARDS)) as u32
}
pub fn stats_pk(shard: u32) -> String {
    format!("STATS#{shard}")
}
/// Where a counter lives: the district's totals, or its day's item for a day's figure.
pub fn stats_sk(district: &str, day: Option<chrono::NaiveDate>) -> String {
    match day {
        None => format!("{district}#{STATS_TOTAL}"),
        Some(d) => format!("{district}{STATS_DAY}{}", d.format("%Y-%m-%d")),
    }
}
/// The district a statistics item counts for.
pub fn stats_district(sk: &str) -> Option<&str> {
    sk.strip_suffix(&format!("#{STATS_TOTAL}")).or_else(|| sk.rsplit_once(STATS_DAY).map(|(d, _)| d))
}
/// The sort-key prefix of one district's statistics items.
pub fn stats_prefix(district: &str) -> String {
    format!("{district}#")
}

/// Perceptual-hash bands. Two 64-bit hashes within 4 bits of each other agree exactly on at
/// least one of 5 disjoint bands (pigeonhole), so looking up the 5 band items of a hash finds
/// every neighbour within `BANDS - 1` bits without a scan. Bands of 13 bits keep each band
/// partition small (~30 items per value at 250,000 photos).
pub const BANDS: usize = 5;
const BAND_BITS: [u32; BANDS] = [13, 13, 13, 13, 12];

/// `(band index, band value)` of each band of `hash`.
pub fn bands(hash: u64) -> [(usize, u64); BANDS] {
    let mut out = [(0, 0); BANDS];
    let mut shift = 0;
    for (i, bits) in BAND_BITS.iter().enumerate() {
        out[i] = (i, (hash >> shift) & ((1u64 << bits) - 1));
        shift += bits;
    }
    out
}
pub fn band_pk(band: usize, value: u64) -> String {
    format!("PHASH#{band}#{value:04x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sortable_time_is_fixed_width_so_string_order_is_time_order() {
        let a = Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1_500);
        let c = a + chrono::Duration::seconds(1);
        let (sa, sb, sc) = (sortable_time(a), sortable_time(b), sortable_time(c));
        assert_eq!(sa, "2025-06-01T08:00:00.000000Z");
        assert_eq!(sa.len(), sb.len());
        assert!(sa < sb && sb < sc);
    }

    #[test]
    fn stats_items_name_their_district_and_spread_over_every_shard() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
        for district in ["东城区", "A#B"] {
            assert_eq!(stats_district(&stats_sk(district, None)), Some(district));
            assert_eq!(stats_district(&stats_sk(district, Some(d))), Some(district));
            assert!(stats_sk(district, Some(d)).starts_with(&stats_prefix(district)));
        }
        let mut seen = [0u32; STATS_SHARDS as usize];
        for i in 0..8000 {
            seen[stats_shard(&StudentId::parse(&format!("J{i:07}")).unwrap()) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn bands_cover_all_64_bits_and_neighbours_share_a_band() {
        let h = 0xDEAD_BEEF_0123_4567u64;
        let rebuilt = bands(h).iter().zip(BAND_BITS).fold((0u64, 0u32), |(acc, shift), ((_, v), bits)| (acc | (v << shift), shift + bits));
        assert_eq!(rebuilt.0, h);
        // Flip 4 bits spread over 4 different bands: one band must still match.
        let other = h ^ (1 << 0) ^ (1 << 14) ^ (1 << 30) ^ (1 << 50);
        let shared = bands(h).iter().zip(bands(other)).filter(|(a, b)| **a == *b).count();
        assert!(shared >= 1);
    }

    #[test]
    fn approved_keys_order_by_school_then_student() {
        let s = |x: &str| StudentId::parse(x).unwrap();
        let k1 = status_keys(Status::Approved, "a", &s("Z9"), None).unwrap().1;
        let k2 = status_keys(Status::Approved, "a-b", &s("A1"), None).unwrap().1;
        let k3 = status_keys(Status::Approved, "a0", &s("A1"), None).unwrap().1;
        assert!(k1 < k2 && k2 < k3);
        assert!(status_keys(Status::NotUploaded, "a", &s("A1"), None).is_none());
    }
}
