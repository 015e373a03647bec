//! Conversions between domain values and SQLite columns.

use chrono::{DateTime, NaiveDate, Utc};
use gradphoto_core::{Account, AuditEvent, Campaign, DailyTime, DecidedBy, Uploader, Reason, Role, School, Stage, Status, Student, StudentId, Ticket};
use rusqlite::Row;
use rusqlite::types::Type;

/// Column list matching [`student`]; keep the two together.
pub const STUDENT_COLS: &str =
    "student_id, school_id, name, class, status, reasons, uploaded_at, reviewed_at, photo_key, generation, photo_hash, version, decided_by, appeal, flags, review_required, uploaded_by, auto_cropped, geometry";

/// The same columns qualified with table alias `s.` (for joins).
pub const STUDENT_COLS_S: &str = "s.student_id, s.school_id, s.name, s.class, s.status, s.reasons, s.uploaded_at, s.reviewed_at, s.photo_key, s.generation, s.photo_hash, s.version, s.decided_by, s.appeal, s.flags, s.review_required, s.uploaded_by, s.auto_cropped, s.geometry";

pub const SCHOOL_COLS: &str = "school_id, district, name, stage, registration_code, username";

pub const TICKET_COLS: &str = "ticket_id, student_id, school_id, generation, size, issued_at, expires_at, issued_by, uploader, auto_cropped";

/// Times as nanoseconds since the epoch: exact for `DateTime<Utc>` between 1677 and 2262,
/// saturating outside (only ever true for "since the beginning of time" style bounds).
pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

pub fn from_ts(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(n)
}

/// Hashes are u64; SQLite integers are i64: store the same 64 bits.
pub fn hash_to_sql(h: u64) -> i64 {
    h as i64
}

pub fn hash_from_sql(h: i64) -> u64 {
    h as u64
}

/// Near-duplicate search splits the 64-bit hash into `BANDS` bands; two hashes that differ in
/// at most `BANDS - 1` bits agree exactly on at least one band (pigeonhole), so an indexed
/// equality lookup per band finds every candidate, and a popcount confirms it. Five bands make
/// the lookup exact up to 4 bits (`DUPLICATE_DISTANCE`); 13-bit bands keep each band value to
/// a few dozen rows at 250,000 random photos.
pub const BANDS: usize = 5;
pub const BAND_BITS: [u32; BANDS] = [13, 13, 13, 13, 12];

pub fn bands(hash: u64) -> [i64; BANDS] {
    let mut out = [0i64; BANDS];
    let mut shift = 0;
    for (i, bits) in BAND_BITS.iter().enumerate() {
        out[i] = ((hash >> shift) & ((1u64 << bits) - 1)) as i64;
        shift += bits;
    }
    out
}

fn bad(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

#[derive(Debug, thiserror::Error)]
#[error("unexpected stored value {0:?}")]
pub struct Unexpected(pub String);

pub fn decided_by(s: &str) -> Result<DecidedBy, Unexpected> {
    [DecidedBy::Check, DecidedBy::Reviewer, DecidedBy::Auto].into_iter().find(|d| d.as_str() == s).ok_or_else(|| Unexpected(s.to_owned()))
}

pub fn status(s: &str) -> Result<Status, Unexpected> {
    Status::parse(s).map_err(|_| Unexpected(s.to_owned()))
}

fn status_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Status> {
    let s: String = row.get(idx)?;
    status(&s).map_err(|e| bad(idx, e))
}

fn json_at<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| bad(idx, e))
}

fn student_id_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<StudentId> {
    let s: String = row.get(idx)?;
    StudentId::parse(&s).map_err(|e| bad(idx, e))
}

fn time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    Ok(from_ts(row.get(idx)?))
}

fn opt_time_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(row.get::<_, Option<i64>>(idx)?.map(from_ts))
}

pub fn student(row: &Row<'_>) -> rusqlite::Result<Student> {
    Ok(Student {
        student_id: student_id_at(row, 0)?,
        school_id: row.get(1)?,
        name: row.get(2)?,
        class: row.get(3)?,
        status: status_at(row, 4)?,
        reasons: json_at::<Vec<Reason>>(row, 5)?,
        uploaded_at: opt_time_at(row, 6)?,
        reviewed_at: opt_time_at(row, 7)?,
        photo_key: row.get(8)?,
        generation: row.get(9)?,
        photo_hash: row.get::<_, Option<i64>>(10)?.map(hash_from_sql),
        version: row.get::<_, i64>(11)?.max(0) as u64,
        decided_by: row.get::<_, Option<String>>(12)?.map(|d| decided_by(&d).map_err(|e| bad(12, e))).transpose()?,
        appeal: row.get::<_, Option<String>>(13)?.map(|a| serde_json::from_str(&a).map_err(|e| bad(13, e))).transpose()?,
        flags: json_at::<Vec<Reason>>(row, 14)?,
        review_required: row.get(15)?,
        uploaded_by: row.get::<_, Option<String>>(16)?.map(|u| Uploader::parse(&u).ok_or_else(|| bad(16, Unexpected(u)))).transpose()?,
        auto_cropped: row.get(17)?,
        geometry: row.get::<_, Option<String>>(18)?.map(|g| serde_json::from_str(&g).map_err(|e| bad(18, e))).transpose()?,
    })
}

pub fn school(row: &Row<'_>) -> rusqlite::Result<School> {
    let stage: String = row.get(3)?;
    Ok(School {
        school_id: row.get(0)?,
        district: row.get(1)?,
        name: row.get(2)?,
        stage: Stage::parse(&stage).map_err(|e| bad(3, e))?,
        registration_code: row.get(4)?,
        username: row.get(5)?,
    })
}

/// Schools listed by district, then name, then stage in the order of schooling.
pub const SCHOOL_ORDER: &str =
    "district, name, CASE stage WHEN 'primary' THEN 0 WHEN 'junior' THEN 1 ELSE 2 END, school_id";

pub fn account(row: &Row<'_>) -> rusqlite::Result<Account> {
    let role: String = row.get(2)?;
    Ok(Account {
        username: row.get(0)?,
        password_hash: row.get(1)?,
        role: Role::parse(&role).ok_or_else(|| bad(2, Unexpected(role.clone())))?,
        school_id: row.get(3)?,
        created_at: time_at(row, 4)?,
        district: row.get(5)?,
    })
}

pub fn ticket(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    Ok(Ticket {
        ticket_id: row.get(0)?,
        student_id: student_id_at(row, 1)?,
        school_id: row.get(2)?,
        generation: row.get(3)?,
        size: row.get::<_, i64>(4)?.max(0) as u64,
        issued_at: time_at(row, 5)?,
        expires_at: time_at(row, 6)?,
        issued_by: row.get(7)?,
        uploader: {
            let u: String = row.get(8)?;
            Uploader::parse(&u).ok_or_else(|| bad(8, Unexpected(u)))?
        },
        auto_cropped: row.get(9)?,
    })
}

pub fn campaign(row: &Row<'_>) -> rusqlite::Result<Campaign> {
    let date = |idx: usize| -> rusqlite::Result<NaiveDate> {
        let s: String = row.get(idx)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| bad(idx, e))
    };
    let time = |idx: usize| -> rusqlite::Result<DailyTime> {
        let s: String = row.get(idx)?;
        DailyTime::parse(&s).ok_or_else(|| bad(idx, Unexpected(s)))
    };
    let zone: String = row.get(5)?;
    Ok(Campaign {
        name: row.get(0)?,
        starts_on: date(1)?,
        ends_on: date(2)?,
        daily_open: time(3)?,
        daily_close: time(4)?,
        timezone: zone.parse().map_err(|_| bad(5, Unexpected(zone.clone())))?,
        review_policy: row.get::<_, Option<String>>(6)?.map(|p| serde_json::from_str(&p).map_err(|e| bad(6, e))).transpose()?.unwrap_or_default(),
        parents_enabled: row.get::<_, Option<bool>>(7)?.unwrap_or(true),
    })
}

pub fn date_to_sql(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn audit(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        at: time_at(row, 0)?,
        actor: row.get(1)?,
        student_id: student_id_at(row, 2)?,
        from: status_at(row, 3)?,
        to: status_at(row, 4)?,
        reasons: json_at::<Vec<String>>(row, 5)?,
        note: row.get(6)?,
        overruled: json_at::<Vec<String>>(row, 7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_all_bits_and_neighbours_within_four_bits_share_one() {
        let h = 0xDEAD_BEEF_0123_4567u64;
        let mut rebuilt = 0u64;
        let mut shift = 0;
        for (v, bits) in bands(h).iter().zip(BAND_BITS) {
            rebuilt |= (*v as u64) << shift;
            shift += bits;
        }
        assert_eq!(shift, 64);
        assert_eq!(rebuilt, h);
        // Four flipped bits in four different bands: the fifth band still matches.
        let other = h ^ (1 << 0) ^ (1 << 13) ^ (1 << 26) ^ (1 << 39);
        let same = bands(h).iter().zip(bands(other)).filter(|(a, b)| **a == *b).count();
        assert_eq!(same, 1);
    }

    #[test]
    fn times_round_trip_to_the_nanosecond_and_hashes_keep_their_bits() {
        let t = DateTime::parse_from_rfc3339("2026-06-01T08:00:00.123456789Z").unwrap().with_timezone(&Utc);
        assert_eq!(from_ts(ts(t)), t);
        assert_eq!(hash_from_sql(hash_to_sql(u64::MAX)), u64::MAX);
        assert_eq!(ts(DateTime::<Utc>::MAX_UTC), i64::MAX);
        assert_eq!(ts(DateTime::<Utc>::MIN_UTC), i64::MIN);
    }
}
