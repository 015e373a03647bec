//! Face detection and head geometry.
//!
//! The detector is SeetaFace's frontal funnel-structured cascade (rustface, BSD-2), with the
//! model file that the rustface crate publishes embedded in the binary (`models/`), so the
//! Lambda and the embedded server need nothing at run time. It runs on a box-downscaled grey
//! copy: rustface's image pyramid always starts at scale 1 with a 40 px window (its
//! `set_min_face_size`/`set_window_size` do not change that), so the copy's width is what sets
//! the smallest face and bounds the work. A fast coarse pass (`Rules::face_fast_width`) settles
//! the usual case, a valid-sized face; the full scan (`Rules::face_detect_width`) runs only when
//! it does not (see `detect`).
//!
//! The face box says where the face is; the head's extent (hair top, sides) is then measured on
//! the full-resolution photo by walking outwards from the box until the background colour
//! (sampled in the top corners) is reached.

use super::Rules;
use super::background::Rect;
use super::picture::{Picture, luma};
use rustface::{Detector, ImageData};
use std::cell::RefCell;
use std::sync::LazyLock;

static MODEL_BYTES: &[u8] = include_bytes!("../../models/seeta_fd_frontal_v1.0.bin");

static MODEL: LazyLock<rustface::Model> =
    LazyLock::new(|| rustface::read_model(MODEL_BYTES).expect("the embedded SeetaFace model parses"));

/// The fast pass: a coarser scan (window step 6 instead of 4, pyramid factor 0.7 instead of
/// 0.8) on a smaller copy. It finds a valid photo's face (≥ ≈ 100 px) at a fraction of the
/// full scan's cost; what it misses or finds too small is left to the full scan.
const FAST_STEP: u32 = 6;
const FAST_PYRAMID: f32 = 0.7;
/// The full scan: rustface's defaults.
const FULL_STEP: u32 = 4;
const FULL_PYRAMID: f32 = 0.8;

thread_local! {
    // The detector keeps scratch buffers, so one per thread, built on first use; the model is
    // parsed once per process (`MODEL`) and only cloned here.
    static DETECTOR: RefCell<Box<dyn Detector>> = RefCell::new({
        let mut d = rustface::create_detector_with_model(MODEL.clone());
        d.set_min_face_size(20);
        d
    });
    // The downscaled grey copy, reused across calls.
    static SMALL: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A detected face, in full-resolution pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub score: f64,
}

impl Face {
    pub fn cx(&self) -> f32 {
        self.x + self.w / 2.0
    }
}

/// Faces found in the grey photo, largest first. Faces much smaller than the largest
/// (`face_min_relative`) are dropped: they are detector noise at the smallest scale, not a
/// second person in a passport photo — unless a second look found one beside the head.
///
/// Two passes, because SeetaFace's cost is almost all in its second (SURF-MLP) stage, paid per
/// window that the first stage lets through, and those windows crowd around the face: the fast
/// pass (`face_fast_width`, coarse scan) sees far fewer of them. Its answer is kept when its
/// largest face is at least `face_fast_min_face` px wide (the size of a valid photo's face);
/// otherwise (no face, a small face, a small second person) the full scan decides, exactly as
/// if the fast pass had not run. Only when that finds nothing does a scan at the photo's own
/// size look for a face down to 40 px (`face_small_width`). One face with something other than
/// backdrop beside it at eye level (`someone_beside`) gets a second look for a smaller person
/// there; a lone sitter on white never pays for it.
pub fn detect(grey: &[u8], width: usize, height: usize, rules: &Rules) -> Vec<Face> {
    if rules.face_fast_width > 0 {
        let fast = comparable(scan(grey, width, height, rules.face_fast_width, FAST_STEP, FAST_PYRAMID, Some(rules.face_fast_max_face), rules), rules);
        if fast.first().is_some_and(|f| f.w >= rules.face_fast_min_face) {
            if fast.len() == 1 && someone_beside(grey, width, height, &fast[0], rules) {
                return second_look(grey, width, height, fast, rules);
            }
            return fast;
        }
    }
    let full = comparable(scan(grey, width, height, rules.face_detect_width, FULL_STEP, FULL_PYRAMID, None, rules), rules);
    if full.len() == 1 && someone_beside(grey, width, height, &full[0], rules) {
        return beside(grey, width, height, full, rules);
    }
    if full.is_empty() && rules.face_small_width > rules.face_detect_width {
        // A 40 px window sees faces in texture and drawings more easily: only a confident one.
        let mut small = comparable(scan(grey, width, height, rules.face_small_width, FULL_STEP, FULL_PYRAMID, None, rules), rules);
        small.retain(|f| f.score >= rules.face_small_min_score);
        return small;
    }
    full
}

/// Whether the rows of the face's upper part hold something other than backdrop beside the
/// head: at eye level a lone sitter has only backdrop left and right of the hair (shoulders are
/// lower), a second person does not. The fast pass cannot see a face under ≈ 100 px, so a
/// smaller second person beside a valid-sized face needs this hint to be looked for.
fn someone_beside(grey: &[u8], width: usize, height: usize, f: &Face, rules: &Rules) -> bool {
    let y0 = f.y.max(0.0) as usize;
    let y1 = ((f.y + f.h * 0.6).max(0.0) as usize).min(height);
    // Hair reaches ≈ 0.3 face widths out; 0.4 leaves room for a full hairstyle.
    let left = (f.x - 0.4 * f.w).max(0.0) as usize;
    let right = ((f.x + 1.4 * f.w).max(0.0) as usize).min(width);
    let (mut seen, mut other) = (0usize, 0usize);
    for y in y0..y1 {
        let row = &grey[y * width..(y + 1) * width];
        for &g in row[..left.min(width)].iter().chain(&row[right..]) {
            seen += 1;
            other += usize::from(g < rules.bg_min_luma);
        }
    }
    seen > 0 && other as f32 > rules.face_beside_min_fraction * seen as f32
}

/// A second look for a smaller person beside the face the fast pass found: the full scan
/// (faces from ≈ 80 px), then the photo-size scan (from 40 px, confident faces only) for a face
/// clear of the first. The fast pass's single face stands when neither finds another: the hint
/// may be a coloured backdrop or a hairstyle.
fn second_look(grey: &[u8], width: usize, height: usize, fast: Vec<Face>, rules: &Rules) -> Vec<Face> {
    let full = comparable(scan(grey, width, height, rules.face_detect_width, FULL_STEP, FULL_PYRAMID, None, rules), rules);
    if full.len() >= 2 {
        return full;
    }
    beside(grey, width, height, fast, rules)
}

/// The photo-size scan's confident faces clear of `one`'s box, added to it.
fn beside(grey: &[u8], width: usize, height: usize, one: Vec<Face>, rules: &Rules) -> Vec<Face> {
    if rules.face_small_width <= rules.face_detect_width {
        return one;
    }
    let main = one[0];
    let mut small = scan(grey, width, height, rules.face_small_width, FULL_STEP, FULL_PYRAMID, None, rules);
    small.retain(|f| f.score >= rules.face_small_min_score && (f.cx() < main.x || f.cx() > main.x + main.w));
    let mut faces = one;
    faces.extend(small);
    faces
}

/// Faces much narrower than the largest dropped: detector noise at the smallest scale, not a
/// second person (that one is looked for on purpose, `beside`).
fn comparable(mut faces: Vec<Face>, rules: &Rules) -> Vec<Face> {
    if let Some(big) = faces.first().map(|f| f.w) {
        faces.retain(|f| f.w >= big * rules.face_min_relative);
    }
    faces
}

/// One detector run on a copy box-downscaled to `target` px wide; `max_face` (px in the photo)
/// drops the pyramid levels for bigger faces. Every face found, largest first.
#[allow(clippy::too_many_arguments)]
fn scan(
    grey: &[u8],
    width: usize,
    height: usize,
    target: u32,
    step: u32,
    pyramid: f32,
    max_face: Option<f32>,
    rules: &Rules,
) -> Vec<Face> {
    let target = (target as usize).clamp(40, width.max(40));
    let k = width as f32 / target as f32;
    let (dw, dh) = if k > 1.0 { (target, ((height as f32 / k).round() as usize).max(1)) } else { (width, height) };
    let sx = width as f32 / dw as f32;
    let sy = height as f32 / dh as f32;
    let found = SMALL.with(|small| {
        let mut small = small.borrow_mut();
        let img: &[u8] = if (dw, dh) == (width, height) {
            grey
        } else {
            downscale(grey, width, height, dw, dh, &mut small);
            &small[..]
        };
        DETECTOR.with(|d| {
            let mut d = d.borrow_mut();
            d.set_score_thresh(rules.face_min_score);
            d.set_slide_window_step(step, step);
            d.set_pyramid_scale_factor(pyramid);
            // 0 = no cap (rustface's "not set"); the cap is in the downscaled copy's pixels.
            d.set_max_face_size(max_face.map_or(0, |m| (m / sx).round() as u32));
            d.detect(&ImageData::new(img, dw as u32, dh as u32))
        })
    });
    let mut faces: Vec<Face> = found
        .iter()
        .map(|f| {
            let b = f.bbox();
            Face { x: b.x() as f32 * sx, y: b.y() as f32 * sy, w: b.width() as f32 * sx, h: b.height() as f32 * sy, score: f.score() }
        })
        .collect();
    faces.sort_by(|a, b| b.w.total_cmp(&a.w));
    faces
}

/// Box-filter downscale (area average), the cheapest resampling that does not alias.
fn downscale(src: &[u8], w: usize, h: usize, dw: usize, dh: usize, out: &mut Vec<u8>) {
    let xs: Vec<usize> = (0..=dw).map(|i| i * w / dw).collect();
    out.clear();
    out.resize(dw * dh, 0);
    let mut acc = vec![0u32; dw];
    for oy in 0..dh {
        let (y0, y1) = (oy * h / dh, ((oy + 1) * h / dh).max(oy * h / dh + 1));
        acc.iter_mut().for_each(|a| *a = 0);
        for y in y0..y1 {
            let row = &src[y * w..(y + 1) * w];
            for (ox, a) in acc.iter_mut().enumerate() {
                *a += row[xs[ox]..xs[ox + 1].max(xs[ox] + 1)].iter().map(|&g| u32::from(g)).sum::<u32>();
            }
        }
        for ox in 0..dw {
            let n = ((xs[ox + 1].max(xs[ox] + 1) - xs[ox]) * (y1 - y0)) as u32;
            out[oy * dw + ox] = (acc[ox] / n) as u8;
        }
    }
}

/// The head, measured around a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Head {
    /// First row of hair (0 = touches the top edge).
    pub top: usize,
    /// Estimated chin row.
    pub chin: f32,
    pub left: usize,
    pub right: usize,
    /// (chin − top) / photo height.
    pub height_ratio: f32,
    /// The head touches or leaves the top or a side edge.
    pub cropped: bool,
}

impl Head {
    /// The part of the background band that the head hides (so hair is not "background").
    pub fn exclusion(&self, pic: &Picture) -> Rect {
        Rect {
            x0: self.left.saturating_sub(3),
            x1: (self.right + 4).min(pic.width),
            y0: 0,
            y1: (self.chin.max(0.0) as usize).min(pic.height),
        }
    }
}

/// The backdrop colour: the brighter of the two top corners' means (a shadow only darkens).
fn backdrop(pic: &Picture) -> [i32; 3] {
    let (cw, ch) = ((pic.width / 12).max(1), (pic.height / 20).max(1));
    let corner = |x0: usize| {
        let mut sum = [0i64; 3];
        for y in 0..ch {
            for x in x0..x0 + cw {
                let p = pic.px(x, y);
                (0..3).for_each(|c| sum[c] += i64::from(p[c]));
            }
        }
        sum.map(|s| (s / (cw * ch) as i64) as i32)
    };
    let (a, b) = (corner(0), corner(pic.width - cw));
    if a.iter().sum::<i32>() >= b.iter().sum::<i32>() { a } else { b }
}

/// `colour` says whether the photo has colour at all: in a greyscale photo skin is as neutral
/// as a shadow, so the shadow exemption below is off.
pub fn measure_head(pic: &Picture, face: &Face, rules: &Rules, colour: bool) -> Head {
    let bg = backdrop(pic);
    let (w, h) = (pic.width, pic.height);
    // Subject = far from the backdrop colour, except (in a colour photo) bright neutral
    // pixels: those are the backdrop in shadow, not hair.
    let is_subject = |x: usize, y: usize| {
        let p = pic.px(x, y);
        let far = (0..3).map(|c| (i32::from(p[c]) - bg[c]).abs()).sum::<i32>() > i32::from(rules.head_bg_distance);
        let chroma = p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]);
        far && !(colour && chroma <= 16 && luma(p[0], p[1], p[2]) >= 175)
    };
    let clampx = |v: f32| (v.max(0.0) as usize).min(w - 1);
    let clampy = |v: f32| (v.max(0.0) as usize).min(h - 1);
    // Hair top: walk up from the face box's top through the middle half of its columns.
    let (cx0, cx1) = (clampx(face.x + face.w * 0.25), clampx(face.x + face.w * 0.75).max(clampx(face.x + face.w * 0.25) + 1));
    let row_is_head = |y: usize| {
        let n = (cx0..cx1).filter(|&x| is_subject(x, y)).count();
        n * 5 >= (cx1 - cx0)
    };
    let mut top = clampy(face.y + face.h * 0.3);
    while top > 0 && row_is_head(top - 1) {
        top -= 1;
    }
    // Sides: walk out from the face box through the rows from the hair top to mid-face.
    let (ry0, ry1) = (top, clampy(face.y + face.h * 0.5).max(top + 1));
    let col_is_head = |x: usize| {
        let n = (ry0..ry1).filter(|&y| is_subject(x, y)).count();
        n * 5 >= (ry1 - ry0)
    };
    let mut left = clampx(face.x + face.w * 0.2);
    while left > 0 && col_is_head(left - 1) {
        left -= 1;
    }
    let mut right = clampx(face.x + face.w * 0.8);
    while right + 1 < w && col_is_head(right + 1) {
        right += 1;
    }
    let chin = face.y + face.h * rules.chin_below_box;
    let margin = rules.head_min_margin as usize;
    let cropped = top <= margin
        || left <= margin
        || right + 1 + margin >= w
        || face.x < 0.0
        || face.y < 0.0
        || face.x + face.w > w as f32
        || chin > h as f32;
    Head { top, chin, left, right, height_ratio: (chin - top as f32) / h as f32, cropped }
}

/// Variance of the 4-neighbour Laplacian over the inner part of the face box: the standard
/// focus measure (Pech-Pacheco et al. 2000). Only the face is measured, so a plain white
/// background cannot make a sharp photo look blurred.
pub fn sharpness(grey: &[u8], width: usize, height: usize, face: &Face) -> f32 {
    let r = inner(face, 0.15, width, height);
    if r.x1 < r.x0 + 3 || r.y1 < r.y0 + 3 {
        return 0.0;
    }
    let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
    for y in r.y0.max(1)..r.y1.min(height - 1) {
        for x in r.x0.max(1)..r.x1.min(width - 1) {
            let c = i32::from(grey[y * width + x]);
            let l = i32::from(grey[y * width + x - 1]) + i32::from(grey[y * width + x + 1]) + i32::from(grey[(y - 1) * width + x])
                + i32::from(grey[(y + 1) * width + x])
                - 4 * c;
            let l = f64::from(l);
            sum += l;
            sq += l * l;
            n += 1.0;
        }
    }
    if n == 0.0 { 0.0 } else { ((sq / n) - (sum / n).powi(2)) as f32 }
}

/// Camera shake: the strongest over the weakest mean squared difference between neighbours
/// along the four directions (0°, 45°, 90°, 135°) on the inner face. Defocus blurs every
/// direction alike and keeps this near 1–2.5 (eyes and mouth make a face somewhat
/// horizontal); a shaken face keeps its detail across the smear and loses it along, so the
/// Laplacian variance (`sharpness`) can stay high while this rises far above.
pub fn shake(grey: &[u8], width: usize, height: usize, face: &Face) -> f32 {
    let r = inner(face, 0.15, width, height);
    if r.x1 < r.x0 + 4 || r.y1 < r.y0 + 4 {
        return 1.0;
    }
    let mut e = [0f64; 4];
    for y in r.y0.max(1)..r.y1.min(height - 1) {
        for x in r.x0.max(1)..r.x1.min(width - 1) {
            let c = f64::from(grey[y * width + x]);
            let d = |xx: usize, yy: usize| (f64::from(grey[yy * width + xx]) - c).powi(2);
            e[0] += d(x + 1, y);
            e[1] += d(x + 1, y + 1);
            e[2] += d(x, y + 1);
            e[3] += d(x - 1, y + 1);
        }
    }
    // Diagonal neighbours are √2 apart: halve their squared differences for the distance.
    let e = [e[0], e[1] / 2.0, e[2], e[3] / 2.0];
    let (mx, mn) = e.iter().fold((0f64, f64::MAX), |(a, b), &v| (a.max(v), b.min(v)));
    (mx / mn.max(1e-6)) as f32
}

/// Mean luma of the central part of the face (cheeks, nose, forehead; no hair, no background).
pub fn face_luma(grey: &[u8], width: usize, height: usize, face: &Face) -> f32 {
    let r = inner(face, 0.25, width, height);
    let (mut sum, mut n) = (0u64, 0u64);
    for y in r.y0..r.y1 {
        for &g in &grey[y * width + r.x0..y * width + r.x1] {
            sum += u64::from(g);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum as f32 / n as f32 }
}

fn inner(face: &Face, shrink: f32, width: usize, height: usize) -> Rect {
    let c = |v: f32, hi: usize| (v.max(0.0) as usize).min(hi);
    Rect {
        x0: c(face.x + face.w * shrink, width),
        x1: c(face.x + face.w * (1.0 - shrink), width),
        y0: c(face.y + face.h * shrink, height),
        y1: c(face.y + face.h * (1.0 - shrink), height),
    }
}

