//! `visage eval recon --method 3dmm`: the morphable-model fit on the synthetic test split.
//!
//! Protocol (the conditions and input degradation of [`super::pix2pix`]: the clean 128 px crop,
//! or the crop at 64 / 32 px brought back with each upscaler). FaceMesh's 468 landmarks on that
//! input drive the robust fit ([`crate::pipeline::reconstruct::morphable::fit_crop`]); then
//! - depth MAE: mean |coarse - true| depth over the pixels both the fitted mesh and the true head
//!   mask cover, both centred on those pixels (Galteri et al. 2019), in 128-crop pixels and
//!   divided by the outer interocular distance; the fitted mesh covers FaceMesh's face region
//!   (brows to chin), not the whole head, so this is a face-region error;
//! - NME: the fitted dense mesh, shifted to the true mean depth on those pixels, rigidly aligned
//!   to the ground-truth face-area vertices by trimmed ICP; mean vertex-to-surface distance /
//!   interocular distance ([`super::recon::nme`], as for every method).
//!
//! [`MorphableCrop`] is the same method as a [`CropReconstructor`] for the cross-method report.

use super::depth::centred_mae;
use super::pix2pix::{Condition, ConditionResult, Truth, degrade, load_truths};
use super::recon::{CropReconstructor, nme};
use crate::pipeline::detect::Detector;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::reconstruct::morphable::depth::rasterise;
use crate::pipeline::reconstruct::morphable::method::fitted_mesh;
use crate::pipeline::reconstruct::morphable::{MorphableModel, fit_crop};
use crate::pipeline::upscale::Upscaler;
use image::RgbImage;
use std::path::PathBuf;

/// The `3dmm` method on a face crop: FaceMesh's 468 landmarks on the crop (the 68 given ones
/// are not enough for the fit and are ignored), the fit, the coloured dense mesh.
pub struct MorphableCrop {
    /// FaceMesh (and BlazeFace).
    pub detector: Detector,
    /// The morphable model.
    pub model: MorphableModel,
}

impl CropReconstructor for MorphableCrop {
    fn reconstruct_crop(&self, crop: &RgbImage, _landmarks68: &[[f32; 2]]) -> anyhow::Result<Mesh> {
        let fitted = fit_crop(crop, &self.detector, &self.model)?;
        Ok(fitted_mesh(&self.model, &fitted, crop)?)
    }
}

/// Depth MAE (128-crop px) and NME of one reconstruction against `truth`: `mesh` in the crop
/// frame, `depth` its uncentred crop-frame depth map and `mask` where it is defined
/// (`128 x 128`). `None` when the reconstruction and the true head do not overlap.
#[must_use]
pub fn score(
    truth: &Truth,
    mut mesh: Mesh,
    depth: &[f32],
    mask: &[bool],
    mesh_stride: usize,
) -> Option<(f32, f32)> {
    let both: Vec<bool> = mask
        .iter()
        .zip(&truth.mask)
        .map(|(&a, &b)| a && b > 0)
        .collect();
    let mae = centred_mae(depth, &truth.depth, &both)?;
    let mean = |v: &[f32]| {
        let (s, n) = v
            .iter()
            .zip(&both)
            .filter(|(_, m)| **m)
            .fold((0.0f64, 0usize), |(s, n), (z, _)| {
                (s + f64::from(*z), n + 1)
            });
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let m = (s / n.max(1) as f64) as f32;
        m
    };
    let shift = mean(&truth.depth) - mean(depth);
    for p in &mut mesh.positions {
        p[2] += shift;
    }
    let gt: Vec<[f32; 3]> = truth
        .mesh
        .iter()
        .step_by(mesh_stride.max(1))
        .copied()
        .collect();
    Some((mae, nme(&mesh, &gt, truth.iod)?))
}

/// Evaluates the coarse fit on up to `count` samples of the shards in `dirs` under each
/// condition; `mesh_stride` keeps every n-th ground-truth vertex for the NME (speed).
///
/// # Errors
/// Unreadable shards or image errors.
pub fn evaluate(
    detector: &Detector,
    model: &MorphableModel,
    dirs: &[PathBuf],
    count: usize,
    conditions: &[Condition],
    mesh_stride: usize,
) -> anyhow::Result<Vec<ConditionResult>> {
    let truths = load_truths(dirs, count)?;
    anyhow::ensure!(!truths.is_empty(), "no test samples");
    let mut results = Vec::new();
    for &condition in conditions {
        let (mut mae, mut mae_iod, mut nme_sum, mut ok, mut failed) = (0.0, 0.0, 0.0, 0, 0);
        for t in &truths {
            let input = degrade(&t.clean, condition)?;
            let Ok(fitted) = fit_crop(&input, detector, model) else {
                failed += 1;
                continue;
            };
            let vertices = fitted.vertices(model);
            let (depth, mask) = rasterise(&vertices, &model.triangles, t.clean.width() as usize);
            let scored = fitted_mesh(model, &fitted, &input)
                .ok()
                .and_then(|mesh| score(t, mesh, &depth, &mask, mesh_stride));
            if let Some((e, n)) = scored {
                mae += e;
                mae_iod += e / t.iod;
                nme_sum += n;
                ok += 1;
            } else {
                failed += 1;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let k = ok.max(1) as f32;
        eprintln!(
            "{}/{}: MAE {:.3} px, NME {:.4}, failures {failed}",
            condition.width,
            condition.upscaler.map_or("-", Upscaler::name),
            mae / k,
            nme_sum / k
        );
        results.push(ConditionResult {
            condition,
            samples: truths.len(),
            depth_mae_px: mae / k,
            depth_mae_iod: mae_iod / k,
            nme: nme_sum / k,
            empty_meshes: failed,
        });
    }
    Ok(results)
}
