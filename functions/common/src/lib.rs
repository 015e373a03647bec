//! What every HTTP gradphoto Lambda shares: configuration from the environment `template.yaml`
//! sets, AWS clients built once per cold start, and the runner of an HTTP area under
//! `lambda_http`. JSON logs and the S3-triggered check are in `gradphoto-lambda`, which
//! check-photo uses alone so that it does not link the HTTP application.
//!
//! Each function crate's `main` is one call into here, so the functions stay thin and the code
//! they run is tested once.

pub mod env;

pub use env::{EnvError, FunctionEnv};

use gradphoto_api::{AppState, Area};
use gradphoto_core::ports::SystemClock;
use std::sync::Arc;
use std::time::Instant;

pub use gradphoto_lambda::{Error, init_tracing};

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

/// The router one HTTP function serves: its area of the API with the shared layers, and the
/// caller's source IP (API Gateway's request context) as `ClientAddr` for the login limits.
pub fn http_app(area: Area, state: AppState) -> axum::Router {
    gradphoto_api::finish(gradphoto_api::area_router(area), state)
        .layer(axum::middleware::map_request(with_client_addr))
        .layer(axum::middleware::map_response(csv_as_binary))
}

/// lambda_http sends `text/*` bodies to API Gateway as text decoded by encoding_rs, which drops
/// a UTF-8 BOM — and Excel needs the BOM to read Chinese. A CSV download is therefore sent as
/// bytes (base64 to API Gateway, which hands the browser the exact bytes); it stays an
/// attachment named `….csv`, which is how the pages and Excel open it.
async fn csv_as_binary(mut res: axum::response::Response) -> axum::response::Response {
    let is_csv = res.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv"));
    if is_csv {
        res.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/octet-stream"));
    }
    res
}

async fn with_client_addr<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    if let Some(ip) = ip {
        req.extensions_mut().insert(gradphoto_api::auth::ClientAddr(ip));
    }
    req
}
