//! check-photo: the automatic photo check on each uploaded object.
//! Triggered by S3 ObjectCreated on `uploads/`; everything it does lives in
//! `gradphoto_functions::check` (tested there).

#[tokio::main]
async fn main() -> Result<(), gradphoto_functions::Error> {
    gradphoto_functions::run_check_photo().await
}
