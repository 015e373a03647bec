//! The embedded server's stand-in for S3: signed PUT (upload) and GET (preview) URLs served by
//! this process. A PUT is refused unless its signature, expiry, size and content type are the
//! ones the ticket was issued for. The bytes are staged beside their key, then claimed, and only
//! a won claim moves them under the key: a replayed or stale URL can never overwrite a photo,
//! and a failed disk write leaves no claim behind.

use crate::check_queue::CheckQueue;
use crate::disk::{DiskStore, SignatureError};
use axum::body::{Body, to_bytes};
use axum::extract::State;
use gradphoto_api::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gradphoto_api::ApiError;
use gradphoto_core::ports::{ClaimLost, Clock, Records};
use gradphoto_core::upload::{self, Landing};
use gradphoto_core::{ObjectKey, Status, messages};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Clone)]
pub struct StoreState {
    pub disk: Arc<DiskStore>,
    pub records: Arc<dyn Records>,
    pub clock: Arc<dyn Clock>,
    pub queue: CheckQueue,
}

pub fn router<S: Clone + Send + Sync + 'static>(state: StoreState) -> Router<S> {
    Router::new().route("/store/{*key}", get(get_object).put(put_object)).with_state(state)
}

#[derive(Deserialize)]
struct PutQuery {
    exp: i64,
    size: u64,
    sig: String,
}

#[derive(Deserialize)]
struct GetQuery {
    exp: i64,
    sig: String,
    /// Set by `presign_download`: serve as an attachment, streamed (exports can be gigabytes).
    #[serde(default)]
    download: Option<u8>,
}

fn signature_error(e: SignatureError) -> ApiError {
    match e {
        SignatureError::Expired => ApiError::new(StatusCode::FORBIDDEN, "url_expired", "上传链接已过期，请重新上传"),
        _ => ApiError::new(StatusCode::FORBIDDEN, "bad_signature", "上传链接无效，请在页面上重新上传"),
    }
}

async fn put_object(
    State(state): State<StoreState>,
    Path(key): Path<String>,
    Query(q): Query<PutQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let now = state.clock.now();
    state.disk.verify_put(&key, q.exp, q.size, content_type, &q.sig, now).map_err(signature_error)?;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n != q.size) {
        return Err(size_mismatch());
    }
    let bytes = to_bytes(body, q.size as usize).await.map_err(|e| if gradphoto_api::extract::timed_out(&e) { gradphoto_api::extract::body_timeout() } else { size_mismatch() })?;
    if bytes.len() as u64 != q.size {
        return Err(size_mismatch());
    }
    let parsed = ObjectKey::parse(&key).ok_or_else(|| ApiError::bad_request("bad_key", "上传地址无效"))?;
    let staged = state.disk.stage(&key, bytes).await?;
    // Spawned: a client hanging up must not cancel the step between the claim and the rename.
    let landed = tokio::spawn(async move {
        let landing = upload::land(&*state.records, &key, now).await?;
        // Only a won claim puts bytes under the key; anything else drops the staged copy, so a
        // replayed URL never replaces the winner's photo.
        if let Landing::Won(_) = landing {
            staged.commit().await?;
            state.queue.enqueue(parsed.student_id).await;
        }
        Ok::<_, ApiError>(landing)
    });
    let landing = landed.await.map_err(|e| gradphoto_core::ports::BackendError::new(format!("upload task: {e}")))??;
    match landing {
        Landing::Won(_) => Ok((StatusCode::OK, axum::Json(serde_json::json!({"status": "uploaded"}))).into_response()),
        Landing::Lost { why: ClaimLost::Expired, .. } => Err(signature_error(SignatureError::Expired)),
        Landing::Lost { why: ClaimLost::UnknownTicket, .. } | Landing::NotOurs => Err(signature_error(SignatureError::BadSignature)),
        Landing::Redelivered(s) => Err(already_uploaded(s.status)),
        Landing::Lost { why: ClaimLost::Superseded, status } => Err(already_uploaded(status.unwrap_or(Status::Uploaded))),
    }
}

fn already_uploaded(status: Status) -> ApiError {
    ApiError::conflict("already_uploaded", messages::already_uploaded(status))
}

fn size_mismatch() -> ApiError {
    ApiError::bad_request("size_mismatch", "上传的文件大小与申请时不一致，请重新选择文件上传")
}

async fn get_object(State(state): State<StoreState>, Path(key): Path<String>, Query(q): Query<GetQuery>) -> Result<Response, ApiError> {
    state.disk.verify_get(&key, q.exp, &q.sig, state.clock.now()).map_err(|e| match e {
        SignatureError::Expired => ApiError::new(StatusCode::FORBIDDEN, "url_expired", "图片链接已过期，请刷新页面"),
        _ => ApiError::new(StatusCode::FORBIDDEN, "bad_signature", "图片链接无效"),
    })?;
    if q.download.is_some() {
        return download(&state.disk, &key).await;
    }
    use gradphoto_core::ports::{PhotoStore, ReadError};
    let bytes = state.disk.read(&key, 16 * 1024 * 1024).await.map_err(|e| match e {
        ReadError::NotFound => ApiError::not_found("not_found", "照片不存在"),
        ReadError::TooLarge { .. } => ApiError::not_found("not_found", "照片不存在"),
        ReadError::Backend(e) => e.into(),
    })?;
    Ok((
        [(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=600"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")],
        bytes,
    )
        .into_response())
}

/// A whole object as an attachment named after its key's last segment (only safe characters
/// reach a key), streamed from disk.
async fn download(disk: &DiskStore, key: &str) -> Result<Response, ApiError> {
    let path = disk.path_of(key).ok_or_else(|| ApiError::not_found("not_found", "文件不存在"))?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::not_found("not_found", "文件不存在或已过期，请重新导出")),
        Err(e) => return Err(gradphoto_core::ports::BackendError::new(format!("opening {}: {e}", path.display())).into()),
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let name = key.rsplit('/').next().unwrap_or("download");
    let content_type = if name.ends_with(".zip") { "application/zip" } else { "application/octet-stream" };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
