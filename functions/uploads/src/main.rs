//! POST /api/uploads: upload tickets and presigned PUT URLs.
//! API Gateway routes only this function's paths here; the router is `gradphoto_api`'s.

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_http("uploads", gradphoto_api::Area::School).await
}
