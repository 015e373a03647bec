//! `gradphoto crop [--stage primary|junior|senior] --out DIR FILE|FOLDER...`: 自动裁剪 from the
//! command line — the server's crop suggestion applied to each original, as the page applies
//! it. Writes `DIR/<stem>.jpg` (272×354 at the required dpi) for every original it can frame
//! and prints one JSON line per original: the suggestion (with what cropping cannot fix) or
//! the refusal's code and message. Exit 0 when every original was cropped with no finding,
//! 1 when any was refused or has findings, 2 when a path cannot be read or written.

use crate::check_cmd::{PathError, expand};
use gradphoto_core::Stage;
use gradphoto_core::photo::{Rules, crop};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Line {
    Cropped {
        file: String,
        out: String,
        #[serde(flatten)]
        suggestion: crop::Suggestion,
    },
    Refused {
        file: String,
        error: gradphoto_core::Reason,
    },
}

/// Crops one original into `out_dir`; `Ok(Line::Refused)` when no suggestion could be made.
pub fn crop_file(path: &Path, out_dir: &Path, stage: Stage, rules: &Rules) -> Result<Line, PathError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| PathError::Io { path: p, source }
    };
    let file = path.display().to_string();
    // One byte past the limit is enough to be refused for size: a huge file is never read whole.
    let bytes = read_capped(path, rules.crop_max_bytes + 1).map_err(io(path))?;
    match crop::crop(&bytes, stage, rules) {
        Ok((suggestion, jpeg)) => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
            let target = out_dir.join(format!("{stem}.jpg"));
            std::fs::write(&target, jpeg).map_err(io(&target))?;
            Ok(Line::Cropped { file, out: target.display().to_string(), suggestion })
        }
        Err(refusal) => Ok(Line::Refused { file, error: refusal.reason(rules) }),
    }
}

fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(cap).read_to_end(&mut bytes)?;
    Ok(bytes)
}

pub fn run(stage: Stage, rules: &Rules, out_dir: &Path, paths: &[PathBuf]) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(out_dir) {
        eprintln!("无法创建输出文件夹“{}”：{e}", out_dir.display());
        return ExitCode::from(2);
    }
    let (files, mut errors) = expand(paths);
    let (mut clean, mut with_findings, mut refused) = (0, 0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut print = |json: String| writeln!(out, "{json}").is_ok();
    let mut open = errors.iter().all(|e| print(serde_json::to_string(&e.line()).expect("a Line always serialises")));
    for f in &files {
        match crop_file(f, out_dir, stage, rules) {
            Ok(line) => {
                match &line {
                    Line::Cropped { suggestion, .. } if suggestion.findings.is_empty() => clean += 1,
                    Line::Cropped { .. } => with_findings += 1,
                    Line::Refused { .. } => refused += 1,
                }
                open = open && print(serde_json::to_string(&line).expect("a Line always serialises"));
            }
            Err(e) => {
                open = open && print(serde_json::to_string(&e.line()).expect("a Line always serialises"));
                errors.push(e);
            }
        }
    }
    let _ = out.flush();
    for e in &errors {
        eprintln!("{e}");
    }
    eprintln!(
        "共 {} 张原始照片：已裁剪 {}（其中 {} 张裁剪后仍有问题），无法自动裁剪 {}",
        clean + with_findings + refused,
        clean + with_findings,
        with_findings,
        refused
    );
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if refused + with_findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
