//! Public endpoints: the window, registration with a school's code, and logins.

use crate::auth::{ensure_window_open, issue_account_token, issue_token};
use crate::error::account_error;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::view::SchoolView;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::Duration;
use gradphoto_core::ports::LoginAttempt;
use gradphoto_core::{Role, window};
use gradphoto_service::{AccountRefused, NewAccountError, RegistrationCode, verify_password};
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
    // With no campaign set yet, the clock shown is the seed's (Shanghai).
    let tz = campaign.as_ref().map_or(chrono_tz::Asia::Shanghai, |c| c.timezone);
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

async fn verify_code(State(state): State<AppState>, Json(body): Json<CodeBody>) -> ApiResult<axum::Json<Value>> {
    ensure_window_open(&state).await?;
    let school = state
        .records
        .school_by_code(RegistrationCode::from_typed(&body.code).as_str())
        .await?
        .ok_or_else(|| account_error(NewAccountError::Refused(AccountRefused::UnknownCode)))?;
    if school.username.is_some() {
        return Err(account_error(NewAccountError::Refused(AccountRefused::CodeUsed)));
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
    let code = RegistrationCode::from_typed(&body.code);
    let (school, account) =
        gradphoto_service::register_school(&*state.records, &code, &body.username, &body.password, state.clock.now()).await.map_err(account_error)?;
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
    let token = issue_account_token(&state, &account.username, account.role, account.school_id.clone(), account.district.clone())?;
    Ok(axum::Json(json!({"token": token, "role": account.role, "school": school, "district": account.district})))
}
