//! `not_colour`: a greyscale photo, whether stored as one component or as RGB without chroma.

use super::picture::Picture;

/// Share of pixels whose chroma (max − min channel) reaches `min_chroma`.
pub fn coloured_fraction(pic: &Picture, min_chroma: u8) -> f32 {
    fraction(pic.grey_and_colour(min_chroma).1, pic)
}

pub fn fraction(coloured: usize, pic: &Picture) -> f32 {
    coloured as f32 / (pic.width * pic.height).max(1) as f32
}
