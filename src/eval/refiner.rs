//! `visage eval refiner`: does the CGAN refiner lower the depth error of the coarse
//! morphable-model fit? (Galteri et al. 2019's central claim.)
//!
//! Protocol. For each sample of a folder of synthetic shards (the test split), the coarse fit of
//! its degraded `rgb` render (cached, [`crate::dataset::CoarseCache`]) is refined
//! ([`RefinerModel::refine`], full crop resolution). Depth MAE is measured on the region where
//! the coarse mask and the true head mask overlap, at the crop's resolution, each map centred on
//! that region ([`crate::metrics::depth::centred_mae`]), in crop pixels and divided by the sample's outer
//! interocular distance (3D, landmarks 36-45). Samples whose fit failed are counted, not scored.

use super::stats::mean_std;
use crate::dataset::{CoarseCache, eye_px, shard_files};
use crate::metrics::depth::centred_mae;
use crate::pipeline::reconstruct::refiner_model::RefinerModel;
use crate::synth::Shard;
use anyhow::Context;
use image::RgbImage;
use std::path::Path;

/// Errors of one sample.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Score {
    /// Coarse depth MAE, crop pixels.
    pub coarse_px: f32,
    /// Refined depth MAE, crop pixels.
    pub refined_px: f32,
    /// Outer interocular distance, crop pixels.
    pub eye_px: f32,
}

/// Scores of the first `count` samples of `dir` (those with a coarse fit) and the number of
/// samples without one.
///
/// # Errors
/// Unreadable shards, a cache of another size than the crops, inference errors.
pub fn evaluate(
    model: &RefinerModel,
    dir: &Path,
    cache: &CoarseCache,
    count: usize,
) -> anyhow::Result<(Vec<Score>, usize)> {
    let (mut scores, mut failed, mut k) = (Vec::new(), 0usize, 0usize);
    for file in shard_files(dir)? {
        let shard = Shard::open(&file)?;
        let crop = shard.info.size;
        anyhow::ensure!(
            cache.side == crop,
            "cache side {} vs crop {crop}",
            cache.side
        );
        for i in 0..shard.len() {
            if k >= count.min(cache.len()) {
                return Ok((scores, failed));
            }
            k += 1;
            let Some((depth, mask)) = cache.get(k - 1) else {
                failed += 1;
                continue;
            };
            let cs = u32::try_from(crop)?;
            let rgb = RgbImage::from_raw(cs, cs, shard.u8s("rgb", i)?)
                .with_context(|| format!("{}: bad rgb {i}", file.display()))?;
            let refined = model.refine(depth, mask, crop, &rgb)?;
            let truth = shard.f32s("depth", i)?;
            let region: Vec<bool> = shard
                .u8s("mask", i)?
                .iter()
                .zip(mask)
                .map(|(&t, &m)| t > 0 && m)
                .collect();
            let (Some(c), Some(r)) = (
                centred_mae(depth, &truth, &region),
                centred_mae(&refined, &truth, &region),
            ) else {
                failed += 1;
                continue;
            };
            scores.push(Score {
                coarse_px: c,
                refined_px: r,
                eye_px: eye_px(&shard, i)?,
            });
        }
    }
    Ok((scores, failed))
}

/// A Markdown table of `scores` (means, medians, share of samples the refiner improved).
#[must_use]
pub fn table(scores: &[Score], failed: usize) -> String {
    let col = |f: &dyn Fn(&Score) -> f32| -> (f64, f64) {
        let mut v: Vec<f64> = scores.iter().map(|s| f64::from(f(s))).collect();
        let (mean, _) = mean_std(&v);
        v.sort_by(f64::total_cmp);
        let median = v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
        (mean, median)
    };
    let iod = |x: f32, s: &Score| x / s.eye_px.max(1e-3);
    let rows = [
        (
            "coarse (3DMM fit)",
            col(&|s| s.coarse_px),
            col(&|s| iod(s.coarse_px, s)),
        ),
        (
            "refined (CGAN)",
            col(&|s| s.refined_px),
            col(&|s| iod(s.refined_px, s)),
        ),
    ];
    let better = scores.iter().filter(|s| s.refined_px < s.coarse_px).count();
    let mut out = String::from(
        "| depth | MAE px mean | MAE px median | MAE / IOD mean | MAE / IOD median |\n|---|---|---|---|---|\n",
    );
    for (name, px, rel) in rows {
        out += &format!(
            "| {name} | {:.3} | {:.3} | {:.4} | {:.4} |\n",
            px.0, px.1, rel.0, rel.1
        );
    }
    out += &format!(
        "\n{} samples scored, {failed} without a coarse fit; the refiner lowered the error on {better} of {}.\n",
        scores.len(),
        scores.len()
    );
    out
}
