//! The 68 landmarks in the 3D-contour convention of AFLW2000-3D and 300W-LP (the jaw on the real
//! 3D jaw line, not on the visible silhouette), regressed from FaceMesh's 468 points.
//!
//! A linear (ridge) map, learned by `visage train contour68` from synthetic renders on which
//! FaceMesh itself was run, so it learns FaceMesh's real behaviour (its errors, its jaw on the
//! silhouette) rather than a fixed 468 -> 68 vertex map ([`super::landmarks68`], still used
//! where the networks were trained on it). Both sides are first put in a face frame: origin at
//! the centroid of the 468 points, rotated so the outer eye corners (FaceMesh 33 and 263) are
//! level, scaled so they are one unit apart.
//!
//! Frame of the points in and out: the image frame of the photo (x right, y down, pixels; z in
//! the same pixel scale, larger = nearer, any offset).

use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::sync::OnceLock;

/// FaceMesh points in.
pub const POINTS: usize = 468;
/// Features per sample: the normalised 468 x 3 points and a constant.
pub const FEATURES: usize = POINTS * 3 + 1;
/// Values out: 68 x 3.
pub const OUTPUTS: usize = 68 * 3;
/// FaceMesh ids of the outer eye corners (the subject's right, then left).
const EYES: [usize; 2] = [33, 263];

/// Why the model is unusable.
#[derive(Debug, thiserror::Error)]
#[error("contour-68 model: {0}")]
pub struct Contour68Error(String);

/// The face frame of a set of FaceMesh points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceFrame {
    centre: [f32; 3],
    cos: f32,
    sin: f32,
    scale: f32,
}

impl FaceFrame {
    /// The frame of FaceMesh's 468 points (image frame); `None` for too few or degenerate ones.
    #[must_use]
    pub fn of(points: &[[f32; 3]]) -> Option<Self> {
        if points.len() != POINTS {
            return None;
        }
        let n = POINTS as f32;
        let centre = points.iter().fold([0.0; 3], |a, p| {
            [a[0] + p[0] / n, a[1] + p[1] / n, a[2] + p[2] / n]
        });
        let (l, r) = (points[EYES[0]], points[EYES[1]]);
        let d = [r[0] - l[0], r[1] - l[1], r[2] - l[2]];
        let scale = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let planar = d[0].hypot(d[1]);
        (scale > 1e-6 && planar > 1e-6 && scale.is_finite()).then_some(Self {
            centre,
            cos: d[0] / planar,
            sin: d[1] / planar,
            scale,
        })
    }

    /// Image frame -> face frame.
    #[must_use]
    pub fn to_face(&self, p: [f32; 3]) -> [f32; 3] {
        let (x, y) = (p[0] - self.centre[0], p[1] - self.centre[1]);
        [
            (self.cos * x + self.sin * y) / self.scale,
            (-self.sin * x + self.cos * y) / self.scale,
            (p[2] - self.centre[2]) / self.scale,
        ]
    }

    /// Face frame -> image frame.
    #[must_use]
    pub fn to_image(&self, q: [f32; 3]) -> [f32; 3] {
        let (x, y) = (q[0] * self.scale, q[1] * self.scale);
        [
            self.cos * x - self.sin * y + self.centre[0],
            self.sin * x + self.cos * y + self.centre[1],
            q[2] * self.scale + self.centre[2],
        ]
    }
}

/// The features of FaceMesh's points in their face frame.
#[must_use]
pub fn features(points: &[[f32; 3]], frame: &FaceFrame) -> Vec<f32> {
    let mut f: Vec<f32> = points.iter().flat_map(|&p| frame.to_face(p)).collect();
    f.push(1.0);
    f
}

/// FaceMesh's points as the front end gives them (z smaller = nearer) in the image frame
/// (z larger = nearer).
#[must_use]
pub fn image_frame(points: &[[f32; 3]]) -> Vec<[f32; 3]> {
    points.iter().map(|p| [p[0], p[1], -p[2]]).collect()
}

/// The learned map: `out = features . weights`, `weights` `[FEATURES, OUTPUTS]` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Contour68 {
    weights: Vec<f32>,
}

impl Contour68 {
    /// A model from its weights (`[FEATURES, OUTPUTS]` row-major).
    ///
    /// # Errors
    /// Weights of the wrong size.
    pub fn new(weights: Vec<f32>) -> Result<Self, Contour68Error> {
        if weights.len() != FEATURES * OUTPUTS {
            return Err(Contour68Error(format!(
                "{} weights, expected {FEATURES} x {OUTPUTS}",
                weights.len()
            )));
        }
        Ok(Self { weights })
    }

    /// The committed model, loaded once.
    ///
    /// # Errors
    /// The embedded file does not hold a model (a build problem).
    pub fn embedded() -> Result<&'static Self, Contour68Error> {
        static CELL: OnceLock<Result<Contour68, String>> = OnceLock::new();
        CELL.get_or_init(|| Self::from_bytes(crate::weights::CONTOUR68).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Contour68Error(e.clone()))
    }

    /// A model from safetensors bytes (tensor `weights`, F32 `[FEATURES, OUTPUTS]`).
    ///
    /// # Errors
    /// Unreadable bytes or the wrong shape.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Contour68Error> {
        let bad = |e: candle_core::Error| Contour68Error(e.to_string());
        let map = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(bad)?;
        let w = map
            .get("weights")
            .ok_or_else(|| Contour68Error("no `weights` tensor".into()))?;
        Self::new(w.flatten_all().map_err(bad)?.to_vec1().map_err(bad)?)
    }

    /// Writes the model as safetensors.
    ///
    /// # Errors
    /// I/O failures.
    pub fn save(&self, path: &std::path::Path) -> Result<(), Contour68Error> {
        let bad = |e: candle_core::Error| Contour68Error(e.to_string());
        let t = Tensor::from_vec(self.weights.clone(), (FEATURES, OUTPUTS), &Device::Cpu)
            .map_err(bad)?
            .to_dtype(DType::F32)
            .map_err(bad)?;
        let map: HashMap<String, Tensor> = [("weights".to_owned(), t)].into();
        candle_core::safetensors::save(&map, path).map_err(bad)
    }

    /// The 68 landmarks (iBUG order, 3D-contour convention) of FaceMesh's 468 points, both in
    /// the image frame (see [`image_frame`]); `None` for degenerate points.
    #[must_use]
    pub fn predict(&self, points: &[[f32; 3]]) -> Option<Vec<[f32; 3]>> {
        let frame = FaceFrame::of(points)?;
        let f = features(points, &frame);
        let mut out = vec![0.0f32; OUTPUTS];
        for (fi, row) in f.iter().zip(self.weights.chunks_exact(OUTPUTS)) {
            for (o, w) in out.iter_mut().zip(row) {
                *o += fi * w;
            }
        }
        Some(
            out.chunks_exact(3)
                .map(|q| frame.to_image([q[0], q[1], q[2]]))
                .collect(),
        )
    }
}

/// Landmarks 0-16 (the jaw), the ones whose convention differs.
pub const JAW: std::ops::Range<usize> = 0..17;

/// The front end's 68 points of FaceMesh's `points` (as FaceMesh gives them: image x, y, z
/// smaller = nearer), in the image frame (z larger = nearer): the jaw (0-16) from the learned
/// map, in the 3D-contour convention, and the inner 51 points from FaceMesh's own vertices (the
/// fixed map), which already sit where every convention puts them. (The learned map for all 68
/// points was measured too: worse on the real development photos, see the model card.)
///
/// # Errors
/// The embedded model is unusable.
pub fn contour_68(points: &[[f32; 3]]) -> Result<Option<Vec<[f32; 3]>>, Contour68Error> {
    let image = image_frame(points);
    let (Some(mut out), Some(fixed)) = (
        Contour68::embedded()?.predict(&image),
        super::landmarks68::to_68(&image),
    ) else {
        return Ok(None);
    };
    out[17..].copy_from_slice(&fixed[17..]);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<[f32; 3]> {
        (0..POINTS)
            .map(|i| {
                let t = i as f32;
                [
                    100.0 + (t * 0.37).sin() * 40.0,
                    80.0 + (t * 0.11).cos() * 50.0,
                    t * 0.05,
                ]
            })
            .collect()
    }

    #[test]
    fn the_face_frame_round_trips() {
        let p = points();
        let frame = FaceFrame::of(&p).unwrap();
        for &q in &p {
            let back = frame.to_image(frame.to_face(q));
            assert!(
                (0..3).all(|k| (back[k] - q[k]).abs() < 1e-3),
                "{q:?} {back:?}"
            );
        }
        // The eye corners are level and one unit apart in the face frame.
        let (l, r) = (frame.to_face(p[EYES[0]]), frame.to_face(p[EYES[1]]));
        assert!((l[1] - r[1]).abs() < 1e-5);
        let d = ((l[0] - r[0]).powi(2) + (l[2] - r[2]).powi(2)).sqrt();
        assert!((d - 1.0).abs() < 1e-4, "{d}");
    }

    #[test]
    fn predictions_follow_the_face_under_a_similarity() {
        // A model that returns the first 68 points: moving and scaling the face moves the
        // output with it.
        let mut w = vec![0.0f32; FEATURES * OUTPUTS];
        for k in 0..OUTPUTS {
            w[k * OUTPUTS + k] = 1.0;
        }
        let model = Contour68::new(w).unwrap();
        let p = points();
        let out = model.predict(&p).unwrap();
        for k in 0..68 {
            assert!((0..3).all(|c| (out[k][c] - p[k][c]).abs() < 1e-3));
        }
        let moved: Vec<[f32; 3]> = p
            .iter()
            .map(|q| [2.0 * q[0] + 7.0, 2.0 * q[1] - 3.0, 2.0 * q[2]])
            .collect();
        let out2 = model.predict(&moved).unwrap();
        assert!((out2[5][0] - (2.0 * p[5][0] + 7.0)).abs() < 1e-2);
        assert!(Contour68::new(vec![0.0; 3]).is_err());
    }
}
