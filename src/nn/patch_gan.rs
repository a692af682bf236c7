//! The pix2pix discriminator: a PatchGAN (Isola et al. 2017) conditioned on the input image.
//!
//! It sees the input image concatenated with a depth map (real or generated) and answers, for
//! every overlapping patch, a logit "real". The paper's 70x70 version on 256x256 images is
//! C64-C128-C256 (4x4, stride 2) - C512 (stride 1) - 1 (stride 1); Visage's 64x64 depth maps use
//! the same pattern with fewer and narrower layers ([`PatchGanConfig::depth64`]: 34x34 pixel
//! patches, a 14x14 logit map). Group norm on every layer but the first, LeakyReLU(0.2).

use super::unet::leaky;
use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, GroupNorm, VarBuilder};

/// Shape of a [`PatchGan`].
#[derive(Clone, Debug, PartialEq)]
pub struct PatchGanConfig {
    /// Input channels: condition image + judged map (3 + 1).
    pub in_channels: usize,
    /// Channels of each layer; all but the last have stride 2, the last has stride 1, then a
    /// stride-1 convolution to one logit channel.
    pub widths: Vec<usize>,
    /// Group-norm groups (capped at the channel count).
    pub groups: usize,
    /// LeakyReLU slope.
    pub slope: f64,
}

impl PatchGanConfig {
    /// The Visage depth discriminator for 64x64 inputs (RGB + depth).
    #[must_use]
    pub fn depth64() -> Self {
        Self {
            in_channels: 4,
            widths: vec![32, 64, 128],
            groups: 8,
            slope: 0.2,
        }
    }

    /// A tiny network for tests.
    #[must_use]
    pub fn tiny() -> Self {
        Self {
            widths: vec![4, 8],
            groups: 2,
            ..Self::depth64()
        }
    }
}

/// One layer: `layers.{i}.conv`, `layers.{i}.norm` (absent on layer 0).
#[derive(Clone, Debug)]
struct Layer {
    conv: Conv2d,
    norm: Option<GroupNorm>,
}

/// The discriminator. Weight keys: `layers.{i}.{conv,norm}`, `head`.
#[derive(Clone, Debug)]
pub struct PatchGan {
    layers: Vec<Layer>,
    head: Conv2d,
    slope: f64,
}

impl PatchGan {
    /// Builds (or loads) the network from `vb`.
    ///
    /// # Errors
    /// Missing or mis-shaped weights; an empty `widths`.
    pub fn new(cfg: &PatchGanConfig, vb: VarBuilder) -> Result<Self> {
        let Some(&last) = cfg.widths.last() else {
            candle_core::bail!("a PatchGAN needs at least one layer");
        };
        let n = cfg.widths.len();
        let mut layers = Vec::with_capacity(n);
        for (i, &c) in cfg.widths.iter().enumerate() {
            let vb = vb.pp(format!("layers.{i}"));
            let cin = if i == 0 {
                cfg.in_channels
            } else {
                cfg.widths[i - 1]
            };
            let conv_cfg = Conv2dConfig {
                padding: 1,
                stride: if i + 1 < n { 2 } else { 1 },
                ..Conv2dConfig::default()
            };
            let conv = candle_nn::conv2d(cin, c, 4, conv_cfg, vb.pp("conv"))?;
            let norm = if i == 0 {
                None
            } else {
                Some(candle_nn::group_norm(
                    cfg.groups.min(c),
                    c,
                    1e-5,
                    vb.pp("norm"),
                )?)
            };
            layers.push(Layer { conv, norm });
        }
        let head_cfg = Conv2dConfig {
            padding: 1,
            ..Conv2dConfig::default()
        };
        let head = candle_nn::conv2d(last, 1, 4, head_cfg, vb.pp("head"))?;
        Ok(Self {
            layers,
            head,
            slope: cfg.slope,
        })
    }

    /// `condition [B, 3, S, S]`, `judged [B, 1, S, S]` -> patch logits `[B, 1, P, P]`
    /// (P = 14 for S = 64 with [`PatchGanConfig::depth64`]).
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward(&self, condition: &Tensor, judged: &Tensor) -> Result<Tensor> {
        let _span = tracing::trace_span!("patch_gan").entered();
        let mut h = Tensor::cat(&[condition, judged], 1)?;
        for l in &self.layers {
            h = l.conv.forward(&h)?;
            if let Some(n) = &l.norm {
                h = n.forward(&h)?;
            }
            h = leaky(&h, self.slope)?;
        }
        self.head.forward(&h)
    }
}

pub use super::loss::{bce_with_logits, bce_with_logits_const};

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn patch_map_shape() {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        let d = PatchGan::new(&PatchGanConfig::depth64(), vb).unwrap();
        let x = Tensor::zeros((2, 3, 64, 64), DType::F32, &Device::Cpu).unwrap();
        let y = Tensor::zeros((2, 1, 64, 64), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(d.forward(&x, &y).unwrap().dims(), &[2, 1, 14, 14]);
    }

    #[test]
    fn bce_is_stable_and_correct() {
        // By hand: per element max(x,0) - x t + ln(1 + e^-|x|) =
        //   [200, ln(1+e^-1) = 0.31326, ln 2 = 0.69315, ln(1+e^-2) = 0.12693, 200];
        //   mean = 80.22667. A naive log(sigmoid) form returns inf/NaN at +-200.
        let x = Tensor::new(&[-200f32, -1.0, 0.0, 2.0, 200.0], &Device::Cpu).unwrap();
        let t = Tensor::new(&[1f32, 0.0, 1.0, 1.0, 0.0], &Device::Cpu).unwrap();
        let l = bce_with_logits(&x, &t).unwrap().to_scalar::<f32>().unwrap();
        assert!((l - 80.226_67).abs() < 1e-3, "{l}");
    }
}
