//! Training pairs of the CGAN refiner from synthetic shards: the coarse fit of each rendered face
//! (cached once per folder, [`CoarseCache`]) against its true depth, both as DCE images at the
//! refiner's side.
//!
//! Pairs. The input is [`coarse_input`] of the coarse map (and the degraded `rgb` render when
//! the model takes RGB). The target is the DCE image of the true depth on the true head mask,
//! both block-averaged to [`NET_SIDE`]; its depth channel is offset so that on the *region*
//! (coarse mask and true mask) its mean equals the coarse input's, since depth maps have no
//! absolute offset. Losses and metrics count the region only.

use super::pix2pix_data::{push_rows, shard_files};
use crate::eval::refiner::eye_px;
use crate::nn::refiner::DCE_CHANNELS;
use crate::pipeline::dce::{dce, downsample_masked, mask_mean};
use crate::pipeline::reconstruct::pix2pix_model::DepthPrediction;
use crate::pipeline::reconstruct::refiner_model::{CoarseInput, NET_SIDE, coarse_input, spacing};
use crate::synth::Shard;
use anyhow::Context;
use candle_core::{Device, Tensor};
use image::RgbImage;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::HashMap;
use std::path::Path;

/// A coarse fit: depth (crop pixels), mask, side.
pub type CoarseFit = (Vec<f32>, Vec<bool>, usize);

/// Coarse depth maps of the samples of a folder of shards, in shard order. A sample whose fit
/// failed (no face found) has an empty mask.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoarseCache {
    /// Side of every map.
    pub side: usize,
    /// What produced the maps (`3dmm`, `blur`).
    pub source: String,
    /// `[N, side, side]` crop-frame z.
    pub depth: Vec<f32>,
    /// `[N, side, side]`.
    pub mask: Vec<bool>,
}

impl CoarseCache {
    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.mask.len() / (self.side * self.side).max(1)
    }

    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.mask.is_empty()
    }

    /// Sample `i` as (depth, mask), `None` when its fit failed or `i` is out of range.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<(&[f32], &[bool])> {
        let n = self.side * self.side;
        let m = self.mask.get(i * n..(i + 1) * n)?;
        m.iter()
            .any(|&b| b)
            .then(|| (&self.depth[i * n..(i + 1) * n], m))
    }

    /// Appends one sample (`None`: failed fit).
    ///
    /// # Errors
    /// A fit of another side than the cache's.
    pub fn push(&mut self, fit: Option<CoarseFit>) -> anyhow::Result<()> {
        anyhow::ensure!(self.side > 0, "cache side not set");
        let n = self.side * self.side;
        match fit {
            Some((d, m, side)) => {
                anyhow::ensure!(
                    side == self.side && d.len() == n && m.len() == n,
                    "coarse fit of side {side} in a cache of side {}",
                    self.side
                );
                self.depth.extend(d);
                self.mask.extend(m);
            }
            None => {
                self.depth.extend(std::iter::repeat_n(0.0, n));
                self.mask.extend(std::iter::repeat_n(false, n));
            }
        }
        Ok(())
    }

    /// Writes the cache as safetensors (`depth` F32, `mask` U8, metadata `source`).
    ///
    /// # Errors
    /// I/O failures, with the path.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let shape = vec![self.len(), self.side, self.side];
        let depth: Vec<u8> = self.depth.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mask: Vec<u8> = self.mask.iter().map(|&b| u8::from(b)).collect();
        let views = [
            ("depth", TensorView::new(Dtype::F32, shape.clone(), &depth)?),
            ("mask", TensorView::new(Dtype::U8, shape, &mask)?),
        ];
        let meta = HashMap::from([("source".to_string(), self.source.clone())]);
        safetensors::serialize_to_file(views, Some(meta), path)
            .with_context(|| format!("{}: cannot write the coarse cache", path.display()))
    }

    /// Reads a cache written by [`CoarseCache::save`].
    ///
    /// # Errors
    /// An unreadable or malformed file, with the path.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bad = || format!("{}: not a coarse cache", path.display());
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let (_, meta) = SafeTensors::read_metadata(&bytes).with_context(bad)?;
        let source = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("source").cloned())
            .unwrap_or_default();
        let st = SafeTensors::deserialize(&bytes).with_context(bad)?;
        let (d, m) = (
            st.tensor("depth").with_context(bad)?,
            st.tensor("mask").with_context(bad)?,
        );
        let side = d.shape().get(1).copied().unwrap_or(0);
        anyhow::ensure!(d.shape() == m.shape() && side > 0, bad());
        Ok(Self {
            side,
            source,
            depth: d
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            mask: m.data().iter().map(|&v| v > 0).collect(),
        })
    }
}

/// Runs `fit` on the first `limit` samples (all when `None`) of the shards in `dir`, in order.
/// `fit` gets the shard and the sample index and answers its coarse map, or `None`.
///
/// # Errors
/// Unreadable shards, or a failing `fit`.
pub fn build_cache(
    dir: &Path,
    limit: Option<usize>,
    source: &str,
    mut fit: impl FnMut(&Shard, usize) -> anyhow::Result<Option<CoarseFit>>,
) -> anyhow::Result<CoarseCache> {
    let mut cache = CoarseCache {
        source: source.to_string(),
        ..CoarseCache::default()
    };
    let (mut done, mut failed) = (0usize, 0usize);
    for file in shard_files(dir)? {
        let shard = Shard::open(&file)?;
        if cache.side == 0 {
            cache.side = shard.info.size;
        }
        for i in 0..shard.len() {
            if limit.is_some_and(|l| done >= l) {
                return Ok(cache);
            }
            let f = fit(&shard, i).with_context(|| format!("{}: sample {i}", file.display()))?;
            failed += usize::from(f.is_none());
            cache.push(f)?;
            done += 1;
            if done % 250 == 0 {
                eprintln!("coarse fits: {done} done, {failed} failed");
            }
        }
    }
    Ok(cache)
}

/// The stand-in coarse fit used before the morphable model existed, and as a sanity baseline:
/// the true depth over the true mask, smoothed by 12 passes of a masked 3x3 mean.
///
/// # Errors
/// Unreadable sample.
pub fn blurred_truth(shard: &Shard, i: usize) -> anyhow::Result<Option<CoarseFit>> {
    let side = shard.info.size;
    let pred = DepthPrediction {
        depth: shard.f32s("depth", i)?,
        mask: shard.u8s("mask", i)?.iter().map(|&v| v > 0).collect(),
    };
    let s = pred.smoothed(12);
    Ok(Some((s.depth, s.mask, side)))
}

/// The cache of `dir` at `path`: loaded when it exists with `source`, otherwise built with
/// `fit` and saved.
///
/// # Errors
/// As [`build_cache`] and [`CoarseCache::save`]; a cache of another source at `path`.
pub fn load_or_build(
    dir: &Path,
    path: &Path,
    source: &str,
    limit: Option<usize>,
    fit: impl FnMut(&Shard, usize) -> anyhow::Result<Option<CoarseFit>>,
) -> anyhow::Result<CoarseCache> {
    if path.exists() {
        let cache = CoarseCache::load(path)?;
        anyhow::ensure!(
            cache.source == source,
            "{}: holds {} fits, not {source}: delete it or pick another --cache-dir",
            path.display(),
            cache.source
        );
        if limit.is_none_or(|l| cache.len() >= l) {
            return Ok(cache);
        }
    }
    let started = std::time::Instant::now();
    let cache = build_cache(dir, limit, source, fit)?;
    eprintln!(
        "{} coarse fits of {} in {:.0} s -> {}",
        cache.len(),
        dir.display(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
    cache.save(path)?;
    Ok(cache)
}

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
