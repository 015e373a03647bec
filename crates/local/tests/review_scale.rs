//! Contract v2's review at city scale, black-box over HTTP against the real server: appeals,
//! batch decisions, queue leases, the review policy and reopening, with the bad input a busy
//! last Monday brings (oversized batches, duplicates, stale photos, long or hidden-character
//! notes).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Read;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus").join(name)).expect("corpus photo")
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn put_campaign(app: &App, bureau: &str, body: Value) -> (StatusCode, Value) {
    json_of(app.client.put(app.at("/api/admin/campaign")).bearer_auth(bureau).json(&body).send().await.unwrap()).await
}

fn campaign_body(ends_in_days: i64) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({"name": "测试活动", "starts_on": (today - chrono::Duration::days(2)).to_string(),
           "ends_on": (today + chrono::Duration::days(ends_in_days)).to_string(),
           "daily_open": "00:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"})
}

#[tokio::test(flavor = "multi_thread")]
async fn an_appeal_takes_a_judgement_to_a_person_once() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "申诉中学", "junior", "AP", 3).await;
    let other = app.school(&bureau, "别的中学", "junior", "OT", 1).await;
    let t = &school.token;
    let (blue, wrong) = (&school.ids[0], &school.ids[1]);
    assert_eq!(app.upload(t, blue, corpus("astronaut_blue_background.jpg")).await, StatusCode::OK);
    let v = app.settled(t, blue).await;
    assert_eq!((v["status"].as_str(), v["decided_by"].as_str(), v["appealable"].as_bool()), (Some("rejected"), Some("check"), Some(true)), "{v}");
    let photo_id = v["photo_id"].as_str().unwrap().to_owned();
    assert_eq!(app.upload(t, wrong, fixture("wrong-size.jpg")).await, StatusCode::OK);
    let w = app.settled(t, wrong).await;
    assert_eq!((w["status"].as_str(), w["appealable"].as_bool()), (Some("rejected"), Some(false)), "a file rule: {w}");

    // Bad notes are refused whole, never cut; nothing changes.
    let long = "照".repeat(10_000);
    assert_eq!(error_code(appeal(&app, t, blue, json!({"photo_id": photo_id, "note": long})).await).await, (StatusCode::BAD_REQUEST, "note_too_long".into()));
    assert_eq!(error_code(appeal(&app, t, blue, json!({"photo_id": photo_id, "note": "背景\u{0007}白"})).await).await, (StatusCode::BAD_REQUEST, "bad_note".into()));
    assert_eq!(error_code(appeal(&app, t, blue, json!({"photo_id": "t-old", "note": "x"})).await).await, (StatusCode::CONFLICT, "photo_changed".into()));
    assert_eq!(error_code(appeal(&app, t, blue, json!({"note": "no photo id"})).await).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(appeal(&app, &other.token, blue, json!({"photo_id": photo_id})).await).await, (StatusCode::NOT_FOUND, "unknown_student".into()), "another school");
    let w_photo = w["photo_id"].as_str().unwrap();
    assert_eq!(error_code(appeal(&app, t, wrong, json!({"photo_id": w_photo})).await).await, (StatusCode::CONFLICT, "not_appealable".into()));
    let still: Value = app.get(t, &format!("/api/students/{blue}")).await.json().await.unwrap();
    assert_eq!(still["status"], "rejected");

    let (status, v) = json_of(appeal(&app, t, blue, json!({"photo_id": photo_id, "note": "是白色幕布，灯光偏蓝"})).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["status"].as_str(), v["appealable"].as_bool(), v["appeal"]["note"].as_str()), (Some("pending_review"), Some(false), Some("是白色幕布，灯光偏蓝")));
    assert_eq!(v["reasons"][0]["code"], "background_not_white", "the check's reasons stay for the reviewer");
    assert_eq!(error_code(appeal(&app, t, blue, json!({"photo_id": photo_id})).await).await, (StatusCode::CONFLICT, "not_appealable".into()), "one appeal per photo");
    assert_eq!(app.presign(t, blue, 30_000).await["refused"][0]["code"], "already_uploaded", "no re-upload while in review");

    // The reviewer sees it with the note and the findings, approves, and the overrule is kept.
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev_ap", "password": "review123"})).await;
    let rev = app.token("rev_ap", "review123").await;
    let q: Value = app.get(&rev, &format!("/api/review/queue?school_id={}", school.school_id)).await.json().await.unwrap();
    let item = &q["items"][0];
    assert_eq!((item["student_id"].as_str(), item["appeal"]["note"].as_str()), (Some(blue.as_str()), Some("是白色幕布，灯光偏蓝")), "{q}");
    assert_eq!(item["findings"][0]["code"], "background_not_white");
    let (status, v) = json_of(app.post(&rev, &format!("/api/review/{blue}"), json!({"decision": "approve", "photo_id": photo_id})).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["decided_by"].as_str(), v["appeal"]["overruled"][0].as_str()), (Some("reviewer"), Some("background_not_white")));

    // Appeals are windowed like uploads.
    let third = &school.ids[2];
    assert_eq!(app.upload(t, third, corpus("astronaut_blue_background.jpg")).await, StatusCode::OK);
    let v = app.settled(t, third).await;
    let closed = {
        let mut c = campaign_body(30);
        c["starts_on"] = json!("2021-01-01");
        c["ends_on"] = json!("2021-01-31");
        c
    };
    assert_eq!(put_campaign(&app, &bureau, closed).await.0, StatusCode::OK);
    let r = appeal(&app, t, third, json!({"photo_id": v["photo_id"]})).await;
    assert_eq!(error_code(r).await, (StatusCode::FORBIDDEN, "window_closed".into()));
}

/// `n` photos of one school waiting for review (two distinct pictures, alternating).
async fn pending_school(app: &App, bureau: &str, prefix: &str, n: usize) -> SchoolFixture {
    let school = app.school(bureau, &format!("审核{prefix}中学"), "senior", prefix, n).await;
    for (i, id) in school.ids.iter().enumerate() {
        let photo = if i % 2 == 0 { good_photo() } else { good_photo_2() };
        assert_eq!(app.upload(&school.token, id, photo).await, StatusCode::OK);
        assert_eq!(app.settled(&school.token, id).await["status"], "pending_review");
    }
    school
}

async fn photo_ids(app: &App, token: &str, school: &SchoolFixture) -> Vec<(String, String)> {
    let v: Value = app.get(token, "/api/students").await.json().await.unwrap();
    let _ = school;
    v["students"].as_array().unwrap().iter().map(|s| (s["student_id"].as_str().unwrap().to_owned(), s["photo_id"].as_str().unwrap_or("").to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_is_checked_whole_then_applied_item_by_item() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = pending_school(&app, &bureau, "BT", 6).await;
    let photos = photo_ids(&app, &school.token, &school).await;
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev_bt", "password": "review123"})).await;
    let rev = app.token("rev_bt", "review123").await;
    let item = |i: usize, decision: &str| json!({"student_id": photos[i].0, "photo_id": photos[i].1, "decision": decision, "reasons": if decision == "reject" { json!(["blurry"]) } else { json!([]) }});
    let untouched = || async { app.get(&school.token, "/api/school").await.json::<Value>().await.unwrap()["counts"]["pending_review"].clone() };

    // Bad shapes apply nothing.
    let many: Vec<Value> = (0..101).map(|k| json!({"student_id": format!("X{k}"), "photo_id": "p", "decision": "approve"})).collect();
    assert_eq!(error_code(app.post(&rev, "/api/reviews", json!({"decisions": many})).await).await, (StatusCode::BAD_REQUEST, "too_many_items".into()));
    let twice = json!({"decisions": [item(0, "approve"), item(1, "approve"), item(0, "reject")]});
    assert_eq!(error_code(app.post(&rev, "/api/reviews", twice).await).await, (StatusCode::BAD_REQUEST, "bad_body".into()));
    let no_photo = json!({"decisions": [item(0, "approve"), {"student_id": photos[1].0, "decision": "approve"}]});
    assert_eq!(error_code(app.post(&rev, "/api/reviews", no_photo).await).await, (StatusCode::BAD_REQUEST, "bad_body".into()));
    let mut long = item(0, "approve");
    long["note"] = json!("注".repeat(501));
    assert_eq!(error_code(app.post(&rev, "/api/reviews", json!({"decisions": [item(1, "approve"), long]})).await).await, (StatusCode::BAD_REQUEST, "note_too_long".into()));
    let bad_decision = json!({"decisions": [item(1, "approve"), {"student_id": photos[0].0, "photo_id": photos[0].1, "decision": "maybe"}]});
    assert_eq!(error_code(app.post(&rev, "/api/reviews", bad_decision).await).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(app.post(&rev, "/api/reviews", json!({"decisions": []})).await).await, (StatusCode::BAD_REQUEST, "bad_body".into()));
    assert_eq!(untouched().await, 6, "no bad shape applied anything");

    // One bad item never blocks the others.
    let mut unknown_reason = item(2, "reject");
    unknown_reason["reasons"] = json!(["made_up"]);
    let mut no_reason = item(3, "reject");
    no_reason["reasons"] = json!([]);
    let mut stale = item(4, "approve");
    stale["photo_id"] = json!("not-the-current-photo");
    let batch = json!({"decisions": [
        item(0, "approve"), item(1, "reject"), unknown_reason, no_reason, stale,
        {"student_id": "NOSUCH1", "photo_id": "p", "decision": "approve"},
        {"student_id": "../etc", "photo_id": "p", "decision": "approve"},
    ]});
    let (status, v) = json_of(app.post(&rev, "/api/reviews", batch.clone()).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let results = v["results"].as_array().unwrap();
    let outcome: Vec<String> = results.iter().map(|r| r["status"].as_str().map(str::to_owned).unwrap_or_else(|| r["error"]["code"].as_str().unwrap().to_owned())).collect();
    assert_eq!(outcome, ["approved", "rejected", "unknown_reason", "reason_required", "photo_changed", "unknown_student", "unknown_student"], "{v}");
    assert_eq!(results[0]["student_id"], photos[0].0.as_str(), "results in the batch's order");
    assert!(results[2]["error"]["message"].as_str().unwrap().contains("made_up"));
    // Replayed: the decided ones are now not pending, the rest unchanged.
    let (_, v) = json_of(app.post(&rev, "/api/reviews", batch).await).await;
    assert_eq!(v["results"][0]["error"]["code"], "not_pending");
    assert_eq!(v["results"][1]["error"]["code"], "not_pending");
    assert_eq!(untouched().await, 4);

    // A single decision with a long note is refused too, never cut.
    let long = json!({"decision": "approve", "photo_id": photos[5].1, "note": "注".repeat(501)});
    assert_eq!(error_code(app.post(&rev, &format!("/api/review/{}", photos[5].0), long).await).await, (StatusCode::BAD_REQUEST, "note_too_long".into()));
    // A teacher cannot use the batch endpoint.
    assert_eq!(error_code(app.post(&school.token, "/api/reviews", json!({"decisions": [item(5, "approve")]})).await).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_reviewers_paging_the_queue_never_get_the_same_photos() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = pending_school(&app, &bureau, "LQ", 6).await;
    for name in ["rev_l1", "rev_l2"] {
        app.post(&bureau, "/api/admin/reviewers", json!({"username": name, "password": "review123"})).await;
    }
    let (r1, r2) = (app.token("rev_l1", "review123").await, app.token("rev_l2", "review123").await);
    let path = format!("/api/review/queue?limit=4&school_id={}", school.school_id);
    let (a, b) = tokio::join!(app.get(&r1, &path), app.get(&r2, &path));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    let ids = |v: &Value| v["items"].as_array().unwrap().iter().map(|i| i["student_id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (ia, ib) = (ids(&a), ids(&b));
    assert_eq!(ia.len() + ib.len(), 6, "{a} {b}");
    assert!(ia.iter().all(|x| !ib.contains(x)), "disjoint pages: {ia:?} {ib:?}");
    assert_eq!(a["lease_seconds"], 600);
    assert!(a["items"][0]["lease_until"].is_string());
    // Paging again gives each their own page back; deciding releases.
    let again: Value = app.get(&r1, &path).await.json().await.unwrap();
    assert_eq!(ids(&again), ia);
    let first = &a["items"][0];
    let (status, _) = json_of(app.post(&r2, &format!("/api/review/{}", first["student_id"].as_str().unwrap()), json!({"decision": "approve", "photo_id": first["photo_id"]})).await).await;
    assert_eq!(status, StatusCode::OK, "a lease guides paging; it does not stop a decision");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_policy_survives_an_older_page_and_approves_clean_photos() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    let mut body = campaign_body(30);
    body["review_policy"] = json!({"auto_approve": "clean", "sample_percent": 0});
    let (status, v) = put_campaign(&app, &bureau, body).await;
    assert_eq!((status, v["review_policy"].clone()), (StatusCode::OK, json!({"auto_approve": "clean", "sample_percent": 0})), "{v}");
    // An older page's PUT (no review_policy) keeps it.
    let (_, v) = put_campaign(&app, &bureau, campaign_body(31)).await;
    assert_eq!(v["review_policy"]["auto_approve"], "clean");
    let got: Value = app.get(&bureau, "/api/admin/campaign").await.json().await.unwrap();
    assert_eq!(got["review_policy"]["auto_approve"], "clean");
    // A page that knows only the policy sends only the policy: everything else is kept.
    let (status, v) = put_campaign(&app, &bureau, json!({"review_policy": {"sample_percent": 3}})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["name"].as_str(), v["ends_on"].clone(), v["review_policy"]["auto_approve"].as_str(), v["review_policy"]["sample_percent"].as_u64()), (Some("测试活动"), got["ends_on"].clone(), Some("clean"), Some(3)));
    assert_eq!(put_campaign(&app, &bureau, json!({"review_policy": {"sample_percent": 0}})).await.0, StatusCode::OK);
    for bad in [json!({"auto_approve": "everything"}), json!({"sample_percent": 101}), json!({"sample_percent": 2.5})] {
        let mut b = campaign_body(30);
        b["review_policy"] = bad.clone();
        assert_eq!(put_campaign(&app, &bureau, b).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }

    let school = app.school(&bureau, "自动中学", "senior", "AU", 3).await;
    let t = &school.token;
    assert_eq!(app.upload(t, &school.ids[0], good_photo()).await, StatusCode::OK);
    let v = app.settled(t, &school.ids[0]).await;
    assert_eq!((v["status"].as_str(), v["decided_by"].as_str()), (Some("approved"), Some("auto")), "{v}");
    // The same picture for a classmate is flagged as a duplicate: a person looks.
    assert_eq!(app.upload(t, &school.ids[1], good_photo()).await, StatusCode::OK);
    let v = app.settled(t, &school.ids[1]).await;
    assert_eq!((v["status"].as_str(), v["flags"][0]["code"].as_str()), (Some("pending_review"), Some("duplicate_photo")), "{v}");

    // The bureau reopens the auto-approved photo (wrong child): the export leaves it out.
    assert_eq!(error_code(reopen(&app, &bureau, &school.ids[1], json!({"reasons": ["wrong_person"]})).await).await, (StatusCode::CONFLICT, "not_approved".into()));
    assert_eq!(error_code(reopen(&app, &bureau, &school.ids[0], json!({"reasons": []})).await).await, (StatusCode::BAD_REQUEST, "reason_required".into()));
    assert_eq!(error_code(reopen(&app, &bureau, &school.ids[0], json!({"reasons": ["nope"]})).await).await, (StatusCode::BAD_REQUEST, "unknown_reason".into()));
    assert_eq!(error_code(reopen(&app, &bureau, "NOSUCH", json!({"reasons": ["wrong_person"]})).await).await, (StatusCode::NOT_FOUND, "unknown_student".into()));
    assert_eq!(error_code(app.post(t, &format!("/api/admin/students/{}/reopen", school.ids[0]), json!({"reasons": ["wrong_person"]})).await).await.0, StatusCode::FORBIDDEN);
    let (status, v) = json_of(reopen(&app, &bureau, &school.ids[0], json!({"reasons": ["wrong_person"], "note": "家长反映不是本人"})).await).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!((v["status"].as_str(), v["decided_by"].as_str(), v["appealable"].as_bool()), (Some("rejected"), Some("reviewer"), Some(false)));
    let teacher_view = app.settled(t, &school.ids[0]).await;
    assert_eq!(teacher_view["reasons"][0]["code"], "wrong_person");
    assert!(app.presign(t, &school.ids[0], 30_000).await["uploads"][0].is_object(), "the school may upload again");

    // The export: the reopened photo is out, the manifest says who decided each photo.
    app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev_au", "password": "review123"})).await;
    let rev = app.token("rev_au", "review123").await;
    let pid = v_photo(&app, t, &school.ids[1]).await;
    app.post(&rev, &format!("/api/review/{}", school.ids[1]), json!({"decision": "approve", "photo_id": pid})).await;
    assert_eq!(app.upload(t, &school.ids[2], good_photo_2()).await, StatusCode::OK);
    assert_eq!(app.settled(t, &school.ids[2]).await["decided_by"], "auto");
    let bytes = app.get(&bureau, &format!("/api/admin/export?school_id={}", school.school_id)).await.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert!(lines[0].ends_with(",reviewed_at,decided_by"), "{manifest}");
    assert_eq!(lines.len(), 3, "two approved photos, the reopened one left out: {manifest}");
    assert!(lines.iter().any(|l| l.contains(&format!(",{},", school.ids[1])) && l.ends_with(",reviewer")), "{manifest}");
    assert!(lines.iter().any(|l| l.contains(&format!(",{},", school.ids[2])) && l.ends_with(",auto")), "{manifest}");
    assert!(!manifest.contains(&format!(",{},", school.ids[0])));
}

async fn v_photo(app: &App, token: &str, id: &str) -> Value {
    let v: Value = app.get(token, &format!("/api/students/{id}")).await.json().await.unwrap();
    v["photo_id"].clone()
}

async fn appeal(app: &App, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.post(token, &format!("/api/students/{id}/appeal"), body).await
}

async fn reopen(app: &App, bureau: &str, id: &str, body: Value) -> reqwest::Response {
    app.post(bureau, &format!("/api/admin/students/{id}/reopen"), body).await
}
