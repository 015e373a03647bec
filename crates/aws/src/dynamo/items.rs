//! Domain values ⇄ DynamoDB items. serde_dynamo maps the fields; the key attributes and the
//! denormalised ones (district on a student, counters on a school) are added here.

use super::tx::{Item, n, s};
use crate::keys::{self, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PK, SK, TTL};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use gradphoto_core::ports::BackendError;
use gradphoto_core::{AuditEvent, Counts, School, Status, Student, Ticket};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn to_item<T: Serialize>(v: &T) -> Result<Item, BackendError> {
    serde_dynamo::to_item(v).map_err(BackendError::new)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, BackendError> {
    serde_dynamo::from_item(item).map_err(BackendError::new)
}

fn with_key(mut item: Item, pk: String, sk: impl Into<String>) -> Item {
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    item
}

fn epoch(t: DateTime<Utc>) -> AttributeValue {
    n(t.timestamp())
}

/// A student as stored, with what the adapter needs beside the domain record.
#[derive(Debug, Clone)]
pub struct StoredStudent {
    pub student: Student,
    /// The school's district, copied at import so the review queue can filter by it.
    pub district: String,
}

pub fn student_item(st: &StoredStudent) -> Result<Item, BackendError> {
    let s_ = &st.student;
    let mut item = with_key(to_item(s_)?, keys::student_pk(&s_.student_id), keys::STUDENT_SK);
    // Optional attributes are omitted rather than stored as NULL (smaller items, and no index
    // key can ever be NULL-typed).
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.insert(GSI1PK.into(), s(keys::roster_pk(&s_.school_id)));
    item.insert(GSI1SK.into(), s(keys::roster_sk(&s_.class, &s_.student_id)));
    if let Some((pk, sk)) = keys::status_keys(s_.status, &s_.school_id, &s_.student_id, s_.uploaded_at) {
        item.insert(GSI2PK.into(), s(pk));
        item.insert(GSI2SK.into(), s(sk));
    }
    item.insert("district".into(), s(&st.district));
    Ok(item)
}

pub fn stored_student(item: Item) -> Result<StoredStudent, BackendError> {
    let district = str_attr(&item, "district").unwrap_or_default();
    let mut item = item;
    // serde_dynamo fills a missing Option with None, but `reasons` must default to empty.
    item.entry("reasons".into()).or_insert_with(|| AttributeValue::L(Vec::new()));
    // Before contract v2 a pending photo's soft flags were its reasons: read them as flags.
    if !item.contains_key("flags") {
        let pending = str_attr(&item, "status").as_deref() == Some(Status::PendingReview.as_str());
        let moved = if pending { item.insert("reasons".into(), AttributeValue::L(Vec::new())) } else { None };
        item.insert("flags".into(), moved.unwrap_or_else(|| AttributeValue::L(Vec::new())));
    }
    for k in ["uploaded_at", "reviewed_at", "photo_key", "photo_hash", "decided_by", "appeal", "uploaded_by"] {
        item.entry(k.into()).or_insert(AttributeValue::Null(true));
    }
    Ok(StoredStudent { student: from_item(item)?, district })
}

pub fn school_item(school: &School) -> Result<Item, BackendError> {
    let mut item = with_key(to_item(school)?, keys::school_pk(&school.school_id), keys::SCHOOL_SK);
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.insert(GSI1PK.into(), s(keys::SCHOOLS));
    item.insert(GSI1SK.into(), s(keys::school_gsi1sk(&school.district, &school.name, school.stage)));
    for st in Status::ALL {
        item.insert(keys::counter(st), n(0));
    }
    Ok(item)
}

pub fn school_from(item: Item) -> Result<School, BackendError> {
    let mut item = item;
    item.entry("username".into()).or_insert(AttributeValue::Null(true));
    from_item(item)
}

pub fn counts_from(item: &Item) -> Counts {
    let mut c = Counts::default();
    for st in Status::ALL {
        // A counter can only go negative through a bug; clamp rather than wrap.
        let v = item.get(&keys::counter(st)).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        c.add(st, v.max(0) as u32);
    }
    c
}

pub fn code_item(code: &str, school_id: &str) -> Item {
    let mut item = with_key(Item::new(), keys::code_pk(code), keys::CODE_SK);
    item.insert("school_id".into(), s(school_id));
    item
}

pub fn ticket_item(t: &Ticket) -> Result<Item, BackendError> {
    let mut item = with_key(to_item(t)?, keys::student_pk(&t.student_id), keys::ticket_sk(&t.ticket_id));
    // Tickets are worthless a day after they expire; TTL removes them for free.
    item.insert(TTL.into(), epoch(t.expires_at + chrono::Duration::days(1)));
    Ok(item)
}

/// `seq` is the student's version after the change: it orders events of the same instant.
pub fn audit_item(e: &AuditEvent, seq: u64) -> Result<Item, BackendError> {
    let mut item = with_key(to_item(e)?, keys::student_pk(&e.student_id), keys::audit_sk(e.at, seq));
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    Ok(item)
}

pub fn audit_from(item: Item) -> Result<AuditEvent, BackendError> {
    let mut item = item;
    item.entry("note".into()).or_insert(AttributeValue::Null(true));
    from_item(item)
}

pub fn str_attr(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn num_attr(item: &Item, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// DynamoDB's billed size of an item: attribute names plus values (strings in UTF-8 bytes,
/// numbers about one byte per two digits plus one, lists/maps 3 bytes plus their elements).
#[cfg_attr(not(test), allow(dead_code))]
pub fn billed_size(item: &Item) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value(e)).sum::<usize>(),
            AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value(e)).sum::<usize>(),
            AttributeValue::B(b) => b.as_ref().len(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::VERSION;
    use chrono::TimeZone;
    use gradphoto_core::{Reason, StudentId};

    /// The cost sheet (docs/aws.md) assumes every write of a student is 1 WCU and every index
    /// entry fits in 1 KB: a student with a long name, two reasons and all times stays small.
    #[test]
    fn a_pending_student_stored_before_flags_existed_reads_its_reasons_as_flags() {
        let mut item = student_item(&StoredStudent {
            student: Student {
                student_id: StudentId::parse("P1").unwrap(),
                school_id: "sc".into(),
                name: "n".into(),
                class: "c".into(),
                status: Status::PendingReview,
                reasons: vec![Reason::new("phone_photo", "m")],
                uploaded_at: None,
                reviewed_at: None,
                photo_key: None,
                generation: 1,
                photo_hash: None,
                version: 2,
                decided_by: None,
                appeal: None,
                flags: Vec::new(),
                review_required: false,
                uploaded_by: None,
                auto_cropped: false,
                geometry: None,
            },
            district: "d".into(),
        })
        .unwrap();
        item.remove("flags");
        let back = stored_student(item).unwrap().student;
        assert!(back.reasons.is_empty());
        assert_eq!(back.flags, vec![Reason::new("phone_photo", "m")]);
    }

    #[test]
    fn a_full_student_item_stays_under_one_kilobyte() {
        let at = Utc.with_ymd_and_hms(2025, 6, 2, 8, 0, 0).unwrap();
        let student = Student {
            student_id: StudentId::parse("G310101200901011234").unwrap(),
            school_id: "sch-0123456789".into(),
            name: "欧阳娜娜娜娜".into(),
            class: "高三(12)班".into(),
            status: Status::Rejected,
            reasons: vec![
                Reason::new("background_not_white", "照片背景应为白色、均匀、无阴影"),
                Reason::new("head_too_large", "人像过大（大头照），请重新拍摄或裁剪，头部约占照片高度的一半到三分之二"),
            ],
            uploaded_at: Some(at),
            reviewed_at: Some(at),
            photo_key: Some("uploads/sch-0123456789/G310101200901011234/t-0123456789abcdef.jpg".into()),
            generation: 3,
            photo_hash: Some(u64::MAX),
            version: 12,
            decided_by: Some(gradphoto_core::DecidedBy::Check),
            appeal: None,
            flags: vec![Reason::new("phone_photo", "照片信息显示由手机拍摄（Apple iPhone 15 Pro Max），请确认是照相馆拍摄的标准证件照")],
            review_required: true,
            uploaded_by: Some(gradphoto_core::Uploader::Parent),
            auto_cropped: true,
            // The widest numbers a measured head can have (a photo the check rejected).
            geometry: Some(gradphoto_core::PhotoGeometry {
                eye_line: 188,
                crown: 17,
                chin: 354,
                head_ratio: 0.819,
                centre_offset: -136,
                roll: -12.3,
                eye_distance: 100,
                width_to_height: 1.59,
            }),
        };
        let item = student_item(&StoredStudent { student: student.clone(), district: "浦东新区".into() }).unwrap();
        let size = billed_size(&item);
        let unmeasured = billed_size(&student_item(&StoredStudent { student: Student { geometry: None, ..student.clone() }, district: "浦东新区".into() }).unwrap());
        println!("student item: {size} bytes ({unmeasured} without the geometry)");
        assert!(size < 1024, "{size} bytes");
        let back = stored_student(item.clone()).unwrap();
        assert_eq!(back.student, student, "the whole record reads back, the geometry included");
        assert_eq!(back.student.version, 12);
        assert_eq!(item.get(VERSION).and_then(|v| v.as_n().ok()).map(String::as_str), Some("12"), "the attribute conditions test");

        // An appeal carries a note of up to 200 characters: such a student costs 2 WCU a write
        // while appealed (docs/aws.md), never more.
        let mut appealed = back;
        appealed.student.appeal = Some(gradphoto_core::Appeal {
            note: Some("学".repeat(gradphoto_core::notes::APPEAL_NOTE_MAX)),
            at,
            by: "teacher_pudong_0123456789".into(),
            overruled: vec!["background_not_white".into(), "head_too_large".into(), "blurry".into()],
        });
        let size = billed_size(&student_item(&appealed).unwrap());
        println!("appealed student item: {size} bytes");
        assert!(size <= 2048, "{size} bytes");
    }
}
