//! Five face landmarks — both corners of each eye and the base of the nose — placed inside a
//! detected face box by dlib's 5-point shape predictor (Kazemi & Sullivan's ensemble of
//! regression trees; Davis King's model, CC0, as the PyPI package face_recognition_models 0.3.0
//! ships it). `scripts/landmark-model/convert.py` turns that file into `models/landmarks5.bin`
//! (fixed-width fields; see the script for the layout); this module evaluates it.
//!
//! Why this model: it is cheap (15 levels × 500 depth-4 trees, a few hundred pixel reads per
//! level, well under a millisecond), needs no neural-network runtime, and its points are the
//! ones the geometry needs (eye line, eye distance, roll, the face's proportions). A CNN
//! (YuNet through tract) cost 7–14 ms per photo on a downscaled copy here, and 7 minutes of
//! release build.
//!
//! The model was trained on boxes of dlib's HOG detector, which frame a face differently from
//! SeetaFace. Rather than guess a fixed mapping, `locate` re-derives the box from its own
//! rough answer (five levels; the box in which those points sit where the mean shape has them)
//! and then runs all fifteen in it: the framing the trees expect, whichever detector gave the
//! seed. A second reframing moved the points by under a pixel on the committed photos.

use super::face::Face;
use super::picture::Picture;
use std::sync::LazyLock;

static MODEL_BYTES: &[u8] = include_bytes!("../../models/landmarks5.bin");

static MODEL: LazyLock<Model> =
    LazyLock::new(|| Model::parse(MODEL_BYTES).expect("the embedded landmark model parses"));

/// A point in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// The five points, named by where they appear in the picture (the person's right eye is on
/// the picture's left).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Landmarks {
    /// Eye on the picture's left: outer and inner corner.
    pub left_eye: [Point; 2],
    /// Eye on the picture's right: outer and inner corner.
    pub right_eye: [Point; 2],
    /// Base of the nose (subnasale).
    pub nose: Point,
}

impl Landmarks {
    pub fn left_eye_centre(&self) -> Point {
        mid(self.left_eye[0], self.left_eye[1])
    }
    pub fn right_eye_centre(&self) -> Point {
        mid(self.right_eye[0], self.right_eye[1])
    }
    /// Height of the eye line (mean of the two eye centres) from the top edge, px.
    pub fn eye_line(&self) -> f32 {
        (self.left_eye_centre().y + self.right_eye_centre().y) / 2.0
    }
    /// Distance between the eye centres, px.
    pub fn eye_distance(&self) -> f32 {
        let (a, b) = (self.left_eye_centre(), self.right_eye_centre());
        (b.x - a.x).hypot(b.y - a.y)
    }
    /// Roll in degrees: positive when the eye on the picture's right is lower.
    pub fn roll_degrees(&self) -> f32 {
        let (a, b) = (self.left_eye_centre(), self.right_eye_centre());
        (b.y - a.y).atan2(b.x - a.x).to_degrees()
    }
    /// Horizontal centre of the face: midway between the eyes.
    pub fn centre_x(&self) -> f32 {
        (self.left_eye_centre().x + self.right_eye_centre().x) / 2.0
    }
    /// Eye distance over the nose's drop below the eye line, both measured in the face's own
    /// frame (roll removed). Uniform scaling leaves it unchanged; stretching the photo
    /// sideways by s multiplies it by s.
    pub fn width_to_height(&self) -> f32 {
        let (a, b) = (self.left_eye_centre(), self.right_eye_centre());
        let d = self.eye_distance();
        let (ux, uy) = ((b.x - a.x) / d.max(1e-3), (b.y - a.y) / d.max(1e-3));
        let m = mid(a, b);
        let drop = (self.nose.x - m.x) * -uy + (self.nose.y - m.y) * ux;
        d / drop.max(1e-3)
    }
}

fn mid(a: Point, b: Point) -> Point {
    Point {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    }
}

/// The box the trees run in, in photo pixels.
#[derive(Debug, Clone, Copy)]
struct Frame {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// Places the five points in the face the detector found.
pub fn locate(pic: &Picture, face: &Face) -> Landmarks {
    let model = &*MODEL;
    // The reframing needs the points only roughly: the first levels of the cascade give them
    // at a third of the cost of all fifteen.
    let mut rect = Frame { x: face.x, y: face.y, w: face.w, h: face.h };
    for _ in 0..REFRAMES {
        let rough = model.run(pic, rect, COARSE_LEVELS);
        rect = model.box_of(&rough, rect);
    }
    let shape = model.run(pic, rect, usize::MAX);
    let p = |i: usize| {
        let (x, y) = to_image(rect, shape[2 * i], shape[2 * i + 1]);
        Point { x, y }
    };
    // dlib's 5-point order: 0–1 the eye on the picture's right (outer, inner), 2–3 the eye on
    // the picture's left (outer, inner), 4 the nose base.
    Landmarks {
        right_eye: [p(0), p(1)],
        left_eye: [p(2), p(3)],
        nose: p(4),
    }
}

/// Rounds of re-deriving the box from the points before the final run.
const REFRAMES: usize = 1;
/// Cascade levels of a reframing run.
const COARSE_LEVELS: usize = 5;

/// Parses the embedded model anew and returns its number of levels: what loading costs, for
/// the benchmark (the check itself parses once per process).
pub fn parse_embedded_model() -> usize {
    Model::parse(MODEL_BYTES).map(|m| m.levels.len()).unwrap_or(0)
}

/// dlib's `unnormalizing_tform`: the unit square onto the box (dlib boxes include their last
/// pixel, hence the −1).
fn to_image(r: Frame, x: f32, y: f32) -> (f32, f32) {
    (r.x + x * (r.w - 1.0), r.y + y * (r.h - 1.0))
}

/// One cascade level, its trees laid end to end: the walk reads them in order, so the
/// splits stream through the cache instead of being chased through 7,500 allocations (that
/// made a run 10× slower).
struct Level {
    anchors: Vec<u16>,
    deltas: Vec<[f32; 2]>,
    /// `trees × splits` (feature a, feature b, threshold).
    splits: Vec<(u16, u16, f32)>,
    /// `trees × leaves × coords`, quantised; times `scale` gives shape units.
    leaves: Vec<i16>,
    scale: f32,
}

struct Model {
    coords: usize,
    splits: usize,
    initial: Vec<f32>,
    levels: Vec<Level>,
}

#[derive(Debug)]
struct ParseError(#[allow(dead_code)] &'static str);

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        if self.0.len() < N {
            return Err(ParseError("truncated"));
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("split at N"))
    }
    fn u32(&mut self) -> Result<usize, ParseError> {
        Ok(u32::from_le_bytes(self.take()?) as usize)
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn i16(&mut self) -> Result<i16, ParseError> {
        Ok(i16::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32, ParseError> {
        Ok(f32::from_le_bytes(self.take()?))
    }
}

impl Model {
    fn parse(bytes: &[u8]) -> Result<Model, ParseError> {
        let mut c = Cursor(bytes);
        if &c.take::<8>()? != b"GPLM5\0\0\0" {
            return Err(ParseError("magic"));
        }
        let (points, levels, trees, splits, leaves, features) =
            (c.u32()?, c.u32()?, c.u32()?, c.u32()?, c.u32()?, c.u32()?);
        if points != 5 || leaves != splits + 1 {
            return Err(ParseError("shape"));
        }
        let coords = 2 * points;
        let initial = (0..coords)
            .map(|_| c.f32())
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(levels);
        for _ in 0..levels {
            let anchors = (0..features)
                .map(|_| c.u16())
                .collect::<Result<Vec<_>, _>>()?;
            if anchors.iter().any(|&a| usize::from(a) >= points) {
                return Err(ParseError("anchor"));
            }
            let deltas = (0..features)
                .map(|_| Ok([c.f32()?, c.f32()?]))
                .collect::<Result<Vec<_>, _>>()?;
            let scale = c.f32()?;
            let (mut all_splits, mut all_leaves) = (
                Vec::with_capacity(trees * splits),
                Vec::with_capacity(trees * leaves * coords),
            );
            for _ in 0..trees {
                for _ in 0..splits {
                    let (a, b, t) = (c.u16()?, c.u16()?, c.f32()?);
                    if usize::from(a) >= features || usize::from(b) >= features {
                        return Err(ParseError("feature index"));
                    }
                    all_splits.push((a, b, t));
                }
                for _ in 0..leaves * coords {
                    all_leaves.push(c.i16()?);
                }
            }
            out.push(Level {
                anchors,
                deltas,
                splits: all_splits,
                leaves: all_leaves,
                scale,
            });
        }
        if !c.0.is_empty() {
            return Err(ParseError("trailing bytes"));
        }
        Ok(Model {
            coords,
            splits,
            initial,
            levels: out,
        })
    }

    /// dlib's `shape_predictor::operator()`: the shape in box-normalised coordinates.
    fn run(&self, pic: &Picture, rect: Frame, levels: usize) -> Vec<f32> {
        let mut shape = self.initial.clone();
        let mut values = Vec::new();
        for level in self.levels.iter().take(levels) {
            // Each pixel feature is an offset from one landmark, in the mean shape's frame,
            // turned and scaled with the current guess (a similarity fit, as dlib does).
            let m = similarity(&self.initial, &shape);
            values.clear();
            values.extend(level.anchors.iter().zip(&level.deltas).map(|(&a, d)| {
                let a = usize::from(a);
                let nx = m[0] * d[0] + m[1] * d[1] + shape[2 * a];
                let ny = m[2] * d[0] + m[3] * d[1] + shape[2 * a + 1];
                let (x, y) = to_image(rect, nx, ny);
                intensity(pic, x, y)
            }));
            // The quantised offsets are summed as integers and scaled once per level.
            let mut sum = [0i32; 10];
            let leaf_block = (self.splits + 1) * self.coords;
            for (splits, leaves) in level
                .splits
                .chunks_exact(self.splits)
                .zip(level.leaves.chunks_exact(leaf_block))
            {
                let mut i = 0;
                while i < splits.len() {
                    let (a, b, t) = splits[i];
                    i = if values[usize::from(a)] - values[usize::from(b)] > t {
                        2 * i + 1
                    } else {
                        2 * i + 2
                    };
                }
                let leaf = &leaves[(i - splits.len()) * self.coords..][..self.coords];
                sum.iter_mut()
                    .zip(leaf)
                    .for_each(|(s, &d)| *s += i32::from(d));
            }
            shape
                .iter_mut()
                .zip(sum)
                .for_each(|(s, d)| *s += d as f32 * level.scale);
        }
        shape
    }

    /// The box in which `shape` (normalised in `rect`) would sit exactly where the mean shape
    /// sits in the unit box: a least-squares fit of scale and offset.
    fn box_of(&self, shape: &[f32], rect: Frame) -> Frame {
        let n = self.coords / 2;
        let pts: Vec<(f32, f32)> = (0..n)
            .map(|i| to_image(rect, shape[2 * i], shape[2 * i + 1]))
            .collect();
        let mean = |v: &dyn Fn(usize) -> f32| (0..n).map(v).sum::<f32>() / n as f32;
        let (mx, my) = (
            mean(&|i| self.initial[2 * i]),
            mean(&|i| self.initial[2 * i + 1]),
        );
        let (px, py) = (mean(&|i| pts[i].0), mean(&|i| pts[i].1));
        let (mut num, mut den) = (0f32, 0f32);
        for (i, p) in pts.iter().enumerate() {
            let (ax, ay) = (self.initial[2 * i] - mx, self.initial[2 * i + 1] - my);
            num += ax * (p.0 - px) + ay * (p.1 - py);
            den += ax * ax + ay * ay;
        }
        // `size` is the box side minus one (dlib's inclusive box).
        let size = (num / den.max(1e-9)).max(4.0);
        Frame {
            x: px - mx * size,
            y: py - my * size,
            w: size + 1.0,
            h: size + 1.0,
        }
    }
}

/// dlib's `get_pixel_intensity` of an RGB pixel, the mean of its channels, at the rounded
/// position; 0 outside the picture (as dlib).
fn intensity(pic: &Picture, x: f32, y: f32) -> f32 {
    let (xi, yi) = ((x + 0.5).floor(), (y + 0.5).floor());
    if xi < 0.0 || yi < 0.0 || xi >= pic.width as f32 || yi >= pic.height as f32 {
        return 0.0;
    }
    let p = pic.px(xi as usize, yi as usize);
    f32::from(((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 3) as u8)
}

/// The 2×2 part of the similarity transform (rotation and uniform scale) that maps `from` onto
/// `to` best in least squares (Umeyama's closed form for 2-D), row-major.
fn similarity(from: &[f32], to: &[f32]) -> [f32; 4] {
    let n = from.len() / 2;
    let c = |v: &[f32], k: usize| (0..n).map(|i| v[2 * i + k]).sum::<f32>() / n as f32;
    let (fx, fy, tx, ty) = (c(from, 0), c(from, 1), c(to, 0), c(to, 1));
    let (mut a, mut b, mut den) = (0f32, 0f32, 0f32);
    for i in 0..n {
        let (x, y) = (from[2 * i] - fx, from[2 * i + 1] - fy);
        let (u, v) = (to[2 * i] - tx, to[2 * i + 1] - ty);
        a += x * u + y * v;
        b += x * v - y * u;
        den += x * x + y * y;
    }
    let (a, b) = (a / den.max(1e-12), b / den.max(1e-12));
    [a, -b, b, a]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file `scripts/landmark-model/convert.py` writes from the pinned package; the
    /// digest is quoted in `crates/core/models/README.md`.
    #[test]
    fn the_embedded_model_is_the_converted_one() {
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(MODEL_BYTES)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "8cb52c6781d5dc832cc726a276363365449a1f54973b77388f6340b79c30e33e"
        );
    }

    #[test]
    fn the_embedded_model_parses_whole() {
        let m = Model::parse(MODEL_BYTES).unwrap();
        assert_eq!(
            (
                m.levels.len(),
                m.levels[0].splits.len() / m.splits,
                m.coords
            ),
            (15, 500, 10)
        );
    }

    #[test]
    fn a_truncated_model_is_an_error_not_a_panic() {
        for cut in [0, 7, 40, MODEL_BYTES.len() / 2, MODEL_BYTES.len() - 1] {
            assert!(Model::parse(&MODEL_BYTES[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn similarity_recovers_a_turn_and_a_scale() {
        let from = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let (s, t) = (2.0f32, 0.3f32);
        let to: Vec<f32> = from
            .chunks(2)
            .flat_map(|p| {
                [
                    s * (t.cos() * p[0] - t.sin() * p[1]) + 5.0,
                    s * (t.sin() * p[0] + t.cos() * p[1]) - 1.0,
                ]
            })
            .collect();
        let m = similarity(&from, &to);
        assert!(
            (m[0] - s * t.cos()).abs() < 1e-5 && (m[2] - s * t.sin()).abs() < 1e-5,
            "{m:?}"
        );
    }
}
