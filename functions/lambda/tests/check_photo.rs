//! The check-photo handler on the real-shaped S3 event fixtures in `events/`, against DynamoDB
//! and S3 on moto's server (moto's own S3 event JSON lacks fields AWS sends, so the events come
//! from the fixtures, rewritten only to name this test's bucket).

use aws_lambda_events::s3::S3Event;
use chrono::{DateTime, Duration, TimeZone, Utc};
use gradphoto_aws::testing;
use gradphoto_core::ports::{Clock, Records};
use gradphoto_core::*;
use gradphoto_core::photo::Rules;
use gradphoto_core::upload::{Landing, land};
use gradphoto_lambda::check::{CheckPhoto, Handled};
use std::sync::Arc;

const GOOD_PHOTO: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../crates/core/tests/corpus/astronaut_valid.jpg"));

struct Fixed(DateTime<Utc>);
impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 8, 0, 10).unwrap()
}

fn event(name: &str, bucket: &str) -> S3Event {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut ev: S3Event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not an S3 event: {e}"));
    for r in &mut ev.records {
        r.s3.bucket.name = Some(bucket.to_owned());
    }
    ev
}

fn sid(s: &str) -> StudentId {
    StudentId::parse(s).unwrap()
}

struct Env {
    adapters: gradphoto_aws::Adapters,
    handler: CheckPhoto,
}

impl Env {
    async fn new() -> Self {
        let adapters = testing::fresh().await;
        let r = &adapters.records;
        r.insert_schools(&[testing::fixture_school()]).await.unwrap();
        let rows: Vec<RosterRow> = ["G2025001", "G2025002", "G2025003"]
            .iter()
            .map(|id| RosterRow { school_id: "sch-1".into(), student_id: sid(id), name: "学生".into(), class: "高三(1)班".into() })
            .collect();
        r.import_roster(&rows).await.unwrap();
        let handler = CheckPhoto::new(
            Arc::new(adapters.records.clone()),
            Arc::new(adapters.store.clone()),
            Arc::new(Fixed(t0())),
            Rules::default(),
            adapters.store.bucket().to_owned(),
        );
        Self { adapters, handler }
    }

    async fn ticket(&self, student: &str, ticket_id: &str) {
        let at = t0() - Duration::seconds(10);
        let t = Ticket {
            ticket_id: ticket_id.into(),
            student_id: sid(student),
            school_id: "sch-1".into(),
            size: GOOD_PHOTO.len() as u64,
            generation: 0,
            issued_at: at,
            expires_at: at + Duration::minutes(15),
            issued_by: "teacher1".into(),
            uploader: Default::default(),
            auto_cropped: false,
        };
        self.adapters.records.issue_ticket(&t).await.unwrap();
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) {
        let s3 = &self.adapters.store;
        s3.client().put_object().bucket(s3.bucket()).key(key).body(bytes.into()).send().await.unwrap();
    }

    async fn exists(&self, key: &str) -> bool {
        self.adapters.store.size(key).await.unwrap().is_some()
    }

    async fn student(&self, id: &str) -> Student {
        self.adapters.records.student(&sid(id)).await.unwrap().unwrap()
    }

    async fn handle(&self, name: &str) -> Vec<Handled> {
        self.handler.handle(event(name, self.adapters.store.bucket())).await.unwrap()
    }
}

#[tokio::test]
async fn a_landed_photo_is_checked_and_a_duplicate_delivery_changes_nothing() {
    let env = Env::new().await;
    env.ticket("G2025001", "t-1").await;
    env.put("uploads/sch-1/G2025001/t-1.jpg", GOOD_PHOTO.to_vec()).await;

    assert_eq!(env.handle("s3-object-created.json").await, [Handled::Decided(Status::PendingReview)]);
    let s = env.student("G2025001").await;
    assert_eq!(s.status, Status::PendingReview, "reasons: {:?}", s.reasons);
    assert_eq!(s.photo_key.as_deref(), Some("uploads/sch-1/G2025001/t-1.jpg"));
    assert!(s.photo_hash.is_some());
    assert!(s.geometry.is_some_and(|g| (80..=188).contains(&g.eye_line)), "the check's measurements are stored for the reviewer: {:?}", s.geometry);

    // At-least-once delivery: the same record twice in one event, then the first event again.
    assert_eq!(env.handle("s3-object-created-duplicate.json").await, [Handled::Unchanged, Handled::Unchanged]);
    assert_eq!(env.handle("s3-object-created.json").await, [Handled::Unchanged]);
    assert_eq!(env.student("G2025001").await, s);
    assert!(env.exists("uploads/sch-1/G2025001/t-1.jpg").await, "the winner is never deleted by a duplicate");
    let trail = env.adapters.records.audit_trail(&sid("G2025001")).await.unwrap();
    assert_eq!(trail.len(), 2, "uploaded, then pending_review; nothing for the duplicates");
}

#[tokio::test]
async fn out_of_order_deliveries_keep_the_first_landing_and_delete_the_loser() {
    let env = Env::new().await;
    env.ticket("G2025002", "t-2").await;
    env.ticket("G2025002", "t-3").await;
    env.put("uploads/sch-1/G2025002/t-2.jpg", GOOD_PHOTO.to_vec()).await;
    env.put("uploads/sch-1/G2025002/t-3.jpg", GOOD_PHOTO.to_vec()).await;
    // t-3's notification arrives first: it wins; t-2's (older ticket, same generation) loses.
    assert_eq!(env.handle("s3-out-of-order.json").await, [Handled::Decided(Status::PendingReview), Handled::Ignored]);
    assert_eq!(env.student("G2025002").await.photo_key.as_deref(), Some("uploads/sch-1/G2025002/t-3.jpg"));
    assert!(!env.exists("uploads/sch-1/G2025002/t-2.jpg").await, "the losing object is deleted");
    assert!(env.exists("uploads/sch-1/G2025002/t-3.jpg").await);
    // Replaying the whole event later changes nothing.
    assert_eq!(env.handle("s3-out-of-order.json").await, [Handled::Unchanged, Handled::Ignored]);
}

#[tokio::test]
async fn encoded_keys_are_decoded_and_foreign_objects_are_left_alone() {
    let env = Env::new().await;
    // The fixture's keys, URL-encoded by S3 ("+" is a space): neither is an upload key of ours.
    env.put("uploads/sch-1/G2025001/照片 (1).jpg", GOOD_PHOTO.to_vec()).await;
    env.put("exports/浦东 新区.zip", b"PK".to_vec()).await;
    assert_eq!(env.handle("s3-object-created-encoded-key.json").await, [Handled::Ignored, Handled::Ignored]);
    assert!(env.exists("uploads/sch-1/G2025001/照片 (1).jpg").await, "decoded to the real key, and not deleted");
    assert!(env.exists("exports/浦东 新区.zip").await);
    assert_eq!(env.student("G2025001").await.status, Status::NotUploaded);
}

#[tokio::test]
async fn an_oversized_object_is_rejected_as_too_large() {
    let env = Env::new().await;
    env.ticket("G2025003", "t-4").await;
    // Bypassing the signed size (e.g. a leaked credential): 2 MiB against a 1 MiB limit.
    env.put("uploads/sch-1/G2025003/t-4.jpg", vec![0xFF; 2 * 1024 * 1024]).await;
    assert_eq!(env.handle("s3-object-too-large.json").await, [Handled::Decided(Status::Rejected)]);
    let s = env.student("G2025003").await;
    assert_eq!(s.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["too_large"]);
}

#[tokio::test]
async fn other_events_and_other_buckets_are_skipped() {
    let env = Env::new().await;
    env.ticket("G2025001", "t-1").await;
    env.put("uploads/sch-1/G2025001/t-1.jpg", GOOD_PHOTO.to_vec()).await;
    assert!(matches!(env.handle("s3-object-removed.json").await.as_slice(), [Handled::Skipped(_)]));
    let foreign = event("s3-object-created.json", "someone-elses-bucket");
    assert!(matches!(env.handler.handle(foreign).await.unwrap().as_slice(), [Handled::Skipped(_)]));
    assert_eq!(env.student("G2025001").await.status, Status::NotUploaded);
}

#[tokio::test]
async fn a_backend_failure_fails_the_invocation_so_lambda_retries() {
    let env = Env::new().await;
    env.ticket("G2025001", "t-1").await;
    env.put("uploads/sch-1/G2025001/t-1.jpg", GOOD_PHOTO.to_vec()).await;
    // The table is gone: the claim cannot be recorded, the handler must not report success.
    env.adapters.records.client().delete_table().table_name(env.adapters.records.table()).send().await.unwrap();
    let err = env.handler.handle(event("s3-object-created.json", env.adapters.store.bucket())).await.unwrap_err();
    assert!(err.to_string().contains("1 of 1 records failed"), "{err}");
    assert!(env.exists("uploads/sch-1/G2025001/t-1.jpg").await, "nothing deleted on failure");
}

#[tokio::test]
async fn a_crash_between_claim_and_decision_is_retried_and_decides_once() {
    let env = Env::new().await;
    env.ticket("G2025001", "t-1").await;
    env.put("uploads/sch-1/G2025001/t-1.jpg", GOOD_PHOTO.to_vec()).await;
    // The first invocation claims the object, then dies (timeout, out of memory, kill) before
    // the check is recorded: step 1 of the shared routine alone, as that invocation left it.
    let landed = land(&env.adapters.records, "uploads/sch-1/G2025001/t-1.jpg", t0()).await.unwrap();
    assert!(matches!(landed, Landing::Won(_)), "{landed:?}");
    assert_eq!(env.student("G2025001").await.status, Status::Uploaded, "stuck until a retry or the sweep");

    // Lambda's async retry delivers the same event again: the winner is re-checked, not deleted.
    assert_eq!(env.handle("s3-object-created.json").await, [Handled::Decided(Status::PendingReview)]);
    // A late third delivery (the retry raced the original) changes nothing.
    assert_eq!(env.handle("s3-object-created.json").await, [Handled::Unchanged]);
    let s = env.student("G2025001").await;
    assert_eq!(s.status, Status::PendingReview);
    assert!(env.exists("uploads/sch-1/G2025001/t-1.jpg").await);
    let trail = env.adapters.records.audit_trail(&sid("G2025001")).await.unwrap();
    let steps: Vec<(Status, Status)> = trail.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(steps, [(Status::NotUploaded, Status::Uploaded), (Status::Uploaded, Status::PendingReview)], "exactly one decision");
}
