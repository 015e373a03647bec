//! The filters of API.md driven over HTTP (the contract suite covers them per backend): the
//! roster's `class`/`status` (JSON and CSV), the review queue's `school_id`/`district`, and the
//! window before a campaign starts.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(v: &Value, list: &str) -> Vec<String> {
    v[list].as_array().unwrap().iter().map(|s| s["student_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn roster_and_queue_filters_select_exactly_their_students() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    // Classes cycle 1班, 2班, 3班, 1班.
    let a = app.school(&bureau, "九中", "senior", "K", 4).await;
    let b = app.school(&bureau, "十中", "senior", "L", 1).await;
    assert_eq!(app.upload(&a.token, "K0001", good_photo()).await, StatusCode::OK);
    let mut not_a_photo = b"this is not a photo ".repeat(400);
    not_a_photo.truncate(7000);
    assert_eq!(app.upload(&a.token, "K0002", not_a_photo).await, StatusCode::OK);
    assert_eq!(app.upload(&b.token, "L0001", good_photo_2()).await, StatusCode::OK);
    assert_eq!(app.settled(&a.token, "K0001").await["status"], "pending_review");
    assert_eq!(app.settled(&a.token, "K0002").await["status"], "rejected");
    assert_eq!(app.settled(&b.token, "L0001").await["status"], "pending_review");

    let list = |q: &'static str| {
        let (app, token) = (&app, a.token.clone());
        async move { ids(&app.get(&token, &format!("/api/students{q}")).await.json::<Value>().await.unwrap(), "students") }
    };
    assert_eq!(list("?status=pending_review").await, ["K0001"]);
    assert_eq!(list("?status=rejected").await, ["K0002"]);
    assert_eq!(list("?status=not_uploaded").await, ["K0004", "K0003"], "ordered by class, then id");
    assert_eq!(list("?class=1班&status=not_uploaded").await, ["K0004"]);
    assert_eq!(list("?class=1班").await, ["K0001", "K0004"]);
    assert_eq!(list("?status=").await.len(), 4, "an empty filter is no filter");
    assert_eq!(error_code(app.get(&a.token, "/api/students?status=lost").await).await, (StatusCode::BAD_REQUEST, "bad_query".into()));

    let csv = app.get(&a.token, "/api/students.csv?status=rejected").await.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows.len(), 2, "header + the one rejected student: {csv}");
    assert!(rows[1].contains("K0002"), "{csv}");

    let queue = |q: String| {
        let (app, bureau) = (&app, bureau.clone());
        async move { ids(&app.get(&bureau, &format!("/api/review/queue{q}")).await.json::<Value>().await.unwrap(), "items") }
    };
    assert_eq!(queue(format!("?school_id={}", a.school_id)).await, ["K0001"]);
    assert_eq!(queue(format!("?school_id={}", b.school_id)).await, ["L0001"]);
    assert_eq!(queue("?district=测试区".into()).await.len(), 2);
    assert!(queue("?district=无此区".into()).await.is_empty());
    assert_eq!(queue("?limit=1".into()).await.len(), 1);
}

#[tokio::test]
async fn before_the_campaign_starts_schools_are_told_when_it_opens() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "十一中", "junior", "N", 1).await;
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    let r = app
        .client
        .put(app.at("/api/admin/campaign"))
        .bearer_auth(&bureau)
        .json(&json!({
            "name": "下一届", "starts_on": start.to_string(), "ends_on": (start + chrono::Duration::days(30)).to_string(),
            "daily_open": "06:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = app.client.get(app.at("/api/window")).send().await.unwrap().json().await.unwrap();
    assert_eq!((w["open"].as_bool(), w["phase"].as_str()), (Some(false), Some("not_started")), "{w}");
    let r = app.login(&school.username, "teach123").await;
    let (status, body): (StatusCode, Value) = (r.status(), r.json().await.unwrap());
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("window_closed")));
    let opens = start.format("%Y年%m月%d日 06:00").to_string();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&opens), "says when it opens ({opens}): {message}");
    // Staff work regardless.
    assert_eq!(app.get(&bureau, "/api/admin/progress").await.status(), StatusCode::OK);
}
