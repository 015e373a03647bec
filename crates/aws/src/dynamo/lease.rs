//! Queue leases on DynamoDB: `lease_by` / `lease_until` (epoch milliseconds) on the student item,
//! set by a conditional `UpdateItem` that leaves `version` alone (a lease is not a change of the
//! record). A transition rewrites the whole item without them, so a decision releases the lease.

use super::tx::{Cond, backend, n, s};
use super::items::{num_attr, stored_student, str_attr};
use super::{DynamoRecords, Query};
use crate::keys;
use gradphoto_core::ports::{BackendError, Lease, QueueFilter};
use gradphoto_core::{Status, Student};

pub const LEASE_BY: &str = "lease_by";
pub const LEASE_UNTIL: &str = "lease_until";

/// Free, expired, or the caller's own.
fn free_for(lease: &Lease) -> Cond {
    Cond::new("(attribute_not_exists(#lu) OR #lu < :now OR #lb = :me)")
        .name("#lu", LEASE_UNTIL)
        .name("#lb", LEASE_BY)
        .value(":now", n(lease.now.timestamp_millis()))
        .value(":me", s(&lease.reviewer))
}

/// Rounds of "query, then try to lease" per page: a candidate another reviewer won a moment ago
/// is filtered out by the next round's query, so a page fills up without a scan.
const ROUNDS: usize = 3;

impl DynamoRecords {
    pub(super) async fn lease_queue(&self, filter: &QueueFilter, lease: &Lease) -> Result<Vec<Student>, BackendError> {
        let mut f = free_for(lease);
        if let Some(d) = &filter.district {
            f = Cond { expr: format!("{} AND #d = :d", f.expr), ..f }.name("#d", "district").value(":d", s(d));
        }
        if let Some(sc) = &filter.school_id {
            f = Cond { expr: format!("{} AND #sc = :sc", f.expr), ..f }.name("#sc", "school_id").value(":sc", s(sc));
        }
        let want = filter.limit as usize;
        let mut won: Vec<Student> = Vec::new();
        for _ in 0..ROUNDS {
            // The index is eventually consistent and others lease at the same time: a few spare
            // candidates keep the page full; the conditional update decides.
            let missing = want.saturating_sub(won.len());
            let limit = if want == 0 { 0 } else { missing + missing / 4 + 2 + won.len() };
            let cond = Cond::new("#p = :p").name("#p", keys::GSI2PK).value(":p", s(keys::status_pk(Status::PendingReview)));
            let items = self.query(Query { index: Some(keys::GSI2), cond, filter: Some(f.clone()), forward: true, consistent: false, limit }).await?;
            let mut candidates = Vec::with_capacity(items.len());
            for item in items {
                let mine = str_attr(&item, LEASE_BY).as_deref() == Some(lease.reviewer.as_str())
                    && num_attr(&item, LEASE_UNTIL).is_some_and(|until| until as i64 >= lease.now.timestamp_millis());
                let student = stored_student(item)?.student;
                if !won.iter().any(|w| w.student_id == student.student_id) {
                    candidates.push((mine, student));
                }
            }
            // The reviewer's own live leases first: a page they have not finished comes back.
            candidates.sort_by_key(|(mine, _)| !mine);
            let mut lost = false;
            for (_, c) in candidates {
                if want > 0 && won.len() >= want {
                    break;
                }
                if self.hold(&c, lease).await? {
                    won.push(c);
                } else {
                    lost = true;
                }
            }
            if !lost || (want > 0 && won.len() >= want) {
                break;
            }
        }
        Ok(won)
    }

    /// Leases one pending student to the reviewer; `false` if someone else holds it or it was
    /// decided since the query.
    async fn hold(&self, student: &Student, lease: &Lease) -> Result<bool, BackendError> {
        let cond = free_for(lease);
        let mut names = cond.names.clone();
        names.insert("#st".into(), "status".into());
        let mut values = cond.values.clone();
        values.insert(":pending".into(), s(Status::PendingReview.as_str()));
        values.insert(":until".into(), n(lease.until.timestamp_millis()));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(super::tx::key(keys::student_pk(&student.student_id), keys::STUDENT_SK)))
            .update_expression("SET #lb = :me, #lu = :until")
            .condition_expression(format!("#st = :pending AND {}", cond.expr))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}
