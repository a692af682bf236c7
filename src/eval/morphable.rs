//! The `3dmm` and `3dmm-cgan` methods as the evaluation runs them ([`MorphableCrop`], a
//! [`CropReconstructor`]).
//!
//! FaceMesh's 468 landmarks on the (degraded, enlarged) crop drive the robust fit
//! ([`crate::pipeline::reconstruct::morphable::fit`]); with a refiner, the CGAN corrects the
//! fit's depth ([`crate::pipeline::reconstruct::morphable::refine`]); the mesh is the dense
//! topology coloured from the crop. With the truth given:
//! - depth MAE: mean |fitted (or refined) - true| depth over the pixels both the fitted mesh and
//!   the true head mask cover, both centred on those pixels (Galteri et al. 2019), in crop
//!   pixels; the fitted mesh covers FaceMesh's face region (brows to chin), not the whole head,
//!   so this is a face-region error, on the same pixels for both methods;
//! - the mesh is shifted in z to the true mean depth over those pixels before the NME's ICP (a
//!   starting point only: ICP aligns rigidly anyway).

use super::depth::centred_mae;
use super::recon::{CropInput, CropOutput, CropReconstructor, DepthTruth};
use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::reconstruct::morphable::depth::rasterise;
use crate::pipeline::reconstruct::morphable::method::dense_mesh;
use crate::pipeline::reconstruct::morphable::refine::refine_vertices;
use crate::pipeline::reconstruct::morphable::{FitOptions, MorphableModel, crop_frame_points, fit};
use crate::pipeline::reconstruct::refiner_model::RefinerModel;
use std::time::Instant;

/// The `3dmm` method (or `3dmm-cgan`, with a refiner) on a face crop. FaceMesh's result comes
/// with the input when the evaluation ran it; with ground-truth 68-point landmarks the method
/// runs FaceMesh itself (68 points are too few for the fit).
pub struct MorphableCrop {
    /// FaceMesh (and BlazeFace), for inputs without FaceMesh's result.
    pub detector: Detector,
    /// The morphable model.
    pub model: MorphableModel,
    /// The CGAN refiner (`3dmm-cgan`), or none (`3dmm`).
    pub refiner: Option<RefinerModel>,
}

impl CropReconstructor for MorphableCrop {
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput> {
        let t = Instant::now();
        let own;
        let marks = match input.facemesh {
            Some(m) => m,
            None => {
                own = crop_landmarks(&self.detector, input.crop)?;
                &own
            }
        };
        #[allow(clippy::cast_precision_loss)]
        let side = input.crop.height() as f32;
        let fitted = fit::fit(
            &self.model,
            &crop_frame_points(&marks.points, side),
            &FitOptions::default(),
        )?;
        let vertices = fitted.vertices(&self.model);
        let refinement = self
            .refiner
            .as_ref()
            .map(|r| refine_vertices(&vertices, &self.model.triangles, input.crop, r))
            .transpose()?;
        let network_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut depth_mae_px = None;
        let (positions, depth, mask) = match refinement {
            Some(r) => {
                let depth = r.refined.iter().map(|z| z + r.offset).collect();
                (r.vertices, depth, r.coarse.mask)
            }
            None => {
                let (depth, mask) = rasterise(
                    &vertices,
                    &self.model.triangles,
                    input.crop.width() as usize,
                );
                (vertices, depth, mask)
            }
        };
        let mut mesh = dense_mesh(positions, &self.model, input.crop)?;
        if let Some(truth) = truth.filter(|t| t.side * t.side == mask.len()) {
            let both: Vec<bool> = mask
                .iter()
                .zip(truth.mask)
                .map(|(&a, &b)| a && b > 0)
                .collect();
            depth_mae_px = centred_mae(&depth, truth.depth, &both);
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
            let shift = mean(truth.depth) - mean(&depth);
            for p in &mut mesh.positions {
                p[2] += shift;
            }
        }
        Ok(CropOutput {
            mesh,
            depth_mae_px,
            network_s,
            mesh_s: t.elapsed().as_secs_f64(),
        })
    }
}
