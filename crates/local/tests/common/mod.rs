//! Black-box harness: starts the real `gradphoto` binary on a random port with a fresh data
//! folder and drives it over HTTP like a client would.

#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BUREAU: (&str, &str) = ("chief", "bureau2026");

pub struct App {
    pub url: String,
    pub client: Client,
    pub data: tempfile::TempDir,
    child: Child,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gradphoto")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {} missing: {e}", path.display()))
}

pub fn fixture(name: &str) -> Vec<u8> {
    read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/photos").join(name))
}

/// Photos of a real person that pass every automatic check (the photo-rule corpus).
pub fn good_photo() -> Vec<u8> {
    read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus/astronaut_valid.jpg"))
}

pub fn good_photo_2() -> Vec<u8> {
    read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus/astronaut_mirrored.jpg"))
}

impl App {
    pub async fn spawn() -> App {
        Self::spawn_with(&[], &[]).await
    }

    /// Starts the server with extra `serve` flags and environment, after creating the bureau
    /// account with the `add-user` command.
    pub async fn spawn_with(args: &[&str], envs: &[(&str, &str)]) -> App {
        let data = tempfile::tempdir().expect("temp dir");
        let status = Command::new(bin())
            .args(["add-user", "--role", "bureau", "--username", BUREAU.0, "--password", BUREAU.1, "--data"])
            .arg(data.path())
            .env("GRADPHOTO_LOG", "warn")
            .status()
            .expect("run add-user");
        assert!(status.success(), "add-user failed");
        Self::start(data, args, envs).await
    }

    /// The server's process id, to SIGKILL it while requests are in flight.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILLs the server (no chance to clean up) and gives back its data folder.
    pub fn crash(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.data, tempfile::tempdir().expect("temp dir"))
    }

    /// Starts a server on an existing data folder.
    pub async fn start(data: tempfile::TempDir, args: &[&str], envs: &[(&str, &str)]) -> App {
        // `GRADPHOTO_TEST_LOG=path` keeps the server's log (at info) in that file, for tests
        // that read what the server logged.
        let log_file = envs.iter().find(|(k, _)| *k == "GRADPHOTO_TEST_LOG").map(|(_, v)| std::fs::File::create(v).expect("log file"));
        let level = if log_file.is_some() { "info" } else { "warn" };
        let mut child = Command::new(bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .args(args)
            .envs(envs.iter().copied().filter(|(k, _)| *k != "GRADPHOTO_TEST_LOG"))
            .env("GRADPHOTO_LOG", level)
            .stdout(Stdio::piped())
            .stderr(log_file.map_or_else(Stdio::inherit, Stdio::from))
            .spawn()
            .expect("start gradphoto serve");
        let stdout = child.stdout.take().expect("stdout");
        let url = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(url) = line.strip_prefix("listening on ") {
                    // Keep draining so the child never blocks on a full pipe.
                    let url = url.trim().to_owned();
                    std::thread::spawn(move || for _ in lines {});
                    return Some(url);
                }
            }
            None
        })
        .await
        .unwrap()
        .expect("server printed its address");
        let client = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let app = App { url, client, data, child };
        for _ in 0..100 {
            if app.client.get(app.at("/api/window")).send().await.is_ok() {
                return app;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not answer");
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.client.get(self.at(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.client.post(self.at(path)).bearer_auth(token).json(&body).send().await.unwrap()
    }

    pub async fn post_csv(&self, token: &str, path: &str, csv: &str) -> Response {
        self.client.post(self.at(path)).bearer_auth(token).header("content-type", "text/csv").body(csv.to_owned()).send().await.unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.client.post(self.at("/api/sessions")).json(&json!({"username": username, "password": password})).send().await.unwrap()
    }

    pub async fn token(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password).await;
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    pub async fn bureau(&self) -> String {
        self.token(BUREAU.0, BUREAU.1).await
    }

    /// A campaign open now, around the clock.
    pub async fn open_campaign(&self, bureau: &str) {
        let today = chrono::Utc::now().date_naive();
        let r = self
            .client
            .put(self.at("/api/admin/campaign"))
            .bearer_auth(bureau)
            .json(&json!({
                "name": "测试活动", "starts_on": (today - chrono::Duration::days(2)).to_string(),
                "ends_on": (today + chrono::Duration::days(30)).to_string(),
                "daily_open": "00:00", "daily_close": "24:00", "timezone": "Asia/Shanghai"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// Creates a school with `n` students (ids `{prefix}0001`…) and registers its teacher.
    pub async fn school(&self, bureau: &str, name: &str, stage: &str, prefix: &str, n: usize) -> SchoolFixture {
        let r = self.post_csv(bureau, "/api/admin/schools", &format!("district,school,stage\n测试区,{name},{stage}\n")).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let school_id = v["schools"][0]["school_id"].as_str().unwrap().to_owned();
        let code = v["schools"][0]["registration_code"].as_str().unwrap().to_owned();
        let mut csv = String::from("school_id,student_id,name,class\n");
        let ids: Vec<String> = (1..=n).map(|i| format!("{prefix}{i:04}")).collect();
        for (i, id) in ids.iter().enumerate() {
            csv += &format!("{school_id},{id},学生{i},{}班\n", i % 3 + 1);
        }
        let r = self.post_csv(bureau, "/api/admin/students", &csv).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let username = format!("teacher_{}", prefix.to_lowercase());
        let r = self
            .client
            .post(self.at("/api/registration"))
            .json(&json!({"code": code, "username": username, "password": "teach123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
        let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        SchoolFixture { school_id, code, ids, token, username }
    }

    /// Asks for an upload URL for one student.
    pub async fn presign(&self, token: &str, student_id: &str, size: usize) -> Value {
        let r = self.post(token, "/api/uploads", json!({"files": [{"student_id": student_id, "size": size}], "content_type": "image/jpeg"})).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn put_grant(&self, grant: &Value, bytes: Vec<u8>) -> Response {
        let mut req = self.client.put(grant["url"].as_str().unwrap());
        for (k, v) in grant["headers"].as_object().unwrap() {
            req = req.header(k, v.as_str().unwrap());
        }
        req.body(bytes).send().await.unwrap()
    }

    /// Starts a signed PUT of `size` bytes that sends only its head and `first` body bytes, and
    /// returns once the server holds a concurrency slot for it. `Expect: 100-continue` makes the
    /// server answer "100 Continue" when the handler starts reading the body — after the
    /// limiter let it in — so the caller's next request cannot race it for the slot.
    #[allow(dead_code)]
    pub async fn stall_upload(&self, url: &str, size: usize, first: &[u8]) -> tokio::net::TcpStream {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let url = reqwest::Url::parse(url).expect("upload URL");
        let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
        let mut conn = tokio::net::TcpStream::connect(&host).await.unwrap();
        let head = format!(
            "PUT {}?{} HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/jpeg\r\nContent-Length: {size}\r\nExpect: 100-continue\r\n\r\n",
            url.path(),
            url.query().unwrap_or(""),
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut interim = Vec::new();
        let read = async {
            let mut buf = [0u8; 1024];
            while !interim.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "the server closed a stalled upload before it started");
                interim.extend_from_slice(&buf[..n]);
            }
        };
        // A hang guard, not a speed check.
        tokio::time::timeout(Duration::from_secs(60), read).await.expect("no answer to Expect: 100-continue");
        let interim = String::from_utf8_lossy(&interim);
        assert!(interim.starts_with("HTTP/1.1 100"), "the stalled upload was not let in: {interim}");
        conn.write_all(first).await.unwrap();
        conn
    }

    /// Presign + PUT, as the page does; returns the PUT's status.
    pub async fn upload(&self, token: &str, student_id: &str, bytes: Vec<u8>) -> StatusCode {
        let v = self.presign(token, student_id, bytes.len()).await;
        let grant = &v["uploads"][0];
        assert!(grant.is_object(), "refused: {v}");
        self.put_grant(grant, bytes).await.status()
    }

    /// Polls until the check has decided (status leaves `uploaded`).
    /// The bound is a hang guard, not a speed check: a debug build on a loaded CI machine with a
    /// queue of photos ahead can take seconds.
    pub async fn settled(&self, token: &str, student_id: &str) -> Value {
        for _ in 0..1200 {
            let v: Value = self.get(token, &format!("/api/students/{student_id}")).await.json().await.unwrap();
            if v["status"] != "uploaded" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{student_id} still uploaded after 30 s");
    }
}

pub struct SchoolFixture {
    pub school_id: String,
    pub code: String,
    pub ids: Vec<String>,
    pub token: String,
    pub username: String,
}

pub async fn error_code(r: Response) -> (StatusCode, String) {
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["code"].as_str().unwrap_or("<none>").to_owned())
}

/// Every (method, path) the API routes, read from the routers' source so that a new route
/// cannot be missed by the test above.
pub fn routes_of_the_api() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src/routes");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.contains(".route(\"")) {
            let path = line.split('"').nth(1).unwrap().to_owned();
            for method in ["get", "post", "put", "delete"] {
                if line.contains(&format!(" {method}(")) || line.contains(&format!(".{method}(")) || line.contains(&format!("({method}(")) {
                    out.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    assert!(out.len() >= 30, "found only {} routes in {}: {out:?}", out.len(), dir.display());
    out
}
