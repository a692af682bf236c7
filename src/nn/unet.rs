//! The pix2pix generator: a U-Net (Ronneberger et al. 2015) as used by Isola et al. 2017,
//! "Image-to-Image Translation with Conditional Adversarial Networks".
//!
//! Encoder: 4x4 stride-2 convolutions, each halving the side, followed by group norm (except the
//! first level) and LeakyReLU(0.2). Decoder: 4x4 stride-2 transposed convolutions, each doubling
//! the side, on the concatenation of the previous decoder map and the encoder map of the same
//! side (the skip connections), followed by group norm, dropout on the innermost levels (training
//! only) and ReLU. The head is a last transposed convolution back to the input side.
//!
//! In Visage it maps a face crop to a depth map plus a face-mask logit
//! ([`crate::pipeline::reconstruct::pix2pix`]); `visage train pix2pix` trains it.
//! Group norm replaces the paper's batch norm (batch 1 = instance norm there): it behaves the
//! same in training and inference and needs no running statistics.

use candle_core::{Module, ModuleT, Result, Tensor};
use candle_nn::{
    Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, GroupNorm, VarBuilder,
};

/// Shape of a [`UNet`].
#[derive(Clone, Debug, PartialEq)]
pub struct UNetConfig {
    /// Input channels (3: RGB).
    pub in_channels: usize,
    /// Output channels (2: depth, mask logit).
    pub out_channels: usize,
    /// How many leading output channels go through tanh (1 for pix2pix's depth; 0 = all raw).
    pub tanh_channels: usize,
    /// Channels of each encoder level; the input side must be divisible by `2^levels`.
    pub widths: Vec<usize>,
    /// Group-norm groups (capped at the channel count).
    pub groups: usize,
    /// Dropout probability on the innermost decoder levels during training.
    pub dropout: f32,
    /// How many innermost decoder levels use dropout.
    pub dropout_levels: usize,
    /// LeakyReLU slope of the encoder.
    pub slope: f64,
}

impl UNetConfig {
    /// The Visage depth generator: 64x64 RGB in, 5 levels down to 2x2, depth + mask out.
    #[must_use]
    pub fn depth64() -> Self {
        Self {
            in_channels: 3,
            out_channels: 2,
            tanh_channels: 1,
            widths: vec![32, 64, 128, 128, 128],
            groups: 8,
            dropout: 0.5,
            dropout_levels: 2,
            slope: 0.2,
        }
    }

    /// A tiny network for tests (16x16 inputs).
    #[must_use]
    pub fn tiny() -> Self {
        Self {
            widths: vec![4, 8, 8],
            groups: 2,
            ..Self::depth64()
        }
    }
}

/// LeakyReLU as `relu(x) * (1 - a) + x * a`, whose backward is much faster in candle than
/// `leaky_relu`'s (DESIGN.md section 5).
///
/// # Errors
/// Candle errors.
pub fn leaky(xs: &Tensor, slope: f64) -> Result<Tensor> {
    xs.relu()?.affine(1.0 - slope, 0.0)? + xs.affine(slope, 0.0)?
}

fn down_cfg() -> Conv2dConfig {
    Conv2dConfig {
        padding: 1,
        stride: 2,
        ..Conv2dConfig::default()
    }
}

fn up_cfg() -> ConvTranspose2dConfig {
    ConvTranspose2dConfig {
        padding: 1,
        stride: 2,
        ..ConvTranspose2dConfig::default()
    }
}

/// One encoder level: `down.{i}.conv`, `down.{i}.norm` (absent on level 0).
#[derive(Clone, Debug)]
struct Down {
    conv: Conv2d,
    norm: Option<GroupNorm>,
}

/// One decoder level: `up.{k}.conv`, `up.{k}.norm`.
#[derive(Clone, Debug)]
struct Up {
    conv: ConvTranspose2d,
    norm: GroupNorm,
    dropout: Option<candle_nn::Dropout>,
}

/// The generator. Weight keys: `down.{i}.{conv,norm}`, `up.{k}.{conv,norm}` (k = 1..levels),
/// `head` (the last transposed convolution).
#[derive(Clone, Debug)]
pub struct UNet {
    down: Vec<Down>,
    up: Vec<Up>,
    head: ConvTranspose2d,
    cfg: UNetConfig,
}

impl UNet {
    /// Builds (or loads) the network from `vb`.
    ///
    /// # Errors
    /// Missing or mis-shaped weights; a config with fewer than 2 levels.
    pub fn new(cfg: UNetConfig, vb: VarBuilder) -> Result<Self> {
        let w = &cfg.widths;
        if w.len() < 2 {
            candle_core::bail!("a U-Net needs at least 2 levels, got {}", w.len());
        }
        let gn = |c: usize, vb: VarBuilder| candle_nn::group_norm(cfg.groups.min(c), c, 1e-5, vb);
        let mut down = Vec::with_capacity(w.len());
        for (i, &c) in w.iter().enumerate() {
            let vb = vb.pp(format!("down.{i}"));
            let cin = if i == 0 { cfg.in_channels } else { w[i - 1] };
            let conv = candle_nn::conv2d(cin, c, 4, down_cfg(), vb.pp("conv"))?;
            let norm = if i == 0 {
                None
            } else {
                Some(gn(c, vb.pp("norm"))?)
            };
            down.push(Down { conv, norm });
        }
        let levels = w.len();
        let mut up = Vec::with_capacity(levels - 1);
        for k in 1..levels {
            let vb = vb.pp(format!("up.{k}"));
            let cin = if k == levels - 1 { w[k] } else { 2 * w[k] };
            let conv = candle_nn::conv_transpose2d(cin, w[k - 1], 4, up_cfg(), vb.pp("conv"))?;
            let norm = gn(w[k - 1], vb.pp("norm"))?;
            let dropout = (levels - k <= cfg.dropout_levels && cfg.dropout > 0.0)
                .then(|| candle_nn::Dropout::new(cfg.dropout));
            up.push(Up {
                conv,
                norm,
                dropout,
            });
        }
        let head =
            candle_nn::conv_transpose2d(2 * w[0], cfg.out_channels, 4, up_cfg(), vb.pp("head"))?;
        Ok(Self {
            down,
            up,
            head,
            cfg,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &UNetConfig {
        &self.cfg
    }

    /// `[B, in, S, S]` -> `[B, out, S, S]` (S divisible by `2^levels`). The first
    /// `tanh_channels` channels go through tanh (pix2pix: depth in [-1, 1]); the others are raw
    /// (the mask logit). `train` enables dropout.
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let _span = tracing::trace_span!("unet").entered();
        let mut skips = Vec::with_capacity(self.down.len());
        let mut h = xs.clone();
        for d in &self.down {
            h = d.conv.forward(&h)?;
            if let Some(n) = &d.norm {
                h = n.forward(&h)?;
            }
            h = leaky(&h, self.cfg.slope)?;
            skips.push(h.clone());
        }
        let levels = self.down.len();
        for k in (1..levels).rev() {
            let u = &self.up[k - 1];
            let input = if k == levels - 1 {
                h.clone()
            } else {
                Tensor::cat(&[&h, &skips[k]], 1)?
            };
            h = u.norm.forward(&u.conv.forward(&input)?)?;
            if let Some(d) = &u.dropout {
                h = d.forward_t(&h, train)?;
            }
            h = h.relu()?;
        }
        let out = self.head.forward(&Tensor::cat(&[&h, &skips[0]], 1)?)?;
        let (k, all) = (
            self.cfg.tanh_channels.min(self.cfg.out_channels),
            self.cfg.out_channels,
        );
        if k == 0 {
            return Ok(out);
        }
        let squashed = out.narrow(1, 0, k)?.tanh()?;
        if k == all {
            return Ok(squashed);
        }
        Tensor::cat(&[&squashed, &out.narrow(1, k, all - k)?], 1)
    }

    /// Inference forward (no dropout); see [`UNet::forward_t`].
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_t(xs, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    #[test]
    fn shapes_and_ranges() {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        let net = UNet::new(UNetConfig::tiny(), vb).unwrap();
        let x = Tensor::randn(0f32, 1.0, (2, 3, 16, 16), &Device::Cpu).unwrap();
        let y = net.forward(&x).unwrap();
        assert_eq!(y.dims(), &[2, 2, 16, 16]);
        let depth = y.narrow(1, 0, 1).unwrap().abs().unwrap();
        assert!(depth.max_all().unwrap().to_scalar::<f32>().unwrap() <= 1.0);
        // Dropout only in training: inference is deterministic.
        let z = net.forward(&x).unwrap();
        let diff = (y - z).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0);
        let names: Vec<String> = vars.data().lock().unwrap().keys().cloned().collect();
        for key in [
            "down.0.conv.weight",
            "down.1.norm.weight",
            "up.2.conv.weight",
            "head.bias",
        ] {
            assert!(names.iter().any(|n| n == key), "{key} not in {names:?}");
        }
    }

    #[test]
    fn leaky_matches_definition() {
        let x = Tensor::new(&[-2f32, -0.5, 0.0, 3.0], &Device::Cpu).unwrap();
        let y: Vec<f32> = leaky(&x, 0.2).unwrap().to_vec1().unwrap();
        for (a, b) in y.iter().zip([-0.4f32, -0.1, 0.0, 3.0]) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }
}
