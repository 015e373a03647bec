//! `gradphoto check [--stage primary|junior|senior] [--explain] FILE|FOLDER...`: the automatic photo check
//! as a teacher's pre-flight tool. One JSON line per photo on stdout (and one per path that
//! cannot be read, with code `unreadable` or `no_photos`), a Chinese summary on stderr; exit 0
//! when every photo passes, 1 when any fails, 2 when a path cannot be read.

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
    /// With `--explain`: what the check measured on the head (absent when no single face).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<photo::geometry::Geometry>,
}

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("无法读取“{path}”：{source}")]
    Io { path: String, source: std::io::Error },
    #[error("文件夹“{0}”中没有 .jpg / .jpeg 照片")]
    EmptyFolder(String),
}

impl PathError {
    /// The path's own line, so a script reading stdout sees every path it passed.
    pub fn line(&self) -> Line {
        let (file, code) = match self {
            PathError::Io { path, .. } => (path.clone(), "unreadable"),
            PathError::EmptyFolder(path) => (path.clone(), "no_photos"),
        };
        Line { file, verdict: "reject", codes: vec![code.to_owned()], flags: Vec::new(), messages: vec![self.to_string()], geometry: None }
    }
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

/// Checks one file; `explain` adds the geometry.
pub fn check_file(path: &Path, stage: Stage, rules: &Rules, explain: bool) -> Result<Line, PathError> {
    let io = |source| PathError::Io { path: path.display().to_string(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let report = if len > READ_CAP {
        photo::Report { hard: vec![photo::too_large_reason(Some(len), rules.max_bytes)], ..Default::default() }
    } else {
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(READ_CAP).read_to_end(&mut bytes).map_err(io)?;
        // Only `--explain` measures a wrong-size photo's head: no rule reads it there.
        if explain { photo::check_explained(&bytes, stage, rules) } else { photo::check(&bytes, stage, rules) }
    };
    Ok(Line {
        file: path.display().to_string(),
        verdict: if report.passed() { "pass" } else { "reject" },
        codes: report.hard.iter().map(|r| r.code.clone()).collect(),
        flags: report.soft.iter().map(|r| r.code.clone()).collect(),
        messages: report.hard.iter().chain(&report.soft).map(|r| r.message.clone()).collect(),
        geometry: report.geometry.filter(|_| explain),
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

pub fn run(stage: Stage, rules: &Rules, explain: bool, paths: &[PathBuf]) -> ExitCode {
    let (files, mut errors) = expand(paths);
    let (mut passed, mut rejected) = (0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // A closed pipe (`| head`) is not an error worth a panic: printing just stops.
    let mut print = |line: &Line| writeln!(out, "{}", serde_json::to_string(line).expect("a Line always serialises")).is_ok();
    let mut open = errors.iter().all(|e| print(&e.line()));
    for f in &files {
        match check_file(f, stage, rules, explain) {
            Ok(line) => {
                if line.verdict == "pass" {
                    passed += 1;
                } else {
                    rejected += 1;
                }
                open = open && print(&line);
            }
            Err(e) => {
                open = open && print(&e.line());
                errors.push(e);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/corpus").join(name)
    }

    #[test]
    fn folders_expand_to_their_jpegs_sorted_and_files_are_judged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(corpus("astronaut_valid.jpg"), dir.path().join("b.JPG")).unwrap();
        std::fs::copy(corpus("astronaut_blurry.jpg"), dir.path().join("a.jpeg")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let (files, errors) = expand(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.jpeg", "b.JPG"]);
        let rules = Rules::default();
        let a = check_file(&files[0], Stage::Senior, &rules, false).unwrap();
        assert_eq!((a.verdict, a.codes.as_slice()), ("reject", ["blurry".to_string()].as_slice()));
        assert_eq!(a.messages.len(), 1);
        let b = check_file(&files[1], Stage::Senior, &rules, false).unwrap();
        assert_eq!(b.verdict, "pass");
        let json = serde_json::to_value(&b).unwrap();
        for key in ["file", "verdict", "codes", "flags", "messages"] {
            assert!(json.get(key).is_some(), "{key} missing in {json}");
        }
        assert!(json.get("geometry").is_none(), "geometry only with --explain: {json}");
        let explained = serde_json::to_value(check_file(&files[1], Stage::Senior, &rules, true).unwrap()).unwrap();
        let g = &explained["geometry"];
        for key in ["face_box", "landmarks", "eye_line", "eye_distance", "roll_degrees", "crown", "chin", "head_ratio", "centre_offset", "width_to_height"] {
            assert!(g.get(key).is_some(), "{key} missing in {g}");
        }
        let eye = g["eye_line"].as_f64().unwrap();
        assert!((100.0..188.0).contains(&eye), "a valid photo's eye line: {eye}");
    }

    #[test]
    fn missing_paths_and_empty_folders_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (files, errors) = expand(&[dir.path().join("nope.jpg"), dir.path().to_path_buf()]);
        assert!(files.is_empty());
        assert_eq!(errors.len(), 2);
        assert!(matches!(errors[1], PathError::EmptyFolder(_)));
        assert_eq!(summary(10, 2, 0), "共 12 张：通过 10，不通过 2");
    }
}
