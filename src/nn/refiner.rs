//! The CGAN refiner of the 3DMM path, after Galteri et al. (CVIU 2019), "Deep 3D morphable model
//! refinement via progressive growing of conditional Generative Adversarial Networks".
//!
//! Generator: the pix2pix U-Net ([`super::unet`]) mapping a coarse DCE image (depth, mean
//! curvature, normal elevation; [`crate::pipeline::dce`]) plus the coarse face mask, and
//! optionally the RGB crop (the paper's variant), to a correction that is added to the coarse
//! DCE: `refined = (coarse + unet(input)) * mask`. Training starts from the identity (the U-Net's
//! head is zeroed, `visage train refiner`), so the network only has to learn what the coarse fit
//! gets wrong. Discriminator: the pix2pix PatchGAN ([`super::patch_gan`]) judging the depth
//! channel only, conditioned on the whole generator input. Progressive growing is not used: at
//! 64 x 64 the U-Net trains directly within the CPU budget.
//!
//! Input `[B, C, 64, 64]`: channels 0-2 the coarse DCE, 3 the coarse mask (0/1), 4-6 RGB in
//! [-1, 1] when [`RefinerConfig::rgb`]. Output `[B, 3, 64, 64]`: the refined DCE, 0 off the mask.
//! [`crate::pipeline::reconstruct::refiner_model`] builds the input and reads the output.

use super::patch_gan::{PatchGan, PatchGanConfig};
use super::unet::{UNet, UNetConfig};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Channels of a DCE image.
pub const DCE_CHANNELS: usize = 3;

/// Shape of a [`Refiner`] and its discriminator.
#[derive(Clone, Debug, PartialEq)]
pub struct RefinerConfig {
    /// Whether the RGB crop is part of the input (the paper's variant).
    pub rgb: bool,
    /// The U-Net predicting the correction.
    pub generator: UNetConfig,
    /// The PatchGAN judging (condition, depth).
    pub discriminator: PatchGanConfig,
}

impl RefinerConfig {
    /// Input channels: DCE + mask, + RGB when `rgb`.
    #[must_use]
    pub fn input_channels(rgb: bool) -> usize {
        DCE_CHANNELS + 1 + if rgb { 3 } else { 0 }
    }

    /// The shipped size for 64 x 64 maps: U-Net 32-64-96-128 (down to 4 x 4), no dropout;
    /// PatchGAN 32-64-128 (34 px patches).
    #[must_use]
    pub fn dce64(rgb: bool) -> Self {
        let inputs = Self::input_channels(rgb);
        Self {
            rgb,
            generator: UNetConfig {
                in_channels: inputs,
                out_channels: DCE_CHANNELS,
                tanh_channels: 0,
                widths: vec![32, 64, 96, 128],
                groups: 8,
                dropout: 0.0,
                dropout_levels: 0,
                slope: 0.2,
            },
            discriminator: PatchGanConfig {
                in_channels: inputs + 1,
                ..PatchGanConfig::depth64()
            },
        }
    }

    /// A tiny pair for tests (16 x 16 maps).
    #[must_use]
    pub fn tiny(rgb: bool) -> Self {
        let full = Self::dce64(rgb);
        Self {
            generator: UNetConfig {
                widths: vec![4, 8, 8],
                groups: 2,
                ..full.generator
            },
            discriminator: PatchGanConfig {
                in_channels: full.discriminator.in_channels,
                ..PatchGanConfig::tiny()
            },
            rgb,
        }
    }
}

/// The generator. Weight keys are the U-Net's (`down.*`, `up.*`, `head`), with no prefix.
#[derive(Clone, Debug)]
pub struct Refiner {
    net: UNet,
    rgb: bool,
}

impl Refiner {
    /// Builds (or loads) the generator from `vb`.
    ///
    /// # Errors
    /// Missing or mis-shaped weights; a U-Net whose channels do not fit the refiner.
    pub fn new(cfg: &RefinerConfig, vb: VarBuilder) -> Result<Self> {
        let g = &cfg.generator;
        if g.in_channels != RefinerConfig::input_channels(cfg.rgb) || g.out_channels != DCE_CHANNELS
        {
            candle_core::bail!(
                "refiner U-Net maps {} -> {} channels, expected {} -> {DCE_CHANNELS}",
                g.in_channels,
                g.out_channels,
                RefinerConfig::input_channels(cfg.rgb)
            );
        }
        Ok(Self {
            net: UNet::new(g.clone(), vb)?,
            rgb: cfg.rgb,
        })
    }

    /// Whether the input carries the RGB crop.
    #[must_use]
    pub fn uses_rgb(&self) -> bool {
        self.rgb
    }

    /// `[B, C, S, S]` -> refined DCE `[B, 3, S, S]` (see the module docs).
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let _span = tracing::trace_span!("refiner").entered();
        let coarse = xs.narrow(1, 0, DCE_CHANNELS)?;
        let mask = xs.narrow(1, DCE_CHANNELS, 1)?;
        let delta = self.net.forward_t(xs, train)?;
        (coarse + delta)?.broadcast_mul(&mask)
    }

    /// Inference forward; see [`Refiner::forward_t`].
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_t(xs, false)
    }
}

/// The discriminator of `cfg`: call it as `forward(input, depth)` with the generator input and
/// one depth channel `[B, 1, S, S]`.
///
/// # Errors
/// Missing or mis-shaped weights.
pub fn discriminator(cfg: &RefinerConfig, vb: VarBuilder) -> Result<PatchGan> {
    PatchGan::new(&cfg.discriminator, vb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn refines_on_the_mask_only() {
        for rgb in [false, true] {
            let cfg = RefinerConfig::tiny(rgb);
            let vars = VarMap::new();
            let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
            let g = Refiner::new(&cfg, vb.clone()).unwrap();
            let c = RefinerConfig::input_channels(rgb);
            let mut x = Tensor::randn(0f32, 1.0, (2, c, 16, 16), &Device::Cpu).unwrap();
            // Mask: left half.
            let m: Vec<f32> = (0..2 * 256)
                .map(|i| f32::from(u8::from(i % 16 < 8)))
                .collect();
            let m = Tensor::from_vec(m, (2, 1, 16, 16), &Device::Cpu).unwrap();
            let mut parts = vec![x.narrow(1, 0, 3).unwrap(), m];
            if rgb {
                parts.push(x.narrow(1, 4, 3).unwrap());
            }
            x = Tensor::cat(&parts, 1).unwrap();
            let y = g.forward(&x).unwrap();
            assert_eq!(y.dims(), &[2, 3, 16, 16]);
            let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
            assert!(v.iter().enumerate().all(|(i, &a)| i % 16 < 8 || a == 0.0));
            let d = discriminator(&cfg, vb.pp("d")).unwrap();
            let logits = d.forward(&x, &y.narrow(1, 0, 1).unwrap()).unwrap();
            assert_eq!(logits.dim(0).unwrap(), 2);
        }
    }
}
