//! Table and bucket creation for tests and local bring-up. The deployed resources come from
//! `template.yaml`; this mirrors it (same keys, indexes, TTL) so tests exercise the real layout.

use crate::keys::{GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK, TTL};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use gradphoto_core::ports::BackendError;

fn attr(name: &str) -> Result<AttributeDefinition, BackendError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(BackendError::new)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BackendError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(BackendError::new)
}

fn gsi(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex, BackendError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .map_err(BackendError::new)
}

/// Creates the table (on-demand, two GSIs, TTL on `ttl`) as `template.yaml` declares it.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), BackendError> {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK)?)
        .attribute_definitions(attr(SK)?)
        .attribute_definitions(attr(GSI1PK)?)
        .attribute_definitions(attr(GSI1SK)?)
        .attribute_definitions(attr(GSI2PK)?)
        .attribute_definitions(attr(GSI2SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(gsi(GSI1, GSI1PK, GSI1SK)?)
        .global_secondary_indexes(gsi(GSI2, GSI2PK, GSI2SK)?)
        .send()
        .await
        .map_err(|e| BackendError::new(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL).build().map_err(BackendError::new)?,
        )
        .send()
        .await
        .map_err(|e| BackendError::new(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    Ok(())
}

/// Creates a private bucket (tests and LocalStack; the template configures CORS, SSE, lifecycle).
pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), BackendError> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| BackendError::new(aws_sdk_s3::error::DisplayErrorContext(e)))?;
    Ok(())
}
