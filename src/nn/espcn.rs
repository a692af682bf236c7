//! ESPCN super-resolution (Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution
//! Using an Efficient Sub-Pixel Convolutional Neural Network"): conv 5x5 64 -> tanh ->
//! conv 3x3 32 -> tanh -> conv 3x3 (3 r^2) -> pixel shuffle, all at low resolution.
//!
//! Visage adds one thing to the paper's network: a global skip from bicubic interpolation, so the
//! network learns the residual `HR - bicubic(LR)` (as VDSR did). The skip costs one resize and
//! makes a small network on a small data set start from bicubic quality instead of below it.
//!
//! Weights: `weights/espcn_x2.safetensors`, `weights/espcn_x4.safetensors`, trained by
//! `visage train espcn --scale 2|4` (see `weights/README.md`).

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder, conv2d};
use image::RgbImage;

/// The committed x2 weights, embedded so the app needs no files at run time.
pub const WEIGHTS_X2: &[u8] = crate::weights::ESPCN_X2;
/// The committed x4 weights.
pub const WEIGHTS_X4: &[u8] = crate::weights::ESPCN_X4;

/// Network shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EspcnConfig {
    /// Upscaling factor r.
    pub scale: usize,
    /// Feature maps of the first and second layers.
    pub features: [usize; 2],
}

impl EspcnConfig {
    /// The paper's x2 network (64, 32 features).
    #[must_use]
    pub fn x2() -> Self {
        Self {
            scale: 2,
            features: [64, 32],
        }
    }

    /// The paper's x4 network (64, 32 features).
    #[must_use]
    pub fn x4() -> Self {
        Self {
            scale: 4,
            features: [64, 32],
        }
    }

    /// Preset for a scale (2 or 4).
    #[must_use]
    pub fn for_scale(scale: usize) -> Option<Self> {
        match scale {
            2 => Some(Self::x2()),
            4 => Some(Self::x4()),
            _ => None,
        }
    }
}

/// The ESPCN network. Weight keys: `conv1`, `conv2`, `conv3` (each `.weight`, `.bias`).
#[derive(Clone, Debug)]
pub struct Espcn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    cfg: EspcnConfig,
}

impl Espcn {
    /// Builds the network from `vb` (a `VarMap` for training, safetensors for inference).
    ///
    /// # Errors
    /// Missing or misshapen weights.
    pub fn new(cfg: EspcnConfig, vb: VarBuilder) -> Result<Self> {
        let pad = |p| Conv2dConfig {
            padding: p,
            ..Conv2dConfig::default()
        };
        let [f1, f2] = cfg.features;
        Ok(Self {
            conv1: conv2d(3, f1, 5, pad(2), vb.pp("conv1"))?,
            conv2: conv2d(f1, f2, 3, pad(1), vb.pp("conv2"))?,
            conv3: conv2d(f2, 3 * cfg.scale * cfg.scale, 3, pad(1), vb.pp("conv3"))?,
            cfg,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> EspcnConfig {
        self.cfg
    }

    /// The residual to add to bicubic: `[B, 3, h, w]` LR in [0, 1] -> `[B, 3, r h, r w]`.
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn residual(&self, lr: &Tensor) -> Result<Tensor> {
        let x = self.conv1.forward(lr)?.tanh()?;
        let x = self.conv2.forward(&x)?.tanh()?;
        let x = self.conv3.forward(&x)?;
        candle_nn::ops::pixel_shuffle(&x, self.cfg.scale)
    }

    /// Super-resolves `lr` (`[B, 3, h, w]`, [0, 1]) given `base`, its bicubic enlargement
    /// (`[B, 3, r h, r w]`): `base + residual(lr)`.
    ///
    /// # Errors
    /// Shape errors from candle.
    pub fn forward(&self, lr: &Tensor, base: &Tensor) -> Result<Tensor> {
        base + self.residual(lr)?
    }

    /// Upscales an 8-bit image by the network's factor with candle's own conv2d (the reference
    /// path; [`super::espcn_fast::FastEspcn`] is the faster one the app uses).
    ///
    /// # Errors
    /// Candle errors (none expected for valid weights).
    pub fn upscale_image(&self, lr: &RgbImage, device: &Device) -> Result<RgbImage> {
        let r = u32::try_from(self.cfg.scale).unwrap_or(1);
        let (w, h) = (lr.width() * r, lr.height() * r);
        let base = image::imageops::resize(lr, w, h, image::imageops::FilterType::CatmullRom);
        let out = self.forward(&to_tensor(lr, device)?, &to_tensor(&base, device)?)?;
        from_tensor(&out)
    }

    /// The three convolutions' (weight `[out, in, k, k]`, bias `[out]`) tensors, in order.
    #[must_use]
    pub fn layers(&self) -> [(&Tensor, Option<&Tensor>); 3] {
        [&self.conv1, &self.conv2, &self.conv3].map(|c| (c.weight(), c.bias()))
    }
}

/// An RGB8 image as `[1, 3, H, W]` f32 in [0, 1].
///
/// # Errors
/// Candle errors.
pub fn to_tensor(image: &RgbImage, device: &Device) -> Result<Tensor> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let data: Vec<f32> = image
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect();
    Tensor::from_vec(data, (1, h, w, 3), device)?
        .permute((0, 3, 1, 2))?
        .contiguous()
}

/// The first image of a `[B, 3, H, W]` tensor in [0, 1] as RGB8 (clamped, rounded).
///
/// # Errors
/// Candle errors, or a tensor that is not `[B, 3, H, W]`.
pub fn from_tensor(t: &Tensor) -> Result<RgbImage> {
    let (_, c, h, w) = t.dims4()?;
    if c != 3 {
        return Err(candle_core::Error::Msg(format!(
            "expected 3 channels, got {c}"
        )));
    }
    let hwc = t
        .get(0)?
        .permute((1, 2, 0))?
        .clamp(0f32, 1f32)?
        .affine(255.0, 0.5)?
        .to_dtype(DType::F32)?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let bytes: Vec<u8> = hwc.into_iter().map(|v| v as u8).collect();
    RgbImage::from_raw(
        u32::try_from(w).unwrap_or(0),
        u32::try_from(h).unwrap_or(0),
        bytes,
    )
    .ok_or_else(|| candle_core::Error::Msg("image buffer size mismatch".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn shapes_and_zero_residual() {
        let dev = Device::Cpu;
        let map = VarMap::new();
        let vb = VarBuilder::from_varmap(&map, DType::F32, &dev);
        let net = Espcn::new(EspcnConfig::x4(), vb).unwrap();
        let lr = Tensor::rand(0f32, 1f32, (2, 3, 10, 12), &dev).unwrap();
        assert_eq!(net.residual(&lr).unwrap().dims(), &[2, 3, 40, 48]);
        // With conv3 zeroed the network returns bicubic exactly.
        for (name, var) in map.data().lock().unwrap().iter() {
            if name.starts_with("conv3") {
                var.set(&var.zeros_like().unwrap()).unwrap();
            }
        }
        let img = RgbImage::from_fn(9, 7, |x, y| {
            image::Rgb([(x * 20) as u8, (y * 30) as u8, 77])
        });
        let out = net.upscale_image(&img, &dev).unwrap();
        let bicubic =
            image::imageops::resize(&img, 36, 28, image::imageops::FilterType::CatmullRom);
        assert_eq!(out, bicubic);
    }

    #[test]
    fn pixel_shuffle_order() {
        // Channel k = (c, i, j) lands at output pixel (r*y + i, r*x + j) of channel c.
        let dev = Device::Cpu;
        let t = Tensor::arange(0f32, 12.0, &dev)
            .unwrap()
            .reshape((1, 12, 1, 1))
            .unwrap();
        let s = candle_nn::ops::pixel_shuffle(&t, 2).unwrap();
        let v = s.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(v, (0..12).map(|i| i as f32).collect::<Vec<_>>());
        assert_eq!(s.dims(), &[1, 3, 2, 2]);
    }
}
