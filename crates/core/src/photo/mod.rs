//! The automatic photo check (PHOTO_RULES.md). One routine, called by `gradphoto check`, the
//! embedded server's check workers and the S3-triggered Lambda.
//!
//! Order matters for safety, not for the verdict: everything that can be read from the headers
//! (format, size, frame dimensions, density, EXIF) is judged first, and the picture is decoded
//! only when its frame is exactly the wanted size, so a 60000×60000 header costs a header walk
//! and nothing else. Every failing rule is reported, not just the first.

pub mod background;
pub mod colour;
pub mod crop;
pub mod face;
pub mod geometry;
pub mod jpeg;
pub mod landmarks;
pub mod meta;
pub mod phash;
pub mod picture;
mod rules;
pub mod scarf;

pub use rules::{Profile, Rules};

use crate::domain::{Reason, Stage};
use serde::Serialize;

/// Everything the check found. `hard` non-empty means the photo is rejected.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub hard: Vec<Reason>,
    pub soft: Vec<Reason>,
    /// Perceptual hash of the decoded picture, when it decoded.
    pub phash: Option<u64>,
    /// What the check measured on the head, when the photo is the wanted size and shows exactly
    /// one face: kept for the reviewer, who sees why (and `--explain`, at any size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<geometry::Geometry>,
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
    run(bytes, stage, rules, false)
}

/// `check`, with `Report::geometry` measured whenever the photo decoded and shows exactly one
/// face, a photo of the wrong size included.
pub fn check_explained(bytes: &[u8], stage: Stage, rules: &Rules) -> Report {
    run(bytes, stage, rules, true)
}

/// `explain`: measure the geometry even where no rule needs it (a wrong size).
fn run(bytes: &[u8], stage: Stage, rules: &Rules, explain: bool) -> Report {
    let mut report = Report::default();
    let size = bytes.len() as u64;
    if size > rules.max_bytes {
        report.hard.push(too_large_reason(Some(size), rules.max_bytes));
    } else if size < rules.min_bytes {
        report.hard.push(too_small_reason(size, rules));
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

    // A picture far beyond the size is never decoded: that is how a header bomb gets refused
    // cheaply. A modest wrong size is still decoded, so the teacher learns every other fault
    // (background, colour, no face) at once instead of one re-crop at a time.
    let wrong_size = report.hard.iter().any(|r| r.code == "wrong_size");
    if wrong_size && !rules.may_decode(header.width, header.height) {
        return report;
    }
    if !header.complete {
        report.hard.push(corrupt_reason("文件不完整（缺少图像结束标记，可能上传或复制时被截断）"));
        return report;
    }
    let pic = match picture::decode(bytes, header.width, header.height) {
        Ok(p) => p,
        Err(_) => {
            report.hard.push(corrupt_reason("图像数据已损坏，无法完整解码"));
            return report;
        }
    };

    judge(&mut report, &pic, Framing { wrong_size, grey_header: header.components == 1 }, None, stage, rules, explain);
    report
}

/// How the decoded picture stands against the frame rules, as the header said.
#[derive(Debug, Clone, Copy, Default)]
struct Framing {
    /// Not the wanted size: head geometry is not judged (cropping will change it).
    wrong_size: bool,
    /// A one-channel JPEG: `not_colour` was reported from the header already.
    grey_header: bool,
}

/// A face already found and its landmarks, in the picture's pixels: a crop suggestion knows
/// them from the original, so judging its render needs no second detection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownFace {
    pub face: face::Face,
    pub landmarks: landmarks::Landmarks,
}

/// Every rule that reads pixels, on a decoded picture: colour, faces and head geometry,
/// exposure, sharpness, scarf, background, and the perceptual hash. The check runs it on the
/// upload; a crop suggestion on the rendered crop, so both judge with the same rules.
fn judge(
    report: &mut Report,
    pic: &picture::Picture,
    framing: Framing,
    known: Option<KnownFace>,
    stage: Stage,
    rules: &Rules,
    explain: bool,
) {
    // Grey image and colour count in one pass over the pixels.
    let (grey, coloured) = pic.grey_and_colour(rules.colour_min_chroma);
    let fraction = colour::fraction(coloured, pic);
    let is_colour = !framing.grey_header && fraction >= rules.colour_min_fraction;
    if !framing.grey_header && fraction < rules.colour_min_fraction {
        report.hard.push(not_colour_reason(&format!("只有 {:.1}% 的像素带有颜色", fraction * 100.0)));
    }

    // Faces, head geometry, exposure, sharpness, scarf; the heads found are kept out of the
    // background band (hair is not background).
    let faces = match known {
        Some(k) => vec![k.face],
        None if rules.detect_faces => face::detect(&grey, pic.width, pic.height, rules),
        None => Vec::new(),
    };
    let heads: Vec<face::Head> = faces.iter().map(|f| face::measure_head(pic, f, rules, is_colour)).collect();
    let exclude: Vec<background::Rect> = heads.iter().map(|h| h.exclusion(pic)).collect();
    let backdrop = background::measure(pic, rules, &exclude).verdict(rules);
    match faces.len() {
        0 if !rules.detect_faces => {}
        0 => report.hard.push(Reason::new(
            "no_face",
            "照片中没有检测到正面人脸；请上传学生本人的正面免冠证件照（不能是风景、物品、侧脸或背影）",
        )),
        // Head geometry is judged on the photo as cropped to size; cropping will change it.
        1 if framing.wrong_size && !explain => {}
        1 => {
            let f = &faces[0];
            let points = known.map_or_else(|| landmarks::locate(pic, f), |k| k.landmarks);
            let g = geometry::Geometry::of(f, &heads[0], points, pic.width);
            if !framing.wrong_size {
                face_rules(report, pic, &grey, f, &heads[0], &g, backdrop.is_none(), stage, rules);
            }
            report.geometry = Some(g);
        }
        n => report.hard.push(Reason::new(
            "multiple_faces",
            format!("照片中检测到 {n} 张人脸，证件照中只能有学生本人一人"),
        )),
    }
    if let Some(msg) = backdrop {
        report.hard.push(Reason::new("background_not_white", msg));
    }

    report.phash = Some(phash::phash(&grey, pic.width, pic.height));
}

/// The rules that need exactly one face.
#[allow(clippy::too_many_arguments)]
fn face_rules(
    report: &mut Report,
    pic: &picture::Picture,
    grey: &[u8],
    f: &face::Face,
    head: &face::Head,
    g: &geometry::Geometry,
    white_backdrop: bool,
    stage: Stage,
    rules: &Rules,
) {
    let band = format!("{:.0}%–{:.0}%", rules.head_min_ratio * 100.0, rules.head_max_ratio * 100.0);
    // A cut crown only shortens the measured head, so a cropped head that still measures above
    // the band is a 大头照 too: both reasons, the size first (cropping alone cannot fix it).
    if head.height_ratio > rules.head_max_ratio {
        let share = if head.cropped {
            format!("至少约占照片高度的 {:.0}%（头部已超出照片边缘）", (head.height_ratio * 100.0).min(100.0))
        } else {
            format!("约占照片高度的 {:.0}%", head.height_ratio * 100.0)
        };
        report.hard.push(Reason::new(
            "head_too_large",
            format!("人像过大（大头照）：头部（头顶到下巴）{share}，应在 {band} 之间；请重新拍摄或裁剪时多留一些肩部和背景"),
        ));
    }
    if head.cropped {
        let mut edges = Vec::new();
        if head.top <= rules.head_min_margin as usize || f.y < 0.0 {
            edges.push("上边");
        }
        if head.left <= rules.head_min_margin as usize || f.x < 0.0 {
            edges.push("左边");
        }
        if head.right + 1 + rules.head_min_margin as usize >= pic.width || f.x + f.w > pic.width as f32 {
            edges.push("右边");
        }
        if head.chin > pic.height as f32 {
            edges.push("下边");
        }
        report.hard.push(Reason::new(
            "head_cropped",
            format!(
                "人像裁剪缺损：头部碰到或超出了照片{}缘；头顶和两侧应留有背景，请重新裁剪（不要拉伸）",
                edges.join("、")
            ),
        ));
    } else if head.height_ratio < rules.head_min_ratio {
        report.hard.push(Reason::new(
            "head_too_small",
            format!(
                "人像过小：头部（头顶到下巴）只占照片高度的约 {:.0}%，应在 {band} 之间；请拍摄时靠近一些，或以头部为中心裁剪",
                head.height_ratio * 100.0
            ),
        ));
    }
    let offset = (f.cx() - pic.width as f32 / 2.0) / pic.width as f32;
    if offset.abs() > rules.centre_max_offset {
        report.hard.push(Reason::new(
            "off_centre",
            format!(
                "人像不居中：脸部中心偏{} {:.0} 像素（照片宽度的 {:.0}%），偏离应不超过 {:.0}%；请以脸部为中心重新裁剪",
                if offset > 0.0 { "右" } else { "左" },
                (offset * pic.width as f32).abs(),
                offset.abs() * 100.0,
                rules.centre_max_offset * 100.0
            ),
        ));
    }
    // The GA 461 photo puts the eyes in the upper half; a head set low in the frame is a crop
    // to redo, like a sideways offset (a small head gets its own reason above).
    let l = face::face_luma(grey, pic.width, pic.height, f);
    let set_low_by_eyes = g.eye_line > rules.eye_line_max && !head.cropped;
    if set_low_by_eyes {
        report.hard.push(Reason::new(
            "off_centre",
            format!(
                "人像位置偏低：眼睛距照片顶部 {:.0} 像素，应不超过 {:.0} 像素；请以头部为中心重新裁剪，头顶上方少留一些背景",
                g.eye_line, rules.eye_line_max
            ),
        ));
    }
    if white_backdrop {
        crown_rules(report, head, l, set_low_by_eyes, rules);
    }
    // Uniform scaling keeps the face's proportions; stretching or squeezing one way does not.
    // A soft flag: proportions vary between people, so a reviewer looks.
    if g.width_to_height > rules.stretch_max_ratio || g.width_to_height < rules.stretch_min_ratio {
        let how = if g.width_to_height > rules.stretch_max_ratio { "横向拉宽（或纵向压扁）" } else { "横向压窄（或纵向拉长）" };
        report.soft.push(Reason::new(
            "possibly_stretched",
            format!(
                "照片可能被{how}：两眼间距 {:.0} 像素是眼睛到鼻底高度的 {:.2} 倍，正常人脸在 {:.2}–{:.2} 倍之间；请确认照片只经过裁剪和等比例缩放",
                g.eye_distance, g.width_to_height, rules.stretch_min_ratio, rules.stretch_max_ratio
            ),
        ));
    }
    let sharp = face::sharpness(grey, pic.width, pic.height, f);
    if sharp < rules.blur_min_laplacian_var {
        report.hard.push(Reason::new(
            "blurry",
            format!(
                "照片模糊：脸部清晰度 {sharp:.0}，应不低于 {:.0}；请对焦后重新拍摄，不要把小照片放大",
                rules.blur_min_laplacian_var
            ),
        ));
    } else {
        let shake = face::shake(grey, pic.width, pic.height, f);
        if shake > rules.blur_max_shake {
            report.hard.push(Reason::new(
                "blurry",
                format!(
                    "照片模糊（拍摄时相机晃动）：脸部一个方向的细节只有另一方向的 1/{shake:.1}，应不少于 1/{:.1}；请拿稳相机或使用三脚架重新拍摄",
                    rules.blur_max_shake
                ),
            ));
        }
    }
    if l < rules.face_min_luma {
        report.hard.push(Reason::new(
            "too_dark",
            format!(
                "脸部过暗：平均亮度 {l:.0}，应在 {:.0}–{:.0} 之间；请在光线充足、正面补光的条件下重新拍摄",
                rules.face_min_luma, rules.face_max_luma
            ),
        ));
    } else if l > rules.face_max_luma {
        report.hard.push(Reason::new(
            "overexposed",
            format!(
                "脸部过亮（曝光过度）：平均亮度 {l:.0}，应在 {:.0}–{:.0} 之间；请减弱闪光或灯光后重新拍摄",
                rules.face_min_luma, rules.face_max_luma
            ),
        ));
    }
    if let Some(colour) = scarf::Colour::banned_at(stage) {
        let s = scarf::measure(pic, f, head, colour, rules);
        if s.is_scarf(rules) {
            let (code, school, name, what) = match colour {
                scarf::Colour::Red => ("red_scarf", "初三", "红领巾", "红色"),
                scarf::Colour::Green => ("green_scarf", "小学", "绿领巾", "绿色"),
            };
            report.hard.push(Reason::new(
                code,
                format!(
                    "{school}毕业生照片不允许佩戴{name}：下巴下方约 {:.0}% 的区域为{what}（允许不超过 {:.0}%），两肩处没有同样的颜色；请摘下{name}后重新拍摄",
                    s.centre * 100.0,
                    rules.scarf_min_fraction * 100.0
                ),
            ));
        }
    }
}

/// The crown band (GA 461-2004, `Rules::crown_min`–`crown_max`), refused only outside the wider
/// `crown_reject_below`–`crown_reject_above`. The crown is where the hair meets the backdrop, so
/// it is not judged where that edge is not to be trusted or another reason already tells the
/// fix: a head cut at the edge, a 大头照 or a small head (their own reasons), a head already
/// told to sit higher by its eye line, an overexposed face (light hair melts into the white), or
/// (the caller's test) a backdrop that is not white, which means a retake anyway.
fn crown_rules(report: &mut Report, head: &face::Head, face_luma: f32, set_low_by_eyes: bool, rules: &Rules) {
    let crown = head.top as f32;
    let band = format!("{:.0}–{:.0}", rules.crown_min, rules.crown_max);
    let sized = (rules.head_min_ratio..=rules.head_max_ratio).contains(&head.height_ratio);
    if head.cropped || !sized {
        return;
    }
    if crown > rules.crown_reject_above && !set_low_by_eyes && face_luma <= rules.face_max_luma {
        report.hard.push(Reason::new(
            "off_centre",
            format!(
                "人像位置偏低：头顶距照片上边缘 {crown:.0} 像素，应在 {band} 像素左右（不超过 {:.0} 像素）；请以头部为中心重新裁剪，头顶上方少留一些背景",
                rules.crown_reject_above
            ),
        ));
    } else if crown < rules.crown_reject_below {
        report.hard.push(Reason::new(
            "head_cropped",
            format!(
                "人像太靠上：头顶距照片上边缘只有 {crown:.0} 像素，应在 {band} 像素左右（至少 {:.0} 像素）；请重新裁剪，头顶上方留出一些背景（不要拉伸）",
                rules.crown_reject_below
            ),
        ));
    }
}

fn header_error_text(e: jpeg::HeaderError) -> &'static str {
    match e {
        jpeg::HeaderError::Truncated => "文件在文件头处被截断",
        jpeg::HeaderError::NoFrame => "缺少图像尺寸信息",
        jpeg::HeaderError::Malformed => "结构错误",
        jpeg::HeaderError::TooManyScans => "扫描段数量异常",
    }
}

fn corrupt_reason(what: &str) -> Reason {
    Reason::new("corrupt", format!("照片文件已损坏：{what}；请重新导出或从原始照片重新复制后上传"))
}

fn not_colour_reason(what: &str) -> Reason {
    Reason::new("not_colour", format!("照片应为彩色照片，当前为黑白照片（{what}）；请上传彩色证件照"))
}

/// The `too_large` reason; `size` is None when the store refused to read past the limit.
pub fn too_small_reason(size: u64, rules: &Rules) -> Reason {
    Reason::new(
        "too_small",
        format!(
            "照片文件过小（{}），应在 {} 到 {} 之间；过度压缩的照片不清晰，请上传照相馆提供的原始照片",
            kb(size),
            kb(rules.min_bytes),
            kb(rules.max_bytes)
        ),
    )
}

pub fn too_large_reason(size: Option<u64>, limit: u64) -> Reason {
    match size {
        Some(n) => Reason::new("too_large", format!("照片文件过大（{}），不能超过 {}", kb(n), kb(limit))),
        None => Reason::new("too_large", format!("照片文件过大，不能超过 {}", kb(limit))),
    }
}
