//! 自动裁剪's cost beside the check's: a suggestion for a 600×800 studio original (a real
//! person's valid photo placed small and off-centre on a white canvas) and one full check of a
//! valid 272×354 photo, measured side by side in one run. The bar: a suggestion in at
//! most 2× one check.
//! Run: cargo bench -p gradphoto-core --bench crop -- --warm-up-time 2 --measurement-time 5

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules, crop};
use image::{Rgb, RgbImage};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let rules = Rules::default();
    let photo = image::load_from_memory(include_bytes!("../tests/corpus/obama_valid.jpg")).unwrap().to_rgb8();
    let valid = common::encode(&photo, &common::Enc::default());
    assert!(photo::check(&valid, Stage::Senior, &rules).passed(), "the bench photo must be a valid one");
    let mut canvas = RgbImage::from_pixel(600, 800, Rgb([252, 252, 252]));
    image::imageops::overlay(&mut canvas, &photo, 40, 380);
    let original = common::encode(&canvas, &common::Enc::default());
    let (s, out) = crop::crop(&original, Stage::Senior, &rules).expect("a suggestion");
    assert!(s.findings.is_empty() && photo::check(&out, Stage::Senior, &rules).passed(), "the suggestion must make a valid photo");

    let mut g = c.benchmark_group("crop_vs_check");
    g.bench_function("check_272x354", |b| b.iter(|| photo::check(black_box(&valid), Stage::Senior, &rules)));
    g.bench_function("suggest_600x800", |b| b.iter(|| crop::suggest(black_box(&original), Stage::Senior, &rules).unwrap()));
    g.bench_function("decode_600x800", |b| b.iter(|| photo::picture::decode(black_box(&original), 600, 800).unwrap()));
    g.bench_function("crop_and_encode_600x800", |b| b.iter(|| crop::crop(black_box(&original), Stage::Senior, &rules).unwrap()));
    g.finish();

    // Its parts on the original, to see what dominates.
    let pic = photo::picture::decode(&original, 600, 800).unwrap();
    let grey = pic.luma();
    let scan = crop::scan_rules(&rules, 600);
    let faces = photo::face::detect(&grey, 600, 800, &scan);
    let mut p = c.benchmark_group("crop_parts");
    p.bench_function("grey_600x800", |b| b.iter(|| black_box(&pic).grey_and_colour(18)));
    p.bench_function("face_detect_600x800", |b| b.iter(|| photo::face::detect(black_box(&grey), 600, 800, &scan)));
    p.bench_function("head_600x800", |b| b.iter(|| photo::face::measure_head(black_box(&pic), &faces[0], &rules, true)));
    p.bench_function("landmarks_600x800", |b| b.iter(|| photo::landmarks::locate(black_box(&pic), &faces[0])));
    let rect = crop::suggest(&original, Stage::Senior, &rules).unwrap().crop;
    p.bench_function("render_to_272x354", |b| b.iter(|| crop::render(black_box(&pic), rect, &rules)));
    let fast_only = photo::Rules { face_detect_width: 0, ..scan.clone() };
    p.bench_function("face_detect_fast_pass_only", |b| b.iter(|| photo::face::detect(black_box(&grey), 600, 800, &fast_only)));
    p.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
