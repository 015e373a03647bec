//! Request-body extractors whose rejections use the error envelope.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
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
            JsonRejection::BytesRejection(_) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "提交的内容过大")
            }
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
