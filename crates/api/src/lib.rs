//! The HTTP contract (API.md) as axum routers over the ports. The embedded server merges them
//! all into one process; each AWS function runs one of them under `lambda_http`.

pub mod auth;
pub mod csv_io;
pub mod error;
pub mod export;
pub mod extract;
pub mod load_shed;
pub mod routes;
pub mod state;
pub mod stats_view;
pub mod view;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, Config};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The routers of each function, so a deployment can split them; `app` has them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Public,
    School,
    Review,
    Admin,
}

impl Area {
    pub const ALL: [Area; 4] = [Area::Public, Area::School, Area::Review, Area::Admin];
}

pub fn area_router(area: Area) -> Router<AppState> {
    match area {
        Area::Public => routes::public::router().merge(routes::parent::login_router()),
        Area::School => routes::school::router().merge(routes::parent::router()).merge(routes::photo::router()),
        Area::Review => routes::review::router(),
        Area::Admin => routes::admin::router(),
    }
}

/// Every area's routes, before the shared layers.
pub fn all_routes() -> Router<AppState> {
    Area::ALL.into_iter().fold(Router::new(), |router, area| router.merge(area_router(area)))
}

/// Every area of the API with the shared layers.
pub fn app(state: AppState) -> Router {
    finish(all_routes(), state)
}

/// The layers every deployment puts around its routes: JSON 404/405, body limit, no panic
/// reaching a client, and the "busy" answer past the concurrency limit.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    let limit = load_shed::Limiter::new(state.config.max_in_flight, state.config.busy_retry_after_secs);
    router
        // Unknown API paths answer JSON even when a deployment serves pages as its fallback.
        .route("/api/{*rest}", axum::routing::any(not_found))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        // Inside the limiter, so a request whose body times out gives its slot back.
        .layer(tower_http::timeout::RequestBodyDeadlineLayer::new(state.config.body_timeout))
        .layer(axum::middleware::from_fn_with_state(limit, load_shed::shed))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "没有这个页面或接口")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "不支持这种请求方式")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    error::envelope(StatusCode::INTERNAL_SERVER_ERROR, "internal", "系统内部错误，请稍后重试；如持续出现请联系客服").into_response()
}
