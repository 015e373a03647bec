//! Sessions: argon2id password hashes and HS256 tokens, and the extractors that give handlers
//! a session of the right role (school sessions also enforce the upload window).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header, request::Parts};
use chrono::{DateTime, Utc};
use gradphoto_core::Role;
use gradphoto_core::window;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue_token(state: &AppState, username: &str, role: Role, school_id: Option<String>) -> ApiResult<String> {
    let now = state.clock.now();
    let claims = Claims {
        sub: username.to_owned(),
        role,
        school_id,
        iat: now.timestamp(),
        exp: now.timestamp() + state.config.token_ttl.as_secs() as i64,
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&state.config.token_secret))
        .map_err(|e| ApiError::Backend(gradphoto_core::ports::BackendError::new(format!("token encode: {e}"))))
}

/// Verifies the signature with jsonwebtoken and the expiry against our `Clock`, so that tests
/// can move time.
pub fn verify_token(state: &AppState, token: &str, now: DateTime<Utc>) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<Claims>(token, &DecodingKey::from_secret(&state.config.token_secret), &validation).ok()?;
    (data.claims.exp > now.timestamp()).then_some(data.claims)
}


fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).map(str::trim)
}

pub fn session_from(parts: &Parts, state: &AppState) -> ApiResult<Claims> {
    let token = bearer(parts).ok_or_else(ApiError::unauthenticated)?;
    verify_token(state, token, state.clock.now()).ok_or_else(ApiError::unauthenticated)
}

/// 403 `window_closed` with the message that says when the window opens again.
pub async fn ensure_window_open(state: &AppState) -> ApiResult<()> {
    let campaign = state.records.campaign().await?;
    let w = window::evaluate(campaign.as_ref(), state.clock.now());
    if w.open { Ok(()) } else { Err(ApiError::new(StatusCode::FORBIDDEN, "window_closed", w.message)) }
}

/// A teacher's session for one school stage, inside the upload window.
pub struct SchoolSession {
    pub username: String,
    pub school_id: String,
}

impl FromRequestParts<AppState> for SchoolSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        let (Role::School, Some(school_id)) = (claims.role, claims.school_id) else {
            return Err(ApiError::forbidden());
        };
        ensure_window_open(state).await?;
        Ok(SchoolSession { username: claims.sub, school_id })
    }
}

/// A reviewer's session; the bureau may review too.
pub struct ReviewerSession {
    pub username: String,
}

impl FromRequestParts<AppState> for ReviewerSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        match claims.role {
            Role::Reviewer | Role::Bureau => Ok(ReviewerSession { username: claims.sub }),
            Role::School => Err(ApiError::forbidden()),
        }
    }
}

pub struct BureauSession {
    pub username: String,
}

impl FromRequestParts<AppState> for BureauSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        match claims.role {
            Role::Bureau => Ok(BureauSession { username: claims.sub }),
            _ => Err(ApiError::forbidden()),
        }
    }
}
