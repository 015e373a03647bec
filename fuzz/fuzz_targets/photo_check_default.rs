//! Arbitrary bytes through the whole photo check with the production rules (272×354). A
//! decodable input costs a full face scan, so each input is checked once, for one stage: the
//! stage only decides the scarf rule, and taking it from the length lets every seed reach all
//! three without a prefix byte that would stop it being a JPEG.
#![no_main]

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::default);

fuzz_target!(|data: &[u8]| {
    let stage = [Stage::Primary, Stage::Junior, Stage::Senior][data.len() % 3];
    let report = photo::check(data, stage, &RULES);
    for r in report.hard.iter().chain(&report.soft) {
        assert!(!r.code.is_empty() && !r.message.is_empty(), "empty reason {r:?}");
    }
});
