//! Operator commands for an AWS (or moto/LocalStack) deployment, run from a workstation with
//! AWS credentials: seed the first bureau account, create the table and bucket where
//! CloudFormation is not available, re-check uploads stuck in `uploaded`.
//!
//! Reads TABLE_NAME / BUCKET_NAME like the functions, and the standard AWS settings
//! (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for moto/LocalStack, S3_FORCE_PATH_STYLE).

use clap::{Parser, Subcommand};
use gradphoto_aws::{Adapters, Settings, schema};
use gradphoto_core::ports::Records;
use gradphoto_core::purge;
use gradphoto_core::stats_repair;
use gradphoto_core::upload::{InlineChecker, process_landed};
use gradphoto_core::Role;
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gradphoto-aws", about = "gradphoto 的 AWS 运维命令")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a bureau or reviewer account (e.g. the first bureau user after deploying).
    AddUser {
        #[arg(long, default_value = "bureau")]
        role: String,
        #[arg(long)]
        username: String,
        /// Read from the environment to keep it out of shell history.
        #[arg(long, env = "GRADPHOTO_PASSWORD")]
        password: String,
    },
    /// Creates the table and bucket (moto/LocalStack without CloudFormation; never on AWS,
    /// where template.yaml owns them).
    CreateResources,
    /// The bureau's ZIP of approved photos with manifest.csv, written to a local file: for a
    /// city-wide export, which does not fit one API request (no photo limit here).
    Export {
        /// One school only; all schools without it.
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 1_048_576)]
        max_photo_bytes: u64,
    },
    /// After the campaign: delete every student's data, photo and export and the school
    /// accounts from the table and the bucket; keep the campaign, the schools and the
    /// bureau/reviewer accounts. Without --yes only prints what would be deleted.
    Purge {
        /// Really delete (otherwise a dry run).
        #[arg(long)]
        yes: bool,
        /// Purge even though the campaign has not ended yet.
        #[arg(long)]
        force: bool,
    },
    /// Compares the statistics' counters with the records (every student's audit trail
    /// replayed; exit 1 if they differ). With --rebuild, replaces them with what the records
    /// imply: for a table deployed before the counters existed. Refused while the upload
    /// window is open (run it in the nightly maintenance hours) unless --force.
    Stats {
        #[arg(long)]
        rebuild: bool,
        #[arg(long)]
        force: bool,
    },
    /// Re-runs the check for students stuck in `uploaded` (a lost S3 notification).
    Sweep {
        #[arg(long, default_value_t = 10)]
        older_than_mins: i64,
        #[arg(long, default_value_t = 1_048_576)]
        max_photo_bytes: u64,
    },
}

async fn run(cli: Cli) -> Result<String, String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let a = Adapters::from_env(&settings).await;
    match cli.command {
        Command::AddUser { role, username, password } => {
            let role = Role::parse(&role).ok_or("角色应为 bureau 或 reviewer")?;
            let account = gradphoto_service::create_staff_account(&a.records, role, &username, &password, chrono::Utc::now()).await.map_err(|e| e.to_string())?;
            Ok(format!("已创建 {} 账号 {}", role.as_str(), account.username))
        }
        Command::CreateResources => {
            schema::create_table(a.records.client(), &settings.table).await.map_err(|e| e.to_string())?;
            schema::create_bucket(a.store.client(), &settings.bucket).await.map_err(|e| e.to_string())?;
            Ok(format!("created table {} and bucket {}", settings.table, settings.bucket))
        }
        Command::Export { school, out, max_photo_bytes } => {
            let zip = gradphoto_api::export::build(&a.records, &a.store, max_photo_bytes, school.as_deref(), None, None, chrono::Utc::now())
                .await
                .map_err(|e| e.to_string())?;
            // Copied, not renamed: the temporary file may be on another file system.
            std::fs::copy(zip.file.path(), &out).map_err(|e| format!("写入 {} 失败：{e}", out.display()))?;
            Ok(format!("已导出 {} 张照片到 {}（{} 字节）", zip.photos, out.display(), zip.bytes))
        }
        Command::Purge { yes, force } => {
            let now = chrono::Utc::now();
            if !yes {
                let plan = purge::plan(&a.records, &a.store, now).await.map_err(|e| e.to_string())?;
                let mut out = plan.describe();
                if let Err(refused) = purge::may_purge(&plan, force) {
                    out += &format!("\n注意：{refused}");
                }
                return Ok(out);
            }
            let done = purge::purge(&a.records, &a.store, now, force).await.map_err(|e| e.to_string())?;
            Ok(done.describe())
        }
        Command::Stats { rebuild, force } => {
            if rebuild {
                let done = stats_repair::rebuild(&a.records, chrono::Utc::now(), force).await.map_err(|e| e.to_string())?;
                return Ok(done.describe(true));
            }
            let found = stats_repair::check(&a.records).await.map_err(|e| e.to_string())?;
            if found.drift.is_empty() { Ok(found.describe(false)) } else { Err(found.describe(false)) }
        }
        Command::Sweep { older_than_mins, max_photo_bytes } => {
            let now = chrono::Utc::now();
            let rules = gradphoto_core::photo::Rules { max_bytes: max_photo_bytes, ..Default::default() };
            let stuck = a.records.stuck_uploads(now - chrono::Duration::minutes(older_than_mins)).await.map_err(|e| e.to_string())?;
            let mut done = 0;
            for s in &stuck {
                if let Some(key) = &s.photo_key {
                    process_landed(&a.records, &a.store, &InlineChecker, &rules, key, now).await.map_err(|e| e.to_string())?;
                    done += 1;
                }
            }
            Ok(format!("re-checked {done} of {} stuck uploads", stuck.len()))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(msg) => {
            // A reader that stops early (`| grep -q`, `| head`) is not a failure of the command.
            let _ = writeln!(std::io::stdout().lock(), "{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}
