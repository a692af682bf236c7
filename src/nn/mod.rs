//! The neural networks, one per file, each a config + `new(cfg, vb)` + `forward` in candle.
//!
//! - [`espcn`]: ESPCN sub-pixel super-resolution (x2, x4), with a global bicubic skip;
//!   [`espcn_fast`] is its im2col CPU inference path.
//! - [`blazeface`]: MediaPipe's short-range face detector (128x128 input, 896 anchors).
//! - [`blazeface_full`]: MediaPipe's full-range face detector (192x192 input, 2304 anchors).
//! - [`facemesh`]: MediaPipe's 468-point 3D landmark network (192x192 crop).
//! - [`layers`]: the depthwise-separable residual blocks and TFLite SAME padding they share.
//! - [`vrn`]: the volumetric regression network (stacked hourglass, landmark-guided).
//! - [`cpu_kernels`]: the fused CPU kernel of their depthwise convolution.
//! - [`unet`]: the pix2pix U-Net generator (face crop -> depth + mask).
//! - [`patch_gan`]: the pix2pix PatchGAN discriminator and a stable BCE-with-logits.
//! - [`refiner`]: the CGAN refiner of the 3DMM path (coarse DCE image -> refined DCE image).

pub mod blazeface;
pub mod blazeface_full;
pub mod cpu_kernels;
pub mod espcn;
pub mod espcn_fast;
pub mod facemesh;
pub mod layers;
pub mod loss;
pub mod patch_gan;
pub mod refiner;
pub mod unet;
pub mod vrn;

#[cfg(test)]
pub(crate) mod test_util {
    //! Fixture loading shared by the network tests.
    use candle_core::{Device, Tensor};

    /// An RGB PNG from tests/fixtures as `[1, 3, H, W]` f32, `u8 * scale + offset`.
    pub fn fixture_tensor(name: &str, scale: f32, offset: f32) -> Tensor {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let img = image::open(path).unwrap().to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let data: Vec<f32> = img
            .into_raw()
            .into_iter()
            .map(|v| f32::from(v) * scale + offset)
            .collect();
        Tensor::from_vec(data, (1, h, w, 3), &Device::Cpu)
            .unwrap()
            .permute((0, 3, 1, 2))
            .unwrap()
    }

    /// tests/fixtures/mediapipe_raw.json (written by tools/reference_tflite.py).
    pub fn raw_reference() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/mediapipe_raw.json")).unwrap()
    }

    /// Largest |logit - reference| over all anchors, and over the reference's top anchors'
    /// regressors, for a BlazeFace network's outputs against TFLite's (`reference` holds
    /// `logits`, `top_anchors` and `top_regressors`).
    pub fn detector_errors(
        logits: &Tensor,
        regressors: &Tensor,
        reference: &serde_json::Value,
    ) -> (f32, f32) {
        let max_diff = |got: &[f32], want: &[f32]| {
            assert_eq!(got.len(), want.len());
            got.iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        };
        let got: Vec<f32> = logits.flatten_all().unwrap().to_vec1().unwrap();
        let logit_err = max_diff(&got, &floats(&reference["logits"]));
        let regs: Vec<Vec<f32>> = regressors.squeeze(0).unwrap().to_vec2().unwrap();
        let tops = reference["top_anchors"].as_array().unwrap();
        let reg_err = tops
            .iter()
            .enumerate()
            .map(|(i, anchor)| {
                let got = &regs[anchor.as_u64().unwrap() as usize];
                max_diff(got, &floats(&reference["top_regressors"][i]))
            })
            .fold(0.0, f32::max);
        (logit_err, reg_err)
    }

    /// A JSON array of numbers as f32.
    pub fn floats(v: &serde_json::Value) -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    }
}
