//! The statistics' counters on SQLite: one row per (district, counter), moved by the same write
//! transaction as the transition or import that moves them (core `stats` says by how much).
//! A dashboard view reads a few thousand short rows, never the students.

use super::codec;
use chrono::{Datelike, NaiveDate};
use gradphoto_core::stats::{DayCounts, StatKey, Stats, StatsDelta};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

/// Adds `delta` to `district`'s counters.
pub(super) fn apply(conn: &Connection, district: &str, delta: &StatsDelta) -> rusqlite::Result<()> {
    let mut up = conn.prepare_cached(
        "INSERT INTO stats (district, key, n) VALUES (?1, ?2, ?3) ON CONFLICT (district, key) DO UPDATE SET n = n + excluded.n",
    )?;
    for (key, by) in delta.entries() {
        // The day's figures are in `stats_days`, below.
        if !matches!(key, StatKey::Day(..)) {
            up.execute(params![district, key.name(), by])?;
        }
    }
    if let Some((date, c)) = &delta.day {
        conn.prepare_cached(
            "INSERT INTO stats_days (district, day, uploads, approved, rejected) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (district, day) DO UPDATE SET uploads = uploads + excluded.uploads,
                approved = approved + excluded.approved, rejected = rejected + excluded.rejected",
        )?
        .execute(params![district, date.num_days_from_ce(), c.uploads, c.approved, c.rejected])?;
    }
    Ok(())
}

/// The district of a school (what its students' transitions and enrolments count towards).
pub(super) fn district_of(conn: &Connection, school_id: &str) -> rusqlite::Result<String> {
    conn.prepare_cached("SELECT district FROM schools WHERE school_id = ?1")?.query_row([school_id], |r| r.get(0))
}

pub(super) fn read(conn: &Connection, district: Option<&str>) -> rusqlite::Result<BTreeMap<String, Stats>> {
    let mut out: BTreeMap<String, Stats> = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT district, key, n FROM stats WHERE ?1 IS NULL OR district = ?1")?;
    let mut rows = stmt.query([district])?;
    while let Some(row) = rows.next()? {
        let (d, key, n): (String, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if let Some(key) = StatKey::parse(&key) {
            out.entry(d).or_default().add(&key, n);
        }
    }
    let mut stmt = conn.prepare_cached("SELECT district, day, uploads, approved, rejected FROM stats_days WHERE ?1 IS NULL OR district = ?1")?;
    let mut rows = stmt.query([district])?;
    while let Some(row) = rows.next()? {
        let d: String = row.get(0)?;
        let Some(date) = NaiveDate::from_num_days_from_ce_opt(row.get(1)?) else { continue };
        let day = DayCounts { uploads: row.get(2)?, approved: row.get(3)?, rejected: row.get(4)? };
        out.entry(d).or_default().per_day.entry(date).or_default().add(&day);
    }
    Ok(out.into_iter().map(|(d, s)| (d, s.normalized())).collect())
}

/// Fills the counters of a database written before they existed (schema v7), by the same
/// rule the writes use: today's students as the enrolment, and a replay of the audit trail.
pub(super) fn backfill(conn: &Connection) -> rusqlite::Result<()> {
    let mut enrolled: Vec<(String, i64)> = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT sc.district, COUNT(*) FROM students st JOIN schools sc ON sc.school_id = st.school_id GROUP BY sc.district")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            enrolled.push((r.get(0)?, r.get(1)?));
        }
    }
    for (district, n) in &enrolled {
        apply(conn, district, &StatsDelta::enrolled(*n))?;
    }
    let mut stmt = conn.prepare(
        "SELECT a.at, a.actor, a.student_id, a.from_status, a.to_status, a.reasons, a.note, a.overruled, sc.district
         FROM audit a JOIN students st ON st.student_id = a.student_id JOIN schools sc ON sc.school_id = st.school_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let event = codec::audit(r)?;
        let district: String = r.get(8)?;
        apply(conn, &district, &StatsDelta::of(&event))?;
    }
    Ok(())
}

/// Replaces every counter with `figures`, in the caller's transaction.
pub(super) fn replace(conn: &Connection, figures: &BTreeMap<String, Stats>) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM stats", [])?;
    conn.execute("DELETE FROM stats_days", [])?;
    let mut put = conn.prepare_cached("INSERT INTO stats (district, key, n) VALUES (?1, ?2, ?3)")?;
    let mut put_day = conn.prepare_cached("INSERT INTO stats_days (district, day, uploads, approved, rejected) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (district, s) in figures {
        for (key, n) in s.entries() {
            if !matches!(key, StatKey::Day(..)) {
                put.execute(params![district, key.name(), n])?;
            }
        }
        for (date, c) in &s.per_day {
            put_day.execute(params![district, date.num_days_from_ce(), c.uploads, c.approved, c.rejected])?;
        }
    }
    Ok(())
}
