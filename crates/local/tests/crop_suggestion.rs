//! 自动裁剪 over HTTP, against the real server: `POST /api/photo/crop-suggestion` for a
//! teacher and a parent, every hostile body a clear 4xx with a stable code (never a 500),
//! nothing stored by a suggestion, and an upload made from one marked for the reviewer.

mod common;

use common::*;
use gradphoto_core::Stage;
use gradphoto_core::photo::{Rules, crop};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;

fn studio(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/studio").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("studio original {} missing: {e}", p.display()))
}

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

async fn suggest(app: &App, token: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.at("/api/photo/crop-suggestion"))
        .bearer_auth(token)
        .header("content-type", "image/jpeg")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the suggestion request failed: {e:?}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Every file under the data folder's photos, so a test can say nothing was stored.
fn stored_files(app: &App) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p).map_or(0, |d| d.map(|e| e.unwrap().path()).map(|p| if p.is_dir() { walk(&p) } else { 1 }).sum())
    }
    walk(&app.data.path().join("photos"))
}

/// A JPEG header that claims `w`×`h` (the scan is junk): what a bomb looks like.
fn header_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut f = vec![0xFF, 0xD8];
    f.extend_from_slice(&[0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 1, 1, 44, 1, 44, 0, 0]);
    f.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
    f.extend_from_slice(&h.to_be_bytes());
    f.extend_from_slice(&w.to_be_bytes());
    f.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    f.extend_from_slice(&[0xFF, 0xD9]);
    f
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_gets_the_crop_and_uploads_it_marked() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "裁剪中学", "senior", "CR", 2).await;
    let t = &school.token;

    let original = studio("browser_1.jpg");
    let (status, s) = suggest(&app, t, original.clone()).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let c = &s["crop"];
    let (x, y, w, h) = (c["x"].as_i64().unwrap(), c["y"].as_i64().unwrap(), c["w"].as_i64().unwrap(), c["h"].as_i64().unwrap());
    assert!((w * 354 - h * 272).abs() <= 354, "272:354 within a pixel: {s}");
    assert!(x >= 0 && y >= 0 && x + w <= s["width"].as_i64().unwrap() && y + h <= s["height"].as_i64().unwrap(), "inside: {s}");
    assert_eq!(s["findings"], json!([]), "{s}");
    assert!((s["scale"].as_f64().unwrap() - 272.0 / w as f64).abs() < 1e-3, "{s}");

    // The page renders the crop; here the same function the CLI uses does. Uploaded with the
    // mark, it reaches the reviewer as auto-cropped, and the audit says so.
    let (_, cropped) = crop::crop(&original, Stage::Senior, &Rules::default()).unwrap();
    let r = app
        .post(t, "/api/uploads", json!({"files": [{"student_id": school.ids[0], "size": cropped.len(), "auto_cropped": true}], "content_type": "image/jpeg"}))
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(app.put_grant(&v["uploads"][0], cropped).await.status(), StatusCode::OK);
    let record = app.settled(t, &school.ids[0]).await;
    assert_eq!((record["status"].as_str(), record["auto_cropped"].as_bool()), (Some("pending_review"), Some(true)), "{record}");
    assert_eq!(app.upload(t, &school.ids[1], good_photo()).await, StatusCode::OK);
    let plain = app.settled(t, &school.ids[1]).await;
    assert_eq!(plain["auto_cropped"], json!(false), "{plain}");
    let audit: Value = app.get(&bureau, &format!("/api/admin/students/{}/audit", school.ids[0])).await.json().await.unwrap();
    assert!(audit.to_string().contains("自动裁剪"), "{audit}");
    let r = app.post(&bureau, "/api/admin/accounts", json!({"role": "reviewer", "username": "crop_rev", "password": "review-2026-x"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let reviewer = app.token("crop_rev", "review-2026-x").await;
    let queue: Value = app.get(&reviewer, "/api/review/queue").await.json().await.unwrap();
    let marks: Vec<(String, bool)> =
        queue["items"].as_array().unwrap().iter().map(|i| (i["student_id"].as_str().unwrap().to_owned(), i["auto_cropped"].as_bool().unwrap())).collect();
    assert!(marks.contains(&(school.ids[0].clone(), true)) && marks.contains(&(school.ids[1].clone(), false)), "{queue}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_originals_are_refused_with_a_code_and_nothing_is_stored() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "坏文件中学", "junior", "HB", 1).await;
    let t = &school.token;
    let scenery = {
        // A landscape-sized JPEG with no person: the valid photo's corner, tiled.
        let photo = image::load_from_memory(&corpus("astronaut_valid.jpg")).unwrap().to_rgb8();
        let sky = image::imageops::crop_imm(&photo, 0, 0, 40, 40).to_image();
        let big = image::imageops::resize(&sky, 800, 600, image::imageops::FilterType::Triangle);
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&big).unwrap();
        out
    };
    let png = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photos/not-a-jpeg.png")).unwrap();
    let mut five_mib = corpus("obama_valid.jpg");
    five_mib.resize(5 * 1024 * 1024, 0);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("junk", b"hello, this is not a photograph".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "not_jpeg"),
        ("PNG", png, StatusCode::UNPROCESSABLE_ENTITY, "not_jpeg"),
        ("60000×60000 header", header_claiming(60000, 60000), StatusCode::UNPROCESSABLE_ENTITY, "original_too_large"),
        ("5 MiB", five_mib, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ("scenery", scenery, StatusCode::UNPROCESSABLE_ENTITY, "no_face"),
        ("two people", corpus("two_people_side_by_side.jpg"), StatusCode::UNPROCESSABLE_ENTITY, "multiple_faces"),
        ("empty", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "not_jpeg"),
    ];
    for (what, body, want_status, want_code) in cases {
        let (status, v) = suggest(&app, t, body).await;
        assert_eq!((status, v["error"]["code"].as_str()), (want_status, Some(want_code)), "{what}: {v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{what}: a Chinese message: {message}");
    }
    assert_eq!(stored_files(&app), 0, "a suggestion stores nothing");
    let record: Value = app.get(t, &format!("/api/students/{}", school.ids[0])).await.json().await.unwrap();
    assert_eq!(record["status"], "not_uploaded");

    // Who may ask: a teacher or a parent, nobody else; the window applies.
    assert_eq!(error_code(app.client.post(app.at("/api/photo/crop-suggestion")).body(studio("browser_1.jpg")).send().await.unwrap()).await.0, StatusCode::UNAUTHORIZED);
    let (status, v) = suggest(&app, &bureau, studio("browser_1.jpg")).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{v}");
    let codes: Value = app.post(t, "/api/school/parent-codes", json!({})).await.json().await.unwrap();
    let code = codes["codes"][0]["code"].as_str().unwrap();
    let login: Value =
        app.client.post(app.at("/api/parent/sessions")).json(&json!({"student_id": school.ids[0], "code": code})).send().await.unwrap().json().await.unwrap();
    let parent = login["token"].as_str().unwrap().to_owned();
    let (status, v) = suggest(&app, &parent, studio("browser_2.jpg")).await;
    assert_eq!(status, StatusCode::OK, "a parent may ask: {v}");
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let closed = json!({"name": "已结束", "starts_on": (today - chrono::Duration::days(30)).to_string(), "ends_on": (today - chrono::Duration::days(1)).to_string(), "daily_open": "06:00", "daily_close": "24:00"});
    let r = app.client.put(app.at("/api/admin/campaign")).bearer_auth(&bureau).json(&closed).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (status, v) = suggest(&app, t, studio("browser_1.jpg")).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("window_closed")), "{v}");
}
