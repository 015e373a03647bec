//! What every gradphoto Lambda needs without the HTTP application: JSON logs for CloudWatch and
//! the S3-triggered photo check with its cold start. The HTTP functions add their routers on
//! top (`gradphoto-functions`); check-photo is this crate alone.

pub mod check;

use gradphoto_core::photo::Rules;
use gradphoto_core::ports::SystemClock;
use std::sync::Arc;
use std::time::Instant;

pub type Error = lambda_runtime::Error;

/// JSON lines, no ANSI colours, no local timestamps (CloudWatch stamps each line). The level
/// comes from Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) or `RUST_LOG`.
pub fn init_tracing() {
    use lambda_runtime::tracing::subscriber::{EnvFilter, fmt};
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_current_span(false)
        .with_env_filter(filter)
        .try_init();
}

#[derive(Debug, thiserror::Error)]
pub enum CheckEnvError {
    #[error(transparent)]
    Aws(#[from] gradphoto_aws::SettingsError),
    #[error("MAX_PHOTO_BYTES is not a number: {0:?}")]
    MaxPhotoBytes(String),
}

/// The photo rules as `template.yaml` configures them (`PHOTO_PROFILE`; `MAX_PHOTO_BYTES`, the
/// same value the upload function signs into every URL).
pub fn rules_from_env() -> Result<Rules, CheckEnvError> {
    let mut rules = Rules::for_profile(gradphoto_aws::photo_profile_from_env()?);
    if let Ok(v) = std::env::var("MAX_PHOTO_BYTES")
        && !v.trim().is_empty()
    {
        rules.max_bytes = v.trim().parse().map_err(|_| CheckEnvError::MaxPhotoBytes(v))?;
    }
    Ok(rules)
}

/// Runs the S3 ObjectCreated handler under `lambda_runtime`.
pub async fn run_check_photo() -> Result<(), Error> {
    init_tracing();
    let started = Instant::now();
    let settings = gradphoto_aws::Settings::from_env().map_err(CheckEnvError::from)?;
    let rules = rules_from_env()?;
    let adapters = gradphoto_aws::Adapters::from_env(&settings).await;
    let handler = Arc::new(check::CheckPhoto::new(Arc::new(adapters.records), Arc::new(adapters.store), Arc::new(SystemClock), rules, settings.bucket.clone()));
    tracing::info!(function = "check-photo", init_ms = started.elapsed().as_secs_f64() * 1000.0, "cold start: clients and config ready");
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<aws_lambda_events::s3::S3Event>| {
        let handler = handler.clone();
        async move { handler.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
