//! Drives a running gradphoto server through the full upload flow (presign + PUT) with many
//! concurrent clients while readers list the school's roster, then waits for every photo to
//! be decided. Prints throughput, latency percentiles and the server's RSS.

use clap::Parser;
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

mod parents;
mod stats;

#[derive(Parser)]
pub(crate) struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    #[arg(long, default_value = "bureau")]
    pub(crate) bureau_user: String,
    #[arg(long, default_value = "bureau123")]
    pub(crate) bureau_pass: String,
    /// Concurrent uploading clients.
    #[arg(long, default_value_t = 64)]
    pub(crate) clients: usize,
    /// Students in the school (all get one upload).
    #[arg(long, default_value_t = 2000)]
    pub(crate) students: usize,
    /// Concurrent roster readers (GET /api/students) during the run.
    #[arg(long, default_value_t = 2)]
    pub(crate) readers: usize,
    #[arg(long)]
    pub(crate) photo: std::path::PathBuf,
    /// The server's pid, to report its resident memory.
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
    /// Parents instead of one teacher: every student's parent logs in with a personal code and
    /// uploads, while the teacher uploads every `--teacher-every`-th student at the same moment.
    #[arg(long)]
    pub(crate) parents: bool,
    #[arg(long, default_value_t = 10)]
    pub(crate) teacher_every: usize,
    /// Issue 15: a city-sized campaign seeded through the API, a mixed history, then
    /// `GET /api/admin/stats` timed beside its peers, quiet and under uploads (stats.rs).
    /// `--clients` is the number of reading clients (scripts/bench-stats.sh passes 8).
    #[arg(long)]
    pub(crate) stats: bool,
    #[arg(long, default_value_t = 250_000)]
    pub(crate) stats_students: usize,
    #[arg(long, default_value_t = 500)]
    pub(crate) stats_schools: usize,
    #[arg(long, default_value_t = 16)]
    pub(crate) stats_districts: usize,
    /// Roster rows per import request.
    #[arg(long, default_value_t = 25_000)]
    pub(crate) stats_chunk: usize,
    /// Photos uploaded to make the history (the first batch).
    #[arg(long, default_value_t = 4000)]
    pub(crate) stats_uploads: usize,
    /// Schools whose teacher registers and uploads (spread over the districts).
    #[arg(long, default_value_t = 16)]
    pub(crate) stats_teachers: usize,
    /// The photo every `--stats-reject-every`-th upload sends (one the check rejects).
    #[arg(long, default_value = "crates/core/tests/corpus/astronaut_too_dark.jpg")]
    pub(crate) stats_reject_photo: std::path::PathBuf,
    #[arg(long, default_value_t = 5)]
    pub(crate) stats_reject_every: usize,
    /// Share (percent) of the pending photos the reviewer decides.
    #[arg(long, default_value_t = 75)]
    pub(crate) stats_review_percent: u32,
    /// Every n-th decision is a rejection (phone_photo); the others approve.
    #[arg(long, default_value_t = 10)]
    pub(crate) stats_review_reject_every: usize,
    /// Length of each measured phase (quiet, then with uploads).
    #[arg(long, default_value_t = 20)]
    pub(crate) stats_seconds: u64,
    /// Background uploads started per second during the second phase.
    #[arg(long, default_value_t = 100)]
    pub(crate) stats_upload_rate: u64,
    /// The server's SQLite file, to report its size.
    #[arg(long)]
    pub(crate) stats_db: Option<std::path::PathBuf>,
    /// With `--stats`: measure only, on a data folder built beforehand (an aged campaign,
    /// scripts/bench-stats-aged.sh): no seeding, no history, the campaign left as it is;
    /// quiet, then under uploads by teachers it registers (unless `--stats-quiet-only`).
    #[arg(long)]
    pub(crate) stats_no_seed: bool,
    /// With `--stats-no-seed`: the district `stats?district=` asks for (default: the first).
    #[arg(long)]
    pub(crate) stats_district: Option<String>,
    /// With `--stats-no-seed`: the quiet phase only (no teachers registered, no uploads, the
    /// folder left as it was).
    #[arg(long)]
    pub(crate) stats_quiet_only: bool,
}

pub(crate) fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

pub(crate) async fn expect_json(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

pub(crate) fn rss_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let photo = Arc::new(std::fs::read(&args.photo).expect("read --photo"));
    let client = Client::builder().pool_max_idle_per_host(args.clients + args.readers).timeout(Duration::from_secs(60)).build().unwrap();
    let url = args.url.trim_end_matches('/').to_owned();

    // Setup: a campaign open now, a school with the roster, a registered teacher.
    let bureau = expect_json(
        client.post(format!("{url}/api/sessions")).json(&json!({"username": args.bureau_user, "password": args.bureau_pass})).send().await.unwrap(),
        "bureau login",
    )
    .await["token"]
    .as_str()
    .unwrap()
    .to_owned();
    if args.stats && args.stats_no_seed {
        return stats::run_measure_only(&args, &client, &url, &bureau, photo).await;
    }
    let today = chrono::Utc::now().date_naive();
    expect_json(
        client
            .put(format!("{url}/api/admin/campaign"))
            .bearer_auth(&bureau)
            .json(&json!({"name": "压测", "starts_on": (today - chrono::Duration::days(1)).to_string(), "ends_on": (today + chrono::Duration::days(30)).to_string(), "daily_open": "00:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"}))
            .send()
            .await
            .unwrap(),
        "campaign",
    )
    .await;
    if args.stats {
        return stats::run(&args, &client, &url, &bureau, photo).await;
    }
    let run = format!("{:x}", chrono::Utc::now().timestamp_millis());
    let v = expect_json(
        client.post(format!("{url}/api/admin/schools")).bearer_auth(&bureau).header("content-type", "text/csv").body(format!("district,school,stage\n压测区,压测学校{run},高中\n")).send().await.unwrap(),
        "schools",
    )
    .await;
    let school_id = v["schools"][0]["school_id"].as_str().unwrap().to_owned();
    let code = v["schools"][0]["registration_code"].as_str().unwrap().to_owned();
    let ids: Vec<String> = (0..args.students).map(|i| format!("L{run}{i:05}")).collect();
    let mut csv = String::from("school_id,student_id,name,class\n");
    for (i, id) in ids.iter().enumerate() {
        csv += &format!("{school_id},{id},学生{i},{}班\n", i % 20 + 1);
    }
    expect_json(client.post(format!("{url}/api/admin/students")).bearer_auth(&bureau).header("content-type", "text/csv").body(csv).send().await.unwrap(), "roster").await;
    let teacher = expect_json(
        client.post(format!("{url}/api/registration")).json(&json!({"code": code, "username": format!("load{run}"), "password": "load1234"})).send().await.unwrap(),
        "register",
    )
    .await["token"]
    .as_str()
    .unwrap()
    .to_owned();

    if args.parents {
        return parents::run(&args, &client, &url, &bureau, &teacher, &ids, photo).await;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let upload_h = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let list_h = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let accepted = Arc::new(AtomicUsize::new(0));
    let busy = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids);

    let mut readers = Vec::new();
    for _ in 0..args.readers {
        let (client, url, teacher, done, list_h) = (client.clone(), url.clone(), teacher.clone(), done.clone(), list_h.clone());
        readers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = client.get(format!("{url}/api/students")).bearer_auth(&teacher).send().await;
                if let Ok(r) = r
                    && r.status() == StatusCode::OK
                    && r.bytes().await.is_ok()
                {
                    list_h.lock().await.record(t.elapsed().as_micros() as u64).ok();
                }
                // A teacher refreshing the roster, not a tight loop stealing the server's CPU.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }

    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (client, url, teacher, photo, ids, next) = (client.clone(), url.clone(), teacher.clone(), photo.clone(), ids.clone(), next.clone());
        let (upload_h, accepted, busy, other) = (upload_h.clone(), accepted.clone(), busy.clone(), other.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                loop {
                    let t = Instant::now();
                    let r = client
                        .post(format!("{url}/api/uploads"))
                        .bearer_auth(&teacher)
                        .json(&json!({"files": [{"student_id": id, "size": photo.len()}], "content_type": "image/jpeg"}))
                        .send()
                        .await;
                    let Ok(r) = r else { other.fetch_add(1, Ordering::Relaxed); break };
                    if r.status() == StatusCode::SERVICE_UNAVAILABLE {
                        busy.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    let grant = &v["uploads"][0];
                    let Some(put_url) = grant["url"].as_str() else { other.fetch_add(1, Ordering::Relaxed); break };
                    let r = client.put(put_url).header("content-type", "image/jpeg").body(photo.to_vec()).send().await;
                    match r.map(|r| r.status()) {
                        Ok(StatusCode::OK) => {
                            upload_h.lock().await.record(t.elapsed().as_micros() as u64).ok();
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(StatusCode::SERVICE_UNAVAILABLE) => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                        _ => {
                            other.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    break;
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let upload_secs = started.elapsed().as_secs_f64();
    // Roster latency is measured under upload load; stop the readers with the uploads.
    done.store(true, Ordering::Relaxed);
    let peak_rss = args.server_pid.and_then(|p| rss_kb(p, "VmHWM:"));
    // Wait until every accepted photo has been decided by the check workers.
    let settle_started = Instant::now();
    loop {
        let v = expect_json(client.get(format!("{url}/api/school")).bearer_auth(&teacher).send().await.unwrap(), "school").await;
        if v["counts"]["uploaded"].as_u64() == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let decided_secs = started.elapsed().as_secs_f64();
    for r in readers {
        r.await.unwrap();
    }
    let rss = args.server_pid.and_then(|p| rss_kb(p, "VmRSS:"));
    let (uh, lh) = (upload_h.lock().await, list_h.lock().await);
    let n = accepted.load(Ordering::Relaxed);
    let summary = json!({
        "clients": args.clients,
        "students": args.students,
        "accepted_uploads": n,
        "busy_answers": busy.load(Ordering::Relaxed),
        "other_failures": other.load(Ordering::Relaxed),
        "upload_seconds": (upload_secs * 100.0).round() / 100.0,
        "accepted_uploads_per_sec": (n as f64 / upload_secs).round(),
        "all_decided_seconds": (decided_secs * 100.0).round() / 100.0,
        "settle_after_last_upload_seconds": (settle_started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        "upload_ms": {"p50": ms(&uh, 0.5), "p99": ms(&uh, 0.99), "max": uh.max() as f64 / 1000.0},
        "list_students_ms": {"samples": lh.len(), "p50": ms(&lh, 0.5), "p99": ms(&lh, 0.99), "max": lh.max() as f64 / 1000.0},
        "server_rss_mb": rss.map(|k| k / 1024),
        "server_peak_rss_mb": peak_rss.map(|k| k / 1024),
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if other.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}
