//! Arbitrary bytes through the whole photo check, for every stage: it must return a report,
//! never panic, and stay within libFuzzer's RSS and time limits.
#![no_main]

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::default);

fuzz_target!(|data: &[u8]| {
    for stage in [Stage::Primary, Stage::Junior, Stage::Senior] {
        let report = photo::check(data, stage, &RULES);
        // Invariants the callers rely on: a rejected photo says why, in a stable code.
        for r in report.hard.iter().chain(&report.soft) {
            assert!(!r.code.is_empty() && !r.message.is_empty(), "empty reason {r:?}");
        }
        if !report.passed() {
            assert!(!report.codes().is_empty());
        }
    }
});
