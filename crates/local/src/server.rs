//! Assembles the embedded server: SQLite records, the disk store, the check workers, the API
//! routers, the store's signed URLs and the static pages, in one process.

use crate::check_queue::{CheckQueue, Deps, PoolChecker};
use crate::disk::DiskStore;
use crate::sqlite::SqliteRecords;
use crate::store_http::{self, StoreState};
use axum::http::{HeaderValue, Method, header};
use gradphoto_api::{AppState, Config};
use gradphoto_core::ports::{Clock, PhotoStore, Records, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data folder {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("{0}")]
    Store(#[from] gradphoto_core::ports::BackendError),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
    #[error("--cors-origin {0:?}: expected an origin such as https://photos.example.edu.cn (scheme and host, optional port, no path)")]
    CorsOrigin(String),
}

pub struct Options {
    pub data: PathBuf,
    /// The address clients use to reach this server (signed upload and preview URLs).
    pub public_url: String,
    pub web: Option<PathBuf>,
    pub token_secret: Option<String>,
    pub max_in_flight: usize,
    pub upload_ttl: std::time::Duration,
    pub body_timeout: std::time::Duration,
    pub check_workers: usize,
    /// Origins whose pages may call the API and the signed `/store` URLs (pages published on
    /// an S3 website or CloudFront with `API_BASE` pointing here). Empty: same origin only.
    pub cors_origins: Vec<String>,
    /// The photo rules (`Rules::for_profile`: the bureau's ID-photo style).
    pub rules: gradphoto_core::photo::Rules,
}

/// Pending checks held in memory; a student id is a few dozen bytes, so a whole city's burst
/// fits, and anything beyond waits for the sweep.
const QUEUE_CAPACITY: usize = 65_536;

/// How often, and for photos waiting how long, the sweep re-queues `uploaded` photos.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
const SWEEP_OLDER_THAN_SECS: i64 = 60;

pub struct Embedded {
    pub records: Arc<SqliteRecords>,
    pub state: AppState,
    pub queue: CheckQueue,
    pub router: axum::Router,
}

/// 64 random bytes kept in the data folder (mode 0600): the first half signs session tokens,
/// the second upload and preview URLs, so restarts keep sessions and URLs valid.
pub fn load_or_create_secret(data: &Path) -> Result<[u8; 64], std::io::Error> {
    let path = data.join("secret.key");
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(key) = <[u8; 64]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    let key: [u8; 64] = rand::random();
    let tmp = data.join("secret.key.tmp");
    std::fs::write(&tmp, key)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(key)
}

pub fn open_records(data: &Path) -> Result<Arc<SqliteRecords>, StartError> {
    std::fs::create_dir_all(data).map_err(|e| StartError::DataDir(data.to_owned(), e))?;
    Ok(Arc::new(SqliteRecords::open(&data.join("gradphoto.sqlite3"))?))
}

pub async fn build(opts: &Options, clock: Arc<dyn Clock>) -> Result<Embedded, StartError> {
    let records = open_records(&opts.data)?;
    let secret = load_or_create_secret(&opts.data).map_err(|e| StartError::DataDir(opts.data.clone(), e))?;
    let mut url_key = [0u8; 32];
    url_key.copy_from_slice(&secret[32..]);
    let disk = Arc::new(DiskStore::new(opts.data.join("photos"), opts.public_url.trim_end_matches('/').to_owned(), url_key));
    let config = Config {
        token_secret: opts.token_secret.as_ref().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| secret[..32].to_vec()),
        max_in_flight: opts.max_in_flight,
        upload_ttl: opts.upload_ttl,
        body_timeout: opts.body_timeout,
        rules: opts.rules.clone(),
        ..Config::default()
    };
    let dyn_records: Arc<dyn Records> = records.clone();
    let dyn_store: Arc<dyn PhotoStore> = disk.clone();
    let queue = CheckQueue::start(
        Deps {
            checker: Arc::new(PoolChecker::new(opts.check_workers)),
            records: dyn_records.clone(), store: dyn_store.clone(), clock: clock.clone(), rules: config.rules.clone() },
        opts.check_workers,
        QUEUE_CAPACITY,
    );
    let state = AppState::new(dyn_records.clone(), dyn_store, clock.clone(), config);
    let store_routes = store_http::router(StoreState { disk, records: dyn_records, clock, queue: queue.clone() });
    let api = gradphoto_api::finish(gradphoto_api::all_routes().merge(store_routes), state.clone());
    // Outermost, so a preflight never takes a concurrency permit and a 503 busy still carries
    // the headers the page needs to read its Retry-After. Added before the pages' fallback:
    // the pages themselves are never fetched cross-origin.
    let api = match cors_layer(&opts.cors_origins)? {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let router = match &opts.web {
        Some(dir) => {
            let pages = tower_http::services::ServeDir::new(dir).append_index_html_on_directories(true);
            api.fallback_service(pages)
        }
        None => api,
    };
    Ok(Embedded { records, state, queue, router })
}

/// Checks and normalises `--cors-origin` values: `scheme://host[:port]`, lower-cased because
/// browsers send the Origin header serialised that way and the match is exact.
pub fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, StartError> {
    origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let bad = || StartError::CorsOrigin(o.to_owned());
            let norm = o.trim_end_matches('/').to_ascii_lowercase();
            let host = norm.strip_prefix("https://").or_else(|| norm.strip_prefix("http://")).ok_or_else(bad)?;
            if host.is_empty() || host.contains(['/', '?', '#', '@', '*', ' ']) {
                return Err(bad());
            }
            HeaderValue::from_str(&norm).map_err(|_| bad())
        })
        .collect()
}

/// The CORS answer for pages served from another origin; it mirrors template.yaml's HTTP API
/// (methods, `authorization`/`content-type`, exposing `retry-after`/`content-disposition`,
/// 10-minute preflight cache) and the bucket's rule for the signed PUT. No credentials: the
/// pages send a bearer token, never cookies. `None` when no origin is configured, so
/// browsers keep their same-origin default.
pub fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, StartError> {
    let origins = parse_origins(origins)?;
    if origins.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER, header::CONTENT_DISPOSITION])
            .max_age(std::time::Duration::from_secs(600)),
    ))
}

/// Runs until Ctrl-C: serves, re-checks what a previous run left in `uploaded`, and sweeps
/// again every `SWEEP_EVERY`.
pub async fn serve(opts: Options, listener: tokio::net::TcpListener) -> Result<(), StartError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = build(&opts, clock.clone()).await?;
    let records: Arc<dyn Records> = app.records.clone();
    app.queue.sweep(&*records, &*clock, chrono::Duration::zero()).await;
    let queue = app.queue.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            queue.sweep(&*records, &*clock, chrono::Duration::seconds(SWEEP_OLDER_THAN_SECS)).await;
        }
    });
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    // The peer address is what parents' login limits count per client (`gradphoto_api::auth::Client`).
    axum::serve(listener, app.router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| StartError::Listen(addr, e))
}
