//! The check's measured geometry reaches the reviewer, against the real server: a valid photo
//! of the corpus uploaded and checked shows its numbers on its queue item (with the check's
//! limits once per page), on the reviewer's decision and on the teacher's record; a photo the
//! check could not measure has none, and a new photo starts without the old one's.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_checked_photo_shows_the_reviewer_what_the_check_measured() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "测量中学", "senior", "GM", 2).await;
    let t = &school.token;
    let (measured, unmeasured) = (&school.ids[0], &school.ids[1]);

    // The corpus' valid photo passes and is measured; a wrong-size photo is rejected unmeasured.
    assert_eq!(app.upload(t, measured, good_photo()).await, StatusCode::OK);
    let record = app.settled(t, measured).await;
    assert_eq!(record["status"], "pending_review", "{record}");
    assert_eq!(app.upload(t, unmeasured, fixture("wrong-size.jpg")).await, StatusCode::OK);
    let record = app.settled(t, unmeasured).await;
    assert_eq!(record["status"], "rejected", "{record}");
    assert!(record.get("geometry").is_none(), "nothing measured, nothing shown: {record}");

    let r = app.post(&bureau, "/api/admin/accounts", json!({"role": "reviewer", "username": "geo_rev", "password": "review-2026-x"})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let reviewer = app.token("geo_rev", "review-2026-x").await;
    let queue: Value = app.get(&reviewer, "/api/review/queue").await.json().await.unwrap();
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{queue}");
    let g = &items[0]["geometry"];
    let num = |k: &str| g[k].as_f64().unwrap_or_else(|| panic!("geometry.{k} missing: {queue}"));
    let eye_line = num("eye_line");
    assert!((80.0..=188.0).contains(&eye_line), "a plausible eye line: {queue}");
    assert!(num("crown") >= 0.0 && num("crown") < eye_line && eye_line < num("chin") && num("chin") <= 354.0, "crown above the eyes above the chin: {queue}");
    assert!((0.45..=0.82).contains(&num("head_ratio")), "a valid head: {queue}");
    assert!(num("centre_offset").abs() <= 22.0 && num("roll").abs() < 15.0 && num("eye_distance") > 20.0, "{queue}");
    assert!((0.95..=1.6).contains(&num("width_to_height")), "{queue}");
    for k in ["eye_line", "crown", "chin", "centre_offset", "eye_distance"] {
        assert!(g[k].is_i64(), "{k} in whole pixels: {queue}");
    }
    assert_eq!(g.as_object().unwrap().len(), 8, "the stored form, nothing else: {queue}");
    let limits = &queue["geometry_limits"];
    assert_eq!((limits["eye_line_max"].as_f64(), limits["head_min_ratio"].as_f64().map(|x| (x * 100.0).round())), (Some(188.0), Some(45.0)), "{queue}");
    assert_eq!(limits["centre_max_offset_px"].as_f64(), Some(22.0), "8 % of 272 px: {queue}");
    assert_eq!((limits["crown_reject_below"].as_f64(), limits["crown_reject_above"].as_f64()), (Some(3.0), Some(64.0)), "{queue}");

    // The reviewer's decision answers with the record, numbers included; the teacher sees them.
    let photo_id = items[0]["photo_id"].as_str().unwrap();
    let r = app.post(&reviewer, &format!("/api/review/{measured}"), json!({"decision": "reject", "reasons": ["other"], "photo_id": photo_id, "note": "测试"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let decided: Value = r.json().await.unwrap();
    assert_eq!((&decided["status"], &decided["geometry"]), (&json!("rejected"), g), "{decided}");
    let record: Value = app.get(t, &format!("/api/students/{measured}")).await.json().await.unwrap();
    assert_eq!(&record["geometry"], g, "{record}");

    // A new photo starts unmeasured: the wrong-size one replaces the measured one.
    assert_eq!(app.upload(t, measured, fixture("wrong-size.jpg")).await, StatusCode::OK);
    let record = app.settled(t, measured).await;
    assert_eq!(record["status"], "rejected", "{record}");
    assert!(record.get("geometry").is_none(), "the old photo's numbers are gone: {record}");
}
