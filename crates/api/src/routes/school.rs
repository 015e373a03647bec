//! The teacher's endpoints: their school, its roster, CSV export, and upload tickets.

use crate::auth::SchoolSession;
use crate::csv_io;
use crate::error::{ApiError, ApiResult, appeal_error};
use gradphoto_core::notes::{APPEAL_NOTE_MAX, parse_note};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::view::{StudentView, student_view};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use gradphoto_core::ports::{ParentCode, StudentFilter, TicketError};
use gradphoto_service::ParentCodeText;
use gradphoto_core::{Status, StudentId, Ticket, Uploader, lifecycle, messages, photo};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/school", get(get_school))
        .route("/api/students", get(list_students))
        .route("/api/students.csv", get(export_csv))
        .route("/api/students/{student_id}", get(get_student))
        .route("/api/students/{student_id}/appeal", post(appeal))
        .route("/api/uploads", post(create_uploads))
        .route("/api/school/parent-codes", post(issue_parent_codes))
}

async fn get_school(State(state): State<AppState>, session: SchoolSession) -> ApiResult<axum::Json<Value>> {
    let school = &session.school;
    let counts = state.records.counts(&school.school_id).await?;
    Ok(axum::Json(json!({
        "school_id": school.school_id,
        "district": school.district,
        "name": school.name,
        "stage": school.stage.as_str(),
        "stage_label": school.stage.label(),
        "username": session.username,
        "counts": counts,
        "max_upload_bytes": state.config.rules.max_bytes,
        "photo_width": state.config.rules.width,
        "photo_height": state.config.rules.height,
    })))
}

#[derive(Deserialize)]
pub struct ListQuery {
    class: Option<String>,
    status: Option<String>,
    uploaded_by: Option<String>,
}

fn filter_of(q: ListQuery) -> ApiResult<StudentFilter> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(Status::parse(s).map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?),
        None => None,
    };
    let uploaded_by = match q.uploaded_by.as_deref().filter(|s| !s.is_empty()) {
        Some(u) => Some(Uploader::parse(u).ok_or_else(|| ApiError::bad_request("bad_query", "上传人应为 school（学校）或 parent（家长）"))?),
        None => None,
    };
    Ok(StudentFilter { class: q.class.filter(|c| !c.is_empty()), status, uploaded_by })
}

async fn list_students(State(state): State<AppState>, session: SchoolSession, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Value>> {
    let students = state.records.students(&session.school_id, &filter_of(q)?).await?;
    let mut views: Vec<StudentView> = Vec::with_capacity(students.len());
    for s in students {
        views.push(student_view(&state, s).await?);
    }
    Ok(axum::Json(json!({"students": views})))
}

#[derive(Deserialize)]
struct ParentCodesBody {
    student_ids: Option<Vec<String>>,
    class: Option<String>,
}

/// 家长上传码: one new code per student (the whole school, a class, or a selection), shown once;
/// only its keyed hash is stored, and the old code of each student stops working.
async fn issue_parent_codes(State(state): State<AppState>, session: SchoolSession, Json(body): Json<ParentCodesBody>) -> ApiResult<(axum::http::StatusCode, axum::Json<Value>)> {
    let school = &session.school;
    let students = match (body.student_ids, body.class.filter(|c| !c.trim().is_empty())) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("bad_body", "请只选择一个班级，或只勾选学生")),
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > 5000 {
                return Err(ApiError::bad_request("bad_body", "请勾选 1–5000 名学生"));
            }
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.push(own_student(&state, &session, id).await?);
            }
            out
        }
        (None, Some(class)) => {
            let filter = StudentFilter { class: Some(class.clone()), ..Default::default() };
            let found = state.records.students(&session.school_id, &filter).await?;
            if found.is_empty() {
                return Err(ApiError::bad_request("unknown_class", format!("本校名单中没有“{}”这个班级", class.chars().take(40).collect::<String>())));
            }
            found
        }
        (None, None) => state.records.students(&session.school_id, &StudentFilter::default()).await?,
    };
    let now = state.clock.now();
    let minted: Vec<(gradphoto_core::Student, ParentCodeText)> = students.into_iter().map(|s| (s, ParentCodeText::mint())).collect();
    let records: Vec<ParentCode> = minted
        .iter()
        .map(|(s, code)| ParentCode {
            student_id: s.student_id.clone(),
            hash: code.keyed_hash(&state.config.token_secret, s.student_id.as_str()),
            version: 0,
            issued_at: now,
        })
        .collect();
    state.records.issue_parent_codes(&records).await?;
    // The codes themselves are in this answer only: never logged, stored or exported.
    tracing::info!(count = minted.len(), "parent codes issued");
    let codes: Vec<Value> = minted
        .iter()
        .map(|(s, code)| json!({"student_id": s.student_id, "name": s.name, "class": s.class, "code": code.display()}))
        .collect();
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(json!({"codes": codes, "school": {"name": school.name, "district": school.district, "stage": school.stage.as_str(), "stage_label": school.stage.label()}})),
    ))
}

/// A student of the session's school, or 404 — never another school's data.
async fn own_student(state: &AppState, session: &SchoolSession, raw_id: &str) -> ApiResult<gradphoto_core::Student> {
    let id = StudentId::parse(raw_id).map_err(|_| ApiError::unknown_student())?;
    match state.records.student(&id).await? {
        Some(s) if s.school_id == session.school_id => Ok(s),
        _ => Err(ApiError::unknown_student()),
    }
}

async fn get_student(State(state): State<AppState>, session: SchoolSession, Path(student_id): Path<String>) -> ApiResult<axum::Json<StudentView>> {
    let student = own_student(&state, &session, &student_id).await?;
    Ok(axum::Json(student_view(&state, student).await?))
}

async fn export_csv(State(state): State<AppState>, session: SchoolSession, Query(q): Query<ListQuery>) -> ApiResult<impl IntoResponse> {
    let students = state.records.students(&session.school_id, &filter_of(q)?).await?;
    let body = csv_io::roster_csv(&students)?;
    let filename = format!("attachment; filename=\"students-{}.csv\"", session.school_id);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, filename)], body))
}

#[derive(Deserialize)]
struct AppealBody {
    photo_id: String,
    note: Option<String>,
}

/// 申请人工复核: the photo goes to a person with the check's reasons as findings.
async fn appeal(
    State(state): State<AppState>,
    session: SchoolSession,
    Path(student_id): Path<String>,
    Json(body): Json<AppealBody>,
) -> ApiResult<axum::Json<StudentView>> {
    let id = StudentId::parse(&student_id).map_err(|_| ApiError::unknown_student())?;
    let note = parse_note(body.note.as_deref(), APPEAL_NOTE_MAX)?;
    let request = lifecycle::AppealRequest { photo_id: &body.photo_id, note: note.as_deref(), by: &session.username, school_id: Some(&session.school_id) };
    let student = state.records.appeal(&id, &request, state.clock.now()).await.map_err(appeal_error)?;
    Ok(axum::Json(student_view(&state, student).await?))
}

#[derive(Deserialize)]
struct UploadRequest {
    files: Vec<FileDecl>,
    content_type: String,
}

#[derive(Deserialize)]
struct FileDecl {
    student_id: String,
    size: u64,
    /// The page made this photo from the crop suggestion, unchanged (自动裁剪).
    #[serde(default)]
    auto_cropped: bool,
}

#[derive(Serialize)]
struct Refusal {
    student_id: String,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
pub(crate) struct Grant {
    pub student_id: String,
    pub url: String,
    pub method: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

pub const MAX_FILES_PER_REQUEST: usize = 100;

async fn create_uploads(State(state): State<AppState>, session: SchoolSession, Json(req): Json<UploadRequest>) -> ApiResult<axum::Json<Value>> {
    if req.files.is_empty() || req.files.len() > MAX_FILES_PER_REQUEST {
        return Err(ApiError::bad_request("bad_request", format!("每次可申请 1–{MAX_FILES_PER_REQUEST} 个文件的上传")));
    }
    let mut uploads = Vec::new();
    let mut refused = Vec::new();
    for file in req.files {
        let refuse = |r: Refused| Refusal { student_id: file.student_id.clone(), code: r.code, message: r.message };
        let student = match own_student(&state, &session, &file.student_id).await {
            Ok(s) => s,
            Err(_) => {
                refused.push(refuse(Refused::unknown_student()));
                continue;
            }
        };
        match grant_upload(&state, &student, file.size, &req.content_type, &session.username, Uploader::School, file.auto_cropped).await? {
            Ok(grant) => uploads.push(grant),
            Err(r) => refused.push(refuse(r)),
        }
    }
    Ok(axum::Json(json!({"uploads": uploads, "refused": refused})))
}

/// Why one upload was refused (a `refused` entry for schools, an error for parents).
pub(crate) struct Refused {
    pub code: &'static str,
    pub message: String,
}

impl Refused {
    fn unknown_student() -> Self {
        Self { code: "unknown_student", message: "本校学生名单中没有这个学籍副号，请检查文件名".into() }
    }
}

/// One presigned upload for `student`, as a teacher or a parent asks for it: the same rules for
/// both (one successful upload, size and type signed into the URL, one winner by generation).
pub(crate) async fn grant_upload(
    state: &AppState,
    student: &gradphoto_core::Student,
    size: u64,
    content_type: &str,
    issued_by: &str,
    uploader: Uploader,
    auto_cropped: bool,
) -> ApiResult<Result<Grant, Refused>> {
    let rules = &state.config.rules;
    let refuse = |code: &'static str, message: String| Ok(Err(Refused { code, message }));
    if !content_type.trim().eq_ignore_ascii_case("image/jpeg") {
        return refuse("bad_type", "只能上传 JPEG 格式（.jpg）的照片".into());
    }
    if let Err(TicketError::AlreadyUploaded(status)) = lifecycle::may_upload(student) {
        return refuse("already_uploaded", messages::already_uploaded(status));
    }
    if size > rules.max_bytes {
        return refuse("too_large", photo::too_large_reason(Some(size), rules.max_bytes).message);
    }
    if size < rules.min_bytes {
        return refuse("too_small", photo::too_small_reason(size, rules).message);
    }
    let now = state.clock.now();
    let expires_at = now + Duration::from_std(state.config.upload_ttl).unwrap_or(Duration::minutes(15));
    let ticket = Ticket {
        ticket_id: new_ticket_id(),
        student_id: student.student_id.clone(),
        school_id: student.school_id.clone(),
        size,
        generation: student.generation,
        issued_at: now,
        expires_at,
        issued_by: issued_by.to_owned(),
        uploader,
        auto_cropped,
    };
    let ticket = match state.records.issue_ticket(&ticket).await {
        Ok(t) => t,
        Err(TicketError::AlreadyUploaded(status)) => return refuse("already_uploaded", messages::already_uploaded(status)),
        Err(TicketError::UnknownStudent) => return Ok(Err(Refused::unknown_student())),
        Err(TicketError::Backend(e)) => return Err(e.into()),
    };
    let presigned = state.store.presign_put(&ticket.object_key(), ticket.size, "image/jpeg", expires_at).await?;
    Ok(Ok(Grant {
        student_id: student.student_id.to_string(),
        url: presigned.url,
        method: presigned.method,
        headers: presigned.headers,
        expires_at,
    }))
}

fn new_ticket_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
