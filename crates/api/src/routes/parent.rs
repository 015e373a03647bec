//! Parents (家长): log in with the student's 学籍副号 and the personal code the school printed,
//! then see, upload and appeal that one student's photo — with the same rules as a teacher.
//!
//! Login limits (failures within the cool-off, `login_cooloff`, 15 minutes by default):
//! - 5 for one student id from one client: that pair is locked (a typo-prone parent);
//! - 20 for one student id from all clients: a spread-out guess stops, and a classmate can
//!   lock a parent out for at most one cool-off;
//! - 50 from one client over all student ids: guessing across many ids stops.
//!
//! The first two are reserved atomically before the code is checked (parallel guesses get the
//! limit, not one each) and cleared by a success; the per-client count only records failures
//! (a school's computer room behind one address logs many parents in). Their keys
//! (`gradphoto_service::limiter_key`) are keyed hashes starting `parent|`, which no username may
//! contain, so they never collide with school accounts' counters and name nobody in clear.

use crate::auth::{Client, ParentSession, ensure_parents_enabled, issue_parent_token, window_open_in};
use crate::error::{ApiError, ApiResult, appeal_error};
use crate::extract::Json;
use crate::routes::school::{Refused, grant_upload};
use crate::state::AppState;
use crate::view::student_view;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use gradphoto_core::notes::{APPEAL_NOTE_MAX, parse_note};
use gradphoto_core::ports::LoginAttempt;
use gradphoto_core::{Student, StudentId, Uploader, lifecycle};
use gradphoto_service::{ParentCodeText, limiter_key};
use serde::Deserialize;
use serde_json::{Value, json};

pub const PAIR_MAX_FAILURES: u32 = 5;
pub const STUDENT_MAX_FAILURES: u32 = 20;
pub const CLIENT_MAX_FAILURES: u32 = 50;

/// `POST /api/parent/sessions`: public (the registration function on AWS).
pub fn login_router() -> Router<AppState> {
    Router::new().route("/api/parent/sessions", post(login))
}

/// The parent's own routes (the school and uploads functions on AWS).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/parent/student", get(get_student))
        .route("/api/parent/uploads", post(create_upload))
        .route("/api/parent/appeal", post(appeal))
}

#[derive(Deserialize)]
struct LoginBody {
    student_id: String,
    code: String,
}

fn bad_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "学籍副号或上传码错误，请对照学校发放的上传码单重新输入")
}

async fn login(State(state): State<AppState>, Client(client): Client, Json(body): Json<LoginBody>) -> ApiResult<axum::Json<Value>> {
    let campaign = ensure_parents_enabled(&state).await?;
    window_open_in(&state, campaign.as_ref())?;
    let now = state.clock.now();
    let since = now - Duration::from_std(state.config.login_cooloff).unwrap_or(Duration::minutes(15));
    let minutes = state.config.login_cooloff.as_secs().div_ceil(60);
    let too_many = || ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", format!("上传码错误次数过多，请 {minutes} 分钟后再试；如忘记上传码，请联系班主任重新发放"));
    // Bounded, so a hostile id cannot make a huge key; the same for known and unknown ids.
    let typed_id: String = body.student_id.trim().chars().take(40).collect();
    let secret = &state.config.token_secret;
    let (pair, student_wide, from_client) = (
        limiter_key(secret, &format!("{client}|{typed_id}")),
        limiter_key(secret, &format!("*|{typed_id}")),
        limiter_key(secret, &format!("{client}|*")),
    );
    if state.records.login_failures(&from_client, since).await? >= CLIENT_MAX_FAILURES {
        return Err(too_many());
    }
    for (key, max) in [(&pair, PAIR_MAX_FAILURES), (&student_wide, STUDENT_MAX_FAILURES)] {
        if state.records.reserve_login_attempt(key, now, since, max).await? == LoginAttempt::Refused {
            return Err(too_many());
        }
    }
    let code = ParentCodeText::from_typed(&body.code);
    let id = StudentId::parse(&typed_id).ok();
    let stored = match &id {
        Some(id) => state.records.parent_code(id).await?,
        None => None,
    };
    let matched = match (&id, &stored) {
        (Some(id), Some(c)) => code.matches(secret, id.as_str(), &c.hash).then_some((id.clone(), c.version)),
        _ => {
            // The same work as a real check, so timing does not tell known ids from unknown.
            let _ = code.keyed_hash(secret, &typed_id);
            None
        }
    };
    let Some((id, version)) = matched else {
        state.records.reserve_login_attempt(&from_client, now, since, u32::MAX).await?;
        tracing::info!("failed parent login");
        return Err(bad_credentials());
    };
    state.records.clear_login_failures(&pair).await?;
    state.records.clear_login_failures(&student_wide).await?;
    let student = state.records.student(&id).await?.ok_or_else(bad_credentials)?;
    let token = issue_parent_token(&state, &id, version)?;
    Ok(axum::Json(json!({"token": token, "role": "parent", "student": parent_view(&state, student).await?})))
}

/// The record a parent sees: the student's, with the school's name, district and stage.
async fn parent_view(state: &AppState, student: Student) -> ApiResult<Value> {
    let school = state.records.school(&student.school_id).await?;
    let mut v = serde_json::to_value(student_view(state, student).await?).map_err(|e| ApiError::Backend(gradphoto_core::ports::BackendError::new(e)))?;
    if let Some(s) = school {
        v["school"] = json!(s.name);
        v["district"] = json!(s.district);
        v["stage"] = json!(s.stage.as_str());
        v["stage_label"] = json!(s.stage.label());
    }
    Ok(v)
}

async fn own(state: &AppState, session: &ParentSession) -> ApiResult<Student> {
    state.records.student(&session.student_id).await?.ok_or_else(ApiError::unauthenticated)
}

async fn get_student(State(state): State<AppState>, session: ParentSession) -> ApiResult<axum::Json<Value>> {
    let student = own(&state, &session).await?;
    Ok(axum::Json(parent_view(&state, student).await?))
}

#[derive(Deserialize)]
struct UploadBody {
    size: u64,
    content_type: String,
    /// The page made this photo from the crop suggestion, unchanged (自动裁剪).
    #[serde(default)]
    auto_cropped: bool,
}

async fn create_upload(State(state): State<AppState>, session: ParentSession, Json(body): Json<UploadBody>) -> ApiResult<axum::Json<Value>> {
    let student = own(&state, &session).await?;
    match grant_upload(&state, &student, body.size, &body.content_type, &session.actor, Uploader::Parent, body.auto_cropped).await? {
        Ok(grant) => Ok(axum::Json(json!({"upload": {"url": grant.url, "method": grant.method, "headers": grant.headers, "expires_at": grant.expires_at}}))),
        Err(Refused { code, message }) => {
            let status = if code == "already_uploaded" { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            Err(ApiError::new(status, code, message))
        }
    }
}

#[derive(Deserialize)]
struct AppealBody {
    photo_id: String,
    note: Option<String>,
}

async fn appeal(State(state): State<AppState>, session: ParentSession, Json(body): Json<AppealBody>) -> ApiResult<axum::Json<Value>> {
    let note = parse_note(body.note.as_deref(), APPEAL_NOTE_MAX)?;
    let request = lifecycle::AppealRequest { photo_id: &body.photo_id, note: note.as_deref(), by: &session.actor, school_id: None };
    let student = state.records.appeal(&session.student_id, &request, state.clock.now()).await.map_err(appeal_error)?;
    Ok(axum::Json(parent_view(&state, student).await?))
}
