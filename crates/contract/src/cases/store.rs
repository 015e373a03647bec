//! `PhotoStore` behaviour that needs no HTTP client: bounded reads, deletes, listings and the
//! shape of presigned requests. (Whether the store refuses a PUT of another size or type is
//! tested where an HTTP client exists: the embedded server's and the AWS adapter's own tests.)

use crate::fixture::*;
use chrono::{Duration, Utc};
use gradphoto_core::ports::ReadError;

fn key(u: &Uniq, school: u32, student: u32, ticket: u32) -> String {
    gradphoto_core::object_key(&u.school_id(school), &u.student(student), &u.ticket(ticket))
}

pub async fn store_read_limit_and_not_found(fx: &Fixture) {
    let s = &*fx.store;
    let u = Uniq::new();
    let k = key(&u, 1, 1, 1);
    let bytes: Vec<u8> = (0..100u8).collect();
    fx.put(&k, bytes.clone()).await;
    assert_eq!(s.read(&k, 100).await.expect("read at the limit"), bytes, "an object of exactly the limit is read whole");
    assert_eq!(s.read(&k, 1 << 20).await.expect("read"), bytes);
    match s.read(&k, 99).await {
        Err(ReadError::TooLarge { limit }) => assert_eq!(limit, 99),
        other => panic!("an object over the limit must be TooLarge, got {:?}", other.map(|b| b.len())),
    }
    match s.read(&key(&u, 1, 1, 2), 1000).await {
        Err(ReadError::NotFound) => {}
        other => panic!("a missing object must be NotFound, got {:?}", other.map(|b| b.len())),
    }
    // Writing again replaces the object whole.
    fx.put(&k, vec![7; 10]).await;
    assert_eq!(s.read(&k, 100).await.expect("read"), vec![7; 10]);
}

pub async fn store_delete_is_idempotent(fx: &Fixture) {
    let s = &*fx.store;
    let u = Uniq::new();
    let (k, other) = (key(&u, 1, 1, 1), key(&u, 1, 1, 2));
    fx.put(&k, b"photo".to_vec()).await;
    fx.put(&other, b"other".to_vec()).await;
    s.delete(&k).await.expect("delete");
    assert!(matches!(s.read(&k, 100).await, Err(ReadError::NotFound)), "deleted");
    s.delete(&k).await.expect("deleting again is fine");
    s.delete(&key(&u, 9, 9, 9)).await.expect("deleting what never existed is fine");
    assert_eq!(s.read(&other, 100).await.expect("read"), b"other", "only the key is deleted");
}

pub async fn store_list_by_prefix(fx: &Fixture) {
    let s = &*fx.store;
    let u = Uniq::new();
    // Student 1 and 10 share a string prefix; school 2 is another folder.
    let keys = [key(&u, 1, 10, 3), key(&u, 1, 1, 2), key(&u, 2, 1, 1), key(&u, 1, 1, 1), key(&u, 1, 2, 1)];
    for k in &keys {
        fx.put(k, b"x".to_vec()).await;
    }
    let school1 = format!("uploads/{}/", u.school_id(1));
    let mut expected: Vec<String> = keys.iter().filter(|k| k.starts_with(&school1)).cloned().collect();
    expected.sort();
    assert_eq!(s.list(&school1).await.expect("list"), expected, "a folder prefix, in key order");
    let student1 = format!("uploads/{}/{}/", u.school_id(1), u.student(1));
    assert_eq!(s.list(&student1).await.expect("list"), vec![key(&u, 1, 1, 1), key(&u, 1, 1, 2)]);
    // A prefix ending inside a name matches like S3's: S1… and S10….
    let partial = format!("uploads/{}/{}", u.school_id(1), u.student(1));
    assert_eq!(s.list(&partial).await.expect("list"), vec![key(&u, 1, 1, 1), key(&u, 1, 1, 2), key(&u, 1, 10, 3)]);
    assert!(s.list(&format!("uploads/{}/", u.school_id(9))).await.expect("list").is_empty(), "an empty prefix lists nothing");
    s.delete(&key(&u, 1, 1, 1)).await.expect("delete");
    assert_eq!(s.list(&student1).await.expect("list"), vec![key(&u, 1, 1, 2)], "deleted keys are not listed");
}

pub async fn store_presigns_put_and_get(fx: &Fixture) {
    let s = &*fx.store;
    let u = Uniq::new();
    let k = key(&u, 1, 1, 1);
    let exp = Utc::now() + Duration::minutes(15);
    let put = s.presign_put(&k, 123_456, "image/jpeg", exp).await.expect("presign_put");
    assert_eq!(put.method, "PUT");
    assert_eq!(put.headers.get("content-type").map(String::as_str), Some("image/jpeg"), "the client must send the signed content type: {:?}", put.headers);
    assert!(!put.headers.keys().any(|h| h.eq_ignore_ascii_case("host")), "browsers cannot set Host");
    assert!(put.headers.keys().all(|h| *h == h.to_ascii_lowercase()), "header names are lowercase");
    assert!(put.url.starts_with("http://") || put.url.starts_with("https://"), "{}", put.url);
    assert!(put.url.contains(&k), "the URL addresses the key: {}", put.url);
    let other = s.presign_put(&k, 123_457, "image/jpeg", exp).await.expect("presign_put");
    assert_ne!(other.url, put.url, "the size is part of the signed request");
    let get = s.presign_get(&k, exp).await.expect("presign_get");
    assert!(get.contains(&k), "the URL addresses the key: {get}");
    assert_ne!(get, put.url);
}

pub async fn store_put_file_and_download_link(fx: &Fixture) {
    let s = &*fx.store;
    let u = Uniq::new();
    let k = format!("exports/approved-{}-20260630-090000-abcdef.zip", u.school_id(1));
    // Bigger than any photo limit, so the store cannot be holding it in one small buffer.
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let dir = std::env::temp_dir().join(format!("gp-contract-{}", u.as_str()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("export.zip");
    std::fs::write(&path, &bytes).expect("write temp file");
    s.put_file(&k, &path, "application/zip").await.expect("put_file");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(s.read(&k, 4 * 1024 * 1024).await.expect("read back"), bytes, "put_file stores the file whole");
    assert_eq!(s.list("exports/").await.expect("list").iter().filter(|x| **x == k).count(), 1, "listed under exports/");
    let exp = Utc::now() + Duration::minutes(60);
    let url = s.presign_download(&k, "approved.zip", exp).await.expect("presign_download");
    assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
    assert!(url.contains(&k), "the URL addresses the key: {url}");
    assert_ne!(url, s.presign_get(&k, exp).await.expect("presign_get"), "a download link differs from a preview link");
    s.delete(&k).await.expect("delete");
    assert!(matches!(s.read(&k, 4 * 1024 * 1024).await, Err(ReadError::NotFound)));
}
