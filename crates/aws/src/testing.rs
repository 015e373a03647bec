//! Test support (used by this crate's and the functions' tests, never by a function): one moto server (infra/moto_serial.py: moto, one request at a time) per test binary on a free loopback port, and a fresh table
//! and bucket (unique names) per test. moto is a real S3/DynamoDB API server, not a mock of
//! the SDK: requests go over HTTP, conditions and transactions are evaluated server-side.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use crate::{Adapters, Settings, schema};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static MOTO: OnceLock<String> = OnceLock::new();

/// The endpoint of this test binary's moto server, started on first use.
pub fn moto_endpoint() -> &'static str {
    MOTO.get_or_init(start_moto)
}

fn start_moto() -> String {
    if let Ok(url) = std::env::var("GRADPHOTO_MOTO_URL") {
        // An already running server (infra/test-aws.sh may share one between binaries).
        return url;
    }
    let found = Command::new("python3").args(["-c", "import moto.server, flask, werkzeug"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !found.is_ok_and(|s| s.success()) {
        panic!("moto's server is not installed: run `pip install \"moto[server]\"` (infra/test-aws.sh does it)");
    }
    let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/moto_serial.py");
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    // A shell watchdog ends moto when this test process exits (tests have no teardown hook
    // for statics), so no server outlives its test run.
    let me = std::process::id();
    let script = format!(
        "python3 {launcher} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         echo started; while kill -0 {me} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill $m 2>/dev/null"
    );
    let mut child = Command::new("sh").arg("-c").arg(script).stdout(Stdio::piped()).spawn().expect("spawn sh for moto_server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // Reap the watchdog when it exits (with this process, or if moto dies).
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not listen on 127.0.0.1:{port} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(moto_endpoint())
        .load()
        .await
}

/// Fresh adapters on a new table and bucket.
pub async fn fresh() -> Adapters {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let settings = Settings { table: format!("gp-{}", &id[..16]), bucket: format!("gp-{}", &id[..16]), force_path_style: true };
    let sdk = sdk_config().await;
    let adapters = Adapters::from_sdk_config(&sdk, &settings);
    schema::create_table(adapters.records.client(), &settings.table).await.expect("create table");
    schema::create_bucket(adapters.store.client(), &settings.bucket).await.expect("create bucket");
    adapters
}

/// The school the `events/` fixtures name (`sch-1`), as the Lambda tests seed it.
pub fn fixture_school() -> gradphoto_core::School {
    gradphoto_core::School {
        school_id: "sch-1".into(),
        district: "浦东新区".into(),
        name: "上海市建平中学".into(),
        stage: gradphoto_core::Stage::Senior,
        registration_code: "REGEXAMPLE1".into(),
        username: None,
    }
}
