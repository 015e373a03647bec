//! The API Gateway v2 fixtures in `events/`, parsed by lambda_http exactly as the runtime does,
//! served by each function's router (`http_app`, what `run_http` runs), against DynamoDB and S3
//! on moto — chained into one teacher journey: register, log in, get an upload URL, PUT the
//! photo to it, let check-photo handle the S3 event, review it.

use aws_lambda_events::s3::S3Event;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gradphoto_api::{AppState, Area, Config};
use gradphoto_aws::testing;
use gradphoto_core::ports::{Clock, PhotoStore, Records};
use gradphoto_core::*;
use gradphoto_lambda::check::{CheckPhoto, Handled};
use gradphoto_functions::http_app;
use lambda_http::{Body, IntoResponse};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

const GOOD_PHOTO: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/core/tests/corpus/astronaut_valid.jpg"));

struct Fixed(DateTime<Utc>);
impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn fixture(name: &str) -> String {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs one fixture (with the bearer token substituted) through `area`'s router, the way
/// lambda_http would: event JSON → Request → router → lambda_http response body.
async fn invoke(state: &AppState, area: Area, name: &str, token: Option<&str>) -> (u16, Value) {
    let mut json = fixture(name);
    if let Some(t) = token {
        json = json.replace("REPLACE_WITH_A_TOKEN_FROM_POST_/api/sessions", t);
    }
    let request = lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name} is not an API Gateway v2 event: {e}"));
    let response = http_app(area, state.clone()).oneshot(request).await.unwrap();
    let response = response.into_response().await;
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t.as_str()).unwrap_or_else(|_| Value::String(t.clone())),
        Body::Binary(b) => Value::String(format!("<{} binary bytes>", b.len())),
        Body::Empty => Value::Null,
        _ => Value::Null,
    };
    (status, body)
}

#[tokio::test]
async fn every_http_fixture_runs_through_its_function_in_one_journey() {
    let adapters = testing::fresh().await;
    // 10:00 in Shanghai on a campaign day: the upload window is open.
    let now = Utc.with_ymd_and_hms(2025, 6, 2, 2, 0, 0).unwrap();
    let state = AppState::new(
        Arc::new(adapters.records.clone()),
        Arc::new(adapters.store.clone()),
        Arc::new(Fixed(now)),
        Config { token_secret: b"0123456789abcdef0123456789abcdef".to_vec(), ..Config::default() },
    );
    let r = &adapters.records;
    r.put_campaign(&Campaign {
        name: "2025 届毕业生证件照".into(),
        starts_on: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        daily_open: DailyTime::parse("06:00").unwrap(),
        daily_close: DailyTime::parse("24:00").unwrap(),
        timezone: "Asia/Shanghai".parse().unwrap(),
        review_policy: Default::default(),
        parents_enabled: true,
    })
    .await
    .unwrap();
    r.insert_schools(&[testing::fixture_school()]).await.unwrap();
    r.import_roster(&[RosterRow { school_id: "sch-1".into(), student_id: StudentId::parse("G2025001").unwrap(), name: "张三".into(), class: "高三(1)班".into() }])
        .await
        .unwrap();

    // window function
    let (st, body) = invoke(&state, Area::Public, "http-window.json", None).await;
    assert_eq!((st, body["open"].as_bool()), (200, Some(true)), "{body}");

    // registration function: verify, register, log in
    let (st, body) = invoke(&state, Area::Public, "http-registration-verify.json", None).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["school"], "上海市建平中学");
    let (st, body) = invoke(&state, Area::Public, "http-registration.json", None).await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = invoke(&state, Area::Public, "http-sessions.json", None).await;
    assert_eq!((st, body["role"].as_str()), (200, Some("school")), "{body}");
    let teacher = body["token"].as_str().unwrap().to_owned();

    // school function
    let (st, body) = invoke(&state, Area::School, "http-school.json", Some(&teacher)).await;
    assert_eq!((st, body["school_id"].as_str()), (200, Some("sch-1")), "{body}");
    assert_eq!(body["counts"]["not_uploaded"], 1);
    let (st, body) = invoke(&state, Area::School, "http-students.json", None).await;
    assert_eq!((st, body["error"]["code"].as_str()), (401, Some("unauthenticated")), "no token: {body}");
    let (st, body) = invoke(&state, Area::School, "http-students.json", Some(&teacher)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["students"].as_array().map(Vec::len), Some(0), "class 高三(1)班 has nobody rejected: {body}");

    // uploads function: 自动裁剪 of a studio original sent as API Gateway sends a binary body
    let (st, body) = invoke(&state, Area::School, "http-crop-suggestion.json", Some(&teacher)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!((body["width"].as_u64(), body["height"].as_u64(), body["findings"].as_array().map(Vec::len)), (Some(295), Some(413), Some(0)), "{body}");
    let (w, h) = (body["crop"]["w"].as_i64().unwrap(), body["crop"]["h"].as_i64().unwrap());
    assert!((w * 354 - h * 272).abs() <= 354, "{body}");

    // uploads function: a presigned PUT that signs size and type
    let (st, body) = invoke(&state, Area::School, "http-uploads.json", Some(&teacher)).await;
    assert_eq!(st, 200, "{body}");
    let up = &body["uploads"][0];
    let url = up["url"].as_str().unwrap();
    assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"), "{url}");
    let mut put = reqwest::Client::new().put(url).body(GOOD_PHOTO.to_vec());
    for (k, v) in up["headers"].as_object().unwrap() {
        put = put.header(k, v.as_str().unwrap());
    }
    assert!(put.send().await.unwrap().status().is_success());

    // check-photo function: the fixture's S3 event, naming the object just PUT
    let key = url.split('?').next().unwrap().split_once(&format!("/{}/", adapters.store.bucket())).unwrap().1.to_owned();
    let mut event: S3Event = serde_json::from_str(&fixture("s3-object-created.json")).unwrap();
    event.records[0].s3.bucket.name = Some(adapters.store.bucket().to_owned());
    event.records[0].s3.object.key = Some(key);
    let checker = CheckPhoto::new(state.records.clone(), state.store.clone(), state.clock.clone(), state.config.rules.clone(), adapters.store.bucket().to_owned());
    assert_eq!(checker.handle(event).await.unwrap(), [Handled::Decided(Status::PendingReview)]);

    // review function
    let reviewer = gradphoto_api::auth::issue_token(&state, "rev1", Role::Reviewer, None).unwrap();
    let (st, body) = invoke(&state, Area::Review, "http-review-queue.json", Some(&reviewer)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["items"][0]["student_id"], "G2025001");
    assert!(body["items"][0]["photo_url"].as_str().is_some_and(|u| u.contains("X-Amz-Signature")));
    let (st, body) = invoke(&state, Area::Review, "http-review-decide.json", Some(&reviewer)).await;
    assert_eq!((st, body["status"].as_str()), (200, Some("rejected")), "{body}");
    let (st, body) = invoke(&state, Area::Review, "http-review-decide.json", Some(&reviewer)).await;
    assert_eq!((st, body["error"]["code"].as_str()), (409, Some("not_pending")), "{body}");

    // admin function
    let bureau = gradphoto_api::auth::issue_token(&state, "bureau1", Role::Bureau, None).unwrap();
    let (st, body) = invoke(&state, Area::Admin, "http-admin-progress.json", Some(&bureau)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["schools"][0]["counts"]["rejected"], 1, "{body}");
    assert_eq!(body["schools"][0]["registered"], true);
    let (st, body) = invoke(&state, Area::Admin, "http-admin-schools.json", Some(&bureau)).await;
    assert_eq!(st, 201, "{body}");
    // A stored export: the ZIP goes to the bucket, the answer is a link (API Gateway's 6 MB cap).
    let (st, body) = invoke(&state, Area::Admin, "http-admin-export.json", Some(&bureau)).await;
    assert_eq!((st, body["photos"].as_u64()), (201, Some(0)), "the one photo was rejected: {body}");
    let link = body["download_url"].as_str().unwrap();
    assert!(link.contains("X-Amz-Signature") && link.contains("response-content-disposition"), "{link}");
    let key = format!("exports/{}", body["file"].as_str().unwrap());
    assert_eq!(adapters.store.list("exports/").await.unwrap(), [key], "stored under exports/");
    let (st, _) = invoke(&state, Area::Admin, "http-admin-progress.json", Some(&teacher)).await;
    assert_eq!(st, 403, "a teacher is not the bureau");

    // CSV downloads keep their UTF-8 BOM through lambda_http (Excel needs it to read Chinese).
    let csv_event = fixture("http-students.json").replace("\"rawPath\": \"/api/students\"", "\"rawPath\": \"/api/students.csv\"").replace("REPLACE_WITH_A_TOKEN_FROM_POST_/api/sessions", &teacher);
    let request = lambda_http::request::from_str(&csv_event).unwrap();
    let response = http_app(Area::School, state.clone()).oneshot(request).await.unwrap().into_response().await;
    let declared: Option<usize> = response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let bytes: Vec<u8> = match response.body() {
        Body::Text(t) => t.as_bytes().to_vec(),
        Body::Binary(b) => b.clone(),
        _ => Vec::new(),
    };
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM kept: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
    assert!(declared.is_none_or(|n| n == bytes.len()), "content-length {declared:?} matches the body's {} bytes", bytes.len());

    // registration function: parents' login limits count API Gateway's source IP per client.
    for _ in 0..5 {
        let (st, body) = invoke(&state, Area::Public, "http-parent-sessions.json", None).await;
        assert_eq!((st, body["error"]["code"].as_str()), (401, Some("bad_credentials")), "{body}");
    }
    let (st, body) = invoke(&state, Area::Public, "http-parent-sessions.json", None).await;
    assert_eq!((st, body["error"]["code"].as_str()), (429, Some("too_many_attempts")), "the sixth guess from 203.0.113.7: {body}");
    let other_client = fixture("http-parent-sessions.json").replace("203.0.113.7", "198.51.100.9");
    let request = lambda_http::request::from_str(&other_client).unwrap();
    let response = http_app(Area::Public, state.clone()).oneshot(request).await.unwrap().into_response().await;
    assert_eq!(response.status().as_u16(), 401, "another client is not locked by that pair");
    assert_eq!(r.schools().await.unwrap().len(), 3);
}
