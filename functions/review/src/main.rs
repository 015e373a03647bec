//! GET /api/review/* and POST /api/review/{id}: the reviewer console.
//! API Gateway routes only this function's paths here; the router is `gradphoto_api`'s.

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_http("review", gradphoto_api::Area::Review).await
}
