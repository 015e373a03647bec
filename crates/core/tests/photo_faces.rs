//! Face detection and head geometry on the real-face corpus (`tests/corpus/`): two real people,
//! built by `make_corpus.py` (scikit-image's public-domain NASA astronaut portrait) and
//! `make_corpus_hopper.py` (matplotlib's public-domain US Navy portrait of Grace Hopper). Each
//! photo must trip exactly the listed codes at the listed stage — except the `KNOWN_MISSES`,
//! labelled with the truth, which the checker gets wrong today and which count against its
//! precision/recall.
//!
//! `precision_recall_per_code` prints the per-code table that docs/photo-checks.md quotes:
//!     cargo test -p gradphoto-core --test photo_faces -- --nocapture precision_recall

mod common;

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use std::collections::{BTreeMap, BTreeSet};

const ALL: [Stage; 3] = Stage::ALL;
const JUNIOR: [Stage; 1] = [Stage::Junior];

/// (file, stages it is checked at, expected hard codes).
const LABELS: &[(&str, &[Stage], &[&str])] = &[
    ("astronaut_valid.jpg", &ALL, &[]),
    ("astronaut_mirrored.jpg", &ALL, &[]),
    ("astronaut_smaller_head.jpg", &ALL, &[]),
    ("astronaut_larger_head.jpg", &ALL, &[]),
    ("astronaut_warm_white.jpg", &ALL, &[]),
    ("astronaut_white_suit.jpg", &ALL, &[]),
    ("astronaut_q95.jpg", &ALL, &[]),
    ("astronaut_back_of_head.jpg", &ALL, &["no_face"]),
    ("astronaut_two_people.jpg", &ALL, &["multiple_faces"]),
    ("astronaut_head_too_large.jpg", &ALL, &["head_too_large"]),
    ("astronaut_head_too_small.jpg", &ALL, &["head_too_small"]),
    ("astronaut_head_cropped_top.jpg", &ALL, &["head_cropped"]),
    ("astronaut_off_centre.jpg", &ALL, &["off_centre"]),
    ("astronaut_blurry.jpg", &ALL, &["blurry"]),
    ("astronaut_too_dark.jpg", &ALL, &["too_dark"]),
    ("astronaut_overexposed.jpg", &ALL, &["overexposed"]),
    ("astronaut_red_scarf.jpg", &JUNIOR, &["red_scarf"]),
    ("astronaut_red_scarf.jpg", &[Stage::Primary, Stage::Senior], &[]),
    ("astronaut_grey_background.jpg", &ALL, &["background_not_white"]),
    ("astronaut_blue_background.jpg", &ALL, &["background_not_white"]),
    ("astronaut_pale_blue_background.jpg", &ALL, &["background_not_white"]),
    ("astronaut_shadowed_corner.jpg", &ALL, &["background_not_white"]),
    // The second person: older, glasses, a dark cap and uniform.
    ("hopper_valid.jpg", &ALL, &[]),
    ("hopper_mirrored.jpg", &ALL, &[]),
    ("hopper_warm_white.jpg", &ALL, &[]),
    ("hopper_head_too_large.jpg", &ALL, &["head_too_large"]),
    ("hopper_off_centre.jpg", &ALL, &["off_centre"]),
    ("hopper_blurry.jpg", &ALL, &["blurry"]),
    ("hopper_too_dark.jpg", &ALL, &["too_dark"]),
    // The fast pass sees Hopper's face only (it cannot see one under ~100 px); the astronaut
    // beside her darkens the rows beside the head, so the full scan looks again and finds her.
    ("two_people_side_by_side.jpg", &[Stage::Senior], &["multiple_faces"]),
    // A ~45 px face in a corner, below the full scan's smallest (~80 px): the same hint sends the
    // photo-size scan (from 40 px) to look beside the head.
    ("two_people_one_small.jpg", &[Stage::Senior], &["multiple_faces"]),
];

/// Photos the checker judges wrongly today, labelled with the truth. Each is asserted to still
/// be wrong (so a fix shows up as a failing test that says: move it to `LABELS`).
const KNOWN_MISSES: &[(&str, &[Stage], &[&str], &str)] = &[
    (
        "hopper_original_backdrop.jpg",
        &[Stage::Senior],
        &["background_not_white"],
        "also head_cropped: the head's sides are found by scanning out from the face until the backdrop colour of the top corners; her backdrop is a flag on one side and blue on the other, so the scan runs to both edges (and background_not_white is then reported because no backdrop pixel is left to measure)",
    ),
    (
        "two_people_large_pair.jpg",
        &[Stage::Senior],
        &["multiple_faces"],
        "both faces are found, but the two heads' exclusions cover the whole background band, and a band with no visible pixel fails as background_not_white (kept on purpose: with the heads' sides measured wrongly on a coloured backdrop, an empty band is the only sign of it, see hopper_original_backdrop)",
    ),
];

fn read(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run crates/core/tests/corpus/make_corpus.py)", path.display()))
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Every labelled check: (name, stage, expected, got).
fn run_all() -> Vec<(String, Stage, BTreeSet<String>, BTreeSet<String>)> {
    let rules = Rules::default();
    let mut out = Vec::new();
    let misses = KNOWN_MISSES.iter().map(|(file, stages, want, _)| (file, stages, want));
    for (file, stages, want) in LABELS.iter().map(|(f, s, w)| (f, s, w)).chain(misses) {
        let bytes = read(file);
        for &stage in *stages {
            let r = photo::check(&bytes, stage, &rules);
            out.push((file.to_string(), stage, set(want), set(&r.codes())));
        }
    }
    // The drawn portrait is not a face.
    let drawn = common::encode(&common::portrait(common::Look::default()), &common::Enc::default());
    let r = photo::check(&drawn, Stage::Senior, &rules);
    out.push(("synthetic_drawn_portrait".into(), Stage::Senior, set(&["no_face"]), set(&r.codes())));
    out
}

#[test]
fn every_real_face_photo_trips_exactly_its_codes() {
    let misses: BTreeSet<&str> = KNOWN_MISSES.iter().map(|m| m.0).collect();
    let bad: Vec<String> = run_all()
        .into_iter()
        .filter(|(name, _, want, got)| want != got && !misses.contains(name.as_str()))
        .map(|(name, stage, want, got)| format!("{name} @ {}: want {want:?}, got {got:?}", stage.as_str()))
        .collect();
    assert!(bad.is_empty(), "{} photo(s) judged wrongly:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn known_misses_are_still_missed() {
    let rules = Rules::default();
    for (file, stages, want, why) in KNOWN_MISSES {
        for &stage in *stages {
            let got = set(&photo::check(&read(file), stage, &rules).codes());
            assert_ne!(got, set(want), "{file} is now judged right ({why}): move it to LABELS");
            println!("known miss {file}: want {want:?}, got {got:?} — {why}");
        }
    }
}

#[test]
fn every_face_code_has_a_photo_that_trips_only_it() {
    let codes = ["no_face", "multiple_faces", "head_too_large", "head_too_small", "head_cropped", "off_centre", "blurry",
        "too_dark", "overexposed", "red_scarf", "background_not_white"];
    for code in codes {
        assert!(LABELS.iter().any(|(_, _, want)| *want == [code]), "no photo trips only {code}");
    }
}

#[test]
fn messages_name_the_measurement_and_the_wanted_range() {
    let rules = Rules::default();
    let r = photo::check(&read("astronaut_head_too_large.jpg"), Stage::Senior, &rules);
    let m = &r.hard[0].message;
    assert!(m.contains("大头照") && m.contains("45%–82%"), "{m}");
    let r = photo::check(&read("astronaut_off_centre.jpg"), Stage::Senior, &rules);
    assert!(r.hard[0].message.contains("偏右"), "{}", r.hard[0].message);
    let r = photo::check(&read("astronaut_red_scarf.jpg"), Stage::Junior, &rules);
    assert!(r.hard[0].message.contains("红领巾"), "{}", r.hard[0].message);
}

#[test]
fn duplicate_hashes_tell_reencodes_from_other_photos() {
    let rules = Rules::default();
    let h = |n: &str| photo::check(&read(n), Stage::Senior, &rules).phash.unwrap();
    let (valid, q95) = (h("astronaut_valid.jpg"), h("astronaut_q95.jpg"));
    let d = photo::phash::distance(valid, q95);
    assert!(d <= gradphoto_core::upload::DUPLICATE_DISTANCE, "q70 vs q95 of the same photo: {d} bits");
    for other in ["astronaut_mirrored.jpg", "astronaut_smaller_head.jpg", "astronaut_two_people.jpg"] {
        let d = photo::phash::distance(valid, h(other));
        assert!(d > gradphoto_core::upload::DUPLICATE_DISTANCE, "{other}: only {d} bits from the valid photo");
    }
}

#[test]
fn precision_recall_per_code() {
    let mut tp: BTreeMap<String, u32> = BTreeMap::new();
    let mut fp: BTreeMap<String, u32> = BTreeMap::new();
    let mut fneg: BTreeMap<String, u32> = BTreeMap::new();
    let results = run_all();
    for (_, _, want, got) in &results {
        for c in got.union(want) {
            let e = match (want.contains(c), got.contains(c)) {
                (true, true) => &mut tp,
                (false, true) => &mut fp,
                _ => &mut fneg,
            };
            *e.entry(c.clone()).or_default() += 1;
        }
    }
    let codes: BTreeSet<&String> = tp.keys().chain(fp.keys()).chain(fneg.keys()).collect();
    println!("{} labelled checks", results.len());
    println!("| code | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|");
    for c in codes {
        let (t, f, n) = (tp.get(c).copied().unwrap_or(0), fp.get(c).copied().unwrap_or(0), fneg.get(c).copied().unwrap_or(0));
        let p = if t + f == 0 { 1.0 } else { f64::from(t) / f64::from(t + f) };
        let r = if t + n == 0 { 1.0 } else { f64::from(t) / f64::from(t + n) };
        println!("| `{c}` | {t} | {f} | {n} | {p:.2} | {r:.2} |");
    }
}
