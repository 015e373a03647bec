//! The one place that maps failures to HTTP: every handler returns `ApiError`, which renders
//! the contract's envelope `{"error": {"code", "message"}}`. A backend failure is opaque to the
//! client (500 `internal`) and logged in full.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gradphoto_core::Status;
use gradphoto_core::notes::NoteError;
use gradphoto_core::ports::{AppealError, BackendError, ReopenError, ReviewError};
use gradphoto_service::{AccountRefused, NewAccountError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{code}: {message}")]
    Rule { status: StatusCode, code: &'static str, message: String },
    #[error("invalid csv")]
    Lines { message: String, lines: Vec<LineError> },
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

pub const BUSY_MESSAGE: &str = "现在登陆和上传人数较多，请稍后再进行登陆操作";

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Rule { status, code, message: message.into() }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "登录已失效，请重新登录")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "您没有权限进行此操作")
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn unknown_student() -> Self {
        Self::not_found("unknown_student", "本校学生名单中没有这个学籍副号")
    }
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Rule { code, .. } => code,
            ApiError::Lines { .. } => "invalid_csv",
            ApiError::Busy { .. } => "busy",
            ApiError::Backend(_) => "internal",
        }
    }
}

impl From<NoteError> for ApiError {
    fn from(e: NoteError) -> Self {
        ApiError::bad_request(e.code(), e.to_string())
    }
}

/// How the API words a refused review decision (single and batch alike).
pub fn review_error(e: ReviewError) -> ApiError {
    match e {
        ReviewError::UnknownStudent => ApiError::not_found("unknown_student", "没有这个学籍副号"),
        ReviewError::NotPending(status) => ApiError::conflict("not_pending", format!("该照片当前状态为“{}”，不在待审核队列中", status.label())),
        ReviewError::PhotoChanged => ApiError::conflict("photo_changed", "学校已重新上传了这名学生的照片，请查看新照片后再审核"),
        ReviewError::Backend(e) => e.into(),
    }
}

/// How the API words a refused appeal.
pub fn appeal_error(e: AppealError) -> ApiError {
    match e {
        AppealError::UnknownStudent => ApiError::unknown_student(),
        AppealError::NotAppealable(status) => ApiError::conflict(
            "not_appealable",
            match status {
                Status::Rejected => "这张照片不能申请人工复核：只有系统自动检查判定的人像、背景、清晰度等问题可以申请，文件格式、尺寸、分辨率问题和审核员的退回不能申请，每张照片只能申请一次".to_owned(),
                other => format!("这张照片当前状态为“{}”，不能申请人工复核", other.label()),
            },
        ),
        AppealError::PhotoChanged => ApiError::conflict("photo_changed", "这名学生的照片已经更换，请刷新页面后查看新照片的检查结果"),
        AppealError::Backend(e) => e.into(),
    }
}

/// How the API words a refused reopening.
pub fn reopen_error(e: ReopenError) -> ApiError {
    match e {
        ReopenError::UnknownStudent => ApiError::not_found("unknown_student", "没有这个学籍副号"),
        ReopenError::NotApproved(status) => ApiError::conflict("not_approved", format!("只能撤回已审核通过的照片，该学生当前状态为“{}”", status.label())),
        ReopenError::Backend(e) => e.into(),
    }
}

/// How the API words a refused account: one stable code per reason.
pub fn account_error(e: NewAccountError) -> ApiError {
    let message = e.to_string();
    match e {
        NewAccountError::InvalidUsername(_) => ApiError::bad_request("invalid_username", message),
        NewAccountError::WeakPassword(_) => ApiError::bad_request("weak_password", message),
        NewAccountError::NotStaffRole => ApiError::bad_request("invalid_role", message),
        NewAccountError::UnknownDistrict(_) => ApiError::bad_request("unknown_district", message),
        NewAccountError::Refused(AccountRefused::UnknownCode) => ApiError::not_found("unknown_code", message),
        NewAccountError::Refused(AccountRefused::CodeUsed) => ApiError::conflict("code_used", message),
        NewAccountError::Refused(AccountRefused::UsernameTaken) => ApiError::conflict("username_taken", message),
        NewAccountError::Backend(e) => ApiError::Backend(e),
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<&'a [LineError]>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

pub fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::to_vec(&Envelope { error: Body { code, message }, lines: None }).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Rule { status, code, message } => envelope(*status, code, message),
            ApiError::Lines { message, lines } => {
                let body = serde_json::to_vec(&Envelope {
                    error: Body { code: "invalid_csv", message },
                    lines: Some(lines),
                })
                .unwrap_or_default();
                (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
            }
            ApiError::Busy { retry_after_secs } => {
                let mut r = envelope(StatusCode::SERVICE_UNAVAILABLE, "busy", BUSY_MESSAGE);
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            ApiError::Backend(e) => {
                tracing::error!(error = %e, "backend failure");
                envelope(StatusCode::INTERNAL_SERVER_ERROR, "internal", "系统内部错误，请稍后重试；如持续出现请联系客服")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
