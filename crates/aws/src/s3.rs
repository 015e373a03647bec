//! `PhotoStore` on S3: presigned PUT/GET straight between the browser and the bucket, bounded
//! reads for the check function, delete and listing for the export.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::{BackendError, PhotoStore, PresignedRequest, ReadError};
use std::collections::BTreeMap;
use std::time::Duration;

/// SigV4 presigned URLs live at most 7 days.
const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone, Debug)]
pub struct S3PhotoStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn backend<E, R>(e: SdkError<E, R>) -> BackendError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    BackendError::new(DisplayErrorContext(e))
}

fn presigning(expires_at: DateTime<Utc>) -> Result<PresigningConfig, BackendError> {
    // Whole seconds, rounded: X-Amz-Expires is an integer and "15 min" should read 900.
    let left = (expires_at - Utc::now()).to_std().map(|d| Duration::from_secs(d.as_secs_f64().round() as u64)).unwrap_or(Duration::ZERO);
    // An already-expired request still gets a (1 s) URL rather than an error: S3 refuses it.
    let left = left.clamp(Duration::from_secs(1), MAX_PRESIGN);
    PresigningConfig::expires_in(left).map_err(BackendError::new)
}

impl S3PhotoStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object's size, or `None` when it does not exist.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BackendError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(h) => Ok(Some(h.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl PhotoStore for S3PhotoStore {
    async fn presign_put(&self, key: &str, size: u64, content_type: &str, expires_at: DateTime<Utc>) -> Result<PresignedRequest, BackendError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            // Both are signed headers (X-Amz-SignedHeaders=content-length;content-type;host):
            // S3 refuses a body of another size or type with 403 SignatureDoesNotMatch.
            .content_length(size as i64)
            .content_type(content_type)
            .presigned(presigning(expires_at)?)
            .await
            .map_err(backend)?;
        let headers: BTreeMap<String, String> = req
            .headers()
            // The browser sets Host itself and refuses to let scripts set it.
            .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Ok(PresignedRequest { url: req.uri().to_owned(), method: req.method().to_owned(), headers })
    }

    async fn presign_get(&self, key: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError> {
        let req = self.client.get_object().bucket(&self.bucket).key(key).presigned(presigning(expires_at)?).await.map_err(backend)?;
        Ok(req.uri().to_owned())
    }

    async fn read(&self, key: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        // HEAD first: an oversized object is refused without transferring a byte of it.
        let Some(size) = self.size(key).await? else { return Err(ReadError::NotFound) };
        if size > limit {
            return Err(ReadError::TooLarge { limit });
        }
        if size == 0 {
            // A ranged GET of an empty object is a 416; there is nothing to read anyway.
            return Ok(Vec::new());
        }
        // The range bounds the read even if the object was replaced after the HEAD.
        let resp = match self.client.get_object().bucket(&self.bucket).key(key).range(format!("bytes=0-{limit}")).send().await {
            Ok(r) => r,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Err(ReadError::NotFound),
            Err(e) => return Err(backend(e).into()),
        };
        let mut body = resp.body;
        let mut out = Vec::with_capacity(size as usize);
        while let Some(chunk) = body.try_next().await.map_err(BackendError::new)? {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > limit {
                return Err(ReadError::TooLarge { limit });
            }
        }
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(backend)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.try_next().await.map_err(backend)? {
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        // S3 already lists in UTF-8 binary order; sorting keeps the contract explicit.
        keys.sort();
        Ok(keys)
    }

    async fn put_file(&self, key: &str, path: &std::path::Path, content_type: &str) -> Result<(), BackendError> {
        // One streamed PUT (S3 takes up to 5 GB that way); S3 makes the object visible whole
        // or not at all. The API caps export sizes well below that.
        let body = aws_sdk_s3::primitives::ByteStream::from_path(path).await.map_err(BackendError::new)?;
        self.client.put_object().bucket(&self.bucket).key(key).content_type(content_type).body(body).send().await.map_err(backend)?;
        Ok(())
    }

    async fn presign_download(&self, key: &str, filename: &str, expires_at: DateTime<Utc>) -> Result<String, BackendError> {
        // The response header is part of the signature, so the name cannot be changed in transit.
        let safe: String = filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{safe}\""))
            .presigned(presigning(expires_at)?)
            .await
            .map_err(backend)?;
        Ok(req.uri().to_owned())
    }
}
