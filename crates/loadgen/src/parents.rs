//! `--parents`: every student's parent logs in with the personal code the school issued and
//! uploads the photo, `--clients` at a time, while the teacher uploads some of the same students
//! at the same moment. Under overload only `busy` (503) may refuse; afterwards every student
//! must have exactly one decided photo and one check decision in its audit trail.

use super::{Args, expect_json, ms};
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Default)]
struct Tally {
    busy: AtomicUsize,
    other: AtomicUsize,
    parent_won: AtomicUsize,
    teacher_won: AtomicUsize,
    lost_race: AtomicUsize,
}

/// Sends `make()` until the answer is not 503 busy (each busy answer counted).
async fn until_not_busy(tally: &Tally, make: impl Fn() -> reqwest::RequestBuilder) -> Option<reqwest::Response> {
    loop {
        match make().send().await {
            Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => {
                tally.busy.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(r) => return Some(r),
            Err(_) => return None,
        }
    }
}

/// PUTs `photo` to a grant; `Some(true)` if the store took it, `Some(false)` if it refused it as
/// the loser of the one-winner race (409), `None` on anything else.
async fn put(tally: &Tally, client: &Client, grant: &Value, photo: &[u8]) -> Option<bool> {
    let url = grant["url"].as_str()?;
    let r = until_not_busy(tally, || {
        let mut req = client.put(url).body(photo.to_vec());
        for (k, v) in grant["headers"].as_object().into_iter().flatten() {
            req = req.header(k, v.as_str().unwrap_or_default());
        }
        req
    })
    .await?;
    match r.status() {
        StatusCode::OK => Some(true),
        StatusCode::CONFLICT => Some(false),
        _ => None,
    }
}

pub async fn run(args: &Args, client: &Client, url: &str, bureau: &str, teacher: &str, ids: &[String], photo: Arc<Vec<u8>>) {
    let v = expect_json(client.post(format!("{url}/api/school/parent-codes")).bearer_auth(teacher).json(&json!({})).send().await.unwrap(), "parent codes").await;
    let codes: HashMap<String, String> =
        v["codes"].as_array().unwrap().iter().map(|c| (c["student_id"].as_str().unwrap().to_owned(), c["code"].as_str().unwrap().to_owned())).collect();
    let jobs: Arc<Vec<(usize, String, String)>> = Arc::new(ids.iter().enumerate().map(|(i, id)| (i, id.clone(), codes[id].clone())).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Tally::default());
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (client, url, teacher, photo, jobs, next, tally, hist) =
            (client.clone(), url.to_owned(), teacher.to_owned(), photo.clone(), jobs.clone(), next.clone(), tally.clone(), hist.clone());
        let every = args.teacher_every.max(1);
        workers.push(tokio::spawn(async move {
            while let Some((i, id, code)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)).cloned() {
                let t = Instant::now();
                let Some(r) = until_not_busy(&tally, || client.post(format!("{url}/api/parent/sessions")).json(&json!({"student_id": id, "code": code}))).await else {
                    tally.other.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let login: Value = if r.status() == StatusCode::OK { r.json().await.unwrap_or(Value::Null) } else { Value::Null };
                let Some(token) = login["token"].as_str().map(str::to_owned) else {
                    tally.other.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let parent_grant = async {
                    let r = until_not_busy(&tally, || client.post(format!("{url}/api/parent/uploads")).bearer_auth(&token).json(&json!({"size": photo.len(), "content_type": "image/jpeg"}))).await?;
                    let v: Value = r.json().await.ok()?;
                    Some(v["upload"].clone())
                };
                let teacher_grant = async {
                    if i % every != 0 {
                        return None;
                    }
                    let r = until_not_busy(&tally, || {
                        client.post(format!("{url}/api/uploads")).bearer_auth(&teacher).json(&json!({"files": [{"student_id": id, "size": photo.len()}], "content_type": "image/jpeg"}))
                    })
                    .await?;
                    let v: Value = r.json().await.ok()?;
                    Some(v["uploads"][0].clone())
                };
                let (pg, tg) = tokio::join!(parent_grant, teacher_grant);
                let (pp, tp) = tokio::join!(
                    async { match &pg { Some(g) if g.is_object() => put(&tally, &client, g, &photo).await, _ => None } },
                    async { match &tg { Some(g) if g.is_object() => put(&tally, &client, g, &photo).await, _ => None } },
                );
                match (pp, tp, i % every == 0) {
                    (Some(true), Some(false), true) => {
                        tally.parent_won.fetch_add(1, Ordering::Relaxed);
                        tally.lost_race.fetch_add(1, Ordering::Relaxed);
                    }
                    (Some(false), Some(true), true) => {
                        tally.teacher_won.fetch_add(1, Ordering::Relaxed);
                        tally.lost_race.fetch_add(1, Ordering::Relaxed);
                    }
                    // The teacher's ticket may be refused outright when the parent's upload had
                    // already landed (already_uploaded): also one winner.
                    (Some(true), None, true) if tg.as_ref().is_some_and(|g| !g.is_object()) => {
                        tally.parent_won.fetch_add(1, Ordering::Relaxed);
                    }
                    (Some(true), None, false) => {
                        tally.parent_won.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        tally.other.fetch_add(1, Ordering::Relaxed);
                    }
                }
                hist.lock().await.record(t.elapsed().as_micros() as u64).ok();
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let upload_secs = started.elapsed().as_secs_f64();
    loop {
        let v = expect_json(client.get(format!("{url}/api/school")).bearer_auth(teacher).send().await.unwrap(), "school").await;
        if v["counts"]["uploaded"].as_u64() == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let decided_secs = started.elapsed().as_secs_f64();
    // Exactly one decision per student: one upload and one check event in each audit trail.
    let roster = expect_json(client.get(format!("{url}/api/students")).bearer_auth(teacher).send().await.unwrap(), "roster").await;
    let students = roster["students"].as_array().cloned().unwrap_or_default();
    let undecided = students.iter().filter(|s| !matches!(s["status"].as_str(), Some("pending_review" | "rejected" | "approved"))).count();
    let mut not_exactly_once = 0;
    for s in &students {
        let id = s["student_id"].as_str().unwrap_or_default();
        let v = expect_json(client.get(format!("{url}/api/admin/students/{id}/audit")).bearer_auth(bureau).send().await.unwrap(), "audit").await;
        let events = v["events"].as_array().cloned().unwrap_or_default();
        let uploads = events.iter().filter(|e| e["to"] == "uploaded").count();
        let checks = events.iter().filter(|e| e["actor"] == "check" || e["actor"] == "auto").count();
        if uploads != 1 || checks != 1 {
            not_exactly_once += 1;
        }
    }
    let h = hist.lock().await;
    let summary = json!({
        "mode": "parents",
        "clients": args.clients,
        "students": ids.len(),
        "teacher_races": ids.len().div_ceil(args.teacher_every.max(1)),
        "parent_won": tally.parent_won.load(Ordering::Relaxed),
        "teacher_won": tally.teacher_won.load(Ordering::Relaxed),
        "race_losers_refused_by_the_store": tally.lost_race.load(Ordering::Relaxed),
        "busy_answers": tally.busy.load(Ordering::Relaxed),
        "other_failures": tally.other.load(Ordering::Relaxed),
        "students_not_decided": undecided,
        "students_without_exactly_one_upload_and_one_decision": not_exactly_once,
        "upload_seconds": (upload_secs * 100.0).round() / 100.0,
        "parents_per_sec": (ids.len() as f64 / upload_secs).round(),
        "all_decided_seconds": (decided_secs * 100.0).round() / 100.0,
        "login_to_put_ms": {"p50": ms(&h, 0.5), "p99": ms(&h, 0.99), "max": h.max() as f64 / 1000.0},
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if tally.other.load(Ordering::Relaxed) > 0 || undecided > 0 || not_exactly_once > 0 {
        std::process::exit(1);
    }
}
