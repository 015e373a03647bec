//! `gradphoto check [--stage primary|junior|senior] FILE|FOLDER...`: the automatic photo check
//! as a teacher's pre-flight tool. One JSON line per photo on stdout, a Chinese summary on
//! stderr; exit 0 when every photo passes, 1 when any fails, 2 when a path cannot be read.

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Files larger than this are not read whole: they fail `too_large` on their size alone.
const READ_CAP: u64 = 64 * 1024 * 1024;

#[derive(Debug, Serialize, PartialEq)]
pub struct Line {
    pub file: String,
    pub verdict: &'static str,
    pub codes: Vec<String>,
    pub flags: Vec<String>,
    pub messages: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("无法读取“{path}”：{source}")]
    Io { path: String, source: std::io::Error },
    #[error("文件夹“{0}”中没有 .jpg / .jpeg 照片")]
    EmptyFolder(String),
}

/// Expands folders to their *.jpg / *.jpeg files (not recursive), sorted by name; files are
/// kept as given, whatever their extension (the check judges the bytes, not the name).
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathError>) {
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| f.is_file() && is_jpeg_name(f))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        errors.push(PathError::EmptyFolder(p.display().to_string()));
                    }
                    files.extend(found);
                }
                Err(source) => errors.push(PathError::Io { path: p.display().to_string(), source }),
            },
            Ok(_) => files.push(p.clone()),
            Err(source) => errors.push(PathError::Io { path: p.display().to_string(), source }),
        }
    }
    (files, errors)
}

fn is_jpeg_name(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
}

/// Checks one file.
pub fn check_file(path: &Path, stage: Stage, rules: &Rules) -> Result<Line, PathError> {
    let io = |source| PathError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let report = if len > READ_CAP {
        photo::Report { hard: vec![photo::too_large_reason(Some(len), rules.max_bytes)], ..Default::default() }
    } else {
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(READ_CAP).read_to_end(&mut bytes).map_err(io)?;
        photo::check(&bytes, stage, rules)
    };
    Ok(Line {
        file: path.display().to_string(),
        verdict: if report.passed() { "pass" } else { "reject" },
        codes: report.hard.iter().map(|r| r.code.clone()).collect(),
        flags: report.soft.iter().map(|r| r.code.clone()).collect(),
        messages: report.hard.iter().chain(&report.soft).map(|r| r.message.clone()).collect(),
    })
}

/// The summary line, e.g. "共 12 张：通过 10，不通过 2".
pub fn summary(passed: usize, rejected: usize, unreadable: usize) -> String {
    let mut s = format!("共 {} 张：通过 {passed}，不通过 {rejected}", passed + rejected);
    if unreadable > 0 {
        s.push_str(&format!("；另有 {unreadable} 个路径无法读取"));
    }
    s
}

pub fn run(stage: Stage, paths: &[PathBuf]) -> ExitCode {
    let rules = Rules::default();
    let (files, mut errors) = expand(paths);
    let (mut passed, mut rejected) = (0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for f in &files {
        match check_file(f, stage, &rules) {
            Ok(line) => {
                if line.verdict == "pass" {
                    passed += 1;
                } else {
                    rejected += 1;
                }
                let json = serde_json::to_string(&line).expect("a Line always serialises");
                // A closed pipe (`| head`) is not an error worth a panic.
                if writeln!(out, "{json}").is_err() {
                    break;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let _ = out.flush();
    for e in &errors {
        eprintln!("{e}");
    }
    eprintln!("{}", summary(passed, rejected, errors.len()));
    if !errors.is_empty() {
        ExitCode::from(2)
    } else if rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
