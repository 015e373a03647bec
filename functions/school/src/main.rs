//! GET /api/school and /api/students*: a school's roster, records and CSV.
//! API Gateway routes only this function's paths here; the router is `gradphoto_api`'s.

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_http("school", gradphoto_api::Area::School).await
}
