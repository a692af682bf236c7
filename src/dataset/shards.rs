//! The shard files of a folder and per-sample facts read from them.

use crate::metrics::nme::interocular;
use crate::synth::Shard;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The shard files of `dir`, sorted.
///
/// # Errors
/// An unreadable folder, or one without shards.
pub fn shard_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "{}: no .safetensors shards",
        dir.display()
    );
    Ok(files)
}

/// Outer interocular distance of sample `i` (3D, landmarks 36-45), crop pixels.
///
/// # Errors
/// A shard without `landmarks_3d`.
pub fn eye_px(shard: &Shard, i: usize) -> anyhow::Result<f32> {
    let lm = shard.f32s("landmarks_3d", i)?;
    let pts: Vec<[f32; 3]> = lm.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    Ok(interocular(&pts).unwrap_or(f32::NAN))
}
