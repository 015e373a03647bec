//! The deterministic rules of PHOTO_RULES.md on a generated, labelled corpus: every photo
//! must trip exactly the codes listed for it, nothing more, nothing less.
//!
//! Photos that decode are derived from the real-face fixture `corpus/astronaut_valid.jpg`
//! (re-encoded with the density, EXIF, colour or bytes each case needs), so the face rules
//! pass and each case trips its one code. The drawn synthetic portrait is not a face to the
//! detector: where it is used (background colours, white shirt), `no_face` is expected too.

mod common;

use common::*;
use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules, phash};
use image::codecs::jpeg::PixelDensity;
use std::collections::BTreeSet;

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    hard: &'static [&'static str],
    soft: &'static [&'static str],
}

/// The real-face base picture (NASA portrait of Eileen Collins, public domain; see corpus/).
fn base() -> image::RgbImage {
    image::load_from_memory(include_bytes!("corpus/astronaut_valid.jpg")).expect("fixture decodes").to_rgb8()
}

const WHITE: [u8; 3] = [250, 250, 250];
const BLUE: [u8; 3] = [120, 170, 230];

/// The picture centred on a 300×400 canvas of `fill` (a photo not cropped to size).
fn padded(img: &image::RgbImage, fill: [u8; 3]) -> image::RgbImage {
    let mut out = image::RgbImage::from_pixel(300, 400, image::Rgb(fill));
    image::imageops::overlay(&mut out, img, i64::from((300 - img.width()) / 2), i64::from((400 - img.height()) / 2));
    out
}

/// The picture with its near-white (backdrop) pixels painted `colour`.
fn whites_to(img: &image::RgbImage, colour: [u8; 3]) -> image::RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        let (lo, hi) = (p.0.iter().min().copied().unwrap_or(0), p.0.iter().max().copied().unwrap_or(0));
        if lo > 200 && hi - lo < 30 {
            p.0 = colour;
        }
    }
    out
}

fn valid_bytes() -> Vec<u8> {
    encode(&base(), &Enc::default())
}

fn corpus() -> Vec<Case> {
    let base = base();
    let valid = valid_bytes();
    let look = |f: fn(&mut Look)| {
        let mut l = Look::default();
        f(&mut l);
        portrait(l)
    };
    let synthetic_wrong_size = portrait_sized(Look::default(), 300, 400);
    let desaturated = {
        let g = image::DynamicImage::ImageRgb8(base.clone()).into_luma8();
        image::DynamicImage::ImageLuma8(g).into_rgb8()
    };
    let mut cases = vec![
        Case { name: "valid", bytes: valid.clone(), hard: &[], soft: &[] },
        Case {
            name: "synthetic_white_shirt",
            bytes: encode(&look(|l| l.shirt = [248, 248, 248]), &Enc::default()),
            hard: &["no_face"],
            soft: &[],
        },
        Case {
            name: "synthetic_warm_white_background",
            bytes: encode(&look(|l| l.background = [252, 243, 226]), &Enc::default()),
            hard: &["no_face"],
            soft: &[],
        },
        Case {
            name: "synthetic_slightly_dim_white_background",
            bytes: encode(&look(|l| l.background = [236, 236, 234]), &Enc::default()),
            hard: &["no_face"],
            soft: &[],
        },
        Case {
            name: "dpi_from_exif_only",
            bytes: encode(&base, &Enc { density: no_density(), exif: Some(exif_block(None, None, Some((300, 2)))), ..Enc::default() }),
            hard: &[],
            soft: &[],
        },
        Case { name: "dpi_118_per_cm", bytes: encode(&base, &Enc { density: per_cm(118), ..Enc::default() }), hard: &[], soft: &[] },
        Case {
            name: "phone_exif",
            bytes: encode(&base, &Enc { exif: Some(exif_block(Some("Apple"), Some("iPhone 13 Pro"), None)), ..Enc::default() }),
            hard: &[],
            soft: &["phone_photo"],
        },
        Case { name: "wrong_size", bytes: encode(&padded(&base, WHITE), &Enc::default()), hard: &["wrong_size"], soft: &[] },
        // A modest wrong size is decoded, so every other fault is reported with it.
        Case {
            name: "wrong_size_blue_background",
            bytes: encode(&padded(&whites_to(&base, BLUE), BLUE), &Enc::default()),
            hard: &["wrong_size", "background_not_white"],
            soft: &[],
        },
        Case { name: "wrong_size_grey", bytes: encode(&padded(&desaturated, WHITE), &Enc::default()), hard: &["wrong_size", "not_colour"], soft: &[] },
        Case { name: "wrong_size_drawing", bytes: encode(&synthetic_wrong_size, &Enc::default()), hard: &["wrong_size", "no_face"], soft: &[] },
        Case { name: "dpi_72", bytes: encode(&base, &Enc { density: PixelDensity::dpi(72), ..Enc::default() }), hard: &["low_dpi"], soft: &[] },
        Case { name: "no_density", bytes: encode(&base, &Enc { density: no_density(), ..Enc::default() }), hard: &["low_dpi"], soft: &[] },
        Case { name: "dpi_28_per_cm", bytes: encode(&base, &Enc { density: per_cm(28), ..Enc::default() }), hard: &["low_dpi"], soft: &[] },
        Case {
            name: "exif_72_dpi_no_jfif",
            bytes: encode(&base, &Enc { density: no_density(), exif: Some(exif_block(None, None, Some((72, 2)))), ..Enc::default() }),
            hard: &["low_dpi"],
            soft: &[],
        },
        Case { name: "greyscale_one_component", bytes: encode_grey(&base), hard: &["not_colour"], soft: &[] },
        Case { name: "greyscale_as_rgb", bytes: encode(&desaturated, &Enc::default()), hard: &["not_colour"], soft: &[] },
        Case {
            name: "synthetic_grey_background",
            bytes: encode(&look(|l| l.background = [188, 188, 188]), &Enc::default()),
            hard: &["background_not_white", "no_face"],
            soft: &[],
        },
        Case {
            name: "synthetic_blue_background",
            bytes: encode(&look(|l| l.background = [67, 142, 219]), &Enc::default()),
            // SeetaFace does find the drawn face on this blue backdrop (and on no other).
            hard: &["background_not_white"],
            soft: &[],
        },
        Case {
            name: "synthetic_pale_blue_background",
            bytes: encode(&look(|l| l.background = [222, 236, 252]), &Enc::default()),
            hard: &["background_not_white", "no_face"],
            soft: &[],
        },
        Case {
            name: "synthetic_shadowed_top_corner",
            bytes: encode(&look(|l| l.corner_shadow = 0.22), &Enc::default()),
            hard: &["background_not_white", "no_face"],
            soft: &[],
        },
        Case { name: "truncated", bytes: valid[..valid.len() * 7 / 10].to_vec(), hard: &["corrupt"], soft: &[] },
        Case { name: "garbled_scan_data", bytes: garble_scan(&valid), hard: &["corrupt"], soft: &[] },
        Case { name: "png_named_jpg", bytes: encode_png(&base), hard: &["not_jpeg"], soft: &[] },
        Case {
            name: "tiny_file",
            bytes: encode(&base, &Enc { quality: 5, ..Enc::default() }),
            hard: &["too_small"],
            soft: &[],
        },
        Case { name: "over_1_mib", bytes: pad_with_comments(&valid, 1024 * 1024 + 10), hard: &["too_large"], soft: &[] },
        Case { name: "header_bomb_60000", bytes: patch_dimensions(&valid, 60000, 60000), hard: &["wrong_size"], soft: &[] },
        Case {
            name: "header_bomb_with_garbage_scan",
            bytes: patch_dimensions(&garble_scan(&valid), 60000, 60000),
            hard: &["wrong_size"],
            soft: &[],
        },
    ];
    // Higher and lower JPEG quality of the valid photo pass too.
    for (name, q) in [("quality_75", 75u8), ("quality_98", 98)] {
        cases.push(Case { name, bytes: encode(&base, &Enc { quality: q, ..Enc::default() }), hard: &[], soft: &[] });
    }
    cases
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_photo_trips_exactly_its_codes() {
    let rules = Rules::default();
    let mut failures = Vec::new();
    for case in corpus() {
        let report = photo::check(&case.bytes, Stage::Senior, &rules);
        let (hard, soft) = (set(&report.codes()), set(&report.flags()));
        if hard != set(case.hard) || soft != set(case.soft) {
            failures.push(format!(
                "{} ({} bytes): want hard {:?} soft {:?}, got hard {:?} soft {:?}\n  {:#?}",
                case.name,
                case.bytes.len(),
                case.hard,
                case.soft,
                hard,
                soft,
                report.hard
            ));
        }
        for r in report.hard.iter().chain(&report.soft) {
            assert!(r.message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: message must be Chinese", case.name);
        }
    }
    assert!(failures.is_empty(), "{} photo(s) judged wrongly:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn messages_say_what_was_measured_and_what_is_wanted() {
    let rules = Rules::default();
    let r = photo::check(&encode(&portrait_sized(Look::default(), 300, 400), &Enc::default()), Stage::Senior, &rules);
    assert_eq!(r.hard[0].message, "照片尺寸应为 272×354 像素，当前为 300×400；请用剪裁（不要拉伸）调整到规定尺寸");
    let r = photo::check(&encode(&portrait(Look::default()), &Enc { density: PixelDensity::dpi(72), ..Enc::default() }), Stage::Senior, &rules);
    assert!(r.hard[0].message.contains("300 DPI") && r.hard[0].message.contains("当前为 72 DPI"), "{}", r.hard[0].message);
    let r = photo::check(&encode_png(&portrait(Look::default())), Stage::Senior, &rules);
    assert!(r.hard[0].message.contains("PNG"), "{}", r.hard[0].message);
}

#[test]
fn all_failing_rules_are_reported_together() {
    // 72 dpi, greyscale, grey background, phone EXIF: four findings at once.
    let mut l = Look::default();
    l.background = [180, 180, 180];
    let img = image::DynamicImage::ImageRgb8(portrait(l)).into_luma8(); // drawn: also no_face
    let rgb = image::DynamicImage::ImageLuma8(img).into_rgb8();
    let bytes = encode(&rgb, &Enc { density: PixelDensity::dpi(72), exif: Some(exif_block(Some("HUAWEI"), Some("ELS-AN00"), None)), ..Enc::default() });
    let r = photo::check(&bytes, Stage::Senior, &Rules::default());
    assert_eq!(set(&r.codes()), set(&["low_dpi", "not_colour", "background_not_white", "no_face"]));
    assert_eq!(r.flags(), vec!["phone_photo"]);
}

#[test]
fn phash_survives_reencoding_and_separates_different_pictures() {
    let rules = Rules::default();
    let base = base();
    let h = |b: &[u8]| photo::check(b, Stage::Senior, &rules).phash.expect("decoded photo has a hash");
    let a = h(&encode(&base, &Enc::default()));
    let b = h(&encode(&base, &Enc { quality: 70, ..Enc::default() }));
    let c = h(&encode(&base, &Enc { quality: 98, density: per_cm(118), ..Enc::default() }));
    assert!(phash::distance(a, b) <= 4, "re-encode at q70 moved {} bits", phash::distance(a, b));
    assert!(phash::distance(a, c) <= 4, "re-encode at q98 moved {} bits", phash::distance(a, c));
    let mirrored = image::imageops::flip_horizontal(&base);
    let mut shifted = image::RgbImage::from_pixel(272, 354, image::Rgb([255, 255, 255]));
    image::imageops::overlay(&mut shifted, &image::imageops::crop_imm(&base, 0, 40, 272, 314).to_image(), 0, 0);
    let synthetic = portrait(Look::default());
    for (name, other) in [("mirrored", mirrored), ("shifted up 40 px", shifted), ("drawn portrait", synthetic)] {
        let d = phash::distance(a, h(&encode(&other, &Enc::default())));
        assert!(d > 12, "{name}: only {d} bits apart");
    }
    // Undecodable photos have no hash.
    assert_eq!(photo::check(b"not a photo", Stage::Senior, &rules).phash, None);
}

#[test]
fn rules_deserialise_with_defaults_for_missing_fields() {
    let r: Rules = serde_json::from_str(r#"{"min_dpi": 350}"#).unwrap();
    assert_eq!(r.min_dpi, 350);
    assert_eq!(r.width, 272);
    let bytes = valid_bytes();
    assert_eq!(photo::check(&bytes, Stage::Senior, &r).codes(), vec!["low_dpi"]);
}

#[test]
fn with_face_detection_off_only_the_deterministic_rules_judge() {
    let rules = Rules { detect_faces: false, ..Rules::default() };
    let drawing = encode(&portrait(Look::default()), &Enc::default());
    let full = photo::check(&drawing, Stage::Senior, &Rules::default());
    assert_eq!(set(&full.codes()), set(&["no_face"]), "the drawing is no face to the detector");
    let deterministic = photo::check(&drawing, Stage::Senior, &rules);
    assert!(deterministic.passed(), "{:?}", deterministic.codes());
    assert_eq!(deterministic.phash, full.phash, "the same picture was judged");
    let blue = encode(&portrait(Look { background: [120, 170, 230], ..Look::default() }), &Enc::default());
    assert_eq!(set(&photo::check(&blue, Stage::Senior, &rules).codes()), set(&["background_not_white"]));
}

#[test]
fn the_sample_photo_on_the_upload_rules_page_passes_our_own_check() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/img/sample.jpg");
    let bytes = std::fs::read(path).expect("web/img/sample.jpg is in the repository");
    for stage in [Stage::Primary, Stage::Junior, Stage::Senior] {
        let report = photo::check(&bytes, stage, &Rules::default());
        assert!(report.passed() && report.soft.is_empty(), "{stage:?}: {:?} {:?}", report.codes(), report.flags());
    }
}
