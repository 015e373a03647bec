//! Measures what the cost sheet in docs/aws.md needs, on this machine, in release:
//! the photo check's CPU time (the bulk of a check-photo invocation) and one whole check-photo
//! invocation (claim, HEAD+GET, check, duplicate lookup, record) against moto on loopback.
//!
//! cargo run --release --example measure -p gradphoto-lambda   (needs moto[server])

use chrono::{Duration, Utc};
use gradphoto_core::ports::{Records, SystemClock};
use gradphoto_core::*;
use std::sync::Arc;
use std::time::Instant;

const PHOTO: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/core/tests/corpus/astronaut_valid.jpg"));

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let rules = gradphoto_core::photo::Rules::default();
    let mut cpu = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        let r = gradphoto_core::photo::check(PHOTO, Stage::Senior, &rules);
        cpu.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(r.passed());
    }
    println!("photo::check of a {} B photo: median {:.1} ms (40 runs)", PHOTO.len(), median(cpu));

    let a = gradphoto_aws::testing::fresh().await;
    let r = &a.records;
    r.insert_schools(&[School { school_id: "s".into(), district: "d".into(), name: "n".into(), stage: Stage::Senior, registration_code: "C".into(), username: None }])
        .await
        .unwrap();
    let n = 20;
    let rows: Vec<RosterRow> = (0..n).map(|i| RosterRow { school_id: "s".into(), student_id: StudentId::parse(&format!("S{i}")).unwrap(), name: "x".into(), class: "1".into() }).collect();
    r.import_roster(&rows).await.unwrap();
    let handler = gradphoto_lambda::check::CheckPhoto::new(Arc::new(r.clone()), Arc::new(a.store.clone()), Arc::new(SystemClock), rules.clone(), a.store.bucket().to_owned());
    let template: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/s3-object-created.json")).unwrap()).unwrap();
    let mut full = Vec::new();
    for i in 0..n {
        let now = Utc::now();
        let t = Ticket { ticket_id: format!("t{i}"), student_id: StudentId::parse(&format!("S{i}")).unwrap(), school_id: "s".into(), size: PHOTO.len() as u64, generation: 0, issued_at: now, expires_at: now + Duration::minutes(15), issued_by: "measure".into(), uploader: Default::default(), auto_cropped: false };
        r.issue_ticket(&t).await.unwrap();
        let key = t.object_key();
        a.store.client().put_object().bucket(a.store.bucket()).key(&key).body(PHOTO.to_vec().into()).send().await.unwrap();
        let mut ev = template.clone();
        ev["Records"][0]["s3"]["bucket"]["name"] = a.store.bucket().into();
        ev["Records"][0]["s3"]["object"]["key"] = key.into();
        let ev = serde_json::from_value(ev).unwrap();
        let t0 = Instant::now();
        handler.handle(ev).await.unwrap();
        full.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    println!("check-photo invocation against moto: median {:.1} ms ({n} photos)", median(full));
}
