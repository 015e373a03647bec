//! The bureau's endpoints: campaign, schools and codes, rosters, reviewers, progress, export.

use crate::auth::{AdminSession, BureauSession};
use crate::csv_io;
use crate::export::{self, ExportError};
use crate::error::{ApiError, ApiResult, account_error, reopen_error};
use gradphoto_core::notes::{REVIEW_NOTE_MAX, parse_note};
use crate::extract::{Body as RawBody, Json, Path, Query};
use crate::state::AppState;
use crate::view::{SchoolView, SchoolWithCounts};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use gradphoto_core::ports::{BackendError, ImportError, StudentFilter};
use gradphoto_core::{Campaign, CampaignDraft, Decision, Role, School, StudentId};
use gradphoto_service::{RegistrationCode, create_staff_account, new_school_id};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/campaign", put(put_campaign).get(get_campaign))
        .route("/api/admin/schools", post(import_schools).get(list_schools))
        .route("/api/admin/students/{student_id}/audit", get(audit))
        .route("/api/admin/students/{student_id}/reopen", post(reopen))
        .route("/api/admin/reviewers", post(create_reviewer))
        .route("/api/admin/accounts", post(create_account))
        .route("/api/admin/schools/{school_id}/reset", post(reset_school))
        .route("/api/admin/students", post(import_students).get(list_students))
        .route("/api/admin/chase.csv", get(chase_csv))
        .route("/api/admin/progress", get(progress))
        .route("/api/admin/stats", get(stats))
        .route("/api/admin/export", get(export))
        .route("/api/admin/exports", post(create_export))
}

async fn get_campaign(State(state): State<AppState>, _b: BureauSession) -> ApiResult<axum::Json<Option<Campaign>>> {
    Ok(axum::Json(state.records.campaign().await?))
}

async fn put_campaign(State(state): State<AppState>, _b: BureauSession, Json(draft): Json<CampaignDraft>) -> ApiResult<axum::Json<Campaign>> {
    // Settings the body leaves out keep their stored values (contract v2).
    let stored = state.records.campaign().await?;
    let c = draft.parse_over(stored.as_ref()).map_err(|e| ApiError::bad_request("invalid_campaign", e.to_string()))?;
    state.records.put_campaign(&c).await?;
    Ok(axum::Json(c))
}

fn require_csv(headers: &HeaderMap) -> ApiResult<()> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("text/csv") || ct.starts_with("text/plain") || ct.starts_with("application/vnd.ms-excel") {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_content_type", "请以 CSV 格式（Content-Type: text/csv）提交"))
    }
}

async fn import_schools(State(state): State<AppState>, _b: BureauSession, headers: HeaderMap, RawBody(body): RawBody) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    require_csv(&headers)?;
    let existing: HashSet<_> =
        state.records.schools().await?.into_iter().map(|s| (s.district, s.name, s.stage)).collect();
    let parsed = csv_io::parse_schools(&body, &existing)?;
    let schools: Vec<School> = parsed
        .into_iter()
        .map(|n| School {
            school_id: new_school_id(),
            district: n.district,
            name: n.name,
            stage: n.stage,
            registration_code: RegistrationCode::mint().into_string(),
            username: None,
        })
        .collect();
    state.records.insert_schools(&schools).await?;
    let out: Vec<Value> = schools
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(SchoolView::from(s)).unwrap_or_default();
            v["registration_code"] = json!(s.registration_code);
            v
        })
        .collect();
    Ok((StatusCode::CREATED, axum::Json(json!({"schools": out}))))
}

async fn list_schools(State(state): State<AppState>, session: AdminSession) -> ApiResult<axum::Json<Value>> {
    let schools: Vec<School> = state.records.schools().await?.into_iter().filter(|s| session.scope.allows(s)).collect();
    Ok(axum::Json(json!({"schools": schools})))
}

async fn import_students(State(state): State<AppState>, _b: BureauSession, headers: HeaderMap, RawBody(body): RawBody) -> ApiResult<axum::Json<Value>> {
    require_csv(&headers)?;
    let known: HashSet<String> = state.records.schools().await?.into_iter().map(|s| s.school_id).collect();
    let rows = csv_io::parse_roster(&body, &known)?;
    let plain: Vec<_> = rows.iter().map(|(_, r)| r.clone()).collect();
    match state.records.import_roster(&plain).await {
        Ok((imported, updated)) => Ok(axum::Json(json!({"imported": imported, "updated": updated}))),
        Err(ImportError::StudentOfAnotherSchool(id)) => {
            let line = rows.iter().find(|(_, r)| r.student_id == id).map(|(l, _)| *l).unwrap_or(0);
            Err(ApiError::Lines {
                message: "有 1 行数据有误，全部未导入，请修改后重新提交".into(),
                lines: vec![csv_io::line_err(line, "student_of_another_school", format!("学籍副号 {id} 已属于另一所学校"))],
            })
        }
        Err(ImportError::UnknownSchool(s)) => Err(ApiError::bad_request("invalid_csv", format!("学校编号“{s}”不存在"))),
        Err(ImportError::Backend(e)) => Err(e.into()),
    }
}

async fn audit(State(state): State<AppState>, _b: BureauSession, Path(student_id): Path<String>) -> ApiResult<axum::Json<Value>> {
    let id = StudentId::parse(&student_id).map_err(|_| ApiError::not_found("unknown_student", "没有这个学籍副号"))?;
    Ok(axum::Json(json!({"events": state.records.audit_trail(&id).await?})))
}

#[derive(Deserialize)]
struct NewReviewer {
    username: String,
    password: String,
}

async fn create_reviewer(State(state): State<AppState>, _b: BureauSession, Json(body): Json<NewReviewer>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let account = create_staff_account(&*state.records, Role::Reviewer, &body.username, &body.password, state.clock.now()).await.map_err(account_error)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"username": account.username, "role": "reviewer"}))))
}

async fn progress(State(state): State<AppState>, session: AdminSession) -> ApiResult<axum::Json<Value>> {
    let counts = state.records.all_counts().await?;
    let schools: Vec<SchoolWithCounts> = state
        .records
        .schools()
        .await?
        .into_iter()
        .filter(|s| session.scope.allows(s))
        .map(|s| SchoolWithCounts {
            counts: counts.get(&s.school_id).copied().unwrap_or_default(),
            registered: s.username.is_some(),
            username: s.username.clone(),
            school: SchoolView::from(&s),
        })
        .collect();
    Ok(axum::Json(json!({"schools": schools})))
}

#[derive(Deserialize)]
struct StatsQuery {
    district: Option<String>,
}

/// The campaign at a glance: the counters the store keeps (never a count over the students).
/// A district account sees its own district, listed even before its roster is imported.
async fn stats(State(state): State<AppState>, session: AdminSession, Query(q): Query<StatsQuery>) -> ApiResult<axum::Json<crate::stats_view::StatsView>> {
    let district = session.scope.narrow(q.district.as_deref())?;
    let (mut by, campaign) = tokio::try_join!(state.records.stats(district.as_deref()), state.records.campaign())?;
    if let Some(d) = district {
        by.entry(d).or_default();
    }
    Ok(axum::Json(crate::stats_view::stats_view(&by, campaign.as_ref(), state.clock.now())))
}

#[derive(Deserialize)]
struct ExportQuery {
    school_id: Option<String>,
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::UnknownSchool(_) => ApiError::not_found("unknown_school", "没有这个学校编号"),
            ExportError::TooMany { photos, limit } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "export_too_large",
                format!("这次导出有 {photos} 张照片，超过单次导出上限 {limit} 张，请按学校分别导出"),
            ),
            ExportError::Backend(e) => e.into(),
            e => ApiError::Backend(BackendError::new(format!("export: {e}"))),
        }
    }
}

/// The export ZIP with this deployment's limits.
async fn build_export(state: &AppState, session: &AdminSession, school_id: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> ApiResult<export::ExportZip> {
    if let Some(id) = school_id {
        session.school(state, id).await?;
    }
    let district = session.scope.narrow(None)?;
    Ok(export::build(state.records.as_ref(), state.store.as_ref(), state.config.rules.max_bytes, school_id, district.as_deref(), state.config.export_max_photos, now).await?)
}

/// Approved photos as `{school_id}/{student_id}.jpg` plus `manifest.csv`, streamed in the
/// response (the embedded server; on AWS only small schools fit API Gateway's 6 MB).
async fn export(State(state): State<AppState>, session: AdminSession, Query(q): Query<ExportQuery>) -> ApiResult<impl IntoResponse> {
    let school_id = q.school_id.filter(|s| !s.is_empty());
    let zip = build_export(&state, &session, school_id.as_deref(), state.clock.now()).await?;
    let len = zip.bytes;
    // The open handle keeps the data readable after the temporary path is removed.
    let file = zip.file.into_file();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("attachment; filename=\"{}\"", zip.name);
    Ok((
        [(header::CONTENT_TYPE, "application/zip".to_owned()), (header::CONTENT_DISPOSITION, name), (header::CONTENT_LENGTH, len.to_string())],
        Body::from_stream(stream),
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    #[serde(default)]
    school_id: Option<String>,
}

/// The same ZIP stored beside the photos, answered as a short-lived download link: works
/// behind API Gateway whatever the size, and the browser downloads straight from the store.
async fn create_export(State(state): State<AppState>, b: AdminSession, RawBody(body): RawBody) -> ApiResult<impl IntoResponse> {
    // No body means every school.
    let request: ExportRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ExportRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("bad_json", format!("请求内容不是有效的 JSON：{e}")))?
    };
    let school_id = request.school_id.filter(|s| !s.is_empty());
    let now = state.clock.now();
    if let Err(e) = export::prune(state.store.as_ref(), now, chrono::Duration::from_std(state.config.export_keep).unwrap_or(chrono::Duration::days(1))).await {
        tracing::warn!(error = %e, "pruning old exports failed");
    }
    let zip = build_export(&state, &b, school_id.as_deref(), now).await?;
    let key = format!("{}{}", export::PREFIX, zip.name);
    state.store.put_file(&key, zip.file.path(), "application/zip").await?;
    let expires_at = now + chrono::Duration::from_std(state.config.export_link_ttl).unwrap_or(chrono::Duration::hours(1));
    let url = state.store.presign_download(&key, &zip.name, expires_at).await?;
    tracing::info!(by = %b.username, school_id = school_id.as_deref().unwrap_or("all"), photos = zip.photos, bytes = zip.bytes, "export stored");
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "file": zip.name,
            "download_url": url,
            "expires_at": expires_at,
            "photos": zip.photos,
            "bytes": zip.bytes,
        })),
    ))
}

#[derive(Deserialize)]
struct ReopenBody {
    #[serde(default)]
    reasons: Vec<String>,
    note: Option<String>,
}

/// An approved photo found wrong later (wrong child, misprint) goes back to the school.
async fn reopen(
    State(state): State<AppState>,
    session: BureauSession,
    Path(student_id): Path<String>,
    Json(body): Json<ReopenBody>,
) -> ApiResult<axum::Json<crate::view::StudentView>> {
    let id = StudentId::parse(&student_id).map_err(|_| ApiError::not_found("unknown_student", "没有这个学籍副号"))?;
    let note = parse_note(body.note.as_deref(), REVIEW_NOTE_MAX)?;
    let reasons = crate::routes::review::reject_reasons(&body.reasons, Decision::Reject)?;
    let student = state.records.reopen(&id, &reasons, note.as_deref(), &session.username, state.clock.now()).await.map_err(reopen_error)?;
    Ok(axum::Json(crate::view::student_view(&state, student).await?))
}

#[derive(Deserialize)]
struct NewAccount {
    role: String,
    district: Option<String>,
    username: String,
    password: String,
}

/// `POST /api/admin/accounts`: a district (区县) account for one district, or a reviewer.
async fn create_account(State(state): State<AppState>, _b: BureauSession, Json(body): Json<NewAccount>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let now = state.clock.now();
    let account = match body.role.as_str() {
        "district" => {
            let district = body.district.as_deref().unwrap_or_default();
            gradphoto_service::create_district_account(&*state.records, district, &body.username, &body.password, now).await
        }
        "reviewer" => create_staff_account(&*state.records, Role::Reviewer, &body.username, &body.password, now).await,
        _ => return Err(ApiError::bad_request("invalid_role", "角色应为 district（区县）或 reviewer（审核员）")),
    }
    .map_err(account_error)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"username": account.username, "role": account.role, "district": account.district}))))
}

/// A school's lost account: a new single-use registration code; the old account can no longer
/// log in and its sessions end. The code is answered once, for the district to hand over.
async fn reset_school(State(state): State<AppState>, session: AdminSession, Path(school_id): Path<String>) -> ApiResult<axum::Json<Value>> {
    session.school(&state, &school_id).await?;
    let code = RegistrationCode::mint().into_string();
    let school = state.records.reset_school(&school_id, &code).await.map_err(|e| match e {
        gradphoto_core::ports::ResetError::UnknownSchool => ApiError::not_found("unknown_school", "没有这所学校"),
        gradphoto_core::ports::ResetError::Backend(e) => e.into(),
    })?;
    tracing::info!(by = %session.username, school_id = %school.school_id, "school account reset");
    let mut v = serde_json::to_value(SchoolView::from(&school)).unwrap_or_default();
    v["registration_code"] = json!(school.registration_code);
    v["registered"] = json!(false);
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
struct StudentsQuery {
    school_id: Option<String>,
    status: Option<String>,
}

/// The drill-down: the students of one school the session may see.
async fn list_students(State(state): State<AppState>, session: AdminSession, Query(q): Query<StudentsQuery>) -> ApiResult<axum::Json<Value>> {
    let school_id = q.school_id.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad_request("bad_query", "请指定学校（school_id）"))?;
    let school = session.school(&state, &school_id).await?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(gradphoto_core::Status::parse(s).map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?),
        None => None,
    };
    let students = state.records.students(&school.school_id, &StudentFilter { status, ..Default::default() }).await?;
    let mut views = Vec::with_capacity(students.len());
    for s in students {
        views.push(crate::view::student_view(&state, s).await?);
    }
    Ok(axum::Json(json!({"school": SchoolView::from(&school), "students": views})))
}

#[derive(Deserialize)]
struct ChaseQuery {
    district: Option<String>,
    school_id: Option<String>,
}

/// 催交名单: students not uploaded or rejected, with their school's registration state and the
/// teacher's username, so a district knows whom to phone (UTF-8 BOM, opens in Excel).
async fn chase_csv(State(state): State<AppState>, session: AdminSession, Query(q): Query<ChaseQuery>) -> ApiResult<impl IntoResponse> {
    let district = session.scope.narrow(q.district.as_deref())?;
    let school_id = q.school_id.filter(|s| !s.is_empty());
    if let Some(id) = &school_id {
        session.school(&state, id).await?;
    }
    let schools: Vec<School> = state
        .records
        .schools()
        .await?
        .into_iter()
        .filter(|s| district.as_deref().is_none_or(|d| s.district == d) && school_id.as_deref().is_none_or(|id| s.school_id == id))
        .collect();
    let mut rows = Vec::new();
    // One roster read per school: a status filter reads the same roster on either backend.
    let chased = |s: &gradphoto_core::Student| matches!(s.status, gradphoto_core::Status::NotUploaded | gradphoto_core::Status::Rejected);
    for school in &schools {
        let students = state.records.students(&school.school_id, &StudentFilter::default()).await?;
        rows.extend(students.into_iter().filter(chased).map(|s| (school, s)));
    }
    rows.sort_by(|a, b| (&a.0.district, &a.0.name, &a.1.class, &a.1.student_id).cmp(&(&b.0.district, &b.0.name, &b.1.class, &b.1.student_id)));
    let body = csv_io::chase_csv(&rows)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, "attachment; filename=\"chase.csv\"".to_owned())], body))
}
