//! FaceMesh's 68 landmarks on every training render, for training the landmark-guided VRN on
//! the landmarks it will be given in use rather than only on the true ones.
//!
//! At inference the VRN's heatmaps come from FaceMesh run on the face crop; on the synthetic test
//! split that costs about 0.018 NME against true landmarks (0.077 vs 0.059). A network trained
//! only on true landmarks (plus small noise) trusts its heatmaps too much to correct FaceMesh's
//! errors, so training shows it FaceMesh's own landmarks on most samples. They are computed once
//! per folder of shards (FaceMesh on the degraded 128 px render, the network's input) and cached
//! next to the folder.

use crate::dataset::shard_files;
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::synth::Shard;
use anyhow::Context;
use image::RgbImage;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::path::{Path, PathBuf};

/// Where the cache of the shard folder `dir` lives: beside it, `<dir>-facemesh68.safetensors`.
#[must_use]
pub fn cache_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "shards".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}-facemesh68.safetensors"))
}

/// Per sample, in shard order: FaceMesh's 68 landmarks in crop pixels, `None` where FaceMesh
/// found no face.
pub type LandmarkCache = Vec<Option<Vec<[f32; 2]>>>;

/// Writes `cache` (`landmarks` F32 `[N, 68, 2]`, `found` U8 `[N]`).
///
/// # Errors
/// I/O failures, with the path.
pub fn save(cache: &LandmarkCache, path: &Path) -> anyhow::Result<()> {
    let mut points = Vec::with_capacity(cache.len() * 68 * 2 * 4);
    for lm in cache {
        let row = lm.clone().unwrap_or_else(|| vec![[0.0; 2]; 68]);
        points.extend(row.iter().flatten().flat_map(|v| v.to_le_bytes()));
    }
    let found: Vec<u8> = cache.iter().map(|l| u8::from(l.is_some())).collect();
    let views = [
        (
            "landmarks",
            TensorView::new(Dtype::F32, vec![cache.len(), 68, 2], &points)?,
        ),
        (
            "found",
            TensorView::new(Dtype::U8, vec![cache.len()], &found)?,
        ),
    ];
    safetensors::serialize_to_file(views, None, path)
        .with_context(|| format!("{}: cannot write the landmark cache", path.display()))
}

/// Reads a cache written by [`save`].
///
/// # Errors
/// An unreadable or malformed file, with the path.
pub fn load(path: &Path) -> anyhow::Result<LandmarkCache> {
    let bad = || format!("{}: not a landmark cache", path.display());
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let st = SafeTensors::deserialize(&bytes).with_context(bad)?;
    let (lm, found) = (
        st.tensor("landmarks").with_context(bad)?,
        st.tensor("found").with_context(bad)?,
    );
    let n = found.shape().first().copied().unwrap_or(0);
    anyhow::ensure!(lm.shape() == [n, 68, 2], bad());
    let values: Vec<f32> = lm
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(found
        .data()
        .iter()
        .zip(values.chunks_exact(68 * 2))
        .map(|(&f, row)| (f > 0).then(|| row.chunks_exact(2).map(|p| [p[0], p[1]]).collect()))
        .collect())
}

/// FaceMesh's 68 landmarks on the degraded render of every sample in `dir` (at most `limit`),
/// loaded from [`cache_path`] when it covers them, otherwise computed and saved there.
///
/// # Errors
/// Unreadable shards or cache, or a failing cache write.
pub fn load_or_build(
    dir: &Path,
    limit: usize,
    detector: &Detector,
) -> anyhow::Result<LandmarkCache> {
    let path = cache_path(dir);
    if path.exists() {
        let cache = load(&path)?;
        if cache.len() >= limit.min(count(dir)?) {
            return Ok(cache);
        }
    }
    let started = std::time::Instant::now();
    let mut cache = LandmarkCache::new();
    for file in shard_files(dir)? {
        let shard = Shard::open(&file)?;
        let side = u32::try_from(shard.info.size)?;
        for i in 0..shard.len() {
            if cache.len() >= limit {
                break;
            }
            let rgb = RgbImage::from_raw(side, side, shard.u8s("rgb", i)?)
                .with_context(|| format!("{}: sample {i} is not {side} px", file.display()))?;
            let found = crop_landmarks(detector, &rgb)
                .ok()
                .and_then(|l| to_68(&l.points))
                .map(|p| p.iter().map(|q| [q[0], q[1]]).collect());
            cache.push(found);
            if cache.len().is_multiple_of(500) {
                eprintln!(
                    "facemesh landmarks: {} samples, {:.0} s",
                    cache.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    let missing = cache.iter().filter(|l| l.is_none()).count();
    eprintln!(
        "facemesh landmarks of {} samples ({missing} without a face) in {:.0} s -> {}",
        cache.len(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
    save(&cache, &path)?;
    Ok(cache)
}

/// Number of samples in the shards of `dir`.
fn count(dir: &Path) -> anyhow::Result<usize> {
    shard_files(dir)?
        .iter()
        .map(|f| -> anyhow::Result<usize> { Ok(Shard::open(f)?.len()) })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_round_trips_with_missing_faces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let one: Vec<[f32; 2]> = (0..68).map(|i| [i as f32, 0.5 * i as f32]).collect();
        let cache: LandmarkCache = vec![Some(one.clone()), None, Some(one)];
        save(&cache, &path).unwrap();
        assert_eq!(load(&path).unwrap(), cache);
    }

    #[test]
    fn cache_sits_beside_the_folder() {
        assert_eq!(
            cache_path(Path::new("data/synth/train128")),
            Path::new("data/synth/train128-facemesh68.safetensors")
        );
    }
}
