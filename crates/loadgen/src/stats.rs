//! `--stats`: issue 15's speed requirement, `GET /api/admin/stats` at city size. Seeds a
//! campaign through the real HTTP API (`--stats-schools` schools in `--stats-districts`
//! districts, `--stats-students` students imported as roster CSV in `--stats-chunk`-row
//! requests), makes a mixed history on part of it with the full upload flow (valid photos and
//! photos the check rejects, then a reviewer approving most of the queue and rejecting some),
//! and then measures four routes side by side: the city's stats, one district's stats, the
//! per-school progress (a peer that reads every school's counters) and `GET /api/window`
//! (a floor: one campaign read). Every one of `--clients` clients asks for the four routes in
//! turn, with no pause, for `--stats-seconds`: once quiet, once while uploads continue at
//! `--stats-upload-rate` per second. Prints a JSON summary.
//!
//! The answers are checked, not only timed: the stats' `students` is the seeded number (plus
//! what the store held before), its `counts` sum to it and equal the sum of the progress
//! route's per-school counts, city-wide and per district; during the runs every stats answer
//! must add up. Exits 1 on any failure.

use super::{Args, expect_json, ms};
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Semaphore};

/// Concurrent uploaders while the history is made (the first batch).
const UPLOAD_CLIENTS: usize = 16;
/// Most uploads in flight at once behind the paced background batch.
const BACKGROUND_IN_FLIGHT: usize = 32;
const STATUSES: [&str; 5] = ["not_uploaded", "uploaded", "pending_review", "approved", "rejected"];

/// One student to upload: which teacher, which student, and whether it gets the photo the
/// check rejects.
#[derive(Clone)]
struct Job {
    teacher: usize,
    student_id: String,
    reject: bool,
}

#[derive(Default)]
struct UploadTally {
    accepted: AtomicUsize,
    rejected_photos: AtomicUsize,
    busy: AtomicUsize,
    failed: AtomicUsize,
}

struct Ctx {
    client: Client,
    url: String,
    bureau: String,
    teachers: Vec<String>,
    valid: Arc<Vec<u8>>,
    reject: Arc<Vec<u8>>,
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn pct_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn hist_json(h: &Histogram<u64>) -> Value {
    json!({"samples": h.len(), "p50": ms(h, 0.5), "p99": ms(h, 0.99), "max": h.max() as f64 / 1000.0})
}

fn counts_of(v: &Value) -> [i64; 5] {
    STATUSES.map(|s| v[s].as_i64().unwrap_or(-1))
}

fn file_mb(p: &Path) -> Option<f64> {
    std::fs::metadata(p).ok().map(|m| r2(m.len() as f64 / 1_048_576.0))
}

fn db_size(db: Option<&Path>) -> Value {
    let Some(db) = db else { return Value::Null };
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap_or_default().to_string_lossy()));
    json!({"db_mb": file_mb(db), "wal_mb": file_mb(&wal)})
}

/// One upload through the page's flow: ticket + presigned URL, then the PUT; retried on 503.
async fn upload(ctx: &Ctx, job: &Job, tally: &UploadTally) -> Result<(), String> {
    let photo = if job.reject { &ctx.reject } else { &ctx.valid };
    loop {
        let r = ctx
            .client
            .post(format!("{}/api/uploads", ctx.url))
            .bearer_auth(&ctx.teachers[job.teacher])
            .json(&json!({"files": [{"student_id": job.student_id, "size": photo.len()}], "content_type": "image/jpeg"}))
            .send()
            .await
            .map_err(|e| format!("presign: {e}"))?;
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            tally.busy.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let v: Value = r.json().await.map_err(|e| format!("presign body: {e}"))?;
        let grant = &v["uploads"][0];
        let Some(put_url) = grant["url"].as_str() else { return Err(format!("no grant for {}: {v}", job.student_id)) };
        let mut req = ctx.client.put(put_url).body(photo.to_vec());
        for (k, val) in grant["headers"].as_object().into_iter().flatten() {
            req = req.header(k, val.as_str().unwrap_or_default());
        }
        match req.send().await.map(|r| r.status()) {
            Ok(StatusCode::OK) => {
                tally.accepted.fetch_add(1, Ordering::Relaxed);
                if job.reject {
                    tally.rejected_photos.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(());
            }
            Ok(StatusCode::SERVICE_UNAVAILABLE) => {
                tally.busy.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return Err(format!("PUT {}: {other:?}", job.student_id)),
        }
    }
}

/// The first batch, as fast as `UPLOAD_CLIENTS` clients go.
async fn upload_all(ctx: &Arc<Ctx>, jobs: Vec<Job>, tally: &Arc<UploadTally>) {
    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..UPLOAD_CLIENTS {
        let (ctx, jobs, next, tally) = (ctx.clone(), jobs.clone(), next.clone(), tally.clone());
        workers.push(tokio::spawn(async move {
            while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                if let Err(e) = upload(&ctx, job, &tally).await {
                    eprintln!("upload: {e}");
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
}

/// The background batch: `rate` uploads started per second until `deadline` (or the jobs run
/// out); returns the uploads' latencies (presign to PUT answered).
async fn upload_paced(ctx: Arc<Ctx>, jobs: Vec<Job>, rate: u64, deadline: Instant, tally: Arc<UploadTally>) -> Histogram<u64> {
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let slots = Arc::new(Semaphore::new(BACKGROUND_IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut running = tokio::task::JoinSet::new();
    for job in jobs {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (ctx, tally, hist) = (ctx.clone(), tally.clone(), hist.clone());
        running.spawn(async move {
            let t = Instant::now();
            match upload(&ctx, &job, &tally).await {
                Ok(()) => {
                    hist.lock().await.record(t.elapsed().as_micros() as u64).ok();
                }
                Err(e) => {
                    eprintln!("background upload: {e}");
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(permit);
        });
    }
    while running.join_next().await.is_some() {}
    Arc::try_unwrap(hist).ok().unwrap().into_inner()
}

async fn get_json(ctx: &Ctx, path: &str, what: &str) -> Value {
    expect_json(ctx.client.get(format!("{}{path}", ctx.url)).bearer_auth(&ctx.bureau).send().await.unwrap(), what).await
}

/// City-wide counts as the progress route adds them up from its per-school counters, and per
/// district.
async fn progress_sums(ctx: &Ctx) -> ([i64; 5], BTreeMap<String, [i64; 5]>) {
    let v = get_json(ctx, "/api/admin/progress", "progress").await;
    let mut all = [0i64; 5];
    let mut by: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for s in v["schools"].as_array().expect("progress schools") {
        let c = counts_of(&s["counts"]);
        let d = by.entry(s["district"].as_str().unwrap_or_default().to_owned()).or_default();
        for i in 0..5 {
            all[i] += c[i];
            d[i] += c[i];
        }
    }
    (all, by)
}

/// Waits until every accepted photo has been claimed and checked: none `uploaded`, and as many
/// `not_uploaded` as there should be.
async fn settle(ctx: &Ctx, not_uploaded: i64) -> f64 {
    let started = Instant::now();
    loop {
        let (all, _) = progress_sums(ctx).await;
        if all[1] == 0 && all[0] == not_uploaded {
            return r2(started.elapsed().as_secs_f64());
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "photos never settled: {all:?}, want not_uploaded {not_uploaded}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The checks of the stats' answer against the seeding and the progress route; returns what
/// failed (empty when right) and the city's stats.
async fn verify(ctx: &Ctx, students: i64, district: &str, district_students: i64) -> (Vec<String>, Value) {
    let mut bad = Vec::new();
    let stats = get_json(ctx, "/api/admin/stats", "stats").await;
    let (progress, progress_by) = progress_sums(ctx).await;
    let counts = counts_of(&stats["counts"]);
    if stats["students"].as_i64() != Some(students) {
        bad.push(format!("stats.students {} != seeded {students}", stats["students"]));
    }
    if counts.iter().sum::<i64>() != students {
        bad.push(format!("stats.counts {counts:?} sum to {} != {students}", counts.iter().sum::<i64>()));
    }
    if counts != progress {
        bad.push(format!("stats.counts {counts:?} != progress' per-school sum {progress:?}"));
    }
    for d in stats["by_district"].as_array().into_iter().flatten() {
        let name = d["district"].as_str().unwrap_or_default();
        let c = counts_of(&d["counts"]);
        if progress_by.get(name) != Some(&c) {
            bad.push(format!("district {name}: stats {c:?} != progress {:?}", progress_by.get(name)));
        }
        if d["students"].as_i64() != Some(c.iter().sum()) {
            bad.push(format!("district {name}: students {} != its counts' sum", d["students"]));
        }
    }
    let one = get_json(ctx, &format!("/api/admin/stats?district={}", pct_encode(district)), "district stats").await;
    let c = counts_of(&one["counts"]);
    if one["students"].as_i64() != Some(district_students) || c.iter().sum::<i64>() != district_students || progress_by.get(district) != Some(&c) {
        bad.push(format!("stats?district={district}: students {} counts {c:?}, want {district_students} and progress {:?}", one["students"], progress_by.get(district)));
    }
    (bad, stats)
}

struct Route {
    name: &'static str,
    path: String,
    auth: bool,
    /// For the stats routes: the `students` every answer must have.
    students: Option<i64>,
}

#[derive(Default)]
struct RouteResult {
    hist: Option<Histogram<u64>>,
    errors: usize,
    wrong: usize,
}

/// `clients` clients, each asking for every route in turn (a rotating start, so the routes
/// are interleaved at every moment), until `secs` have passed.
async fn measure(ctx: &Arc<Ctx>, routes: &Arc<Vec<Route>>, clients: usize, secs: u64) -> Vec<RouteResult> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for w in 0..clients {
        let (ctx, routes) = (ctx.clone(), routes.clone());
        workers.push(tokio::spawn(async move {
            let mut out: Vec<RouteResult> = routes.iter().map(|_| RouteResult { hist: Some(Histogram::new(3).unwrap()), ..Default::default() }).collect();
            let mut n = w;
            while Instant::now() < deadline {
                let i = n % routes.len();
                n += 1;
                let route = &routes[i];
                let mut req = ctx.client.get(format!("{}{}", ctx.url, route.path));
                if route.auth {
                    req = req.bearer_auth(&ctx.bureau);
                }
                let t = Instant::now();
                let answer = match req.send().await {
                    Ok(r) => {
                        let status = r.status();
                        r.bytes().await.ok().filter(|_| status == StatusCode::OK)
                    }
                    Err(_) => None,
                };
                let took = t.elapsed().as_micros() as u64;
                let Some(body) = answer else {
                    out[i].errors += 1;
                    continue;
                };
                out[i].hist.as_mut().unwrap().record(took).ok();
                if let Some(students) = route.students {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    if v["students"].as_i64() != Some(students) || counts_of(&v["counts"]).iter().sum::<i64>() != students {
                        out[i].wrong += 1;
                    }
                }
            }
            out
        }));
    }
    let mut total: Vec<RouteResult> = routes.iter().map(|_| RouteResult { hist: Some(Histogram::new(3).unwrap()), ..Default::default() }).collect();
    for w in workers {
        for (t, r) in total.iter_mut().zip(w.await.unwrap()) {
            t.hist.as_mut().unwrap().add(r.hist.unwrap()).unwrap();
            t.errors += r.errors;
            t.wrong += r.wrong;
        }
    }
    total
}

fn phase_json(routes: &[Route], results: &[RouteResult]) -> (Value, usize) {
    let mut out = serde_json::Map::new();
    let mut failures = 0;
    let p99 = |name: &str| routes.iter().zip(results).find(|(r, _)| r.name == name).map(|(_, x)| ms(x.hist.as_ref().unwrap(), 0.99)).unwrap_or(0.0);
    for (route, r) in routes.iter().zip(results) {
        let mut v = hist_json(r.hist.as_ref().unwrap());
        v["errors"] = json!(r.errors);
        if route.students.is_some() {
            v["wrong_answers"] = json!(r.wrong);
        }
        failures += r.errors + r.wrong;
        if r.hist.as_ref().unwrap().is_empty() {
            failures += 1;
        }
        out.insert(route.name.to_owned(), v);
    }
    let ratio = |a: &str, b: &str| {
        let d = p99(b);
        if d > 0.0 { r2(p99(a) / d) } else { 0.0 }
    };
    out.insert(
        "p99_ratios".into(),
        json!({
            "stats_to_window": ratio("stats", "window"),
            "stats_district_to_window": ratio("stats_district", "window"),
            "stats_to_progress": ratio("stats", "progress"),
            "progress_to_window": ratio("progress", "window"),
        }),
    );
    (Value::Object(out), failures)
}

/// `--stats-no-seed`: measures a server whose data folder was built beforehand (an aged
/// campaign, `crates/local/examples/aged_campaign.rs`): no seeding, no history, no campaign
/// change. Reads the figures the store holds, checks them against the progress route (city
/// and every district, and `?district=` for one), times the same four routes interleaved
/// from `--clients` clients for `--stats-seconds` quiet, checks again (nothing may have
/// moved), and then (unless `--stats-quiet-only`) once more while uploads run in the
/// background: a teacher registers for one not yet registered school per district with the
/// code `GET /api/admin/schools` lists, and uploads that school's `not_uploaded` students at
/// `--stats-upload-rate` per second (every `--stats-reject-every`-th the rejected photo). The
/// folder keeps those uploads (today's activity), so a second run starts from the first's end.
pub async fn run_measure_only(args: &Args, client: &Client, url: &str, bureau: &str, valid: Arc<Vec<u8>>) {
    let reject = Arc::new(std::fs::read(&args.stats_reject_photo).expect("read --stats-reject-photo"));
    let mut ctx = Ctx { client: client.clone(), url: url.to_owned(), bureau: bureau.to_owned(), teachers: Vec::new(), valid, reject };
    let mut failures: Vec<String> = Vec::new();
    let before = get_json(&ctx, "/api/admin/stats", "stats").await;
    let students = before["students"].as_i64().unwrap_or(0);
    let districts = before["by_district"].as_array().cloned().unwrap_or_default();
    let chosen = match &args.stats_district {
        Some(name) => districts.iter().find(|d| d["district"] == name.as_str()).cloned(),
        None => districts.first().cloned(),
    };
    let Some(chosen) = chosen else {
        eprintln!("no district {:?} in the stats answer: {before}", args.stats_district);
        std::process::exit(1);
    };
    let district = chosen["district"].as_str().unwrap_or_default().to_owned();
    let district_students = chosen["students"].as_i64().unwrap_or(0);
    if students == 0 {
        failures.push("the store holds no students: build the folder first".into());
    }
    let day_uploads = |v: &Value| v["per_day"].as_array().into_iter().flatten().map(|d| d["uploads"].as_i64().unwrap_or(0)).sum::<i64>();
    let (bad, _) = verify(&ctx, students, &district, district_students).await;
    failures.extend(bad.into_iter().map(|b| format!("before: {b}")));
    let routes = Arc::new(vec![
        Route { name: "stats", path: "/api/admin/stats".into(), auth: true, students: Some(students) },
        Route { name: "stats_district", path: format!("/api/admin/stats?district={}", pct_encode(&district)), auth: true, students: Some(district_students) },
        Route { name: "progress", path: "/api/admin/progress".into(), auth: true, students: None },
        Route { name: "window", path: "/api/window".into(), auth: false, students: None },
    ]);
    let mut answer_kb = serde_json::Map::new();
    for route in routes.iter().take(3) {
        let r = ctx.client.get(format!("{}{}", ctx.url, route.path)).bearer_auth(&ctx.bureau).send().await.unwrap();
        answer_kb.insert(route.name.to_owned(), json!(r2(r.bytes().await.map(|b| b.len()).unwrap_or(0) as f64 / 1024.0)));
    }

    let quiet = {
        let ctx = Arc::new(Ctx { teachers: Vec::new(), client: ctx.client.clone(), url: ctx.url.clone(), bureau: ctx.bureau.clone(), valid: ctx.valid.clone(), reject: ctx.reject.clone() });
        measure(&ctx, &routes, args.clients, args.stats_seconds).await
    };
    let (bad, after_quiet) = verify(&ctx, students, &district, district_students).await;
    failures.extend(bad.into_iter().map(|b| format!("after the quiet run: {b}")));
    if after_quiet["counts"] != before["counts"] || after_quiet["per_day"] != before["per_day"] {
        failures.push("the figures changed during the quiet run".into());
    }
    let (quiet_json, quiet_failures) = phase_json(&routes, &quiet);
    if quiet_failures > 0 {
        failures.push(format!("quiet: {quiet_failures} measured requests failed or answered wrong figures"));
    }

    let mut loaded_json = Value::Null;
    let mut background = Value::Null;
    if !args.stats_quiet_only {
        // One school per district that nobody registered yet, and its students with no photo.
        let run = format!("{:x}", chrono::Utc::now().timestamp_millis());
        let schools = get_json(&ctx, "/api/admin/schools", "schools").await;
        let mut picked: BTreeMap<String, String> = BTreeMap::new();
        for s in schools["schools"].as_array().into_iter().flatten() {
            if s["username"].is_null() {
                picked.entry(s["district"].as_str().unwrap_or_default().to_owned()).or_insert_with(|| s["registration_code"].as_str().unwrap_or_default().to_owned());
            }
        }
        let mut rosters: Vec<Vec<String>> = Vec::new();
        for (j, code) in picked.values().enumerate() {
            let v = expect_json(
                client.post(format!("{url}/api/registration")).json(&json!({"code": code, "username": format!("a{run}x{j}"), "password": "load1234"})).send().await.unwrap(),
                "register",
            )
            .await;
            let token = v["token"].as_str().unwrap().to_owned();
            let list = expect_json(client.get(format!("{url}/api/students?status=not_uploaded")).bearer_auth(&token).send().await.unwrap(), "roster").await;
            rosters.push(list["students"].as_array().into_iter().flatten().filter_map(|s| s["student_id"].as_str().map(str::to_owned)).collect());
            ctx.teachers.push(token);
        }
        let every = args.stats_reject_every.max(1);
        let mut jobs = Vec::new();
        for r in 0..rosters.iter().map(Vec::len).max().unwrap_or(0) {
            for (j, list) in rosters.iter().enumerate() {
                if let Some(id) = list.get(r) {
                    jobs.push(Job { teacher: j, student_id: id.clone(), reject: jobs.len() % every == every - 1 });
                }
            }
        }
        let ctx = Arc::new(ctx);
        let tally = Arc::new(UploadTally::default());
        let deadline = Instant::now() + Duration::from_secs(args.stats_seconds);
        let bg = tokio::spawn(upload_paced(ctx.clone(), jobs, args.stats_upload_rate, deadline, tally.clone()));
        let loaded = measure(&ctx, &routes, args.clients, args.stats_seconds).await;
        let bg_hist = bg.await.unwrap();
        let (after_loaded, _) = progress_sums(&ctx).await;
        let accepted = tally.accepted.load(Ordering::Relaxed) as i64;
        let not_uploaded = before["counts"]["not_uploaded"].as_i64().unwrap_or(0) - accepted;
        let settle_secs = settle(&ctx, not_uploaded).await;
        let (bad, end) = verify(&ctx, students, &district, district_students).await;
        failures.extend(bad.into_iter().map(|b| format!("after the loaded run: {b}")));
        if day_uploads(&end) != day_uploads(&before) + accepted {
            failures.push(format!("per_day uploads {} != {} before + {accepted} accepted", day_uploads(&end), day_uploads(&before)));
        }
        if tally.failed.load(Ordering::Relaxed) > 0 {
            failures.push(format!("{} uploads failed", tally.failed.load(Ordering::Relaxed)));
        }
        let (json, loaded_failures) = phase_json(&routes, &loaded);
        if loaded_failures > 0 {
            failures.push(format!("with uploads: {loaded_failures} measured requests failed or answered wrong figures"));
        }
        loaded_json = json;
        background = json!({
            "teachers": ctx.teachers.len(),
            "target_per_sec": args.stats_upload_rate,
            "accepted": accepted,
            "accepted_per_sec": (accepted as f64 / args.stats_seconds as f64).round(),
            "with_the_rejected_photo": tally.rejected_photos.load(Ordering::Relaxed),
            "busy_answers": tally.busy.load(Ordering::Relaxed),
            "upload_ms": hist_json(&bg_hist),
            "still_uploaded_when_the_run_ended": after_loaded[1],
            "settled_after_seconds": settle_secs,
            "counts_at_end": end["counts"],
        });
    }

    let len = |k: &str| before[k].as_array().map(|a| a.len()).unwrap_or(0);
    let summary = json!({
        "mode": "stats_no_seed",
        "clients": args.clients,
        "seconds_per_phase": args.stats_seconds,
        "students": students,
        "district": district,
        "district_students": district_students,
        "figures": {
            "districts": districts.len(),
            "per_day_entries": len("per_day"),
            "rejection_codes": len("by_reason"),
            "appeal_codes": before["appeals"]["by_code"].as_array().map(|a| a.len()).unwrap_or(0),
            "appeals": before["appeals"]["total"],
            "overruled": before["appeals"]["overruled"],
            "uploads": day_uploads(&before),
            "counts": before["counts"],
        },
        "answer_kb": answer_kb,
        "database": db_size(args.stats_db.as_deref()),
        "quiet": quiet_json,
        "with_uploads": loaded_json,
        "background_uploads": background,
        "server_rss_mb": {"end": args.server_pid.and_then(|p| super::rss_kb(p, "VmRSS:")).map(|k| k / 1024), "peak": args.server_pid.and_then(|p| super::rss_kb(p, "VmHWM:")).map(|k| k / 1024)},
        "failures": failures,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

pub async fn run(args: &Args, client: &Client, url: &str, bureau: &str, valid: Arc<Vec<u8>>) {
    let reject = Arc::new(std::fs::read(&args.stats_reject_photo).expect("read --stats-reject-photo"));
    let (n, n_schools, n_districts) = (args.stats_students, args.stats_schools.max(1), args.stats_districts.max(1));
    assert!(n_districts <= n_schools && n_schools <= n, "need districts <= schools <= students");
    let run = format!("{:x}", chrono::Utc::now().timestamp_millis());
    let mut failures: Vec<String> = Vec::new();
    let mut ctx = Ctx { client: client.clone(), url: url.to_owned(), bureau: bureau.to_owned(), teachers: Vec::new(), valid, reject };

    // What the store holds already (the demo's schools), so the seeded number can be checked.
    let before = get_json(&ctx, "/api/admin/stats", "stats before").await;
    let students_before = before["students"].as_i64().unwrap_or(0);
    let not_uploaded_before = before["counts"]["not_uploaded"].as_i64().unwrap_or(0);
    let day_uploads = |v: &Value| v["per_day"].as_array().into_iter().flatten().map(|d| d["uploads"].as_i64().unwrap_or(0)).sum::<i64>();
    let uploads_before = day_uploads(&before);

    // Seeding: schools, then the roster in chunks.
    let seed_started = Instant::now();
    let district_name = |d: usize| format!("压测{d:02}区");
    let district_of_school = |k: usize| k * n_districts / n_schools;
    let stages = ["小学", "初中", "高中"];
    let mut csv = String::from("district,school,stage\n");
    for k in 0..n_schools {
        csv += &format!("{},第{k:03}学校{run},{}\n", district_name(district_of_school(k)), stages[k % 3]);
    }
    let t = Instant::now();
    let v = expect_json(
        client.post(format!("{url}/api/admin/schools")).bearer_auth(bureau).header("content-type", "text/csv").body(csv).send().await.unwrap(),
        "schools",
    )
    .await;
    let schools_ms = t.elapsed().as_secs_f64() * 1000.0;
    let by_name: HashMap<String, (String, String)> = v["schools"]
        .as_array()
        .expect("imported schools")
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), (s["school_id"].as_str().unwrap().to_owned(), s["registration_code"].as_str().unwrap().to_owned())))
        .collect();
    let schools: Vec<(String, String)> = (0..n_schools).map(|k| by_name[&format!("第{k:03}学校{run}")].clone()).collect();
    let student_id = |i: usize| format!("C{run}{i:06}");
    let mut chunk_ms = Histogram::<u64>::new(3).unwrap();
    let mut roster_bytes = 0usize;
    let chunk = args.stats_chunk.max(1);
    let roster_started = Instant::now();
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let mut csv = String::with_capacity((end - start) * 48);
        csv += "school_id,student_id,name,class\n";
        for i in start..end {
            csv += &format!("{},{},学生{i},{}班\n", schools[i % n_schools].0, student_id(i), (i / n_schools) % 12 + 1);
        }
        roster_bytes = roster_bytes.max(csv.len());
        let t = Instant::now();
        let v = expect_json(
            client.post(format!("{url}/api/admin/students")).bearer_auth(bureau).header("content-type", "text/csv").body(csv).send().await.unwrap(),
            "roster chunk",
        )
        .await;
        chunk_ms.record(t.elapsed().as_millis() as u64).ok();
        assert_eq!(v["imported"].as_u64(), Some((end - start) as u64), "roster chunk {start}..{end}: {v}");
    }
    let roster_secs = roster_started.elapsed().as_secs_f64();
    let seed_secs = seed_started.elapsed().as_secs_f64();
    let db_after_seed = db_size(args.stats_db.as_deref());
    eprintln!("seeded {n} students in {n_schools} schools in {seed_secs:.1} s");

    // Teachers for a few schools, spread over the districts.
    let n_teachers = args.stats_teachers.clamp(1, n_schools);
    let teacher_schools: Vec<usize> = (0..n_teachers).map(|j| j * n_schools / n_teachers).collect();
    for (j, &k) in teacher_schools.iter().enumerate() {
        let v = expect_json(
            client.post(format!("{url}/api/registration")).json(&json!({"code": schools[k].1, "username": format!("t{run}x{j}"), "password": "load1234"})).send().await.unwrap(),
            "register",
        )
        .await;
        ctx.teachers.push(v["token"].as_str().unwrap().to_owned());
    }
    // Their students, interleaved across the teachers: the first `--stats-uploads` make the
    // history, the rest feed the background batch.
    let per_school = n.div_ceil(n_schools);
    let mut jobs: Vec<Job> = Vec::new();
    for r in 0..per_school {
        for (j, &k) in teacher_schools.iter().enumerate() {
            let i = k + r * n_schools;
            if i < n {
                jobs.push(Job { teacher: j, student_id: student_id(i), reject: false });
            }
        }
    }
    let every = args.stats_reject_every.max(1);
    let first_n = args.stats_uploads.min(jobs.len());
    let background: Vec<Job> = jobs.split_off(first_n).into_iter().enumerate().map(|(x, j)| Job { reject: x % every == every - 1, ..j }).collect();
    let first: Vec<Job> = jobs.into_iter().enumerate().map(|(x, j)| Job { reject: x % every == every - 1, ..j }).collect();
    let ctx = Arc::new(ctx);

    // The history: uploads, their checks, then a reviewer.
    let tally = Arc::new(UploadTally::default());
    let t = Instant::now();
    upload_all(&ctx, first, &tally).await;
    let upload_secs = t.elapsed().as_secs_f64();
    let accepted_first = tally.accepted.load(Ordering::Relaxed) as i64;
    let settle_secs = settle(&ctx, not_uploaded_before + n as i64 - accepted_first).await;
    let (after_check, _) = progress_sums(&ctx).await;
    let reviewer = format!("r{run}");
    expect_json(client.post(format!("{url}/api/admin/reviewers")).bearer_auth(bureau).json(&json!({"username": reviewer, "password": "review1234"})).send().await.unwrap(), "reviewer").await;
    let rtoken = expect_json(client.post(format!("{url}/api/sessions")).json(&json!({"username": reviewer, "password": "review1234"})).send().await.unwrap(), "reviewer login")
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = (after_check[2] * args.stats_review_percent.min(100) as i64 / 100) as usize;
    let reject_review_every = args.stats_review_reject_every.max(1);
    let (mut approved, mut rejected, mut refused) = (0usize, 0usize, 0usize);
    let t = Instant::now();
    while approved + rejected < target {
        let limit = (target - approved - rejected).min(100);
        let q = expect_json(client.get(format!("{url}/api/review/queue?limit={limit}")).bearer_auth(&rtoken).send().await.unwrap(), "queue").await;
        let items = q["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        let decisions: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(x, it)| {
                let reject = (approved + rejected + x) % reject_review_every == reject_review_every - 1;
                if reject {
                    json!({"student_id": it["student_id"], "photo_id": it["photo_id"], "decision": "reject", "reasons": ["phone_photo"]})
                } else {
                    json!({"student_id": it["student_id"], "photo_id": it["photo_id"], "decision": "approve"})
                }
            })
            .collect();
        let v = expect_json(client.post(format!("{url}/api/reviews")).bearer_auth(&rtoken).json(&json!({"decisions": decisions})).send().await.unwrap(), "reviews").await;
        for r in v["results"].as_array().into_iter().flatten() {
            match r["status"].as_str() {
                Some("approved") => approved += 1,
                Some("rejected") => rejected += 1,
                _ => refused += 1,
            }
        }
        if refused > 0 {
            failures.push(format!("{refused} review decisions refused: {v}"));
            break;
        }
    }
    let review_secs = t.elapsed().as_secs_f64();
    eprintln!("history: {accepted_first} uploads, {approved} approved and {rejected} rejected by the reviewer");

    // Right, before fast.
    let students = students_before + n as i64;
    let district = district_name(0);
    let district_students = (0..n).filter(|i| district_of_school(i % n_schools) == 0).count() as i64;
    let (bad, stats_before_runs) = verify(&ctx, students, &district, district_students).await;
    failures.extend(bad.into_iter().map(|b| format!("quiet: {b}")));
    if stats_before_runs["counts"]["approved"].as_i64() != Some(approved as i64) {
        failures.push(format!("approved {} != the reviewer's {approved}", stats_before_runs["counts"]["approved"]));
    }
    let phone = stats_before_runs["by_reason"].as_array().into_iter().flatten().find(|r| r["code"] == "phone_photo").and_then(|r| r["rejected"].as_i64()).unwrap_or(0);
    if phone != rejected as i64 {
        failures.push(format!("by_reason phone_photo {phone} != the reviewer's {rejected}"));
    }

    let routes = Arc::new(vec![
        Route { name: "stats", path: "/api/admin/stats".into(), auth: true, students: Some(students) },
        Route { name: "stats_district", path: format!("/api/admin/stats?district={}", pct_encode(&district)), auth: true, students: Some(district_students) },
        Route { name: "progress", path: "/api/admin/progress".into(), auth: true, students: None },
        Route { name: "window", path: "/api/window".into(), auth: false, students: None },
    ]);
    let quiet = measure(&ctx, &routes, args.clients, args.stats_seconds).await;
    let rss_quiet = args.server_pid.and_then(|p| super::rss_kb(p, "VmRSS:"));

    // The same, while uploads continue in the background.
    let bg_tally = Arc::new(UploadTally::default());
    let deadline = Instant::now() + Duration::from_secs(args.stats_seconds);
    let bg = tokio::spawn(upload_paced(ctx.clone(), background, args.stats_upload_rate, deadline, bg_tally.clone()));
    let loaded = measure(&ctx, &routes, args.clients, args.stats_seconds).await;
    let bg_hist = bg.await.unwrap();
    let (after_loaded, _) = progress_sums(&ctx).await;
    let accepted_all = accepted_first + bg_tally.accepted.load(Ordering::Relaxed) as i64;
    let settle_bg_secs = settle(&ctx, not_uploaded_before + n as i64 - accepted_all).await;
    let (bad, stats_end) = verify(&ctx, students, &district, district_students).await;
    failures.extend(bad.into_iter().map(|b| format!("after the loaded run: {b}")));
    if day_uploads(&stats_end) != uploads_before + accepted_all {
        failures.push(format!("per_day uploads {} != {} accepted uploads", day_uploads(&stats_end) - uploads_before, accepted_all));
    }
    let upload_failures = tally.failed.load(Ordering::Relaxed) + bg_tally.failed.load(Ordering::Relaxed);
    if upload_failures > 0 {
        failures.push(format!("{upload_failures} uploads failed"));
    }

    let (quiet_json, quiet_failures) = phase_json(&routes, &quiet);
    let (loaded_json, loaded_failures) = phase_json(&routes, &loaded);
    if quiet_failures + loaded_failures > 0 {
        failures.push(format!("{} measured requests failed or answered wrong figures", quiet_failures + loaded_failures));
    }
    let bg_secs = args.stats_seconds as f64;
    let summary = json!({
        "mode": "stats",
        "clients": args.clients,
        "seconds_per_phase": args.stats_seconds,
        "students": students,
        "seeded": {"students": n, "schools": n_schools, "districts": n_districts, "roster_chunk_rows": chunk, "largest_roster_body_mb": r2(roster_bytes as f64 / 1_048_576.0)},
        "seeding_seconds": r2(seed_secs),
        "seeding": {
            "schools_import_ms": r2(schools_ms),
            "roster_seconds": r2(roster_secs),
            "roster_rows_per_sec": (n as f64 / roster_secs).round(),
            "roster_chunk_ms": {"p50": chunk_ms.value_at_quantile(0.5), "max": chunk_ms.max()},
        },
        "database_after_seeding": db_after_seed,
        "database_at_end": db_size(args.stats_db.as_deref()),
        "history": {
            "teachers": n_teachers,
            "uploads_accepted": accepted_first,
            "uploads_with_the_rejected_photo": tally.rejected_photos.load(Ordering::Relaxed),
            "upload_seconds": r2(upload_secs),
            "checks_settled_after_seconds": settle_secs,
            "after_checks": {"pending_review": after_check[2], "rejected": after_check[4]},
            "reviewer_approved": approved,
            "reviewer_rejected_phone_photo": rejected,
            "review_seconds": r2(review_secs),
            "busy_answers": tally.busy.load(Ordering::Relaxed),
        },
        "counts_before_runs": stats_before_runs["counts"],
        "by_reason_before_runs": stats_before_runs["by_reason"],
        "quiet": quiet_json,
        "with_uploads": loaded_json,
        "background_uploads": {
            "target_per_sec": args.stats_upload_rate,
            "accepted": bg_tally.accepted.load(Ordering::Relaxed),
            "accepted_per_sec": (bg_tally.accepted.load(Ordering::Relaxed) as f64 / bg_secs).round(),
            "busy_answers": bg_tally.busy.load(Ordering::Relaxed),
            "upload_ms": hist_json(&bg_hist),
            "still_uploaded_when_the_run_ended": after_loaded[1],
            "settled_after_seconds": settle_bg_secs,
        },
        "counts_at_end": stats_end["counts"],
        "server_rss_mb": {"after_quiet": rss_quiet.map(|k| k / 1024), "end": args.server_pid.and_then(|p| super::rss_kb(p, "VmRSS:")).map(|k| k / 1024), "peak": args.server_pid.and_then(|p| super::rss_kb(p, "VmHWM:")).map(|k| k / 1024)},
        "failures": failures,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
