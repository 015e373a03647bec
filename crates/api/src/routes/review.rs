//! The reviewer's queue (leased per reviewer) and decisions, one at a time or in batches.

use crate::auth::ReviewerSession;
use crate::error::{ApiError, ApiResult, review_error};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::view::{photo_url, student_view, StudentView};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use futures_util::stream::{self, StreamExt};
use gradphoto_core::notes::{REVIEW_NOTE_MAX, parse_note};
use gradphoto_core::ports::{Lease, QueueFilter};
use gradphoto_core::review_reasons;
use gradphoto_core::{Decision, Reason, StudentId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/review/queue", get(queue))
        .route("/api/review/reasons", get(reasons))
        .route("/api/review/{student_id}", post(decide))
        .route("/api/reviews", post(decide_batch))
}

#[derive(Deserialize)]
struct QueueQuery {
    limit: Option<u32>,
    district: Option<String>,
    school_id: Option<String>,
}

async fn queue(State(state): State<AppState>, session: ReviewerSession, Query(q): Query<QueueQuery>) -> ApiResult<axum::Json<Value>> {
    let filter = QueueFilter {
        limit: q.limit.unwrap_or(50).clamp(1, 200),
        district: q.district.filter(|s| !s.is_empty()),
        school_id: q.school_id.filter(|s| !s.is_empty()),
    };
    let now = state.clock.now();
    let until = now + Duration::from_std(state.config.review_lease).unwrap_or(Duration::minutes(10));
    let lease = Lease { reviewer: session.username.clone(), now, until };
    let students = state.records.lease_review_queue(&filter, &lease).await?;
    let schools: HashMap<String, gradphoto_core::School> =
        state.records.schools().await?.into_iter().map(|s| (s.school_id.clone(), s)).collect();
    let mut items = Vec::with_capacity(students.len());
    for s in students {
        let school = schools.get(&s.school_id);
        let findings: Vec<&Reason> = s.reasons.iter().chain(&s.flags).collect();
        let mut item = json!({
            "student_id": s.student_id,
            "name": s.name,
            "class": s.class,
            "school_id": s.school_id,
            "school": school.map(|x| x.name.as_str()),
            "district": school.map(|x| x.district.as_str()),
            "stage": school.map(|x| x.stage.as_str()),
            "photo_url": photo_url(&state, &s).await?,
            "photo_id": s.photo_id(),
            "findings": findings,
            "reasons": s.reasons,
            "flags": s.flags,
            "appeal": s.appeal,
            "auto_cropped": s.auto_cropped,
            "uploaded_at": s.uploaded_at,
            "lease_until": until,
        });
        // What the check measured on the head, only when it measured it.
        if let Some(g) = s.geometry {
            item["geometry"] = json!(g);
        }
        items.push(item);
    }
    let pending_total: u32 = state.records.all_counts().await?.values().map(|c| c.pending_review).sum();
    Ok(axum::Json(json!({
        "items": items,
        "pending_total": pending_total,
        "lease_seconds": state.config.review_lease.as_secs(),
        "geometry_limits": geometry_limits(&state.config.rules),
    })))
}

/// The check's limits on what `geometry` measures, in the same units, so the page shows each
/// number beside its limit without a copy of the rules. `centre_max_offset_px` is the rule's
/// share of the width in pixels (the rule measures the face box's centre, `geometry` the eyes'
/// midpoint, so the two can differ a little). The crown has the band the messages quote
/// (`crown_min`–`crown_max`, shown as 约) and the wider one the check refuses outside
/// (`crown_reject_below`–`crown_reject_above`).
fn geometry_limits(rules: &gradphoto_core::photo::Rules) -> Value {
    // The rules are f32: widened as they are, 0.45 would read 0.44999998807907715.
    let short = |v: f32| (f64::from(v) * 1000.0).round() / 1000.0;
    json!({
        "eye_line_max": short(rules.eye_line_max),
        "head_min_ratio": short(rules.head_min_ratio),
        "head_max_ratio": short(rules.head_max_ratio),
        "centre_max_offset_px": (f64::from(rules.centre_max_offset) * f64::from(rules.width)).round(),
        "crown_min": short(rules.crown_min),
        "crown_max": short(rules.crown_max),
        "crown_reject_below": short(rules.crown_reject_below),
        "crown_reject_above": short(rules.crown_reject_above),
        "stretch_min_ratio": short(rules.stretch_min_ratio),
        "stretch_max_ratio": short(rules.stretch_max_ratio),
    })
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

/// The reasons of a decision as the reviewer picked them: every code known, at least one to
/// reject, none kept on an approval. Shared with the bureau's reopening.
pub(crate) fn reject_reasons(codes: &[String], decision: Decision) -> ApiResult<Vec<Reason>> {
    let mut reasons = Vec::with_capacity(codes.len());
    for code in codes {
        let message = review_reasons::message(code)
            .ok_or_else(|| ApiError::bad_request("unknown_reason", format!("未知的不通过原因“{}”", code.chars().take(40).collect::<String>())))?;
        reasons.push(Reason::new(code.clone(), message));
    }
    if decision == Decision::Reject && reasons.is_empty() {
        return Err(ApiError::bad_request("reason_required", "审核不通过时请至少选择一个原因"));
    }
    if decision == Decision::Approve {
        reasons.clear();
    }
    Ok(reasons)
}

async fn apply(state: &AppState, reviewer: &str, id: &StudentId, body: &DecisionBody, note: Option<&str>) -> ApiResult<gradphoto_core::Student> {
    let reasons = reject_reasons(&body.reasons, body.decision)?;
    state
        .records
        .review(id, body.photo_id.as_deref(), body.decision, &reasons, note, reviewer, state.clock.now())
        .await
        .map_err(review_error)
}

fn parse_student_id(raw: &str) -> ApiResult<StudentId> {
    StudentId::parse(raw).map_err(|_| ApiError::not_found("unknown_student", "没有这个学籍副号"))
}

async fn decide(
    State(state): State<AppState>,
    session: ReviewerSession,
    Path(student_id): Path<String>,
    Json(body): Json<DecisionBody>,
) -> ApiResult<axum::Json<StudentView>> {
    let id = parse_student_id(&student_id)?;
    let note = parse_note(body.note.as_deref(), REVIEW_NOTE_MAX)?;
    let student = apply(&state, &session.username, &id, &body, note.as_deref()).await?;
    Ok(axum::Json(student_view(&state, student).await?))
}

/// The most decisions one batch may carry (a grid page is 48).
pub const MAX_BATCH: usize = 100;

#[derive(Deserialize)]
struct BatchBody {
    decisions: Vec<BatchItem>,
}

#[derive(Deserialize)]
struct BatchItem {
    student_id: String,
    #[serde(flatten)]
    decision: DecisionBody,
}

/// The batch's shape is checked whole before anything is applied; then every item is applied on
/// its own with the single-decision rules, so one failing item never blocks the others.
async fn decide_batch(State(state): State<AppState>, session: ReviewerSession, Json(body): Json<BatchBody>) -> ApiResult<axum::Json<Value>> {
    let items = body.decisions;
    if items.len() > MAX_BATCH {
        return Err(ApiError::bad_request("too_many_items", format!("每次最多提交 {MAX_BATCH} 条审核结果，本次为 {} 条", items.len())));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("bad_body", "没有要提交的审核结果"));
    }
    let mut seen = HashSet::new();
    let mut notes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item.student_id.as_str()) {
            return Err(ApiError::bad_request("bad_body", format!("第 {} 条：学籍副号 {} 在本批中出现了两次", i + 1, item.student_id.chars().take(40).collect::<String>())));
        }
        if item.decision.photo_id.as_deref().is_none_or(str::is_empty) {
            return Err(ApiError::bad_request("bad_body", format!("第 {} 条：缺少 photo_id（审核员看到的是哪一张照片）", i + 1)));
        }
        notes.push(parse_note(item.decision.note.as_deref(), REVIEW_NOTE_MAX).map_err(|e| ApiError::bad_request(e.code(), format!("第 {} 条：{e}", i + 1)))?);
    }
    // A few at a time: DynamoDB answers each in milliseconds, SQLite serialises them anyway.
    // Owned values: the handler's future must not borrow across the stream's items.
    let results: Vec<Value> = stream::iter(items.into_iter().zip(notes))
        .map(|(item, note)| {
            let (state, reviewer) = (state.clone(), session.username.clone());
            async move {
                let outcome = match parse_student_id(&item.student_id) {
                    Ok(id) => apply(&state, &reviewer, &id, &item.decision, note.as_deref()).await,
                    Err(e) => Err(e),
                };
                match outcome {
                    Ok(s) => Ok(json!({"student_id": item.student_id, "status": s.status.as_str()})),
                    Err(ApiError::Rule { code, message, .. }) => Ok(json!({"student_id": item.student_id, "error": {"code": code, "message": message}})),
                    Err(other) => Err(other),
                }
            }
        })
        .buffered(8)
        .collect::<Vec<ApiResult<Value>>>()
        .await
        .into_iter()
        .collect::<ApiResult<_>>()?;
    Ok(axum::Json(json!({"results": results})))
}
