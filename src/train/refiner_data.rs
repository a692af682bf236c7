//! Training pairs of the CGAN refiner from synthetic shards: the coarse fit of each rendered face
//! (cached once per folder, [`CoarseCache`]) against its true depth, both as DCE images at the
//! refiner's side.
//!
//! Pairs. The input is [`coarse_input`] of the coarse map (and the degraded `rgb` render when
//! the model takes RGB). The target is the DCE image of the true depth on the true head mask,
//! both block-averaged to [`NET_SIDE`]; its depth channel is offset so that on the *region*
//! (coarse mask and true mask) its mean equals the coarse input's, since depth maps have no
//! absolute offset. Losses and metrics count the region only.

use super::pix2pix_data::push_rows;
use crate::dataset::{CoarseCache, eye_px, shard_files};
use crate::nn::refiner::DCE_CHANNELS;
use crate::pipeline::dce::{dce, downsample_masked, mask_mean};
use crate::pipeline::reconstruct::refiner_model::{CoarseInput, NET_SIDE, coarse_input, spacing};
use crate::synth::Shard;
use candle_core::{Device, Tensor};
use image::RgbImage;
use std::path::Path;

/// Refiner pairs at [`NET_SIDE`], stored flat.
#[derive(Clone, Debug, Default)]
pub struct RefinerSet {
    /// Input channels C.
    pub channels: usize,
    /// Network inputs `[N, C, S, S]`.
    pub inputs: Vec<f32>,
    /// Target DCE `[N, 3, S, S]`.
    pub targets: Vec<f32>,
    /// Region (coarse and true mask) in {0, 1}, `[N, S, S]`.
    pub region: Vec<f32>,
    /// Outer interocular distance (3D, landmarks 36-45) in crop pixels, `[N]`.
    pub eye_px: Vec<f32>,
}

/// The target of one pair: the true depth's DCE image aligned to `input` (see the module docs)
/// and the region; `None` when the region is empty.
#[must_use]
pub fn target(
    input: &CoarseInput,
    truth: &[f32],
    truth_mask: &[bool],
    crop: usize,
) -> Option<(Vec<f32>, Vec<bool>)> {
    let (g, gm) = downsample_masked(truth, truth_mask, crop, NET_SIDE);
    let region: Vec<bool> = gm.iter().zip(&input.mask).map(|(a, b)| *a && *b).collect();
    if !region.iter().any(|&b| b) {
        return None;
    }
    let centre = mask_mean(&g, &region) - mask_mean(&input.depth, &region) + input.centre;
    Some((dce(&g, &gm, NET_SIDE, spacing(crop), centre).data, region))
}

impl RefinerSet {
    /// Number of pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.eye_px.len()
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.eye_px.is_empty()
    }

    /// Appends one pair; false (nothing added) when coarse and true masks do not overlap.
    ///
    /// # Errors
    /// A coarse map of a side the refiner cannot take, or one whose channel count differs from
    /// the set's.
    pub fn push(
        &mut self,
        input: CoarseInput,
        truth: &[f32],
        truth_mask: &[bool],
        crop: usize,
        eye_px: f32,
    ) -> anyhow::Result<bool> {
        let c = input.channels.len() / (NET_SIDE * NET_SIDE);
        anyhow::ensure!(
            self.channels == 0 || self.channels == c,
            "{c} channels in a set of {}",
            self.channels
        );
        let Some((t, region)) = target(&input, truth, truth_mask, crop) else {
            return Ok(false);
        };
        self.channels = c;
        self.inputs.extend(input.channels);
        self.targets.extend(t);
        self.region
            .extend(region.iter().map(|&b| f32::from(u8::from(b))));
        self.eye_px.push(eye_px);
        Ok(true)
    }

    /// Tensors `(input [B, C, S, S], target [B, 3, S, S], region [B, 1, S, S])` of samples
    /// `idx`, mirrored left-right where `flip` is true (depth, curvature and elevation are all
    /// unchanged by a mirror, so mirrored pairs are valid pairs).
    ///
    /// # Errors
    /// An index out of range, or candle errors.
    pub fn batch(&self, idx: &[usize], flip: &[bool]) -> anyhow::Result<(Tensor, Tensor, Tensor)> {
        let s = NET_SIDE;
        let n = s * s;
        let (mut x, mut y, mut m) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in idx.iter().enumerate() {
            anyhow::ensure!(i < self.len(), "sample {i} of {}", self.len());
            let f = flip.get(k).copied().unwrap_or(false);
            for c in 0..self.channels {
                let at = (i * self.channels + c) * n;
                push_rows(&self.inputs[at..at + n], s, f, &mut x);
            }
            for c in 0..DCE_CHANNELS {
                let at = (i * DCE_CHANNELS + c) * n;
                push_rows(&self.targets[at..at + n], s, f, &mut y);
            }
            push_rows(&self.region[i * n..(i + 1) * n], s, f, &mut m);
        }
        let (b, dev) = (idx.len(), Device::Cpu);
        Ok((
            Tensor::from_vec(x, (b, self.channels, s, s), &dev)?,
            Tensor::from_vec(y, (b, DCE_CHANNELS, s, s), &dev)?,
            Tensor::from_vec(m, (b, 1, s, s), &dev)?,
        ))
    }
}

/// Loads the pairs of the first `limit` samples of `dir` with their coarse fits from `cache`
/// (samples whose fit failed, or does not overlap the face, are skipped); `rgb` adds the
/// degraded render to the input.
///
/// # Errors
/// Unreadable shards; a cache shorter than the samples asked for.
pub fn load_set(
    dir: &Path,
    cache: &CoarseCache,
    rgb: bool,
    limit: Option<usize>,
) -> anyhow::Result<RefinerSet> {
    let mut set = RefinerSet::default();
    let mut k = 0usize;
    for file in shard_files(dir)? {
        let shard = Shard::open(&file)?;
        let crop = shard.info.size;
        for i in 0..shard.len() {
            if limit.is_some_and(|l| k >= l) || k >= cache.len() {
                return Ok(set);
            }
            k += 1;
            let Some((depth, mask)) = cache.get(k - 1) else {
                continue;
            };
            let cs = u32::try_from(crop)?;
            let img = rgb
                .then(|| RgbImage::from_raw(cs, cs, shard.u8s("rgb", i).unwrap_or_default()))
                .flatten();
            anyhow::ensure!(!rgb || img.is_some(), "{}: bad rgb {i}", file.display());
            let input = coarse_input(depth, mask, cache.side, img.as_ref())?;
            let truth_mask: Vec<bool> = shard.u8s("mask", i)?.iter().map(|&v| v > 0).collect();
            let eye = eye_px(&shard, i)?;
            set.push(input, &shard.f32s("depth", i)?, &truth_mask, crop, eye)?;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = CoarseCache {
            side: 2,
            source: "blur".into(),
            ..CoarseCache::default()
        };
        cache
            .push(Some((
                vec![1.0, 2.0, 3.0, 4.0],
                vec![true, false, true, true],
                2,
            )))
            .unwrap();
        cache.push(None).unwrap();
        assert!(cache.push(Some((vec![0.0; 9], vec![true; 9], 3))).is_err());
        let path = dir.path().join("c.safetensors");
        cache.save(&path).unwrap();
        let back = CoarseCache::load(&path).unwrap();
        assert_eq!(back, cache);
        assert_eq!(back.len(), 2);
        assert!(back.get(0).is_some() && back.get(1).is_none() && back.get(2).is_none());
    }

    #[test]
    fn target_depth_is_aligned_on_the_region() {
        // Coarse: a tilted plane on a centred square; truth: the same plane shifted by 20 crop
        // pixels on a larger square. After alignment the depth channels agree on the region.
        let side: usize = 128;
        // Block-aligned squares (even bounds), so the 2x2 block means agree.
        let inside = |i: usize, h: usize| {
            (64 - h..64 + h).contains(&(i / side)) && (64 - h..64 + h).contains(&(i % side))
        };
        let plane: Vec<f32> = (0..side * side).map(|i| 0.3 * (i % side) as f32).collect();
        let mask: Vec<bool> = (0..side * side).map(|i| inside(i, 30)).collect();
        let truth: Vec<f32> = plane.iter().map(|z| z + 20.0).collect();
        let truth_mask: Vec<bool> = (0..side * side).map(|i| inside(i, 40)).collect();
        let input = coarse_input(&plane, &mask, side, None).unwrap();
        let (t, region) = target(&input, &truth, &truth_mask, side).unwrap();
        assert_eq!(region, input.mask);
        let n = NET_SIDE * NET_SIDE;
        for i in (0..n).filter(|&i| region[i]) {
            assert!((t[i] - input.channels[i]).abs() < 1e-4, "depth at {i}");
        }
    }
}
