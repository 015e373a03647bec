//! At peak load, answer 503 `busy` at once instead of queueing until clients time out.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Limiter {
    permits: Arc<Semaphore>,
    retry_after_secs: u64,
}

impl Limiter {
    pub fn new(max_in_flight: usize, retry_after_secs: u64) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_in_flight.max(1))), retry_after_secs }
    }
}

pub async fn shed(State(limiter): State<Limiter>, req: Request, next: Next) -> Response {
    match limiter.permits.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::Busy { retry_after_secs: limiter.retry_after_secs }.into_response(),
    }
}
