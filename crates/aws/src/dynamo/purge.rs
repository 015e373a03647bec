//! Deleting a finished campaign's personal data from the table (`gradphoto-aws purge`).
//!
//! Walks the same keys the requests use — schools, each school's roster, each student's
//! partition (student, tickets, audit, parent code), their hash bands, the teacher's account and
//! login failures — and deletes by key (parents' login counters, keyed by student id, expire by
//! TTL within a day or two), 25 per request. A purge is an offline operator action over the
//! whole campaign, but it still never scans: a shared table may hold other campaigns.
//! Running it again after an interruption finishes the job.

use super::tx::{self, Cond, Item, backend, n, s};
use super::{DynamoRecords, Query};
use crate::keys::{self, PK, SK};
use gradphoto_core::ports::{BackendError, Records, StudentFilter};
use gradphoto_core::purge::RecordsPurged;
use gradphoto_core::Status;

pub(super) fn key_of(item: &Item) -> Item {
    item.iter().filter(|(k, _)| *k == PK || *k == SK).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn sk_of(item: &Item) -> &str {
    item.get(SK).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl DynamoRecords {
    /// Every item of one partition (consistent read).
    async fn partition(&self, pk: String) -> Result<Vec<Item>, BackendError> {
        let cond = Cond::new("#p = :p").name("#p", PK).value(":p", s(pk));
        self.query(Query { index: None, cond, filter: None, forward: true, consistent: true, limit: 0 }).await
    }

    pub(super) async fn purge_all(&self) -> Result<RecordsPurged, BackendError> {
        let mut out = RecordsPurged::default();
        for school in self.schools().await? {
            let mut doomed: Vec<Item> = Vec::new();
            for student in self.students(&school.school_id, &StudentFilter::default()).await? {
                for item in self.partition(keys::student_pk(&student.student_id)).await? {
                    let sk = sk_of(&item);
                    if sk.starts_with("TICKET#") {
                        out.tickets += 1;
                    } else if sk.starts_with("AUDIT#") {
                        out.audit_events += 1;
                    } else if sk == keys::STUDENT_SK {
                        out.students += 1;
                    } else if sk == keys::PARENT_CODE_SK {
                        out.parent_codes += 1;
                    }
                    doomed.push(key_of(&item));
                }
                if let Some(hash) = student.photo_hash {
                    for (band, value) in keys::bands(hash) {
                        doomed.push(tx::key(keys::band_pk(band, value), keys::student_pk(&student.student_id)));
                    }
                }
            }
            if let Some(username) = &school.username {
                doomed.push(tx::key(keys::account_pk(username), keys::ACCOUNT_SK));
                out.school_accounts += 1;
                let failures = self.partition(keys::login_pk(username)).await?;
                out.login_failures += count(failures.len());
                doomed.extend(failures.iter().map(key_of));
            }
            self.batch_delete(doomed).await?;
            // The school stays, unregistered, with zero counts: its code can be used again if
            // the bureau ever reopens the campaign.
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(tx::key(keys::school_pk(&school.school_id), keys::SCHOOL_SK)))
                .expression_attribute_names("#u", "username")
                .expression_attribute_values(":z", n(0));
            let mut sets = Vec::new();
            for (i, status) in Status::ALL.iter().enumerate() {
                update = update.expression_attribute_names(format!("#c{i}"), keys::counter(*status));
                sets.push(format!("#c{i} = :z"));
            }
            update.update_expression(format!("REMOVE #u SET {}", sets.join(", "))).send().await.map_err(backend)?;
        }
        Ok(out)
    }
}
