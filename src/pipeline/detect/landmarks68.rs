//! The 68-point (iBUG 300-W / dlib) landmark set as a subset of FaceMesh's 468 points.
//!
//! FaceMesh has no 68-point head, so each 300-W point is the FaceMesh vertex at the same
//! anatomical place. "Right" is the subject's right (the left side of a frontal photo), as in
//! 300-W. Jaw points are the face-oval vertices; 300-W's jaw follows the visible contour, so
//! expect a few pixels of disagreement there on turned heads.
//!
//! | 300-W (0-based) | part | FaceMesh vertices |
//! |---|---|---|
//! | 0-16 | jaw, subject's right ear to left ear, 8 = chin | 127 234 93 132 58 172 136 150 152 379 365 397 288 361 323 454 356 |
//! | 17-21 | right brow, outer to inner | 70 63 105 66 107 |
//! | 22-26 | left brow, inner to outer | 336 296 334 293 300 |
//! | 27-30 | nose bridge, top to tip | 168 197 5 4 |
//! | 31-35 | nostrils, right to left, 33 = below the tip | 98 97 2 326 327 |
//! | 36-41 | right eye: outer corner, upper lid x2, inner corner, lower lid x2 | 33 160 158 133 153 144 |
//! | 42-47 | left eye: inner corner, upper lid x2, outer corner, lower lid x2 | 362 385 387 263 373 380 |
//! | 48-59 | outer lips from the right corner, upper lip first | 61 39 37 0 267 269 291 405 314 17 84 181 |
//! | 60-67 | inner lips from the right corner, upper lip first | 78 82 13 312 308 317 14 87 |
//!
//! The table was assembled by locating each 300-W point among FaceMesh's vertices on a plot of
//! the wheel's landmarks on the Grace Hopper fixture; `tests/frontend.rs`
//! (`landmarks68_are_anatomically_ordered`) checks left/right, top/bottom order on it.

/// FaceMesh vertex index of each of the 68 300-W points (see the module table).
pub const FACEMESH_TO_68: [usize; 68] = [
    127, 234, 93, 132, 58, 172, 136, 150, 152, 379, 365, 397, 288, 361, 323, 454, 356, // jaw
    70, 63, 105, 66, 107, // right brow
    336, 296, 334, 293, 300, // left brow
    168, 197, 5, 4, // nose bridge
    98, 97, 2, 326, 327, // nostrils
    33, 160, 158, 133, 153, 144, // right eye
    362, 385, 387, 263, 373, 380, // left eye
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, // outer lips
    78, 82, 13, 312, 308, 317, 14, 87, // inner lips
];

/// The 68 points picked out of FaceMesh's 468 (any per-point type, e.g. `[f32; 3]`).
///
/// # Errors
/// `None` when `points` has fewer than 468 entries.
#[must_use]
pub fn to_68<T: Copy>(points: &[T]) -> Option<Vec<T>> {
    FACEMESH_TO_68
        .iter()
        .map(|&i| points.get(i).copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_distinct_and_in_range() {
        let mut seen = std::collections::HashSet::new();
        for &i in &FACEMESH_TO_68 {
            assert!(i < 468);
            assert!(seen.insert(i), "duplicate {i}");
        }
    }

    #[test]
    fn too_few_points_is_none() {
        assert!(to_68(&[0u8; 10]).is_none());
        assert_eq!(to_68(&(0..468).collect::<Vec<_>>()).unwrap()[8], 152);
    }
}
