//! POST /api/registration{,/verify} and POST /api/sessions: accounts and logins.
//! API Gateway routes only this function's paths here; the router is `gradphoto_api`'s.

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_http("registration", gradphoto_api::Area::Public).await
}
