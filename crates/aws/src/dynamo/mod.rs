//! `Records` on one DynamoDB table. See `keys` for the layout.
//!
//! Every conditional transition (one winning upload, single-use codes, review only from
//! `pending_review`) reads the student, decides with the same domain rules as the other
//! adapters, and writes back in one `TransactWriteItems` that is conditional on the student's
//! `version`: if anyone changed the student in between, the write fails, the loop re-reads and
//! decides again. The school's status counters and the audit event are in the same transaction,
//! so progress counts never drift from the students.

mod batch;
mod items;
mod lease;
mod purge;
mod records;
mod roster;
mod stats;
pub mod tx;

use crate::keys::{self, GSI1PK, GSI2PK, GSI2SK, PK};
use aws_sdk_dynamodb::types::KeysAndAttributes;
use gradphoto_core::Status;
use gradphoto_core::ports::BackendError;
use items::{StoredStudent, stored_student};
use gradphoto_core::lifecycle::Transition;
use tx::{Cond, Item, Tx, TxOutcome, backend, n, s};

/// The DynamoDB adapter. Cheap to clone (the SDK client is an `Arc`).
#[derive(Clone, Debug)]
pub struct DynamoRecords {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoRecords {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn tx(&self) -> Tx {
        Tx::new(&self.table)
    }

    /// A strongly consistent read of one item.
    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, BackendError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(tx::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    async fn get_student(&self, id: &gradphoto_core::StudentId) -> Result<Option<StoredStudent>, BackendError> {
        self.get(keys::student_pk(id), keys::STUDENT_SK).await?.map(stored_student).transpose()
    }

    /// Reads many items by key, 100 per request, retrying what DynamoDB leaves unprocessed.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, BackendError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).consistent_read(true).build().map_err(BackendError::new)?,
            );
            let mut attempt = 0;
            while let Some(req) = pending.take() {
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(backend)?;
                if let Some(mut r) = resp.responses {
                    out.extend(r.remove(&self.table).unwrap_or_default());
                }
                pending = resp.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt > tx::MAX_ATTEMPTS {
                        return Err(BackendError::new("batch get: keys left unprocessed"));
                    }
                    tx::backoff(attempt).await;
                }
            }
        }
        Ok(out)
    }

    /// Deletes items by key, 25 per request, retrying unprocessed ones.
    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), BackendError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let reqs: Vec<WriteRequest> = keys
            .into_iter()
            .map(|k| DeleteRequest::builder().set_key(Some(k)).build().map(|d| WriteRequest::builder().delete_request(d).build()))
            .collect::<Result<_, _>>()
            .map_err(BackendError::new)?;
        self.batch_write(reqs).await
    }

    /// Puts whole items, 25 per request, retrying unprocessed ones.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), BackendError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        let reqs: Vec<WriteRequest> = items
            .into_iter()
            .map(|i| PutRequest::builder().set_item(Some(i)).build().map(|p| WriteRequest::builder().put_request(p).build()))
            .collect::<Result<_, _>>()
            .map_err(BackendError::new)?;
        self.batch_write(reqs).await
    }

    async fn batch_write(&self, reqs: Vec<aws_sdk_dynamodb::types::WriteRequest>) -> Result<(), BackendError> {
        for chunk in reqs.chunks(25) {
            let mut reqs = chunk.to_vec();
            let mut attempt = 0;
            while !reqs.is_empty() {
                let resp = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, reqs)
                    .send()
                    .await
                    .map_err(backend)?;
                reqs = resp.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if !reqs.is_empty() {
                    attempt += 1;
                    if attempt > tx::MAX_ATTEMPTS {
                        return Err(BackendError::new("batch write: items left unprocessed"));
                    }
                    tx::backoff(attempt).await;
                }
            }
        }
        Ok(())
    }

    /// A query, following pages until `limit` items (0 = all) passed the filter.
    async fn query(&self, q: Query<'_>) -> Result<Vec<Item>, BackendError> {
        let mut names = q.cond.names.clone();
        let mut values = q.cond.values.clone();
        names.extend(q.filter.as_ref().map(|f| f.names.clone()).unwrap_or_default());
        values.extend(q.filter.as_ref().map(|f| f.values.clone()).unwrap_or_default());
        let mut stream = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .key_condition_expression(&q.cond.expr)
            .set_filter_expression(q.filter.as_ref().map(|f| f.expr.clone()))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            // Indexes only support eventually consistent reads.
            .set_consistent_read((q.index.is_none() && q.consistent).then_some(true))
            .scan_index_forward(q.forward)
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = stream.try_next().await.map_err(backend)? {
            out.push(item);
            if q.limit > 0 && out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }

    /// Students in one status (via the sparse status index), oldest first, optionally filtered.
    async fn students_in_status(&self, status: Status, sk_cond: Option<(&str, String)>, filter: Option<Cond>, limit: usize) -> Result<Vec<StoredStudent>, BackendError> {
        let mut cond = Cond::new("#p = :p").name("#p", GSI2PK).value(":p", s(keys::status_pk(status)));
        if let Some((op, v)) = sk_cond {
            let expr = match op {
                "begins_with" => "#p = :p AND begins_with(#s, :s)".to_owned(),
                op => format!("#p = :p AND #s {op} :s"),
            };
            cond = Cond { expr, ..cond }.name("#s", GSI2SK).value(":s", s(v));
        }
        let items = self.query(Query { index: Some(keys::GSI2), cond, filter, forward: true, consistent: false, limit }).await?;
        items.into_iter().map(stored_student).collect()
    }

    /// Adds a transition core decided to `tx`: the student, conditional on the version it was
    /// decided from (anyone's write in between fails the transaction, and the caller reads and
    /// decides again), the school's counter move, the audit event, the hash bands and the
    /// district's statistics.
    fn add_transition(&self, tx: &mut Tx, district: &str, t: &Transition) -> Result<(), BackendError> {
        let stored = StoredStudent { student: t.after.clone(), district: district.to_owned() };
        tx.put(
            items::student_item(&stored)?,
            Some(Cond::new("#v = :v").name("#v", keys::VERSION).value(":v", n(t.expected_version()))),
        )?;
        if let Some((from, to)) = t.counter_move() {
            tx.update(
                tx::key(keys::school_pk(&t.after.school_id), keys::SCHOOL_SK),
                "ADD #from :minus, #to :plus",
                Cond::new("attribute_exists(#pk)")
                    .name("#pk", PK)
                    .name("#from", &keys::counter(from))
                    .name("#to", &keys::counter(to))
                    .value(":minus", n(-1))
                    .value(":plus", n(1)),
            )?;
        }
        // `seq` is the version after the change: it orders events of the same instant.
        tx.put(items::audit_item(&t.event, t.after.version)?, None)?;
        if t.before.photo_hash != t.after.photo_hash {
            self.rewrite_bands(tx, &t.after.student_id, t.before.photo_hash, t.after.photo_hash)?;
        }
        for op in stats::ops(keys::stats_shard(&t.after.student_id), district, &t.stats_delta()) {
            op.add_to(tx)?;
        }
        Ok(())
    }

    /// Reads the student, asks `decide` (a `lifecycle` function) for the transition, writes it;
    /// on a concurrent change, reads and decides again. A refusal is returned as it is.
    async fn transition<E>(
        &self,
        what: &str,
        id: &gradphoto_core::StudentId,
        decide: impl Fn(Option<&gradphoto_core::Student>) -> Result<Transition, E>,
    ) -> Result<Result<gradphoto_core::Student, E>, BackendError> {
        for attempt in 0..tx::MAX_ATTEMPTS {
            let stored = self.get_student(id).await?;
            let t = match decide(stored.as_ref().map(|s| &s.student)) {
                Ok(t) => t,
                Err(refused) => return Ok(Err(refused)),
            };
            let district = stored.map(|s| s.district).unwrap_or_default();
            let mut tx = self.tx();
            self.add_transition(&mut tx, &district, &t)?;
            match tx.run(&self.client).await? {
                TxOutcome::Done => return Ok(Ok(t.after)),
                _ => tx::backoff(attempt + 1).await,
            }
        }
        Err(tx::too_contended(what))
    }

    /// Keeps the hash-band items equal to the student's current photo hash.
    fn rewrite_bands(&self, tx: &mut Tx, id: &gradphoto_core::StudentId, old: Option<u64>, new: Option<u64>) -> Result<(), BackendError> {
        let sk = keys::student_pk(id);
        let new_bands = new.map(keys::bands);
        if let Some(old) = old {
            for (i, (band, value)) in keys::bands(old).into_iter().enumerate() {
                // Same band item in both: the put below overwrites it (a transaction may not
                // touch one item twice).
                if new_bands.map(|b| b[i].1) != Some(value) {
                    tx.delete(tx::key(keys::band_pk(band, value), sk.clone()), None)?;
                }
            }
        }
        if let (Some(hash), Some(bands)) = (new, new_bands) {
            for (band, value) in bands {
                let mut item = tx::key(keys::band_pk(band, value), sk.clone());
                item.insert("student_id".into(), s(id.as_str()));
                item.insert("hash".into(), n(hash));
                tx.put(item, None)?;
            }
        }
        Ok(())
    }
}

pub(crate) struct Query<'a> {
    index: Option<&'a str>,
    cond: Cond,
    filter: Option<Cond>,
    forward: bool,
    /// Strongly consistent (base table only): what a decision reads must be what was written.
    consistent: bool,
    limit: usize,
}

/// Rows of the roster index for one school (`GSI1PK = ROSTER#school`).
pub(crate) fn roster_cond(school_id: &str) -> Cond {
    Cond::new("#p = :p").name("#p", GSI1PK).value(":p", s(keys::roster_pk(school_id)))
}
