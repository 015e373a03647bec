//! Session tokens under attack, against the real server: an edited payload, `alg: none`, another
//! key, an expired token, and claims that confuse roles. Every one is refused as
//! `unauthenticated` or `forbidden`, never served and never a 500.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "tokens-test-secret-0123456789abcdefghijklmnop";

/// Unpadded base64url (RFC 7515), written out so the test shares no code with the server.
fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(s: &str) -> Vec<u8> {
    const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let vals: Vec<u32> = s.chars().map(|c| A.find(c).expect("base64url") as u32).collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | (v << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn signed(claims: &Value, key: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key.as_bytes())).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn forged_edited_expired_and_confused_tokens_are_refused() {
    let app = App::spawn_with(&[], &[("GRADPHOTO_TOKEN_SECRET", SECRET)]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let a = app.school(&bureau, "甲校", "junior", "A", 1).await;
    let b = app.school(&bureau, "乙校", "junior", "B", 1).await;
    assert_eq!(app.get(&a.token, "/api/school").await.status(), StatusCode::OK, "the genuine token works");

    // The teacher's own token with the payload edited to the bureau role (signature kept).
    let parts: Vec<&str> = a.token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&unbase64url(parts[1])).unwrap();
    assert_eq!(claims["role"], "school", "{claims}");
    claims["role"] = json!("bureau");
    let edited = format!("{}.{}.{}", parts[0], base64url(claims.to_string().as_bytes()), parts[2]);
    assert_eq!(error_code(app.get(&edited, "/api/admin/progress").await).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()));
    // The same with the school swapped for another's.
    let mut claims: Value = serde_json::from_slice(&unbase64url(parts[1])).unwrap();
    claims["school_id"] = json!(b.school_id);
    let edited = format!("{}.{}.{}", parts[0], base64url(claims.to_string().as_bytes()), parts[2]);
    assert_eq!(error_code(app.get(&edited, "/api/students").await).await.1, "unauthenticated");

    // alg "none" with no signature, and HS256 with a guessed key.
    let bureau_claims = json!({"sub": "bureau", "role": "bureau", "iat": now(), "exp": now() + 3600});
    let none = format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), base64url(bureau_claims.to_string().as_bytes()));
    assert_eq!(error_code(app.get(&none, "/api/admin/progress").await).await.1, "unauthenticated");
    let guessed = signed(&bureau_claims, "secret");
    assert_eq!(error_code(app.get(&guessed, "/api/admin/progress").await).await.1, "unauthenticated");
    assert_eq!(app.get(&signed(&bureau_claims, SECRET), "/api/admin/progress").await.status(), StatusCode::OK, "the key is the one the server uses");

    // Expired a second ago, with the real key.
    let expired = signed(&json!({"sub": a.username, "role": "school", "school_id": a.school_id, "iat": now() - 7200, "exp": now() - 1}), SECRET);
    assert_eq!(error_code(app.get(&expired, "/api/school").await).await.1, "unauthenticated");

    // Role confusion with the real key: a school role without a school, an unknown role, and a
    // reviewer claiming a school. None reaches a school's data; none is a 500.
    for (claims, want) in [
        (json!({"sub": "x", "role": "school", "iat": now(), "exp": now() + 60}), StatusCode::FORBIDDEN),
        (json!({"sub": "x", "role": "admin", "iat": now(), "exp": now() + 60}), StatusCode::UNAUTHORIZED),
        (json!({"sub": "x", "role": "reviewer", "school_id": a.school_id, "iat": now(), "exp": now() + 60}), StatusCode::FORBIDDEN),
        (json!({"sub": "x", "role": "school", "school_id": 12, "iat": now(), "exp": now() + 60}), StatusCode::UNAUTHORIZED),
    ] {
        let r = app.get(&signed(&claims, SECRET), "/api/students").await;
        assert_eq!(r.status(), want, "{claims}");
    }
    // Tokens in odd places are not read: a query parameter or a cookie is no session.
    let r = app.client.get(app.at(&format!("/api/school?token={}", a.token))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.client.get(app.at("/api/school")).header("cookie", format!("token={}", a.token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
