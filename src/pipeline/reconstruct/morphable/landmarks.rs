//! The 68 landmarks of a face (iBUG order, the 3D-contour convention of AFLW2000-3D: the jaw on
//! the 3D jaw line) read off the morphable model fitted to FaceMesh's 468 points: the fitted
//! model's own 68 landmark vertices ([`MorphableModel::landmarks68`], the ICT model's), in the
//! image frame. What `visage detect --landmarks p68` prints and the real-photo evaluation scores
//! as the front end's 68 points.
//!
//! The fit places every one of the 68 consistently with all 468 points and the model's shape
//! prior, which a per-point map from FaceMesh cannot: on the six AFLW2000-3D development photos
//! the 2D NME is 3.88 % against 4.25 % for the ridge map of [`crate::pipeline::detect::contour68`]
//! (weights/README.md has the comparison).

use super::fit::{FitOptions, fit};
use super::{MorphableError, MorphableModel};

/// The 68 landmarks of FaceMesh's `points` (468, image frame as FaceMesh gives them: x right and
/// y down in pixels, z smaller = nearer in the same scale), in the image frame with z larger =
/// nearer (the frame of [`crate::pipeline::detect::contour68`]).
///
/// # Errors
/// [`MorphableError::Fit`] when the points cannot be fitted (too few, not finite, degenerate).
pub fn fitted_68(
    model: &MorphableModel,
    points: &[[f32; 3]],
) -> Result<Vec<[f32; 3]>, MorphableError> {
    // The fit's frame: +X right, +Y up, +Z towards the camera (right-handed, like the crop
    // frame); the image frame flips y, and FaceMesh's z counts the other way.
    let targets: Vec<[f32; 3]> = points.iter().map(|p| [p[0], -p[1], -p[2]]).collect();
    let fitted = fit(model, &targets, &FitOptions::default())?;
    let ids: Vec<usize> = model.landmarks68.iter().map(|&i| i as usize).collect();
    Ok(model
        .shape_at(&ids, &fitted.coefficients)
        .into_iter()
        .map(|p| {
            let q = fitted.apply(p);
            [q[0], -q[1], q[2]]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posed_model_face_gives_back_its_own_68_points() {
        // FaceMesh-like points made from the model itself (image frame, 4 px per cm, turned a
        // little): the fit recovers them, so the 68 come back where the model puts them.
        let model = MorphableModel::embedded().unwrap();
        let a: Vec<f32> = (0..model.components())
            .map(|k| if k < 10 { 0.5 * (k as f32).cos() } else { 0.0 })
            .collect();
        let (c, s) = (0.2f32.cos(), 0.2f32.sin());
        let to_image = |p: [f32; 3]| {
            let (x, z) = (c * p[0] + s * p[2], -s * p[0] + c * p[2]);
            [300.0 + 4.0 * x, 200.0 - 4.0 * p[1], -4.0 * z]
        };
        let shape = model.shape(&a);
        let points: Vec<[f32; 3]> = shape[..468].iter().map(|&p| to_image(p)).collect();
        let got = fitted_68(&model, &points).unwrap();
        assert_eq!(got.len(), 68);
        for (g, &id) in got.iter().zip(&model.landmarks68) {
            let want = to_image(shape[id as usize]);
            // Image frame with z larger = nearer: FaceMesh's z negated.
            let want = [want[0], want[1], -want[2]];
            let d = (0..3).map(|k| (g[k] - want[k]).powi(2)).sum::<f32>().sqrt();
            assert!(d < 1.5, "landmark vertex {id}: {g:?} vs {want:?}");
        }
        assert!(fitted_68(&model, &points[..100]).is_err());
    }
}
