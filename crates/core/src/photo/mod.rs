//! The automatic photo check (PHOTO_RULES.md). One routine, called by `gradphoto check`, the
//! embedded server's check workers and the S3-triggered Lambda.
//!
//! Order matters for safety, not for the verdict: everything that can be read from the headers
//! (format, size, frame dimensions, density, EXIF) is judged first, and the picture is decoded
//! only when its frame is exactly the wanted size, so a 60000×60000 header costs a header walk
//! and nothing else. Every failing rule is reported, not just the first.

pub mod background;
pub mod colour;
pub mod jpeg;
pub mod meta;
pub mod phash;
pub mod picture;
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
    pub fn flags(&self) -> Vec<&str> {
        self.soft.iter().map(|r| r.code.as_str()).collect()
    }
}

fn kb(n: u64) -> String {
    format!("{} KB", n.div_ceil(1024))
}

/// Checks one file's bytes for a student of `stage`.
pub fn check(bytes: &[u8], stage: Stage, rules: &Rules) -> Report {
    let _ = stage;
    let mut report = Report::default();
    let size = bytes.len() as u64;
    if size > rules.max_bytes {
        report.hard.push(too_large_reason(Some(size), rules.max_bytes));
    } else if size < rules.min_bytes {
        report.hard.push(Reason::new(
            "too_small",
            format!(
                "照片文件过小（{}），应在 {} 到 {} 之间；过度压缩的照片不清晰，请上传照相馆提供的原始照片",
                kb(size),
                kb(rules.min_bytes),
                kb(rules.max_bytes)
            ),
        ));
    }
    if !jpeg::is_jpeg(bytes) {
        let what = match jpeg::sniff_format(bytes) {
            Some(f) => format!("文件内容是 {f} 格式，不是 JPEG"),
            None => "文件内容不是 JPEG 图片".to_owned(),
        };
        report.hard.push(Reason::new("not_jpeg", format!("照片应为 JPEG（.jpg）格式：{what}（与文件扩展名无关），请另存为 JPEG 后上传")));
        return report;
    }
    let header = match jpeg::parse(bytes) {
        Ok(h) => h,
        Err(e) => {
            report.hard.push(corrupt_reason(&format!("文件头无法读取（{}）", header_error_text(e))));
            return report;
        }
    };

    if header.width != rules.width || header.height != rules.height {
        report.hard.push(Reason::new(
            "wrong_size",
            format!(
                "照片尺寸应为 {}×{} 像素，当前为 {}×{}；请用剪裁（不要拉伸）调整到规定尺寸",
                rules.width, rules.height, header.width, header.height
            ),
        ));
    }

    let meta = header.exif.map(meta::read_exif).unwrap_or_default();
    let densities = meta::densities(header.jfif, &meta);
    // Either declaration suffices; whole dpi, so 118 px/cm (= 299.7 dpi, what editors write
    // for "300 dpi") passes.
    let best = densities.iter().copied().max_by(|a, b| a.dpi().total_cmp(&b.dpi()));
    match best {
        None => report.hard.push(Reason::new(
            "low_dpi",
            format!("照片没有记录分辨率（DPI），应为 {} DPI 以上；请让照相馆按 {} DPI 导出", rules.min_dpi, rules.min_dpi),
        )),
        Some(d) if d.dpi().round() < f64::from(rules.min_dpi) => report.hard.push(Reason::new(
            "low_dpi",
            format!("照片分辨率应不低于 {} DPI，当前为 {}；请让照相馆按 {} DPI 导出", rules.min_dpi, d.describe(), rules.min_dpi),
        )),
        Some(_) => {}
    }

    if let Some(phone) = meta::phone(&meta) {
        report.soft.push(Reason::new(
            "phone_photo",
            format!("照片信息显示由手机拍摄（{phone}），请确认是照相馆拍摄的标准证件照"),
        ));
    }

    if header.components == 1 {
        report.hard.push(not_colour_reason("照片是单通道灰度图"));
    }

    // Never decode a picture of the wrong size: that is how a header bomb gets refused cheaply.
    if report.hard.iter().any(|r| r.code == "wrong_size") {
        return report;
    }
    if !header.complete {
        report.hard.push(corrupt_reason("文件不完整（缺少图像结束标记，可能上传或复制时被截断）"));
        return report;
    }
    let pic = match picture::decode(bytes, rules.width, rules.height) {
        Ok(p) => p,
        Err(_) => {
            report.hard.push(corrupt_reason("图像数据已损坏，无法完整解码"));
            return report;
        }
    };

    // Grey image and colour count in one pass over the pixels.
    let (grey, coloured) = pic.grey_and_colour(rules.colour_min_chroma);
    if header.components != 1 {
        let f = colour::fraction(coloured, &pic);
        if f < rules.colour_min_fraction {
            report.hard.push(not_colour_reason(&format!("只有 {:.1}% 的像素带有颜色", f * 100.0)));
        }
    }

    let bg = background::measure(&pic, rules, None);
    if let Some(msg) = bg.verdict(rules) {
        report.hard.push(Reason::new("background_not_white", msg));
    }

    report.phash = Some(phash::phash(&grey, pic.width, pic.height));
    report
}

fn header_error_text(e: jpeg::HeaderError) -> &'static str {
    match e {
        jpeg::HeaderError::Truncated => "文件在文件头处被截断",
        jpeg::HeaderError::NoFrame => "缺少图像尺寸信息",
        jpeg::HeaderError::Malformed => "结构错误",
    }
}

fn corrupt_reason(what: &str) -> Reason {
    Reason::new("corrupt", format!("照片文件已损坏：{what}；请重新导出或从原始照片重新复制后上传"))
}

fn not_colour_reason(what: &str) -> Reason {
    Reason::new("not_colour", format!("照片应为彩色照片，当前为黑白照片（{what}）；请上传彩色证件照"))
}

/// The `too_large` reason; `size` is None when the store refused to read past the limit.
pub fn too_large_reason(size: Option<u64>, limit: u64) -> Reason {
    match size {
        Some(n) => Reason::new("too_large", format!("照片文件过大（{}），不能超过 {}", kb(n), kb(limit))),
        None => Reason::new("too_large", format!("照片文件过大，不能超过 {}", kb(limit))),
    }
}
