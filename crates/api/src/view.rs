//! JSON shapes of the contract, built from domain values.

use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use gradphoto_core::{Appeal, Counts, DecidedBy, PhotoGeometry, Reason, School, Student, lifecycle};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StudentView {
    pub student_id: String,
    pub name: String,
    pub class: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub reasons: Vec<Reason>,
    pub uploaded_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub photo_url: Option<String>,
    /// Which upload the photo is; a review decision may name it (see `POST /api/review/{id}`).
    pub photo_id: Option<String>,
    /// Contract v2: who set the current status.
    pub decided_by: Option<&'static str>,
    pub appeal: Option<Appeal>,
    /// Soft findings, kept apart from `reasons`.
    pub flags: Vec<Reason>,
    /// Whether the page may offer 申请人工复核 (`lifecycle::appealable`).
    pub appealable: bool,
    /// `school` or `parent`: who uploaded the current photo.
    pub uploaded_by: Option<&'static str>,
    /// The current photo was made by the crop suggestion (自动裁剪).
    pub auto_cropped: bool,
    /// What the check measured on the head of the current photo; absent when it measured
    /// nothing (no face, several, a wrong size, not checked yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<PhotoGeometry>,
}

pub async fn photo_url(state: &AppState, student: &Student) -> ApiResult<Option<String>> {
    match &student.photo_key {
        Some(key) => {
            let expires = state.clock.now() + Duration::from_std(state.config.preview_ttl).unwrap_or(Duration::minutes(30));
            Ok(Some(state.store.presign_get(key, expires).await?))
        }
        None => Ok(None),
    }
}

pub async fn student_view(state: &AppState, s: Student) -> ApiResult<StudentView> {
    let photo_url = photo_url(state, &s).await?;
    let photo_id = s.photo_id();
    let decided_by = s.decider().map(DecidedBy::as_str);
    let appealable = lifecycle::appealable(&s);
    Ok(StudentView {
        student_id: s.student_id.to_string(),
        name: s.name,
        class: s.class,
        status: s.status.as_str(),
        status_label: s.status.label(),
        reasons: s.reasons,
        uploaded_at: s.uploaded_at,
        reviewed_at: s.reviewed_at,
        photo_url,
        photo_id,
        decided_by,
        appeal: s.appeal,
        flags: s.flags,
        appealable,
        uploaded_by: s.uploaded_by.map(|u| u.as_str()),
        auto_cropped: s.auto_cropped,
        geometry: s.geometry,
    })
}

#[derive(Debug, Serialize)]
pub struct SchoolView {
    pub school_id: String,
    pub district: String,
    pub name: String,
    pub stage: &'static str,
    pub stage_label: &'static str,
}

impl From<&School> for SchoolView {
    fn from(s: &School) -> Self {
        Self {
            school_id: s.school_id.clone(),
            district: s.district.clone(),
            name: s.name.clone(),
            stage: s.stage.as_str(),
            stage_label: s.stage.label(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SchoolWithCounts {
    #[serde(flatten)]
    pub school: SchoolView,
    pub username: Option<String>,
    pub registered: bool,
    pub counts: Counts,
}
