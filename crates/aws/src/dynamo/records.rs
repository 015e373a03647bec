//! The `Records` port on DynamoDB.

use super::batch::{ChunkFailure, TxOp, not_exists};
use super::items::{self, audit_from, code_item, counts_from, school_from, school_item, stored_student, ticket_item};
use super::tx::{self, Cond, Item, MAX_ATTEMPTS, MAX_TX_ITEMS, TxOutcome, backend, n, s, too_contended};
use super::{DynamoRecords, Query, roster_cond};
use crate::keys::{self, GSI1, GSI1PK, PK, SK};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::*;
use gradphoto_core::lifecycle::{self, ReviewDecision};
use gradphoto_core::*;
use std::collections::{BTreeMap, BTreeSet};

impl DynamoRecords {
    async fn school_stored(&self, school_id: &str) -> Result<Option<Item>, BackendError> {
        self.get(keys::school_pk(school_id), keys::SCHOOL_SK).await
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
        let items = self.query(Query { index: Some(GSI1), cond, filter: None, forward: true, consistent: false, limit: 0 }).await?;
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

    async fn reset_school(&self, school_id: &str, new_code: &str) -> Result<School, ResetError> {
        for attempt in 0..MAX_ATTEMPTS {
            let Some(school) = self.school(school_id).await? else { return Err(ResetError::UnknownSchool) };
            let mut tx = self.tx();
            // Conditional on the code and account read, so a registration racing the reset
            // makes the loop read again rather than leave an account the school does not name.
            let mut cond = Cond::new("attribute_exists(#pk) AND #code = :old").name("#pk", PK).name("#code", "registration_code").value(":old", s(&school.registration_code));
            cond = match &school.username {
                Some(u) => Cond { expr: format!("{} AND #u = :u", cond.expr), ..cond }.value(":u", s(u)),
                None => Cond { expr: format!("{} AND attribute_not_exists(#u)", cond.expr), ..cond },
            };
            tx.update(tx::key(keys::school_pk(school_id), keys::SCHOOL_SK), "SET #code = :new REMOVE #u", cond.name("#u", "username").value(":new", s(new_code)))?;
            tx.delete(tx::key(keys::code_pk(&school.registration_code), keys::CODE_SK), None)?;
            tx.put(code_item(new_code, school_id), Some(not_exists()))?;
            if let Some(u) = &school.username {
                tx.delete(tx::key(keys::account_pk(u), keys::ACCOUNT_SK), None)?;
            }
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(School { registration_code: new_code.to_owned(), username: None, ..school }),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(ResetError::Backend(too_contended("reset school")))
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
        item.entry("district".into()).or_insert(aws_sdk_dynamodb::types::AttributeValue::Null(true));
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
        let items = self.query(Query { index: None, cond, filter: None, forward: true, consistent: true, limit: 0 }).await?;
        let since = keys::sortable_time(since);
        let counted = items.iter().filter(|i| i.get(keys::LOGIN_AT).and_then(|v| v.as_s().ok()).is_some_and(|at| *at >= since)).count();
        Ok(u32::try_from(counted).unwrap_or(u32::MAX))
    }

    async fn clear_login_failures(&self, username: &str) -> Result<(), BackendError> {
        let cond = Cond::new("#p = :p").name("#p", PK).value(":p", s(keys::login_pk(username)));
        let items = self.query(Query { index: None, cond, filter: None, forward: true, consistent: true, limit: 0 }).await?;
        let keys = items
            .into_iter()
            .filter_map(|mut i| Some(tx::key(i.remove(PK)?.as_s().ok()?.clone(), i.remove(SK)?.as_s().ok()?.clone())))
            .collect();
        self.batch_delete(keys).await
    }

    async fn import_roster(&self, rows: &[RosterRow]) -> Result<(u32, u32), ImportError> {
        self.import(rows).await
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
        if let Some(by) = filter.uploaded_by {
            parts.push("#ub = :ub");
            f = f.name("#ub", "uploaded_by").value(":ub", s(by.as_str()));
        }
        let filter_cond = (!parts.is_empty()).then(|| Cond { expr: parts.join(" AND "), ..f });
        let items = self.query(Query { index: Some(GSI1), cond, filter: filter_cond, forward: true, consistent: false, limit: 0 }).await?;
        let mut out: Vec<Student> = items.into_iter().map(|i| stored_student(i).map(|s| s.student)).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (&a.class, &a.student_id).cmp(&(&b.class, &b.student_id)));
        Ok(out)
    }

    async fn counts(&self, school_id: &str) -> Result<Counts, BackendError> {
        Ok(self.school_stored(school_id).await?.map(|i| counts_from(&i)).unwrap_or_default())
    }

    async fn all_counts(&self) -> Result<BTreeMap<String, Counts>, BackendError> {
        let cond = Cond::new("#p = :p").name("#p", GSI1PK).value(":p", s(keys::SCHOOLS));
        let items = self.query(Query { index: Some(GSI1), cond, filter: None, forward: true, consistent: false, limit: 0 }).await?;
        Ok(items.iter().filter_map(|i| Some((items::str_attr(i, "school_id")?, counts_from(i)))).collect())
    }

    async fn issue_ticket(&self, ticket: &Ticket) -> Result<Ticket, TicketError> {
        let stored = self.get_student(&ticket.student_id).await?;
        let issued = lifecycle::issue_ticket(stored.as_ref().map(|s| &s.student), ticket)?;
        // A plain put, no transaction: the ticket is pinned to the generation read, and the
        // first claim moves the generation on, so a ticket issued while someone else's upload
        // landed can never win (`lifecycle::claim`). 1 WRU instead of a condition check + put (4).
        self.client.put_item().table_name(&self.table).set_item(Some(ticket_item(&issued)?)).send().await.map_err(backend)?;
        Ok(issued)
    }

    async fn claim_upload(&self, student_id: &StudentId, ticket_id: &str, now: DateTime<Utc>) -> Result<Claim, BackendError> {
        let ticket: Option<Ticket> = self.get(keys::student_pk(student_id), &keys::ticket_sk(ticket_id)).await?.map(items::from_item).transpose()?;
        let decided = self.transition("claim upload", student_id, |student| lifecycle::claim(student, ticket.as_ref(), now)).await?;
        Ok(match decided {
            Ok(after) => Claim::Won(after),
            Err(lost) => Claim::Lost(lost),
        })
    }

    async fn record_check(&self, student_id: &StudentId, ticket_id: &str, outcome: &CheckOutcome, now: DateTime<Utc>) -> Result<CheckRecorded, BackendError> {
        let decided = self.transition("record check", student_id, |student| lifecycle::record_check(student, ticket_id, outcome, now)).await?;
        Ok(decided.map_or(CheckRecorded::NoChange, CheckRecorded::Decided))
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
            // Eventually consistent (half the units): a photo checked in the last second may be
            // missed as a duplicate; the flag is a hint for a person, not a rule.
            for item in self.query(Query { index: None, cond, filter: None, forward: true, consistent: false, limit: 0 }).await? {
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
        let decision = ReviewDecision { photo_id, decision, reasons, note, reviewer };
        Ok(self.transition("review", student_id, |student| lifecycle::review(student, &decision, now)).await??)
    }

    async fn lease_review_queue(&self, filter: &QueueFilter, lease: &Lease) -> Result<Vec<Student>, BackendError> {
        self.lease_queue(filter, lease).await
    }

    async fn appeal(&self, student_id: &StudentId, request: &lifecycle::AppealRequest<'_>, now: DateTime<Utc>) -> Result<Student, AppealError> {
        Ok(self.transition("appeal", student_id, |student| lifecycle::appeal(student, request, now)).await??)
    }

    async fn reopen(&self, student_id: &StudentId, reasons: &[Reason], note: Option<&str>, by: &str, now: DateTime<Utc>) -> Result<Student, ReopenError> {
        Ok(self.transition("reopen", student_id, |student| lifecycle::reopen(student, reasons, note, by, now)).await??)
    }

    async fn issue_parent_codes(&self, codes: &[ParentCode]) -> Result<Vec<ParentCode>, BackendError> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        // One conditional-free update per student: `ADD version` moves it on atomically, so two
        // teachers issuing at once both end every older session, whichever lands last wins.
        stream::iter(codes.iter().cloned())
            .map(|c| async move {
                let out = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(tx::key(keys::student_pk(&c.student_id), keys::PARENT_CODE_SK)))
                    .update_expression("SET #h = :h, #at = :at, #sid = :sid ADD #v :one")
                    .expression_attribute_names("#h", "hash")
                    .expression_attribute_names("#at", "issued_at")
                    .expression_attribute_names("#sid", "student_id")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":h", s(&c.hash))
                    .expression_attribute_values(":at", s(c.issued_at.to_rfc3339()))
                    .expression_attribute_values(":sid", s(c.student_id.as_str()))
                    .expression_attribute_values(":one", n(1))
                    .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
                    .send()
                    .await
                    .map_err(backend)?;
                let version = out.attributes.as_ref().and_then(|a| items::num_attr(a, "version")).ok_or_else(|| BackendError::new("parent code: no version returned"))?;
                Ok::<_, BackendError>(ParentCode { version: u32::try_from(version).unwrap_or(u32::MAX), ..c })
            })
            .buffered(8)
            .try_collect()
            .await
    }

    async fn parent_code(&self, student_id: &StudentId) -> Result<Option<ParentCode>, BackendError> {
        let Some(item) = self.get(keys::student_pk(student_id), keys::PARENT_CODE_SK).await? else { return Ok(None) };
        let hash = items::str_attr(&item, "hash").ok_or_else(|| BackendError::new("parent code without hash"))?;
        let version = items::num_attr(&item, "version").and_then(|v| u32::try_from(v).ok()).ok_or_else(|| BackendError::new("parent code without version"))?;
        let issued_at = items::str_attr(&item, "issued_at")
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| BackendError::new("parent code without time"))?;
        Ok(Some(ParentCode { student_id: student_id.clone(), hash, version, issued_at }))
    }

    async fn stats(&self, district: Option<&str>) -> Result<BTreeMap<String, gradphoto_core::stats::Stats>, BackendError> {
        self.read_stats(district).await
    }

    async fn replace_stats(&self, figures: &BTreeMap<String, gradphoto_core::stats::Stats>) -> Result<(), BackendError> {
        self.rewrite_stats(figures).await
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
        let items = self.query(Query { index: None, cond, filter: None, forward: true, consistent: true, limit: 0 }).await?;
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
