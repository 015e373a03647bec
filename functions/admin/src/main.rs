//! /api/admin/*: campaign, schools, rosters, reviewers, progress, export.
//! API Gateway routes only this function's paths here; the router is `gradphoto_api`'s.

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_http("admin", gradphoto_api::Area::Admin).await
}
