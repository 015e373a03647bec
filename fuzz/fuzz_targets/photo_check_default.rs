//! Arbitrary bytes through the whole photo check with the production rules (272×354), for
//! every stage. A decodable input costs a full face scan, so this target runs far fewer
//! executions than `photo_check`; it guards the real configuration.
#![no_main]

use gradphoto_core::Stage;
use gradphoto_core::photo::{self, Rules};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::default);

fuzz_target!(|data: &[u8]| {
    for stage in [Stage::Primary, Stage::Junior, Stage::Senior] {
        let report = photo::check(data, stage, &RULES);
        for r in report.hard.iter().chain(&report.soft) {
            assert!(!r.code.is_empty() && !r.message.is_empty(), "empty reason {r:?}");
        }
    }
});
