//! What every gradphoto Lambda shares: configuration from the environment `template.yaml` sets,
//! AWS clients built once per cold start, JSON logs for CloudWatch, and the two runners (an
//! HTTP area under `lambda_http`, the S3-triggered check under `lambda_runtime`).
//!
//! Each function crate's `main` is one call into here, so the functions stay thin and the code
//! they run is tested once.

pub mod check;
pub mod env;

pub use env::{EnvError, FunctionEnv};

use gradphoto_api::{AppState, Area};
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

/// Reads the environment and builds the clients and the app state: everything a cold start
/// does before the first event. Logs how long it took (the init time in docs/aws.md).
pub async fn cold_start(function: &'static str) -> Result<(FunctionEnv, AppState), Error> {
    let started = Instant::now();
    let env = FunctionEnv::from_env()?;
    let adapters = gradphoto_aws::Adapters::from_env(&env.aws).await;
    let state = AppState::new(Arc::new(adapters.records), Arc::new(adapters.store), Arc::new(SystemClock), env.api_config());
    tracing::info!(function, init_ms = started.elapsed().as_secs_f64() * 1000.0, "cold start: clients and config ready");
    Ok((env, state))
}

/// Runs one area of the HTTP API under `lambda_http` (API Gateway HTTP API, payload v2).
pub async fn run_http(function: &'static str, area: Area) -> Result<(), Error> {
    init_tracing();
    let (_, state) = cold_start(function).await?;
    lambda_http::run(http_app(area, state)).await
}

/// The router one HTTP function serves: its area of the API with the shared layers.
pub fn http_app(area: Area, state: AppState) -> axum::Router {
    gradphoto_api::finish(gradphoto_api::area_router(area), state)
}

/// Runs the S3 ObjectCreated handler under `lambda_runtime`.
pub async fn run_check_photo() -> Result<(), Error> {
    init_tracing();
    let (env, state) = cold_start("check-photo").await?;
    let handler = Arc::new(check::CheckPhoto::new(state, env.aws.bucket.clone()));
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<aws_lambda_events::s3::S3Event>| {
        let handler = handler.clone();
        async move { handler.handle(event.payload).await.map_err(Error::from) }
    }))
    .await
}
