//! The schema and its migrations, versioned by `PRAGMA user_version`.
//!
//! Times are INTEGER nanoseconds since the Unix epoch (exact round trip of `DateTime<Utc>`,
//! cheap range comparisons); dates are `YYYY-MM-DD` text; reasons are JSON arrays.
//! Photo hashes are stored bit-cast to i64 plus five band columns (see `codec::bands`).

use rusqlite::Connection;

/// Migration `i` moves the database from `user_version = i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9];

/// The schema version whose migration adds the statistics' counters; a database coming from
/// below it gets them filled from its audit trail (`stats::backfill`).
const STATS_VERSION: i64 = 7;

/// What the automatic check measured on the current photo's head (`PhotoGeometry` as JSON),
/// shown to the reviewer; NULL when nothing was measured (and for every photo checked before).
const V9: &str = "
ALTER TABLE students ADD COLUMN geometry TEXT;
";

/// 自动裁剪: a ticket asked for a photo the page made from the crop suggestion, and the student's
/// current photo is one (the reviewer sees it; the audit note says so).
const V8: &str = "
ALTER TABLE tickets ADD COLUMN auto_cropped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE students ADD COLUMN auto_cropped INTEGER NOT NULL DEFAULT 0;
";

/// Contract v2's statistics: one counter per (district, key), the key named by core's
/// `StatKey`, and the daily series as one typed row per (district, day) — a campaign adds a
/// row a day per district, so a view reads them without parsing a key each. Anonymous, so a
/// purge leaves both.
const V7: &str = "
CREATE TABLE stats (
    district TEXT NOT NULL,
    key      TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (district, key)
) WITHOUT ROWID;
CREATE TABLE stats_days (
    district TEXT NOT NULL,
    day      INTEGER NOT NULL, -- days since 0001-01-01 (chrono's num_days_from_ce)
    uploads  INTEGER NOT NULL,
    approved INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    PRIMARY KEY (district, day)
) WITHOUT ROWID;
";

/// District (区县) accounts: a role the first table's CHECK did not allow, and the account's
/// district. SQLite cannot change a CHECK, so the table is rebuilt (nothing references it).
const V6: &str = "
CREATE TABLE accounts_v6 (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('school', 'reviewer', 'bureau', 'district')),
    school_id     TEXT REFERENCES schools (school_id),
    created_at    INTEGER NOT NULL,
    district      TEXT
);
INSERT INTO accounts_v6 (username, password_hash, role, school_id, created_at) SELECT username, password_hash, role, school_id, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_v6 RENAME TO accounts;
";

/// Contract v2's parents: who uploaded each photo (tickets stored before: a teacher), the
/// campaign's switch (NULL = on), and each student's parent code, only as a keyed hash.
const V5: &str = "
ALTER TABLE tickets ADD COLUMN uploader TEXT NOT NULL DEFAULT 'school' CHECK (uploader IN ('school', 'parent'));
ALTER TABLE students ADD COLUMN uploaded_by TEXT CHECK (uploaded_by IN ('school', 'parent'));
ALTER TABLE campaign ADD COLUMN parents_enabled INTEGER;
CREATE TABLE parent_codes (
    student_id TEXT PRIMARY KEY REFERENCES students (student_id),
    hash       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Contract v2's review at city scale: who decided, appeals, soft flags kept apart from
/// reasons (a pending photo's flags used to be its reasons: moved), queue leases, the
/// campaign's review policy (JSON; NULL = the default) and the codes an approval overruled.
const V4: &str = "
ALTER TABLE students ADD COLUMN decided_by TEXT CHECK (decided_by IN ('check', 'reviewer', 'auto'));
ALTER TABLE students ADD COLUMN appeal TEXT;
ALTER TABLE students ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE students ADD COLUMN review_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE students ADD COLUMN lease_by TEXT;
ALTER TABLE students ADD COLUMN lease_until INTEGER;
UPDATE students SET flags = reasons, reasons = '[]' WHERE status = 'pending_review';
ALTER TABLE campaign ADD COLUMN review_policy TEXT;
ALTER TABLE audit ADD COLUMN overruled TEXT NOT NULL DEFAULT '[]';
";

/// Every write of a student moves its version on (`lifecycle::Transition`), and every write
/// tests the version it read.
const V3: &str = "ALTER TABLE students ADD COLUMN version INTEGER NOT NULL DEFAULT 0;";

/// Who asked for each ticket, so the audit names the uploader (older tickets: "system").
const V2: &str = "ALTER TABLE tickets ADD COLUMN issued_by TEXT NOT NULL DEFAULT 'system';";

const V1: &str = r#"
CREATE TABLE campaign (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    daily_open  TEXT NOT NULL,
    daily_close TEXT NOT NULL,
    timezone    TEXT NOT NULL
);

CREATE TABLE schools (
    school_id         TEXT PRIMARY KEY,
    district          TEXT NOT NULL,
    name              TEXT NOT NULL,
    stage             TEXT NOT NULL CHECK (stage IN ('primary', 'junior', 'senior')),
    registration_code TEXT NOT NULL UNIQUE,
    -- The account registered with the code; set once (the code is single-use).
    username          TEXT UNIQUE
);
CREATE INDEX schools_listing ON schools (district, name);

CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('school', 'reviewer', 'bureau')),
    school_id     TEXT REFERENCES schools (school_id),
    created_at    INTEGER NOT NULL
);

CREATE TABLE students (
    student_id  TEXT PRIMARY KEY,
    school_id   TEXT NOT NULL REFERENCES schools (school_id),
    name        TEXT NOT NULL,
    class       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('not_uploaded', 'uploaded', 'pending_review', 'approved', 'rejected')),
    reasons     TEXT NOT NULL DEFAULT '[]',
    uploaded_at INTEGER,
    reviewed_at INTEGER,
    photo_key   TEXT,
    generation  INTEGER NOT NULL DEFAULT 0,
    photo_hash  INTEGER,
    hb0 INTEGER, hb1 INTEGER, hb2 INTEGER, hb3 INTEGER, hb4 INTEGER
);
-- A school's roster in listing order (class, then id).
CREATE INDEX students_roster ON students (school_id, class, student_id);
-- Review queue and stuck uploads: one status, oldest upload first.
CREATE INDEX students_by_status ON students (status, uploaded_at, student_id);
-- The queue for one school, and a school's approved photos.
CREATE INDEX students_school_status ON students (school_id, status, uploaded_at, student_id);
-- Near-duplicate lookup: one exact-match index per band, only over checked photos.
CREATE INDEX students_hb0 ON students (hb0) WHERE hb0 IS NOT NULL;
CREATE INDEX students_hb1 ON students (hb1) WHERE hb1 IS NOT NULL;
CREATE INDEX students_hb2 ON students (hb2) WHERE hb2 IS NOT NULL;
CREATE INDEX students_hb3 ON students (hb3) WHERE hb3 IS NOT NULL;
CREATE INDEX students_hb4 ON students (hb4) WHERE hb4 IS NOT NULL;

-- Per-school status counters, kept by triggers in the same transaction as the change, so the
-- progress page and the reviewer's header read a few rows instead of counting 250,000.
CREATE TABLE school_counts (
    school_id TEXT NOT NULL,
    status    TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (school_id, status)
) WITHOUT ROWID;

CREATE TRIGGER students_count_insert AFTER INSERT ON students BEGIN
    INSERT INTO school_counts (school_id, status, n) VALUES (NEW.school_id, NEW.status, 1)
        ON CONFLICT (school_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER students_count_update AFTER UPDATE OF status, school_id ON students
    WHEN OLD.status IS NOT NEW.status OR OLD.school_id IS NOT NEW.school_id BEGIN
    UPDATE school_counts SET n = n - 1 WHERE school_id = OLD.school_id AND status = OLD.status;
    INSERT INTO school_counts (school_id, status, n) VALUES (NEW.school_id, NEW.status, 1)
        ON CONFLICT (school_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER students_count_delete AFTER DELETE ON students BEGIN
    UPDATE school_counts SET n = n - 1 WHERE school_id = OLD.school_id AND status = OLD.status;
END;

CREATE TABLE tickets (
    ticket_id  TEXT PRIMARY KEY,
    student_id TEXT NOT NULL REFERENCES students (student_id),
    school_id  TEXT NOT NULL,
    generation INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when this ticket's object won the claim (informational: the generation is the rule).
    used       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_by_student ON tickets (student_id);

CREATE TABLE login_failures (
    username TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (username, at);

CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id  TEXT NOT NULL REFERENCES students (student_id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    note        TEXT
);
CREATE INDEX audit_by_student ON audit (student_id, at, seq);
"#;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this program's {supported}; upgrade gradphoto")]
    TooNew { found: i64, supported: i64 },
}

/// Brings the schema to the latest version in one transaction (a failed migration leaves the
/// previous version intact). Refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(MigrateError::TooNew { found, supported });
    }
    for sql in &MIGRATIONS[found.max(0) as usize..] {
        tx.execute_batch(sql)?;
    }
    if found < STATS_VERSION && supported >= STATS_VERSION {
        super::stats::backfill(&tx)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_sets_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_first_version_database_keeps_its_tickets_and_names_their_issuer_system() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO tickets (ticket_id, student_id, school_id, generation, size, issued_at, expires_at) VALUES ('t1', 'S1', 'sc', 0, 1, 0, 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let issuer: String = conn.query_row("SELECT issued_by FROM tickets WHERE ticket_id = 't1'", [], |r| r.get(0)).unwrap();
        assert_eq!(issuer, "system");
    }

    #[test]
    fn a_third_version_database_moves_pending_flags_out_of_reasons() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            r#"PRAGMA foreign_keys = OFF;
             INSERT INTO students (student_id, school_id, name, class, status, reasons) VALUES
               ('P1', 'sc', 'n', 'c', 'pending_review', '[{"code":"phone_photo","message":"m"}]'),
               ('R1', 'sc', 'n', 'c', 'rejected', '[{"code":"blurry","message":"m"}]');"#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let row = |id: &str| -> (String, String) {
            conn.query_row("SELECT reasons, flags FROM students WHERE student_id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?))).unwrap()
        };
        assert_eq!(row("P1"), ("[]".to_owned(), r#"[{"code":"phone_photo","message":"m"}]"#.to_owned()));
        assert_eq!(row("R1").1, "[]");
    }

    #[test]
    fn a_fifth_version_database_keeps_its_accounts_and_accepts_districts() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch("INSERT INTO accounts (username, password_hash, role, created_at) VALUES ('rev1', 'h', 'reviewer', 1);").unwrap();
        assert!(conn.execute_batch("INSERT INTO accounts (username, password_hash, role, created_at) VALUES ('d1', 'h', 'district', 1);").is_err(), "v5 refuses the role");
        migrate(&mut conn).unwrap();
        let role: String = conn.query_row("SELECT role FROM accounts WHERE username = 'rev1'", [], |r| r.get(0)).unwrap();
        assert_eq!(role, "reviewer");
        conn.execute_batch("INSERT INTO accounts (username, password_hash, role, created_at, district) VALUES ('d1', 'h', 'district', 1, '东区');").unwrap();
        assert!(conn.execute_batch("INSERT INTO accounts (username, password_hash, role, created_at) VALUES ('x1', 'h', 'root', 1);").is_err(), "still checked");
    }

    #[test]
    fn a_sixth_version_database_gets_its_statistics_from_its_audit_trail() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        // 2026-06-01 15:00 and 17:00 UTC: two Shanghai days.
        let (day1, day2) = (1_780_326_000_000_000_000i64, 1_780_333_200_000_000_000i64);
        conn.execute_batch(&format!(
            r#"INSERT INTO schools (school_id, district, name, stage, registration_code) VALUES ('sc', '东区', '一中', 'junior', 'C1');
             INSERT INTO students (student_id, school_id, name, class, status, reasons) VALUES
               ('A1', 'sc', 'n', 'c', 'rejected', '[{{"code":"blurry","message":"m"}}]'), ('A2', 'sc', 'n', 'c', 'not_uploaded', '[]');
             INSERT INTO audit (student_id, at, actor, from_status, to_status, reasons, overruled) VALUES
               ('A1', {day1}, 't', 'not_uploaded', 'uploaded', '[]', '[]'),
               ('A1', {day2}, 'check', 'uploaded', 'rejected', '["blurry"]', '[]');"#
        ))
        .unwrap();
        migrate(&mut conn).unwrap();
        let got = super::super::stats::read(&conn, Some("东区")).unwrap();
        let s = &got["东区"];
        assert_eq!((s.students, s.counts.get(&gradphoto_core::Status::Rejected), s.rejected_by_code.get("blurry")), (2, Some(&1), Some(&1)));
        assert_eq!(s.per_day.len(), 2, "{s:?}");
        migrate(&mut conn).unwrap();
        assert_eq!(super::super::stats::read(&conn, None).unwrap(), got, "migrating again counts nothing twice");
    }

    #[test]
    fn an_eighth_version_database_keeps_its_students_who_have_no_geometry_yet() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            r#"INSERT INTO schools (school_id, district, name, stage, registration_code) VALUES ('sc', '东区', '一中', 'junior', 'C1');
             INSERT INTO students (student_id, school_id, name, class, status, reasons, auto_cropped) VALUES ('A1', 'sc', 'n', 'c', 'pending_review', '[]', 1);"#,
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let read = |conn: &Connection| {
            conn.query_row(&format!("SELECT {} FROM students WHERE student_id = 'A1'", super::super::codec::STUDENT_COLS), [], super::super::codec::student).unwrap()
        };
        let s = read(&conn);
        assert_eq!((s.status, s.auto_cropped, s.geometry), (gradphoto_core::Status::PendingReview, true, None));
        conn.execute("UPDATE students SET geometry = ?1 WHERE student_id = 'A1'", [r#"{"eye_line":142,"crown":11,"chin":300,"head_ratio":0.66,"centre_offset":3,"roll":1.2,"eye_distance":62,"width_to_height":1.31}"#]).unwrap();
        let g = read(&conn).geometry.expect("the column reads back");
        assert_eq!((g.eye_line, g.head_ratio, g.centre_offset, g.roll), (142, 0.66, 3, 1.2));
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
