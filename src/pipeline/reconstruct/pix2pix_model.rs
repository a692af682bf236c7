//! The pix2pix depth model as the pipeline uses it: what its input and output mean, the
//! preprocessing shared with training ([`crate::train::pix2pix`]), and inference from a face crop
//! to a depth map in crop pixels.
//!
//! Conventions. The face crop is [`CROP_SIDE`] pixels, framed like a synthetic sample
//! ([`super::crop`]). The network sees it resized to [`NET_SIDE`] (triangle filter), RGB in
//! [-1, 1]. Its channel 0 is the *normalised depth*: crop-frame z (larger = closer) minus its mean
//! over the head mask, divided by [`depth_unit`] (half the crop side), clamped to
//! [[`DEPTH_MIN`], 1]; background pixels are [`BACKGROUND`]. Channel 1 is the head-mask logit.
//! A depth map is only defined up to a z offset: predictions are centred on their mask mean.

use super::fit_prior::{FitFront, PriorOptions, median_gap};
use crate::nn::unet::{UNet, UNetConfig};
use crate::pipeline::dce::downsample_masked;
use crate::pipeline::mesh::from_depth::DepthMap;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::path::Path;

/// Side of the face crop the model reconstructs, pixels.
pub const CROP_SIDE: u32 = 128;
/// Side of the network's input and output maps, pixels.
pub const NET_SIDE: usize = 64;
/// Normalised depth of background pixels.
pub const BACKGROUND: f32 = -1.0;
/// Lowest normalised depth of a head pixel (kept above [`BACKGROUND`]).
pub const DEPTH_MIN: f32 = -0.95;

/// Crop-pixel length of one unit of normalised depth for a crop of side `crop_side`.
#[must_use]
pub fn depth_unit(crop_side: usize) -> f32 {
    crop_side as f32 / 2.0
}

/// Errors of the pix2pix model.
#[derive(Debug, thiserror::Error)]
pub enum Pix2pixError {
    /// The weights file is missing or does not fit the network.
    #[error("{path}: cannot load the pix2pix weights ({source})")]
    Weights {
        /// File tried.
        path: std::path::PathBuf,
        /// Candle's error.
        source: candle_core::Error,
    },
    /// Inference failed.
    #[error("pix2pix inference: {0}")]
    Candle(#[from] candle_core::Error),
}

/// `crop` resized to `side x side` as CHW floats in [-1, 1].
#[must_use]
pub fn network_input(crop: &RgbImage, side: usize) -> Vec<f32> {
    let s = u32::try_from(side).unwrap_or(u32::MAX);
    let img = if crop.width() == s && crop.height() == s {
        crop.clone()
    } else {
        resize(crop, s, s, FilterType::Triangle)
    };
    let n = side * side;
    let mut out = vec![0.0; 3 * n];
    for (i, p) in img.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = f32::from(p.0[c]) / 127.5 - 1.0;
        }
    }
    out
}

/// Ground truth at the network side: `depth`, `mask` (`crop x crop`, crop-frame z and 0/1)
/// averaged over `k x k` blocks (`k = crop / side`) into (normalised depth, mask in {0, 1}).
/// A block is head when at least half its pixels are; its depth is the mean of its head pixels.
#[must_use]
pub fn normalised_target(
    depth: &[f32],
    mask: &[u8],
    crop: usize,
    side: usize,
) -> (Vec<f32>, Vec<f32>) {
    let head: Vec<bool> = mask.iter().map(|&v| v > 0).collect();
    let (z, inside) = downsample_masked(depth, &head, crop, side);
    let m: Vec<f32> = inside.iter().map(|&b| f32::from(u8::from(b))).collect();
    let count = m.iter().sum::<f32>().max(1.0);
    let mean = z.iter().zip(&m).map(|(a, b)| a * b).sum::<f32>() / count;
    let unit = depth_unit(crop);
    let zn = z
        .iter()
        .zip(&m)
        .map(|(&v, &w)| {
            if w > 0.0 {
                ((v - mean) / unit).clamp(DEPTH_MIN, 1.0)
            } else {
                BACKGROUND
            }
        })
        .collect();
    (zn, m)
}

/// The network's answer for one crop at [`NET_SIDE`].
#[derive(Clone, Debug, PartialEq)]
pub struct DepthPrediction {
    /// Normalised depth, row-major `NET_SIDE x NET_SIDE`.
    pub depth: Vec<f32>,
    /// Head mask (logit > 0), same layout.
    pub mask: Vec<bool>,
}

impl DepthPrediction {
    /// The prediction as a depth map on its own grid (normally `NET_SIDE`) in crop pixels of a
    /// `crop_side` crop (so a mesh built from it must be scaled by `crop_side / side` in x and
    /// y), centred on its mask mean.
    #[must_use]
    pub fn depth_map(&self, crop_side: usize) -> DepthMap {
        let unit = depth_unit(crop_side);
        let n = self.mask.iter().filter(|&&m| m).count().max(1) as f32;
        let mean = self
            .depth
            .iter()
            .zip(&self.mask)
            .filter(|(_, m)| **m)
            .map(|(d, _)| d)
            .sum::<f32>()
            / n;
        let side = self.depth.len().isqrt();
        DepthMap {
            width: side,
            height: side,
            depth: self.depth.iter().map(|d| (d - mean) * unit).collect(),
            mask: self.mask.clone(),
        }
    }
}

impl DepthPrediction {
    /// The prediction with one piece of head: the mask's largest 4-connected region kept (the
    /// islands the network scatters over the background dropped) and the background regions it
    /// encloses filled (holes in the face), their depth spread in from the surrounding head
    /// pixels, ring by ring, each the mean of its known 8-neighbours.
    #[must_use]
    pub fn one_piece(&self) -> Self {
        let w = self.mask.len().isqrt();
        let head = regions(&self.mask, w, true);
        let largest = (1..=head.count)
            .max_by_key(|&k| head.sizes[k as usize])
            .unwrap_or(0);
        let mut mask: Vec<bool> = head
            .labels
            .iter()
            .map(|&l| l != 0 && l == largest)
            .collect();
        // Background regions that do not touch the grid's border are enclosed by the head.
        let back = regions(&mask, w, false);
        let mut open = vec![false; back.count as usize + 1];
        for r in 0..w {
            for c in 0..w {
                if r == 0 || c == 0 || r + 1 == w || c + 1 == w {
                    open[back.labels[r * w + c] as usize] = true;
                }
            }
        }
        let mut depth = self.depth.clone();
        let mut missing: Vec<usize> = (0..w * w)
            .filter(|&i| back.labels[i] != 0 && !open[back.labels[i] as usize])
            .collect();
        spread_in(&mut depth, &mut mask, w, &mut missing);
        Self { depth, mask }
    }

    /// The depth after `passes` rounds of a 3x3 mean over head pixels (background untouched):
    /// removes the period-2 checkerboard that transposed convolutions leave in an early model.
    #[must_use]
    pub fn smoothed(&self, passes: usize) -> Self {
        let w = self.depth.len().isqrt();
        let mut depth = self.depth.clone();
        for _ in 0..passes {
            let src = depth.clone();
            for r in 0..w {
                for c in 0..w {
                    let i = r * w + c;
                    if self.mask[i]
                        && let Some(z) = masked_mean(&src, &self.mask, w, i)
                    {
                        depth[i] = z;
                    }
                }
            }
        }
        Self {
            depth,
            mask: self.mask.clone(),
        }
    }
}

impl DepthPrediction {
    /// The prediction with its face pulled towards the morphable fit `fit` (on this grid, crop
    /// pixels of a `crop_side` crop; [`super::fit_prior`]): where both cover a cell its depth
    /// moves `opts.weight` (faded at the coverage edge) of the way to the fit's, offset by their
    /// median gap, after the gap between the two surfaces has had `passes` rounds of a 3x3 mean
    /// over those cells. Where only the fit covers a cell it joins the head, so the face has no hole
    /// the fit does not have: at the fit's depth plus the gap between the two surfaces spread in
    /// from the neighbouring cells, ring by ring, so that it meets them without a step.
    /// Elsewhere the cells are the network's.
    #[must_use]
    pub fn pulled_towards(
        &self,
        fit: &FitFront,
        crop_side: usize,
        opts: &PriorOptions,
        passes: usize,
    ) -> Self {
        let n = self.mask.len().isqrt();
        if fit.n != n || opts.weight <= 0.0 {
            return self.clone();
        }
        let unit = depth_unit(crop_side);
        let gaps = (self.depth.iter().zip(&self.mask).zip(&fit.z))
            .filter(|((_, m), _)| **m)
            .map(|((d, _), z)| d - z / unit);
        let Some(offset) = median_gap(gaps) else {
            return self.clone();
        };
        let target: Vec<f32> = fit.z.iter().map(|z| z / unit + offset).collect();
        let weights = fit.weights(opts);
        let limit = opts.max_shift / unit;
        let mut out = self.clone();
        // The network's surface minus the fit's where both are known, smoothed there: the
        // network's steps inside the face (which the mesh's edge test would cut open) are its
        // least reliable part on real photos.
        let mut known: Vec<bool> = (0..n * n)
            .map(|i| target[i].is_finite() && out.mask[i])
            .collect();
        let mut gap: Vec<f32> = (0..n * n)
            .map(|i| {
                if known[i] {
                    out.depth[i] - target[i]
                } else {
                    0.0
                }
            })
            .collect();
        for _ in 0..passes {
            let src = gap.clone();
            for i in (0..n * n).filter(|&i| known[i]) {
                gap[i] = masked_mean(&src, &known, n, i).unwrap_or(src[i]);
            }
        }
        for (i, t) in target.iter().enumerate() {
            if known[i] {
                let fade = weights[i] / opts.weight;
                let aim = t + (1.0 - opts.weight) * gap[i];
                out.depth[i] += (fade * (aim - out.depth[i])).clamp(-limit, limit);
                gap[i] = out.depth[i] - t;
            }
        }
        let mut missing: Vec<usize> = (0..n * n)
            .filter(|&i| target[i].is_finite() && !out.mask[i])
            .collect();
        let only_fit = missing.clone();
        spread_in(&mut gap, &mut known, n, &mut missing);
        for i in only_fit {
            out.depth[i] = target[i] + gap[i];
            out.mask[i] = true;
        }
        out
    }
}

impl DepthPrediction {
    /// Pictures of the prediction, each `side * zoom` square: the depth over the mask as grey
    /// (near = bright, background black) and the surface shaded by a light from the upper left
    /// (normals from the depth gradient in crop pixels of a `crop_side` crop).
    #[must_use]
    pub fn pictures(&self, crop_side: usize, zoom: u32) -> (RgbImage, RgbImage) {
        let map = self.depth_map(crop_side);
        let (w, k) = (map.width, crop_side as f32 / map.width.max(1) as f32);
        let inside = |i: usize| map.mask[i];
        let (lo, hi) = (0..map.depth.len())
            .filter(|&i| inside(i))
            .fold((f32::MAX, f32::MIN), |(a, b), i| {
                (a.min(map.depth[i]), b.max(map.depth[i]))
            });
        let span = (hi - lo).max(1e-3);
        let light = [-0.4f32, 0.5, 0.77];
        let side = u32::try_from(w).unwrap_or(0);
        let depth = RgbImage::from_fn(side, side, |x, y| {
            let i = y as usize * w + x as usize;
            let v = if inside(i) {
                40.0 + 215.0 * (map.depth[i] - lo) / span
            } else {
                0.0
            };
            image::Rgb([v as u8; 3])
        });
        let shaded = RgbImage::from_fn(side, side, |x, y| {
            let (c, r) = (x as usize, y as usize);
            let i = r * w + c;
            if !inside(i) || c + 1 >= w || r + 1 >= w {
                return image::Rgb([0, 0, 0]);
            }
            // +X right, +Y up (rows go down), z in crop pixels, steps of k crop pixels.
            let dzdx = (map.depth[i + 1] - map.depth[i]) / k;
            let dzdy = (map.depth[i] - map.depth[i + w]) / k;
            let n = [-dzdx, -dzdy, 1.0];
            let len = (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            let lit = ((n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / len).max(0.0);
            image::Rgb([(30.0 + 225.0 * lit) as u8; 3])
        });
        let big = |img: &RgbImage| resize(img, side * zoom, side * zoom, FilterType::Nearest);
        (big(&depth), big(&shaded))
    }
}

/// The loaded generator.
#[derive(Debug)]
pub struct Pix2pixModel {
    net: UNet,
    device: Device,
}

/// The committed generator, embedded so the app needs no files at run time.
pub const WEIGHTS: &[u8] = crate::weights::PIX2PIX;

impl Pix2pixModel {
    /// The committed generator ([`WEIGHTS`]) on the CPU.
    ///
    /// # Errors
    /// [`Pix2pixError::Weights`] if the embedded file does not fit the network (a build problem).
    pub fn embedded() -> Result<Self, Pix2pixError> {
        Self::embedded_on(&Device::Cpu)
    }

    /// The committed generator on `device`.
    ///
    /// # Errors
    /// As [`Pix2pixModel::embedded`], or the device's error.
    pub fn embedded_on(device: &Device) -> Result<Self, Pix2pixError> {
        let bad = |source| Pix2pixError::Weights {
            path: "weights/pix2pix.safetensors (embedded)".into(),
            source,
        };
        let vb = VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, device).map_err(bad)?;
        let net = UNet::new(UNetConfig::depth64(), vb).map_err(bad)?;
        Ok(Self {
            net,
            device: device.clone(),
        })
    }

    /// Loads `weights` (a safetensors file of [`UNetConfig::depth64`] with no prefix).
    ///
    /// # Errors
    /// [`Pix2pixError::Weights`] when the file is missing or does not match.
    pub fn load(weights: &Path) -> Result<Self, Pix2pixError> {
        let device = Device::Cpu;
        let bad = |source| Pix2pixError::Weights {
            path: weights.to_path_buf(),
            source,
        };
        // Read, not mmapped: the crate forbids unsafe code.
        let tensors = candle_core::safetensors::load(weights, &device).map_err(bad)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let net = UNet::new(UNetConfig::depth64(), vb).map_err(bad)?;
        Ok(Self { net, device })
    }

    /// Wraps an already built generator (training, tests).
    #[must_use]
    pub fn from_net(net: UNet) -> Self {
        Self {
            net,
            device: Device::Cpu,
        }
    }

    /// Depth and mask for a batch of crops (any side; resized to [`NET_SIDE`]).
    ///
    /// # Errors
    /// Candle errors.
    pub fn predict_batch(&self, crops: &[&RgbImage]) -> Result<Vec<DepthPrediction>, Pix2pixError> {
        let n = NET_SIDE * NET_SIDE;
        let data: Vec<f32> = crops
            .iter()
            .flat_map(|c| network_input(c, NET_SIDE))
            .collect();
        let x = Tensor::from_vec(data, (crops.len(), 3, NET_SIDE, NET_SIDE), &self.device)?;
        let y = self.net.forward(&x)?;
        let flat: Vec<f32> = y.flatten_all()?.to_vec1()?;
        Ok(flat
            .chunks_exact(2 * n)
            .map(|s| DepthPrediction {
                depth: s[..n].to_vec(),
                mask: s[n..].iter().map(|&l| l > 0.0).collect(),
            })
            .collect())
    }

    /// Depth and mask for one crop.
    ///
    /// # Errors
    /// Candle errors.
    pub fn predict(&self, crop: &RgbImage) -> Result<DepthPrediction, Pix2pixError> {
        let mut v = self.predict_batch(&[crop])?;
        v.pop()
            .ok_or_else(|| Pix2pixError::Candle(candle_core::Error::Msg("empty batch".into())))
    }
}

/// Fills the `missing` cells of a `w x w` grid from the known ones (`known`), ring by ring: each
/// cell next to a known one takes the mean of its known 8-neighbours and becomes known. Cells
/// that no ring reaches stay missing (left in `missing`).
fn spread_in(values: &mut [f32], known: &mut [bool], w: usize, missing: &mut Vec<usize>) {
    while !missing.is_empty() {
        let ring: Vec<(usize, f32)> = (missing.iter())
            .filter_map(|&i| masked_mean(values, known, w, i).map(|v| (i, v)))
            .collect();
        if ring.is_empty() {
            break;
        }
        for &(i, v) in &ring {
            values[i] = v;
            known[i] = true;
        }
        missing.retain(|&i| !known[i]);
    }
}

/// The mean of `depth` over the cells of the 3 x 3 block around cell `i` of a `w x w` grid
/// (row-major) that `mask` marks (the cell itself included when marked); `None` when none is.
fn masked_mean(depth: &[f32], mask: &[bool], w: usize, i: usize) -> Option<f32> {
    let (r, c) = (i / w, i % w);
    let (mut sum, mut n) = (0.0, 0.0);
    for rr in r.saturating_sub(1)..(r + 2).min(w) {
        for cc in c.saturating_sub(1)..(c + 2).min(w) {
            if mask[rr * w + cc] {
                sum += depth[rr * w + cc];
                n += 1.0;
            }
        }
    }
    (n > 0.0).then(|| sum / n)
}

/// The 4-connected regions of the cells of a `w x w` grid (row-major) whose `cells` value is
/// `value`: a label per cell (0 for cells of the other value, regions 1..=count) and each
/// label's cell count.
struct Regions {
    labels: Vec<u32>,
    sizes: Vec<usize>,
    count: u32,
}

/// [`Regions`] of `cells` by flood fill (a stack of cells to visit per region).
fn regions(cells: &[bool], w: usize, value: bool) -> Regions {
    let mut labels = vec![0u32; cells.len()];
    let mut sizes = vec![0usize];
    let mut queue = Vec::new();
    for start in 0..cells.len() {
        if cells[start] != value || labels[start] != 0 {
            continue;
        }
        let label = sizes.len() as u32;
        labels[start] = label;
        queue.push(start);
        let mut size = 0;
        while let Some(i) = queue.pop() {
            size += 1;
            let (r, c) = (i / w, i % w);
            let next = [
                (r > 0).then(|| i - w),
                (r + 1 < w).then(|| i + w),
                (c > 0).then(|| i - 1),
                (c + 1 < w).then(|| i + 1),
            ];
            for j in next.into_iter().flatten() {
                if cells[j] == value && labels[j] == 0 {
                    labels[j] = label;
                    queue.push(j);
                }
            }
        }
        sizes.push(size);
    }
    let count = (sizes.len() - 1) as u32;
    Regions {
        labels,
        sizes,
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hole_the_fit_covers_is_filled_without_a_step() {
        // An 8 x 8 grid over a 16 px crop (depth unit 8): the fit is a slope over the left six
        // columns; the network's surface is the same slope 0.3 nearer, with a 2 x 2 hole.
        let n = 8;
        let slope = |c: usize| 0.01 * c as f32;
        let fit = FitFront {
            n,
            z: (0..n * n)
                .map(|i| {
                    if i % n < 6 {
                        8.0 * slope(i % n)
                    } else {
                        f32::NAN
                    }
                })
                .collect(),
        };
        let hole = |i: usize| (3..5).contains(&(i / n)) && (3..5).contains(&(i % n));
        let pred = DepthPrediction {
            depth: (0..n * n)
                .map(|i| {
                    if hole(i) {
                        BACKGROUND
                    } else {
                        slope(i % n) + 0.3
                    }
                })
                .collect(),
            mask: (0..n * n).map(|i| !hole(i)).collect(),
        };
        let out = pred.pulled_towards(&fit, 16, &PriorOptions::default(), 0);
        assert!(out.mask.iter().all(|&m| m));
        for i in 0..n * n {
            let want = slope(i % n) + 0.3;
            assert!((out.depth[i] - want).abs() < 1e-5, "{i}: {}", out.depth[i]);
        }
        // A surface off the fit's shape moves halfway to it in the middle of the coverage.
        let mut bumped = pred.clone();
        bumped.depth[2 * n + 2] += 0.2;
        let out = bumped.pulled_towards(&fit, 16, &PriorOptions::default(), 0);
        let moved = out.depth[2 * n + 2] - (slope(2) + 0.3);
        assert!(moved > 0.0 && moved < 0.2, "{moved}");
    }

    #[test]
    fn target_is_mean_centred_and_masked() {
        // A 4x4 crop to 2x2: left half head at z = 8 (top) and 6 (bottom), right half background.
        let mut depth = vec![-64.0; 16];
        let mut mask = vec![0u8; 16];
        for r in 0..4 {
            for c in 0..2 {
                depth[r * 4 + c] = if r < 2 { 8.0 } else { 6.0 };
                mask[r * 4 + c] = 1;
            }
        }
        let (z, m) = normalised_target(&depth, &mask, 4, 2);
        assert_eq!(m, vec![1.0, 0.0, 1.0, 0.0]);
        let unit = depth_unit(4);
        assert!((z[0] - 1.0 / unit).abs() < 1e-6 && (z[2] + 1.0 / unit).abs() < 1e-6);
        assert_eq!(z[1], BACKGROUND);
        let pred = DepthPrediction {
            depth: z,
            mask: m.iter().map(|&v| v > 0.0).collect(),
        };
        let map = pred.depth_map(4);
        assert!((map.depth[0] - 1.0).abs() < 1e-5 && (map.depth[2] + 1.0).abs() < 1e-5);
    }

    #[test]
    fn smoothing_removes_a_checkerboard() {
        let depth: Vec<f32> = (0..64).map(|i| ((i / 8 + i % 8) % 2) as f32).collect();
        let mut mask = vec![true; 64];
        mask[0] = false;
        let pred = DepthPrediction { depth, mask };
        let s = pred.smoothed(2);
        // Interior pixels settle near the mean 0.5; the masked pixel keeps its value.
        assert!((s.depth[27] - 0.5).abs() < 0.1, "{}", s.depth[27]);
        assert_eq!(s.depth[0], pred.depth[0]);
    }

    #[test]
    fn input_range() {
        let img = RgbImage::from_fn(8, 8, |x, _| image::Rgb([if x < 4 { 0 } else { 255 }; 3]));
        let v = network_input(&img, 8);
        assert_eq!(v.len(), 192);
        assert_eq!(v[0], -1.0);
        assert_eq!(v[7], 1.0);
    }
}
