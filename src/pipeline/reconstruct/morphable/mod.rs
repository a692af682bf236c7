//! The project's learned morphable face model (DESIGN.md section 4) and the coarse face it gives
//! for a face crop: the first stage of the 3DMM + CGAN path (Galteri et al., CVIU 2019).
//!
//! - [`topology`]: the dense topology's facts: vertices 0-467 are FaceMesh's landmarks, the rest
//!   the ICT face area's surface (eyes and mouth closed), about 10,000 vertices; its borders.
//! - [`MorphableModel`]: a PCA shape model over that topology (mean, orthonormal identity and
//!   expression bases, sigmas, a UV layout, the 68 landmark vertices), learned from sampled ICT
//!   Face Model shapes by `visage morphable build`
//!   ([`crate::train::morphable`]); only the learned model is committed
//!   (`weights/morphable.safetensors`, embedded in the binary).
//! - [`fit`]: pose and coefficients from FaceMesh's 468 3D landmarks (robust, milliseconds).
//! - [`landmarks`]: the 68 landmarks (3D-contour convention) of the fitted model.
//! - [`depth`]: the fitted mesh rasterised into the crop as a depth map and mask.
//! - [`refine`]: the CGAN refiner's correction applied to a fitted mesh (`3dmm-cgan`).
//! - [`method`]: the `3dmm` and `3dmm-cgan` reconstruction methods (photo -> fitted dense mesh,
//!   refined or not).
//!
//! Model frame: centimetres, +X the subject's left, +Y up, +Z out of the face (the ICT frame).
//! Fits and depth maps live in the crop frame of [`crate::pipeline::mesh`] (+X right, +Y up,
//! +Z towards the camera, crop pixels).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use visage::pipeline::reconstruct::morphable::{MorphableModel, coarse_depth};
//! let crop = image::open("crop128.png")?.to_rgb8();
//! let detector = visage::pipeline::detect::Detector::new(&candle_core::Device::Cpu)?;
//! let model = MorphableModel::embedded()?;
//! let coarse = coarse_depth(&crop, &detector, &model)?;
//! assert_eq!(coarse.depth.len(), coarse.side * coarse.side);
//! # Ok(()) }
//! ```

pub mod depth;
pub mod fit;
pub mod landmarks;
pub mod method;
pub mod refine;
pub mod topology;

use crate::pipeline::detect::DetectError;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use candle_core::{DType, Device, Tensor};
use image::RgbImage;
use std::collections::HashMap;
use std::path::Path;

pub use depth::CoarseDepth;
pub use fit::{Fit, FitOptions};
pub use topology::LANDMARKS;

/// The committed model, embedded in the binary.
pub const WEIGHTS: &[u8] = crate::weights::MORPHABLE;

/// Errors of the morphable model and its fit.
#[derive(Debug, thiserror::Error)]
pub enum MorphableError {
    /// The model file is missing, unreadable or malformed.
    #[error("{path}: bad morphable model ({what})")]
    Format {
        /// File (or "embedded").
        path: String,
        /// What is wrong.
        what: String,
    },
    /// FaceMesh failed on the crop.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// Too few landmarks, or landmarks that do not frame a face.
    #[error("cannot fit the morphable model: {0}")]
    Fit(String),
}

/// A linear shape model over the dense topology:
/// `shape(a) = mean + sum_k a_k sigma_k basis_k`, with `a ~ N(0, I)` a priori. The first
/// [`MorphableModel::identity_components`] components span identity, the rest expression; the
/// mean carries the mean expression ([`MorphableModel::expression_mean`]), so the neutral face of
/// an identity is `mean - expression_mean + identity part`.
#[derive(Clone, Debug, PartialEq)]
pub struct MorphableModel {
    /// Mean shape, `[V]`, model frame, centimetres.
    pub mean: Vec<[f32; 3]>,
    /// Orthonormal components, `[K, V * 3]` row-major: identity first, then expression.
    pub basis: Vec<f32>,
    /// Standard deviation of each component, `[K]`, centimetres.
    pub sigma: Vec<f32>,
    /// How many leading components are identity components.
    pub identity_components: usize,
    /// The mean expression's offset from the neutral face, `[V]`, centimetres.
    pub expression_mean: Vec<[f32; 3]>,
    /// Triangles of the dense topology (counter-clockwise seen from outside).
    pub triangles: Vec<[u32; 3]>,
    /// Texture coordinates, `[V]` (u right, v down, in [0, 1]; mirror symmetric about u = 0.5).
    pub uvs: Vec<[f32; 2]>,
    /// The 68 landmarks (iBUG order) as vertex ids, jaw on the 3D jaw line (3D-contour
    /// convention of AFLW2000-3D).
    pub landmarks68: Vec<u32>,
    /// FaceMesh's noise at each of the 468 landmarks, as a variance per axis (cm^2) about the
    /// surface point the landmark stands for, measured on renders when the model is built; the
    /// fit weighs each landmark by its inverse. Empty: not measured (the fit then assumes
    /// [`fit::FitOptions::lambda`] everywhere).
    pub landmark_noise: Vec<f32>,
}

impl MorphableModel {
    /// The committed model (`weights/morphable.safetensors`).
    ///
    /// # Errors
    /// [`MorphableError::Format`] when the embedded file is malformed (a build problem).
    pub fn embedded() -> Result<Self, MorphableError> {
        Self::from_bytes(WEIGHTS, "weights/morphable.safetensors (embedded)")
    }

    /// The committed model, parsed once per process and shared.
    ///
    /// # Errors
    /// [`MorphableError::Format`] when the embedded file is malformed (a build problem).
    pub fn shared() -> Result<&'static Self, MorphableError> {
        static MODEL: std::sync::OnceLock<Result<MorphableModel, String>> =
            std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| Self::embedded().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|what| MorphableError::Format {
                path: "weights/morphable.safetensors (embedded)".into(),
                what: what.clone(),
            })
    }

    /// Loads a model file written by [`MorphableModel::save`].
    ///
    /// # Errors
    /// [`MorphableError::Format`] for a missing or malformed file.
    pub fn load(path: &Path) -> Result<Self, MorphableError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| MorphableError::Format {
            path: name.clone(),
            what: e.to_string(),
        })?;
        Self::from_bytes(&bytes, &name)
    }

    /// Parses the safetensors layout: `mean` `[V, 3]` f32, `basis` `[K, V*3]` f16 or f32,
    /// `sigma` `[K]` f32, `identity_components` `[1]` u32, `expression_mean` `[V, 3]` f32,
    /// `triangles` `[T, 3]` u32, `uvs` `[V, 2]` f32, `landmarks68` `[68]` u32, optionally
    /// `landmark_noise` `[468]` f32.
    ///
    /// # Errors
    /// [`MorphableError::Format`] when a tensor is missing or the sizes disagree.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self, MorphableError> {
        let bad = |what: String| MorphableError::Format {
            path: name.to_string(),
            what,
        };
        let map = candle_core::safetensors::load_buffer(bytes, &Device::Cpu)
            .map_err(|e| bad(e.to_string()))?;
        let get = |key: &str| map.get(key).ok_or_else(|| bad(format!("no `{key}`")));
        let f32s = |key: &str| -> Result<Vec<f32>, MorphableError> {
            get(key)?
                .flatten_all()
                .and_then(|t| t.to_dtype(DType::F32))
                .and_then(|t| t.to_vec1())
                .map_err(|e| bad(e.to_string()))
        };
        let u32s = |key: &str| -> Result<Vec<u32>, MorphableError> {
            get(key)?
                .flatten_all()
                .and_then(|t| t.to_vec1())
                .map_err(|e| bad(e.to_string()))
        };
        let points = |key: &str| -> Result<Vec<[f32; 3]>, MorphableError> {
            Ok(f32s(key)?
                .chunks_exact(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect())
        };
        let model = Self {
            basis: f32s("basis")?,
            sigma: f32s("sigma")?,
            identity_components: u32s("identity_components")?
                .first()
                .map_or(0, |&k| k as usize),
            expression_mean: points("expression_mean")?,
            triangles: u32s("triangles")?
                .chunks_exact(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect(),
            uvs: f32s("uvs")?.chunks_exact(2).map(|c| [c[0], c[1]]).collect(),
            landmarks68: u32s("landmarks68")?,
            landmark_noise: if map.contains_key("landmark_noise") {
                f32s("landmark_noise")?
            } else {
                Vec::new()
            },
            mean: points("mean")?,
        };
        model.check().map_err(bad)?;
        Ok(model)
    }

    fn check(&self) -> Result<(), String> {
        let v = self.mean.len();
        if v < LANDMARKS {
            return Err(format!(
                "{v} vertices, fewer than the {LANDMARKS} landmarks"
            ));
        }
        if self.basis.len() != self.sigma.len() * v * 3 {
            return Err(format!("basis of {} values", self.basis.len()));
        }
        if self.identity_components > self.sigma.len() {
            return Err(format!(
                "{} identity components of {}",
                self.identity_components,
                self.sigma.len()
            ));
        }
        if self.expression_mean.len() != v || self.uvs.len() != v {
            return Err("expression mean or uvs not one per vertex".into());
        }
        let noise_ok = |v: &f32| v.is_finite() && *v > 0.0;
        if !self.landmark_noise.is_empty()
            && (self.landmark_noise.len() != LANDMARKS || !self.landmark_noise.iter().all(noise_ok))
        {
            return Err(format!(
                "{} landmark noise values, not {LANDMARKS} positive ones",
                self.landmark_noise.len()
            ));
        }
        if self.landmarks68.len() != 68 {
            return Err(format!("{} landmarks, not 68", self.landmarks68.len()));
        }
        let indices = self.triangles.iter().flatten().chain(&self.landmarks68);
        if let Some(i) = indices.copied().find(|&i| i as usize >= v) {
            return Err(format!("vertex index {i} >= {v}"));
        }
        Ok(())
    }

    /// Writes the model as safetensors (the layout [`MorphableModel::from_bytes`] reads; the
    /// basis as f16, which halves the file and costs under 1e-3 of a component's value).
    ///
    /// # Errors
    /// Candle's error when the file cannot be written.
    pub fn save(&self, path: &Path) -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let (v, k) = (self.mean.len(), self.sigma.len());
        let flat = |p: &[[f32; 3]]| -> Vec<f32> { p.iter().flatten().copied().collect() };
        let tris: Vec<u32> = self.triangles.iter().flatten().copied().collect();
        let uvs: Vec<f32> = self.uvs.iter().flatten().copied().collect();
        let mut map: HashMap<String, Tensor> = [
            ("mean", Tensor::from_vec(flat(&self.mean), (v, 3), &dev)?),
            (
                "basis",
                Tensor::from_slice(&self.basis, (k, v * 3), &dev)?.to_dtype(DType::F16)?,
            ),
            ("sigma", Tensor::from_slice(&self.sigma, k, &dev)?),
            (
                "identity_components",
                Tensor::from_vec(vec![self.identity_components as u32], 1, &dev)?,
            ),
            (
                "expression_mean",
                Tensor::from_vec(flat(&self.expression_mean), (v, 3), &dev)?,
            ),
            (
                "triangles",
                Tensor::from_vec(tris, (self.triangles.len(), 3), &dev)?,
            ),
            ("uvs", Tensor::from_vec(uvs, (v, 2), &dev)?),
            (
                "landmarks68",
                Tensor::from_slice(&self.landmarks68, self.landmarks68.len(), &dev)?,
            ),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
        if !self.landmark_noise.is_empty() {
            let noise = Tensor::from_slice(&self.landmark_noise, self.landmark_noise.len(), &dev)?;
            map.insert("landmark_noise".into(), noise);
        }
        candle_core::safetensors::save(&map, path)
    }

    /// Number of vertices `V`.
    #[must_use]
    pub fn vertex_count(&self) -> usize {
        self.mean.len()
    }

    /// Number of components `K`.
    #[must_use]
    pub fn components(&self) -> usize {
        self.sigma.len()
    }

    /// Component `k` as `V * 3` values (unit norm).
    #[must_use]
    pub fn component(&self, k: usize) -> &[f32] {
        let n = self.mean.len() * 3;
        &self.basis[k * n..(k + 1) * n]
    }

    /// The shape for coefficients `a` (in sigmas; missing ones count as 0), model frame, cm.
    #[must_use]
    pub fn shape(&self, a: &[f32]) -> Vec<[f32; 3]> {
        let flat: Vec<f32> = self.mean.iter().flatten().copied().collect();
        self.add_components(flat, a)
    }

    /// The neutral face of the identity in `a` (expression components and the mean expression
    /// left out), model frame, cm.
    #[must_use]
    pub fn neutral_shape(&self, a: &[f32]) -> Vec<[f32; 3]> {
        let flat: Vec<f32> = self
            .mean
            .iter()
            .zip(&self.expression_mean)
            .flat_map(|(m, e)| [m[0] - e[0], m[1] - e[1], m[2] - e[2]])
            .collect();
        let k = self.identity_components.min(a.len());
        self.add_components(flat, &a[..k])
    }

    /// Vertices `ids` of [`Self::shape`]`(a)`, without forming the others.
    #[must_use]
    pub fn shape_at(&self, ids: &[usize], a: &[f32]) -> Vec<[f32; 3]> {
        ids.iter()
            .map(|&i| {
                let mut p = self.mean[i];
                for (k, (&ak, &s)) in a.iter().zip(&self.sigma).enumerate() {
                    if ak != 0.0 {
                        let b = &self.component(k)[3 * i..3 * i + 3];
                        for (o, v) in p.iter_mut().zip(b) {
                            *o += ak * s * v;
                        }
                    }
                }
                p
            })
            .collect()
    }

    fn add_components(&self, mut flat: Vec<f32>, a: &[f32]) -> Vec<[f32; 3]> {
        for (k, (&ak, &s)) in a.iter().zip(&self.sigma).enumerate() {
            if ak != 0.0 {
                let w = ak * s;
                for (o, b) in flat.iter_mut().zip(self.component(k)) {
                    *o += w * b;
                }
            }
        }
        flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
    }
}

/// FaceMesh's landmarks (photo or crop pixels `[x, y down, z]`, smaller z = nearer) in the crop
/// frame of a crop `side` pixels high: `[x, side - y, -z]`, already in crop pixels.
#[must_use]
pub fn crop_frame_points(points: &[[f32; 3]], side: f32) -> Vec<[f32; 3]> {
    points.iter().map(|p| [p[0], side - p[1], -p[2]]).collect()
}

/// The robust model fit to FaceMesh's 468 landmarks on a face crop framed like a synthetic
/// sample (crop frame of that crop).
///
/// # Errors
/// FaceMesh failure, or landmarks the model cannot be fitted to.
pub fn fit_crop(
    crop: &RgbImage,
    detector: &crate::pipeline::detect::Detector,
    model: &MorphableModel,
) -> Result<Fit, MorphableError> {
    let marks = crop_landmarks(detector, crop)?;
    let side = crop.height() as f32;
    fit::fit(
        model,
        &crop_frame_points(&marks.points, side),
        &FitOptions::default(),
    )
}

/// The coarse face of a face crop framed like a synthetic sample (any square side; 128 for the
/// synthetic data): FaceMesh's 468 landmarks on the crop, the robust model fit ([`fit_crop`]),
/// the fitted dense mesh rasterised into the crop (see [`CoarseDepth`] for the units).
///
/// # Errors
/// FaceMesh failure, or landmarks the model cannot be fitted to.
pub fn coarse_depth(
    crop: &RgbImage,
    detector: &crate::pipeline::detect::Detector,
    model: &MorphableModel,
) -> Result<CoarseDepth, MorphableError> {
    let fitted = fit_crop(crop, detector, model)?;
    Ok(depth::render(
        &fitted.vertices(model),
        &model.triangles,
        crop.width() as usize,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load_keep_the_model_and_its_landmark_noise() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut model = MorphableModel::embedded().unwrap();
        assert_eq!(model.landmark_noise.len(), LANDMARKS);
        model.save(&path).unwrap();
        let back = MorphableModel::load(&path).unwrap();
        assert_eq!(back.landmark_noise, model.landmark_noise);
        assert_eq!(back.mean, model.mean);
        // Without noise (a model built with `--noise-renders 0`): loads, with none.
        model.landmark_noise.clear();
        model.save(&path).unwrap();
        assert!(
            MorphableModel::load(&path)
                .unwrap()
                .landmark_noise
                .is_empty()
        );
        // A wrong count or a non-positive variance is refused.
        model.landmark_noise = vec![0.1; 10];
        model.save(&path).unwrap();
        assert!(MorphableModel::load(&path).is_err());
        model.landmark_noise = vec![0.0; LANDMARKS];
        model.save(&path).unwrap();
        assert!(MorphableModel::load(&path).is_err());
    }
}
