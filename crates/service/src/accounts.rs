//! Accounts: password hashing (argon2id) and creating accounts, the same way from the API's
//! registration and reviewer pages as from `gradphoto add-user` and `gradphoto-aws add-user`.

use crate::codes::RegistrationCode;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use chrono::{DateTime, Utc};
use gradphoto_core::ports::{AccountError, BackendError, RegisterError, Records};
use gradphoto_core::{Account, ParseError, Password, Role, School, Username};

/// argon2id with the crate's default (OWASP) parameters, off the async threads.
pub async fn hash_password(password: &Password) -> Result<String, BackendError> {
    let plain = password.expose().to_owned();
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(plain.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(BackendError::new)?
        .map_err(|e| BackendError::new(format!("hash: {e}")))
}

/// A hash of a random password nobody knows, verified against when the username is unknown
/// so that both paths cost the same (no username enumeration by timing).
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    Argon2::default().hash_password(&random).map(|h| h.to_string()).unwrap_or_default()
});

/// True when `password` matches `hash`; with no hash (unknown user) it does the same work and
/// answers false.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY_HASH.clone());
        match PasswordHash::new(&hash) {
            Ok(p) => Argon2::default().verify_password(password.as_bytes(), &p).is_ok() && known,
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// Why an account was not created, for every caller to word in its own way (the API maps each
/// to a stable code; the command lines print the message).
#[derive(Debug, thiserror::Error)]
pub enum NewAccountError {
    #[error("{0}")]
    InvalidUsername(ParseError),
    #[error("{0}")]
    WeakPassword(ParseError),
    #[error("角色应为 bureau 或 reviewer")]
    NotStaffRole,
    #[error("没有学校属于区县“{0}”，请先导入该区县的学校")]
    UnknownDistrict(String),
    #[error("{0}")]
    Refused(AccountRefused),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// What the store refused (the registration code's rules and the username's uniqueness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefused {
    #[error("注册码不正确，请核对区县下发的注册码")]
    UnknownCode,
    #[error("该注册码已被使用，如需帮助请联系区县")]
    CodeUsed,
    #[error("该用户名已被占用，请换一个")]
    UsernameTaken,
}

fn parse_credentials(username: &str, password: &str) -> Result<(Username, Password), NewAccountError> {
    let username = Username::parse(username.trim()).map_err(NewAccountError::InvalidUsername)?;
    let password = Password::parse(password).map_err(NewAccountError::WeakPassword)?;
    Ok((username, password))
}

/// A bureau or reviewer account (the bureau's page, `add-user`).
pub async fn create_staff_account(records: &dyn Records, role: Role, username: &str, password: &str, now: DateTime<Utc>) -> Result<Account, NewAccountError> {
    if !matches!(role, Role::Bureau | Role::Reviewer) {
        return Err(NewAccountError::NotStaffRole);
    }
    let (username, password) = parse_credentials(username, password)?;
    let account = Account { username: username.as_str().to_owned(), password_hash: hash_password(&password).await?, role, school_id: None, created_at: now, district: None };
    records.create_account(&account).await.map_err(|e| match e {
        AccountError::UsernameTaken => NewAccountError::Refused(AccountRefused::UsernameTaken),
        AccountError::Backend(e) => NewAccountError::Backend(e),
    })?;
    Ok(account)
}

/// A district (区县) account, for one district the bureau's schools name.
pub async fn create_district_account(records: &dyn Records, district: &str, username: &str, password: &str, now: DateTime<Utc>) -> Result<Account, NewAccountError> {
    let district = district.trim();
    if district.is_empty() || !records.schools().await?.iter().any(|s| s.district == district) {
        return Err(NewAccountError::UnknownDistrict(district.chars().take(40).collect()));
    }
    let (username, password) = parse_credentials(username, password)?;
    let account = Account {
        username: username.as_str().to_owned(),
        password_hash: hash_password(&password).await?,
        role: Role::District,
        school_id: None,
        created_at: now,
        district: Some(district.to_owned()),
    };
    records.create_account(&account).await.map_err(|e| match e {
        AccountError::UsernameTaken => NewAccountError::Refused(AccountRefused::UsernameTaken),
        AccountError::Backend(e) => NewAccountError::Backend(e),
    })?;
    Ok(account)
}

/// A teacher's account made with a school's single-use registration code.
pub async fn register_school(records: &dyn Records, code: &RegistrationCode, username: &str, password: &str, now: DateTime<Utc>) -> Result<(School, Account), NewAccountError> {
    let (username, password) = parse_credentials(username, password)?;
    let account = Account { username: username.as_str().to_owned(), password_hash: hash_password(&password).await?, role: Role::School, school_id: None, created_at: now, district: None };
    let school = records.register(code.as_str(), &account).await.map_err(|e| match e {
        RegisterError::UnknownCode => NewAccountError::Refused(AccountRefused::UnknownCode),
        RegisterError::CodeUsed => NewAccountError::Refused(AccountRefused::CodeUsed),
        RegisterError::UsernameTaken => NewAccountError::Refused(AccountRefused::UsernameTaken),
        RegisterError::Backend(e) => NewAccountError::Backend(e),
    })?;
    let account = Account { school_id: Some(school.school_id.clone()), ..account };
    Ok((school, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_an_unknown_user_never_verifies() {
        let p = Password::parse("abc123").unwrap();
        let hash = hash_password(&p).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("abc123".into(), Some(hash.clone())).await);
        assert!(!verify_password("abc124".into(), Some(hash)).await);
        assert!(!verify_password("abc123".into(), None).await);
    }
}
