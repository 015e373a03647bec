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
    /// A photo of the wrong size is still decoded (to report its other faults) up to this many
    /// times the required width and height; beyond, only the header is read (header bombs).
    pub wrong_size_decode_factor: u32,

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

    // ---- face and head geometry (checked when the photo decodes) ----
    /// Off: only the file, header, colour and background rules run (no face, head, exposure,
    /// sharpness or scarf findings) — the deterministic check, for a deployment that leaves
    /// faces to reviewers, and the benchmark's yardstick.
    pub detect_faces: bool,
    /// The grey photo is box-downscaled to this width before detection (speed; faces in a
    /// valid photo are ≥ 100 px wide, and the detector's window is 40 px).
    pub face_detect_width: u32,
    /// Width of the fast first pass (a coarser scan on a smaller copy; 0 = full scan only).
    pub face_fast_width: u32,
    /// When neither pass finds a face, one more scan at this width (0 = none): at the photo's
    /// own 272 px the 40 px window finds a full-length figure's face, so the teacher hears
    /// "人像过小" instead of "没有人脸". Only photos without a found face pay for it.
    pub face_small_width: u32,
    /// The score a face from that scan must reach: real faces of 50 px score 9–13 there, a
    /// drawn face 4.
    pub face_small_min_score: f64,
    /// The fast pass's answer is kept when its largest face is at least this wide (px in the
    /// photo); otherwise the full scan at `face_detect_width` decides.
    pub face_fast_min_face: f32,
    /// The fast pass skips the pyramid levels for faces wider than this (px in the photo): a
    /// valid photo's face is ≤ ≈ 150 px (head ≤ 75 % of 354 px); a bigger one is left to the
    /// full scan.
    pub face_fast_max_face: f32,
    /// A second person smaller than the fast pass can see: when more than this share of the
    /// pixels beside the head, at the height of the face's upper part, is darker than the white
    /// backdrop (`bg_min_luma`), the full and photo-size scans look for another face. A lone
    /// sitter on white measures 0.00 there (every valid photo of both corpora), two people
    /// side by side 0.48–0.81.
    pub face_beside_min_fraction: f32,
    /// SeetaFace classifier score a face must reach (rustface's default is 3.85).
    pub face_min_score: f64,
    /// Faces narrower than this share of the largest face are ignored.
    pub face_min_relative: f32,
    /// A pixel belongs to the subject when its colour differs from the backdrop (sampled in
    /// the top corners) by more than this (sum of |ΔR|+|ΔG|+|ΔB|).
    pub head_bg_distance: u16,
    /// Chin row = face box top + this × face box height (SeetaFace's box ends near the
    /// mouth-chin line).
    pub chin_below_box: f32,
    /// Head height (hair top to chin) as a share of the photo height: ICAO 50–69 %, widened
    /// by the measurement error of the estimate. The box-based chin lands 0–40 px below the
    /// real one (19 people of the registry-package corpus): their valid photos, cut at a true
    /// 62–66 %, measure 0.53–0.74 and a 大头照 (86 %) 0.88–1.01, so the top of the band sits
    /// between, where a valid photo at ICAO's 69 % still passes.
    pub head_min_ratio: f32,
    pub head_max_ratio: f32,
    /// The hair may come no closer than this many pixels to the top or side edges.
    pub head_min_margin: u32,
    /// Largest horizontal offset of the face centre from the photo centre, share of width.
    pub centre_max_offset: f32,
    /// Lowest eye line (px below the top edge): GA 461-2004's "eye line ≥ 207 px above the
    /// bottom" of its 441 px photo, scaled uniformly to 354 px (PHOTO_RULES.md). Valid photos
    /// of the people corpus measure 98–154.
    pub eye_line_max: f32,
    /// `possibly_stretched` when the eye distance over the nose's drop below the eye line
    /// (`landmarks::Landmarks::width_to_height`) leaves this band. On the calibration half of
    /// the people corpus (9 people) every photo but the stretched ones measures 1.08–1.56; the
    /// same photos stretched sideways ×1.3 measure 1.39–1.93. People differ (head pitch moves
    /// the nose), so a ×1.3 stretch is caught only where the face was already wide; the top
    /// sits just above the unstretched range. The bottom is far below anything measured: a
    /// squeeze is rarer (teachers enlarge) and the range's floor is the least sure.
    pub stretch_min_ratio: f32,
    pub stretch_max_ratio: f32,
    /// Minimum variance of the Laplacian over the face.
    pub blur_min_laplacian_var: f32,
    /// Camera shake (`face::shake`): the strongest over the weakest directional detail on the
    /// face. Valid photos of 19 people measure 1.4–3.7, their 11 px motion blurs 2.9–10.3
    /// (calibration half: ≥ 4.2).
    pub blur_max_shake: f32,
    /// Mean luma of the central face region must lie within these.
    pub face_min_luma: f32,
    pub face_max_luma: f32,
    /// Red neckerchief (junior stage): a pixel is scarf red when its red channel is the
    /// largest and at least `scarf_min_value`, its saturation ≥ `scarf_min_saturation` %, and
    /// its hue within `scarf_max_hue` degrees of red…
    pub scarf_min_value: u8,
    pub scarf_min_saturation: u8,
    pub scarf_max_hue: f32,
    /// …and the photo has a scarf when this share of the region below the chin is scarf red.
    pub scarf_min_fraction: f32,
    /// A scarf is knotted at the throat and narrower than the shoulders; a red or green top
    /// fills the shoulders too. The colour must cover less than this share of the shoulder
    /// strips (beside the scarf region) for the finding to stand.
    pub scarf_max_shoulder_fraction: f32,
    /// Green neckerchief (绿领巾, primary stage): hue within `green_scarf_max_hue` degrees of
    /// `green_scarf_hue`, saturation and value as for red.
    pub green_scarf_hue: f32,
    pub green_scarf_max_hue: f32,

    /// The crown (top of the hair) below the top edge, px: GA 461-2004's 7–21 px of its 441 px
    /// photo scaled uniformly to 354 px (PHOTO_RULES.md). The band a crop suggestion aims for
    /// (its middle) and the messages quote.
    pub crown_min: f32,
    pub crown_max: f32,
    /// The check refuses a crown outside these (px), far wider than the band: the crown is where
    /// the hair meets the backdrop (light or wispy hair moves it), and a diploma photo with more
    /// room above the head than an ID card's prints fine. Valid photos measure 11–22 (people
    /// corpus, 19 people), up to 30 (the committed corpus) and 43–52 (the browser fixtures, cut
    /// with more headroom), against a band of 6–17; the top limit sits a quarter above the
    /// highest: nearly a fifth of the photo empty above the head is a crop to redo, which the
    /// eye line alone misses when the head is small. Above: `off_centre` (set low); below, with
    /// the hair not touching the edge: `head_cropped` (no room above the head).
    pub crown_reject_above: f32,
    pub crown_reject_below: f32,

    // ---- crop suggestion (自动裁剪, `photo::crop`) ----
    /// The head ratio (as `head_min_ratio` measures it) a suggestion aims for: the middle of
    /// the valid real-people photos' 0.53–0.74, so the re-detected box may move either way.
    pub crop_head_ratio: f32,
    /// An original is refused when the head would need upscaling by more than this.
    pub crop_max_upscale: f32,
    /// Largest original accepted, bytes (Lambda's 6 MB request cap counts the base64 body).
    pub crop_max_bytes: u64,
    /// Largest original side accepted, px (the page downsizes bigger ones first).
    pub crop_max_side: u32,
    /// Face detection on an original: a fast pass at this width finds a studio portrait's
    /// face (≥ ≈ 25 % of the width), a full scan at `crop_detect_width` a smaller one
    /// (≥ ≈ 12 %).
    pub crop_fast_width: u32,
    pub crop_detect_width: u32,
}

/// The ID-photo style a bureau collects for: which geometry bands the check and the crop
/// suggestion use. Everything else (file, colour, background, faces, exposure) is the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// GA 461-2004's ID-card photo (358×441) cut at the sides to 272:354 and scaled uniformly:
    /// the style the seed says to copy (PHOTO_RULES.md).
    #[default]
    Ga461,
    /// 学信网's 480×640 photo scaled uniformly to 272 px wide (×0.567): more room above the
    /// head, a smaller head.
    Xuexin,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Ga461, Profile::Xuexin];

    pub fn parse(s: &str) -> Option<Profile> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ga461" | "ga461-2004" | "" => Some(Profile::Ga461),
            "xuexin" | "学信网" => Some(Profile::Xuexin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Ga461 => "ga461",
            Profile::Xuexin => "xuexin",
        }
    }
}

impl Rules {
    /// The default rules with the profile's geometry bands.
    pub fn for_profile(profile: Profile) -> Rules {
        let ga = Rules::default();
        match profile {
            Profile::Ga461 => ga,
            // 学信网 (480×640): hairline 50–110 px and eyes 200–300 px from the top, face 180–300
            // px wide. ×0.567: hairline 28–62, eyes 113–170, face 102–170 — a head of about
            // 39–65 % of the height (crown to chin ≈ 1.35 face widths) where GA 461's is 50–69 %.
            // The check's head band is widened by the box-based chin's error as GA's is (its
            // 0.45–0.82 for a true 0.50–0.69); the crown, the hair's top, sits ≈ 15 px above
            // the hairline.
            Profile::Xuexin => Rules {
                head_min_ratio: 0.36,
                head_max_ratio: 0.76,
                crop_head_ratio: 0.52,
                crown_min: 15.0,
                crown_max: 45.0,
                crown_reject_above: 90.0,
                eye_line_max: 175.0,
                ..ga
            },
        }
    }

    /// Where a crop suggestion puts the crown: the middle of the crown band.
    pub fn crown_aim(&self) -> f32 {
        (self.crown_min + self.crown_max) / 2.0
    }

    /// Whether a frame of this size is small enough to decode: at most
    /// `wrong_size_decode_factor` times the required size each way, and not empty.
    pub fn may_decode(&self, width: u32, height: u32) -> bool {
        let factor = self.wrong_size_decode_factor;
        (1..=self.width.saturating_mul(factor)).contains(&width) && (1..=self.height.saturating_mul(factor)).contains(&height)
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            min_bytes: 5 * 1024,
            max_bytes: 1024 * 1024,
            width: 272,
            height: 354,
            min_dpi: 300,
            wrong_size_decode_factor: 4,
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
            face_detect_width: 136,
            detect_faces: true,
            face_fast_width: 109,
            face_small_width: 272,
            face_small_min_score: 6.0,
            face_fast_min_face: 90.0,
            face_fast_max_face: 160.0,
            face_beside_min_fraction: 0.25,
            face_min_score: 3.85,
            face_min_relative: 0.5,
            head_bg_distance: 60,
            chin_below_box: 1.23,
            head_min_ratio: 0.45,
            head_max_ratio: 0.82,
            head_min_margin: 1,
            centre_max_offset: 0.08,
            eye_line_max: 188.0,
            stretch_min_ratio: 0.95,
            stretch_max_ratio: 1.60,
            blur_min_laplacian_var: 25.0,
            blur_max_shake: 4.2,
            face_min_luma: 80.0,
            face_max_luma: 215.0,
            scarf_min_value: 90,
            scarf_min_saturation: 45,
            scarf_max_hue: 12.0,
            scarf_min_fraction: 0.08,
            scarf_max_shoulder_fraction: 0.5,
            green_scarf_hue: 140.0,
            green_scarf_max_hue: 35.0,
            crown_min: 6.0,
            crown_max: 17.0,
            crown_reject_above: 64.0,
            crown_reject_below: 3.0,
            crop_head_ratio: 0.62,
            crop_max_upscale: 1.25,
            crop_max_bytes: 4 * 1024 * 1024,
            crop_max_side: 4000,
            crop_fast_width: 160,
            crop_detect_width: 320,
        }
    }
}
