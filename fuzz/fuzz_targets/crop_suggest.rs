//! Arbitrary bytes through the crop suggestion (自动裁剪) with the production rules: an original
//! of any size up to the limits is decoded, scanned, framed and its render judged. A refusal
//! must carry a code and a Chinese message; a suggestion must be a rectangle inside the
//! original with the output's aspect to within a pixel, never upscaled past the limit.
#![no_main]

use gradphoto_core::Stage;
use gradphoto_core::photo::{Rules, crop};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::default);

fuzz_target!(|data: &[u8]| {
    let stage = [Stage::Primary, Stage::Junior, Stage::Senior][data.len() % 3];
    match crop::suggest(data, stage, &RULES) {
        Ok(s) => {
            let c = s.crop;
            assert!(c.w > 0 && c.h > 0 && c.x + c.w <= s.width && c.y + c.h <= s.height, "{s:?}");
            assert!((i64::from(c.w) * 354 - i64::from(c.h) * 272).abs() <= 354, "{s:?}");
            assert!(s.scale <= RULES.crop_max_upscale, "{s:?}");
        }
        Err(e) => {
            let r = e.reason(&RULES);
            assert!(!r.code.is_empty() && !r.message.is_empty(), "{e:?}");
        }
    }
});
