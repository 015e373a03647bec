//! 自动裁剪: `POST /api/photo/crop-suggestion` — a teacher's or a parent's original (a studio's
//! larger photo) in, the rectangle that makes it a compliant 272×354 photo out
//! (`gradphoto_core::photo::crop`). Stores nothing.
//!
//! A suggestion decodes a picture of up to `crop_max_side`² pixels (48 MB at 4000 px), so at
//! most `Config::crop_concurrency` run at once, beside the request limiter; a request waits up
//! to `CROP_SLOT_WAIT` for one, then hears 503 `busy` rather than the process queueing memory.

use crate::auth::{ParentSession, SchoolSession, session_from};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::post;
use gradphoto_core::{Role, Stage};
use gradphoto_core::photo::crop::{self, CropRefusal, Suggestion};

/// How long a suggestion waits for one of the `crop_concurrency` slots before answering busy.
const CROP_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/photo/crop-suggestion", post(crop_suggestion))
}

/// Who may ask: a teacher (their school's stage) or a parent (their child's school's stage),
/// each with every check of their own session (window, current account or code).
pub struct Uploader {
    stage: Stage,
}

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        match session_from(parts, state)?.role {
            Role::School => {
                let session = SchoolSession::from_request_parts(parts, state).await?;
                Ok(Uploader { stage: session.school.stage })
            }
            Role::Parent => {
                let session = ParentSession::from_request_parts(parts, state).await?;
                let student = state.records.student(&session.student_id).await?.ok_or_else(ApiError::unauthenticated)?;
                let school = state.records.school(&student.school_id).await?.ok_or_else(ApiError::unauthenticated)?;
                Ok(Uploader { stage: school.stage })
            }
            _ => Err(ApiError::forbidden()),
        }
    }
}

async fn crop_suggestion(State(state): State<AppState>, req: Request) -> ApiResult<axum::Json<Suggestion>> {
    // The body is read before the session is judged: refusing a photo-sized body unread makes
    // the server close the connection under a browser still sending it, which then reports a
    // network error instead of "please log in again". The body's limits apply as to any route.
    let (mut parts, body) = req.into_parts();
    let mut body_only = Request::new(body);
    *body_only.extensions_mut() = parts.extensions.clone();
    let Body(bytes) = Body::from_request(body_only, &state).await?;
    let who = Uploader::from_request_parts(&mut parts, &state).await?;
    let rules = &state.config.rules;
    if bytes.len() as u64 > rules.crop_max_bytes {
        return Err(refusal(&CropRefusal::TooManyBytes(bytes.len() as u64), rules));
    }
    // A suggestion takes milliseconds, so a short wait for a slot beats a busy answer that
    // stalls a teacher's whole batch; past the wait, busy.
    let slot = tokio::time::timeout(CROP_SLOT_WAIT, state.crop_slots.clone().acquire_owned()).await;
    let Ok(Ok(_slot)) = slot else {
        return Err(ApiError::Busy { retry_after_secs: state.config.busy_retry_after_secs.min(5) });
    };
    // Decoding and detection are CPU work: off the async workers, so other requests still run.
    let (stage, config) = (who.stage, state.config.clone());
    let answer = tokio::task::spawn_blocking(move || crop::suggest(&bytes, stage, &config.rules)).await.map_err(|e| {
        tracing::error!("crop suggestion task failed: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "系统内部错误，请稍后重试；如持续出现请联系客服")
    })?;
    answer.map(axum::Json).map_err(|r| refusal(&r, rules))
}

fn refusal(r: &CropRefusal, rules: &gradphoto_core::photo::Rules) -> ApiError {
    let status = match r {
        CropRefusal::TooManyBytes(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let reason = r.reason(rules);
    ApiError::new(status, r.code(), reason.message)
}
