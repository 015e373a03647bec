//! Arbitrary bytes through the whole photo check, every stage: it must return a report, never
//! panic, and stay within libFuzzer's RSS and time limits.
//!
//! The first byte picks the stage and the wanted photo size (a campaign may configure it)
//! from small ones, so that a file the fuzzer makes decodable runs the whole pixel pipeline
//! (decode, faces, head, background, hash) in about a millisecond (the instrumented face
//! detector dominates); the rest of the input is the file.
//! `photo_check_default` runs the production 272×354 rules on the same bytes, much slower.
#![no_main]

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use libfuzzer_sys::fuzz_target;

const SIZES: [(u32, u32); 4] = [(16, 21), (24, 31), (32, 42), (40, 52)];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else { return };
    let (width, height) = SIZES[usize::from(pick) % SIZES.len()];
    let stage = [Stage::Primary, Stage::Junior, Stage::Senior][usize::from(pick / 4) % 3];
    let rules = Rules { width, height, ..Rules::default() };
    let report = photo::check(file, stage, &rules);
    // Invariants the callers rely on: a rejected photo says why, in a stable code.
    for r in report.hard.iter().chain(&report.soft) {
        assert!(!r.code.is_empty() && !r.message.is_empty(), "empty reason {r:?}");
    }
});
