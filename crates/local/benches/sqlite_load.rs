//! Load numbers for the SQLite `Records`: roster listing (alone and under 64 concurrent
//! uploaders), sequential claims per second, and near-duplicate lookups at 250,000 photos.
//! Prints a report; asserts nothing about time.
//!
//!     cargo bench -p gradphoto-local --bench sqlite_load
//!     GRADPHOTO_BENCH_STUDENTS=50000 cargo bench -p gradphoto-local --bench sqlite_load   # quicker

use chrono::{Duration, TimeZone, Utc};
use gradphoto_core::ports::{CheckOutcome, Claim, Records, StudentFilter};
use gradphoto_core::{RosterRow, School, Stage, StudentId, Ticket};
use gradphoto_local::sqlite::{SqliteRecords, bands};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration as StdDuration, Instant};

const PER_SCHOOL: usize = 2000;

fn sid(school: usize, n: usize) -> StudentId {
    StudentId::parse(&format!("S{school:04}N{n:05}")).unwrap()
}

fn school_id(school: usize) -> String {
    format!("sch-{school:04}")
}

fn pct(sorted: &[StdDuration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(mut v: Vec<StdDuration>) -> String {
    v.sort();
    format!("n={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms", v.len(), pct(&v, 0.5), pct(&v, 0.9), pct(&v, 0.99), pct(&v, 1.0))
}

fn ticket(school: usize, n: usize, id: String) -> Ticket {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
    Ticket { ticket_id: id, student_id: sid(school, n), school_id: school_id(school), size: 150_000, generation: 0, issued_at: now, expires_at: now + Duration::minutes(15), issued_by: "bench".into(), uploader: Default::default(), auto_cropped: false }
}

async fn list_times(records: &SqliteRecords, runs: usize) -> Vec<StdDuration> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let v = records.students(&school_id(0), &StudentFilter::default()).await.unwrap();
        out.push(t.elapsed());
        assert_eq!(v.len(), PER_SCHOOL);
    }
    out
}

/// A photo hash whose bits are set with probability `p` (p = 0.5: uniform; lower values make
/// the band buckets fuller, like real perceptual hashes of similar-looking ID photos).
fn biased_hash(p: f64) -> u64 {
    let mut h = 0u64;
    for bit in 0..64 {
        if rand::random::<f64>() < p {
            h |= 1 << bit;
        }
    }
    h
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let total: usize = std::env::var("GRADPHOTO_BENCH_STUDENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(250_000);
    let schools = total.div_ceil(PER_SCHOOL).max(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite3");
    let records = SqliteRecords::open(&path).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();

    // Setup: schools and rosters of 2,000.
    let all: Vec<School> = (0..schools)
        .map(|s| School { school_id: school_id(s), district: format!("区{}", s % 16), name: format!("学校{s}"), stage: Stage::Junior, registration_code: format!("CODE{s:05}"), username: None })
        .collect();
    records.insert_schools(&all).await.unwrap();
    let t = Instant::now();
    for s in 0..schools {
        let rows: Vec<RosterRow> = (0..PER_SCHOOL)
            .map(|n| RosterRow { school_id: school_id(s), student_id: sid(s, n), name: format!("学生{n}"), class: format!("九({})班", n / 50) })
            .collect();
        records.import_roster(&rows).await.unwrap();
    }
    let imported = schools * PER_SCHOOL;
    println!("import_roster: {imported} students in {schools} schools, {:.1}s ({:.0} rows/s)", t.elapsed().as_secs_f64(), imported as f64 / t.elapsed().as_secs_f64());

    // 1. Listing a 2,000-student school, alone.
    list_times(&records, 20).await;
    println!("students(2,000), idle:            {}", summary(list_times(&records, 300).await));

    // 2. Sequential issue + claim (school 1): claims per second.
    let n = PER_SCHOOL;
    let t = Instant::now();
    for i in 0..n {
        records.issue_ticket(&ticket(1, i, format!("seq-{i}"))).await.unwrap();
    }
    let issue_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in 0..n {
        let c = records.claim_upload(&sid(1, i), &format!("seq-{i}"), now).await.unwrap();
        assert!(matches!(c, Claim::Won(_)));
    }
    let claim_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let outcome = CheckOutcome { rejections: vec![], flags: vec![], photo_hash: Some(1), ..Default::default() };
    for i in 0..n {
        records.record_check(&sid(1, i), &format!("seq-{i}"), &outcome, now).await.unwrap();
    }
    let check_s = t.elapsed().as_secs_f64();
    println!(
        "sequential, {n} each: issue_ticket {:.0}/s, claim_upload {:.0}/s, record_check {:.0}/s",
        n as f64 / issue_s,
        n as f64 / claim_s,
        n as f64 / check_s
    );

    // 3. Listing under 64 concurrent uploaders (issue -> claim -> record_check, no pause) on
    //    other schools.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut uploaders = Vec::new();
    for w in 0..64usize {
        let (records, stop, done) = (records.clone(), stop.clone(), done.clone());
        let school = 2 + w % (schools - 2);
        uploaders.push(tokio::spawn(async move {
            let mut i = (w * 31) % PER_SCHOOL;
            while !stop.load(Ordering::Relaxed) {
                let tid = format!("load-{w}-{i}");
                match records.issue_ticket(&ticket(school, i, tid.clone())).await {
                    Ok(_) => {
                        records.claim_upload(&sid(school, i), &tid, now).await.unwrap();
                        let outcome = CheckOutcome { rejections: vec![], flags: vec![], photo_hash: Some(rand::random()), ..Default::default() };
                        records.record_check(&sid(school, i), &tid, &outcome, now).await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {}
                }
                i = (i + 1) % PER_SCHOOL;
            }
        }));
    }
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let t = Instant::now();
    let before = done.load(Ordering::Relaxed);
    // A listing every 5 ms for a few seconds, while the writers saturate the single writer.
    let mut loaded = Vec::new();
    for _ in 0..600 {
        loaded.extend(list_times(&records, 1).await);
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    let uploads = done.load(Ordering::Relaxed) - before;
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for u in uploaders {
        u.await.unwrap();
    }
    println!("students(2,000), 64 uploaders:    {}", summary(loaded));
    println!("  meanwhile: {uploads} uploads (issue+claim+check = 3 write transactions) in {secs:.1}s = {:.0} uploads/s", uploads as f64 / secs);

    // 4. Near-duplicate lookup over `total` stored hashes, written directly.
    for (label, p) in [("uniform hashes", 0.5), ("biased hashes (p=0.3)", 0.3)] {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.busy_timeout(StdDuration::from_secs(30)).unwrap();
        let tx = conn.transaction().unwrap();
        let mut probes = Vec::new();
        {
            let mut st = tx
                .prepare("UPDATE students SET photo_hash = ?2, hb0 = ?3, hb1 = ?4, hb2 = ?5, hb3 = ?6, hb4 = ?7 WHERE student_id = ?1")
                .unwrap();
            for s in 0..schools {
                for n in 0..PER_SCHOOL {
                    let h = biased_hash(p);
                    let b = bands(h);
                    st.execute(rusqlite::params![sid(s, n).as_str(), h as i64, b[0], b[1], b[2], b[3], b[4]]).unwrap();
                    if n % 1000 == 7 {
                        probes.push((sid(s, n), h));
                    }
                }
            }
        }
        tx.commit().unwrap();
        drop(conn);
        let mut banded = Vec::new();
        let mut scanned = Vec::new();
        let mut found = 0;
        for (id, h) in probes.iter().take(200) {
            let t = Instant::now();
            found += records.similar_photos(*h ^ 0b101, 4, id).await.unwrap().len();
            banded.push(t.elapsed());
        }
        for (id, h) in probes.iter().take(20) {
            let t = Instant::now();
            records.similar_photos(*h, 5, id).await.unwrap();
            scanned.push(t.elapsed());
        }
        println!("similar_photos over {imported} hashes, {label}:");
        println!("  distance 4 (band index): {} ({found} matches)", summary(banded));
        println!("  distance 5 (full scan):  {}", summary(scanned));
    }
    println!("database file: {:.0} MB", std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6);
}
