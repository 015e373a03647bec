//! `background_not_white`: the band above and beside the head — the top strip and the upper
//! side strips — must be near-white, uniform and unshadowed. Nothing below the shoulders line
//! is looked at, so a white shirt can neither fail nor pass a photo.

use super::Rules;
use super::picture::{Picture, luma};

/// A pixel rectangle, half-open: x0..x1, y0..y1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    fn contains(&self, x: usize, y: usize) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
}

/// What was measured on the band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    /// Share of band pixels that are white (bright, neutral or warm, not bluish).
    pub white_fraction: f32,
    pub mean_luma: f32,
    /// Brightest minus darkest cell mean luma.
    pub spread: f32,
    /// Mean of B − (R+G)/2 over the band: positive is a bluish backdrop.
    pub blue_cast: f32,
    pub pixels: usize,
}

const TOP_CELLS: usize = 6;
const SIDE_CELLS: usize = 3;

/// The band's cells: the top strip cut into `TOP_CELLS` across, each side strip into
/// `SIDE_CELLS` down.
pub fn cells(w: usize, h: usize, rules: &Rules) -> Vec<Rect> {
    let th = ((h as f32 * rules.bg_top_fraction).round() as usize).clamp(1, h);
    let sw = ((w as f32 * rules.bg_side_fraction).round() as usize).clamp(1, w / 2);
    let sd = ((h as f32 * rules.bg_side_depth).round() as usize).clamp(th, h);
    let mut out = Vec::with_capacity(TOP_CELLS + 2 * SIDE_CELLS);
    for i in 0..TOP_CELLS {
        out.push(Rect { x0: w * i / TOP_CELLS, x1: w * (i + 1) / TOP_CELLS, y0: 0, y1: th });
    }
    for i in 0..SIDE_CELLS {
        let (y0, y1) = (th + (sd - th) * i / SIDE_CELLS, th + (sd - th) * (i + 1) / SIDE_CELLS);
        out.push(Rect { x0: 0, x1: sw, y0, y1 });
        out.push(Rect { x0: w - sw, x1: w, y0, y1 });
    }
    out.retain(|r| r.x1 > r.x0 && r.y1 > r.y0);
    out
}

/// Measures the band, skipping pixels inside `exclude` (the heads, when found).
pub fn measure(pic: &Picture, rules: &Rules, exclude: &[Rect]) -> Background {
    let (mut white, mut total, mut luma_sum, mut cast_sum) = (0usize, 0usize, 0u64, 0i64);
    let (mut lo, mut hi) = (f32::MAX, f32::MIN);
    for cell in cells(pic.width, pic.height, rules) {
        let (mut n, mut sum) = (0usize, 0u64);
        for y in cell.y0..cell.y1 {
            for x in cell.x0..cell.x1 {
                if exclude.iter().any(|r| r.contains(x, y)) {
                    continue;
                }
                let [r, g, b] = pic.px(x, y);
                let l = luma(r, g, b);
                let chroma = r.max(g).max(b) - r.min(g).min(b);
                let cast = i16::from(b) - ((i16::from(r) + i16::from(g)) / 2);
                if l >= rules.bg_min_luma && chroma <= rules.bg_max_chroma && cast <= rules.bg_max_blue_cast {
                    white += 1;
                }
                n += 1;
                sum += u64::from(l);
                cast_sum += i64::from(cast);
            }
        }
        total += n;
        luma_sum += sum;
        // A cell mostly hidden by the head says little about shadows.
        let area = (cell.x1 - cell.x0) * (cell.y1 - cell.y0);
        if n * 4 >= area && n > 0 {
            let mean = sum as f32 / n as f32;
            lo = lo.min(mean);
            hi = hi.max(mean);
        }
    }
    let t = total.max(1) as f32;
    Background {
        white_fraction: white as f32 / t,
        mean_luma: luma_sum as f32 / t,
        spread: if hi >= lo { hi - lo } else { 0.0 },
        blue_cast: cast_sum as f32 / t,
        pixels: total,
    }
}

impl Background {
    /// Why the band fails, in words a teacher can act on; None when it is fine.
    pub fn verdict(&self, rules: &Rules) -> Option<String> {
        let mut why = Vec::new();
        if self.white_fraction < rules.bg_min_white_fraction {
            let tint = if self.blue_cast > f32::from(rules.bg_max_blue_cast) {
                "偏蓝"
            } else if self.mean_luma < f32::from(rules.bg_min_luma) {
                "偏灰或偏暗"
            } else {
                "有颜色"
            };
            why.push(format!(
                "头部上方和两侧的背景{tint}：只有 {:.0}% 接近白色（要求至少 {:.0}%），平均亮度 {:.0}（白色要求 ≥ {}）",
                self.white_fraction * 100.0,
                rules.bg_min_white_fraction * 100.0,
                self.mean_luma,
                rules.bg_min_luma
            ));
        }
        if self.spread > f32::from(rules.bg_max_spread) {
            why.push(format!(
                "背景明暗不均（可能有阴影）：最亮与最暗区域的亮度相差 {:.0}（允许 ≤ {}）",
                self.spread, rules.bg_max_spread
            ));
        }
        (!why.is_empty()).then(|| format!("照片背景应为均匀的白色。{}；请在白色背景前重新拍摄", why.join("；")))
    }
}
