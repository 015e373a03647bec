//! The shared contract suite (crates/contract) against DynamoDB + S3 on moto's server: the same
//! cases the SQLite + disk adapters pass, one test each, each on a fresh table and bucket.

use gradphoto_aws::testing as support;

use gradphoto_core::ports::BackendError;
use std::sync::Arc;

async fn fixture() -> gradphoto_contract::Fixture {
    let adapters = support::fresh().await;
    let s3 = adapters.store.clone();
    gradphoto_contract::Fixture::new(Arc::new(adapters.records), Arc::new(adapters.store), move |key: String, bytes: Vec<u8>| {
        let s3 = s3.clone();
        async move {
            s3.client()
                .put_object()
                .bucket(s3.bucket())
                .key(key)
                .body(bytes.into())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| BackendError::new(aws_sdk_s3::error::DisplayErrorContext(e)))
        }
    })
}

gradphoto_contract::contract_tests!(fixture());
