//! The `Records` port on SQLite. A student's transition reads the student, asks
//! `gradphoto_core::lifecycle` for the change, and writes it (and its audit row) inside one
//! `BEGIN IMMEDIATE` transaction on the single writer; the write also tests the version read.

use super::codec::{self, STUDENT_COLS, STUDENT_COLS_S, SCHOOL_COLS, SCHOOL_ORDER, TICKET_COLS, hash_to_sql, ts};
use super::{Fail, SqliteRecords, stats};
use gradphoto_core::stats::{Stats, StatsDelta};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::*;
use gradphoto_core::lifecycle::{self, AppealRequest, ReviewDecision, Transition};
use gradphoto_core::{Account, AuditEvent, Campaign, Counts, Decision, Reason, RosterRow, School, Student, StudentId, Ticket};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use std::collections::{BTreeMap, BTreeSet};

fn get_student(conn: &Connection, id: &str) -> rusqlite::Result<Option<Student>> {
    conn.prepare_cached(&format!("SELECT {STUDENT_COLS} FROM students WHERE student_id = ?1"))?
        .query_row([id], codec::student)
        .optional()
}

fn get_school(conn: &Connection, school_id: &str) -> rusqlite::Result<Option<School>> {
    conn.prepare_cached(&format!("SELECT {SCHOOL_COLS} FROM schools WHERE school_id = ?1"))?
        .query_row([school_id], codec::school)
        .optional()
}

fn get_ticket(conn: &Connection, student_id: &str, ticket_id: &str) -> rusqlite::Result<Option<Ticket>> {
    conn.prepare_cached(&format!("SELECT {TICKET_COLS} FROM tickets WHERE ticket_id = ?1 AND student_id = ?2"))?
        .query_row([ticket_id, student_id], codec::ticket)
        .optional()
}

fn account_exists(conn: &Connection, username: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM accounts WHERE username = ?1")?.exists([username])
}

fn insert_account(conn: &Connection, a: &Account, school_id: Option<&str>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO accounts (username, password_hash, role, school_id, created_at, district) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![a.username, a.password_hash, a.role.as_str(), school_id, ts(a.created_at), a.district])?;
    Ok(())
}

fn query_students(conn: &Connection, sql: &str, args: Vec<Value>) -> rusqlite::Result<Vec<Student>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(args), codec::student)?;
    rows.collect()
}

/// Writes a transition core decided: the student (only if still at the version read, which
/// the write transaction guarantees; the test makes a broken guarantee loud) and its audit row.
fn write_transition<E>(conn: &Connection, t: &Transition) -> Result<(), Fail<E>> {
    let s = &t.after;
    let bands = s.photo_hash.map(codec::bands);
    let band = |i: usize| bands.map(|b| b[i]);
    let written = conn
        .prepare_cached(
            "UPDATE students SET status = ?2, reasons = ?3, uploaded_at = ?4, reviewed_at = ?5, photo_key = ?6, generation = ?7,
                photo_hash = ?8, hb0 = ?9, hb1 = ?10, hb2 = ?11, hb3 = ?12, hb4 = ?13, version = ?14,
                decided_by = ?16, appeal = ?17, flags = ?18, review_required = ?19, uploaded_by = ?20, auto_cropped = ?21, geometry = ?22, lease_by = NULL, lease_until = NULL
         WHERE student_id = ?1 AND version = ?15",
        )?
        .execute(params![
            s.student_id.as_str(),
            s.status.as_str(),
            serde_json::to_string(&s.reasons)?,
            s.uploaded_at.map(ts),
            s.reviewed_at.map(ts),
            s.photo_key,
            s.generation,
            s.photo_hash.map(hash_to_sql),
            band(0),
            band(1),
            band(2),
            band(3),
            band(4),
            i64::try_from(s.version).unwrap_or(i64::MAX),
            i64::try_from(t.expected_version()).unwrap_or(i64::MAX),
            s.decided_by.map(|d| d.as_str()),
            s.appeal.as_ref().map(serde_json::to_string).transpose()?,
            serde_json::to_string(&s.flags)?,
            s.review_required,
            s.uploaded_by.map(|u| u.as_str()),
            s.auto_cropped,
            s.geometry.as_ref().map(serde_json::to_string).transpose()?,
        ])?;
    if written != 1 {
        return Err(Fail::Db(BackendError::new(format!("student {} changed under its write transaction", s.student_id))));
    }
    let e = &t.event;
    conn.prepare_cached(
        "INSERT INTO audit (student_id, at, actor, from_status, to_status, reasons, note, overruled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.student_id.as_str(),
        ts(e.at),
        e.actor,
        e.from.as_str(),
        e.to.as_str(),
        serde_json::to_string(&e.reasons)?,
        e.note,
        serde_json::to_string(&e.overruled)?
    ])?;
    let delta = t.stats_delta();
    if !delta.is_empty() {
        stats::apply(conn, &stats::district_of(conn, &s.school_id)?, &delta)?;
    }
    Ok(())
}

#[async_trait]
impl Records for SqliteRecords {
    async fn campaign(&self) -> Result<Option<Campaign>, BackendError> {
        self.read(|c| {
            Ok(c.query_row("SELECT name, starts_on, ends_on, daily_open, daily_close, timezone, review_policy, parents_enabled FROM campaign WHERE id = 1", [], codec::campaign)
                .optional()?)
        })
        .await
    }

    async fn put_campaign(&self, campaign: &Campaign) -> Result<(), BackendError> {
        let c = campaign.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO campaign (id, name, starts_on, ends_on, daily_open, daily_close, timezone, review_policy, parents_enabled) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, starts_on = excluded.starts_on, ends_on = excluded.ends_on,
                    daily_open = excluded.daily_open, daily_close = excluded.daily_close, timezone = excluded.timezone,
                    review_policy = excluded.review_policy, parents_enabled = excluded.parents_enabled",
                params![
                    c.name,
                    codec::date_to_sql(c.starts_on),
                    codec::date_to_sql(c.ends_on),
                    c.daily_open.to_string(),
                    c.daily_close.to_string(),
                    c.timezone.name(),
                    serde_json::to_string(&c.review_policy)?,
                    c.parents_enabled
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn insert_schools(&self, schools: &[School]) -> Result<(), BackendError> {
        let schools = schools.to_vec();
        self.write(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO schools (school_id, district, name, stage, registration_code, username) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            )?;
            for s in &schools {
                // A duplicate id or code fails the whole batch (the transaction rolls back).
                stmt.execute(params![s.school_id, s.district, s.name, s.stage.as_str(), s.registration_code]).map_err(|e| {
                    Fail::Db(BackendError::new(format!("school {} / code {}: {e}", s.school_id, s.registration_code)))
                })?;
            }
            Ok(())
        })
        .await
    }

    async fn school(&self, school_id: &str) -> Result<Option<School>, BackendError> {
        let id = school_id.to_owned();
        self.read(move |c| Ok(get_school(c, &id)?)).await
    }

    async fn school_by_code(&self, code: &str) -> Result<Option<School>, BackendError> {
        let code = code.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!("SELECT {SCHOOL_COLS} FROM schools WHERE registration_code = ?1"))?
                .query_row([code], codec::school)
                .optional()?)
        })
        .await
    }

    async fn schools(&self) -> Result<Vec<School>, BackendError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("SELECT {SCHOOL_COLS} FROM schools ORDER BY {SCHOOL_ORDER}"))?;
            let rows = stmt.query_map([], codec::school)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn register(&self, code: &str, account: &Account) -> Result<School, RegisterError> {
        let code = code.to_owned();
        let account = account.clone();
        self.write(move |tx| {
            let school = tx
                .prepare_cached(&format!("SELECT {SCHOOL_COLS} FROM schools WHERE registration_code = ?1"))?
                .query_row([&code], codec::school)
                .optional()?;
            let Some(mut school) = school else { return Err(Fail::Rule(RegisterError::UnknownCode)) };
            if school.username.is_some() {
                return Err(Fail::Rule(RegisterError::CodeUsed));
            }
            if account_exists(tx, &account.username)? {
                return Err(Fail::Rule(RegisterError::UsernameTaken));
            }
            // A code makes a school account of the code's school, whatever the caller passed.
            let bound = Account { role: gradphoto_core::Role::School, school_id: Some(school.school_id.clone()), ..account };
            insert_account(tx, &bound, bound.school_id.as_deref())?;
            tx.prepare_cached("UPDATE schools SET username = ?2 WHERE school_id = ?1")?
                .execute(params![school.school_id, bound.username])?;
            school.username = Some(bound.username);
            Ok(school)
        })
        .await
    }

    async fn reset_school(&self, school_id: &str, new_code: &str) -> Result<School, ResetError> {
        let (school_id, new_code) = (school_id.to_owned(), new_code.to_owned());
        self.write(move |tx| {
            let school = get_school(tx, &school_id)?.ok_or(Fail::Rule(ResetError::UnknownSchool))?;
            if let Some(old) = &school.username {
                tx.prepare_cached("DELETE FROM accounts WHERE username = ?1 AND role = 'school'")?.execute([old])?;
                tx.prepare_cached("DELETE FROM login_failures WHERE username = ?1")?.execute([old])?;
            }
            tx.prepare_cached("UPDATE schools SET registration_code = ?2, username = NULL WHERE school_id = ?1")?.execute(params![school_id, new_code])?;
            Ok(School { registration_code: new_code, username: None, ..school })
        })
        .await
    }

    async fn create_account(&self, account: &Account) -> Result<(), AccountError> {
        let account = account.clone();
        self.write(move |tx| {
            if account_exists(tx, &account.username)? {
                return Err(Fail::Rule(AccountError::UsernameTaken));
            }
            insert_account(tx, &account, account.school_id.as_deref())?;
            Ok(())
        })
        .await
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, BackendError> {
        let username = username.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT username, password_hash, role, school_id, created_at, district FROM accounts WHERE username = ?1")?
                .query_row([username], codec::account)
                .optional()?)
        })
        .await
    }

    async fn reserve_login_attempt(&self, username: &str, at: DateTime<Utc>, since: DateTime<Utc>, max: u32) -> Result<LoginAttempt, BackendError> {
        let username = username.to_owned();
        // One write transaction: SQLite serialises writers, so the count cannot change between
        // reading it and inserting.
        self.write(move |tx| {
            let n: u32 = tx
                .prepare_cached("SELECT COUNT(*) FROM login_failures WHERE username = ?1 AND at >= ?2")?
                .query_row(params![username, ts(since)], |r| r.get(0))?;
            if n >= max {
                return Ok(LoginAttempt::Refused);
            }
            tx.prepare_cached("INSERT INTO login_failures (username, at) VALUES (?1, ?2)")?.execute(params![username, ts(at)])?;
            Ok(LoginAttempt::Reserved)
        })
        .await
    }

    async fn login_failures(&self, username: &str, since: DateTime<Utc>) -> Result<u32, BackendError> {
        let username = username.to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT COUNT(*) FROM login_failures WHERE username = ?1 AND at >= ?2")?
                .query_row(params![username, ts(since)], |r| r.get(0))?)
        })
        .await
    }

    async fn clear_login_failures(&self, username: &str) -> Result<(), BackendError> {
        let username = username.to_owned();
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM login_failures WHERE username = ?1")?.execute([username])?;
            Ok(())
        })
        .await
    }

    async fn import_roster(&self, rows: &[RosterRow]) -> Result<(u32, u32), ImportError> {
        let rows = rows.to_vec();
        self.write(move |tx| {
            // Unknown schools first, for every row, before any student is looked at.
            let schools: BTreeSet<&str> = rows.iter().map(|r| r.school_id.as_str()).collect();
            {
                let mut exists = tx.prepare_cached("SELECT 1 FROM schools WHERE school_id = ?1")?;
                for s in schools {
                    if !exists.exists([s])? {
                        return Err(Fail::Rule(ImportError::UnknownSchool(s.to_owned())));
                    }
                }
            }
            let mut find = tx.prepare_cached("SELECT school_id FROM students WHERE student_id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO students (student_id, school_id, name, class, status, reasons, generation, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, '[]', ?6, ?7)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE students SET name = ?2, class = ?3, version = version + 1 WHERE student_id = ?1 AND (name IS NOT ?2 OR class IS NOT ?3)",
            )?;
            let (mut imported, mut updated) = (0u32, 0u32);
            let mut enrolled: BTreeMap<String, i64> = BTreeMap::new();
            // Rows apply in order: a student listed twice is imported once and then updated
            // (the later row wins), exactly as two consecutive imports would do.
            for row in &rows {
                let existing: Option<String> = find.query_row([row.student_id.as_str()], |r| r.get(0)).optional()?;
                match existing {
                    None => {
                        let s = lifecycle::enrol(row);
                        insert.execute(params![s.student_id.as_str(), s.school_id, s.name, s.class, s.status.as_str(), s.generation, s.version as i64])?;
                        imported += 1;
                        *enrolled.entry(stats::district_of(tx, &s.school_id)?).or_default() += 1;
                    }
                    Some(school) if school == row.school_id => {
                        update.execute(params![row.student_id.as_str(), row.name, row.class])?;
                        updated += 1;
                    }
                    Some(_) => return Err(Fail::Rule(ImportError::StudentOfAnotherSchool(row.student_id.clone()))),
                }
            }
            for (district, n) in enrolled {
                stats::apply(tx, &district, &StatsDelta::enrolled(n))?;
            }
            Ok((imported, updated))
        })
        .await
    }

    async fn student(&self, student_id: &StudentId) -> Result<Option<Student>, BackendError> {
        let id = student_id.clone();
        self.read(move |c| Ok(get_student(c, id.as_str())?)).await
    }

    async fn students(&self, school_id: &str, filter: &StudentFilter) -> Result<Vec<Student>, BackendError> {
        let mut sql = format!("SELECT {STUDENT_COLS} FROM students WHERE school_id = ?");
        let mut args = vec![Value::Text(school_id.to_owned())];
        if let Some(class) = &filter.class {
            sql.push_str(" AND class = ?");
            args.push(Value::Text(class.clone()));
        }
        if let Some(status) = filter.status {
            sql.push_str(" AND status = ?");
            args.push(Value::Text(status.as_str().to_owned()));
        }
        if let Some(by) = filter.uploaded_by {
            sql.push_str(" AND uploaded_by = ?");
            args.push(Value::Text(by.as_str().to_owned()));
        }
        sql.push_str(" ORDER BY class, student_id");
        self.read(move |c| Ok(query_students(c, &sql, args)?)).await
    }

    async fn counts(&self, school_id: &str) -> Result<Counts, BackendError> {
        let id = school_id.to_owned();
        self.read(move |c| {
            let mut counts = Counts::default();
            let mut stmt = c.prepare_cached("SELECT status, n FROM school_counts WHERE school_id = ?1")?;
            let mut rows = stmt.query([id])?;
            while let Some(row) = rows.next()? {
                let status: String = row.get(0)?;
                let n: i64 = row.get(1)?;
                counts.add(codec::status(&status).map_err(BackendError::new)?, n.max(0) as u32);
            }
            Ok(counts)
        })
        .await
    }

    async fn all_counts(&self) -> Result<BTreeMap<String, Counts>, BackendError> {
        self.read(|c| {
            // Every school appears, with zeros when it has no students yet.
            let mut stmt = c.prepare_cached(
                "SELECT sc.school_id, n.status, n.n FROM schools sc LEFT JOIN school_counts n ON n.school_id = sc.school_id",
            )?;
            let mut rows = stmt.query([])?;
            let mut out: BTreeMap<String, Counts> = BTreeMap::new();
            while let Some(row) = rows.next()? {
                let school: String = row.get(0)?;
                let entry = out.entry(school).or_default();
                if let Some(status) = row.get::<_, Option<String>>(1)? {
                    let n: i64 = row.get(2)?;
                    entry.add(codec::status(&status).map_err(BackendError::new)?, n.max(0) as u32);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn issue_ticket(&self, ticket: &Ticket) -> Result<Ticket, TicketError> {
        let ticket = ticket.clone();
        self.write(move |tx| {
            let student = get_student(tx, ticket.student_id.as_str())?;
            let issued = lifecycle::issue_ticket(student.as_ref(), &ticket).map_err(Fail::Rule)?;
            tx.prepare_cached(
                "INSERT INTO tickets (ticket_id, student_id, school_id, generation, size, issued_at, expires_at, issued_by, uploader, auto_cropped, used)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0)",
            )?
            .execute(params![
                issued.ticket_id,
                issued.student_id.as_str(),
                issued.school_id,
                issued.generation,
                i64::try_from(issued.size).unwrap_or(i64::MAX),
                ts(issued.issued_at),
                ts(issued.expires_at),
                issued.issued_by,
                issued.uploader.as_str(),
                issued.auto_cropped
            ])?;
            Ok(issued)
        })
        .await
    }

    async fn claim_upload(&self, student_id: &StudentId, ticket_id: &str, now: DateTime<Utc>) -> Result<Claim, BackendError> {
        let (student_id, ticket_id) = (student_id.clone(), ticket_id.to_owned());
        self.write(move |tx| {
            let ticket = get_ticket(tx, student_id.as_str(), &ticket_id)?;
            let student = get_student(tx, student_id.as_str())?;
            let t = match lifecycle::claim(student.as_ref(), ticket.as_ref(), now) {
                Ok(t) => t,
                Err(lost) => return Ok(Claim::Lost(lost)),
            };
            write_transition(tx, &t)?;
            tx.prepare_cached("UPDATE tickets SET used = 1 WHERE ticket_id = ?1")?.execute([&ticket_id])?;
            Ok(Claim::Won(t.after))
        })
        .await
    }

    async fn record_check(&self, student_id: &StudentId, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<CheckRecorded, BackendError> {
        let (student_id, ticket_id, outcome) = (student_id.clone(), ticket_id.to_owned(), outcome.clone());
        self.write(move |tx| {
            let student = get_student(tx, student_id.as_str())?;
            let Ok(t) = lifecycle::record_check(student.as_ref(), &ticket_id, &outcome, now) else { return Ok(CheckRecorded::NoChange) };
            write_transition(tx, &t)?;
            Ok(CheckRecorded::Decided(t.after))
        })
        .await
    }

    async fn stuck_uploads(&self, before: DateTime<Utc>) -> Result<Vec<Student>, BackendError> {
        let sql = format!(
            "SELECT {STUDENT_COLS} FROM students WHERE status = 'uploaded' AND uploaded_at < ? ORDER BY uploaded_at, student_id"
        );
        self.read(move |c| Ok(query_students(c, &sql, vec![Value::Integer(ts(before))])?)).await
    }

    async fn similar_photos(&self, hash: u64, max_distance: u32, except: &StudentId) -> Result<Vec<StudentId>, BackendError> {
        let except = except.clone();
        self.read(move |c| {
            let close = |other: i64| (codec::hash_from_sql(other) ^ hash).count_ones() <= max_distance;
            let mut found: BTreeSet<String> = BTreeSet::new();
            let mut collect = |rows: &mut rusqlite::Rows<'_>| -> rusqlite::Result<()> {
                while let Some(row) = rows.next()? {
                    let (id, other): (String, i64) = (row.get(0)?, row.get(1)?);
                    if close(other) && id != except.as_str() {
                        found.insert(id);
                    }
                }
                Ok(())
            };
            if (max_distance as usize) < codec::BANDS {
                // Pigeonhole: a neighbour within BANDS-1 bits shares at least one band exactly.
                let b = codec::bands(hash);
                let mut stmt = c.prepare_cached(
                    "SELECT student_id, photo_hash FROM students WHERE hb0 = ?1
                     UNION SELECT student_id, photo_hash FROM students WHERE hb1 = ?2
                     UNION SELECT student_id, photo_hash FROM students WHERE hb2 = ?3
                     UNION SELECT student_id, photo_hash FROM students WHERE hb3 = ?4
                     UNION SELECT student_id, photo_hash FROM students WHERE hb4 = ?5",
                )?;
                collect(&mut stmt.query(params![b[0], b[1], b[2], b[3], b[4]])?)?;
            } else {
                // Wider searches cannot use the bands; stay exact with a scan (rare: the
                // upload flow asks for 4 bits).
                let mut stmt = c.prepare_cached("SELECT student_id, photo_hash FROM students WHERE photo_hash IS NOT NULL")?;
                collect(&mut stmt.query([])?)?;
            }
            found.into_iter().map(|id| StudentId::parse(&id).map_err(|e| Fail::Db(BackendError::new(e)))).collect()
        })
        .await
    }

    async fn review_queue(&self, filter: &QueueFilter) -> Result<Vec<Student>, BackendError> {
        let mut sql = format!("SELECT {STUDENT_COLS_S} FROM students s");
        let mut args = Vec::new();
        if let Some(district) = &filter.district {
            sql.push_str(" JOIN schools sc ON sc.school_id = s.school_id AND sc.district = ?");
            args.push(Value::Text(district.clone()));
        }
        sql.push_str(" WHERE s.status = 'pending_review'");
        if let Some(school) = &filter.school_id {
            sql.push_str(" AND s.school_id = ?");
            args.push(Value::Text(school.clone()));
        }
        sql.push_str(" ORDER BY s.uploaded_at, s.student_id LIMIT ?");
        // 0 means no limit (the default filter).
        args.push(Value::Integer(if filter.limit == 0 { -1 } else { i64::from(filter.limit) }));
        self.read(move |c| Ok(query_students(c, &sql, args)?)).await
    }

    async fn review(&self, student_id: &StudentId, photo_id: Option<&str>, decision: Decision, reasons: &[Reason], note: Option<&str>, reviewer: &str, now: DateTime<Utc>) -> Result<Student, ReviewError> {
        let (student_id, reasons, note, reviewer) = (student_id.clone(), reasons.to_vec(), note.map(str::to_owned), reviewer.to_owned());
        let photo_id = photo_id.map(str::to_owned);
        self.write(move |tx| {
            let student = get_student(tx, student_id.as_str())?;
            let decision = ReviewDecision { photo_id: photo_id.as_deref(), decision, reasons: &reasons, note: note.as_deref(), reviewer: &reviewer };
            let t = lifecycle::review(student.as_ref(), &decision, now).map_err(Fail::Rule)?;
            write_transition(tx, &t)?;
            Ok(t.after)
        })
        .await
    }

    async fn lease_review_queue(&self, filter: &QueueFilter, lease: &Lease) -> Result<Vec<Student>, BackendError> {
        let mut sql = format!("SELECT {STUDENT_COLS_S} FROM students s");
        let me = Value::Text(lease.reviewer.clone());
        let now = Value::Integer(ts(lease.now));
        let mut args = Vec::new();
        if let Some(district) = &filter.district {
            sql.push_str(" JOIN schools sc ON sc.school_id = s.school_id AND sc.district = ?");
            args.push(Value::Text(district.clone()));
        }
        sql.push_str(" WHERE s.status = 'pending_review' AND (s.lease_until IS NULL OR s.lease_until < ? OR s.lease_by = ?)");
        args.extend([now.clone(), me.clone()]);
        if let Some(school) = &filter.school_id {
            sql.push_str(" AND s.school_id = ?");
            args.push(Value::Text(school.clone()));
        }
        // The reviewer's own live leases first: a page they have not finished comes back.
        sql.push_str(" ORDER BY CASE WHEN s.lease_by = ? AND s.lease_until >= ? THEN 0 ELSE 1 END, s.uploaded_at, s.student_id LIMIT ?");
        args.extend([me, now]);
        args.push(Value::Integer(if filter.limit == 0 { -1 } else { i64::from(filter.limit) }));
        let (reviewer, until) = (lease.reviewer.clone(), ts(lease.until));
        self.write(move |tx| {
            let students = query_students(tx, &sql, args)?;
            let mut hold = tx.prepare_cached("UPDATE students SET lease_by = ?2, lease_until = ?3 WHERE student_id = ?1")?;
            for s in &students {
                hold.execute(params![s.student_id.as_str(), reviewer, until])?;
            }
            Ok::<_, Fail<BackendError>>(students)
        })
        .await
    }

    async fn appeal(&self, student_id: &StudentId, request: &AppealRequest<'_>, now: DateTime<Utc>) -> Result<Student, AppealError> {
        let student_id = student_id.clone();
        let (photo_id, note, by, school_id) =
            (request.photo_id.to_owned(), request.note.map(str::to_owned), request.by.to_owned(), request.school_id.map(str::to_owned));
        self.write(move |tx| {
            let student = get_student(tx, student_id.as_str())?;
            let request = AppealRequest { photo_id: &photo_id, note: note.as_deref(), by: &by, school_id: school_id.as_deref() };
            let t = lifecycle::appeal(student.as_ref(), &request, now).map_err(Fail::Rule)?;
            write_transition(tx, &t)?;
            Ok(t.after)
        })
        .await
    }

    async fn reopen(&self, student_id: &StudentId, reasons: &[Reason], note: Option<&str>, by: &str, now: DateTime<Utc>) -> Result<Student, ReopenError> {
        let (student_id, reasons, note, by) = (student_id.clone(), reasons.to_vec(), note.map(str::to_owned), by.to_owned());
        self.write(move |tx| {
            let student = get_student(tx, student_id.as_str())?;
            let t = lifecycle::reopen(student.as_ref(), &reasons, note.as_deref(), &by, now).map_err(Fail::Rule)?;
            write_transition(tx, &t)?;
            Ok(t.after)
        })
        .await
    }

    async fn issue_parent_codes(&self, codes: &[ParentCode]) -> Result<Vec<ParentCode>, BackendError> {
        let codes = codes.to_vec();
        self.write(move |tx| {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO parent_codes (student_id, hash, version, issued_at) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (student_id) DO UPDATE SET hash = excluded.hash, version = version + 1, issued_at = excluded.issued_at
                 RETURNING version",
            )?;
            let mut out = Vec::with_capacity(codes.len());
            for c in codes {
                let version: u32 = upsert.query_row(params![c.student_id.as_str(), c.hash, ts(c.issued_at)], |r| r.get(0))?;
                out.push(ParentCode { version, ..c });
            }
            Ok::<_, Fail<BackendError>>(out)
        })
        .await
    }

    async fn parent_code(&self, student_id: &StudentId) -> Result<Option<ParentCode>, BackendError> {
        let id = student_id.clone();
        self.read(move |c| {
            Ok(c.prepare_cached("SELECT hash, version, issued_at FROM parent_codes WHERE student_id = ?1")?
                .query_row([id.as_str()], |r| Ok(ParentCode { student_id: id.clone(), hash: r.get(0)?, version: r.get(1)?, issued_at: codec::from_ts(r.get(2)?) }))
                .optional()?)
        })
        .await
    }

    async fn approved(&self, school_id: Option<&str>) -> Result<Vec<Student>, BackendError> {
        let mut sql = format!("SELECT {STUDENT_COLS} FROM students WHERE status = 'approved'");
        let mut args = Vec::new();
        if let Some(school) = school_id {
            sql.push_str(" AND school_id = ?");
            args.push(Value::Text(school.to_owned()));
        }
        sql.push_str(" ORDER BY school_id, student_id");
        self.read(move |c| Ok(query_students(c, &sql, args)?)).await
    }

    async fn stats(&self, district: Option<&str>) -> Result<BTreeMap<String, Stats>, BackendError> {
        let district = district.map(str::to_owned);
        self.read(move |c| Ok(stats::read(c, district.as_deref())?)).await
    }

    async fn replace_stats(&self, figures: &BTreeMap<String, Stats>) -> Result<(), BackendError> {
        let figures = figures.clone();
        self.write(move |tx| Ok(stats::replace(tx, &figures)?)).await
    }

    async fn audit_trail(&self, student_id: &StudentId) -> Result<Vec<AuditEvent>, BackendError> {
        let id = student_id.clone();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, actor, student_id, from_status, to_status, reasons, note, overruled FROM audit WHERE student_id = ?1 ORDER BY at, seq",
            )?;
            let rows = stmt.query_map([id.as_str()], codec::audit)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn purge_personal_data(&self) -> Result<gradphoto_core::purge::RecordsPurged, BackendError> {
        // Not a plain `write`: the purge also scrubs the file (see sqlite/purge.rs).
        self.purge_all().await
    }
}
