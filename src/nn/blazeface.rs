//! BlazeFace, short-range variant: MediaPipe's face detector (Bazarevsky et al. 2019,
//! "BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs"), ported to candle.
//!
//! A 5x5 stride-2 stem, 16 depthwise-separable ReLU residual blocks (see [`super::layers`]) and
//! two SSD heads: 2 anchors per cell on the 16x16 map (after block 10), 6 per cell on the 8x8 map
//! (after block 15): 896 anchors. Weights: `weights/blazeface.safetensors`, converted from the
//! `mediapipe==0.10.14` wheel by `tools/convert_mediapipe.py` (Apache-2.0). Anchors, decoding and
//! NMS live in `pipeline::detect`.
//!
//! ```no_run
//! # fn main() -> candle_core::Result<()> {
//! use candle_core::{DType, Device, Tensor};
//! let net = visage::nn::blazeface::BlazeFace::embedded(&Device::Cpu)?;
//! let input = Tensor::zeros((1, 3, 128, 128), DType::F32, &Device::Cpu)?; // values in [-1, 1]
//! let out = net.forward(&input)?; // logits [1, 896], regressors [1, 896, 16]
//! # Ok(()) }
//! ```

use super::layers::{Activation, Padding, Pointwise, ResBlock, Stem};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

/// The converted weights, embedded in the binary (209 kB, float16).
pub const WEIGHTS: &[u8] = crate::weights::BLAZEFACE;

/// Input side, in pixels.
pub const INPUT_SIZE: usize = 128;
/// Number of anchors (and of outputs).
pub const NUM_ANCHORS: usize = 896;
/// Values per anchor in the regressor output: box (dx, dy, w, h), then 6 keypoints (x, y).
pub const NUM_COORDS: usize = 16;

/// Architecture of a BlazeFace network.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Stem output channels.
    pub stem_channels: usize,
    /// Output channels of each residual block, in order.
    pub block_channels: Vec<usize>,
    /// Indices of the stride-2 blocks.
    pub stride2_blocks: Vec<usize>,
    /// Index of the block whose output feeds the 16x16 head.
    pub head16_block: usize,
    /// Anchors per cell on the 16x16 and 8x8 maps.
    pub anchors_per_cell: (usize, usize),
    /// Padding of the 5x5 stride-2 stem.
    pub stem_padding: Padding,
    /// Padding of the stride-2 depthwise convolutions.
    pub block_padding: Padding,
}

impl Config {
    /// MediaPipe's `face_detection_short_range.tflite`.
    #[must_use]
    pub fn short_range() -> Self {
        Self {
            stem_channels: 24,
            block_channels: vec![
                24, 28, 32, 36, 42, 48, 56, 64, 72, 80, 88, 96, 96, 96, 96, 96,
            ],
            stride2_blocks: vec![2, 5, 11],
            head16_block: 10,
            anchors_per_cell: (2, 6),
            stem_padding: Padding::TfliteSame,
            block_padding: Padding::TfliteSame,
        }
    }
}

/// Raw network outputs.
#[derive(Clone, Debug)]
pub struct Output {
    /// Face score logits, `[B, 896]` (16x16 map anchors first, NHWC order).
    pub logits: Tensor,
    /// Box and keypoint regressors, `[B, 896, 16]`, in input pixels relative to the anchor.
    pub regressors: Tensor,
}

/// The BlazeFace network.
#[derive(Clone, Debug)]
pub struct BlazeFace {
    stem: Stem,
    blocks: Vec<ResBlock>,
    head16_block: usize,
    cls_s8: Pointwise,
    reg_s8: Pointwise,
    cls_s16: Pointwise,
    reg_s16: Pointwise,
}

impl BlazeFace {
    /// Builds the network from `stem.*`, `blocks.{i}.*`, `cls_8.*`, `reg_8.*`, `cls_16.*`,
    /// `reg_16.*` (the 8/16 suffix is the head's stride).
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let stem = Stem::new(vb.pp("stem"), 3, cfg.stem_channels, 5, cfg.stem_padding)?;
        let mut blocks = Vec::with_capacity(cfg.block_channels.len());
        let mut c_in = cfg.stem_channels;
        for (i, &c_out) in cfg.block_channels.iter().enumerate() {
            let stride = if cfg.stride2_blocks.contains(&i) {
                2
            } else {
                1
            };
            let vbi = vb.pp(format!("blocks.{i}"));
            blocks.push(ResBlock::new(
                vbi,
                c_in,
                c_out,
                stride,
                false,
                cfg.block_padding,
            )?);
            c_in = c_out;
        }
        let c16 = cfg.block_channels[cfg.head16_block];
        let (a16, a8) = cfg.anchors_per_cell;
        Ok(Self {
            stem,
            blocks,
            head16_block: cfg.head16_block,
            cls_s8: Pointwise::new(vb.pp("cls_8"), c16, a16, 1)?,
            reg_s8: Pointwise::new(vb.pp("reg_8"), c16, a16 * NUM_COORDS, 1)?,
            cls_s16: Pointwise::new(vb.pp("cls_16"), c_in, a8, 1)?,
            reg_s16: Pointwise::new(vb.pp("reg_16"), c_in, a8 * NUM_COORDS, 1)?,
        })
    }

    /// The short-range network with the embedded weights, in f32 on `device`.
    ///
    /// # Errors
    /// Corrupt embedded weights (a build problem) or device errors.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::with_config(&Config::short_range(), device)
    }

    /// The embedded weights under a given configuration (e.g. another [`Padding`]).
    ///
    /// # Errors
    /// As [`BlazeFace::embedded`].
    pub fn with_config(cfg: &Config, device: &Device) -> Result<Self> {
        Self::new(
            cfg,
            VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, device)?,
        )
    }

    /// `[B, 3, 128, 128]` RGB in [-1, 1] -> score logits and regressors.
    ///
    /// # Errors
    /// Wrong input shape.
    pub fn forward(&self, xs: &Tensor) -> Result<Output> {
        let b = xs.dim(0)?;
        let mut x = self.stem.forward_with(xs, Some(&Activation::Relu))?;
        let mut x16 = None;
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(&x)?;
            if i == self.head16_block {
                x16 = Some(x.clone());
            }
        }
        let x16 = x16.ok_or_else(|| candle_core::Error::Msg("head16_block out of range".into()))?;
        let logits = Tensor::cat(
            &[
                self.cls_s8.forward(&x16)?.reshape((b, ()))?,
                self.cls_s16.forward(&x)?.reshape((b, ()))?,
            ],
            1,
        )?;
        let regressors = Tensor::cat(
            &[
                self.reg_s8.forward(&x16)?.reshape((b, (), NUM_COORDS))?,
                self.reg_s16.forward(&x)?.reshape((b, (), NUM_COORDS))?,
            ],
            1,
        )?;
        Ok(Output { logits, regressors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::test_util::{detector_errors, fixture_tensor, raw_reference};

    /// Largest |logit - reference| over all anchors, and over the top anchors' regressors.
    fn max_errors(cfg: &Config) -> (f32, f32) {
        let net = BlazeFace::with_config(cfg, &Device::Cpu).unwrap();
        let input = fixture_tensor("blazeface_input.png", 2.0 / 255.0, -1.0);
        let out = net.forward(&input).unwrap();
        detector_errors(&out.logits, &out.regressors, &raw_reference()["blazeface"])
    }

    /// Reference: TFLite's own interpreter on the same input (tools/reference_tflite.py).
    #[test]
    fn matches_tflite_runtime() {
        let (logit_err, reg_err) = max_errors(&Config::short_range());
        println!("BlazeFace vs TFLite: logits {logit_err:.2e}, regressors {reg_err:.2e} px");
        assert!(logit_err < 2e-3, "logit error {logit_err}");
        assert!(reg_err < 2e-2, "regressor error {reg_err} (input pixels)");
    }

    /// Both stride-2 padding cases matter: the 5x5 stem (1, 2) and the 3x3 blocks (0, 1).
    #[test]
    fn symmetric_padding_is_wrong() {
        let stem = Config {
            stem_padding: Padding::Symmetric,
            ..Config::short_range()
        };
        let (logit_err, reg_err) = max_errors(&stem);
        assert!(
            logit_err > 0.05 || reg_err > 1.0,
            "stem: {logit_err} {reg_err}"
        );
        let blocks = Config {
            block_padding: Padding::Symmetric,
            ..Config::short_range()
        };
        let (logit_err, reg_err) = max_errors(&blocks);
        assert!(
            logit_err > 0.05 || reg_err > 1.0,
            "blocks: {logit_err} {reg_err}"
        );
    }
}
