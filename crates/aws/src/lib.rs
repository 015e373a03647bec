//! gradphoto's AWS adapters: `Records` on one DynamoDB table ([`DynamoRecords`]) and
//! `PhotoStore` on one S3 bucket ([`S3PhotoStore`]), plus the settings every Lambda reads once
//! per cold start.

pub mod dynamo;
pub mod keys;
pub mod s3;
pub mod schema;
pub mod testing;

pub use dynamo::DynamoRecords;
pub use s3::S3PhotoStore;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("PHOTO_PROFILE must be ga461 or xuexin, not {0:?}")]
    PhotoProfile(String),
}

/// `PHOTO_PROFILE`: the ID-photo style whose bands every function's photo rules use (check-photo
/// judges with them, the uploads function's crop suggestion aims for them); unset is GA 461.
pub fn photo_profile_from_env() -> Result<gradphoto_core::photo::Profile, SettingsError> {
    let name = std::env::var("PHOTO_PROFILE").unwrap_or_default();
    gradphoto_core::photo::Profile::parse(&name).ok_or(SettingsError::PhotoProfile(name))
}

/// Where the adapters live; read from the environment that `template.yaml` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `TABLE_NAME`
    pub table: String,
    /// `BUCKET_NAME`
    pub bucket: String,
    /// `S3_FORCE_PATH_STYLE=1|true`: needed for moto/LocalStack on a bare host:port endpoint.
    /// The endpoint itself comes from aws-config's own `AWS_ENDPOINT_URL` (or the per-service
    /// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_DYNAMODB`).
    pub force_path_style: bool,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |k: &'static str| std::env::var(k).ok().filter(|v| !v.is_empty()).ok_or(SettingsError::Missing(k));
        Ok(Self {
            table: var("TABLE_NAME")?,
            bucket: var("BUCKET_NAME")?,
            force_path_style: std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
        })
    }
}

/// Both adapters, built from one shared SDK configuration. Build once per cold start.
#[derive(Clone, Debug)]
pub struct Adapters {
    pub records: DynamoRecords,
    pub store: S3PhotoStore,
}

impl Adapters {
    /// Loads credentials/region/endpoint the standard way (Lambda's environment, profiles,
    /// `AWS_ENDPOINT_URL`), then builds the clients.
    pub async fn from_env(settings: &Settings) -> Self {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::from_sdk_config(&sdk, settings)
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, settings: &Settings) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        Self { records: DynamoRecords::new(dynamo, &settings.table), store: S3PhotoStore::new(s3_client(sdk, settings.force_path_style), &settings.bucket) }
    }
}

/// The S3 client. Checksums only when an operation requires them: with the SDK's default
/// (`WhenSupported`) a presigned PUT would carry a CRC32 of the empty body it was signed with
/// and S3 would refuse the browser's real bytes.
pub fn s3_client(sdk: &aws_config::SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
