//! The head's geometry as the check measured it: what `gradphoto check --explain` prints, so a
//! reviewer (or a teacher) sees the numbers behind a verdict.

use super::face::{Face, Head};
use super::landmarks::Landmarks;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Geometry {
    /// The detector's face box: x, y, width, height (px).
    pub face_box: [f32; 4],
    pub landmarks: Landmarks,
    /// Eye line (mean of the eye centres) below the top edge, px.
    pub eye_line: f32,
    /// Distance between the eye centres, px.
    pub eye_distance: f32,
    /// Tilt of the eye line, degrees (positive: the eye on the picture's right is lower).
    pub roll_degrees: f32,
    /// First row of hair below the top edge (the crown), px.
    pub crown: usize,
    /// Estimated chin row, px.
    pub chin: f32,
    /// (chin − crown) / photo height.
    pub head_ratio: f32,
    /// Midpoint of the eyes minus the photo's centre, px (positive: right of centre).
    pub centre_offset: f32,
    /// Eye distance over the nose's drop below the eye line (`Landmarks::width_to_height`).
    pub width_to_height: f32,
}

impl Geometry {
    pub fn of(face: &Face, head: &Head, landmarks: Landmarks, width: usize) -> Geometry {
        Geometry {
            face_box: [face.x, face.y, face.w, face.h],
            landmarks,
            eye_line: landmarks.eye_line(),
            eye_distance: landmarks.eye_distance(),
            roll_degrees: landmarks.roll_degrees(),
            crown: head.top,
            chin: head.chin,
            head_ratio: head.height_ratio,
            centre_offset: landmarks.centre_x() - width as f32 / 2.0,
            width_to_height: landmarks.width_to_height(),
        }
    }
}
