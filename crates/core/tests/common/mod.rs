//! Builds the synthetic labelled corpus: a passport-style portrait (white background, skin
//! ellipse head with dark hair, neck, shoulders in a shirt), encoded with chosen density and
//! EXIF, and byte-level variants. Everything is generated, nothing is committed.

#![allow(dead_code)]

use image::codecs::jpeg::{JpegEncoder, PixelDensity, PixelDensityUnit};
use image::{ImageEncoder, Rgb, RgbImage};

pub const W: u32 = 272;
pub const H: u32 = 354;

/// What the synthetic portrait looks like.
#[derive(Clone, Copy)]
pub struct Look {
    pub background: [u8; 3],
    pub shirt: [u8; 3],
    /// Darken the top-left corner by this share at the corner (a cast shadow).
    pub corner_shadow: f32,
    /// Per-channel noise amplitude on the subject (texture, so the file is realistic in size).
    pub noise: i32,
}

impl Default for Look {
    fn default() -> Self {
        Self { background: [255, 255, 255], shirt: [38, 52, 96], corner_shadow: 0.0, noise: 10 }
    }
}

/// xorshift: deterministic noise without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn noise(&mut self, amp: i32) -> i32 {
        if amp == 0 { 0 } else { (self.next() % (2 * amp as u64 + 1)) as i32 - amp }
    }
}

fn inside_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}

pub fn portrait(look: Look) -> RgbImage {
    portrait_sized(look, W, H)
}

/// The portrait drawn on a canvas of any size (proportions follow the canvas).
pub fn portrait_sized(look: Look, w: u32, h: u32) -> RgbImage {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (sx, sy) = (w as f32 / W as f32, h as f32 / H as f32);
    RgbImage::from_fn(w, h, |px, py| {
        let (x, y) = (px as f32 / sx, py as f32 / sy);
        let skin = [224, 178, 150];
        let hair = [36, 28, 24];
        let mut c: [i32; 3];
        let mut textured = true;
        if inside_ellipse(x, y, 136.0, 176.0, 56.0, 72.0) {
            c = skin.map(i32::from);
            if inside_ellipse(x, y, 114.0, 160.0, 9.0, 5.0) || inside_ellipse(x, y, 158.0, 160.0, 9.0, 5.0) {
                c = [40, 30, 30];
            } else if inside_ellipse(x, y, 136.0, 212.0, 16.0, 5.0) {
                c = [170, 80, 80];
            } else if y < 125.0 {
                c = hair.map(i32::from); // fringe
            }
        } else if inside_ellipse(x, y, 136.0, 150.0, 66.0, 78.0) && y < 190.0 {
            c = hair.map(i32::from);
        } else if (116.0..156.0).contains(&x) && (230.0..290.0).contains(&y) {
            c = [214, 166, 140]; // neck
        } else if y >= 270.0 && inside_ellipse(x, y, 136.0, 390.0, 135.0, 120.0) {
            c = look.shirt.map(i32::from);
        } else {
            c = look.background.map(i32::from);
            textured = false;
            if look.corner_shadow > 0.0 {
                let d = (x * x + y * y).sqrt();
                let k = 1.0 - look.corner_shadow * (1.0 - d / 140.0).max(0.0);
                c = c.map(|v| (v as f32 * k) as i32);
            }
        }
        let amp = if textured { look.noise } else { look.noise.min(2) };
        Rgb(c.map(|v| (v + rng.noise(amp)).clamp(0, 255) as u8))
    })
}

pub struct Enc {
    pub quality: u8,
    pub density: PixelDensity,
    pub exif: Option<Vec<u8>>,
}

impl Default for Enc {
    fn default() -> Self {
        Self { quality: 90, density: PixelDensity::dpi(300), exif: None }
    }
}

pub fn no_density() -> PixelDensity {
    PixelDensity { density: (1, 1), unit: PixelDensityUnit::PixelAspectRatio }
}

pub fn per_cm(d: u16) -> PixelDensity {
    PixelDensity { density: (d, d), unit: PixelDensityUnit::Centimeters }
}

pub fn encode(img: &RgbImage, enc: &Enc) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = JpegEncoder::new_with_quality(&mut out, enc.quality);
    e.set_pixel_density(enc.density);
    if let Some(exif) = &enc.exif {
        e.set_exif_metadata(exif.clone()).expect("jpeg encoder takes exif");
    }
    e.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).expect("encode");
    out
}

pub fn encode_grey(img: &RgbImage) -> Vec<u8> {
    let grey = image::DynamicImage::ImageRgb8(img.clone()).into_luma8();
    let mut out = Vec::new();
    let mut e = JpegEncoder::new_with_quality(&mut out, 90);
    e.set_pixel_density(PixelDensity::dpi(300));
    e.write_image(grey.as_raw(), grey.width(), grey.height(), image::ExtendedColorType::L8).expect("encode");
    out
}

pub fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

/// An EXIF TIFF block with the given ASCII/rational fields.
pub fn exif_block(make: Option<&str>, model: Option<&str>, resolution: Option<(u32, u16)>) -> Vec<u8> {
    use exif::{Field, In, Tag, Value};
    let mut fields = Vec::new();
    if let Some(m) = make {
        fields.push(Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![m.as_bytes().to_vec()]) });
    }
    if let Some(m) = model {
        fields.push(Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![m.as_bytes().to_vec()]) });
    }
    if let Some((r, unit)) = resolution {
        let v = Value::Rational(vec![(r, 1).into()]);
        fields.push(Field { tag: Tag::XResolution, ifd_num: In::PRIMARY, value: v.clone() });
        fields.push(Field { tag: Tag::YResolution, ifd_num: In::PRIMARY, value: v });
        fields.push(Field { tag: Tag::ResolutionUnit, ifd_num: In::PRIMARY, value: Value::Short(vec![unit]) });
    }
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    w.write(&mut buf, false).expect("exif");
    buf.into_inner()
}

/// Byte offset of the first SOF marker's height field.
fn sof_offset(jpeg: &[u8]) -> usize {
    let mut pos = 2;
    loop {
        assert_eq!(jpeg[pos], 0xFF, "marker expected at {pos}");
        let m = jpeg[pos + 1];
        let len = u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]) as usize;
        if matches!(m, 0xC0..=0xC3) {
            return pos + 5;
        }
        pos += 2 + len;
    }
}

/// Rewrites the frame header's dimensions (the "bomb": a small file claiming a huge picture).
pub fn patch_dimensions(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let at = sof_offset(&out);
    out[at..at + 2].copy_from_slice(&h.to_be_bytes());
    out[at + 2..at + 4].copy_from_slice(&w.to_be_bytes());
    out
}

/// Inserts COM segments after SOI until the file is at least `target` bytes.
pub fn pad_with_comments(jpeg: &[u8], target: usize) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    let mut rng = Rng(7);
    let mut added = 0;
    while jpeg.len() + added < target {
        let n = 60_000usize;
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((n + 2) as u16).to_be_bytes());
        out.extend((0..n).map(|_| (rng.next() % 200) as u8 + 32));
        added += n + 4;
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Replaces everything after the first SOS segment header with `fill`, keeping the EOI.
pub fn garble_scan(jpeg: &[u8]) -> Vec<u8> {
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).expect("SOS");
    let len = u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]) as usize;
    let start = sos + 2 + len;
    let mut out = jpeg[..start].to_vec();
    let mut rng = Rng(99);
    out.extend((start..jpeg.len() - 2).map(|_| {
        let b = (rng.next() % 255) as u8; // never 0xFF: no stray markers
        b
    }));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
