//! What must not happen: uploads outside the window, a server falling over at peak, two photos
//! for one student, a replayed or tampered URL changing a photo, a school seeing another's
//! data, password guessing, and bad input getting anything but a clear error.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn shanghai_now() -> chrono::DateTime<chrono_tz::Tz> {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
}

#[tokio::test]
async fn outside_the_window_schools_are_told_when_it_reopens_and_staff_keep_working() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "一中", "senior", "W", 2).await;

    // Daily hours that exclude the current Shanghai time: maintenance until the next opening.
    let now = shanghai_now();
    use chrono::Timelike;
    let (open, close) = if now.hour() < 12 { ("13:00", "23:00") } else { ("01:00", "11:00") };
    let today = now.date_naive();
    let campaign = json!({"name": "测试活动", "starts_on": (today - chrono::Duration::days(2)).to_string(),
        "ends_on": (today + chrono::Duration::days(30)).to_string(), "daily_open": open, "daily_close": close, "timezone": "Asia/Shanghai"});
    let r = app.client.put(app.at("/api/admin/campaign")).bearer_auth(&bureau).json(&campaign).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = app.client.get(app.at("/api/window")).send().await.unwrap().json().await.unwrap();
    assert_eq!(w["phase"], "maintenance");
    assert!(w["next_open_at"].as_str().unwrap().contains(&format!("T{open}:00+08:00")), "{w}");
    for path in ["/api/school", "/api/students", "/api/students.csv", "/api/students/W0001"] {
        let (status, code) = error_code(app.get(&school.token, path).await).await;
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "window_closed"), "{path}");
    }
    let r = app.post(&school.token, "/api/uploads", json!({"files": [{"student_id": "W0001", "size": 20000}], "content_type": "image/jpeg"})).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "window_closed");
    assert!(body["error"]["message"].as_str().unwrap().contains(open), "{body}");
    let (status, code) = error_code(app.login(&school.username, "teach123").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "window_closed"));
    // Bureau and reviewers are not windowed.
    assert_eq!(app.get(&bureau, "/api/admin/progress").await.status(), StatusCode::OK);
    assert_eq!(app.get(&bureau, "/api/review/queue").await.status(), StatusCode::OK);

    // After the last day: ended, no reopening.
    let ended = json!({"name": "测试活动", "starts_on": "2025-06-08", "ends_on": "2025-10-12", "daily_open": "06:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"});
    app.client.put(app.at("/api/admin/campaign")).bearer_auth(&bureau).json(&ended).send().await.unwrap();
    let w: Value = app.client.get(app.at("/api/window")).send().await.unwrap().json().await.unwrap();
    assert_eq!((w["phase"].as_str(), w["open"].as_bool(), w["next_open_at"].is_null()), (Some("ended"), Some(false), true));
}

#[tokio::test]
async fn at_peak_load_clients_get_busy_with_retry_after_and_nothing_else() {
    let app = App::spawn_with(&["--max-in-flight", "2"], &[]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    // Logins hash with argon2, so 40 at once overrun 2 slots.
    let attempts = (0..40).map(|_| app.login(BUREAU.0, BUREAU.1));
    let responses = futures_util::future::join_all(attempts).await;
    let mut ok = 0;
    let mut busy = 0;
    for r in responses {
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(r.headers().get("retry-after").is_some());
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["error"]["code"], "busy");
                assert_eq!(v["error"]["message"], "现在登陆和上传人数较多，请稍后再进行登陆操作");
                busy += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "ok {ok}, busy {busy}");
    // Once the peak passes, service resumes.
    assert_eq!(app.login(BUREAU.0, BUREAU.1).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn many_concurrent_uploads_for_one_student_leave_exactly_one_winner() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "二中", "senior", "R", 1).await;
    let photos = [good_photo(), good_photo_2()];
    // Every client gets a URL first (all valid at once), then all PUT at the same time.
    let mut grants = Vec::new();
    for i in 0..100 {
        let v = app.presign(&school.token, "R0001", photos[i % 2].len()).await;
        grants.push((v["uploads"][0].clone(), photos[i % 2].clone()));
    }
    let puts = grants.iter().map(|(g, bytes)| app.put_grant(g, bytes.clone()));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(puts).await.iter().map(|r| r.status()).collect();
    let won = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let lost = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((won, lost), (1, 99), "{statuses:?}");
    let record = app.settled(&school.token, "R0001").await;
    assert_eq!(record["status"], "pending_review");
    // The stored photo is the winner's whole file, not a mix.
    let stored = app.client.get(record["photo_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap().to_vec();
    assert!(stored == photos[0] || stored == photos[1]);
    let v: Value = app.get(&bureau, "/api/admin/students/R0001/audit").await.json().await.unwrap();
    let uploads = v["events"].as_array().unwrap().iter().filter(|e| e["to"] == "uploaded").count();
    assert_eq!(uploads, 1);
    // No more than one object is kept.
    let dir = app.data.path().join("photos/uploads").join(&school.school_id).join("R0001");
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
}

#[tokio::test]
async fn upload_urls_refuse_tampering_replay_and_expiry() {
    // Five seconds: the refusals below must all reach the server before the URL expires, even
    // on a loaded CI machine; the expiry case then waits it out.
    let app = App::spawn_with(&["--upload-ttl-secs", "5"], &[]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "三中", "senior", "U", 3).await;
    let photo = good_photo();

    let v = app.presign(&school.token, "U0001", photo.len()).await;
    let grant = v["uploads"][0].clone();
    let url = grant["url"].as_str().unwrap().to_owned();
    assert_eq!(grant["method"], "PUT");
    assert_eq!(grant["headers"]["content-type"], "image/jpeg");

    // Another student's key under the same signature.
    let mut forged = grant.clone();
    forged["url"] = json!(url.replace("/U0001/", "/U0002/"));
    assert_eq!(error_code(app.put_grant(&forged, photo.clone()).await).await, (StatusCode::FORBIDDEN, "bad_signature".into()));
    // A different size than signed.
    let mut bigger = photo.clone();
    bigger.extend_from_slice(&[0u8; 10]);
    assert_eq!(error_code(app.put_grant(&grant, bigger).await).await, (StatusCode::BAD_REQUEST, "size_mismatch".into()));
    // A different content type than signed.
    let r = app.client.put(&url).header("content-type", "image/png").body(photo.clone()).send().await.unwrap();
    assert_eq!(error_code(r).await.0, StatusCode::FORBIDDEN);
    // The real thing works once; replaying it cannot replace the photo.
    assert_eq!(app.put_grant(&grant, photo.clone()).await.status(), StatusCode::OK);
    let other = good_photo_2();
    let mut same_size = other.clone();
    same_size.resize(photo.len(), 0);
    assert_eq!(error_code(app.put_grant(&grant, same_size).await).await, (StatusCode::CONFLICT, "already_uploaded".into()));
    let record = app.settled(&school.token, "U0001").await;
    let stored = app.client.get(record["photo_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap().to_vec();
    assert_eq!(stored, photo);
    // A tampered preview URL is refused.
    let preview = record["photo_url"].as_str().unwrap().replace("sig=", "sig=00");
    assert_eq!(app.client.get(preview).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // An expired URL is refused and the student stays without a photo.
    let v = app.presign(&school.token, "U0002", photo.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(6100)).await;
    assert_eq!(error_code(app.put_grant(&v["uploads"][0], photo.clone()).await).await, (StatusCode::FORBIDDEN, "url_expired".into()));
    let record: Value = app.get(&school.token, "/api/students/U0002").await.json().await.unwrap();
    assert_eq!(record["status"], "not_uploaded");
}

#[tokio::test]
async fn a_school_never_sees_or_touches_another_schools_students() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let a = app.school(&bureau, "甲校", "primary", "A", 2).await;
    let b = app.school(&bureau, "乙校", "primary", "B", 2).await;
    assert_eq!(app.upload(&b.token, "B0001", good_photo()).await, StatusCode::OK);
    app.settled(&b.token, "B0001").await;

    let (status, code) = error_code(app.get(&a.token, "/api/students/B0001").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "unknown_student"));
    let v = app.presign(&a.token, "B0002", 20_000).await;
    assert_eq!(v["refused"][0]["code"], "unknown_student");
    assert!(v["uploads"].as_array().unwrap().is_empty());
    let v: Value = app.get(&a.token, "/api/students").await.json().await.unwrap();
    assert!(v["students"].as_array().unwrap().iter().all(|s| s["student_id"].as_str().unwrap().starts_with('A')));
    let csv = app.get(&a.token, "/api/students.csv").await.text().await.unwrap();
    assert!(!csv.contains("B000"));
    // The same picture in two schools is flagged without telling one school the other's ids;
    // within a school the twin is named.
    assert_eq!(app.upload(&a.token, "A0001", good_photo()).await, StatusCode::OK);
    let v = app.settled(&a.token, "A0001").await;
    assert_eq!(v["flags"][0]["code"], "duplicate_photo", "{v}");
    assert!(!v["flags"][0]["message"].as_str().unwrap().contains("B0001"), "{v}");
    assert_eq!(app.upload(&a.token, "A0002", good_photo()).await, StatusCode::OK);
    let v = app.settled(&a.token, "A0002").await;
    assert!(v["flags"][0]["message"].as_str().unwrap().contains("A0001"), "{v}");

    // Roles: a teacher cannot review or administer; a reviewer cannot administer.
    for (path, body) in [("/api/review/B0001", json!({"decision": "approve"})), ("/api/admin/reviewers", json!({"username": "x1x", "password": "abc123"}))] {
        assert_eq!(error_code(app.post(&a.token, path, body).await).await, (StatusCode::FORBIDDEN, "forbidden".into()));
    }
    assert_eq!(error_code(app.get(&a.token, "/api/review/queue").await).await.1, "forbidden");
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev9", "password": "review999"})).await;
    let reviewer = app.token("rev9", "review999").await;
    assert_eq!(error_code(app.get(&reviewer, "/api/admin/progress").await).await.1, "forbidden");
    assert_eq!(error_code(app.get(&reviewer, "/api/students").await).await.1, "forbidden");
    // Tokens: missing, garbage, or signed with another key.
    assert_eq!(error_code(app.client.get(app.at("/api/school")).send().await.unwrap()).await.1, "unauthenticated");
    assert_eq!(error_code(app.get("not.a.token", "/api/school").await).await.1, "unauthenticated");
    let mut parts: Vec<String> = a.token.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_eq!(error_code(app.get(&parts.join("."), "/api/school").await).await.1, "unauthenticated");
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_username_for_a_while() {
    let app = App::spawn().await;
    for _ in 0..5 {
        assert_eq!(error_code(app.login(BUREAU.0, "wrong-guess1").await).await, (StatusCode::UNAUTHORIZED, "bad_credentials".into()));
    }
    // Even the right password is refused during the cooling-off period.
    assert_eq!(error_code(app.login(BUREAU.0, BUREAU.1).await).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()));
    // Unknown usernames answer exactly like wrong passwords.
    assert_eq!(error_code(app.login("nobody", "abc123").await).await, (StatusCode::UNAUTHORIZED, "bad_credentials".into()));
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_only_five_tries() {
    let app = App::spawn().await;
    let guesses = (0..30).map(|i| {
        let app = &app;
        async move { error_code(app.login(BUREAU.0, &format!("guess{i:02}x")).await).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let tried = answers.iter().filter(|a| **a == (StatusCode::UNAUTHORIZED, "bad_credentials".to_owned())).count();
    let locked = answers.iter().filter(|a| **a == (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".to_owned())).count();
    assert_eq!((tried, locked), (5, 25), "{answers:?}");
    assert_eq!(error_code(app.login(BUREAU.0, BUREAU.1).await).await.1, "too_many_attempts");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "四中", "junior", "X", 2).await;

    let r = app.client.post(app.at("/api/sessions")).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "bad_json".into()));
    let r = app.client.post(app.at("/api/sessions")).body("username=a").send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_content_type".into()));
    assert_eq!(error_code(app.client.get(app.at("/api/nothing")).send().await.unwrap()).await, (StatusCode::NOT_FOUND, "not_found".into()));
    assert_eq!(error_code(app.client.delete(app.at("/api/window")).send().await.unwrap()).await, (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into()));
    let huge = "x".repeat(9 * 1024 * 1024);
    // Its own connection: the server stops reading an oversized body and closes the connection.
    let once = reqwest::Client::new();
    let r = once.post(app.at("/api/admin/students")).bearer_auth(&bureau).header("content-type", "text/csv").body(huge.clone()).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into()));
    let once = reqwest::Client::new();
    let r = once.post(app.at("/api/sessions")).header("content-type", "application/json").body(huge).send().await.unwrap();
    assert_eq!(error_code(r).await, (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into()));

    // A roster with bad lines: every line reported, nothing written.
    let csv = format!(
        "school_id,student_id,name,class\n{0},Y0001,好学生,1班\n{0},../etc,坏学号,1班\nnope,Y0002,无此校,1班\n{0},X0001,换校,1班\n",
        school.school_id
    );
    let r = app.post_csv(&bureau, "/api/admin/students", &csv).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_csv");
    let lines: Vec<(u64, &str)> = v["lines"].as_array().unwrap().iter().map(|l| (l["line"].as_u64().unwrap(), l["code"].as_str().unwrap())).collect();
    assert_eq!(lines, [(3, "bad_student_id"), (4, "unknown_school")]);
    let v: Value = app.get(&school.token, "/api/students").await.json().await.unwrap();
    assert_eq!(v["students"].as_array().unwrap().len(), 2, "nothing half-written");
    // A student id already in another school is refused whole, too.
    let other = app.school(&bureau, "五中", "junior", "Z", 1).await;
    let csv = format!("school_id,student_id,name,class\n{},Z9999,新生,1班\n{},X0001,抢学号,1班\n", other.school_id, other.school_id);
    let v: Value = app.post_csv(&bureau, "/api/admin/students", &csv).await.json().await.unwrap();
    assert_eq!(v["lines"][0]["code"], "student_of_another_school", "{v}");
    let v: Value = app.get(&other.token, "/api/students").await.json().await.unwrap();
    assert_eq!(v["students"].as_array().unwrap().len(), 1);
    // Wrong header.
    let (status, code) = error_code(app.post_csv(&bureau, "/api/admin/students", "id,name\n1,2\n").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_csv"));

    // Upload requests: wrong type, too large, unknown student, too many files.
    let v: Value = app
        .post(&school.token, "/api/uploads", json!({"files": [{"student_id": "X0001", "size": 20000}], "content_type": "image/png"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["refused"][0]["code"], "bad_type");
    let v: Value = app
        .post(&school.token, "/api/uploads", json!({"files": [{"student_id": "X0001", "size": 5_000_000}, {"student_id": "../../x", "size": 20000}], "content_type": "image/jpeg"}))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = v["refused"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["too_large", "unknown_student"]);
    let many: Vec<Value> = (0..101).map(|_| json!({"student_id": "X0001", "size": 20000})).collect();
    let r = app.post(&school.token, "/api/uploads", json!({"files": many, "content_type": "image/jpeg"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A PNG declared as JPEG lands but is rejected by the check, with a reason.
    assert_eq!(app.upload(&school.token, "X0002", fixture("not-a-jpeg.png")).await, StatusCode::OK);
    let v = app.settled(&school.token, "X0002").await;
    assert_eq!(v["status"], "rejected");
    assert_eq!(v["reasons"][0]["code"], "not_jpeg");
}

#[tokio::test]
async fn a_stale_review_racing_a_reupload_never_decides_the_new_photo() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "八中", "senior", "V", 20).await;
    for id in &school.ids {
        assert_eq!(app.upload(&school.token, id, good_photo()).await, StatusCode::OK);
    }
    for id in &school.ids {
        assert_eq!(app.settled(&school.token, id).await["status"], "pending_review");
    }
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "reva", "password": "review111"})).await;
    let reviewer_a = app.token("reva", "review111").await;
    // Reviewer A opens the queue and looks at every photo...
    let queue: Value = app.get(&reviewer_a, "/api/review/queue?limit=200").await.json().await.unwrap();
    let seen: Vec<(String, String)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| school.ids.contains(&i["student_id"].as_str().unwrap().to_owned()))
        .map(|i| (i["student_id"].as_str().unwrap().to_owned(), i["photo_id"].as_str().expect("queue items name their photo").to_owned()))
        .collect();
    assert_eq!(seen.len(), 20);
    // ...while the bureau rejects them all (a second reviewer, faster).
    for (id, photo) in &seen {
        let r = app.post(&bureau, &format!("/api/review/{id}"), json!({"decision": "reject", "reasons": ["background_not_white"], "photo_id": photo})).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Now every school re-upload races reviewer A's approval of the photo A saw.
    let races = seen.iter().map(|(id, photo)| {
        let (app, token, reviewer_a) = (&app, &school.token, &reviewer_a);
        async move {
            let path = format!("/api/review/{id}");
            let (upload, review) = tokio::join!(
                app.upload(token, id, good_photo_2()),
                app.post(reviewer_a, &path, json!({"decision": "approve", "photo_id": photo})),
            );
            (id.clone(), upload, error_code(review).await)
        }
    });
    for (id, upload, (status, code)) in futures_util::future::join_all(races).await {
        assert_eq!(upload, StatusCode::OK, "{id}: the re-upload of a rejected photo is accepted");
        assert_eq!(status, StatusCode::CONFLICT, "{id}: the stale approval must be refused");
        assert!(code == "not_pending" || code == "photo_changed", "{id}: {code}");
    }
    for (id, old) in &seen {
        let v = app.settled(&school.token, id).await;
        assert_eq!(v["status"], "pending_review", "{id}: the new photo waits for a review of its own: {v}");
        assert_ne!(v["photo_id"].as_str(), Some(old.as_str()));
        let bytes = app.client.get(v["photo_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap().to_vec();
        assert_eq!(bytes, good_photo_2(), "{id}: the stored photo is the new upload");
        // The audit trail is one unbroken chain of statuses.
        let trail: Value = app.get(&bureau, &format!("/api/admin/students/{id}/audit")).await.json().await.unwrap();
        let steps: Vec<(&str, &str)> = trail["events"].as_array().unwrap().iter().map(|e| (e["from"].as_str().unwrap(), e["to"].as_str().unwrap())).collect();
        assert!(steps.windows(2).all(|w| w[0].1 == w[1].0), "{id}: {steps:?}");
        assert!(!steps.iter().any(|(_, to)| *to == "approved"), "{id}: nothing was approved: {steps:?}");
        // Reviewer A's page, still showing the old photo, tries again now that the new one is
        // pending: the decision names the old photo and is refused.
        let r = app.post(&reviewer_a, &format!("/api/review/{id}"), json!({"decision": "approve", "photo_id": old})).await;
        assert_eq!(error_code(r).await, (StatusCode::CONFLICT, "photo_changed".into()), "{id}");
        let r = app.post(&reviewer_a, &format!("/api/review/{id}"), json!({"decision": "approve", "photo_id": v["photo_id"]})).await;
        assert_eq!(r.status(), StatusCode::OK, "{id}: a decision on the photo shown is taken");
    }
}

/// Every way a request can be malformed or refused answers the envelope with its own stable
/// code — never axum's plain-text rejections, which a page cannot show.
#[tokio::test]
async fn every_refusal_answers_the_envelope_with_a_stable_code() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "六中", "senior", "V", 2).await;
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        ("a store URL without its signature", app.client.put(app.at("/store/photos/x/V0001/t.jpg")), StatusCode::BAD_REQUEST, "bad_query"),
        (
            "a store URL whose expiry is not a number",
            app.client.get(app.at("/store/photos/x/V0001/t.jpg?exp=abc&sig=00")),
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
        ("a wrong method on the store", app.client.post(app.at("/store/photos/x/V0001/t.jpg")), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ("a student id that is not UTF-8", app.client.get(app.at("/api/students/%FF")).bearer_auth(&school.token), StatusCode::BAD_REQUEST, "bad_path"),
        ("a query that does not parse", app.client.get(app.at("/api/review/queue?limit=lots")).bearer_auth(&bureau), StatusCode::BAD_REQUEST, "bad_query"),
        (
            "an unknown registration code",
            app.client.post(app.at("/api/registration/verify")).json(&json!({"code": "ZZZZZZZZ"})),
            StatusCode::NOT_FOUND,
            "unknown_code",
        ),
        (
            "a campaign in the year 9999",
            app.client.put(app.at("/api/admin/campaign")).bearer_auth(&bureau).json(&json!({
                "name": "远期", "starts_on": "2026-01-01", "ends_on": "9999-12-31",
                "daily_open": "06:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"
            })),
            StatusCode::BAD_REQUEST,
            "invalid_campaign",
        ),
        (
            "a reviewer with a weak password",
            app.client.post(app.at("/api/admin/reviewers")).bearer_auth(&bureau).json(&json!({"username": "rv_weak", "password": "123456"})),
            StatusCode::BAD_REQUEST,
            "weak_password",
        ),
        (
            "a reviewer named like an existing account",
            app.client.post(app.at("/api/admin/reviewers")).bearer_auth(&bureau).json(&json!({"username": school.username, "password": "abc123"})),
            StatusCode::CONFLICT,
            "username_taken",
        ),
    ];
    for (what, request, status, code) in cases {
        let r = request.send().await.unwrap();
        let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{what}: content-type {content_type:?}");
        assert_eq!(error_code(r).await, (status, code.to_owned()), "{what}");
    }

    // A rejection naming a reason the console does not offer is refused, and decides nothing.
    assert_eq!(app.upload(&school.token, "V0001", good_photo()).await, StatusCode::OK);
    assert_eq!(app.settled(&school.token, "V0001").await["status"], "pending_review");
    let r = app.post(&bureau, "/api/review/V0001", json!({"decision": "reject", "reasons": ["looks_sad"]})).await;
    assert_eq!(error_code(r).await, (StatusCode::BAD_REQUEST, "unknown_reason".into()));
    let v: Value = app.get(&school.token, "/api/students/V0001").await.json().await.unwrap();
    assert_eq!(v["status"], "pending_review");
}

/// A client that starts an upload and stalls must not keep its slot: past the body deadline it
/// gets 408 `body_timeout`, the slot is free again, and the student is still without a photo.
#[tokio::test]
async fn stalled_uploads_time_out_and_give_their_slots_back() {
    use tokio::io::AsyncReadExt;
    let app = App::spawn_with(&["--max-in-flight", "2", "--body-timeout-secs", "8"], &[]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "七中", "senior", "W", 2).await;
    let photo = good_photo();
    // Both URLs first, so the two stalls start together, well within one deadline of each other
    // however loaded the machine is.
    let mut urls = Vec::new();
    for id in ["W0001", "W0002"] {
        let v = app.presign(&school.token, id, photo.len()).await;
        urls.push(v["uploads"][0]["url"].as_str().unwrap().to_owned());
    }
    let mut stalled = Vec::new();
    for url in urls {
        stalled.push(app.stall_upload(&url, photo.len(), &photo[..100]).await);
    }
    // Both slots are held by the stalled bodies: everyone else is told to wait…
    let r = app.client.get(app.at("/api/window")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "two stalled uploads should hold both of the two slots");
    // …until the deadline answers the stalled clients.
    for mut conn in stalled {
        let mut answer = Vec::new();
        // A hang guard, not a speed check: without a deadline no answer ever comes.
        let read = async {
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&answer).contains("}}") {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                answer.extend_from_slice(&buf[..n]);
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), read).await.expect("the stalled upload is never answered");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"body_timeout\""), "{answer}");
    }
    assert_eq!(app.client.get(app.at("/api/window")).send().await.unwrap().status(), StatusCode::OK);
    for id in ["W0001", "W0002"] {
        let v: Value = app.get(&school.token, &format!("/api/students/{id}")).await.json().await.unwrap();
        assert_eq!(v["status"], "not_uploaded", "{id}");
    }
}

/// The disk refuses the photo (here: its folder cannot be created): the teacher gets an error,
/// and the student is left without a claim, free to upload again at once — not stuck in
/// `uploaded` waiting for the sweep to call the photo incomplete.
#[tokio::test]
async fn a_failed_disk_write_leaves_no_claim_behind() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "八中", "senior", "F", 1).await;
    let photo = good_photo();
    let v = app.presign(&school.token, "F0001", photo.len()).await;
    let url = reqwest::Url::parse(v["uploads"][0]["url"].as_str().unwrap()).unwrap();
    let key = url.path().strip_prefix("/store/").unwrap().to_owned();
    let folder = app.data.path().join("photos").join(&key).parent().unwrap().to_owned();
    std::fs::create_dir_all(folder.parent().unwrap()).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();

    assert_eq!(error_code(app.put_grant(&v["uploads"][0], photo.clone()).await).await, (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()));
    let record: Value = app.get(&school.token, "/api/students/F0001").await.json().await.unwrap();
    assert_eq!(record["status"], "not_uploaded", "{record}");

    std::fs::remove_file(&folder).unwrap();
    assert_eq!(app.upload(&school.token, "F0001", photo).await, StatusCode::OK);
    assert_eq!(app.settled(&school.token, "F0001").await["status"], "pending_review");
}
