//! The check-photo function: S3 says an object was created; claim it for its student, check
//! it, record the decision — `gradphoto_core::upload::process_landed`, the same steps the
//! embedded server runs.
//!
//! S3 delivers at least once and in any order, so every record is handled idempotently (a
//! repeated delivery of the winner re-checks and changes nothing once decided; a loser or a
//! stale ticket is deleted). A backend failure fails the invocation so Lambda retries it (and
//! finally sends it to the on-failure destination); the other records of the batch are still
//! processed first, and re-processing them on retry is harmless.

use aws_lambda_events::s3::{S3Event, S3EventRecord};
use gradphoto_core::photo::Rules;
use gradphoto_core::ports::{Clock, PhotoStore, Records};
use gradphoto_core::upload::{InlineChecker, process_landed};
use std::sync::Arc;

/// What happened to one record (logged, and returned for tests): the upload pipeline's own
/// outcome, so nothing re-wraps it on the way out.
pub use gradphoto_core::upload::Processed as Handled;

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{failed} of {total} records failed; first: {first}")]
    Records { failed: usize, total: usize, first: String },
}

pub struct CheckPhoto {
    records: Arc<dyn Records>,
    store: Arc<dyn PhotoStore>,
    clock: Arc<dyn Clock>,
    rules: Rules,
    bucket: String,
}

/// An S3 event key is URL-encoded the way HTML forms are: "+" is a space, "%XX" a byte.
pub fn decode_key(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|k| k.into_owned())
}

impl CheckPhoto {
    pub fn new(records: Arc<dyn Records>, store: Arc<dyn PhotoStore>, clock: Arc<dyn Clock>, rules: Rules, bucket: String) -> Self {
        Self { records, store, clock, rules, bucket }
    }

    pub async fn handle(&self, event: S3Event) -> Result<Vec<Handled>, CheckError> {
        let total = event.records.len();
        let mut out = Vec::with_capacity(total);
        let mut errors = Vec::new();
        for record in &event.records {
            match self.handle_record(record).await {
                Ok(h) => out.push(h),
                Err(e) => {
                    tracing::error!(error = %e, key = ?record.s3.object.key, "check failed; the invocation will be retried");
                    errors.push(e.to_string());
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(CheckError::Records { failed: errors.len(), total, first: errors.swap_remove(0) })
        }
    }

    async fn handle_record(&self, record: &S3EventRecord) -> Result<Handled, gradphoto_core::ports::BackendError> {
        let name = record.event_name.as_deref().unwrap_or_default();
        if !name.starts_with("ObjectCreated:") {
            return Ok(Handled::Skipped(format!("event {name}")));
        }
        let bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
        if bucket != self.bucket {
            tracing::warn!(bucket, expected = %self.bucket, "event for another bucket ignored");
            return Ok(Handled::Skipped(format!("bucket {bucket}")));
        }
        let raw = record.s3.object.key.as_deref().unwrap_or_default();
        let Some(key) = decode_key(raw) else {
            tracing::warn!(raw, "undecodable key ignored");
            return Ok(Handled::Skipped(format!("key {raw}")));
        };
        // The store's read HEADs the object first: one over the size limit is rejected as
        // too_large without being downloaded.
        let handled = process_landed(&*self.records, &*self.store, &InlineChecker, &self.rules, &key, self.clock.now()).await?;
        tracing::info!(key, size = record.s3.object.size, outcome = ?handled, "object handled");
        Ok(handled)
    }
}

#[cfg(test)]
mod tests {
    use super::decode_key;

    #[test]
    fn keys_decode_like_html_forms() {
        assert_eq!(decode_key("uploads/s1/A1/t-1.jpg").unwrap(), "uploads/s1/A1/t-1.jpg");
        assert_eq!(decode_key("a+b%2Bc%20d").unwrap(), "a b+c d");
        assert_eq!(decode_key("%E7%85%A7%E7%89%87.jpg").unwrap(), "照片.jpg");
        assert!(decode_key("%FF%FE").is_none(), "not UTF-8");
    }
}
