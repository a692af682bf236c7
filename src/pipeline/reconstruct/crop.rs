//! The face crop the learned reconstructors see: framed the way the synthetic data engine frames
//! its samples, so a model trained on synthetic crops meets real photos in the same framing.
//!
//! Calibration (measured on 256 validation samples of `visage synth --size 128 --seed 900000`,
//! the 65 with |yaw| < 20 deg): the outer eye corners (68-point ids 36, 45) lie 49.8 +- 5.7 px
//! apart in a 128 px crop (0.389 of the side), and the 68 landmarks' centroid sits at
//! (63.3, 65.3), i.e. on the crop centre, 1.3 px low. Real photos use FaceMesh's 68-point
//! subset: the 3D eye-corner distance (robust to yaw, since FaceMesh's z is in x's units) sets
//! the side and the centroid sets the centre. The crop is not rotated: synthetic samples keep
//! their roll too.

use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::detect::{AlignedCrop, DetectError, Detector, Landmarks, Roi, aligned_crop};
use image::RgbImage;

/// Outer-eye-corner distance as a fraction of the crop side.
pub const EYE_DISTANCE_FRACTION: f32 = 0.389;
/// Landmark centroid below the crop centre, as a fraction of the side.
pub const CENTROID_DROP_FRACTION: f32 = 0.010;

/// The square region (photo pixels, unrotated) that frames `landmarks` like a synthetic sample;
/// `None` when the landmarks lack the 68-point subset.
#[must_use]
pub fn face_roi(landmarks: &Landmarks) -> Option<Roi> {
    let p68 = to_68(&landmarks.points)?;
    let (l, r) = (p68[36], p68[45]);
    let eye = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2) + (l[2] - r[2]).powi(2)).sqrt();
    if !eye.is_finite() || eye <= 0.0 {
        return None;
    }
    let n = p68.len() as f32;
    let cx = p68.iter().map(|p| p[0]).sum::<f32>() / n;
    let cy = p68.iter().map(|p| p[1]).sum::<f32>() / n;
    let size = eye / EYE_DISTANCE_FRACTION;
    Some(Roi {
        center: [cx, cy - CENTROID_DROP_FRACTION * size],
        size,
        rotation: 0.0,
    })
}

/// A `size x size` crop of the face framed like a synthetic sample, with its transform.
#[must_use]
pub fn face_crop(photo: &RgbImage, landmarks: &Landmarks, size: u32) -> Option<AlignedCrop> {
    face_roi(landmarks).map(|roi| aligned_crop(photo, &roi, size))
}

/// FaceMesh's 468 landmarks on a face crop that is already framed like a synthetic sample (crop
/// pixels, `z` in x's units, smaller = nearer): one pass on the whole crop, a second on the ROI
/// of the first pass's landmarks, the one with the higher presence kept.
///
/// # Errors
/// [`DetectError::Network`].
pub fn crop_landmarks(detector: &Detector, crop: &RgbImage) -> Result<Landmarks, DetectError> {
    let side = crop.width() as f32;
    let roi = Roi {
        center: [side / 2.0, side / 2.0],
        size: side,
        rotation: 0.0,
    };
    let first = detector.landmarks_in(crop, &roi)?;
    Ok(Roi::from_landmarks(&first.points)
        .map(|r| detector.landmarks_in(crop, &r))
        .transpose()?
        .filter(|l| l.presence >= first.presence)
        .unwrap_or(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::detect::Detector;
    use candle_core::Device;

    #[test]
    fn fixture_crops_frame_the_face_like_synthetic_samples() {
        let det = Detector::new(&Device::Cpu).unwrap();
        for name in ["astronaut.png", "grace_hopper.jpg"] {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            let photo = crate::pipeline::photo::Photo::load(path).unwrap().rgb;
            let face = det.detect(&photo).unwrap().remove(0);
            let lm = det.landmarks(&photo, &face).unwrap();
            let crop = face_crop(&photo, &lm, 128).unwrap();
            // The eye corners land where synthetic samples have them: ~0.39 of the side apart,
            // level with each other within the photo's own roll.
            let p68 = to_68(&lm.points).unwrap();
            let [l, r] = [p68[36], p68[45]].map(|p| crop.crop_from_photo.apply([p[0], p[1]]));
            let d = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt();
            assert!((40.0..52.0).contains(&d), "{name}: eye distance {d}");
            let mid = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
            assert!(
                (mid[0] - 64.0).abs() < 10.0 && (35.0..60.0).contains(&mid[1]),
                "{name}: {mid:?}"
            );
        }
    }
}
