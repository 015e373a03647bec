//! Today's check on two held-out real people: the defaults were calibrated on the astronaut and
//! Grace Hopper (`photo_faces.rs`'s corpus); Barack Obama and Joe Biden
//! (`tests/corpus/make_corpus_people.py`, official portraits shipped in the `face_recognition`
//! 1.3.0 PyPI package, public domain) were looked at only afterwards. Each photo must trip
//! exactly the listed hard codes and soft flags at the listed stages — except the known misses,
//! which are asserted to stay wrong (with why), so a fix shows and nothing hides.
//!
//! `precision_recall` prints the per-code table that docs/photo-checks.md quotes:
//!     cargo test -p gradphoto-core --test photo_people -- --nocapture precision_recall

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use std::collections::{BTreeMap, BTreeSet};

const ALL: &[Stage] = &Stage::ALL;
const SENIOR: &[Stage] = &[Stage::Senior];
const JUNIOR: &[Stage] = &[Stage::Junior];
const PRIMARY: &[Stage] = &[Stage::Primary];
const NOT_JUNIOR: &[Stage] = &[Stage::Primary, Stage::Senior];
const NOT_PRIMARY: &[Stage] = &[Stage::Junior, Stage::Senior];

/// (file, stages, hard codes, soft flags).
type Label = (&'static str, &'static [Stage], &'static [&'static str], &'static [&'static str]);
type Owned = (String, &'static [Stage], &'static [&'static str], &'static [&'static str]);

/// The derived cases, the same for each person (what a trained reviewer would say).
fn cases(person: &str) -> Vec<Owned> {
    let table: &[Label] = &[
        ("valid", ALL, &[], &[]),
        ("mirrored", ALL, &[], &[]),
        ("smaller_head", ALL, &[], &[]),
        ("larger_head", ALL, &[], &[]),
        // 大头照 with the crown cut: both reasons.
        ("head_too_large", SENIOR, &["head_too_large", "head_cropped"], &[]),
        // A full-length figure, face ≈ 40 px.
        ("head_too_small", SENIOR, &["head_too_small"], &[]),
        ("off_centre", SENIOR, &["off_centre"], &[]),
        // Camera shake (an 11 px horizontal smear), not defocus.
        ("shaken", SENIOR, &["blurry"], &[]),
        ("overexposed", SENIOR, &["overexposed"], &[]),
        // Stretched 1.4× sideways and cropped back to size.
        ("stretched", SENIOR, &[], &["possibly_stretched"]),
        // A knotted triangle below the chin (drawn: no package ships a photo of a scarf).
        ("red_scarf", JUNIOR, &["red_scarf"], &[]),
        ("red_scarf", NOT_JUNIOR, &[], &[]),
        ("green_scarf", PRIMARY, &["green_scarf"], &[]),
        ("green_scarf", NOT_PRIMARY, &[], &[]),
        // A burgundy suit, no knot: no scarf at any stage.
        ("burgundy_top", ALL, &[], &[]),
    ];
    table.iter().map(|(case, stages, hard, soft)| (format!("{person}_{case}.jpg"), *stages, *hard, *soft)).collect()
}

const SCENES: &[Label] = &[
    ("obama_biden_side_by_side.jpg", SENIOR, &["multiple_faces"], &[]),
    // The second head sits in the top corner: the backdrop there is not white either.
    ("obama_with_small_face_beside.jpg", SENIOR, &["multiple_faces", "background_not_white"], &[]),
];

/// Photos today's check judges wrongly, with why. The photo-judgement issue is about these.
const KNOWN_MISSES: &[(&str, &str)] = &[
    ("biden_head_too_large.jpg", "head_too_large and head_cropped as wanted, but also background_not_white: the grey halo GrabCut left around his white hair"),
    ("biden_overexposed.jpg", "blurry instead of overexposed: washed-out skin loses its detail, and its mean luma stays inside the band"),
    ("biden_stretched.jpg", "possibly_stretched as wanted, but also background_not_white from the stretched hair halo"),
    ("obama_with_small_face_beside.jpg", "multiple_faces as wanted, but not background_not_white: once the second head is found, its own exclusion hides the corner it darkens"),
];

fn read(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run crates/core/tests/corpus/make_corpus_people.py)", path.display()))
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

struct Outcome {
    file: String,
    stage: Stage,
    want: BTreeSet<String>,
    got: BTreeSet<String>,
}

fn run(labels: &[Owned]) -> Vec<Outcome> {
    let rules = Rules::default();
    let mut out = Vec::new();
    for (file, stages, hard, soft) in labels {
        let bytes = read(file);
        for &stage in *stages {
            let r = photo::check(&bytes, stage, &rules);
            let got: BTreeSet<String> = r.hard.iter().chain(&r.soft).map(|x| x.code.clone()).collect();
            let want: BTreeSet<String> = set(hard).union(&set(soft)).cloned().collect();
            out.push(Outcome { file: file.clone(), stage, want, got });
        }
    }
    out
}

fn labels() -> Vec<Owned> {
    let mut labels = cases("obama");
    labels.extend(cases("biden"));
    labels.extend(SCENES.iter().map(|(f, s, h, w)| (f.to_string(), *s, *h, *w)));
    labels
}

fn is_known_miss(file: &str) -> bool {
    KNOWN_MISSES.iter().any(|m| m.0 == file)
}

#[test]
fn held_out_people_trip_exactly_their_codes() {
    let bad: Vec<String> = run(&labels())
        .into_iter()
        .filter(|o| o.want != o.got && !is_known_miss(&o.file))
        .map(|o| format!("{} @ {}: want {:?}, got {:?}", o.file, o.stage.as_str(), o.want, o.got))
        .collect();
    assert!(bad.is_empty(), "{} photo(s) judged wrongly:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn known_misses_are_still_missed() {
    let labels: Vec<Owned> = labels().into_iter().filter(|l| is_known_miss(&l.0)).collect();
    assert_eq!(labels.iter().map(|l| l.0.as_str()).collect::<BTreeSet<_>>().len(), KNOWN_MISSES.len(), "every known miss is a labelled photo");
    for o in run(&labels) {
        assert_ne!(o.want, o.got, "{} @ {} is now judged right: drop it from KNOWN_MISSES", o.file, o.stage.as_str());
    }
}

/// The scarf rule is about the scarf, not the shirt: a knotted triangle trips its stage's
/// colour only; a burgundy suit (red on the shoulders too) trips nothing.
#[test]
fn scarves_by_stage_and_not_a_red_top() {
    let rules = Rules::default();
    for person in ["obama", "biden"] {
        for (case, stage, want) in [
            ("red_scarf", Stage::Junior, Some("red_scarf")),
            ("green_scarf", Stage::Primary, Some("green_scarf")),
            ("red_scarf", Stage::Primary, None),
            ("green_scarf", Stage::Junior, None),
            ("burgundy_top", Stage::Junior, None),
            ("burgundy_top", Stage::Primary, None),
        ] {
            let file = format!("{person}_{case}.jpg");
            let r = photo::check(&read(&file), stage, &rules);
            let codes: Vec<&str> = r.hard.iter().map(|x| x.code.as_str()).collect();
            assert_eq!(codes, want.into_iter().collect::<Vec<_>>(), "{file} @ {}", stage.as_str());
        }
    }
    let r = photo::check(&read("obama_green_scarf.jpg"), Stage::Primary, &rules);
    assert!(r.hard[0].message.contains("小学毕业生照片不允许佩戴绿领巾") && r.hard[0].message.contains("%"), "{}", r.hard[0].message);
}

fn table(title: &str, results: &[Outcome]) {
    let (mut tp, mut fp, mut fneg): (BTreeMap<String, u32>, BTreeMap<String, u32>, BTreeMap<String, u32>) = Default::default();
    for o in results {
        for c in o.got.union(&o.want) {
            let e = match (o.want.contains(c), o.got.contains(c)) {
                (true, true) => &mut tp,
                (false, true) => &mut fp,
                _ => &mut fneg,
            };
            *e.entry(c.clone()).or_default() += 1;
        }
    }
    let exact = results.iter().filter(|o| o.want == o.got).count();
    println!("\n{title}: {} labelled checks (photo × stage), {exact} exactly right", results.len());
    println!("| code | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|");
    let codes: BTreeSet<&String> = tp.keys().chain(fp.keys()).chain(fneg.keys()).collect();
    for c in codes {
        let (t, f, n) = (tp.get(c).copied().unwrap_or(0), fp.get(c).copied().unwrap_or(0), fneg.get(c).copied().unwrap_or(0));
        let p = if t + f == 0 { 1.0 } else { f64::from(t) / f64::from(t + f) };
        let r = if t + n == 0 { 1.0 } else { f64::from(t) / f64::from(t + n) };
        println!("| `{c}` | {t} | {f} | {n} | {p:.2} | {r:.2} |");
    }
}

#[test]
fn precision_recall() {
    table("held-out people (Obama, Biden)", &run(&labels()));
}

/// The landmarks land on the eyes: Obama's and Biden's valid photos, their eye centres
/// measured by hand on the pictures (±4 px), and the roll Biden's portrait really has.
#[test]
fn landmarks_find_the_eyes_of_real_people() {
    let rules = Rules::default();
    // (file, eye line, eye distance, roll) read off the photos by eye.
    for (file, eye_line, distance, roll) in [
        ("obama_valid.jpg", 126.0, 57.0, -1.0),
        ("biden_valid.jpg", 140.0, 56.0, 12.0),
    ] {
        let g = photo::check_explained(&read(file), Stage::Senior, &rules).geometry;
        let g = g.unwrap_or_else(|| panic!("{file}: no geometry"));
        assert!(
            (g.eye_line - eye_line).abs() <= 4.0,
            "{file}: eye line {}",
            g.eye_line
        );
        assert!(
            (g.eye_distance - distance).abs() <= 4.0,
            "{file}: eye distance {}",
            g.eye_distance
        );
        assert!(
            (g.roll_degrees - roll).abs() <= 3.0,
            "{file}: roll {}",
            g.roll_degrees
        );
        assert!(
            g.landmarks.left_eye_centre().x < g.landmarks.nose.x
                && g.landmarks.nose.x < g.landmarks.right_eye_centre().x
        );
        assert!(
            g.landmarks.nose.y > g.eye_line + 20.0,
            "{file}: the nose sits below the eyes"
        );
    }
}

/// Scaling a photo uniformly (the larger/smaller-head cases are the valid photo rescaled)
/// keeps the face's proportions: never `possibly_stretched`, and the measure moves by under
/// 5 %; stretching sideways raises it, and its message carries the evidence.
#[test]
fn only_a_stretched_face_is_flagged_stretched() {
    let rules = Rules::default();
    let ratio = |file: &str| {
        let r = photo::check_explained(&read(file), Stage::Senior, &rules);
        let g = r.geometry;
        (
            r,
            g.unwrap_or_else(|| panic!("{file}: no geometry"))
                .width_to_height,
        )
    };
    for person in ["obama", "biden", "astronaut", "hopper"] {
        let (_, base) = ratio(&format!("{person}_valid.jpg"));
        for case in [
            "larger_head",
            "smaller_head",
            "mirrored",
            "off_centre",
            "head_too_large",
        ] {
            let file = format!("{person}_{case}.jpg");
            if !std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus")
                .join(&file)
                .exists()
            {
                continue;
            }
            let (r, w) = ratio(&file);
            assert!(!r.flags().contains(&"possibly_stretched"), "{file}: {w}");
            assert!((w / base - 1.0).abs() < 0.05, "{file}: {w} against {base}");
        }
    }
    for file in ["obama_stretched.jpg", "biden_stretched.jpg"] {
        let (r, w) = ratio(file);
        let flag = r
            .soft
            .iter()
            .find(|x| x.code == "possibly_stretched")
            .unwrap_or_else(|| panic!("{file}: {w} not flagged"));
        assert!(
            flag.message.contains("横向拉宽") && flag.message.contains(&format!("{w:.2} 倍")),
            "{}",
            flag.message
        );
    }
}

/// A valid photo moved down in its frame (white above, the bottom cut): the eye line passes
/// 188 px and the reason says by how much; nothing else changes.
#[test]
fn a_head_set_low_is_told_with_the_eye_line() {
    let rules = Rules::default();
    let r = photo::check_explained(&shifted("obama_valid.jpg", 75), Stage::Senior, &rules);
    let g = r.geometry;
    assert_eq!(r.codes(), ["off_centre"], "{:?}", r.hard);
    let eye = g.unwrap().eye_line;
    assert!(eye > 188.0, "{eye}");
    assert!(
        r.hard[0]
            .message
            .contains(&format!("眼睛距照片顶部 {eye:.0} 像素，应不超过 188 像素")),
        "{}",
        r.hard[0].message
    );
    // The same photo where it was: no position finding.
    assert!(photo::check(&read("obama_valid.jpg"), Stage::Senior, &rules).passed());
}

#[test]
fn a_head_set_low_with_its_eyes_in_place_is_told_with_the_crown() {
    let rules = Rules::default();
    let r = photo::check_explained(&shifted("obama_valid.jpg", 45), Stage::Senior, &rules);
    let g = r.geometry;
    let g = g.unwrap();
    assert!(g.eye_line <= rules.eye_line_max, "the eye line alone would pass it: {}", g.eye_line);
    assert!(g.crown as f32 > rules.crown_reject_above, "{}", g.crown);
    assert_eq!(r.codes(), ["off_centre"], "{:?}", r.hard);
    let expected = format!("头顶距照片上边缘 {} 像素，应在 6–17 像素左右（不超过 64 像素）", g.crown);
    assert!(r.hard[0].message.contains(&expected), "{}", r.hard[0].message);
}

#[test]
fn a_crown_against_the_top_edge_is_told_to_leave_room() {
    let rules = Rules::default();
    // Moved up until 1–2 px of backdrop are left above the hair: not touching, no room either.
    let r = photo::check_explained(&shifted("obama_valid.jpg", -23), Stage::Senior, &rules);
    let g = r.geometry;
    let crown = g.unwrap().crown;
    assert!((2..3).contains(&crown), "{crown}");
    assert_eq!(r.codes(), ["head_cropped"], "{:?}", r.hard);
    assert!(r.hard[0].message.contains(&format!("头顶距照片上边缘只有 {crown} 像素")), "{}", r.hard[0].message);
}

/// A committed photo with its content moved `dy` px down (negative: up), white filling the gap:
/// the same head, placed elsewhere in the frame.
fn shifted(name: &str, dy: i64) -> Vec<u8> {
    let img = image::load_from_memory(&read(name)).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let mut out = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    let d = dy.unsigned_abs() as u32;
    if dy >= 0 {
        image::imageops::replace(&mut out, &image::imageops::crop_imm(&img, 0, 0, w, h - d).to_image(), 0, dy);
    } else {
        image::imageops::replace(&mut out, &image::imageops::crop_imm(&img, 0, d, w, h - d).to_image(), 0, 0);
    }
    let mut bytes = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(300));
    enc.encode_image(&out).unwrap();
    bytes
}

