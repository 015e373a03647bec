use clap::{Parser, Subcommand};
use gradphoto_core::photo::{Profile, Rules};
use gradphoto_core::{Role, Stage};
use gradphoto_local::{check_cmd, crop_cmd, demo, purge_cmd, server};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// gradphoto — 毕业生照片采集系统 (graduation photo collection).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system in one process on SQLite and a local folder.
    Serve {
        /// Folder for the database, the photos and the signing key.
        #[arg(long, env = "GRADPHOTO_DATA", default_value = "data")]
        data: PathBuf,
        #[arg(long, env = "GRADPHOTO_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Base URL browsers use to reach this server (for signed upload/preview URLs);
        /// default http://ADDR.
        #[arg(long, env = "GRADPHOTO_PUBLIC_URL")]
        public_url: Option<String>,
        /// Folder of the web pages served at `/`; default: the repository's web/ folder.
        #[arg(long, env = "GRADPHOTO_WEB")]
        web: Option<PathBuf>,
        /// Session-token secret; default: a random key kept in the data folder.
        #[arg(long, env = "GRADPHOTO_TOKEN_SECRET", hide_env_values = true)]
        token_secret: Option<String>,
        /// Requests served at once; past it clients get 503 busy.
        #[arg(long, env = "GRADPHOTO_MAX_IN_FLIGHT", default_value_t = 256)]
        max_in_flight: usize,
        /// How long a signed upload URL stays valid, in seconds.
        #[arg(long, env = "GRADPHOTO_UPLOAD_TTL_SECS", default_value_t = 900)]
        upload_ttl_secs: u64,
        /// Seconds a request body (a photo, a CSV) may take to arrive before 408 body_timeout.
        #[arg(long, env = "GRADPHOTO_BODY_TIMEOUT_SECS", default_value_t = 120)]
        body_timeout_secs: u64,
        /// Photo-check workers (0: photos wait in `uploaded` until a restart with workers).
        #[arg(long, env = "GRADPHOTO_CHECK_WORKERS", default_value_t = 2)]
        check_workers: usize,
        /// Origin allowed to call the API and the signed upload/preview URLs from another site
        /// (pages on an S3 website or CloudFront); repeat the flag or separate with commas.
        /// Default: none, same-origin only.
        #[arg(long = "cors-origin", env = "GRADPHOTO_CORS_ORIGIN", value_delimiter = ',', value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Seed a demo campaign (open around the clock), two schools, a roster and accounts.
        #[arg(long)]
        demo: bool,
        /// Geometry bands the check and the crop suggestion use: ga461 (GA 461-2004, the
        /// default) or xuexin (学信网 480×640 scaled to 272 px wide).
        #[arg(long = "photo-profile", env = "GRADPHOTO_PHOTO_PROFILE", default_value = "ga461", value_parser = ["ga461", "xuexin"])]
        photo_profile: String,
    },
    /// Create a bureau or reviewer account.
    AddUser {
        #[arg(long, env = "GRADPHOTO_DATA", default_value = "data")]
        data: PathBuf,
        #[arg(long, value_parser = ["bureau", "reviewer"])]
        role: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "GRADPHOTO_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// After the campaign: delete every student's data, photo and export, and the school
    /// accounts; keep the campaign, the schools and the bureau/reviewer accounts. Stop the
    /// server first. Without --yes only prints what would be deleted.
    Purge {
        #[arg(long, env = "GRADPHOTO_DATA", default_value = "data")]
        data: PathBuf,
        /// Really delete (otherwise a dry run).
        #[arg(long)]
        yes: bool,
        /// Purge even though the campaign has not ended yet.
        #[arg(long)]
        force: bool,
    },
    /// Check photos as the server would; one JSON line per file, exit 1 if any fails.
    Check {
        #[arg(long, default_value = "senior", value_parser = ["primary", "junior", "senior"])]
        stage: String,
        /// Add the measured head geometry (face box, eye points, eye line, crown, chin, head
        /// ratio, centre, roll, proportions) to each line, to see why.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// 自动裁剪: crop each original (a studio's larger photo) to 272×354 as the server
    /// suggests; writes OUT/<name>.jpg, one JSON line per original, exit 1 if any was refused
    /// or still has a finding.
    Crop {
        #[arg(long, default_value = "senior", value_parser = ["primary", "junior", "senior"])]
        stage: String,
        /// Folder for the cropped photos (created if missing).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `--profile` of the commands that judge photos without a server (`check`, `crop`).
#[derive(clap::Args)]
struct ProfileArg {
    /// Geometry bands: ga461 (GA 461-2004, the default) or xuexin (学信网 480×640 scaled).
    #[arg(long = "profile", value_name = "PROFILE", env = "GRADPHOTO_PHOTO_PROFILE", default_value = "ga461", value_parser = ["ga461", "xuexin"])]
    name: String,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRADPHOTO_LOG").unwrap_or_else(|_| "info".into());
    if std::env::var("GRADPHOTO_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
}

fn default_web() -> Option<PathBuf> {
    let here = PathBuf::from("web");
    if here.join("index.html").exists() {
        return Some(here);
    }
    let repo = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web"));
    repo.join("index.html").exists().then_some(repo)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { stage, explain, profile, files } => {
            let stage = Stage::parse(&stage).unwrap_or(Stage::Senior);
            check_cmd::run(stage, &profile_rules(&profile.name), explain, &files)
        }
        Command::Crop { stage, out, profile, files } => {
            let stage = Stage::parse(&stage).unwrap_or(Stage::Senior);
            crop_cmd::run(stage, &profile_rules(&profile.name), &out, &files)
        }
        Command::Purge { data, yes, force } => {
            init_tracing();
            match purge_cmd::run(&data, yes, force).await {
                Ok(report) => {
                    // A reader that stops early (`| grep -q`, `| head`) is not a failure.
                    let _ = writeln!(std::io::stdout().lock(), "{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("错误：{e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::AddUser { data, role, username, password } => {
            init_tracing();
            match add_user(data, &role, &username, &password).await {
                Ok(()) => {
                    println!("已创建账号 {username}（{role}）");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("错误：{e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve { data, addr, public_url, web, token_secret, max_in_flight, upload_ttl_secs, body_timeout_secs, check_workers, cors_origins, demo: with_demo, photo_profile } => {
            init_tracing();
            // Refuse a mistyped origin before binding, not at the first cross-origin request.
            if let Err(e) = server::parse_origins(&cors_origins) {
                eprintln!("错误：{e}");
                return ExitCode::from(2);
            }
            let listener = match tokio::net::TcpListener::bind(&addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("错误：无法监听 {addr}：{e}");
                    return ExitCode::from(2);
                }
            };
            let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or(addr);
            let url = public_url.unwrap_or_else(|| format!("http://{bound}"));
            let opts = server::Options {
                data: data.clone(),
                public_url: url.clone(),
                web: web.or_else(default_web),
                token_secret,
                max_in_flight,
                upload_ttl: std::time::Duration::from_secs(upload_ttl_secs),
                body_timeout: std::time::Duration::from_secs(body_timeout_secs),
                check_workers,
                cors_origins,
                rules: profile_rules(&photo_profile),
            };
            if with_demo {
                let seeded = match server::open_records(&data) {
                    Ok(records) => demo::seed(&*records).await,
                    Err(e) => Err(e.to_string()),
                };
                match seeded {
                    Ok(schools) => println!("{}", demo::banner(&schools, &url)),
                    Err(e) => {
                        eprintln!("错误：演示数据写入失败：{e}");
                        return ExitCode::from(2);
                    }
                }
            }
            println!("listening on {url}");
            match server::serve(opts, listener).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("错误：{e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// clap has already refused any other spelling.
fn profile_rules(name: &str) -> Rules {
    Rules::for_profile(Profile::parse(name).unwrap_or_default())
}

async fn add_user(data: PathBuf, role: &str, username: &str, password: &str) -> Result<(), String> {
    let role = Role::parse(role).ok_or("角色应为 bureau 或 reviewer")?;
    let records = server::open_records(&data).map_err(|e| e.to_string())?;
    gradphoto_service::create_staff_account(&*records, role, username, password, chrono::Utc::now()).await.map_err(|e| e.to_string())?;
    Ok(())
}
