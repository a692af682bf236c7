//! Landmark-based normalisation shared by the metrics.

/// Outer interocular distance: between 68-point landmarks 36 and 45 (3D); `None` for fewer
/// than 46 landmarks.
#[must_use]
pub fn interocular(landmarks: &[[f32; 3]]) -> Option<f32> {
    let (l, r) = (landmarks.get(36)?, landmarks.get(45)?);
    Some(((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2) + (l[2] - r[2]).powi(2)).sqrt())
}
