//! The `Records` port on DynamoDB.

use super::items::{self, StoredStudent, audit_from, code_item, counts_from, school_from, school_item, stored_student, ticket_item};
use super::tx::{self, Cond, Item, MAX_ATTEMPTS, MAX_TX_ITEMS, TxOutcome, backend, n, s};
use super::{DynamoRecords, Query, roster_cond};
use crate::keys::{self, GSI1, GSI1PK, PK, SK};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::*;
use gradphoto_core::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn actor_check() -> String {
    "check".to_owned()
}

fn too_contended(what: &str) -> BackendError {
    BackendError::new(format!("{what}: too many concurrent writers, gave up"))
}

impl DynamoRecords {
    async fn school_stored(&self, school_id: &str) -> Result<Option<Item>, BackendError> {
        self.get(keys::school_pk(school_id), keys::SCHOOL_SK).await
    }

    /// Writes `chunks` one transaction each; if one fails, undoes the ones already written with
    /// `undo` (best effort) and returns the failure. DynamoDB transactions hold at most 100
    /// items, so a larger all-or-nothing write is a sequence of them plus this compensation.
    async fn run_chunks(&self, chunks: Vec<Vec<TxOp>>, undo: Vec<Vec<TxOp>>) -> Result<(), ChunkFailure> {
        for (i, chunk) in chunks.iter().enumerate() {
            let mut attempt = 0;
            loop {
                let mut tx = self.tx();
                for op in chunk {
                    op.add_to(&mut tx).map_err(ChunkFailure::Backend)?;
                }
                match tx.run(&self.client).await.map_err(ChunkFailure::Backend)? {
                    TxOutcome::Done => break,
                    TxOutcome::Conflict if attempt < MAX_ATTEMPTS => {
                        attempt += 1;
                        tx::backoff(attempt).await;
                    }
                    outcome => {
                        for done in undo[..i].iter().rev() {
                            let mut tx = self.tx();
                            for op in done {
                                op.add_to(&mut tx).map_err(ChunkFailure::Backend)?;
                            }
                            if let Err(e) = tx.run(&self.client).await {
                                tracing::error!(error = %e, "could not undo a partly written batch; fix by hand");
                            }
                        }
                        return Err(match outcome {
                            TxOutcome::ConditionFailed(idx) => ChunkFailure::Condition(idx.into_iter().map(|j| chunk[j].clone()).collect()),
                            _ => ChunkFailure::Backend(too_contended("batch write")),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// One transaction item, kept as data so a chunk can be retried and a failure explained.
#[derive(Debug, Clone)]
enum TxOp {
    Put { item: Item, cond: Option<Cond>, tag: Option<String> },
    Update { key: Item, expr: String, cond: Cond },
    Delete { key: Item, cond: Option<Cond> },
}

impl TxOp {
    fn add_to(&self, tx: &mut tx::Tx) -> Result<usize, BackendError> {
        match self {
            TxOp::Put { item, cond, .. } => tx.put(item.clone(), cond.clone()),
            TxOp::Update { key, expr, cond } => tx.update(key.clone(), expr, cond.clone()),
            TxOp::Delete { key, cond } => tx.delete(key.clone(), cond.clone()),
        }
    }
    fn tag(&self) -> Option<&str> {
        match self {
            TxOp::Put { tag, .. } => tag.as_deref(),
            _ => None,
        }
    }
}

enum ChunkFailure {
    Condition(Vec<TxOp>),
    Backend(BackendError),
}

fn not_exists() -> Cond {
    Cond::new("attribute_not_exists(#pk)").name("#pk", PK)
}

/// Splits ops into transactions of at most `MAX_TX_ITEMS`, where each group's counter updates
/// (one per school, aggregated) ride in the same transaction as the students they count.
/// Returns each chunk with how many of its ops are student ops (the rest are counters).
fn chunk_with_counters(ops: Vec<(String, TxOp)>, counter: impl Fn(&str, i64) -> TxOp, delta: i64) -> Vec<(Vec<TxOp>, usize)> {
    let mut chunks = Vec::new();
    let mut cur: Vec<TxOp> = Vec::new();
    let mut schools: BTreeMap<String, i64> = BTreeMap::new();
    let flush = |cur: &mut Vec<TxOp>, schools: &mut BTreeMap<String, i64>, chunks: &mut Vec<(Vec<TxOp>, usize)>| {
        let mut c = std::mem::take(cur);
        let students = c.len();
        for (school, k) in std::mem::take(schools) {
            if k != 0 {
                c.push(counter(&school, k * delta));
            }
        }
        if !c.is_empty() {
            chunks.push((c, students));
        }
    };
    for (school, op) in ops {
        let counted = op.tag() == Some("new");
        let extra = usize::from(counted && !schools.contains_key(&school));
        if cur.len() + schools.len() + 1 + extra > MAX_TX_ITEMS {
            flush(&mut cur, &mut schools, &mut chunks);
        }
        if counted {
            *schools.entry(school).or_default() += 1;
        }
        cur.push(op);
    }
    flush(&mut cur, &mut schools, &mut chunks);
    chunks
}

fn counter_op(school_id: &str, by: i64) -> TxOp {
    TxOp::Update {
        key: tx::key(keys::school_pk(school_id), keys::SCHOOL_SK),
        expr: "ADD #c :by".into(),
        cond: Cond::new("attribute_exists(#pk)")
            .name("#pk", PK)
            .name("#c", &keys::counter(Status::NotUploaded))
            .value(":by", n(by)),
    }
}

#[async_trait]
impl Records for DynamoRecords {
    async fn campaign(&self) -> Result<Option<Campaign>, BackendError> {
        self.get(keys::CAMPAIGN.into(), keys::CAMPAIGN).await?.map(items::from_item).transpose()
    }

    async fn put_campaign(&self, campaign: &Campaign) -> Result<(), BackendError> {
        let mut item = items::to_item(campaign)?;
        item.insert(PK.into(), s(keys::CAMPAIGN));
        item.insert(SK.into(), s(keys::CAMPAIGN));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn insert_schools(&self, schools: &[School]) -> Result<(), BackendError> {
        let mut ids = BTreeSet::new();
        let mut codes = BTreeSet::new();
        for sc in schools {
            if !ids.insert(sc.school_id.as_str()) || !codes.insert(sc.registration_code.as_str()) {
                return Err(BackendError::new(format!("duplicate school id or code in batch: {}", sc.school_id)));
            }
        }
        let mut chunks = Vec::new();
        let mut undo = Vec::new();
        // Two items per school (the school and its code lookup), both must be new.
        for group in schools.chunks(MAX_TX_ITEMS / 2) {
            let mut ops = Vec::new();
            let mut back = Vec::new();
            for sc in group {
                let school = school_item(sc)?;
                let code = code_item(&sc.registration_code, &sc.school_id);
                back.push(TxOp::Delete { key: tx::key(keys::school_pk(&sc.school_id), keys::SCHOOL_SK), cond: None });
                back.push(TxOp::Delete { key: tx::key(keys::code_pk(&sc.registration_code), keys::CODE_SK), cond: None });
                ops.push(TxOp::Put { item: school, cond: Some(not_exists()), tag: Some(sc.school_id.clone()) });
                ops.push(TxOp::Put { item: code, cond: Some(not_exists()), tag: Some(sc.registration_code.clone()) });
            }
            chunks.push(ops);
            undo.push(back);
        }
        match self.run_chunks(chunks, undo).await {
            Ok(()) => Ok(()),
            Err(ChunkFailure::Backend(e)) => Err(e),
            Err(ChunkFailure::Condition(ops)) => Err(BackendError::new(format!(
                "school id or registration code already exists: {:?}",
                ops.iter().filter_map(TxOp::tag).collect::<Vec<_>>()
            ))),
        }
    }

    async fn school(&self, school_id: &str) -> Result<Option<School>, BackendError> {
        self.school_stored(school_id).await?.map(school_from).transpose()
    }

    async fn school_by_code(&self, code: &str) -> Result<Option<School>, BackendError> {
        let Some(item) = self.get(keys::code_pk(code), keys::CODE_SK).await? else { return Ok(None) };
        let school_id = items::str_attr(&item, "school_id").ok_or_else(|| BackendError::new("code item without school"))?;
        self.school(&school_id).await
    }

    async fn schools(&self) -> Result<Vec<School>, BackendError> {
        let cond = Cond::new("#p = :p").name("#p", GSI1PK).value(":p", s(keys::SCHOOLS));
        let items = self.query(Query { index: Some(GSI1), cond, filter: None, forward: true, limit: 0 }).await?;
        let mut out: Vec<School> = items.into_iter().map(school_from).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (&a.district, &a.name, stage_rank(a.stage)).cmp(&(&b.district, &b.name, stage_rank(b.stage))));
        Ok(out)
    }

    async fn register(&self, code: &str, account: &Account) -> Result<School, RegisterError> {
        let Some(mut school) = self.school_by_code(code).await? else { return Err(RegisterError::UnknownCode) };
        if school.username.is_some() {
            return Err(RegisterError::CodeUsed);
        }
        for attempt in 0..MAX_ATTEMPTS {
            let mut tx = self.tx();
            // The school item is the code's single-use flag: set once, never overwritten.
            tx.update(
                tx::key(keys::school_pk(&school.school_id), keys::SCHOOL_SK),
                "SET #u = :u",
                Cond::new("attribute_exists(#pk) AND attribute_not_exists(#u)")
                    .name("#pk", PK)
                    .name("#u", "username")
                    .value(":u", s(&account.username)),
            )?;
            // A code makes a school account of the code's school, whatever the caller passed.
            let bound = Account { role: Role::School, school_id: Some(school.school_id.clone()), ..account.clone() };
            let mut item = items::to_item(&bound)?;
            item.retain(|_, v| !v.is_null());
            item.insert(PK.into(), s(keys::account_pk(&account.username)));
            item.insert(SK.into(), s(keys::ACCOUNT_SK));
            tx.put(item, Some(not_exists()))?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => {
                    school.username = Some(account.username.clone());
                    return Ok(school);
                }
                TxOutcome::ConditionFailed(failed) if failed.contains(&0) => return Err(RegisterError::CodeUsed),
                TxOutcome::ConditionFailed(_) => return Err(RegisterError::UsernameTaken),
                TxOutcome::Conflict => tx::backoff(attempt + 1).await,
            }
        }
        Err(too_contended("register").into())
    }

    async fn create_account(&self, account: &Account) -> Result<(), AccountError> {
        let mut item = items::to_item(account)?;
        item.retain(|_, v| !v.is_null());
        item.insert(PK.into(), s(keys::account_pk(&account.username)));
        item.insert(SK.into(), s(keys::ACCOUNT_SK));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Err(AccountError::UsernameTaken),
            Err(e) => Err(backend(e).into()),
        }
    }

    async fn account(&self, username: &str) -> Result<Option<Account>, BackendError> {
        let Some(mut item) = self.get(keys::account_pk(username), keys::ACCOUNT_SK).await? else { return Ok(None) };
        item.entry("school_id".into()).or_insert(aws_sdk_dynamodb::types::AttributeValue::Null(true));
        items::from_item(item).map(Some)
    }

    async fn reserve_login_attempt(&self, username: &str, at: DateTime<Utc>, since: DateTime<Utc>, max: u32) -> Result<LoginAttempt, BackendError> {
        // A slot is free when empty or when its attempt fell out of the window; the conditional
        // put lets exactly one of several racing requests take it.
        for slot in 0..max {
            let mut item = tx::key(keys::login_pk(username), keys::login_slot_sk(slot));
            item.insert(keys::LOGIN_AT.into(), s(keys::sortable_time(at)));
            // An attempt older than a day never matters to the throttle; TTL clears it.
            item.insert(keys::TTL.into(), n((at + chrono::Duration::days(1)).timestamp()));
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk) OR #at < :since")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#at", keys::LOGIN_AT)
                .expression_attribute_values(":since", s(keys::sortable_time(since)))
                .send()
                .await;
            match res {
                Ok(_) => return Ok(LoginAttempt::Reserved),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => continue,
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(LoginAttempt::Refused)
    }

    async fn login_failures(&self, username: &str, since: DateTime<Utc>) -> Result<u32, BackendError> {
        let cond = Cond::new("#p = :p").name("#p", PK).value(":p", s(keys::login_pk(username)));
        let items = self.query(Query { index: None, cond, filter: None, forward: true, limit: 0 }).await?;
        let since = keys::sortable_time(since);
        let counted = items.iter().filter(|i| i.get(keys::LOGIN_AT).and_then(|v| v.as_s().ok()).is_some_and(|at| *at >= since)).count();
        Ok(u32::try_from(counted).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, username: &str) -> Result<(), BackendError> {
        let cond = Cond::new("#p = :p").name("#p", PK).value(":p", s(keys::login_pk(username)));
        let items = self.query(Query { index: None, cond, filter: None, forward: true, limit: 0 }).await?;
        let keys = items
            .into_iter()
            .filter_map(|mut i| Some(tx::key(i.remove(PK)?.as_s().ok()?.clone(), i.remove(SK)?.as_s().ok()?.clone())))
            .collect();
        self.batch_delete(keys).await
    }

    async fn import_roster(&self, rows: &[RosterRow]) -> Result<(u32, u32), ImportError> {
        if rows.is_empty() {
            return Ok((0, 0));
        }
        // 1. Validate everything before writing anything.
        let school_ids: BTreeSet<&str> = rows.iter().map(|r| r.school_id.as_str()).collect();
        let found = self.batch_get(school_ids.iter().map(|id| tx::key(keys::school_pk(id), keys::SCHOOL_SK)).collect()).await?;
        let schools: HashMap<String, School> =
            found.into_iter().map(school_from).map(|r| r.map(|s| (s.school_id.clone(), s))).collect::<Result<_, _>>()?;
        if let Some(r) = rows.iter().find(|r| !schools.contains_key(&r.school_id)) {
            return Err(ImportError::UnknownSchool(r.school_id.clone()));
        }
        let ids: BTreeSet<&StudentId> = rows.iter().map(|r| &r.student_id).collect();
        let existing: HashMap<StudentId, StoredStudent> = self
            .batch_get(ids.iter().map(|id| tx::key(keys::student_pk(id), keys::STUDENT_SK)).collect())
            .await?
            .into_iter()
            .map(|i| stored_student(i).map(|s| (s.student.student_id.clone(), s)))
            .collect::<Result<_, _>>()?;

        // 2. Plan: later rows for the same student win, as they would applied one by one.
        let (mut imported, mut updated) = (0u32, 0u32);
        let mut order: Vec<StudentId> = Vec::new();
        let mut plan: HashMap<StudentId, (RosterRow, Option<&StoredStudent>)> = HashMap::new();
        for row in rows {
            let prior_school = plan
                .get(&row.student_id)
                .map(|(r, _)| r.school_id.as_str())
                .or_else(|| existing.get(&row.student_id).map(|e| e.student.school_id.as_str()));
            match prior_school {
                Some(school) if school != row.school_id => return Err(ImportError::StudentOfAnotherSchool(row.student_id.clone())),
                Some(_) => updated += 1,
                None => imported += 1,
            }
            match plan.get_mut(&row.student_id) {
                Some(p) => p.0 = row.clone(),
                None => {
                    order.push(row.student_id.clone());
                    plan.insert(row.student_id.clone(), (row.clone(), existing.get(&row.student_id)));
                }
            }
        }

        // 3. Write: new students conditional on not existing, renamed ones on their school.
        let mut ops = Vec::new();
        let mut undo_ops = Vec::new();
        for id in &order {
            let (row, before) = &plan[id];
            let district = schools[&row.school_id].district.clone();
            match before {
                None => {
                    let student = Student {
                        student_id: row.student_id.clone(),
                        school_id: row.school_id.clone(),
                        name: row.name.clone(),
                        class: row.class.clone(),
                        status: Status::NotUploaded,
                        reasons: Vec::new(),
                        uploaded_at: None,
                        reviewed_at: None,
                        photo_key: None,
                        generation: 0,
                        photo_hash: None,
                    };
                    let item = items::student_item(&StoredStudent { student, district, version: 0 })?;
                    let key = tx::key(keys::student_pk(id), keys::STUDENT_SK);
                    ops.push((row.school_id.clone(), TxOp::Put { item, cond: Some(not_exists()), tag: Some("new".into()) }));
                    undo_ops.push((row.school_id.clone(), TxOp::Delete { key, cond: None }, true));
                }
                Some(b) if b.student.name == row.name && b.student.class == row.class => {}
                Some(b) => {
                    let rename = |name: &str, class: &str| TxOp::Update {
                        key: tx::key(keys::student_pk(id), keys::STUDENT_SK),
                        // Bumping the version makes a concurrent upload/review re-read, so it
                        // cannot write back the old name.
                        expr: "SET #n = :n, #c = :c, #k = :k ADD #v :one".into(),
                        cond: Cond::new("#s = :s")
                            .name("#n", "name")
                            .name("#c", "class")
                            .name("#k", keys::GSI1SK)
                            .name("#v", keys::VERSION)
                            .name("#s", "school_id")
                            .value(":n", s(name))
                            .value(":c", s(class))
                            .value(":k", s(keys::roster_sk(class, id)))
                            .value(":one", n(1))
                            .value(":s", s(&row.school_id)),
                    };
                    ops.push((row.school_id.clone(), rename(&row.name, &row.class)));
                    undo_ops.push((row.school_id.clone(), rename(&b.student.name, &b.student.class), false));
                }
            }
        }
        let planned = chunk_with_counters(ops, counter_op, 1);
        // The undo of chunk i mirrors chunk i exactly (same students, counters reversed).
        let mut undo = Vec::new();
        let mut chunks = Vec::new();
        let mut it = undo_ops.into_iter();
        for (chunk, students) in planned {
            chunks.push(chunk);
            let mut back = Vec::new();
            let mut per_school: BTreeMap<String, i64> = BTreeMap::new();
            for (school, op, new) in it.by_ref().take(students) {
                if new {
                    *per_school.entry(school).or_default() += 1;
                }
                back.push(op);
            }
            for (school, k) in per_school {
                back.push(counter_op(&school, -k));
            }
            undo.push(back);
        }
        match self.run_chunks(chunks, undo).await {
            Ok(()) => Ok((imported, updated)),
            Err(ChunkFailure::Backend(e)) => Err(e.into()),
            Err(ChunkFailure::Condition(failed)) => {
                // A concurrent import created one of these students meanwhile: report it the
                // way validation would have.
                for op in failed {
                    if let TxOp::Put { item, .. } = op
                        && let Some(id) = items::str_attr(&item, "student_id").and_then(|i| StudentId::parse(&i).ok())
                        && let Some(now) = self.get_student(&id).await?
                        && Some(now.student.school_id.as_str()) != items::str_attr(&item, "school_id").as_deref()
                    {
                        return Err(ImportError::StudentOfAnotherSchool(id));
                    }
                }
                Err(BackendError::new("roster changed during import (a concurrent import?); nothing was kept, retry").into())
            }
        }
    }

    async fn student(&self, student_id: &StudentId) -> Result<Option<Student>, BackendError> {
        Ok(self.get_student(student_id).await?.map(|s| s.student))
    }

    async fn students(&self, school_id: &str, filter: &StudentFilter) -> Result<Vec<Student>, BackendError> {
        let mut cond = roster_cond(school_id);
        let mut parts = Vec::new();
        let mut f = Cond::default();
        if let Some(class) = &filter.class {
            // The key prefix narrows the read; the filter makes it exact (a class may contain '#').
            cond = Cond { expr: "#p = :p AND begins_with(#rk, :rk)".into(), ..cond }
                .name("#rk", keys::GSI1SK)
                .value(":rk", s(format!("{class}#")));
            parts.push("#class = :class");
            f = f.name("#class", "class").value(":class", s(class));
        }
        if let Some(status) = filter.status {
            parts.push("#status = :status");
            f = f.name("#status", "status").value(":status", s(status.as_str()));
        }
        let filter_cond = (!parts.is_empty()).then(|| Cond { expr: parts.join(" AND "), ..f });
        let items = self.query(Query { index: Some(GSI1), cond, filter: filter_cond, forward: true, limit: 0 }).await?;
        let mut out: Vec<Student> = items.into_iter().map(|i| stored_student(i).map(|s| s.student)).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (&a.class, &a.student_id).cmp(&(&b.class, &b.student_id)));
        Ok(out)
    }

    async fn counts(&self, school_id: &str) -> Result<Counts, BackendError> {
        Ok(self.school_stored(school_id).await?.map(|i| counts_from(&i)).unwrap_or_default())
    }

    async fn all_counts(&self) -> Result<BTreeMap<String, Counts>, BackendError> {
        let cond = Cond::new("#p = :p").name("#p", GSI1PK).value(":p", s(keys::SCHOOLS));
        let items = self.query(Query { index: Some(GSI1), cond, filter: None, forward: true, limit: 0 }).await?;
        Ok(items.iter().filter_map(|i| Some((items::str_attr(i, "school_id")?, counts_from(i)))).collect())
    }

    async fn issue_ticket(&self, ticket: &Ticket) -> Result<Ticket, TicketError> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(st) = self.get_student(&ticket.student_id).await? else { return Err(TicketError::UnknownStudent) };
            if st.student.school_id != ticket.school_id {
                return Err(TicketError::UnknownStudent);
            }
            if !st.student.status.may_upload() {
                return Err(TicketError::AlreadyUploaded(st.student.status));
            }
            let issued = Ticket { generation: st.student.generation, ..ticket.clone() };
            let mut tx = self.tx();
            // The ticket is only valid for the generation it saw; the check pins that.
            tx.check(
                tx::key(keys::student_pk(&ticket.student_id), keys::STUDENT_SK),
                Cond::new("#v = :v").name("#v", keys::VERSION).value(":v", n(st.version)),
            )?;
            tx.put(ticket_item(&issued)?, None)?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(issued),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(too_contended("issue ticket").into())
    }

    async fn claim_upload(&self, student_id: &StudentId, ticket_id: &str, now: DateTime<Utc>) -> Result<Claim, BackendError> {
        let Some(item) = self.get(keys::student_pk(student_id), &keys::ticket_sk(ticket_id)).await? else {
            return Ok(Claim::Lost(ClaimLost::UnknownTicket));
        };
        let ticket: Ticket = items::from_item(item)?;
        if now > ticket.expires_at {
            return Ok(Claim::Lost(ClaimLost::Expired));
        }
        for attempt in 0..MAX_ATTEMPTS {
            let Some(before) = self.get_student(student_id).await? else { return Ok(Claim::Lost(ClaimLost::UnknownTicket)) };
            let b = &before.student;
            if b.generation != ticket.generation || !b.status.may_upload() {
                return Ok(Claim::Lost(ClaimLost::Superseded));
            }
            let after = Student {
                status: Status::Uploaded,
                generation: b.generation + 1,
                photo_key: Some(ticket.object_key()),
                uploaded_at: Some(now),
                reviewed_at: None,
                reasons: Vec::new(),
                photo_hash: None,
                ..b.clone()
            };
            let mut tx = self.tx();
            self.put_student(&mut tx, &before, &after)?;
            self.count_change(&mut tx, &b.school_id, b.status, after.status)?;
            tx.put(
                items::audit_item(&AuditEvent {
                    at: now,
                    actor: ticket.issued_by.clone(),
                    student_id: student_id.clone(),
                    from: b.status,
                    to: after.status,
                    reasons: Vec::new(),
                    note: None,
                }, before.version + 1)?,
                None,
            )?;
            self.rewrite_bands(&mut tx, student_id, b.photo_hash, None)?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(Claim::Won(after)),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(too_contended("claim upload"))
    }

    async fn record_check(&self, student_id: &StudentId, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<CheckRecorded, BackendError> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(before) = self.get_student(student_id).await? else { return Ok(CheckRecorded::NoChange) };
            let b = &before.student;
            let current = b.photo_key.as_deref().and_then(ObjectKey::parse).is_some_and(|k| k.ticket_id == ticket_id);
            if b.status != Status::Uploaded || !current {
                return Ok(CheckRecorded::NoChange);
            }
            let status = outcome.status();
            let reasons = outcome.reasons();
            let after = Student { status, reasons: reasons.clone(), photo_hash: outcome.photo_hash, ..b.clone() };
            let mut tx = self.tx();
            self.put_student(&mut tx, &before, &after)?;
            self.count_change(&mut tx, &b.school_id, b.status, status)?;
            tx.put(
                items::audit_item(&AuditEvent {
                    at: now,
                    actor: actor_check(),
                    student_id: student_id.clone(),
                    from: b.status,
                    to: status,
                    reasons: reasons.iter().map(|r| r.code.clone()).collect(),
                    note: None,
                }, before.version + 1)?,
                None,
            )?;
            self.rewrite_bands(&mut tx, student_id, b.photo_hash, outcome.photo_hash)?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(CheckRecorded::Decided(after)),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(too_contended("record check"))
    }

    async fn stuck_uploads(&self, before: DateTime<Utc>) -> Result<Vec<Student>, BackendError> {
        let found = self.students_in_status(Status::Uploaded, Some(("<", keys::sortable_time(before))), None, 0).await?;
        Ok(found.into_iter().map(|s| s.student).collect())
    }

    async fn similar_photos(&self, hash: u64, max_distance: u32, except: &StudentId) -> Result<Vec<StudentId>, BackendError> {
        if max_distance as usize >= keys::BANDS {
            // Pigeonhole only guarantees neighbours within BANDS-1 bits share a band; farther
            // ones may be missed. Say so rather than silently scanning.
            tracing::warn!(max_distance, "similar_photos: distances above {} bits are best effort", keys::BANDS - 1);
        }
        let mut found = BTreeSet::new();
        for (band, value) in keys::bands(hash) {
            let cond = Cond::new("#p = :p").name("#p", PK).value(":p", s(keys::band_pk(band, value)));
            for item in self.query(Query { index: None, cond, filter: None, forward: true, limit: 0 }).await? {
                let (Some(id), Some(other)) = (items::str_attr(&item, "student_id"), items::num_attr(&item, "hash")) else { continue };
                if (other ^ hash).count_ones() <= max_distance
                    && let Ok(id) = StudentId::parse(&id)
                    && &id != except
                {
                    found.insert(id);
                }
            }
        }
        Ok(found.into_iter().collect())
    }

    async fn review_queue(&self, filter: &QueueFilter) -> Result<Vec<Student>, BackendError> {
        let mut parts = Vec::new();
        let mut f = Cond::default();
        if let Some(d) = &filter.district {
            parts.push("#d = :d");
            f = f.name("#d", "district").value(":d", s(d));
        }
        if let Some(sc) = &filter.school_id {
            parts.push("#sc = :sc");
            f = f.name("#sc", "school_id").value(":sc", s(sc));
        }
        let filter_cond = (!parts.is_empty()).then(|| Cond { expr: parts.join(" AND "), ..f });
        let found = self.students_in_status(Status::PendingReview, None, filter_cond, filter.limit as usize).await?;
        Ok(found.into_iter().map(|s| s.student).collect())
    }

    async fn review(&self, student_id: &StudentId, photo_id: Option<&str>, decision: Decision, reasons: &[Reason], note: Option<&str>, reviewer: &str, now: DateTime<Utc>) -> Result<Student, ReviewError> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(before) = self.get_student(student_id).await? else { return Err(ReviewError::UnknownStudent) };
            let b = &before.student;
            // Read and write are tied by the item's version (put_student's condition): a photo
            // replaced in between makes the transaction fail and this check run again.
            if photo_id.is_some() && b.photo_id().as_deref() != photo_id {
                return Err(ReviewError::PhotoChanged);
            }
            if b.status != Status::PendingReview {
                return Err(ReviewError::NotPending(b.status));
            }
            let status = match decision {
                Decision::Approve => Status::Approved,
                Decision::Reject => Status::Rejected,
            };
            let after = Student { status, reasons: reasons.to_vec(), reviewed_at: Some(now), ..b.clone() };
            let mut tx = self.tx();
            self.put_student(&mut tx, &before, &after)?;
            self.count_change(&mut tx, &b.school_id, b.status, status)?;
            tx.put(
                items::audit_item(&AuditEvent {
                    at: now,
                    actor: reviewer.to_owned(),
                    student_id: student_id.clone(),
                    from: b.status,
                    to: status,
                    reasons: reasons.iter().map(|r| r.code.clone()).collect(),
                    note: note.map(str::to_owned),
                }, before.version + 1)?,
                None,
            )?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(after),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(too_contended("review").into())
    }

    async fn approved(&self, school_id: Option<&str>) -> Result<Vec<Student>, BackendError> {
        let sk = school_id.map(|sc| ("begins_with", format!("{sc}#")));
        let mut out: Vec<Student> = self.students_in_status(Status::Approved, sk, None, 0).await?.into_iter().map(|s| s.student).collect();
        out.sort_by(|a, b| (&a.school_id, &a.student_id).cmp(&(&b.school_id, &b.student_id)));
        Ok(out)
    }

    async fn audit_trail(&self, student_id: &StudentId) -> Result<Vec<AuditEvent>, BackendError> {
        let cond = Cond::new("#p = :p AND begins_with(#s, :s)")
            .name("#p", PK)
            .name("#s", SK)
            .value(":p", s(keys::student_pk(student_id)))
            .value(":s", s(keys::AUDIT_PREFIX));
        let items = self.query(Query { index: None, cond, filter: None, forward: true, limit: 0 }).await?;
        items.into_iter().map(audit_from).collect()
    }

    async fn purge_personal_data(&self) -> Result<gradphoto_core::purge::RecordsPurged, BackendError> {
        self.purge_all().await
    }
}

/// Stage order for listings: primary, junior, senior (the order of schooling).
fn stage_rank(s: Stage) -> usize {
    Stage::ALL.iter().position(|x| *x == s).unwrap_or(0)
}
