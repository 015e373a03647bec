use gradphoto_core::photo::Rules;
use gradphoto_core::ports::{Clock, PhotoStore, Records};
use std::sync::Arc;
use std::time::Duration;

/// Settings of the HTTP layer; `Config::default()` is the production default.
#[derive(Debug, Clone)]
pub struct Config {
    /// HMAC key of session tokens (HS256). Must be the same across functions/processes.
    pub token_secret: Vec<u8>,
    pub token_ttl: Duration,
    /// How long a presigned upload URL stays valid.
    pub upload_ttl: Duration,
    /// How long a photo preview URL stays valid.
    pub preview_ttl: Duration,
    pub rules: Rules,
    /// Requests served at once before answering 503 busy.
    pub max_in_flight: usize,
    pub busy_retry_after_secs: u64,
    /// Failed logins for one username within `login_cooloff` before 429.
    pub login_max_failures: u32,
    pub login_cooloff: Duration,
    /// Largest request body (CSV imports); photos never pass through the API.
    pub max_body_bytes: usize,
    /// A request body must arrive within this (a 1 MiB photo at ~70 kbit/s): a stalled client
    /// must not keep its `max_in_flight` slot forever.
    pub body_timeout: Duration,
    pub helpdesk_phone: String,
    pub helpdesk_hours: String,
    /// Most photos one export may hold; `None` for no limit. The Lambda sets one so an export
    /// finishes within API Gateway's 30 s and the function's temporary disk.
    pub export_max_photos: Option<usize>,
    /// How long a stored export's download link works.
    pub export_link_ttl: Duration,
    /// Stored exports older than this are deleted when the next one is made.
    pub export_keep: Duration,
    /// How long queue items stay held for the reviewer who fetched them: a grid page of 48
    /// takes a few minutes to judge, and an abandoned page comes back to the queue after this.
    pub review_lease: Duration,
    /// Crop suggestions computed at once (each decodes an original of up to 4000×4000 px);
    /// more answer 503 `busy`.
    pub crop_concurrency: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            token_secret: Vec::new(),
            token_ttl: Duration::from_secs(8 * 3600),
            upload_ttl: Duration::from_secs(15 * 60),
            preview_ttl: Duration::from_secs(30 * 60),
            review_lease: Duration::from_secs(10 * 60),
            rules: Rules::default(),
            max_in_flight: 256,
            busy_retry_after_secs: 30,
            login_max_failures: 5,
            login_cooloff: Duration::from_secs(15 * 60),
            max_body_bytes: 8 * 1024 * 1024,
            body_timeout: Duration::from_secs(120),
            helpdesk_phone: "4008205307 / 8008205307".into(),
            helpdesk_hours: "每周一至周六 8:00-20:00（国定节假日除外）".into(),
            export_max_photos: None,
            export_link_ttl: Duration::from_secs(3600),
            export_keep: Duration::from_secs(24 * 3600),
            crop_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What every handler gets: the ports and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub records: Arc<dyn Records>,
    pub store: Arc<dyn PhotoStore>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Permits for crop suggestions (`Config::crop_concurrency`).
    pub crop_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(records: Arc<dyn Records>, store: Arc<dyn PhotoStore>, clock: Arc<dyn Clock>, config: Config) -> Self {
        let crop_slots = Arc::new(tokio::sync::Semaphore::new(config.crop_concurrency.max(1)));
        Self { records, store, clock, config: Arc::new(config), crop_slots }
    }
}
