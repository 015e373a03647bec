use serde::{Deserialize, Serialize};

/// Every threshold of the automatic check, in one place; a campaign may override any of them
/// (missing fields take the defaults below, which are PHOTO_RULES.md's). docs/photo-checks.md
/// says where each number comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    // ---- file and header ----
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Minimum declared density, dots per inch (JFIF APP0 or EXIF). A density given in
    /// dots per centimetre is converted and rounded to whole dpi, so the 118 dpcm that
    /// editors write for "300 dpi" passes.
    pub min_dpi: u32,

    // ---- colour ----
    /// A pixel is "coloured" when max(R,G,B) − min(R,G,B) reaches this.
    pub colour_min_chroma: u8,
    /// The photo is a colour photo when at least this share of its pixels is coloured (a face
    /// alone covers ≥ 8 % of a valid photo; a greyscale re-encode has ~0 %).
    pub colour_min_fraction: f32,

    // ---- background band: the top strip and the upper side strips ----
    /// Height of the top strip, as a share of the photo height.
    pub bg_top_fraction: f32,
    /// Width of each side strip, as a share of the photo width.
    pub bg_side_fraction: f32,
    /// The side strips run from the top down to this share of the height (above the
    /// shoulders, so a white or coloured shirt never counts as background).
    pub bg_side_depth: f32,
    /// A background pixel is white when its luma reaches this…
    pub bg_min_luma: u8,
    /// …its chroma (max − min channel) stays below this (a warm studio white is ~25)…
    pub bg_max_chroma: u8,
    /// …and it is not bluish: B − (R+G)/2 at most this (warm whites are negative, pale blue
    /// backdrops are +15 and more).
    pub bg_max_blue_cast: i16,
    /// Share of band pixels that must be white.
    pub bg_min_white_fraction: f32,
    /// Largest allowed difference in mean luma between the band's cells (shadows, gradients).
    pub bg_max_spread: u8,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            min_bytes: 5 * 1024,
            max_bytes: 1024 * 1024,
            width: 272,
            height: 354,
            min_dpi: 300,
            colour_min_chroma: 18,
            colour_min_fraction: 0.02,
            bg_top_fraction: 0.06,
            bg_side_fraction: 0.10,
            bg_side_depth: 0.40,
            bg_min_luma: 215,
            bg_max_chroma: 36,
            bg_max_blue_cast: 10,
            bg_min_white_fraction: 0.95,
            bg_max_spread: 20,
        }
    }
}
