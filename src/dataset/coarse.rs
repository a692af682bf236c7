//! The cache of coarse morphable-model fits of a folder of synthetic renders (the CGAN
//! refiner's input), built once per folder and shared by `visage train refiner` and `visage eval
//! refiner`.

use super::shards::shard_files;
use crate::pipeline::reconstruct::pix2pix_model::DepthPrediction;
use crate::synth::Shard;
use anyhow::Context;
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
