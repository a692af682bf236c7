//! The CGAN refiner as the pipeline uses it: the network input built from a coarse depth map
//! (shared with training, [`crate::train::refiner_data`]) and inference from a coarse fit to a
//! refined depth map in the same convention.
//!
//! Conventions. A coarse depth map is square, `side` pixels covering the whole face crop (so one
//! pixel is `crop / side` crop pixels; `side` is normally the crop side, 128), z in crop pixels
//! (larger = closer), with a mask; this is what the morphable-model fit renders. It is reduced
//! to [`NET_SIDE`] by a masked block mean ([`downsample_masked`]) and encoded as a DCE image
//! ([`crate::pipeline::dce`]) centred on its mask mean, followed by the mask and (for a model
//! trained with it) the crop's RGB resized to [`NET_SIDE`] in [-1, 1]. The network's refined
//! depth channel minus the coarse one is a correction at [`NET_SIDE`]; it is brought back to
//! `side` by a masked bilinear upsampling and added to the coarse map, so the refined map keeps
//! the coarse map's resolution, mask and offset.

use crate::nn::refiner::{DCE_CHANNELS, Refiner, RefinerConfig};
use crate::pipeline::dce::{Dce, dce, downsample_masked, mask_mean};
use crate::pipeline::reconstruct::morphable::CoarseDepth;
use crate::pipeline::reconstruct::pix2pix_model::network_input as rgb_input;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use image::RgbImage;
use std::path::Path;

/// Side of the refiner's maps, pixels.
pub const NET_SIDE: usize = 64;
/// Whether the shipped refiner ([`WEIGHTS`]) takes the RGB crop.
pub const SHIPPED_RGB: bool = false;

/// Errors of the refiner model.
#[derive(Debug, thiserror::Error)]
pub enum RefinerError {
    /// The weights file is missing or does not fit the network.
    #[error("{path}: cannot load the refiner weights ({source})")]
    Weights {
        /// File tried.
        path: std::path::PathBuf,
        /// Candle's error.
        source: candle_core::Error,
    },
    /// The coarse map is not square, not a multiple of [`NET_SIDE`], or its mask has another
    /// length.
    #[error(
        "coarse depth of side {side} with {depth} values and {mask} mask entries (need side^2 each, side a multiple of {NET_SIDE})"
    )]
    BadCoarse {
        /// Declared side.
        side: usize,
        /// Depth values given.
        depth: usize,
        /// Mask entries given.
        mask: usize,
    },
    /// Inference failed.
    #[error("refiner inference: {0}")]
    Candle(#[from] candle_core::Error),
}

/// The network's view of one coarse fit at [`NET_SIDE`].
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseInput {
    /// Network input `[C, NET_SIDE, NET_SIDE]`: DCE, mask, optionally RGB.
    pub channels: Vec<f32>,
    /// Coarse depth at [`NET_SIDE`], crop pixels (0 off the mask).
    pub depth: Vec<f32>,
    /// Coarse mask at [`NET_SIDE`].
    pub mask: Vec<bool>,
    /// Depth subtracted by the DCE depth channel, crop pixels.
    pub centre: f32,
}

/// Builds the network input of a coarse map (`depth`, `mask`: `side x side`); `rgb` (the face
/// crop) is appended when given.
///
/// # Errors
/// [`RefinerError::BadCoarse`] for inconsistent sizes.
pub fn coarse_input(
    depth: &[f32],
    mask: &[bool],
    side: usize,
    rgb: Option<&RgbImage>,
) -> Result<CoarseInput, RefinerError> {
    if side < NET_SIDE
        || !side.is_multiple_of(NET_SIDE)
        || depth.len() != side * side
        || mask.len() != side * side
    {
        return Err(RefinerError::BadCoarse {
            side,
            depth: depth.len(),
            mask: mask.len(),
        });
    }
    let (d, m) = downsample_masked(depth, mask, side, NET_SIDE);
    let centre = mask_mean(&d, &m);
    let mut channels = dce(&d, &m, NET_SIDE, spacing(side), centre).data;
    channels.extend(m.iter().map(|&b| f32::from(u8::from(b))));
    if let Some(img) = rgb {
        channels.extend(rgb_input(img, NET_SIDE));
    }
    Ok(CoarseInput {
        channels,
        depth: d,
        mask: m,
        centre,
    })
}

/// Crop pixels per [`NET_SIDE`] pixel for a coarse map of `side` pixels covering the crop.
#[must_use]
pub fn spacing(side: usize) -> f32 {
    side as f32 / NET_SIDE as f32
}

/// `values` (`from x from`, only `mask` pixels count) resized to `to x to` by a masked bilinear
/// filter (pixel centres aligned, as image resizers do); pixels with no masked neighbour get 0.
#[must_use]
pub fn masked_upsample(values: &[f32], mask: &[bool], from: usize, to: usize) -> Vec<f32> {
    let scale = from as f32 / to.max(1) as f32;
    let last = from.saturating_sub(1);
    // Source taps and weights of one output coordinate.
    let taps = |o: usize| {
        let u = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
        let i0 = (u.floor() as usize).min(last);
        let f = u - i0 as f32;
        [(i0, 1.0 - f), ((i0 + 1).min(last), f)]
    };
    let mut out = vec![0.0f32; to * to];
    for y in 0..to {
        for x in 0..to {
            let (mut num, mut den) = (0.0f32, 0.0f32);
            for (r, wy) in taps(y) {
                for (c, wx) in taps(x) {
                    let i = r * from + c;
                    if mask[i] {
                        num += wy * wx * values[i];
                        den += wy * wx;
                    }
                }
            }
            if den > 1e-3 {
                out[y * to + x] = num / den;
            }
        }
    }
    out
}

/// The full-resolution refined map: `coarse` (`side x side` on `mask`) plus the correction
/// `refined_net - input.depth` (both at [`NET_SIDE`]) upsampled; off the mask, `coarse` as is.
#[must_use]
pub fn apply_correction(
    coarse: &[f32],
    mask: &[bool],
    side: usize,
    input: &CoarseInput,
    refined_net: &[f32],
) -> Vec<f32> {
    let delta: Vec<f32> = refined_net
        .iter()
        .zip(&input.depth)
        .map(|(r, c)| r - c)
        .collect();
    let up = masked_upsample(&delta, &input.mask, NET_SIDE, side);
    coarse
        .iter()
        .zip(mask)
        .zip(&up)
        .map(|((&z, &m), &d)| if m { z + d } else { z })
        .collect()
}

/// The loaded refiner.
#[derive(Debug)]
pub struct RefinerModel {
    net: Refiner,
    device: Device,
}

/// The committed refiner ([`RefinerConfig::dce64`] with [`SHIPPED_RGB`]), embedded so the app
/// needs no files at run time.
pub const WEIGHTS: &[u8] = crate::weights::REFINER;

impl RefinerModel {
    /// The committed refiner ([`WEIGHTS`]) on `device`.
    ///
    /// # Errors
    /// [`RefinerError::Weights`] if the embedded file does not fit the network (a build problem)
    /// or the device cannot hold it.
    pub fn embedded(device: &Device) -> Result<Self, RefinerError> {
        let device = device.clone();
        let bad = |source| RefinerError::Weights {
            path: "weights/refiner.safetensors (embedded)".into(),
            source,
        };
        let vb = VarBuilder::from_buffered_safetensors(WEIGHTS.to_vec(), DType::F32, &device)
            .map_err(bad)?;
        let net = Refiner::new(&RefinerConfig::dce64(SHIPPED_RGB), vb).map_err(bad)?;
        Ok(Self { net, device })
    }

    /// Loads a generator of [`RefinerConfig::dce64`] (no prefix), with or without the RGB
    /// crop: whichever the file's input layer fits, on `device`.
    ///
    /// # Errors
    /// [`RefinerError::Weights`] when the file is missing or fits neither.
    pub fn load_dce64(weights: &Path, device: &Device) -> Result<Self, RefinerError> {
        Self::load_as(
            weights,
            device,
            &[
                RefinerConfig::dce64(SHIPPED_RGB),
                RefinerConfig::dce64(!SHIPPED_RGB),
            ],
        )
    }

    /// The first of `configs` that `weights` fits (the last one's error otherwise).
    fn load_as(
        weights: &Path,
        device: &Device,
        configs: &[RefinerConfig],
    ) -> Result<Self, RefinerError> {
        let device = device.clone();
        let bad = |source| RefinerError::Weights {
            path: weights.to_path_buf(),
            source,
        };
        // Read, not mmapped: the crate forbids unsafe code.
        let tensors = candle_core::safetensors::load(weights, &device).map_err(bad)?;
        let mut last = None;
        for cfg in configs {
            let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &device);
            match Refiner::new(cfg, vb) {
                Ok(net) => return Ok(Self { net, device }),
                Err(e) => last = Some(e),
            }
        }
        Err(bad(last.unwrap_or_else(|| {
            candle_core::Error::Msg("no refiner configuration".into())
        })))
    }

    /// Wraps an already built generator (training, tests).
    #[must_use]
    pub fn from_net(net: Refiner) -> Self {
        Self {
            net,
            device: Device::Cpu,
        }
    }

    /// Whether the model takes the RGB crop.
    #[must_use]
    pub fn uses_rgb(&self) -> bool {
        self.net.uses_rgb()
    }

    /// Refined DCE images at [`NET_SIDE`] for a batch of inputs.
    ///
    /// # Errors
    /// Candle errors (an input with the wrong channel count among them).
    pub fn refine_inputs(&self, inputs: &[&CoarseInput]) -> Result<Vec<Dce>, RefinerError> {
        let n = NET_SIDE * NET_SIDE;
        let c = RefinerConfig::input_channels(self.uses_rgb());
        let data: Vec<f32> = inputs.iter().flat_map(|i| i.channels.clone()).collect();
        let x = Tensor::from_vec(data, (inputs.len(), c, NET_SIDE, NET_SIDE), &self.device)?;
        let y: Vec<f32> = self.net.forward(&x)?.flatten_all()?.to_vec1()?;
        Ok(y.chunks_exact(DCE_CHANNELS * n)
            .zip(inputs)
            .map(|(d, i)| Dce {
                side: NET_SIDE,
                data: d.to_vec(),
                centre: i.centre,
            })
            .collect())
    }

    /// Refines a coarse depth map (`side x side`, crop pixels, on `mask`) of the face crop `rgb`:
    /// the refined depth in the same convention, resolution and mask (see the module docs).
    ///
    /// # Errors
    /// [`RefinerError::BadCoarse`] for inconsistent sizes; candle errors.
    pub fn refine(
        &self,
        depth: &[f32],
        mask: &[bool],
        side: usize,
        rgb: &RgbImage,
    ) -> Result<Vec<f32>, RefinerError> {
        let _span = tracing::debug_span!("refine").entered();
        let input = coarse_input(depth, mask, side, self.uses_rgb().then_some(rgb))?;
        let out = self.refine_inputs(&[&input])?;
        let refined: Vec<f32> = out.first().map_or_else(Vec::new, |d| {
            d.channel(0)
                .iter()
                .zip(&input.mask)
                .map(|(&v, &m)| {
                    if m {
                        Dce::depth_from_channel(v, d.centre)
                    } else {
                        0.0
                    }
                })
                .collect()
        });
        Ok(apply_correction(depth, mask, side, &input, &refined))
    }

    /// Refines the morphable-model fit `coarse` of the face crop `rgb` (the crop `coarse` was
    /// fitted on): the refined depth, `coarse.side` squared, same units, frame and mask; off the
    /// mask the coarse values are kept. See [`RefinerModel::refine`].
    ///
    /// # Errors
    /// As [`RefinerModel::refine`].
    pub fn refine_coarse(
        &self,
        coarse: &CoarseDepth,
        rgb: &RgbImage,
    ) -> Result<Vec<f32>, RefinerError> {
        self.refine(&coarse.depth, &coarse.mask, coarse.side, rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_a_constant_correction_is_exact() {
        let mask: Vec<bool> = (0..16).map(|i| i % 4 < 2).collect();
        let up = masked_upsample(&[2.5; 16], &mask, 4, 8);
        // Every pixel with a masked neighbour gets 2.5 (values far outside [0, 1] are kept);
        // far right pixels have none and get 0.
        for r in 0..8 {
            for c in 0..5 {
                assert!((up[r * 8 + c] - 2.5).abs() < 1e-5, "{up:?}");
            }
            assert_eq!(up[r * 8 + 7], 0.0);
        }
        // A ramp is interpolated linearly between pixel centres.
        let ramp = masked_upsample(&[0.0, -4.0, 0.0, -4.0], &[true; 4], 2, 4);
        assert!(
            (ramp[1] + 1.0).abs() < 1e-5 && (ramp[2] + 3.0).abs() < 1e-5,
            "{ramp:?}"
        );
    }

    /// A generator file of either variant loads, and says which one it is; a file of another
    /// network is refused.
    #[test]
    fn either_variant_loads_from_its_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for rgb in [false, true] {
            let map = candle_nn::VarMap::new();
            let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
            Refiner::new(&RefinerConfig::dce64(rgb), vb).unwrap();
            let path = dir.join(format!("g{rgb}.safetensors"));
            map.save(&path).unwrap();
            let model = RefinerModel::load_dce64(&path, &Device::Cpu).unwrap();
            assert_eq!(model.uses_rgb(), rgb);
        }
        let other = dir.join("other.safetensors");
        candle_core::safetensors::save(
            &std::collections::HashMap::from([(
                "x".to_string(),
                candle_core::Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
            )]),
            &other,
        )
        .unwrap();
        assert!(matches!(
            RefinerModel::load_dce64(&other, &Device::Cpu),
            Err(RefinerError::Weights { .. })
        ));
    }

    #[test]
    fn coarse_input_layout_and_errors() {
        let side: usize = 128;
        let mask: Vec<bool> = (0..side * side)
            .map(|i| (i / side).abs_diff(64) < 30 && (i % side).abs_diff(64) < 30)
            .collect();
        let depth: Vec<f32> = (0..side * side).map(|i| (i % side) as f32 * 0.1).collect();
        let rgb = RgbImage::new(128, 128);
        let a = coarse_input(&depth, &mask, side, None).unwrap();
        assert_eq!(a.channels.len(), 4 * NET_SIDE * NET_SIDE);
        let b = coarse_input(&depth, &mask, side, Some(&rgb)).unwrap();
        assert_eq!(b.channels.len(), 7 * NET_SIDE * NET_SIDE);
        // The mask channel is the downsampled mask.
        let n = NET_SIDE * NET_SIDE;
        assert!((0..n).all(|i| (a.channels[3 * n + i] > 0.5) == a.mask[i]));
        // Identity refinement (refined = coarse at NET_SIDE) gives the coarse map back.
        let same = apply_correction(&depth, &mask, side, &a, &a.depth);
        assert!(same.iter().zip(&depth).all(|(x, y)| (x - y).abs() < 1e-4));
        assert!(matches!(
            coarse_input(&depth[1..], &mask, side, None),
            Err(RefinerError::BadCoarse { .. })
        ));
        assert!(coarse_input(&depth[..96 * 96], &mask[..96 * 96], 96, None).is_err());
    }
}
