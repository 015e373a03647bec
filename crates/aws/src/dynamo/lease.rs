//! Queue leases on DynamoDB: `lease_by` / `lease_until` (epoch milliseconds) on the student item,
//! set by a conditional `UpdateItem` that leaves `version` alone (a lease is not a change of the
//! record). A transition rewrites the whole item without them, so a decision releases the lease.

use super::tx::{Cond, backend, n, s};
use super::DynamoRecords;
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

impl DynamoRecords {
    pub(super) async fn lease_queue(&self, filter: &QueueFilter, lease: &Lease) -> Result<Vec<Student>, BackendError> {
        let mut f = free_for(lease);
        if let Some(d) = &filter.district {
            f = Cond { expr: format!("{} AND #d = :d", f.expr), ..f }.name("#d", "district").value(":d", s(d));
        }
        if let Some(sc) = &filter.school_id {
            f = Cond { expr: format!("{} AND #sc = :sc", f.expr), ..f }.name("#sc", "school_id").value(":sc", s(sc));
        }
        // The index is eventually consistent: a candidate may have been leased or decided a
        // moment ago; the conditional update below is what decides, so a few spare candidates
        // keep the page full.
        let want = filter.limit as usize;
        let spare = if want == 0 { 0 } else { want + want / 4 + 2 };
        let candidates = self.students_in_status(Status::PendingReview, None, Some(f), spare).await?;
        let mut won = Vec::new();
        for c in candidates {
            if want > 0 && won.len() >= want {
                break;
            }
            let cond = free_for(lease);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(super::tx::key(keys::student_pk(&c.student.student_id), keys::STUDENT_SK)))
                .update_expression("SET #lb = :me, #lu = :until")
                .condition_expression(format!("#st = :pending AND {}", cond.expr))
                .set_expression_attribute_names(Some({
                    let mut names = cond.names.clone();
                    names.insert("#st".into(), "status".into());
                    names
                }))
                .set_expression_attribute_values(Some({
                    let mut values = cond.values.clone();
                    values.insert(":pending".into(), s(Status::PendingReview.as_str()));
                    values.insert(":until".into(), n(lease.until.timestamp_millis()));
                    values
                }))
                .send()
                .await;
            match result {
                Ok(_) => won.push(c.student),
                // Another reviewer took it, or it was decided: not ours to show.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(won)
    }
}
