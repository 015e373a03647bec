//! Extractors whose rejections use the error envelope. axum's own answer a bad path, query or
//! oversized body in plain text, which a page cannot show; every handler takes these instead.

use crate::error::ApiError;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_content_type", "请求格式应为 JSON（Content-Type: application/json）")
            }
            JsonRejection::BytesRejection(r) => r.into(),
            other => ApiError::bad_request("bad_json", format!("请求内容不是有效的 JSON：{}", other.body_text())),
        }
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("bad_query", format!("查询参数有误：{}", r.body_text()))
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request("bad_path", format!("网址有误：{}", r.body_text()))
    }
}

/// The raw request body, limited by `DefaultBodyLimit`.
pub struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state).await.map(Body).map_err(ApiError::from)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "提交的内容过大")
        } else if timed_out(&r) {
            body_timeout()
        } else {
            ApiError::bad_request("bad_body", "请求内容没有完整收到，请重试")
        }
    }
}

/// The body did not arrive before `Config::body_timeout` (a stalled or trickling client, which
/// would otherwise hold one of the `max_in_flight` slots for as long as it likes).
pub fn body_timeout() -> ApiError {
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "body_timeout", "上传超时：网络太慢或连接中断，请检查网络后重试")
}

/// Whether reading a body failed because of the body deadline, anywhere in the error's chain.
pub fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        next = e.source();
    }
    false
}
