//! S3PhotoStore against moto's S3. moto accepts any presigned signature, so the tests assert
//! what the URL signs (X-Amz-SignedHeaders); that a mismatch is refused is proven against a
//! strict S3 in s3_strict.rs. The browser round trip (PUT with exactly the returned headers,
//! then GET) runs for real here too.

use gradphoto_aws::testing as support;

use chrono::{Duration, Utc};
use gradphoto_core::ports::{PhotoStore, ReadError};

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.replace("%3B", ";").replace("%3b", ";"))
    })
}

#[tokio::test]
async fn presigned_put_signs_size_and_type_and_the_browser_round_trip_works() {
    let a = support::fresh().await;
    let key = "uploads/s1/A1/t1.jpg";
    let body = vec![0xFFu8; 12_345];
    let req = a.store.presign_put(key, body.len() as u64, "image/jpeg", Utc::now() + Duration::minutes(15)).await.unwrap();
    assert_eq!(req.method, "PUT");
    let signed = query_param(&req.url, "X-Amz-SignedHeaders").expect("a SigV4 query-signed URL");
    let signed: Vec<&str> = signed.split(';').collect();
    for h in ["content-length", "content-type", "host"] {
        assert!(signed.contains(&h), "{h} must be signed, got {signed:?}");
    }
    let expires: u64 = query_param(&req.url, "X-Amz-Expires").unwrap().parse().unwrap();
    assert!((880..=900).contains(&expires), "expires in {expires} s");
    // No checksum of the (empty) presign-time body may be baked in: S3 would refuse the bytes.
    assert!(!req.url.to_ascii_lowercase().contains("x-amz-checksum"), "{}", req.url);
    assert!(!req.headers.keys().any(|k| k.starts_with("x-amz-checksum") || k == "x-amz-sdk-checksum-algorithm"), "{:?}", req.headers);
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("image/jpeg"));
    assert_eq!(req.headers.get("content-length").map(String::as_str), Some("12345"));
    assert!(!req.headers.contains_key("host"));

    let http = reqwest::Client::new();
    let mut put = http.put(&req.url).body(body.clone());
    for (k, v) in &req.headers {
        put = put.header(k, v);
    }
    let resp = put.send().await.unwrap();
    assert!(resp.status().is_success(), "PUT {}", resp.status());

    let get_url = a.store.presign_get(key, Utc::now() + Duration::minutes(30)).await.unwrap();
    assert!(query_param(&get_url, "X-Amz-Signature").is_some());
    let got = http.get(&get_url).send().await.unwrap();
    assert!(got.status().is_success());
    assert_eq!(got.bytes().await.unwrap().to_vec(), body);
    assert_eq!(a.store.read(key, 1024 * 1024).await.unwrap(), body);
}

#[tokio::test]
async fn reads_refuse_oversized_and_missing_objects() {
    let a = support::fresh().await;
    let client = a.store.client();
    let put = |key: &'static str, len: usize| {
        client.put_object().bucket(a.store.bucket()).key(key).body(vec![7u8; len].into()).send()
    };
    put("uploads/s/A/big.jpg", 1024 * 1024 + 1).await.unwrap();
    put("uploads/s/A/exact.jpg", 1024 * 1024).await.unwrap();
    put("uploads/s/A/empty.jpg", 0).await.unwrap();
    assert!(matches!(a.store.read("uploads/s/A/big.jpg", 1024 * 1024).await, Err(ReadError::TooLarge { limit: 1048576 })));
    assert_eq!(a.store.read("uploads/s/A/exact.jpg", 1024 * 1024).await.unwrap().len(), 1024 * 1024);
    assert_eq!(a.store.read("uploads/s/A/empty.jpg", 10).await.unwrap(), Vec::<u8>::new());
    assert!(matches!(a.store.read("uploads/s/A/none.jpg", 10).await, Err(ReadError::NotFound)));
}

#[tokio::test]
async fn list_is_in_key_order_under_a_prefix_and_delete_is_idempotent() {
    let a = support::fresh().await;
    for key in ["uploads/s2/B1/t.jpg", "uploads/s1/A2/t.jpg", "uploads/s1/A1/t.jpg", "other/x"] {
        a.store.client().put_object().bucket(a.store.bucket()).key(key).body(b"x".to_vec().into()).send().await.unwrap();
    }
    assert_eq!(a.store.list("uploads/s1/").await.unwrap(), ["uploads/s1/A1/t.jpg", "uploads/s1/A2/t.jpg"]);
    assert_eq!(a.store.list("uploads/").await.unwrap().len(), 3);
    a.store.delete("uploads/s1/A1/t.jpg").await.unwrap();
    a.store.delete("uploads/s1/A1/t.jpg").await.unwrap();
    assert_eq!(a.store.list("uploads/s1/").await.unwrap(), ["uploads/s1/A2/t.jpg"]);
}

#[tokio::test]
async fn listing_follows_pages_past_a_thousand_keys() {
    let a = support::fresh().await;
    for i in 0..1005 {
        a.store.client().put_object().bucket(a.store.bucket()).key(format!("e/{i:05}")).body(Vec::new().into()).send().await.unwrap();
    }
    let keys = a.store.list("e/").await.unwrap();
    assert_eq!(keys.len(), 1005);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}
