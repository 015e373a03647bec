//! The automatic photo check (PHOTO_RULES.md). One routine, called by `gradphoto check`, the
//! embedded server's check workers and the S3-triggered Lambda.

mod rules;

pub use rules::Rules;

use crate::domain::{Reason, Stage};
use serde::Serialize;

/// Everything the check found. `hard` non-empty means the photo is rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub hard: Vec<Reason>,
    pub soft: Vec<Reason>,
    /// Perceptual hash of the decoded picture, when it decoded.
    pub phash: Option<u64>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.hard.is_empty()
    }
    pub fn codes(&self) -> Vec<&str> {
        self.hard.iter().map(|r| r.code.as_str()).collect()
    }
}

/// Checks one file's bytes for a student of `stage`.
pub fn check(bytes: &[u8], stage: Stage, rules: &Rules) -> Report {
    let _ = stage;
    let mut report = Report::default();
    if bytes.len() < 3 || bytes[..3] != [0xFF, 0xD8, 0xFF] {
        report.hard.push(Reason::new("not_jpeg", "文件不是 JPEG 格式的照片，请上传 .jpg 照片"));
        return report;
    }
    if (bytes.len() as u64) > rules.max_bytes {
        report.hard.push(Reason::new("too_large", format!("照片文件过大（{} KB），不能超过 {} KB", bytes.len() / 1024, rules.max_bytes / 1024)));
    }
    report
}

/// The `too_large` reason; `size` is None when the store refused to read past the limit.
pub fn too_large_reason(size: Option<u64>, limit: u64) -> Reason {
    match size {
        Some(n) => Reason::new("too_large", format!("照片文件过大（{} KB），不能超过 {} KB", n.div_ceil(1024), limit / 1024)),
        None => Reason::new("too_large", format!("照片文件过大，不能超过 {} KB", limit / 1024)),
    }
}
