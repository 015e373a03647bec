//! The reviewer's queue and decisions.

use crate::auth::ReviewerSession;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::view::{photo_url, student_view, StudentView};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use gradphoto_core::ports::{QueueFilter, ReviewError};
use gradphoto_core::review_reasons;
use gradphoto_core::{Decision, Reason, StudentId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/review/queue", get(queue))
        .route("/api/review/reasons", get(reasons))
        .route("/api/review/{student_id}", post(decide))
}

#[derive(Deserialize)]
struct QueueQuery {
    limit: Option<u32>,
    district: Option<String>,
    school_id: Option<String>,
}

async fn queue(State(state): State<AppState>, _s: ReviewerSession, Query(q): Query<QueueQuery>) -> ApiResult<axum::Json<Value>> {
    let filter = QueueFilter {
        limit: q.limit.unwrap_or(50).clamp(1, 200),
        district: q.district.filter(|s| !s.is_empty()),
        school_id: q.school_id.filter(|s| !s.is_empty()),
    };
    let students = state.records.review_queue(&filter).await?;
    let schools: HashMap<String, gradphoto_core::School> =
        state.records.schools().await?.into_iter().map(|s| (s.school_id.clone(), s)).collect();
    let mut items = Vec::with_capacity(students.len());
    for s in students {
        let school = schools.get(&s.school_id);
        items.push(json!({
            "student_id": s.student_id,
            "name": s.name,
            "class": s.class,
            "school_id": s.school_id,
            "school": school.map(|x| x.name.as_str()),
            "district": school.map(|x| x.district.as_str()),
            "stage": school.map(|x| x.stage.as_str()),
            "photo_url": photo_url(&state, &s).await?,
            "photo_id": s.photo_id(),
            "findings": s.reasons,
            "uploaded_at": s.uploaded_at,
        }));
    }
    let pending_total: u32 = state.records.all_counts().await?.values().map(|c| c.pending_review).sum();
    Ok(axum::Json(json!({"items": items, "pending_total": pending_total})))
}

async fn reasons(_s: ReviewerSession) -> axum::Json<Value> {
    let list: Vec<Value> = review_reasons::ALL.iter().map(|(code, message)| json!({"code": code, "message": message})).collect();
    axum::Json(json!({"reasons": list}))
}

#[derive(Deserialize)]
struct DecisionBody {
    decision: Decision,
    #[serde(default)]
    reasons: Vec<String>,
    note: Option<String>,
    /// The photo the reviewer looked at (`photo_id` of the queue item): the decision is refused
    /// if the teacher has replaced it since.
    photo_id: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    session: ReviewerSession,
    Path(student_id): Path<String>,
    Json(body): Json<DecisionBody>,
) -> ApiResult<axum::Json<StudentView>> {
    let id = StudentId::parse(&student_id).map_err(|_| ApiError::not_found("unknown_student", "没有这个学籍副号"))?;
    let note = body.note.map(|n| n.trim().chars().take(500).collect::<String>()).filter(|n| !n.is_empty());
    let mut reasons = Vec::new();
    for code in &body.reasons {
        let message = review_reasons::message(code)
            .ok_or_else(|| ApiError::bad_request("unknown_reason", format!("未知的不通过原因“{}”", code.chars().take(40).collect::<String>())))?;
        reasons.push(Reason::new(code.clone(), message));
    }
    if body.decision == Decision::Reject && reasons.is_empty() {
        return Err(ApiError::bad_request("reason_required", "审核不通过时请至少选择一个原因"));
    }
    if body.decision == Decision::Approve {
        reasons.clear();
    }
    let student = state
        .records
        .review(&id, body.photo_id.as_deref(), body.decision, &reasons, note.as_deref(), &session.username, state.clock.now())
        .await
        .map_err(|e| match e {
            ReviewError::UnknownStudent => ApiError::not_found("unknown_student", "没有这个学籍副号"),
            ReviewError::NotPending(status) => {
                ApiError::conflict("not_pending", format!("该照片当前状态为“{}”，不在待审核队列中", status.label()))
            }
            ReviewError::PhotoChanged => ApiError::conflict("photo_changed", "学校已重新上传了这名学生的照片，请查看新照片后再审核"),
            ReviewError::Backend(e) => e.into(),
        })?;
    Ok(axum::Json(student_view(&state, student).await?))
}
