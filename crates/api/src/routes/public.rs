//! Public endpoints: the window, registration with a school's code, and logins.

use crate::auth::{ensure_window_open, hash_password, issue_token, verify_password};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::view::SchoolView;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use gradphoto_core::ports::{LoginAttempt, RegisterError};
use gradphoto_core::{Account, Password, Role, Username, window};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/window", get(get_window))
        .route("/api/registration/verify", post(verify_code))
        .route("/api/registration", post(register))
        .route("/api/sessions", post(login))
}

async fn get_window(State(state): State<AppState>) -> ApiResult<axum::Json<Value>> {
    let campaign = state.records.campaign().await?;
    let now = state.clock.now();
    let w = window::evaluate(campaign.as_ref(), now);
    let tz: chrono_tz::Tz = campaign.as_ref().and_then(|c| c.timezone.parse().ok()).unwrap_or(chrono_tz::Asia::Shanghai);
    Ok(axum::Json(json!({
        "open": w.open,
        "phase": w.phase,
        "message": w.message,
        "now": now.with_timezone(&tz).to_rfc3339(),
        "next_open_at": w.next_open_at.map(|t| t.to_rfc3339()),
        "closes_at": w.closes_at.map(|t| t.to_rfc3339()),
        "campaign": campaign,
        "helpdesk": {"phone": state.config.helpdesk_phone, "hours": state.config.helpdesk_hours},
    })))
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

/// Codes are typed by teachers from a paper notice: ignore case, spaces and dashes.
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

async fn verify_code(State(state): State<AppState>, Json(body): Json<CodeBody>) -> ApiResult<axum::Json<Value>> {
    ensure_window_open(&state).await?;
    let school = state
        .records
        .school_by_code(&normalise_code(&body.code))
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_code", "注册码不正确，请核对区县下发的注册码"))?;
    if school.username.is_some() {
        return Err(ApiError::conflict("code_used", "该注册码已被使用，如需帮助请联系区县"));
    }
    Ok(axum::Json(json!({
        "district": school.district,
        "school": school.name,
        "stage": school.stage.as_str(),
        "stage_label": school.stage.label(),
    })))
}

#[derive(Deserialize)]
struct RegisterBody {
    code: String,
    username: String,
    password: String,
}

async fn register(State(state): State<AppState>, Json(body): Json<RegisterBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    ensure_window_open(&state).await?;
    let username = Username::parse(body.username.trim()).map_err(|e| ApiError::bad_request("invalid_username", e.to_string()))?;
    let password = Password::parse(&body.password).map_err(|e| ApiError::bad_request("weak_password", e.to_string()))?;
    let account = Account {
        username: username.as_str().to_owned(),
        password_hash: hash_password(password.expose().to_owned()).await?,
        role: Role::School,
        school_id: None,
        created_at: state.clock.now(),
    };
    let school = state.records.register(&normalise_code(&body.code), &account).await.map_err(|e| match e {
        RegisterError::UnknownCode => ApiError::not_found("unknown_code", "注册码不正确，请核对区县下发的注册码"),
        RegisterError::CodeUsed => ApiError::conflict("code_used", "该注册码已被使用，如需帮助请联系区县"),
        RegisterError::UsernameTaken => ApiError::conflict("username_taken", "该用户名已被占用，请换一个"),
        RegisterError::Backend(e) => e.into(),
    })?;
    let token = issue_token(&state, &account.username, Role::School, Some(school.school_id.clone()))?;
    Ok((StatusCode::CREATED, axum::Json(json!({"token": token, "role": "school", "school": SchoolView::from(&school)}))))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(State(state): State<AppState>, Json(body): Json<LoginBody>) -> ApiResult<axum::Json<Value>> {
    let username = body.username.trim().to_owned();
    let now = state.clock.now();
    let since = now - Duration::from_std(state.config.login_cooloff).unwrap_or(Duration::minutes(15));
    let too_many = || {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            format!("密码错误次数过多，请 {} 分钟后再试", state.config.login_cooloff.as_secs().div_ceil(60)),
        )
    };
    if username.is_empty() || username.chars().count() > 64 {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "用户名或密码错误"));
    }
    // The attempt is counted before the (slow) password check, so parallel guesses cannot all
    // read a count under the limit; a success clears it below.
    if state.records.reserve_login_attempt(&username, now, since, state.config.login_max_failures).await? == LoginAttempt::Refused {
        return Err(too_many());
    }
    let account = state.records.account(&username).await?;
    let ok = verify_password(body.password, account.as_ref().map(|a| a.password_hash.clone())).await;
    let account = match (ok, account) {
        (true, Some(a)) => a,
        _ => {
            tracing::info!("failed login");
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "用户名或密码错误"));
        }
    };
    state.records.clear_login_failures(&username).await?;
    let school = match (&account.role, &account.school_id) {
        (Role::School, Some(id)) => {
            ensure_window_open(&state).await?;
            state.records.school(id).await?.map(|s| SchoolView::from(&s))
        }
        _ => None,
    };
    let token = issue_token(&state, &account.username, account.role, account.school_id.clone())?;
    Ok(axum::Json(json!({"token": token, "role": account.role, "school": school})))
}
