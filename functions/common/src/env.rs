//! The functions' configuration, all from environment variables set by `template.yaml`.

use gradphoto_api::Config;
use gradphoto_core::photo::{Profile, Rules};
use gradphoto_aws::{Settings, SettingsError};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(transparent)]
    Aws(#[from] SettingsError),
    #[error("TOKEN_SECRET must be set to at least 32 characters (the same value for every function)")]
    TokenSecret,
    #[error("{name} is not a number: {value:?}")]
    NotANumber { name: &'static str, value: String },
}

#[derive(Debug, Clone)]
pub struct FunctionEnv {
    pub aws: Settings,
    pub token_secret: Vec<u8>,
    /// `UPLOAD_TTL_SECS`: how long a presigned PUT stays valid (default 900).
    pub upload_ttl: Option<Duration>,
    /// `MAX_PHOTO_BYTES`: the size limit, signed into uploads and enforced by the check.
    pub max_photo_bytes: Option<u64>,
    /// `EXPORT_MAX_PHOTOS`: most photos one export may hold (default 3000), so it finishes
    /// within API Gateway's 30 s and the function's temporary disk.
    pub export_max_photos: u64,
    /// `PHOTO_PROFILE`: the ID-photo style's geometry bands (ga461, the default, or xuexin),
    /// which the crop suggestion aims for; check-photo reads the same variable.
    pub photo_profile: Profile,
}

/// ~3000 photos of ~50 KB: ~190 parallel-read rounds of 16 and a ~150 MB ZIP, well inside
/// 29 s and 2 GB of /tmp. A city-wide export goes school by school.
const DEFAULT_EXPORT_MAX_PHOTOS: u64 = 3000;

fn number(name: &'static str) -> Result<Option<u64>, EnvError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).map_err(|_| EnvError::NotANumber { name, value: v }),
        _ => Ok(None),
    }
}

impl FunctionEnv {
    pub fn from_env() -> Result<Self, EnvError> {
        let secret = std::env::var("TOKEN_SECRET").unwrap_or_default();
        if secret.len() < 32 {
            return Err(EnvError::TokenSecret);
        }
        Ok(Self {
            aws: Settings::from_env()?,
            token_secret: secret.into_bytes(),
            upload_ttl: number("UPLOAD_TTL_SECS")?.map(Duration::from_secs),
            max_photo_bytes: number("MAX_PHOTO_BYTES")?,
            export_max_photos: number("EXPORT_MAX_PHOTOS")?.unwrap_or(DEFAULT_EXPORT_MAX_PHOTOS),
            photo_profile: gradphoto_aws::photo_profile_from_env()?,
        })
    }

    pub fn api_config(&self) -> Config {
        let mut c = Config { token_secret: self.token_secret.clone(), rules: Rules::for_profile(self.photo_profile), ..Config::default() };
        if let Some(ttl) = self.upload_ttl {
            c.upload_ttl = ttl;
        }
        if let Some(max) = self.max_photo_bytes {
            c.rules.max_bytes = max;
        }
        c.export_max_photos = Some(self.export_max_photos as usize);
        // One Lambda instance serves one request at a time, so the in-process limiter never
        // trips; overload is shed by API Gateway throttling and reserved concurrency instead.
        c
    }
}
