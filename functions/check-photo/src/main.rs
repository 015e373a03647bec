//! check-photo: the automatic photo check on each uploaded object.
//! Triggered by S3 ObjectCreated on `uploads/`; everything it does lives in
//! `gradphoto_lambda::check` (tested there). It links no HTTP application.

#[tokio::main]
async fn main() -> Result<(), gradphoto_lambda::Error> {
    gradphoto_lambda::run_check_photo().await
}
