//! Neckerchiefs: the red scarf of the Young Pioneers (not allowed for 初三 graduates) and the
//! green one (绿领巾) that younger pupils wear (not allowed for 小学 graduates).
//!
//! A scarf is knotted at the throat and hangs as a triangle on the chest: the colour fills the
//! middle of the region below the chin but not the shoulders. A red or green top fills the
//! shoulders too, so colour on the shoulders (beside the scarf region, at the same height)
//! cancels the finding: the rule is about the scarf, not the shirt.

use super::Rules;
use super::background::Rect;
use super::face::{Face, Head};
use super::picture::Picture;
use crate::Stage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Red,
    Green,
}

impl Colour {
    /// The scarf a stage may not wear: red for 初三, green for 小学; none for 高三.
    pub fn banned_at(stage: Stage) -> Option<Colour> {
        match stage {
            Stage::Junior => Some(Colour::Red),
            Stage::Primary => Some(Colour::Green),
            Stage::Senior => None,
        }
    }
}

/// Shares of scarf-coloured pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scarf {
    /// In the region below the chin.
    pub centre: f32,
    /// In the shoulder strips beside it (None when the photo has no room beside the region).
    pub shoulders: Option<f32>,
}

impl Scarf {
    pub fn is_scarf(&self, rules: &Rules) -> bool {
        self.centre >= rules.scarf_min_fraction
            && self.shoulders.is_none_or(|s| s < rules.scarf_max_shoulder_fraction * self.centre.max(rules.scarf_min_fraction))
    }
}

fn is_colour(p: [u8; 3], colour: Colour, rules: &Rules) -> bool {
    let [r, g, b] = p;
    let (mx, mn) = (r.max(g).max(b), r.min(g).min(b));
    if mx < rules.scarf_min_value || u32::from(mx - mn) * 100 < u32::from(mx) * u32::from(rules.scarf_min_saturation) {
        return false;
    }
    let c = f32::from(mx - mn).max(1.0);
    // Hue in degrees, 0–360.
    let hue = if mx == r {
        (60.0 * (f32::from(g) - f32::from(b)) / c).rem_euclid(360.0)
    } else if mx == g {
        60.0 * (f32::from(b) - f32::from(r)) / c + 120.0
    } else {
        60.0 * (f32::from(r) - f32::from(g)) / c + 240.0
    };
    match colour {
        Colour::Red => hue <= rules.scarf_max_hue || hue >= 360.0 - rules.scarf_max_hue,
        Colour::Green => (hue - rules.green_scarf_hue).abs() <= rules.green_scarf_max_hue,
    }
}

fn share(pic: &Picture, r: Rect, colour: Colour, rules: &Rules) -> Option<f32> {
    let (mut hit, mut n) = (0usize, 0usize);
    for y in r.y0..r.y1.min(pic.height) {
        for x in r.x0..r.x1.min(pic.width) {
            n += 1;
            hit += usize::from(is_colour(pic.px(x, y), colour, rules));
        }
    }
    (n > 0).then(|| hit as f32 / n as f32)
}

/// Where a neckerchief would be: from just below the chin down 1.3 face heights, 1.2 face
/// widths wide (the knot and the triangle hang there).
fn neck(pic: &Picture, face: &Face, head: &Head) -> Rect {
    let c = |v: f32, hi: usize| (v.max(0.0) as usize).min(hi);
    Rect {
        x0: c(face.cx() - face.w * 0.6, pic.width),
        x1: c(face.cx() + face.w * 0.6, pic.width),
        y0: c(head.chin + face.h * 0.05, pic.height),
        y1: c(head.chin + face.h * 1.3, pic.height),
    }
}

/// Measures `colour` below the chin and on the shoulders beside it. The shoulders are the
/// strips from 0.8 to 1.3 face widths out from the face's centre line, in the lower half of
/// the neck region (where a shirt's shoulders are, and a scarf's triangle is not).
pub fn measure(pic: &Picture, face: &Face, head: &Head, colour: Colour, rules: &Rules) -> Scarf {
    let neck = neck(pic, face, head);
    let centre = share(pic, neck, colour, rules).unwrap_or(0.0);
    let y0 = (neck.y0 + neck.y1) / 2;
    let (cx, fw) = (face.cx(), face.w.max(1.0));
    let c = |v: f32| (v.max(0.0) as usize).min(pic.width);
    let left = Rect { x0: c(cx - 1.3 * fw), x1: c(cx - 0.8 * fw), y0, y1: neck.y1 };
    let right = Rect { x0: c(cx + 0.8 * fw), x1: c(cx + 1.3 * fw), y0, y1: neck.y1 };
    let sides: Vec<f32> = [left, right]
        .into_iter()
        .filter(|r| r.x1 >= r.x0 + 4 && r.y1 > r.y0)
        .filter_map(|r| share(pic, r, colour, rules))
        .collect();
    let shoulders = (!sides.is_empty()).then(|| sides.iter().sum::<f32>() / sides.len() as f32);
    Scarf { centre, shoulders }
}
