//! `kill -9` in the middle of a batch: after a restart no photo is lost and none stays in
//! `uploaded` — the start-up sweep re-checks what landed but was not decided.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn a_crash_mid_batch_loses_nothing_and_leaves_nothing_undecided() {
    // No check workers: every photo is still waiting when the server dies.
    let app = App::spawn_with(&["--check-workers", "0"], &[]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "六中", "senior", "K", 40).await;
    let photos = [good_photo(), good_photo_2()];
    let mut accepted = Vec::new();
    for (i, id) in school.ids.iter().enumerate() {
        if app.upload(&school.token, id, photos[i % 2].clone()).await == StatusCode::OK {
            accepted.push(id.clone());
        }
    }
    assert_eq!(accepted.len(), 40);
    let v: Value = app.get(&school.token, "/api/school").await.json().await.unwrap();
    assert_eq!(v["counts"]["uploaded"], 40);
    let data = app.crash();

    let app = App::start(data, &[], &[]).await;
    let token = app.token(&school.username, "teach123").await;
    for id in &accepted {
        let v = app.settled(&token, id).await;
        assert!(v["status"] == "pending_review" || v["status"] == "rejected", "{v}");
        // The photo that won is still there, whole.
        let url = v["photo_url"].as_str().expect("photo kept");
        let bytes = app.client.get(url).send().await.unwrap().bytes().await.unwrap().to_vec();
        assert!(bytes == photos[0] || bytes == photos[1], "{id}: photo intact");
    }
    let v: Value = app.get(&token, "/api/school").await.json().await.unwrap();
    assert_eq!(v["counts"]["uploaded"], 0);
    assert_eq!(v["counts"]["not_uploaded"], 0);
    // Exactly one upload recorded per student, even though some were checked twice.
    let bureau = app.bureau().await;
    for id in accepted.iter().take(10) {
        let v: Value = app.get(&bureau, &format!("/api/admin/students/{id}/audit")).await.json().await.unwrap();
        let uploads = v["events"].as_array().unwrap().iter().filter(|e| e["to"] == "uploaded").count();
        let decisions = v["events"].as_array().unwrap().iter().filter(|e| e["from"] == "uploaded").count();
        assert_eq!((uploads, decisions), (1, 1), "{id}: {v}");
    }
}
