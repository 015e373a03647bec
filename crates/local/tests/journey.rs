//! The whole journey a city campaign takes, through the real server: bureau → teacher →
//! upload → automatic check → review → export.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Read;

#[tokio::test]
async fn bureau_teacher_check_review_export() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;

    // Bureau imports two schools and gets one code per school stage.
    let r = app.post_csv(&bureau, "/api/admin/schools", "district,school,stage\n黄浦区,格致中学,初中\n黄浦区,格致中学,高中\n").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let schools = v["schools"].as_array().unwrap();
    assert_eq!(schools.len(), 2);
    let code = schools[0]["registration_code"].as_str().unwrap().to_owned();
    assert_ne!(code, schools[1]["registration_code"].as_str().unwrap());
    assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) && !code.contains(['0', 'O', '1', 'I', 'L']));
    let school_id = schools[0]["school_id"].as_str().unwrap().to_owned();

    // Roster import.
    let csv = format!("school_id,student_id,name,class\n{school_id},G001,张三,九(1)班\n{school_id},G002,李四,九(1)班\n{school_id},G003,王五,九(2)班\n");
    let r = app.post_csv(&bureau, "/api/admin/students", &csv).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"imported": 3, "updated": 0}));

    // Teacher: verify the code (shows district and school), register, see the school.
    let r = app.client.post(app.at("/api/registration/verify")).json(&json!({"code": code.to_lowercase()})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["district"].as_str(), v["school"].as_str(), v["stage"].as_str()), (Some("黄浦区"), Some("格致中学"), Some("junior")));
    let r = app.client.post(app.at("/api/registration")).json(&json!({"code": code, "username": "gezhi", "password": "gezhi2026"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let teacher = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let v: Value = app.get(&teacher, "/api/school").await.json().await.unwrap();
    assert_eq!(v["name"], "格致中学");
    assert_eq!(v["counts"]["not_uploaded"], 3);

    // Roster with class filter.
    let v: Value = app.get(&teacher, "/api/students?class=九(1)班").await.json().await.unwrap();
    let ids: Vec<&str> = v["students"].as_array().unwrap().iter().map(|s| s["student_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["G001", "G002"]);
    assert!(v["students"][0]["photo_url"].is_null());

    // One good photo, one of the wrong size.
    assert_eq!(app.upload(&teacher, "G001", good_photo()).await, StatusCode::OK);
    assert_eq!(app.upload(&teacher, "G002", fixture("wrong-size.jpg")).await, StatusCode::OK);
    let good = app.settled(&teacher, "G001").await;
    assert_eq!(good["status"], "pending_review", "{good}");
    let bad = app.settled(&teacher, "G002").await;
    assert_eq!(bad["status"], "rejected");
    let codes: Vec<&str> = bad["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["wrong_size"]);
    assert!(bad["reasons"][0]["message"].as_str().unwrap().contains("300×400"), "{bad}");

    // The preview is readable through its signed URL only.
    let preview = good["photo_url"].as_str().unwrap();
    let r = app.client.get(preview).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), good_photo());

    // A pending photo cannot be replaced; a rejected one can, once more.
    let v = app.presign(&teacher, "G001", 20_000).await;
    assert_eq!(v["refused"][0]["code"], "already_uploaded");
    assert_eq!(app.upload(&teacher, "G002", good_photo_2()).await, StatusCode::OK);
    assert_eq!(app.settled(&teacher, "G002").await["status"], "pending_review");

    // Reviewer: created by the bureau, clears the queue oldest first.
    let r = app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev1", "password": "review2026"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let reviewer = app.token("rev1", "review2026").await;
    let v: Value = app.get(&reviewer, "/api/review/queue").await.json().await.unwrap();
    let queue: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["student_id"].as_str().unwrap()).collect();
    assert_eq!(queue, ["G001", "G002"]);
    assert_eq!(v["items"][0]["school"], "格致中学");
    let r = app.post(&reviewer, "/api/review/G001", json!({"decision": "approve"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "approved");
    let (status, code) = error_code(app.post(&reviewer, "/api/review/G002", json!({"decision": "reject", "reasons": []})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "reason_required"));
    let r = app.post(&reviewer, "/api/review/G002", json!({"decision": "reject", "reasons": ["head_too_large"], "note": "头部过大"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "rejected");
    let (status, code) = error_code(app.post(&reviewer, "/api/review/G001", json!({"decision": "reject", "reasons": ["other"]})).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "not_pending"));

    // Teacher sees the decisions; the CSV export opens in Excel (BOM) with the seed's columns.
    let v: Value = app.get(&teacher, "/api/school").await.json().await.unwrap();
    assert_eq!(v["counts"], json!({"not_uploaded": 1, "uploaded": 0, "pending_review": 0, "approved": 1, "rejected": 1}));
    let csv = app.get(&teacher, "/api/students.csv").await.bytes().await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF\xE5\xAD\xA6\xE7\xB1\x8D\xE5\x89\xAF\xE5\x8F\xB7,"), "BOM + 学籍副号");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.lines().next().unwrap() == "学籍副号,姓名,班级,上传状态,原因,上传人");
    assert!(text.contains("G001,张三,九(1)班,已审核,,学校"));

    // Progress and export of approved photos with a manifest.
    let v: Value = app.get(&bureau, "/api/admin/progress").await.json().await.unwrap();
    let mine = v["schools"].as_array().unwrap().iter().find(|s| s["school_id"] == school_id.as_str()).unwrap().clone();
    assert_eq!(mine["registered"], true);
    assert_eq!(mine["counts"]["approved"], 1);
    let r = app.get(&bureau, &format!("/api/admin/export?school_id={school_id}")).await;
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().name().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, ["manifest.csv".to_owned(), format!("{school_id}/G001.jpg")]);
    let mut photo = Vec::new();
    zip.by_name(&format!("{school_id}/G001.jpg")).unwrap().read_to_end(&mut photo).unwrap();
    assert_eq!(photo, good_photo());
    let mut manifest = String::new();
    zip.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    assert!(manifest.contains(&format!("{school_id},黄浦区,格致中学,junior,G001,张三,九(1)班,{school_id}/G001.jpg,")), "{manifest}");

    // The stored export (what the page uses; the only way out behind API Gateway): a link to
    // the same ZIP, downloadable without a token, refused once tampered with.
    let r = app.post(&bureau, "/api/admin/exports", json!({"school_id": school_id})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["photos"].as_u64(), v["file"].as_str().unwrap().ends_with(".zip")), (Some(1), true), "{v}");
    let link = v["download_url"].as_str().unwrap().to_owned();
    let r = reqwest::get(&link).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(v["file"].as_str().unwrap()));
    let stored = r.bytes().await.unwrap().to_vec();
    assert_eq!(stored.len() as u64, v["bytes"].as_u64().unwrap());
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(stored)).unwrap();
    let mut photo = Vec::new();
    zip.by_name(&format!("{school_id}/G001.jpg")).unwrap().read_to_end(&mut photo).unwrap();
    assert_eq!(photo, good_photo());
    let tampered = link.replace(&format!("/{}", v["file"].as_str().unwrap()), "/approved-other-20260101-000000-000000.zip");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), StatusCode::FORBIDDEN);
    let r = app.post(&bureau, "/api/admin/exports", json!({"school_id": "no-such-school"})).await;
    assert_eq!(error_code(r).await, (StatusCode::NOT_FOUND, "unknown_school".into()));
    let r = app.post(&teacher, "/api/admin/exports", json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "only the bureau exports");

    // Every status change is in the audit trail.
    let v: Value = app.get(&bureau, "/api/admin/students/G002/audit").await.json().await.unwrap();
    let trail: Vec<(String, String, String)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].as_str().unwrap().into(), e["to"].as_str().unwrap().into(), e["actor"].as_str().unwrap().into()))
        .collect();
    let steps: Vec<(&str, &str)> = trail.iter().map(|(f, t, _)| (f.as_str(), t.as_str())).collect();
    assert_eq!(
        steps,
        [("not_uploaded", "uploaded"), ("uploaded", "rejected"), ("rejected", "uploaded"), ("uploaded", "pending_review"), ("pending_review", "rejected")]
    );
    let actors: Vec<&str> = trail.iter().map(|(_, _, a)| a.as_str()).collect();
    assert_eq!(actors, ["gezhi", "check", "gezhi", "check", "rev1"], "who: the teacher uploads, the check decides, the reviewer reviews");
}

#[tokio::test]
async fn registration_codes_are_single_use_and_passwords_follow_the_rule() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let r = app.post_csv(&bureau, "/api/admin/schools", "district,school,stage\n徐汇区,实验小学,小学\n").await;
    let code = r.json::<Value>().await.unwrap()["schools"][0]["registration_code"].as_str().unwrap().to_owned();
    let register = |code: String, username: &'static str, password: &'static str| {
        let app = &app;
        async move {
            error_code(app.client.post(app.at("/api/registration")).json(&json!({"code": code, "username": username, "password": password})).send().await.unwrap()).await
        }
    };
    assert_eq!(register(code.clone(), "teacher1", "abcdef").await, (StatusCode::BAD_REQUEST, "weak_password".into()));
    assert_eq!(register(code.clone(), "teacher1", "12345").await, (StatusCode::BAD_REQUEST, "weak_password".into()));
    assert_eq!(register(code.clone(), "a", "abc123").await, (StatusCode::BAD_REQUEST, "invalid_username".into()));
    assert_eq!(register("NOPE2345".into(), "teacher1", "abc123").await, (StatusCode::NOT_FOUND, "unknown_code".into()));
    assert_eq!(register(code.clone(), BUREAU.0, "abc123").await, (StatusCode::CONFLICT, "username_taken".into()));
    assert_eq!(register(code.clone(), "teacher1", "abc123").await.0, StatusCode::CREATED);
    assert_eq!(register(code.clone(), "teacher2", "abc123").await, (StatusCode::CONFLICT, "code_used".into()));
    let (status, c) = error_code(app.client.post(app.at("/api/registration/verify")).json(&json!({"code": code})).send().await.unwrap()).await;
    assert_eq!((status, c.as_str()), (StatusCode::CONFLICT, "code_used"));
    // The account works, and only for its own role.
    let r = app.login("teacher1", "abc123").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["role"], "school");
    assert_eq!(v["school"]["name"], "实验小学");
}
