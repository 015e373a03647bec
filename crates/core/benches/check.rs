//! The full `photo::check` (face detection included) on a valid 272×354 JPEG beside a bare
//! decode of the same file, and the check's parts.
//! Run: cargo bench -p gradphoto-core --bench check -- --warm-up-time 1 --measurement-time 3

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    // The real-face fixture, re-encoded at q90 with 300 dpi (≈ 20 KB): the full check runs
    // every rule, face detection included.
    let base = image::load_from_memory(include_bytes!("../tests/corpus/astronaut_valid.jpg")).unwrap().to_rgb8();
    let bytes = common::encode(&base, &common::Enc::default());
    let rules = Rules::default();
    assert!(photo::check(&bytes, Stage::Senior, &rules).passed(), "the bench photo must be a valid one");
    let bomb = common::patch_dimensions(&bytes, 60000, 60000);

    let mut g = c.benchmark_group("photo_272x354");
    g.bench_function("image_decode", |b| {
        b.iter(|| image::load_from_memory_with_format(black_box(&bytes), image::ImageFormat::Jpeg).unwrap())
    });
    g.bench_function("strict_decode", |b| b.iter(|| photo::picture::decode(black_box(&bytes), 272, 354).unwrap()));
    g.bench_function("check", |b| b.iter(|| photo::check(black_box(&bytes), Stage::Senior, &rules)));
    // Issue 2's yardstick: the deterministic rules alone, against the bare decode above.
    let deterministic = Rules { detect_faces: false, ..Rules::default() };
    g.bench_function("check_deterministic", |b| b.iter(|| photo::check(black_box(&bytes), Stage::Senior, &deterministic)));
    g.bench_function("check_header_bomb_60000", |b| b.iter(|| photo::check(black_box(&bomb), Stage::Senior, &rules)));
    g.finish();

    // The parts of `check`, to see what dominates.
    let pic = photo::picture::decode(&bytes, 272, 354).unwrap();
    let grey = pic.luma();
    let mut p = c.benchmark_group("check_parts");
    p.bench_function("header_walk", |b| b.iter(|| photo::jpeg::parse(black_box(&bytes)).unwrap()));
    p.bench_function("grey_and_colour", |b| b.iter(|| black_box(&pic).grey_and_colour(18)));
    p.bench_function("background", |b| b.iter(|| photo::background::measure(black_box(&pic), &rules, &[])));
    p.bench_function("face_detect", |b| b.iter(|| photo::face::detect(black_box(&grey), 272, 354, &rules)));
    // The full scan alone (fast pass off): what a photo pays when the fast pass finds no
    // valid-sized face (no face, a small head, a second small face), on top of the fast pass.
    let full_only = Rules { face_fast_width: 0, ..Rules::default() };
    p.bench_function("face_detect_full_scan", |b| b.iter(|| photo::face::detect(black_box(&grey), 272, 354, &full_only)));
    // A photo the fast pass rejects (face ≈ 72 px): fast pass + full scan.
    let small_head = photo::picture::decode(include_bytes!("../tests/corpus/astronaut_head_too_small.jpg"), 272, 354).unwrap().luma();
    p.bench_function("face_detect_small_head_fallback", |b| {
        b.iter(|| photo::face::detect(black_box(&small_head), 272, 354, &rules))
    });
    let faces = photo::face::detect(&grey, 272, 354, &rules);
    p.bench_function("head_blur_exposure_scarf", |b| {
        b.iter(|| {
            let f = &faces[0];
            let h = photo::face::measure_head(black_box(&pic), f, &rules, true);
            (photo::face::sharpness(&grey, 272, 354, f), photo::face::face_luma(&grey, 272, 354, f), photo::scarf::measure(&pic, f, &h, photo::scarf::Colour::Red, &rules).centre)
        })
    });
    p.bench_function("landmarks", |b| b.iter(|| photo::landmarks::locate(black_box(&pic), &faces[0])));
    p.bench_function("phash", |b| b.iter(|| photo::phash::phash(black_box(&grey), 272, 354)));
    p.finish();

    // Paid once per process (a Lambda's cold start, the server's first check), not per photo.
    let mut once = c.benchmark_group("model_load");
    once.bench_function("landmark_model_parse", |b| b.iter(photo::landmarks::parse_embedded_model));
    once.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
