//! District (区县) accounts, black-box against the real server: a district sees and works on
//! its own schools only — every route of another district's school and every bureau-only route
//! answers 403, never the data — and resets a school's lost account.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Read;

struct Place {
    school_id: String,
    code: String,
    teacher: String,
    ids: Vec<String>,
}

/// One school in `district` with `n` students and a registered teacher `teacher_{prefix}`.
async fn school_in(app: &App, bureau: &str, district: &str, name: &str, prefix: &str, n: usize) -> Place {
    let r = app.post_csv(bureau, "/api/admin/schools", &format!("district,school,stage\n{district},{name},高中\n")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let school_id = v["schools"][0]["school_id"].as_str().unwrap().to_owned();
    let code = v["schools"][0]["registration_code"].as_str().unwrap().to_owned();
    let ids: Vec<String> = (1..=n).map(|i| format!("{prefix}{i:04}")).collect();
    let csv: String = ids.iter().enumerate().map(|(i, id)| format!("{school_id},{id},学生{i},1班\n")).collect();
    assert_eq!(app.post_csv(bureau, "/api/admin/students", &format!("school_id,student_id,name,class\n{csv}")).await.status(), StatusCode::OK);
    let teacher = format!("teacher_{}", prefix.to_lowercase());
    let r = app.client.post(app.at("/api/registration")).json(&json!({"code": code, "username": teacher, "password": "teach123"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    Place { school_id, code, teacher, ids }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_district_works_on_its_own_schools_only() {
    let app = App::spawn().await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let east = school_in(&app, &bureau, "东区", "东区一中", "EA", 3).await;
    let west = school_in(&app, &bureau, "西区", "西区一中", "WE", 2).await;
    let east_teacher = app.token(&east.teacher, "teach123").await;
    assert_eq!(app.upload(&east_teacher, &east.ids[0], good_photo()).await, StatusCode::OK);
    app.settled(&east_teacher, &east.ids[0]).await;

    // The bureau creates the account; a district must exist, and only the bureau creates.
    let create = |body: Value| app.post(&bureau, "/api/admin/accounts", body);
    assert_eq!(error_code(create(json!({"role": "district", "district": "北区", "username": "north1", "password": "north123"})).await).await, (StatusCode::BAD_REQUEST, "unknown_district".into()));
    assert_eq!(error_code(create(json!({"role": "bureau", "username": "boss2", "password": "boss1234"})).await).await, (StatusCode::BAD_REQUEST, "invalid_role".into()));
    assert_eq!(create(json!({"role": "district", "district": "东区", "username": "east_officer", "password": "east1234"})).await.status(), StatusCode::CREATED);
    let r = app.login("east_officer", "east1234").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["role"].as_str(), v["district"].as_str()), (Some("district"), Some("东区")), "{v}");
    let d = v["token"].as_str().unwrap().to_owned();

    // Its own district: progress, schools with codes, students, chase list, export.
    let v: Value = app.get(&d, "/api/admin/progress").await.json().await.unwrap();
    let names: Vec<&str> = v["schools"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["东区一中"], "{v}");
    let v: Value = app.get(&d, "/api/admin/schools").await.json().await.unwrap();
    assert_eq!(v["schools"].as_array().unwrap().len(), 1);
    assert_eq!(v["schools"][0]["registration_code"], east.code.as_str(), "a district hands out its schools' codes");
    let v: Value = app.get(&d, &format!("/api/admin/students?school_id={}", east.school_id)).await.json().await.unwrap();
    assert_eq!(v["students"].as_array().map(Vec::len), Some(3), "{v}");
    let chase = app.get(&d, "/api/admin/chase.csv").await.text().await.unwrap();
    assert!(chase.starts_with('\u{feff}'), "Excel-ready BOM");
    assert!(chase.lines().next().unwrap().contains("老师用户名"));
    assert!(chase.contains(&east.ids[1]) && chase.contains("teacher_ea") && chase.contains("已注册"), "{chase}");
    assert!(!chase.contains(&east.ids[0]), "an uploaded student is not chased: {chase}");
    assert!(!chase.contains(&west.ids[0]) && !chase.contains("西区"), "{chase}");
    let bureau_chase = app.get(&bureau, "/api/admin/chase.csv?district=西区").await.text().await.unwrap();
    assert!(bureau_chase.contains(&west.ids[0]) && !bureau_chase.contains(&east.ids[1]), "the bureau narrows by district");
    let zip = app.get(&d, "/api/admin/export").await.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    assert!(!manifest.contains(&west.school_id));
    let v: Value = app.get(&d, "/api/admin/stats").await.json().await.unwrap();
    assert_eq!((v["students"].as_i64(), v["counts"]["pending_review"].as_i64(), v["counts"]["not_uploaded"].as_i64()), (Some(3), Some(1), Some(2)), "{v}");
    let districts: Vec<&str> = v["by_district"].as_array().unwrap().iter().map(|d| d["district"].as_str().unwrap()).collect();
    assert_eq!(districts, ["东区"], "a district sees its own figures only: {v}");
    assert_eq!(v["per_day"][0]["uploads"].as_i64(), Some(1), "{v}");
    let v: Value = app.get(&bureau, "/api/admin/stats").await.json().await.unwrap();
    let districts: Vec<(&str, i64)> = v["by_district"].as_array().unwrap().iter().map(|d| (d["district"].as_str().unwrap(), d["students"].as_i64().unwrap())).collect();
    assert_eq!((v["students"].as_i64(), districts), (Some(5), vec![("东区", 3), ("西区", 2)]), "the bureau sees every district");
    let v: Value = app.get(&bureau, "/api/admin/stats?district=西区").await.json().await.unwrap();
    assert_eq!((v["students"].as_i64(), v["by_district"].as_array().map(Vec::len)), (Some(2), Some(1)), "the bureau narrows: {v}");

    // Another district's school on every route that takes one, and every bureau-only route.
    let district_routes = [
        ("GET", "/api/admin/progress"),
        ("GET", "/api/admin/stats"),
        ("GET", "/api/admin/schools"),
        ("GET", "/api/admin/students"),
        ("GET", "/api/admin/chase.csv"),
        ("GET", "/api/admin/export"),
        ("POST", "/api/admin/exports"),
        ("POST", "/api/admin/schools/{school_id}/reset"),
    ];
    for (method, path) in routes_of_the_api() {
        let allowed = district_routes.iter().any(|(m, p)| *m == method && *p == path);
        let public = ["/api/window", "/api/registration/verify", "/api/registration", "/api/sessions", "/api/parent/sessions"].contains(&path.as_str());
        if public {
            continue;
        }
        let concrete = path.replace("{school_id}", &west.school_id).replace("{student_id}", &west.ids[0]);
        let concrete = if allowed && method == "GET" && !path.contains('{') {
            format!("{concrete}?school_id={}&district=西区", west.school_id)
        } else {
            concrete
        };
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.client.request(m, app.at(&concrete)).bearer_auth(&d).json(&json!({"school_id": west.school_id})).send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if allowed && (path == "/api/admin/progress" || path == "/api/admin/schools") {
            // These take no school: they answer the district's own schools only.
            assert_eq!(status, StatusCode::OK, "{method} {concrete}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {concrete} answered {status} to a district: {body}");
        }
        assert!(!body.contains(&west.school_id) && !body.contains("西区一中") && !body.contains(&west.code), "{method} {concrete} leaked: {body}");
    }

    // A school's lost account: a new code; the old account cannot log in, its sessions end.
    let reset: Value = app.post(&d, &format!("/api/admin/schools/{}/reset", east.school_id), json!({})).await.json().await.unwrap();
    let new_code = reset["registration_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, east.code);
    assert_eq!(reset["registered"], false);
    assert_eq!(app.login(&east.teacher, "teach123").await.status(), StatusCode::UNAUTHORIZED, "the old account is gone");
    assert_eq!(error_code(app.get(&east_teacher, "/api/school").await).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()), "its session ended");
    let r = app.client.post(app.at("/api/registration")).json(&json!({"code": east.code, "username": "teacher_new", "password": "teach123"})).send().await.unwrap();
    assert_eq!(error_code(r).await.1, "unknown_code", "the old code is void");
    let r = app.client.post(app.at("/api/registration")).json(&json!({"code": new_code, "username": "teacher_new", "password": "teach123"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let fresh = app.token("teacher_new", "teach123").await;
    let roster: Value = app.get(&fresh, "/api/students").await.json().await.unwrap();
    assert_eq!(roster["students"].as_array().unwrap().len(), 3, "the school's students and photos stay");
    assert_eq!(roster["students"][0]["status"], "pending_review");
}
