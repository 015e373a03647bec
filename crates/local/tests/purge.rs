//! `gradphoto purge` through the real binary: after a campaign with uploads, reviews, a login
//! failure and an export, nothing personal is readable anywhere in the data folder, and the
//! server still starts and shows the schools.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn purge(data: &Path, flags: &[&str]) -> Output {
    Command::new(bin()).arg("purge").arg("--data").arg(data).args(flags).env("GRADPHOTO_LOG", "warn").output().expect("run gradphoto purge")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every file (and path) under `dir` holding `needle`.
fn holders(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut files = Vec::new();
    all_files(dir, &mut files);
    files
        .into_iter()
        .filter(|f| {
            let bytes = std::fs::read(f).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle) || f.to_string_lossy().as_bytes().windows(needle.len()).any(|w| w == needle)
        })
        .map(|f| f.display().to_string())
        .collect()
}

fn is_database(f: &Path) -> bool {
    f.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("gradphoto.sqlite3"))
}

#[tokio::test]
async fn purge_leaves_nothing_readable_and_the_server_still_runs() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "隐私测试中学", "初中", "PV", 4).await;
    // Distinctive names, so a byte scan cannot match anything else.
    let names: Vec<String> = (0..4).map(|i| format!("司马隐私{i}号")).collect();
    let mut csv = String::from("school_id,student_id,name,class\n");
    for (id, name) in school.ids.iter().zip(&names) {
        csv += &format!("{},{id},{name},九(7)班\n", school.school_id);
    }
    let r = app.post_csv(&bureau, "/api/admin/students", &csv).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // One photo approved, one rejected by the check, one waiting for review.
    assert_eq!(app.upload(&school.token, &school.ids[0], good_photo()).await, StatusCode::OK);
    assert_eq!(app.upload(&school.token, &school.ids[1], fixture("wrong-size.jpg")).await, StatusCode::OK);
    assert_eq!(app.upload(&school.token, &school.ids[2], good_photo_2()).await, StatusCode::OK);
    for id in &school.ids[..3] {
        app.settled(&school.token, id).await;
    }
    let r = app.post(&bureau, "/api/admin/reviewers", json!({"username": "rev_pv", "password": "review2026"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let reviewer = app.token("rev_pv", "review2026").await;
    let r = app.post(&reviewer, &format!("/api/review/{}", school.ids[0]), json!({"decision": "approve", "note": "司马隐私备注"})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // A failed login is recorded under the typed username.
    assert_eq!(app.login(&school.username, "wrong123").await.status(), StatusCode::UNAUTHORIZED);
    // The export (a ZIP of photos and a manifest of names), as the bureau downloads it.
    let r = app.get(&bureau, &format!("/api/admin/export?school_id={}", school.school_id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.bytes().await.unwrap().is_empty());
    // The page's export, kept in the store under exports/ (the purge must remove it too).
    let r = app.post(&bureau, "/api/admin/exports", json!({"school_id": school.school_id})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let data = app.crash();

    let needles: Vec<Vec<u8>> = names
        .iter()
        .map(|n| n.as_bytes().to_vec())
        .chain(school.ids.iter().map(|id| id.as_bytes().to_vec()))
        .chain([school.username.as_bytes().to_vec(), "司马隐私备注".as_bytes().to_vec()])
        .collect();
    assert!(!holders(data.path(), names[0].as_bytes()).is_empty(), "the scan finds the name before the purge");
    assert!(!holders(data.path(), school.ids[0].as_bytes()).is_empty(), "the scan finds the id before the purge");

    // Dry run: says what would go, deletes nothing.
    let out = purge(data.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("学生 4 名") && said.contains("照片文件 3 个") && said.contains("导出文件 1 个") && said.contains("--yes"), "{said}");
    assert!(said.contains("尚未结束"), "the dry run warns that the campaign is still running: {said}");
    assert!(!holders(data.path(), names[0].as_bytes()).is_empty(), "a dry run deletes nothing");

    // Before the campaign's end the purge is refused without --force.
    let out = purge(data.path(), &["--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("采集活动尚未结束") && text(&out.stderr).contains("--force"), "{}", text(&out.stderr));
    assert!(!holders(data.path(), names[0].as_bytes()).is_empty(), "a refused purge deletes nothing");

    let out = purge(data.path(), &["--yes", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("已清除：学生 4 名") && said.contains("学校账号 1 个") && said.contains("照片文件 3 个") && said.contains("导出文件 1 个"), "{said}");

    for needle in &needles {
        let found = holders(data.path(), needle);
        assert!(found.is_empty(), "{:?} is still readable in {found:?}", text(needle));
    }
    let mut files = Vec::new();
    all_files(data.path(), &mut files);
    for f in files.iter().filter(|f| !is_database(f)) {
        let bytes = std::fs::read(f).unwrap();
        assert!(!bytes.windows(3).any(|w| w == [0xFF, 0xD8, 0xFF]), "a JPEG is left in {}", f.display());
    }
    assert!(!data.path().join("photos/uploads").exists(), "the uploads folder (named by ids) is gone");
    assert!(!data.path().join("photos/exports").exists());

    let out = purge(data.path(), &["--yes", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("没有需要清除的个人数据"), "a second purge is a no-op: {}", text(&out.stdout));

    // The server starts on the purged folder: the bureau and reviewer still sign in, the
    // school is still listed with zero students, the teacher account is gone.
    let app = App::start(data, &[], &[]).await;
    let bureau = app.bureau().await;
    let v: Value = app.get(&bureau, "/api/admin/progress").await.json().await.unwrap();
    let row = v["schools"].as_array().unwrap().iter().find(|s| s["school_id"] == school.school_id.as_str()).unwrap_or_else(|| panic!("school kept: {v}")).clone();
    assert_eq!(row["registered"], false, "{row}");
    assert_eq!(row["counts"], json!({"not_uploaded": 0, "uploaded": 0, "pending_review": 0, "approved": 0, "rejected": 0}));
    assert_eq!(app.login(&school.username, "teach123").await.status(), StatusCode::UNAUTHORIZED, "the teacher account is deleted");
    let reviewer = app.token("rev_pv", "review2026").await;
    let v: Value = app.get(&reviewer, "/api/review/queue").await.json().await.unwrap();
    assert_eq!(v["items"], json!([]), "{v}");
    let r = app.get(&bureau, &format!("/api/admin/students/{}/audit", school.ids[0])).await;
    let trail: Value = r.json().await.unwrap_or(Value::Null);
    assert!(trail["events"].as_array().is_none_or(|e| e.is_empty()), "no audit trail left: {trail}");
    // A teacher registering with the school's code again finds an empty roster.
    let r = app.client.post(app.at("/api/registration")).json(&json!({"code": school.code, "username": "new_teacher", "password": "teach456"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let teacher = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let v: Value = app.get(&teacher, "/api/students").await.json().await.unwrap();
    assert_eq!(v["students"], json!([]), "{v}");
}
