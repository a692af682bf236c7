//! `visage eval recon --method pix2pix`: the pix2pix reconstructor on the synthetic test split.
//!
//! Protocol. Each test sample's *clean* 128 px crop (already framed like the pipeline's crop) is
//! downscaled to the input width (triangle filter) and brought back to 128 px with the upscaler
//! (width 128: untouched), as the pipeline's upscale stage would. The network predicts depth and
//! mask; then
//! - depth MAE: mean |predicted - true| depth over the true head mask at the network's 64 px
//!   grid, both centred on that mask (Galteri et al. 2019), in 128-crop pixels and divided by the
//!   sample's outer interocular distance (3D, landmarks 36-45);
//! - NME: the mesh the pipeline builds (masked grid, long edges cut, 5 Taubin pairs), shifted to
//!   the true mean depth, rigidly aligned to the ground-truth face-area vertices by trimmed ICP;
//!   mean vertex-to-surface distance / interocular distance ([`super::recon::nme`], the same
//!   measure as every other method's).

use super::depth::centred_mae;
use super::recon::{interocular, nme};
use crate::pipeline::reconstruct::pix2pix::{Options, mesh_from_prediction};
use crate::pipeline::reconstruct::pix2pix_model::{
    CROP_SIDE, NET_SIDE, Pix2pixModel, depth_unit, normalised_target,
};
use crate::pipeline::upscale::{Upscaler, upscale};
use crate::synth::Shard;
use anyhow::Context;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::path::PathBuf;

/// One evaluated input condition.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Condition {
    /// Face crop width before upscaling, pixels.
    pub width: u32,
    /// Upscaler back to 128 px (`None` at 128).
    pub upscaler: Option<Upscaler>,
}

/// The standard conditions: 128 px, then 64 and 32 px with every upscaler.
#[must_use]
pub fn standard_conditions() -> Vec<Condition> {
    let mut out = vec![Condition {
        width: CROP_SIDE,
        upscaler: None,
    }];
    for width in [64, 32] {
        for u in Upscaler::ALL {
            out.push(Condition {
                width,
                upscaler: Some(u),
            });
        }
    }
    out
}

/// Results of one condition (means over the samples).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConditionResult {
    /// The condition.
    pub condition: Condition,
    /// Samples evaluated.
    pub samples: usize,
    /// Depth MAE on the true mask, 128-crop pixels.
    pub depth_mae_px: f32,
    /// Depth MAE / interocular distance.
    pub depth_mae_iod: f32,
    /// Mesh NME (/ interocular distance).
    pub nme: f32,
    /// Samples whose prediction gave no mesh (excluded from the NME).
    pub empty_meshes: usize,
}

/// One test sample's ground truth.
pub struct Truth {
    /// Clean 128 px render.
    pub clean: RgbImage,
    /// Crop-frame depth, `[128 * 128]` (shards' `depth`).
    pub depth: Vec<f32>,
    /// Head mask, `[128 * 128]`.
    pub mask: Vec<u8>,
    /// Face-area vertices, crop frame.
    pub mesh: Vec<[f32; 3]>,
    /// Outer interocular distance (3D), crop pixels.
    pub iod: f32,
}

/// The first `count` samples of the 128 px shards in `dirs`.
///
/// # Errors
/// Unreadable or non-128 px shards.
pub fn load_truths(dirs: &[PathBuf], count: usize) -> anyhow::Result<Vec<Truth>> {
    let mut out = Vec::new();
    for dir in dirs {
        for file in crate::train::pix2pix_data::shard_files(dir)? {
            let shard = Shard::open(&file)?;
            anyhow::ensure!(shard.info.size == CROP_SIDE as usize, "need 128 px shards");
            for i in 0..shard.len() {
                if out.len() >= count {
                    return Ok(out);
                }
                let clean = RgbImage::from_raw(CROP_SIDE, CROP_SIDE, shard.u8s("clean", i)?)
                    .context("clean image of the wrong size")?;
                let lm: Vec<[f32; 3]> = shard
                    .f32s("landmarks_3d", i)?
                    .chunks_exact(3)
                    .map(|c| [c[0], c[1], c[2]])
                    .collect();
                let mesh: Vec<[f32; 3]> = shard
                    .f32s("mesh", i)?
                    .chunks_exact(3)
                    .map(|c| [c[0], c[1], c[2]])
                    .collect();
                out.push(Truth {
                    clean,
                    depth: shard.f32s("depth", i)?,
                    mask: shard.u8s("mask", i)?,
                    mesh,
                    iod: interocular(&lm).unwrap_or(f32::NAN),
                });
            }
        }
    }
    Ok(out)
}

/// The method's input for `condition`: the clean crop, or at `width` px brought back to 128 px
/// with the condition's upscaler.
///
/// # Errors
/// Upscaling errors.
pub fn degrade(clean: &RgbImage, c: Condition) -> anyhow::Result<RgbImage> {
    match c.upscaler {
        Some(u) if c.width < CROP_SIDE => {
            let small = resize(clean, c.width, c.width, FilterType::Triangle);
            Ok(upscale(&small, u, CROP_SIDE, CROP_SIDE)?)
        }
        _ => Ok(clean.clone()),
    }
}

/// Evaluates `model` on up to `count` samples of the shards in `dirs` under each condition.
/// `mesh_stride` keeps every n-th ground-truth vertex for the NME (speed).
///
/// # Errors
/// Unreadable shards or network failures.
pub fn evaluate(
    model: &Pix2pixModel,
    dirs: &[PathBuf],
    count: usize,
    conditions: &[Condition],
    mesh_stride: usize,
) -> anyhow::Result<Vec<ConditionResult>> {
    let truths = load_truths(dirs, count)?;
    anyhow::ensure!(!truths.is_empty(), "no test samples");
    let crop = CROP_SIDE as usize;
    let unit = depth_unit(crop);
    let options = Options::default();
    let mut results = Vec::new();
    for &condition in conditions {
        let (mut mae, mut mae_iod, mut nme_sum, mut meshes, mut empty) = (0.0, 0.0, 0.0, 0, 0);
        for t in &truths {
            let input = degrade(&t.clean, condition)?;
            let pred = model.predict(&input)?;
            let (z, m) = normalised_target(&t.depth, &t.mask, crop, NET_SIDE);
            let mask: Vec<bool> = m.iter().map(|&v| v > 0.0).collect();
            let blurred = pred.smoothed(options.depth_blur);
            let e = centred_mae(&blurred.depth, &z, &mask).unwrap_or(0.0) * unit;
            mae += e;
            mae_iod += e / t.iod;
            let Ok(mut mesh) = mesh_from_prediction(&pred, &input, crop, &options) else {
                empty += 1;
                continue;
            };
            let head: Vec<f32> = (0..t.mask.len())
                .filter(|&i| t.mask[i] > 0)
                .map(|i| t.depth[i])
                .collect();
            let offset = head.iter().sum::<f32>() / head.len().max(1) as f32;
            for p in &mut mesh.positions {
                p[2] += offset;
            }
            let gt: Vec<[f32; 3]> = t.mesh.iter().step_by(mesh_stride.max(1)).copied().collect();
            if let Some(v) = nme(&mesh, &gt, t.iod) {
                nme_sum += v;
                meshes += 1;
            } else {
                empty += 1;
            }
        }
        let n = truths.len() as f32;
        eprintln!(
            "{}/{}: MAE {:.3} px, NME {:.4}",
            condition.width,
            condition.upscaler.map_or("-", Upscaler::name),
            mae / n,
            nme_sum / meshes.max(1) as f32
        );
        results.push(ConditionResult {
            condition,
            samples: truths.len(),
            depth_mae_px: mae / n,
            depth_mae_iod: mae_iod / n,
            nme: nme_sum / meshes.max(1) as f32,
            empty_meshes: empty,
        });
    }
    Ok(results)
}
