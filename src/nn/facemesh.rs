//! FaceMesh: MediaPipe's 468-point 3D face landmark network (Kartynnik et al. 2019, "Real-time
//! Facial Surface Geometry from Monocular Video on Mobile GPUs"), ported to candle.
//!
//! A 3x3 stride-2 stem, 14 depthwise-separable PReLU residual blocks down to 6x6x128, then two
//! heads: landmarks (3 blocks at 128 channels, a 1x1 down to 32, one block, a 3x3 VALID
//! convolution to 1404 = 468 x (x, y, z)) and face presence (the same shape, one logit).
//! Weights: `weights/facemesh.safetensors`, converted from the `mediapipe==0.10.14` wheel by
//! `tools/convert_mediapipe.py` (Apache-2.0). The crop and the projection back to the photo live
//! in `pipeline::detect`.
//!
//! ```no_run
//! # fn main() -> candle_core::Result<()> {
//! use candle_core::{DType, Device, Tensor};
//! let net = visage::nn::facemesh::FaceMesh::embedded(&Device::Cpu)?;
//! let crop = Tensor::zeros((1, 3, 192, 192), DType::F32, &Device::Cpu)?; // values in [0, 1]
//! let out = net.forward(&crop)?; // landmarks [1, 468, 3] in crop pixels, presence [1]
//! # Ok(()) }
//! ```

use super::layers::{Activation, Padding, Pointwise, ResBlock, Stem};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

/// The converted weights, embedded in the binary (1.2 MB, float16).
pub const WEIGHTS: &[u8] = crate::weights::FACEMESH;

/// Input side, in pixels.
pub const INPUT_SIZE: usize = 192;
/// Number of landmarks.
pub const NUM_LANDMARKS: usize = 468;

/// Architecture of a FaceMesh network.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Stem output channels.
    pub stem_channels: usize,
    /// Output channels of each backbone block, in order.
    pub block_channels: Vec<usize>,
    /// Indices of the stride-2 backbone blocks.
    pub stride2_blocks: Vec<usize>,
    /// Channels of the heads after their 1x1 reduction.
    pub head_channels: usize,
    /// Padding of the 3x3 stride-2 stem.
    pub stem_padding: Padding,
    /// Padding of the stride-2 depthwise convolutions.
    pub block_padding: Padding,
}

impl Config {
    /// MediaPipe's `face_landmark.tflite` (without attention).
    #[must_use]
    pub fn mediapipe() -> Self {
        Self {
            stem_channels: 16,
            block_channels: vec![16, 16, 32, 32, 32, 64, 64, 64, 128, 128, 128, 128, 128, 128],
            stride2_blocks: vec![2, 5, 8, 11],
            head_channels: 32,
            stem_padding: Padding::TfliteSame,
            block_padding: Padding::TfliteSame,
        }
    }
}

/// Raw network outputs.
#[derive(Clone, Debug)]
pub struct Output {
    /// `[B, 468, 3]`: x, y in crop pixels (0..192), z relative depth in the same units (smaller
    /// is nearer the camera).
    pub landmarks: Tensor,
    /// `[B]` face-presence logits (sigmoid > 0.5: a face).
    pub presence: Tensor,
}

/// One head: `blocks_before` (the first stride 2), a 1x1 reduction with PReLU, `blocks_after`,
/// and a 3x3 VALID output convolution.
#[derive(Clone, Debug)]
struct Head {
    before: Vec<ResBlock>,
    reduce: Pointwise,
    reduce_act: Activation,
    after: Vec<ResBlock>,
    out: Pointwise,
}

impl Head {
    fn new(
        vb: VarBuilder,
        c: usize,
        c_head: usize,
        n_before: usize,
        c_out: usize,
        pad: Padding,
    ) -> Result<Self> {
        let mut before = Vec::new();
        for i in 0..n_before {
            let stride = if i == 0 { 2 } else { 1 };
            before.push(ResBlock::new(
                vb.pp(format!("blocks.{i}")),
                c,
                c,
                stride,
                true,
                pad,
            )?);
        }
        let after = vec![ResBlock::new(
            vb.pp(format!("blocks.{n_before}")),
            c_head,
            c_head,
            1,
            true,
            pad,
        )?];
        Ok(Self {
            before,
            reduce: Pointwise::new(vb.pp("reduce"), c, c_head, 1)?,
            reduce_act: Activation::prelu(vb.pp("reduce_act"), c_head)?,
            after,
            out: Pointwise::new(vb.pp("out"), c_head, c_out, 3)?,
        })
    }

    /// `[B, 6, 6, C]` -> `[B, c_out]`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let mut x = xs.clone();
        for block in &self.before {
            x = block.forward(&x)?;
        }
        x = self.reduce.forward_with(&x, None, Some(&self.reduce_act))?;
        for block in &self.after {
            x = block.forward(&x)?;
        }
        self.out.forward(&x)
    }
}

/// The FaceMesh network.
#[derive(Clone, Debug)]
pub struct FaceMesh {
    stem: Stem,
    stem_act: Activation,
    blocks: Vec<ResBlock>,
    landmarks: Head,
    presence: Head,
}

impl FaceMesh {
    /// Builds the network from `stem.*`, `stem_act.*`, `blocks.{i}.*`, `landmarks.*`,
    /// `presence.*`.
    ///
    /// # Errors
    /// Missing tensors or wrong shapes.
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let c0 = cfg.stem_channels;
        let mut blocks = Vec::with_capacity(cfg.block_channels.len());
        let mut c_in = c0;
        for (i, &c_out) in cfg.block_channels.iter().enumerate() {
            let stride = if cfg.stride2_blocks.contains(&i) {
                2
            } else {
                1
            };
            blocks.push(ResBlock::new(
                vb.pp(format!("blocks.{i}")),
                c_in,
                c_out,
                stride,
                true,
                cfg.block_padding,
            )?);
            c_in = c_out;
        }
        let (ch, pad) = (cfg.head_channels, cfg.block_padding);
        Ok(Self {
            stem: Stem::new(vb.pp("stem"), 3, c0, 3, cfg.stem_padding)?,
            stem_act: Activation::prelu(vb.pp("stem_act"), c0)?,
            blocks,
            landmarks: Head::new(vb.pp("landmarks"), c_in, ch, 3, NUM_LANDMARKS * 3, pad)?,
            presence: Head::new(vb.pp("presence"), c_in, ch, 1, 1, pad)?,
        })
    }

    /// The MediaPipe network with the embedded weights, in f32 on `device`.
    ///
    /// # Errors
    /// Corrupt embedded weights (a build problem) or device errors.
    pub fn embedded(device: &Device) -> Result<Self> {
        Self::with_config(&Config::mediapipe(), device)
    }

    /// The embedded weights under a given configuration (e.g. another [`Padding`]).
    ///
    /// # Errors
    /// As [`FaceMesh::embedded`].
    pub fn with_config(cfg: &Config, device: &Device) -> Result<Self> {
        Self::new(
            cfg,
            VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, device)?,
        )
    }

    /// `[B, 3, 192, 192]` RGB in [0, 1] -> landmarks and presence logits.
    ///
    /// # Errors
    /// Wrong input shape.
    pub fn forward(&self, xs: &Tensor) -> Result<Output> {
        let b = xs.dim(0)?;
        let mut x = self.stem.forward_with(xs, Some(&self.stem_act))?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        Ok(Output {
            landmarks: self.landmarks.forward(&x)?.reshape((b, NUM_LANDMARKS, 3))?,
            presence: self.presence.forward(&x)?.reshape(b)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::test_util::{fixture_tensor, floats, raw_reference};

    /// Largest landmark error (crop pixels) and presence-logit error against TFLite.
    fn max_errors(cfg: &Config) -> (f32, f32) {
        let net = FaceMesh::with_config(cfg, &Device::Cpu).unwrap();
        let out = net
            .forward(&fixture_tensor("facemesh_input.png", 1.0 / 255.0, 0.0))
            .unwrap();
        let reference = raw_reference();
        let want = floats(&reference["facemesh"]["landmarks"]);
        let got: Vec<f32> = out.landmarks.flatten_all().unwrap().to_vec1().unwrap();
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        let presence: Vec<f32> = out.presence.to_vec1().unwrap();
        let want_presence = reference["facemesh"]["presence_logit"].as_f64().unwrap() as f32;
        (err, (presence[0] - want_presence).abs())
    }

    /// Reference: TFLite's own interpreter on the same crop (tools/reference_tflite.py).
    #[test]
    fn matches_tflite_runtime() {
        let (err, presence_err) = max_errors(&Config::mediapipe());
        println!("FaceMesh vs TFLite: landmarks {err:.2e} px, presence logit {presence_err:.2e}");
        assert!(err < 0.02, "landmark error {err} px");
        assert!(presence_err < 1e-2, "presence logit error {presence_err}");
    }

    /// The 3x3 stride-2 stem and blocks both need TFLite's (0, 1) padding.
    #[test]
    fn symmetric_padding_is_wrong() {
        let stem = Config {
            stem_padding: Padding::Symmetric,
            ..Config::mediapipe()
        };
        assert!(max_errors(&stem).0 > 1.0, "stem");
        let blocks = Config {
            block_padding: Padding::Symmetric,
            ..Config::mediapipe()
        };
        assert!(max_errors(&blocks).0 > 1.0, "blocks");
    }
}
