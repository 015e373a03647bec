//! 自动裁剪: from a studio's larger original, the rectangle that — scaled uniformly to the wanted
//! 272×354 — puts the head where the check wants it, and what cropping cannot fix.
//!
//! One geometry: the face is found and measured with the check's own detector, head walk and
//! landmarks; the rectangle is solved for the check's bands (`Rules`: head ratio, crown band,
//! eye line, centre, margins); and the rendered crop is judged by the check's own pixel rules
//! (`super::judge`), whose findings are what the suggestion reports. Nothing is stretched: the
//! rectangle has the output's aspect ratio to within a pixel.

use super::face::{self, Face, Head};
use super::landmarks::{self, Landmarks, Point};
use super::picture::{self, Picture};
use super::{Framing, KnownFace, Report, Rules, jpeg};
use crate::domain::{Reason, Stage};
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use serde::Serialize;

/// A rectangle in the original's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CropRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The proposed fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The original's size, px.
    pub width: u32,
    pub height: u32,
    pub crop: CropRect,
    /// Output px per original px (the same both ways: uniform).
    pub scale: f32,
    /// What the check still finds on the cropped photo: what cropping cannot fix
    /// (background, blur, exposure, scarf, colour) or a head the original cannot frame.
    pub findings: Vec<Reason>,
}

/// Why no suggestion is made. Each has a stable code and a Chinese message (`reason`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CropRefusal {
    #[error("original of {0} bytes is over the limit")]
    TooManyBytes(u64),
    #[error("not a JPEG")]
    NotJpeg(Option<&'static str>),
    #[error("the JPEG does not decode: {0}")]
    Corrupt(&'static str),
    #[error("original of {0}×{1} px is over the limit")]
    OriginalTooLarge(u32, u32),
    #[error("no face")]
    NoFace,
    #[error("{0} faces")]
    MultipleFaces(usize),
    #[error("the head would need upscaling by {0:.2}×")]
    TooSmallOriginal(f32),
}

impl CropRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            CropRefusal::TooManyBytes(_) => "body_too_large",
            CropRefusal::NotJpeg(_) => "not_jpeg",
            CropRefusal::Corrupt(_) => "corrupt",
            CropRefusal::OriginalTooLarge(..) => "original_too_large",
            CropRefusal::NoFace => "no_face",
            CropRefusal::MultipleFaces(_) => "multiple_faces",
            CropRefusal::TooSmallOriginal(_) => "too_small_original",
        }
    }

    pub fn reason(&self, rules: &Rules) -> Reason {
        let message = match self {
            CropRefusal::TooManyBytes(n) => format!(
                "原始照片文件过大（{:.1} MB），自动裁剪最多接受 {} MB；请先缩小照片",
                *n as f64 / 1048576.0,
                rules.crop_max_bytes / 1048576
            ),
            CropRefusal::NotJpeg(Some(f)) => format!("原始照片应为 JPEG（.jpg）格式，文件内容是 {f} 格式；请另存为 JPEG 后再试"),
            CropRefusal::NotJpeg(None) => "原始照片应为 JPEG（.jpg）格式，文件内容不是 JPEG 图片".to_owned(),
            CropRefusal::Corrupt(what) => format!("原始照片文件已损坏（{what}），无法自动裁剪；请重新导出后再试"),
            CropRefusal::OriginalTooLarge(w, h) => format!(
                "原始照片尺寸过大（{w}×{h} 像素），自动裁剪最多接受长边 {} 像素；请先缩小照片",
                rules.crop_max_side
            ),
            CropRefusal::NoFace => "原始照片中没有检测到正面人脸，无法自动裁剪；请上传学生本人的正面免冠照片".to_owned(),
            CropRefusal::MultipleFaces(n) => {
                format!("原始照片中检测到 {n} 张人脸，无法自动裁剪；证件照中只能有学生本人一人，请用单人照片")
            }
            CropRefusal::TooSmallOriginal(k) if !k.is_finite() => {
                format!("原始照片太小，无法裁剪出 {}×{} 的照片；请让照相馆提供更大的原始照片", rules.width, rules.height)
            }
            CropRefusal::TooSmallOriginal(k) => format!(
                "原始照片中的人像太小：裁剪到 {}×{} 需要放大 {k:.1} 倍（最多 {:.2} 倍），照片会模糊；请让照相馆提供更大的原始照片",
                rules.width, rules.height, rules.crop_max_upscale
            ),
        };
        Reason::new(self.code(), message)
    }
}

/// The suggestion for `bytes` (an original of any size up to the limits).
pub fn suggest(bytes: &[u8], stage: Stage, rules: &Rules) -> Result<Suggestion, CropRefusal> {
    plan(bytes, stage, rules).map(|(s, _)| s)
}

/// The suggestion and the cropped photo, as the page makes it: exactly the wanted size,
/// the required density written in JFIF, under the size limit.
pub fn crop(bytes: &[u8], stage: Stage, rules: &Rules) -> Result<(Suggestion, Vec<u8>), CropRefusal> {
    let (s, rendered) = plan(bytes, stage, rules)?;
    Ok((s, encode(&rendered, rules)))
}

fn plan(bytes: &[u8], stage: Stage, rules: &Rules) -> Result<(Suggestion, Picture), CropRefusal> {
    let pic = decode(bytes, rules)?;
    let (grey, coloured) = pic.grey_and_colour(rules.colour_min_chroma);
    let faces = face::detect(&grey, pic.width, pic.height, &scan_rules(rules, pic.width));
    drop(grey);
    let f = match faces.as_slice() {
        [] => return Err(CropRefusal::NoFace),
        [f] => *f,
        many => return Err(CropRefusal::MultipleFaces(many.len())),
    };
    let is_colour = super::colour::fraction(coloured, &pic) >= rules.colour_min_fraction;
    let head = face::measure_head(&pic, &f, rules, is_colour);
    let points = landmarks::locate(&pic, &f);
    let (width, height) = (pic.width as f32, pic.height as f32);
    let mut rect = frame(&Subject::of(&f, &head, &points), width, height, rules)?;
    let mut rendered = render(&pic, rect, rules);
    // The check will find the face anew on the photo as cropped, and its box — hence the
    // columns its head walk reads — differs from the original's: on a cap or hair that is as
    // white as the backdrop the two walks can place the crown apart. So the crop is measured as
    // the check measures it, and moved once by what that finds.
    let mut seen = Seen::on(&rendered, &points, rect, rules, is_colour);
    if let Some(moved) = seen.as_ref().and_then(|v| v.correction(rect, width, height, rules)) {
        rect = moved;
        rendered = render(&pic, rect, rules);
        seen = Seen::on(&rendered, &points, rect, rules, is_colour);
    }

    // Judge the crop with the check's rules: the face as the check finds it (or, where it finds
    // none or several, as found on the original), the landmarks carried over.
    let s = rules.width as f32 / rect.w as f32;
    let known = KnownFace {
        face: seen.map_or_else(|| moved_face(&f, rect, s), |v| v.face),
        landmarks: moved_points(&points, rect, s),
    };
    let mut report = Report::default();
    super::judge(&mut report, &rendered, Framing::default(), Some(known), stage, rules, false);
    let mut findings = report.hard;
    findings.extend(report.soft);
    let suggestion = Suggestion { width: pic.width as u32, height: pic.height as u32, crop: rect, scale: s, findings };
    Ok((suggestion, rendered))
}

/// The single face the check finds on a rendered crop, and the head it measures there.
#[derive(Debug, Clone, Copy)]
struct Seen {
    face: Face,
    head: Head,
    eye_centre: f32,
}

impl Seen {
    fn on(rendered: &Picture, points: &Landmarks, rect: CropRect, rules: &Rules, is_colour: bool) -> Option<Seen> {
        let grey = rendered.luma();
        let faces = face::detect(&grey, rendered.width, rendered.height, rules);
        let [face] = faces.as_slice() else { return None };
        let head = face::measure_head(rendered, face, rules, is_colour);
        let eye_centre = moved_points(points, rect, rules.width as f32 / rect.w as f32).centre_x();
        Some(Seen { face: *face, head, eye_centre })
    }

    /// The rectangle moved so that the crown and the face's centre land where the solver aimed
    /// them, by what the check measures; `None` when they already do (within 3 px) or the
    /// original has no room to move into.
    fn correction(&self, rect: CropRect, width: f32, height: f32, rules: &Rules) -> Option<CropRect> {
        let s = rules.width as f32 / rect.w as f32;
        let dy = self.head.top as f32 - rules.crown_aim();
        // The box centre is what `off_centre` judges; the eyes stay the tie-breaker.
        let dx = (self.face.cx() + self.eye_centre) / 2.0 - rules.width as f32 / 2.0;
        let step = |d: f32| if d.abs() > 3.0 { d / s } else { 0.0 };
        let x = (rect.x as f32 + step(dx)).round().clamp(0.0, width - rect.w as f32) as u32;
        let y = (rect.y as f32 + step(dy)).round().clamp(0.0, height - rect.h as f32) as u32;
        (x != rect.x || y != rect.y).then_some(CropRect { x, y, ..rect })
    }
}

fn moved_face(f: &Face, rect: CropRect, s: f32) -> Face {
    Face { x: (f.x - rect.x as f32) * s, y: (f.y - rect.y as f32) * s, w: f.w * s, h: f.h * s, score: f.score }
}

fn moved_points(points: &Landmarks, rect: CropRect, s: f32) -> Landmarks {
    let moved = |p: Point| Point { x: (p.x - rect.x as f32) * s, y: (p.y - rect.y as f32) * s };
    Landmarks { left_eye: points.left_eye.map(moved), right_eye: points.right_eye.map(moved), nose: moved(points.nose) }
}

/// The original, decoded behind the same guards as an upload: magic, a header walk before any
/// allocation, the side limit, completeness, a strict decode.
fn decode(bytes: &[u8], rules: &Rules) -> Result<Picture, CropRefusal> {
    if bytes.len() as u64 > rules.crop_max_bytes {
        return Err(CropRefusal::TooManyBytes(bytes.len() as u64));
    }
    if !jpeg::is_jpeg(bytes) {
        return Err(CropRefusal::NotJpeg(jpeg::sniff_format(bytes)));
    }
    let header = jpeg::parse(bytes).map_err(|_| CropRefusal::Corrupt("文件头无法读取"))?;
    if header.width > rules.crop_max_side || header.height > rules.crop_max_side {
        return Err(CropRefusal::OriginalTooLarge(header.width, header.height));
    }
    if header.width == 0 || header.height == 0 {
        return Err(CropRefusal::Corrupt("图像尺寸为 0"));
    }
    if !header.complete {
        return Err(CropRefusal::Corrupt("文件不完整"));
    }
    picture::decode(bytes, header.width, header.height).map_err(|_| CropRefusal::Corrupt("图像数据无法完整解码"))
}

/// The check's detector, scanned for an original's proportions: a studio portrait's face is
/// a quarter of the width or more (the fast pass), a smaller one down to an eighth (the full
/// scan); only when neither finds a face does a scan at twice that width look for a face
/// down to a sixteenth (a full-length photo), so the teacher hears that the person is too
/// small rather than that there is nobody.
pub fn scan_rules(rules: &Rules, width: usize) -> Rules {
    let w = width as f32;
    let at_most = |px: u32| px.min(width as u32);
    Rules {
        face_fast_width: at_most(rules.crop_fast_width),
        face_fast_min_face: w * 0.2,
        face_fast_max_face: w,
        face_detect_width: at_most(rules.crop_detect_width),
        face_small_width: at_most(rules.crop_detect_width * 2),
        ..rules.clone()
    }
}

/// What the rectangle is solved for, in the original's pixels.
#[derive(Debug, Clone, Copy)]
struct Subject {
    crown: f32,
    chin: f32,
    eye_line: f32,
    /// The face box's centre: what `off_centre` measures.
    centre: f32,
    left: f32,
    right: f32,
}

impl Subject {
    fn of(f: &Face, head: &Head, points: &Landmarks) -> Subject {
        Subject {
            crown: head.top as f32,
            chin: head.chin,
            eye_line: points.eye_line(),
            centre: f.cx(),
            left: head.left as f32,
            right: head.right as f32,
        }
    }
}

/// One candidate frame and how far it is from what the rules want.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    rect: CropRect,
    /// Output px per original px.
    scale: f32,
    /// Sum of how far outside the bands the head lands (0 = inside every band).
    violation: f32,
    /// Distance from the aim inside the bands.
    cost: f32,
}

/// Solves the rectangle: tries head ratios across the band and crown heights across the crown
/// band, places each frame with the eyes' box centred, moves it inside the original where it
/// overhangs, and keeps the frame that breaks no band and is nearest the aim (or, when every
/// frame breaks one, the one that breaks least: the judge then names what is wrong).
fn frame(s: &Subject, width: f32, height: f32, rules: &Rules) -> Result<CropRect, CropRefusal> {
    let (out_w, out_h) = (rules.width as f32, rules.height as f32);
    let head = (s.chin - s.crown).max(1.0);
    // The bands the check judges, with room for the re-detected box to land a little apart.
    let (ratio_lo, ratio_hi) = (rules.head_min_ratio + 0.06, rules.head_max_ratio - 0.08);
    let crown_aim = rules.crown_aim();
    let centre_slack = rules.centre_max_offset * out_w * 0.5;
    // The widest rectangle of the output's aspect the original holds.
    let widest = width.min(height * out_w / out_h).floor();
    if widest < 1.0 {
        return Err(CropRefusal::TooSmallOriginal(f32::INFINITY));
    }
    let mut best: Option<Candidate> = None;
    let mut smallest_scale = f32::MAX;
    let steps = 48;
    for i in 0..=steps {
        let ratio = ratio_lo + (ratio_hi - ratio_lo) * i as f32 / steps as f32;
        // Output width over the original's: the rectangle in whole pixels, its height from
        // its width, so the aspect is the output's to within a pixel.
        let w = (out_w * head / (ratio * out_h)).round().clamp(1.0, widest);
        let h = (w * out_h / out_w).round().min(height);
        let scale = out_w / w;
        smallest_scale = smallest_scale.min(scale);
        if scale > rules.crop_max_upscale {
            continue;
        }
        for crown_out in (rules.crown_min.ceil() as i32)..=(rules.crown_max.floor() as i32) {
            let x = (s.centre - out_w / 2.0 / scale).round().clamp(0.0, width - w);
            let y = (s.crown - crown_out as f32 / scale).round().clamp(0.0, height - h);
            let at = |v: f32, o: f32| (v - o) * scale;
            let crown = at(s.crown, y);
            let measured_ratio = head * scale / out_h;
            let out_of = |v: f32, lo: f32, hi: f32| (lo - v).max(0.0) + (v - hi).max(0.0);
            let violation = out_of(measured_ratio, rules.head_min_ratio + 0.03, rules.head_max_ratio - 0.05) * out_h
                + out_of(crown, rules.crown_min.min(rules.head_min_margin as f32 + 3.0), rules.crown_max + 6.0)
                + out_of(at(s.eye_line, y), 0.0, rules.eye_line_max - 8.0)
                + out_of(at(s.centre, x) - out_w / 2.0, -centre_slack, centre_slack)
                + out_of(at(s.left, x), rules.head_min_margin as f32 + 3.0, out_w)
                + out_of(at(s.right, x), 0.0, out_w - rules.head_min_margin as f32 - 4.0)
                + out_of(at(s.chin, y), 0.0, out_h - 2.0);
            let cost = (measured_ratio - rules.crop_head_ratio).abs() * 10.0
                + (crown - crown_aim).abs() / out_h
                + (at(s.centre, x) - out_w / 2.0).abs() / out_w;
            let c = Candidate {
                rect: CropRect { x: x as u32, y: y as u32, w: w as u32, h: h as u32 },
                scale,
                violation,
                cost,
            };
            let better = best.is_none_or(|b| (c.violation, c.cost) < (b.violation, b.cost));
            if better {
                best = Some(c);
            }
        }
    }
    match best {
        Some(c) => {
            debug_assert!(c.scale <= rules.crop_max_upscale);
            Ok(c.rect)
        }
        None => Err(CropRefusal::TooSmallOriginal(smallest_scale)),
    }
}

/// The rectangle scaled uniformly to the output size (Catmull–Rom, whose support widens when
/// reducing, so a large original does not alias; close to what a browser's canvas draws).
pub fn render(pic: &Picture, r: CropRect, rules: &Rules) -> Picture {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let src = ImageRef::new(pic.width as u32, pic.height as u32, &pic.rgb, PixelType::U8x3).expect("the buffer holds width × height pixels");
    let mut dst = Image::new(rules.width, rules.height, PixelType::U8x3);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom))
        .crop(f64::from(r.x), f64::from(r.y), f64::from(r.w), f64::from(r.h));
    Resizer::new().resize(&src, &mut dst, &options).expect("same pixel type, crop inside the source");
    Picture { width: rules.width as usize, height: rules.height as usize, rgb: dst.into_vec() }
}

/// JPEG at the required density, the best quality under the size limit.
fn encode(pic: &Picture, rules: &Rules) -> Vec<u8> {
    let density = u16::try_from(rules.min_dpi).unwrap_or(u16::MAX);
    let mut last = Vec::new();
    for quality in [92, 85, 75, 60, 45] {
        let mut out = Vec::new();
        let mut enc = JpegEncoder::new_with_quality(&mut out, quality);
        enc.set_pixel_density(PixelDensity::dpi(density));
        enc.encode(&pic.rgb, pic.width as u32, pic.height as u32, image::ExtendedColorType::Rgb8)
            .expect("encoding RGB into memory cannot fail");
        if out.len() as u64 <= rules.max_bytes {
            return out;
        }
        last = out;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(crown: f32, chin: f32, centre: f32) -> Subject {
        let head = chin - crown;
        Subject { crown, chin, eye_line: crown + head * 0.45, centre, left: centre - head * 0.4, right: centre + head * 0.4 }
    }

    #[test]
    fn the_frame_keeps_the_aspect_within_a_pixel_and_aims_at_the_bands() {
        let rules = Rules::default();
        let r = frame(&subject(200.0, 420.0, 250.0), 600.0, 800.0, &rules).unwrap();
        assert!((i64::from(r.w) * 354 - i64::from(r.h) * 272).abs() <= 354, "{r:?}");
        let s = 272.0 / r.w as f32;
        let ratio = 220.0 * s / 354.0;
        assert!((ratio - rules.crop_head_ratio).abs() < 0.02, "ratio {ratio}");
        let crown = (200.0 - r.y as f32) * s;
        assert!((rules.crown_min..=rules.crown_max).contains(&crown), "crown {crown}");
        assert!(((250.0 - r.x as f32) * s - 136.0).abs() < 2.0);
        assert!(r.x + r.w <= 600 && r.y + r.h <= 800);
    }

    #[test]
    fn a_head_near_an_edge_is_framed_inside_the_original() {
        let rules = Rules::default();
        let r = frame(&subject(30.0, 250.0, 110.0), 600.0, 800.0, &rules).unwrap();
        assert!(r.x + r.w <= 600 && r.y + r.h <= 800, "{r:?}");
        let s = 272.0 / r.w as f32;
        assert!(((110.0 - r.x as f32) * s - 136.0).abs() <= rules.centre_max_offset * 272.0, "{r:?}");
    }

    #[test]
    fn a_small_head_is_refused_rather_than_upscaled() {
        let rules = Rules::default();
        match frame(&subject(100.0, 160.0, 300.0), 600.0, 800.0, &rules) {
            Err(CropRefusal::TooSmallOriginal(k)) => assert!(k > rules.crop_max_upscale),
            other => panic!("{other:?}"),
        }
    }
}
