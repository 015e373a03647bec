//! Sessions: argon2id password hashes and HS256 tokens, and the extractors that give handlers
//! a session of the right role (school sessions also enforce the upload window).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::{StatusCode, header, request::Parts};
use chrono::{DateTime, Utc};
use gradphoto_core::{Role, StudentId};
use gradphoto_core::window;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school_id: Option<String>,
    /// A parent's session: the one student it reaches…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<String>,
    /// …and the version of the code it was made with (issuing a new code ends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<u32>,
    /// A district account's district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue_token(state: &AppState, username: &str, role: Role, school_id: Option<String>) -> ApiResult<String> {
    issue_account_token(state, username, role, school_id, None)
}

/// A token for an account: its role, and the school or district it is scoped to.
pub fn issue_account_token(state: &AppState, username: &str, role: Role, school_id: Option<String>, district: Option<String>) -> ApiResult<String> {
    let now = state.clock.now();
    sign(state, Claims {
        sub: username.to_owned(),
        role,
        school_id,
        student_id: None,
        cv: None,
        district,
        iat: now.timestamp(),
        exp: now.timestamp() + state.config.token_ttl.as_secs() as i64,
    })
}

/// The audit's name for a parent: `parent:` and the student id (parents have no accounts).
pub fn parent_actor(student_id: &StudentId) -> String {
    format!("parent:{student_id}")
}

/// A parent's token: exactly one student, pinned to the code's version.
pub fn issue_parent_token(state: &AppState, student_id: &StudentId, code_version: u32) -> ApiResult<String> {
    let now = state.clock.now();
    sign(state, Claims {
        sub: parent_actor(student_id),
        role: Role::Parent,
        school_id: None,
        student_id: Some(student_id.to_string()),
        cv: Some(code_version),
        district: None,
        iat: now.timestamp(),
        exp: now.timestamp() + state.config.token_ttl.as_secs() as i64,
    })
}

fn sign(state: &AppState, claims: Claims) -> ApiResult<String> {
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
    window_open_in(state, campaign.as_ref())
}

/// The same, for a campaign the caller has already read.
pub fn window_open_in(state: &AppState, campaign: Option<&gradphoto_core::Campaign>) -> ApiResult<()> {
    let w = window::evaluate(campaign, state.clock.now());
    if w.open { Ok(()) } else { Err(ApiError::new(StatusCode::FORBIDDEN, "window_closed", w.message)) }
}

/// A teacher's session for one school stage, inside the upload window.
pub struct SchoolSession {
    pub username: String,
    pub school_id: String,
    /// The school as read to check the session is its current account.
    pub school: gradphoto_core::School,
}

impl FromRequestParts<AppState> for SchoolSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        let (Role::School, Some(school_id)) = (claims.role, claims.school_id) else {
            return Err(ApiError::forbidden());
        };
        ensure_window_open(state).await?;
        // A district may reset a lost account: the old account's sessions end with it.
        match state.records.school(&school_id).await? {
            Some(school) if school.username.as_deref() == Some(claims.sub.as_str()) => Ok(SchoolSession { username: claims.sub, school_id, school }),
            _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "本校账号已由区县重置，请使用区县新发放的注册码重新注册")),
        }
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
            Role::School | Role::Parent | Role::District => Err(ApiError::forbidden()),
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

/// 403 `parents_disabled` when the bureau has switched the parents' path off.
pub async fn ensure_parents_enabled(state: &AppState) -> ApiResult<Option<gradphoto_core::Campaign>> {
    let campaign = state.records.campaign().await?;
    if campaign.as_ref().is_some_and(|c| !c.parents_enabled) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "parents_disabled", "本次采集未开放家长上传，请联系学校老师上传照片"));
    }
    Ok(campaign)
}

/// A parent's session: one student, inside the window, while parents are enabled and the code
/// it was made with is still the student's current one.
pub struct ParentSession {
    pub student_id: StudentId,
    pub actor: String,
}

impl FromRequestParts<AppState> for ParentSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        let (Role::Parent, Some(student_id), Some(cv)) = (claims.role, claims.student_id.as_deref(), claims.cv) else {
            return Err(ApiError::forbidden());
        };
        let student_id = StudentId::parse(student_id).map_err(|_| ApiError::unauthenticated())?;
        let campaign = ensure_parents_enabled(state).await?;
        window_open_in(state, campaign.as_ref())?;
        match state.records.parent_code(&student_id).await? {
            Some(code) if code.version == cv => Ok(ParentSession { actor: claims.sub, student_id }),
            _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "学校已重新发放上传码，请使用新的上传码重新登录")),
        }
    }
}

/// Who is asking, for login limits: the address the hosting layer saw (`ClientAddr`, set by
/// the Lambda runner from API Gateway's source IP) or the TCP peer of the embedded server.
/// A proxy in front of the embedded server makes every client one address: the limits then
/// still hold per student, only the per-client cap becomes shared.
pub struct Client(pub String);

/// The client's address as the hosting layer knows it, inserted as a request extension.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> ApiResult<Self> {
        if let Some(ClientAddr(a)) = parts.extensions.get::<ClientAddr>() {
            return Ok(Client(a.clone()));
        }
        if let Some(axum::extract::ConnectInfo(addr)) = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() {
            return Ok(Client(addr.ip().to_string()));
        }
        Ok(Client("unknown".to_owned()))
    }
}

/// What an administrative session may see: everything (the bureau) or one district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    District(String),
}

impl Scope {
    pub fn allows(&self, school: &gradphoto_core::School) -> bool {
        match self {
            Scope::All => true,
            Scope::District(d) => &school.district == d,
        }
    }

    /// The district to narrow to: the session's own, or (for the bureau) the one asked for.
    /// A district asking for another district is refused.
    pub fn narrow(&self, asked: Option<&str>) -> ApiResult<Option<String>> {
        match (self, asked.filter(|d| !d.is_empty())) {
            (Scope::All, asked) => Ok(asked.map(str::to_owned)),
            (Scope::District(own), None) => Ok(Some(own.clone())),
            (Scope::District(own), Some(d)) if d == own => Ok(Some(own.clone())),
            (Scope::District(_), Some(_)) => Err(ApiError::forbidden()),
        }
    }
}

/// The bureau, or a district account for its own district (区县): progress, schools and their
/// codes, students, chase lists, exports, school resets. Campaign settings, imports and
/// accounts stay `BureauSession`.
pub struct AdminSession {
    pub username: String,
    pub scope: Scope,
}

impl AdminSession {
    /// The school, if the session may see it; another district's school is forbidden.
    pub async fn school(&self, state: &AppState, school_id: &str) -> ApiResult<gradphoto_core::School> {
        match state.records.school(school_id).await? {
            Some(s) if self.scope.allows(&s) => Ok(s),
            Some(_) => Err(ApiError::forbidden()),
            None => Err(ApiError::not_found("unknown_school", "没有这所学校")),
        }
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let claims = session_from(parts, state)?;
        match (claims.role, claims.district) {
            (Role::Bureau, _) => Ok(AdminSession { username: claims.sub, scope: Scope::All }),
            (Role::District, Some(d)) => Ok(AdminSession { username: claims.sub, scope: Scope::District(d) }),
            _ => Err(ApiError::forbidden()),
        }
    }
}
