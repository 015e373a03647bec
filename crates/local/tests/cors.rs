//! `serve --cors-origin`: pages published on another origin (S3 website, CloudFront) may call
//! the API and PUT to the signed upload URLs; every other origin gets no CORS headers, and
//! without the flag the server stays same-origin only.

mod common;

use common::{App, bin};
use reqwest::{Method, StatusCode};
use serde_json::json;

const PAGES: &str = "http://pages.example:8000";

async fn preflight(app: &App, path: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.at(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn allowed_origin_gets_cors_on_api_and_store_others_do_not() {
    let app = App::spawn_with(&["--cors-origin", PAGES], &[]).await;

    // Login from the pages' origin: preflight, then the POST itself.
    let r = preflight(&app, "/api/sessions", PAGES, "POST", "content-type").await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PAGES));
    let allowed = header(&r, "access-control-allow-headers").unwrap_or("").to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    let r = app.client.post(app.at("/api/sessions")).header("origin", PAGES).json(&json!({"username": "chief", "password": "bureau2026"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PAGES));
    let exposed = header(&r, "access-control-expose-headers").unwrap_or("").to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    assert!(header(&r, "access-control-allow-credentials").is_none(), "bearer tokens, no cookies");

    // The signed upload URL: the browser preflights a PUT with Content-Type.
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "跨域测试中学", "senior", "CORS", 1).await;
    let grant = app.presign(&school.token, &school.ids[0], 20_000).await;
    let url = grant["uploads"][0]["url"].as_str().unwrap();
    let path = &url[url.find("/store/").expect("a /store URL")..];
    let r = preflight(&app, path, PAGES, "PUT", "content-type").await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PAGES));
    assert!(header(&r, "access-control-allow-methods").unwrap_or("").contains("PUT"));

    // Another origin: no allow-origin on the preflight nor on the answer itself.
    let evil = "http://evil.example";
    let r = preflight(&app, "/api/sessions", evil, "POST", "content-type").await;
    assert!(header(&r, "access-control-allow-origin").is_none());
    let r = app.client.get(app.at("/api/window")).header("origin", evil).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "access-control-allow-origin").is_none());
    let r = preflight(&app, path, evil, "PUT", "content-type").await;
    assert!(header(&r, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_environment_variable_takes_a_comma_separated_list() {
    let app = App::spawn_with(&[], &[("GRADPHOTO_CORS_ORIGIN", "https://a.example, HTTPS://B.example/")]).await;
    for origin in ["https://a.example", "https://b.example"] {
        let r = app.client.get(app.at("/api/window")).header("origin", origin).send().await.unwrap();
        assert_eq!(header(&r, "access-control-allow-origin"), Some(origin), "{origin}");
    }
    let r = app.client.get(app.at("/api/window")).header("origin", "https://c.example").send().await.unwrap();
    assert!(header(&r, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_the_flag_no_origin_is_allowed() {
    let app = App::spawn().await;
    let r = app.client.get(app.at("/api/window")).header("origin", PAGES).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "access-control-allow-origin").is_none());
    let r = preflight(&app, "/api/sessions", PAGES, "POST", "content-type").await;
    assert!(header(&r, "access-control-allow-origin").is_none());
}

#[test]
fn a_malformed_origin_stops_the_server_before_it_listens() {
    for bad in ["pages.example", "https://pages.example/web/", "*", "ftp://pages.example"] {
        let data = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--cors-origin", bad, "--data"])
            .arg(data.path())
            .env("GRADPHOTO_LOG", "warn")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--cors-origin"), "{bad}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"), "{bad}");
    }
}

#[tokio::test]
async fn a_busy_answer_still_lets_the_page_read_retry_after() {
    let app = App::spawn_with(&["--cors-origin", PAGES, "--max-in-flight", "1"], &[]).await;
    let bureau = app.bureau().await;
    app.open_campaign(&bureau).await;
    let school = app.school(&bureau, "跨域忙碌中学", "senior", "BUSY", 1).await;
    let grant = app.presign(&school.token, &school.ids[0], 20_000).await;
    // A signed PUT whose body never arrives holds the only slot while its handler waits.
    let held = app.stall_upload(grant["uploads"][0]["url"].as_str().unwrap(), 20_000, &[]).await;
    let r = app.client.get(app.at("/api/window")).header("origin", PAGES).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "the held PUT made the server busy");
    assert!(header(&r, "retry-after").is_some());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PAGES));
    assert!(header(&r, "access-control-expose-headers").unwrap_or("").to_ascii_lowercase().contains("retry-after"));
    // A preflight is answered by the CORS layer itself, without a slot.
    let r = preflight(&app, "/api/sessions", PAGES, "POST", "content-type").await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(PAGES));
    drop(held);
}
