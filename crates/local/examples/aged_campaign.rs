//! Builds an AGED data folder for the stats benchmark (issue 15, `scripts/bench-stats-aged.sh`):
//! a campaign that has run for `--days` days, so the statistics hold a row per district and
//! day, as they will at the end of a real campaign (the load generator's own history happens
//! on one day, the server's wall clock).
//!
//!     cargo run --release -p gradphoto-local --example aged_campaign -- --data DIR
//!
//! It opens the folder the way `gradphoto serve --data DIR` does (`server::open_records`, the
//! signing key, the photos folder) and writes everything through the `Records` port only, with
//! each event's `now` on its simulated day, so the counters are kept exactly as production
//! keeps them (never raw SQL): a campaign from `--days` days ago until two weeks from today,
//! `--schools` schools in `--districts` districts, `--students` students (`import_roster` in
//! `--chunk`-row chunks), the bureau `bureau`/`bureau123` and the reviewer
//! `reviewer1`/`review123` (as `gradphoto add-user` creates them), and then day by day, per
//! district: the reviewers' decisions on the backlog (most approved, some rejected with
//! reviewer codes, appeals approved or upheld), the day's uploads (ticket + claim + check; the
//! check rejects ~18 % with 16 different codes, the rest wait for a person), a few appeals of
//! the check's visible judgements, re-uploads after rejections (1–5 days later) and rare
//! reopens by the bureau. ~`--photos` photos in all. Photo objects are not written (no route
//! the benchmark times reads them; no student is left `uploaded`, so the server's sweep finds
//! nothing to re-check). Deterministic for a `--seed`, so two builds of the server get the
//! same history. Prints a JSON summary: the history's tallies, the build time, row counts.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use clap::Parser;
use futures_util::stream::{self, StreamExt};
use gradphoto_core::lifecycle::AppealRequest;
use gradphoto_core::ports::{CheckOutcome, CheckRecorded, Claim, Records};
use gradphoto_core::stats::Stats;
use gradphoto_core::{Campaign, DailyTime, Decision, Reason, Role, RosterRow, School, Stage, Status, StudentId, Ticket, review_reasons};
use gradphoto_local::server;
use serde_json::json;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// The data folder (created; must not hold a campaign's schools yet).
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 250_000)]
    students: usize,
    #[arg(long, default_value_t = 500)]
    schools: usize,
    #[arg(long, default_value_t = 16)]
    districts: usize,
    /// Days of history, ending yesterday (the bureau's days, Asia/Shanghai).
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Photos uploaded over the history (first uploads and re-uploads), approximately.
    #[arg(long, default_value_t = 100_000)]
    photos: usize,
    /// Roster rows per `import_roster` call.
    #[arg(long, default_value_t = 25_000)]
    chunk: usize,
    /// Port calls in flight at once (the writer is one connection; this only overlaps the
    /// hand-offs).
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

const SHANGHAI: [&str; 16] = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区", "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区"];
const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"];
const GIVEN: [&str; 12] = ["子涵", "浩然", "欣怡", "宇轩", "梓萱", "俊杰", "雨桐", "思远", "佳怡", "博文", "诗琪", "天佑"];

/// The check's rejections, weighted: 12 judgements a person can see (appealable) and 4 file
/// rules (not).
const CHECK_CODES: &[(&str, u32)] = &[
    ("background_not_white", 16),
    ("too_dark", 14),
    ("head_too_small", 10),
    ("blurry", 9),
    ("head_too_large", 6),
    ("overexposed", 6),
    ("phone_photo", 6),
    ("off_centre", 5),
    ("head_cropped", 5),
    ("red_scarf", 3),
    ("no_face", 2),
    ("multiple_faces", 1),
    ("wrong_size", 10),
    ("low_dpi", 8),
    ("too_large", 4),
    ("not_jpeg", 3),
];
/// A reviewer's rejections, weighted (every one a code `review_reasons` lists).
const REVIEW_CODES: &[(&str, u32)] = &[
    ("phone_photo", 30),
    ("not_recent", 12),
    ("accessories", 10),
    ("background_not_white", 10),
    ("clothing_like_background", 8),
    ("other", 8),
    ("head_too_small", 5),
    ("stretched", 5),
    ("rephotographed", 5),
    ("wrong_person", 4),
    ("red_scarf", 3),
];

/// SplitMix64: a fixed sequence for a seed, whatever crate versions say.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick(&mut self, weighted: &[(&'static str, u32)]) -> &'static str {
        let total: u32 = weighted.iter().map(|(_, w)| w).sum();
        let mut x = self.below(u64::from(total)) as u32;
        for (code, w) in weighted {
            if x < *w {
                return code;
            }
            x -= w;
        }
        weighted[0].0
    }
    fn codes(&mut self, weighted: &[(&'static str, u32)], two: f64) -> Vec<&'static str> {
        let first = self.pick(weighted);
        let mut out = vec![first];
        if self.chance(two) {
            let second = self.pick(weighted);
            if second != first {
                out.push(second);
            }
        }
        out
    }
    fn token(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char).collect()
    }
}

fn reasons(codes: &[&str]) -> Vec<Reason> {
    codes.iter().map(|c| Reason::new(*c, gradphoto_core::stats::label(c))).collect()
}

/// `hh:mm` on the bureau's day `date` plus `secs`, as the instant the port is given.
fn at(date: NaiveDate, hour: u32, secs: u64) -> DateTime<Utc> {
    let local = date.and_hms_opt(hour, 0, 0).expect("valid hour");
    Shanghai.from_local_datetime(&local).single().expect("Shanghai has no gaps").with_timezone(&Utc) + Duration::seconds(secs as i64)
}

/// One port call chain, planned (with every outcome decided) before it runs.
enum Job {
    Upload { student: usize, ticket_id: String, at: DateTime<Utc>, rejections: Vec<&'static str>, flags: Vec<&'static str>, hash: u64, appeal_at: Option<DateTime<Utc>> },
    Review { student: usize, photo_id: String, approve: bool, codes: Vec<&'static str>, at: DateTime<Utc> },
    Reopen { student: usize, at: DateTime<Utc> },
}

/// A photo waiting for a person: whose, which photo, whether it came by an appeal (with the
/// check's codes), and the day it arrived.
struct Pending {
    student: usize,
    photo_id: String,
    appealed: Option<Vec<&'static str>>,
    since: i64,
}

#[derive(Default)]
struct District {
    fresh: VecDeque<usize>,
    pending: Vec<Pending>,
    /// (the day from which the student uploads again, student).
    reupload: Vec<(i64, usize)>,
    approved: Vec<usize>,
}

#[derive(Default, Debug, serde::Serialize)]
struct Tally {
    photos: u64,
    first_uploads: u64,
    reuploads: u64,
    check_rejected: u64,
    check_rejected_appealable: u64,
    appeals: u64,
    reviews: u64,
    reviewer_approved: u64,
    reviewer_rejected: u64,
    overrules: u64,
    appeals_upheld: u64,
    reopens: u64,
    port_calls: u64,
}

struct World {
    records: std::sync::Arc<gradphoto_local::sqlite::SqliteRecords>,
    ids: Vec<StudentId>,
    school_of: Vec<String>,
    policy: gradphoto_core::ReviewPolicy,
}

async fn run_job(w: &World, job: &Job) -> Result<(), String> {
    let r: &dyn Records = &*w.records;
    match job {
        Job::Upload { student, ticket_id, at, rejections, flags, hash, appeal_at } => {
            let (id, school) = (&w.ids[*student], &w.school_of[*student]);
            let teacher = format!("t{school}");
            let ticket = Ticket {
                ticket_id: ticket_id.clone(),
                student_id: id.clone(),
                school_id: school.clone(),
                size: 150_000,
                generation: 0,
                issued_at: *at,
                expires_at: *at + Duration::minutes(15),
                issued_by: teacher.clone(),
                uploader: Default::default(),
                auto_cropped: false,
            };
            r.issue_ticket(&ticket).await.map_err(|e| format!("issue_ticket {id}: {e}"))?;
            match r.claim_upload(id, ticket_id, *at + Duration::seconds(3)).await.map_err(|e| e.to_string())? {
                Claim::Won(_) => {}
                Claim::Lost(why) => return Err(format!("claim of {id} lost: {why:?}")),
            }
            let outcome = CheckOutcome { rejections: reasons(rejections), flags: reasons(flags), photo_hash: Some(*hash), geometry: None, policy: w.policy };
            match r.record_check(id, ticket_id, &outcome, *at + Duration::seconds(20)).await.map_err(|e| e.to_string())? {
                CheckRecorded::Decided(_) => {}
                CheckRecorded::NoChange => return Err(format!("check of {id} not recorded")),
            }
            if let Some(when) = appeal_at {
                let req = AppealRequest { photo_id: ticket_id, note: Some("背景是白色的，请人工复核"), by: &teacher, school_id: Some(school) };
                r.appeal(id, &req, *when).await.map_err(|e| format!("appeal {id}: {e}"))?;
            }
        }
        Job::Review { student, photo_id, approve, codes, at } => {
            let id = &w.ids[*student];
            let (decision, rs) = if *approve { (Decision::Approve, Vec::new()) } else { (Decision::Reject, reasons(codes)) };
            let note = codes.contains(&"other").then_some("衣领遮挡，请重新拍摄");
            r.review(id, Some(photo_id), decision, &rs, note, "reviewer1", *at).await.map_err(|e| format!("review {id}: {e}"))?;
        }
        Job::Reopen { student, at } => {
            let id = &w.ids[*student];
            r.reopen(id, &reasons(&["wrong_person"]), Some("家长反映非本人照片"), "bureau", *at).await.map_err(|e| format!("reopen {id}: {e}"))?;
        }
    }
    Ok(())
}

async fn run_all(w: &World, jobs: Vec<Job>, concurrency: usize) -> Result<(), String> {
    let results: Vec<Result<(), String>> = stream::iter(jobs.iter()).map(|j| run_job(w, j)).buffer_unordered(concurrency.max(1)).collect().await;
    results.into_iter().collect()
}

fn row_counts(db: &std::path::Path) -> serde_json::Value {
    let Ok(c) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return serde_json::Value::Null };
    let mut out = serde_json::Map::new();
    for t in ["stats", "stats_days", "school_counts", "students", "tickets", "audit"] {
        let n: Option<i64> = c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).ok();
        out.insert(t.to_owned(), json!(n));
    }
    serde_json::Value::Object(out)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = build(&args).await {
        eprintln!("aged_campaign: {e}");
        std::process::exit(1);
    }
}

async fn build(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let mut rng = Rng(args.seed);
    let (n, n_schools, n_districts) = (args.students, args.schools.max(1), args.districts.max(1));
    if n_districts > n_schools || n_schools > n {
        return Err("need districts <= schools <= students".into());
    }
    // The folder as `gradphoto serve --data` opens it.
    let records = server::open_records(&args.data).map_err(|e| e.to_string())?;
    server::load_or_create_secret(&args.data).map_err(|e| format!("secret.key: {e}"))?;
    std::fs::create_dir_all(args.data.join("photos")).map_err(|e| e.to_string())?;
    let r: &dyn Records = &*records;
    if !r.schools().await.map_err(|e| e.to_string())?.is_empty() {
        return Err(format!("{} already holds schools; give an empty folder", args.data.display()));
    }

    let today = gradphoto_core::stats::day_of(Utc::now());
    let first = today - Duration::days(args.days);
    let campaign = Campaign {
        name: format!("2026届毕业生照片采集（{} 天历史）", args.days),
        starts_on: first,
        ends_on: today + Duration::days(14),
        daily_open: DailyTime::MIDNIGHT,
        daily_close: DailyTime::END_OF_DAY,
        timezone: Shanghai,
        review_policy: Default::default(),
        parents_enabled: true,
    };
    r.put_campaign(&campaign).await.map_err(|e| e.to_string())?;
    for (user, pass, role) in [("bureau", "bureau123", Role::Bureau), ("reviewer1", "review123", Role::Reviewer)] {
        gradphoto_service::create_staff_account(r, role, user, pass, Utc::now()).await.map_err(|e| format!("account {user}: {e}"))?;
    }

    // Schools: `k * districts / schools` is school k's district (equal shares), ids and codes
    // shaped like the ones the API mints, from the seed.
    let district_name = |d: usize| if n_districts <= SHANGHAI.len() { SHANGHAI[d].to_owned() } else { format!("区{d:02}") };
    let district_of_school = |k: usize| k * n_districts / n_schools;
    let schools: Vec<School> = (0..n_schools)
        .map(|k| School {
            school_id: format!("s{}", rng.token(b"abcdefghjkmnpqrstuvwxyz23456789", 9)),
            district: district_name(district_of_school(k)),
            name: format!("{}第{}学校", district_name(district_of_school(k)), k + 1),
            stage: Stage::ALL[k % 3],
            registration_code: rng.token(b"ABCDEFGHJKMNPQRSTUVWXYZ23456789", 10),
            username: None,
        })
        .collect();
    r.insert_schools(&schools).await.map_err(|e| e.to_string())?;

    // Students: i in school i % schools, so every school and district gets its share.
    let ids: Vec<StudentId> = (0..n).map(|i| StudentId::parse(&format!("G26{i:07}")).expect("valid id")).collect();
    let school_of: Vec<String> = (0..n).map(|i| schools[i % n_schools].school_id.clone()).collect();
    let t = Instant::now();
    for start in (0..n).step_by(args.chunk.max(1)) {
        let end = (start + args.chunk.max(1)).min(n);
        let rows: Vec<RosterRow> = (start..end)
            .map(|i| RosterRow {
                school_id: school_of[i].clone(),
                student_id: ids[i].clone(),
                name: format!("{}{}", SURNAMES[i % SURNAMES.len()], GIVEN[(i / SURNAMES.len() + i) % GIVEN.len()]),
                class: format!("{}班", (i / n_schools) % 12 + 1),
            })
            .collect();
        let (imported, _) = r.import_roster(&rows).await.map_err(|e| format!("import_roster {start}..{end}: {e}"))?;
        if imported as usize != end - start {
            return Err(format!("import_roster {start}..{end}: {imported} imported"));
        }
    }
    let roster_secs = t.elapsed().as_secs_f64();
    eprintln!("aged_campaign: {n} students in {n_schools} schools imported in {roster_secs:.1} s");

    // Each district's students in a shuffled order (the order they upload in).
    let mut districts: Vec<District> = (0..n_districts).map(|_| District::default()).collect();
    let mut by_district: Vec<Vec<usize>> = vec![Vec::new(); n_districts];
    for i in 0..n {
        by_district[district_of_school(i % n_schools)].push(i);
    }
    for (d, mut list) in by_district.into_iter().enumerate() {
        for x in (1..list.len()).rev() {
            list.swap(x, rng.below(x as u64 + 1) as usize);
        }
        districts[d].fresh = list.into();
    }

    // A day's share of the photos: a two-week ramp, quieter weekends, a slow wave.
    let weight = |k: i64| {
        let date = first + Duration::days(k);
        let weekend = matches!(chrono::Datelike::weekday(&date), chrono::Weekday::Sat | chrono::Weekday::Sun);
        (0.4 + 0.6 * (k as f64 / 14.0).min(1.0)) * if weekend { 0.35 } else { 1.0 } * (1.0 + 0.3 * (k as f64 / 9.0).sin())
    };
    let total_weight: f64 = (0..args.days).map(weight).sum();
    let mut tally = Tally::default();
    let world = World { records: records.clone(), ids, school_of, policy: campaign.review_policy };
    let history = Instant::now();
    let mut ticket_seq = 0u64;
    for k in 0..args.days {
        let date = first + Duration::days(k);
        // Morning: the reviewers decide most of the backlog from earlier days.
        let mut reviews = Vec::new();
        for dist in districts.iter_mut() {
            let backlog = std::mem::take(&mut dist.pending);
            for p in backlog {
                if p.since >= k || !rng.chance(0.9) {
                    dist.pending.push(p);
                    continue;
                }
                let (approve, codes) = match &p.appealed {
                    Some(check_codes) => (rng.chance(0.6), vec![check_codes[0]]),
                    None => {
                        let approve = rng.chance(0.91);
                        (approve, if approve { Vec::new() } else { rng.codes(REVIEW_CODES, 0.15) })
                    }
                };
                tally.reviews += 1;
                match (approve, p.appealed.is_some()) {
                    (true, true) => tally.overrules += 1,
                    (false, true) => tally.appeals_upheld += 1,
                    _ => {}
                }
                if approve {
                    tally.reviewer_approved += 1;
                    dist.approved.push(p.student);
                } else {
                    tally.reviewer_rejected += 1;
                    if rng.chance(0.85) {
                        dist.reupload.push((k + 1 + rng.below(5) as i64, p.student));
                    }
                }
                reviews.push(Job::Review { student: p.student, photo_id: p.photo_id, approve, codes, at: at(date, 9, rng.below(3 * 3600)) });
            }
        }
        // The day: re-uploads that are due first, then students uploading for the first time.
        let mut uploads = Vec::new();
        for (d, dist) in districts.iter_mut().enumerate() {
            let factor = if n_districts > 1 { 0.7 + 0.6 * d as f64 / (n_districts - 1) as f64 } else { 1.0 };
            let budget = ((args.photos as f64 * weight(k) / total_weight / n_districts as f64 * factor).round() as usize).max(1);
            let mut todays = Vec::new();
            dist.reupload.sort_unstable();
            while todays.len() < budget && dist.reupload.first().is_some_and(|(due, _)| *due <= k) {
                todays.push(dist.reupload.remove(0).1);
                tally.reuploads += 1;
            }
            while todays.len() < budget {
                let Some(s) = dist.fresh.pop_front() else { break };
                todays.push(s);
                tally.first_uploads += 1;
            }
            for student in todays {
                ticket_seq += 1;
                let ticket_id = format!("{:016x}{ticket_seq:08x}", rng.next());
                let when = at(date, 8, rng.below(12 * 3600));
                let rejected = rng.chance(0.18);
                let rejections = if rejected { rng.codes(CHECK_CODES, 0.1) } else { Vec::new() };
                let flags = if !rejected && rng.chance(0.03) { vec!["possibly_stretched"] } else { Vec::new() };
                let appealable = rejected && rejections.iter().all(|c| review_reasons::message(c).is_some());
                let appeal_at = (appealable && rng.chance(0.12)).then(|| when + Duration::seconds(600 + rng.below(3 * 3600) as i64));
                tally.photos += 1;
                if rejected {
                    tally.check_rejected += 1;
                    tally.check_rejected_appealable += u64::from(appealable);
                }
                if appeal_at.is_some() {
                    tally.appeals += 1;
                    dist.pending.push(Pending { student, photo_id: ticket_id.clone(), appealed: Some(rejections.clone()), since: k });
                } else if rejected {
                    if rng.chance(0.8) {
                        dist.reupload.push((k + 1 + rng.below(5) as i64, student));
                    }
                } else {
                    dist.pending.push(Pending { student, photo_id: ticket_id.clone(), appealed: None, since: k });
                }
                uploads.push(Job::Upload { student, ticket_id, at: when, rejections, flags, hash: rng.next(), appeal_at });
            }
        }
        // Late afternoon, now and then: the bureau sends an approved photo back.
        let mut reopens = Vec::new();
        for dist in districts.iter_mut() {
            if !dist.approved.is_empty() && rng.chance(0.05) {
                let student = dist.approved.swap_remove(rng.below(dist.approved.len() as u64) as usize);
                dist.reupload.push((k + 1 + rng.below(3) as i64, student));
                tally.reopens += 1;
                reopens.push(Job::Reopen { student, at: at(date, 16, rng.below(3600)) });
            }
        }
        tally.port_calls += reviews.len() as u64 + reopens.len() as u64 + uploads.iter().map(|j| if let Job::Upload { appeal_at: Some(_), .. } = j { 4 } else { 3 }).sum::<u64>();
        for phase in [reviews, uploads, reopens] {
            run_all(&world, phase, args.concurrency).await?;
        }
        if (k + 1) % 10 == 0 || k + 1 == args.days {
            eprintln!("aged_campaign: day {} of {} ({date}), {} photos, {:.0} s", k + 1, args.days, tally.photos, history.elapsed().as_secs_f64());
        }
    }
    let history_secs = history.elapsed().as_secs_f64();

    // The counters as the port reads them back, against what was planned.
    let stats = r.stats(None).await.map_err(|e| e.to_string())?;
    let mut all = Stats::default();
    for s in stats.values() {
        all.merge(s);
    }
    let uploads: i64 = all.per_day.values().map(|d| d.uploads).sum();
    let counts: BTreeMap<&str, i64> = Status::ALL.iter().map(|s| (s.as_str(), all.counts.get(s).copied().unwrap_or(0))).collect();
    let mut bad = Vec::new();
    if all.students != n as i64 || counts.values().sum::<i64>() != n as i64 {
        bad.push(format!("students {} / counts {counts:?}, want {n}", all.students));
    }
    if uploads != tally.photos as i64 {
        bad.push(format!("per_day uploads {uploads} != {} photos", tally.photos));
    }
    if all.appeals.appealed != tally.appeals as i64 || all.appeals.overruled != tally.overrules as i64 {
        bad.push(format!("appeals {:?} != planned {} / {}", all.appeals, tally.appeals, tally.overrules));
    }
    if counts["uploaded"] != 0 {
        bad.push(format!("{} students left uploaded", counts["uploaded"]));
    }
    let total_secs = started.elapsed().as_secs_f64();
    drop(world);
    drop(records);
    let summary = json!({
        "data": args.data,
        "campaign": {"starts_on": first, "ends_on": today + Duration::days(14), "history_days": args.days, "last_history_day": today - Duration::days(1)},
        "students": n, "schools": n_schools, "districts": n_districts, "seed": args.seed,
        "history": tally,
        "counts": counts,
        "rejection_codes": all.rejected_by_code.len(),
        "days_with_uploads": all.per_day.len(),
        "seconds": {"roster": (roster_secs * 10.0).round() / 10.0, "history": (history_secs * 10.0).round() / 10.0, "total": (total_secs * 10.0).round() / 10.0},
        "rows": row_counts(&args.data.join("gradphoto.sqlite3")),
        "failures": bad,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
    if summary["failures"].as_array().is_some_and(|f| !f.is_empty()) {
        return Err("the counters do not match the planned history".into());
    }
    Ok(())
}
