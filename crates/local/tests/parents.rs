//! Parents (家长), black-box against the real server: personal codes issued by the school, the
//! parent's login and its limits, and a parent token that reaches exactly one student — tried
//! on every route of the API, not a sample.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Read;

const SECRET: &str = "parents-test-secret-0123456789abcdefghijklmnop";

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn parent_login(app: &App, student_id: &str, code: &str) -> (StatusCode, Value) {
    json_of(app.client.post(app.at("/api/parent/sessions")).json(&json!({"student_id": student_id, "code": code})).send().await.unwrap()).await
}

async fn codes_for(app: &App, teacher: &str, body: Value) -> Vec<Value> {
    let (status, v) = json_of(app.post(teacher, "/api/school/parent-codes", body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["codes"].as_array().unwrap().clone()
}

async fn parent_upload(app: &App, token: &str, bytes: Vec<u8>) -> StatusCode {
    let (status, v) = json_of(app.post(token, "/api/parent/uploads", json!({"size": bytes.len(), "content_type": "image/jpeg"})).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    app.put_grant(&v["upload"], bytes).await.status()
}

async fn parent_settled(app: &App, token: &str) -> Value {
    for _ in 0..1200 {
        let v: Value = app.get(token, "/api/parent/student").await.json().await.unwrap();
        if v["status"] != "uploaded" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the parent's photo is still being checked after 30 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parent_uploads_and_follows_their_own_child_only() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_path = log.path().to_str().unwrap().to_owned();
    let app = App::spawn_with(&[], &[("GRADPHOTO_TOKEN_SECRET", SECRET), ("GRADPHOTO_TEST_LOG", &log_path)]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "家长中学", "junior", "PA", 4).await;
    let other = app.school(&bureau, "别校", "junior", "PB", 1).await;
    let t = &school.token;

    // Codes: a selection, a class, the whole school; refusals.
    let one = codes_for(&app, t, json!({"student_ids": [school.ids[0]]})).await;
    assert_eq!(one.len(), 1);
    let code = one[0]["code"].as_str().unwrap().to_owned();
    assert!(code.len() == 11 && code.chars().nth(5) == Some('-'), "{code}");
    assert!(code.chars().filter(|c| *c != '-').all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)), "{code}");
    let class = codes_for(&app, t, json!({"class": "2班"})).await;
    assert!(!class.is_empty() && class.iter().all(|c| c["class"] == "2班"));
    assert_eq!(codes_for(&app, &other.token, json!({})).await.len(), 1, "the whole school");
    assert_eq!(error_code(app.post(t, "/api/school/parent-codes", json!({"student_ids": [other.ids[0]]})).await).await, (StatusCode::NOT_FOUND, "unknown_student".into()));
    assert_eq!(error_code(app.post(t, "/api/school/parent-codes", json!({"class": "99班"})).await).await, (StatusCode::BAD_REQUEST, "unknown_class".into()));

    // Login: an unknown id and a wrong code answer alike; typed codes ignore case and dash.
    let (s1, v1) = parent_login(&app, &school.ids[0], "ABCDE-FGHJK").await;
    let (s2, v2) = parent_login(&app, "NOSUCH99", "ABCDE-FGHJK").await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(v1["error"], v2["error"], "ids cannot be probed");
    let (status, v) = parent_login(&app, &school.ids[0], &code.to_lowercase().replace('-', " ")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["role"].as_str(), v["student"]["student_id"].as_str(), v["student"]["school"].as_str()), (Some("parent"), Some(school.ids[0].as_str()), Some("家长中学")));
    let parent = v["token"].as_str().unwrap().to_owned();

    // Upload (refused as a teacher's would be), the teacher sees who uploaded, no change before review.
    for (body, want) in [(json!({"size": 20000, "content_type": "image/png"}), "bad_type"), (json!({"size": 10, "content_type": "image/jpeg"}), "too_small"), (json!({"size": 9_000_000, "content_type": "image/jpeg"}), "too_large")] {
        let (status, v) = json_of(app.post(&parent, "/api/parent/uploads", body).await).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some(want)), "{v}");
    }
    assert_eq!(parent_upload(&app, &parent, good_photo()).await, StatusCode::OK);
    let mine = parent_settled(&app, &parent).await;
    assert_eq!((mine["status"].as_str(), mine["uploaded_by"].as_str()), (Some("pending_review"), Some("parent")), "{mine}");
    assert!(mine["photo_url"].is_string());
    let (status, v) = json_of(app.post(&parent, "/api/parent/uploads", json!({"size": 20000, "content_type": "image/jpeg"})).await).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_uploaded")));
    let roster: Value = app.get(t, "/api/students?uploaded_by=parent").await.json().await.unwrap();
    assert_eq!(roster["students"].as_array().unwrap().len(), 1);
    let csv = app.get(t, "/api/students.csv").await.text().await.unwrap();
    assert!(csv.lines().any(|l| l.starts_with(&school.ids[0]) && l.ends_with(",家长")), "{csv}");

    // A parent token reaches exactly one student: every other route refuses it.
    let every_route = routes_of_the_api();
    let allowed: BTreeSet<(&str, &str)> = [("GET", "/api/parent/student"), ("POST", "/api/parent/uploads"), ("POST", "/api/parent/appeal"), ("POST", "/api/photo/crop-suggestion")].into();
    let public: BTreeSet<&str> = ["/api/window", "/api/registration/verify", "/api/registration", "/api/sessions", "/api/parent/sessions"].into();
    let mut tried = 0;
    for (method, path) in &every_route {
        if allowed.contains(&(method.as_str(), path.as_str())) || public.contains(path.as_str()) {
            continue;
        }
        let concrete = path.replace("{student_id}", &school.ids[0]);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.client.request(m, app.at(&concrete)).bearer_auth(&parent).json(&json!({})).send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED, "{method} {concrete} answered {status} to a parent: {body}");
        assert!(!body.contains("家长中学") && !body.contains(&school.ids[1]), "{method} {concrete} leaked data: {body}");
        tried += 1;
    }
    assert!(tried >= 20, "tried {tried} routes");
    // Tampered and expired tokens.
    let mut tampered = parent.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(app.get(&tampered, "/api/parent/student").await.status(), StatusCode::UNAUTHORIZED);
    let now = chrono::Utc::now().timestamp();
    let expired = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": format!("parent:{}", school.ids[0]), "role": "parent", "student_id": school.ids[0], "cv": 1, "iat": now - 7200, "exp": now - 60}),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(app.get(&expired, "/api/parent/student").await.status(), StatusCode::UNAUTHORIZED);
    let forged_other = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "parent:x", "role": "parent", "student_id": school.ids[1], "cv": 99, "iat": now, "exp": now + 600}),
        &EncodingKey::from_secret(b"guessed"),
    )
    .unwrap();
    assert_eq!(app.get(&forged_other, "/api/parent/student").await.status(), StatusCode::UNAUTHORIZED);

    // After approval, no upload; a new code ends the old session.
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev_pa", "password": "review123"})).await;
    let rev = app.token("rev_pa", "review123").await;
    let (status, _) = json_of(app.post(&rev, &format!("/api/review/{}", school.ids[0]), json!({"decision": "approve", "photo_id": mine["photo_id"]})).await).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = json_of(app.post(&parent, "/api/parent/uploads", json!({"size": 20000, "content_type": "image/jpeg"})).await).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_uploaded")), "no upload after approval");
    let renewed = codes_for(&app, t, json!({"student_ids": [school.ids[0]]})).await;
    assert_eq!(app.get(&parent, "/api/parent/student").await.status(), StatusCode::UNAUTHORIZED, "the old code's session ends");
    assert_eq!(parent_login(&app, &school.ids[0], &code).await.0, StatusCode::UNAUTHORIZED, "the old code no longer works");
    let new_code = renewed[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(parent_login(&app, &school.ids[0], &new_code).await.0, StatusCode::OK);

    // The codes never reach the audit, the exports or the log.
    let audit = app.get(&bureau, &format!("/api/admin/students/{}/audit", school.ids[0])).await.text().await.unwrap();
    assert!(audit.contains(&format!("parent:{}", school.ids[0])), "the audit names the parent as uploader: {audit}");
    let zip = app.get(&bureau, &format!("/api/admin/export?school_id={}", school.school_id)).await.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    let csv = app.get(t, "/api/students.csv").await.text().await.unwrap();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains("parent codes issued"), "the log is being read");
    for c in [&code, &new_code] {
        let bare = c.replace('-', "");
        for (what, text) in [("audit", &audit), ("manifest", &manifest), ("roster CSV", &csv), ("log", &logged)] {
            assert!(!text.contains(c.as_str()) && !text.contains(&bare), "a parent code appears in the {what}");
        }
    }

    // The bureau switches parents off: logins and sessions answer parents_disabled.
    let parent = parent_login(&app, &school.ids[0], &new_code).await.1["token"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive();
    let r = app.client.put(app.at("/api/admin/campaign")).bearer_auth(&bureau).json(&json!({
        "name": "测试活动", "starts_on": (today - chrono::Duration::days(2)).to_string(), "ends_on": (today + chrono::Duration::days(30)).to_string(),
        "daily_open": "00:00", "daily_close": "24:00", "timezone": "Asia/Shanghai", "parents_enabled": false})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(error_code(app.get(&parent, "/api/parent/student").await).await, (StatusCode::FORBIDDEN, "parents_disabled".into()));
    let (status, v) = parent_login(&app, &school.ids[0], &new_code).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("parents_disabled")));
    drop(log);
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_codes_is_throttled_per_pair_and_per_client() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "限流中学", "junior", "TH", 3).await;
    let codes = codes_for(&app, &school.token, json!({})).await;
    let code_of = |id: &str| codes.iter().find(|c| c["student_id"] == id).unwrap()["code"].as_str().unwrap().to_owned();
    let (a, b) = (&school.ids[0], &school.ids[1]);
    // Five wrong guesses for one student lock the pair, even against the right code; a burst in
    // parallel gets the limit, not one each.
    let guesses: Vec<_> = (0..8).map(|_| parent_login(&app, a, "22222-22222")).collect();
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 3, "{statuses:?}");
    let (status, v) = parent_login(&app, a, &code_of(a)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("分钟后再试"));
    // Another student from the same client is not locked by that pair.
    assert_eq!(parent_login(&app, b, &code_of(b)).await.0, StatusCode::OK);
    // Guessing across many ids from one client stops at the per-client cap (50 failures).
    let mut refused_at = None;
    for k in 0..60 {
        let (status, _) = parent_login(&app, &format!("GUESS{k:03}"), "33333-33333").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(k);
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // 5 failures (the pair above) + 45 here reach 50.
    assert_eq!(refused_at, Some(45), "the per-client cap counts every failure from this client");
    let c = &school.ids[2];
    assert_eq!(parent_login(&app, c, &code_of(c)).await.0, StatusCode::TOO_MANY_REQUESTS, "this client is throttled for any id");
    // The limits' keys never collide with school accounts: the teacher still logs in.
    assert_eq!(app.login(&school.username, "teach123").await.status(), StatusCode::OK);
}
