//! VRN, the volumetric regression network (Jackson et al. 2017, "Large Pose 3D Face
//! Reconstruction from a Single Image via Direct Volumetric CNN Regression"), compact enough to
//! train on a CPU.
//!
//! The paper's network is two stacked hourglasses (Newell et al. 2016) of residual modules that
//! map a 192 x 192 face crop to a 192 x 192 x 200 occupancy volume; VRN-Guided also feeds 68
//! landmark heatmaps. This one keeps the structure and shrinks every size:
//!
//! - stem: 3x3 convolution with stride 2 (`input` -> `input / 2`, `stem_features` maps), ReLU,
//!   then a residual module to `features` maps;
//! - `stacks` hourglasses of `depth` levels (2x2 max-pool down, nearest up via reshape +
//!   broadcast, a residual module per branch), each followed by a residual module and a 1x1
//!   convolution, with the usual re-injection of features and logits between stacks;
//! - head per stack: a 4x4 transposed convolution with stride 2 back to the input size, giving
//!   `bins` depth-bin logits per pixel. Only the last stack's head is used at inference; the
//!   others are intermediate supervision.
//!
//! There is no normalisation layer (batch statistics are noisy at batch 8 on a CPU); instead the
//! last convolution of every residual branch starts small, so each module starts near identity.
//!
//! Input: `[B, C, S, S]`, `C = 3` (RGB in [0, 1]) or `3 + 68` (RGB + landmark heatmaps in
//! [0, 1], see [`crate::pipeline::reconstruct::vrn_input`]). Output: `[B, bins, S, S]` logits;
//! channel `k` is depth bin `k` of the volume of [`crate::synth::volume`] (`k = 0` farthest),
//! row-major pixels, rows going down. Weight keys follow the submodule names (`stem`, `stem_res`,
//! `hg{s}`, `post{s}`, `head{s}`, ...).

use super::loss::bce_with_logits;
use candle_core::{Module, Result, Tensor};
use candle_nn::{
    Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, Init, VarBuilder, conv2d,
};

/// Number of landmark heatmap channels of the guided variant.
pub const LANDMARKS: usize = 68;

/// Network shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VrnConfig {
    /// Input side in pixels (square, divisible by `2^(depth + 1)`).
    pub input: usize,
    /// Feed 68 landmark heatmaps after the RGB channels (VRN-Guided).
    pub guided: bool,
    /// Maps after the stem convolution.
    pub stem_features: usize,
    /// Maps inside the hourglasses.
    pub features: usize,
    /// Levels of each hourglass (pooling steps).
    pub depth: usize,
    /// Stacked hourglasses.
    pub stacks: usize,
    /// Depth bins of the output volume.
    pub bins: usize,
}

impl VrnConfig {
    /// The shipped model: 64 px guided input, one 3-level hourglass at 32 x 32 with 64 maps,
    /// 32 depth bins.
    #[must_use]
    pub fn compact() -> Self {
        Self {
            input: 64,
            guided: true,
            stem_features: 32,
            features: 64,
            depth: 3,
            stacks: 1,
            bins: 32,
        }
    }

    /// A tiny network for tests (16 px input).
    #[must_use]
    pub fn tiny() -> Self {
        Self {
            input: 16,
            guided: true,
            stem_features: 8,
            features: 8,
            depth: 2,
            stacks: 2,
            bins: 8,
        }
    }

    /// Input channels: 3, or 3 + 68 when guided.
    #[must_use]
    pub fn in_channels(&self) -> usize {
        if self.guided { 3 + LANDMARKS } else { 3 }
    }
}

fn conv(vb: VarBuilder, c_in: usize, c_out: usize, k: usize, std: Option<f64>) -> Result<Conv2d> {
    let cfg = Conv2dConfig {
        padding: k / 2,
        ..Conv2dConfig::default()
    };
    match std {
        None => conv2d(c_in, c_out, k, cfg, vb),
        Some(stdev) => {
            let w = vb.get_with_hints(
                (c_out, c_in, k, k),
                "weight",
                Init::Randn { mean: 0.0, stdev },
            )?;
            let b = vb.get_with_hints(c_out, "bias", Init::Const(0.0))?;
            Ok(Conv2d::new(w, Some(b), cfg))
        }
    }
}

/// A bottleneck residual module: 1x1 (c/2) -> 3x3 (c/2) -> 1x1 (c), ReLU before each
/// convolution, plus a 1x1 projection of the skip when the width changes.
/// Keys: `conv1`, `conv2`, `conv3`, `skip`.
#[derive(Clone, Debug)]
struct Residual {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    skip: Option<Conv2d>,
}

impl Residual {
    fn new(vb: VarBuilder, c_in: usize, c_out: usize) -> Result<Self> {
        let mid = (c_out / 2).max(1);
        // A small last layer: the module starts close to its skip path.
        let small = 0.1 * (2.0 / mid as f64).sqrt();
        Ok(Self {
            conv1: conv(vb.pp("conv1"), c_in, mid, 1, None)?,
            conv2: conv(vb.pp("conv2"), mid, mid, 3, None)?,
            conv3: conv(vb.pp("conv3"), mid, c_out, 1, Some(small))?,
            skip: if c_in == c_out {
                None
            } else {
                Some(conv(vb.pp("skip"), c_in, c_out, 1, None)?)
            },
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let y = self.conv1.forward(&xs.relu()?)?;
        let y = self.conv2.forward(&y.relu()?)?;
        let y = self.conv3.forward(&y.relu()?)?;
        match &self.skip {
            Some(s) => s.forward(xs)? + y,
            None => xs + y,
        }
    }
}

/// 2x2 max-pool with stride 2 on NCHW maps (reshape + reductions; differentiable).
fn pool2(xs: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    xs.reshape((b, c, h / 2, 2, w / 2, 2))?.max(5)?.max(3)
}

/// Nearest 2x upsampling on NCHW maps by reshape + broadcast (its backward accumulates
/// correctly, unlike `upsample_nearest2d`'s; DESIGN.md section 5).
fn up2(xs: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    xs.reshape((b, c, h, 1, w, 1))?
        .broadcast_as((b, c, h, 2, w, 2))?
        .reshape((b, c, 2 * h, 2 * w))
}

/// One hourglass level: `up` at this resolution, `down` -> inner -> `back` at half of it.
/// Keys: `up`, `down`, `inner` (a nested level, or a residual module at the bottom), `back`.
#[derive(Clone, Debug)]
struct Hourglass {
    up: Residual,
    down: Residual,
    inner: Inner,
    back: Residual,
}

#[derive(Clone, Debug)]
enum Inner {
    Level(Box<Hourglass>),
    Bottom(Box<Residual>),
}

impl Hourglass {
    fn new(vb: VarBuilder, depth: usize, c: usize) -> Result<Self> {
        let inner = if depth > 1 {
            Inner::Level(Box::new(Self::new(vb.pp("inner"), depth - 1, c)?))
        } else {
            Inner::Bottom(Box::new(Residual::new(vb.pp("inner"), c, c)?))
        };
        Ok(Self {
            up: Residual::new(vb.pp("up"), c, c)?,
            down: Residual::new(vb.pp("down"), c, c)?,
            inner,
            back: Residual::new(vb.pp("back"), c, c)?,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let up = self.up.forward(xs)?;
        let low = self.down.forward(&pool2(xs)?)?;
        let low = match &self.inner {
            Inner::Level(h) => h.forward(&low)?,
            Inner::Bottom(r) => r.forward(&low)?,
        };
        let low = self.back.forward(&low)?;
        up + up2(&low)?
    }
}

/// One stack: hourglass, post-processing, head, and (between stacks) the re-injection maps.
#[derive(Clone, Debug)]
struct Stack {
    hourglass: Hourglass,
    post: Residual,
    feat: Conv2d,
    head: ConvTranspose2d,
    /// `(from features, from logits)` 1x1 maps added to the next stack's input.
    merge: Option<(Conv2d, Conv2d)>,
}

/// The network. See the module docs for shapes and keys.
#[derive(Clone, Debug)]
pub struct Vrn {
    stem: Conv2d,
    stem_res: Residual,
    stacks: Vec<Stack>,
    cfg: VrnConfig,
}

impl Vrn {
    /// Builds the network from `vb` (a `VarMap` for training, safetensors for inference).
    ///
    /// # Errors
    /// Missing or misshapen weights.
    pub fn new(cfg: VrnConfig, vb: VarBuilder) -> Result<Self> {
        let stride2 = Conv2dConfig {
            padding: 1,
            stride: 2,
            ..Conv2dConfig::default()
        };
        let f = cfg.features;
        let stem = conv2d(
            cfg.in_channels(),
            cfg.stem_features,
            3,
            stride2,
            vb.pp("stem"),
        )?;
        let stem_res = Residual::new(vb.pp("stem_res"), cfg.stem_features, f)?;
        let up = ConvTranspose2dConfig {
            padding: 1,
            stride: 2,
            ..ConvTranspose2dConfig::default()
        };
        let mut stacks = Vec::with_capacity(cfg.stacks);
        for s in 0..cfg.stacks {
            let last = s + 1 == cfg.stacks;
            let merge = if last {
                None
            } else {
                Some((
                    conv(vb.pp(format!("merge_feat{s}")), f, f, 1, None)?,
                    conv(vb.pp(format!("merge_pred{s}")), cfg.bins, f, 1, None)?,
                ))
            };
            stacks.push(Stack {
                hourglass: Hourglass::new(vb.pp(format!("hg{s}")), cfg.depth, f)?,
                post: Residual::new(vb.pp(format!("post{s}")), f, f)?,
                feat: conv(vb.pp(format!("feat{s}")), f, f, 1, None)?,
                head: candle_nn::conv_transpose2d(f, cfg.bins, 4, up, vb.pp(format!("head{s}")))?,
                merge,
            });
        }
        Ok(Self {
            stem,
            stem_res,
            stacks,
            cfg,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> VrnConfig {
        self.cfg
    }

    /// Logits of every stack (intermediate supervision), each `[B, bins, S, S]`.
    ///
    /// # Errors
    /// Shape errors (input not `[B, in_channels, input, input]`).
    pub fn forward_all(&self, xs: &Tensor) -> Result<Vec<Tensor>> {
        let mut x = self.stem_res.forward(&self.stem.forward(xs)?.relu()?)?;
        let mut outs = Vec::with_capacity(self.stacks.len());
        for st in &self.stacks {
            let y = st.post.forward(&st.hourglass.forward(&x)?)?;
            let y = st.feat.forward(&y)?.relu()?;
            // The head's transposed convolution brings the logits back to the input size.
            let logits = st.head.forward(&y)?;
            if let Some((mf, mp)) = &st.merge {
                let pooled = avg_pool2(&logits)?;
                x = ((x + mf.forward(&y)?)? + mp.forward(&pooled)?)?;
            }
            outs.push(logits);
        }
        Ok(outs)
    }

    /// Logits of the last stack, `[B, bins, S, S]`.
    ///
    /// # Errors
    /// As [`Vrn::forward_all`].
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_all(xs)?
            .pop()
            .ok_or_else(|| candle_core::Error::Msg("VRN without stacks".into()))
    }
}

fn avg_pool2(xs: &Tensor) -> Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    xs.reshape((b, c, h / 2, 2, w / 2, 2))?.mean(5)?.mean(3)
}

/// The training loss: [`bce_with_logits`] summed over the stacks' outputs.
///
/// # Errors
/// Shape mismatch.
pub fn loss(outputs: &[Tensor], targets: &Tensor) -> Result<Tensor> {
    let mut total: Option<Tensor> = None;
    for o in outputs {
        let l = bce_with_logits(o, targets)?;
        total = Some(match total {
            Some(t) => (t + l)?,
            None => l,
        });
    }
    total.ok_or_else(|| candle_core::Error::Msg("no outputs".into()))
}

/// Occupancy probabilities `sigmoid(logits)` of every item as a `[B][bins][S][S]`-ordered
/// vector.
///
/// # Errors
/// Candle errors.
pub fn probabilities(logits: &Tensor) -> Result<Vec<f32>> {
    candle_nn::ops::sigmoid(logits)?
        .flatten_all()?
        .to_vec1::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};

    #[test]
    fn shapes_of_every_stack() {
        let dev = Device::Cpu;
        let map = VarMap::new();
        let cfg = VrnConfig::tiny();
        let net = Vrn::new(cfg, VarBuilder::from_varmap(&map, DType::F32, &dev)).unwrap();
        let x = Tensor::rand(0f32, 1f32, (2, cfg.in_channels(), 16, 16), &dev).unwrap();
        let outs = net.forward_all(&x).unwrap();
        assert_eq!(outs.len(), 2);
        for o in &outs {
            assert_eq!(o.dims(), &[2, 8, 16, 16]);
        }
    }

    #[test]
    fn stable_bce_matches_the_definition_and_survives_large_logits() {
        let dev = Device::Cpu;
        let x = Tensor::new(&[-3f32, 0.0, 2.0, 500.0, -500.0], &dev).unwrap();
        let y = Tensor::new(&[0f32, 1.0, 1.0, 0.0, 0.0], &dev).unwrap();
        let got: f32 = bce_with_logits(&x, &y).unwrap().to_scalar().unwrap();
        let naive = |x: f32, y: f32| {
            let p = 1.0 / (1.0 + (-x).exp());
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        };
        // The two large logits: 500 (target 0) costs 500, -500 (target 0) costs 0.
        let want = (naive(-3.0, 0.0) + naive(0.0, 1.0) + naive(2.0, 1.0) + 500.0) / 5.0;
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }

    #[test]
    fn loss_decreases_on_a_fixed_batch() {
        let dev = Device::Cpu;
        let map = VarMap::new();
        let cfg = VrnConfig::tiny();
        let net = Vrn::new(cfg, VarBuilder::from_varmap(&map, DType::F32, &dev)).unwrap();
        // A fixed, seeded input (the weights' initialisation is the only randomness left).
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let n = 2 * cfg.in_channels() * 16 * 16;
        let data: Vec<f32> = (0..n).map(|_| rand::Rng::random::<f32>(&mut rng)).collect();
        let x = Tensor::from_vec(data, (2, cfg.in_channels(), 16, 16), &dev).unwrap();
        // Target: the first half of the bins occupied on the left half of the image.
        let v: Vec<f32> = (0..2 * 8 * 16 * 16)
            .map(|i| f32::from(u8::from((i / 256) % 8 < 4 && i % 16 < 8)))
            .collect();
        let t = Tensor::from_vec(v, (2, 8, 16, 16), &dev).unwrap();
        let mut opt = AdamW::new(
            map.all_vars(),
            ParamsAdamW {
                lr: 3e-3,
                ..Default::default()
            },
        )
        .unwrap();
        let first: f32 = loss(&net.forward_all(&x).unwrap(), &t)
            .unwrap()
            .to_scalar()
            .unwrap();
        let mut last = first;
        for _ in 0..15 {
            let l = loss(&net.forward_all(&x).unwrap(), &t).unwrap();
            last = l.to_scalar().unwrap();
            opt.backward_step(&l).unwrap();
        }
        assert!(last < 0.7 * first, "{first} -> {last}");
    }
}
