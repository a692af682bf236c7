//! BlazeFace, full-range variant: MediaPipe's detector for small and distant faces
//! (`face_detection_full_range_sparse.tflite`), ported to candle.
//!
//! Unlike the short-range network (a plain stack of residual blocks, see [`super::blazeface`]),
//! this one is a small feature pyramid on a 192x192 input: a 3x3 stride-2 stem, an encoder of
//! bottleneck blocks (depthwise 3x3, 1x1 down to a narrow width with ReLU, depthwise 3x3, 1x1
//! back up) at 96, 48, 24, 12 and 6 pixels, then a top-down path that upsamples (bilinear,
//! half-pixel centres) and adds 1x1 laterals of the 48, 24 and 12 pixel stages. Both heads read
//! the 48x48 map: a 1x1 convolution, a 3x3 stride-2 depthwise convolution and a depth-to-space
//! that brings the 24x24 result back to 48x48, one anchor per cell: 2304 anchors.
//!
//! Every padding is explicit and symmetric in the TFLite graph (PAD by one, then VALID), which
//! is [`Padding::Symmetric`] here; a test shows the short-range padding rule would be wrong.
//! Weights: `weights/blazeface_full.safetensors` (1 MB, float16, 64 % zeros: the wheel's weights
//! are pruned and stored sparse), converted by `tools/convert_full_range.py` (Apache-2.0).

use super::layers::{Activation, Depthwise3x3, Padding, Pointwise, Stem};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

/// The converted weights, embedded in the binary.
pub const WEIGHTS: &[u8] = crate::weights::BLAZEFACE_FULL;

/// Input side, in pixels.
pub const INPUT_SIZE: usize = 192;
/// Side of the anchor grid (one anchor per cell).
pub const GRID: usize = 48;
/// Number of anchors (and of outputs).
pub const NUM_ANCHORS: usize = GRID * GRID;
/// Values per anchor in the regressor output (as the short-range network).
pub const NUM_COORDS: usize = super::blazeface::NUM_COORDS;

/// Architecture of the full-range network.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Stem output channels.
    pub stem_channels: usize,
    /// Encoder stages `(channels, bottleneck width, residual blocks)`, finest first; every
    /// stage but the first opens with a stride-2 block without residual.
    pub encoder: Vec<(usize, usize, usize)>,
    /// Top-down levels `(channels, bottleneck width, residual blocks)`, coarsest first; level
    /// `l` adds the lateral of encoder stage `encoder.len() - 2 - l`.
    pub decoder: Vec<(usize, usize, usize)>,
    /// Padding of every strided layer.
    pub padding: Padding,
}

impl Config {
    /// MediaPipe's `face_detection_full_range_sparse.tflite`.
    #[must_use]
    pub fn full_range() -> Self {
        Self {
            stem_channels: 32,
            encoder: vec![
                (32, 8, 2),
                (64, 16, 2),
                (128, 32, 2),
                (192, 48, 2),
                (384, 96, 3),
            ],
            decoder: vec![(96, 48, 2), (64, 32, 2), (48, 24, 1)],
            padding: Padding::Symmetric,
        }
    }
}

/// `act(skip + pw2(dw2(relu(pw1(dw1(x))))))`, or without the skip for a stride-2 block.
#[derive(Clone, Debug)]
struct Bottleneck {
    dw1: Depthwise3x3,
    pw1: Pointwise,
    dw2: Depthwise3x3,
    pw2: Pointwise,
    residual: bool,
}

impl Bottleneck {
    fn new(
        vb: VarBuilder,
        (c_in, mid, c_out): (usize, usize, usize),
        stride: usize,
        padding: Padding,
    ) -> Result<Self> {
        Ok(Self {
            dw1: Depthwise3x3::new(vb.pp("dw1"), c_in, stride, padding)?,
            pw1: Pointwise::new(vb.pp("pw1"), c_in, mid, 1)?,
            dw2: Depthwise3x3::new(vb.pp("dw2"), mid, 1, padding)?,
            pw2: Pointwise::new(vb.pp("pw2"), mid, c_out, 1)?,
            residual: stride == 1 && c_in == c_out,
        })
    }
}

impl Module for Bottleneck {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let relu = Some(&Activation::Relu);
        let ys = self.pw1.forward_with(&self.dw1.forward(xs)?, None, relu)?;
        let skip = self.residual.then_some(xs);
        self.pw2.forward_with(&self.dw2.forward(&ys)?, skip, relu)
    }
}

/// One head: 1x1, depthwise 3x3 stride 2, depth-to-space back to the input grid.
#[derive(Clone, Debug)]
struct Head {
    pw: Pointwise,
    dw: Depthwise3x3,
}

impl Head {
    fn new(vb: VarBuilder, c_in: usize, values: usize, padding: Padding) -> Result<Self> {
        Ok(Self {
            pw: Pointwise::new(vb.pp("pw"), c_in, 4 * values, 1)?,
            dw: Depthwise3x3::new(vb.pp("dw"), 4 * values, 2, padding)?,
        })
    }

    /// `[B, G, G, C]` -> `[B, G * G, values]`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let b = xs.dim(0)?;
        let ys = self.dw.forward(&self.pw.forward(xs)?)?;
        let (_, h, w, c) = ys.dims4()?;
        depth_to_space2(&ys)?.reshape((b, 4 * h * w, c / 4))
    }
}

/// TFLite's DEPTH_TO_SPACE with block 2 on NHWC: channel `(i * 2 + j) * C + c` of cell (y, x)
/// goes to pixel (2y + i, 2x + j), channel c.
///
/// # Errors
/// Channels not a multiple of 4.
pub fn depth_to_space2(xs: &Tensor) -> Result<Tensor> {
    let (b, h, w, c) = xs.dims4()?;
    xs.reshape((b, h, w, 2, 2, c / 4))?
        .permute((0, 1, 3, 2, 4, 5))?
        .reshape((b, 2 * h, 2 * w, c / 4))
}

/// Bilinear 2x upsampling of NHWC maps with half-pixel centres and clamped borders (TFLite's
/// RESIZE_BILINEAR, `half_pixel_centers`): output 2k is `0.75 x[k] + 0.25 x[k - 1]`, output
/// 2k + 1 is `0.75 x[k] + 0.25 x[k + 1]`.
///
/// # Errors
/// Not a 4-D map.
pub fn upsample2(xs: &Tensor) -> Result<Tensor> {
    let along = |xs: &Tensor, axis: usize| -> Result<Tensor> {
        let n = xs.dim(axis)?;
        let prev = Tensor::cat(&[xs.narrow(axis, 0, 1)?, xs.narrow(axis, 0, n - 1)?], axis)?;
        let next = Tensor::cat(
            &[xs.narrow(axis, 1, n - 1)?, xs.narrow(axis, n - 1, 1)?],
            axis,
        )?;
        let even = ((xs * 0.75)? + (prev * 0.25)?)?;
        let odd = ((xs * 0.75)? + (next * 0.25)?)?;
        let mut dims = xs.dims().to_vec();
        dims[axis] *= 2;
        Tensor::stack(&[even, odd], axis + 1)?.reshape(dims)
    };
    along(&along(xs, 1)?, 2)
}

/// Raw network outputs.
#[derive(Clone, Debug)]
pub struct Output {
    /// Face score logits, `[B, 2304]`, grid cells row-major.
    pub logits: Tensor,
    /// Box and keypoint regressors, `[B, 2304, 16]`, in input pixels relative to the anchor.
    pub regressors: Tensor,
}

/// The full-range BlazeFace network.
#[derive(Clone, Debug)]
pub struct BlazeFaceFull {
    stem: Stem,
    encoder: Vec<Vec<Bottleneck>>,
    laterals: Vec<Pointwise>,
    reduce: Vec<Pointwise>,
    decoder: Vec<Vec<Bottleneck>>,
    cls: Head,
    reg: Head,
}

impl BlazeFaceFull {
    /// Builds the network from the keys listed in `tools/convert_full_range.py`.
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let p = cfg.padding;
        let stem = Stem::new(vb.pp("stem"), 3, cfg.stem_channels, 3, p)?;
        let (mut encoder, mut laterals) = (Vec::new(), Vec::new());
        let mut c = cfg.stem_channels;
        let n_stages = cfg.encoder.len();
        for (s, &(c_out, mid, n)) in cfg.encoder.iter().enumerate() {
            let vbs = vb.pp(format!("enc.{s}"));
            let mut blocks = Vec::new();
            if s > 0 {
                blocks.push(Bottleneck::new(vbs.pp("blocks.0"), (c, mid, c_out), 2, p)?);
            }
            for _ in 0..n {
                let i = blocks.len();
                blocks.push(Bottleneck::new(
                    vbs.pp(format!("blocks.{i}")),
                    (c_out, mid, c_out),
                    1,
                    p,
                )?);
            }
            encoder.push(blocks);
            c = c_out;
            if s >= 1 && s + 1 < n_stages {
                let level = n_stages - 2 - s;
                let width = cfg.decoder[level].0;
                laterals.push(Pointwise::new(vbs.pp("lateral"), c_out, width, 1)?);
            }
        }
        let (mut reduce, mut decoder) = (Vec::new(), Vec::new());
        for (l, &(c_out, mid, n)) in cfg.decoder.iter().enumerate() {
            let vbl = vb.pp(format!("dec.{l}"));
            reduce.push(Pointwise::new(vbl.pp("reduce"), c, c_out, 1)?);
            decoder.push(
                (0..n)
                    .map(|i| {
                        Bottleneck::new(vbl.pp(format!("blocks.{i}")), (c_out, mid, c_out), 1, p)
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
            c = c_out;
        }
        Ok(Self {
            stem,
            encoder,
            laterals,
            reduce,
            decoder,
            cls: Head::new(vb.pp("cls"), c, 1, p)?,
            reg: Head::new(vb.pp("reg"), c, NUM_COORDS, p)?,
        })
    }

    /// The network with the embedded weights, in f32 on `device`.
    ///
    /// # Errors
    /// Corrupt embedded weights (a build problem) or device errors.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::with_config(&Config::full_range(), device)
    }

    /// The embedded weights under a given configuration (e.g. another [`Padding`]).
    ///
    /// # Errors
    /// As [`BlazeFaceFull::embedded`].
    pub fn with_config(cfg: &Config, device: &Device) -> Result<Self> {
        Self::new(
            cfg,
            VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, device)?,
        )
    }

    /// `[B, 3, 192, 192]` RGB in [-1, 1] -> score logits and regressors.
    ///
    /// # Errors
    /// Wrong input shape.
    pub fn forward(&self, xs: &Tensor) -> Result<Output> {
        let b = xs.dim(0)?;
        let mut x = self.stem.forward_with(xs, Some(&Activation::Relu))?;
        let mut skips = Vec::new();
        for (s, blocks) in self.encoder.iter().enumerate() {
            for block in blocks {
                x = block.forward(&x)?;
            }
            if let Some(lateral) = s.checked_sub(1).and_then(|i| self.laterals.get(i)) {
                skips.push(lateral.forward_with(&x, None, Some(&Activation::Relu))?);
            }
        }
        for ((reduce, blocks), skip) in self
            .reduce
            .iter()
            .zip(&self.decoder)
            .zip(skips.iter().rev())
        {
            let reduced = reduce.forward_with(&x, None, Some(&Activation::Relu))?;
            x = (upsample2(&reduced)? + skip)?;
            for block in blocks {
                x = block.forward(&x)?;
            }
        }
        Ok(Output {
            logits: self.cls.forward(&x)?.reshape((b, ()))?,
            regressors: self.reg.forward(&x)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::test_util::{detector_errors, fixture_tensor};

    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/mediapipe_raw_full.json")).unwrap()
    }

    /// Largest |logit - reference| over all anchors, and over the top anchors' regressors.
    fn max_errors(cfg: &Config) -> (f32, f32) {
        let net = BlazeFaceFull::with_config(cfg, &Device::Cpu).unwrap();
        let input = fixture_tensor("blazeface_full_input.png", 2.0 / 255.0, -1.0);
        let out = net.forward(&input).unwrap();
        detector_errors(&out.logits, &out.regressors, &reference())
    }

    /// Reference: TFLite's own interpreter on the same input (tools/reference_tflite.py).
    #[test]
    fn matches_tflite_runtime() {
        let (logit_err, reg_err) = max_errors(&Config::full_range());
        println!(
            "full-range BlazeFace vs TFLite: logits {logit_err:.2e}, regressors {reg_err:.2e} px"
        );
        assert!(logit_err < 2e-3, "logit error {logit_err}");
        assert!(reg_err < 2e-2, "regressor error {reg_err} (input pixels)");
    }

    /// The graph pads every strided layer by one on each side; TFLite's SAME rule (0, 1) moves
    /// the outputs.
    #[test]
    fn short_range_padding_is_wrong() {
        let cfg = Config {
            padding: Padding::TfliteSame,
            ..Config::full_range()
        };
        let (logit_err, reg_err) = max_errors(&cfg);
        assert!(logit_err > 0.05 || reg_err > 1.0, "{logit_err} {reg_err}");
    }

    #[test]
    fn upsample_matches_half_pixel_bilinear() {
        let xs = Tensor::new(&[1f32, 2.0, 4.0], &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 3, 1))
            .unwrap();
        let ys = upsample2(&xs).unwrap();
        assert_eq!(ys.dims(), &[1, 2, 6, 1]);
        let row: Vec<f32> = ys
            .narrow(1, 0, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        // Output x samples input (x + 0.5) / 2 - 0.5, clamped: -0.25, 0.25, 0.75, 1.25, 1.75, 2.25.
        assert_eq!(row, vec![1.0, 1.25, 1.75, 2.5, 3.5, 4.0]);
    }

    #[test]
    fn depth_to_space_places_channel_blocks() {
        // One cell, 4 channels (i, j) = (0,0), (0,1), (1,0), (1,1) -> a 2x2 block.
        let xs = Tensor::new(&[1f32, 2.0, 3.0, 4.0], &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 1, 4))
            .unwrap();
        let ys: Vec<f32> = depth_to_space2(&xs)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(ys, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(depth_to_space2(&xs).unwrap().dims(), &[1, 2, 2, 1]);
    }
}
