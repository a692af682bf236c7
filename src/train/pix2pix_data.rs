//! pix2pix training pairs from synthetic shards: the degraded RGB crop resized to the network
//! side, and its normalised depth and head mask
//! ([`crate::pipeline::reconstruct::pix2pix_model`] defines both), held in memory.

use crate::dataset::shard_files;
use crate::pipeline::reconstruct::pix2pix_model::{network_input, normalised_target};
use crate::synth::Shard;
use anyhow::Context;
use candle_core::{Device, Tensor};
use image::RgbImage;
use std::path::PathBuf;

/// Image/depth pairs at one side, stored flat.
#[derive(Clone, Debug, Default)]
pub struct DepthSet {
    /// Network side S in pixels.
    pub side: usize,
    /// Crop side of the source samples (depth units are its pixels).
    pub crop: usize,
    /// RGB in [-1, 1], `[N, 3, S, S]`.
    pub inputs: Vec<f32>,
    /// Normalised depth, `[N, S, S]`.
    pub depth: Vec<f32>,
    /// Head mask in {0, 1}, `[N, S, S]`.
    pub mask: Vec<f32>,
    /// Outer interocular distance (3D, landmarks 36-45) in crop pixels, `[N]`.
    pub eye_px: Vec<f32>,
}

impl DepthSet {
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

    /// Appends one sample given at crop resolution (`rgb` `[C, C, 3]`, `depth`, `mask` `[C, C]`).
    pub fn push(&mut self, rgb: &RgbImage, depth: &[f32], mask: &[u8], eye_px: f32) {
        self.inputs.extend(network_input(rgb, self.side));
        let (z, m) = normalised_target(depth, mask, self.crop, self.side);
        self.depth.extend(z);
        self.mask.extend(m);
        self.eye_px.push(eye_px);
    }

    /// Tensors `(input [B, 3, S, S], depth [B, 1, S, S], mask [B, 1, S, S])` of samples `idx`,
    /// mirrored left-right where `flip` is true.
    ///
    /// # Errors
    /// An index out of range, or candle errors.
    pub fn batch(&self, idx: &[usize], flip: &[bool]) -> anyhow::Result<(Tensor, Tensor, Tensor)> {
        let s = self.side;
        let n = s * s;
        let (mut x, mut z, mut m) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in idx.iter().enumerate() {
            anyhow::ensure!(i < self.len(), "sample {i} of {}", self.len());
            let f = flip.get(k).copied().unwrap_or(false);
            let copy = |src: &[f32], out: &mut Vec<f32>| push_rows(src, s, f, out);
            for c in 0..3 {
                copy(&self.inputs[(3 * i + c) * n..(3 * i + c + 1) * n], &mut x);
            }
            copy(&self.depth[i * n..(i + 1) * n], &mut z);
            copy(&self.mask[i * n..(i + 1) * n], &mut m);
        }
        let b = idx.len();
        let dev = Device::Cpu;
        Ok((
            Tensor::from_vec(x, (b, 3, s, s), &dev)?,
            Tensor::from_vec(z, (b, 1, s, s), &dev)?,
            Tensor::from_vec(m, (b, 1, s, s), &dev)?,
        ))
    }
}

/// Appends the `side x side` map `src` to `out`, each row reversed when `flip` (a left-right
/// mirror).
pub fn push_rows(src: &[f32], side: usize, flip: bool, out: &mut Vec<f32>) {
    for row in src.chunks_exact(side.max(1)) {
        if flip {
            out.extend(row.iter().rev());
        } else {
            out.extend_from_slice(row);
        }
    }
}

/// Loads up to `limit` samples (all when `None`) from the shards in `dirs` at network `side`.
///
/// # Errors
/// Unreadable shards or inconsistent crop sizes.
pub fn load_dirs(dirs: &[PathBuf], side: usize, limit: Option<usize>) -> anyhow::Result<DepthSet> {
    let mut set = DepthSet {
        side,
        ..DepthSet::default()
    };
    for dir in dirs {
        for file in shard_files(dir)? {
            let shard = Shard::open(&file)?;
            let c = shard.info.size;
            anyhow::ensure!(set.crop == 0 || set.crop == c, "mixed crop sizes at {c}");
            anyhow::ensure!(c % side == 0, "crop {c} is not a multiple of {side}");
            set.crop = c;
            for i in 0..shard.len() {
                if limit.is_some_and(|l| set.len() >= l) {
                    return Ok(set);
                }
                let cs = u32::try_from(c)?;
                let rgb = RgbImage::from_raw(cs, cs, shard.u8s("rgb", i)?)
                    .context("rgb sample of the wrong size")?;
                let lm = shard.f32s("landmarks_3d", i)?;
                let eye = (0..3)
                    .map(|a| (lm[36 * 3 + a] - lm[45 * 3 + a]).powi(2))
                    .sum::<f32>()
                    .sqrt();
                set.push(&rgb, &shard.f32s("depth", i)?, &shard.u8s("mask", i)?, eye);
            }
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_flips_rows() {
        let mut set = DepthSet {
            side: 2,
            crop: 2,
            ..DepthSet::default()
        };
        let rgb = RgbImage::from_fn(2, 2, |x, _| image::Rgb([(x * 255) as u8; 3]));
        set.push(&rgb, &[1.0, 2.0, 3.0, 4.0], &[1, 1, 1, 1], 10.0);
        let (x, z, m) = set.batch(&[0, 0], &[false, true]).unwrap();
        assert_eq!(x.dims(), &[2, 3, 2, 2]);
        let zv: Vec<f32> = z.flatten_all().unwrap().to_vec1().unwrap();
        // Mirrored sample: each row reversed.
        assert_eq!(zv[0], zv[5]);
        assert_eq!(zv[1], zv[4]);
        assert!(zv[0] < zv[1]);
        assert_eq!(m.sum_all().unwrap().to_scalar::<f32>().unwrap(), 8.0);
        assert!(set.batch(&[1], &[false]).is_err());
    }
}
