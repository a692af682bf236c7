//! Upscalers: the classic resampling filters, behind the one [`Upscaler`] enum that the CLI, the
//! GUI and the tests share.
//!
//! [`Upscaler::Espcn`] runs the project's trained ESPCN networks (x2, x4; chained for larger
//! factors, then resampled to the exact size).
//!
//! Resampling uses the `image` crate's separable convolution filters (`imageops::resize`):
//! it is already a dependency, well kept, and its Triangle / Catmull-Rom kernels are the usual
//! bilinear / bicubic (a = -0.5) definitions, so no second resizing library is needed.

use image::RgbImage;
use image::imageops::{FilterType, resize};

/// An upscaling method.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Upscaler {
    /// Bilinear interpolation (triangle filter).
    Bilinear,
    /// Bicubic interpolation (Catmull-Rom, a = -0.5).
    #[default]
    Bicubic,
    /// ESPCN sub-pixel CNN (Shi et al. 2016) trained by Visage on faces, with a bicubic skip.
    Espcn,
}

impl Upscaler {
    /// Every upscaler, in display order.
    pub const ALL: [Self; 3] = [Self::Bilinear, Self::Bicubic, Self::Espcn];

    /// Short lowercase name, as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bilinear => "bilinear",
            Self::Bicubic => "bicubic",
            Self::Espcn => "espcn",
        }
    }
}

impl std::fmt::Display for Upscaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Errors of [`upscale`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpscaleError {
    /// Source or target has a zero side.
    #[error("cannot resize {from_w}x{from_h} to {to_w}x{to_h}: sizes must be positive")]
    EmptySize {
        /// Source width.
        from_w: u32,
        /// Source height.
        from_h: u32,
        /// Target width.
        to_w: u32,
        /// Target height.
        to_h: u32,
    },
    /// A learned upscaler's weights could not be loaded.
    #[error("{0}")]
    Model(String),
}

/// Resizes `image` to exactly `width x height` with `upscaler`.
///
/// # Errors
/// [`UpscaleError::EmptySize`] for a zero-sized source or target.
pub fn upscale(
    image: &RgbImage,
    upscaler: Upscaler,
    width: u32,
    height: u32,
) -> Result<RgbImage, UpscaleError> {
    if image.width() == 0 || image.height() == 0 || width == 0 || height == 0 {
        return Err(UpscaleError::EmptySize {
            from_w: image.width(),
            from_h: image.height(),
            to_w: width,
            to_h: height,
        });
    }
    match upscaler {
        Upscaler::Bilinear => Ok(resize(image, width, height, FilterType::Triangle)),
        Upscaler::Bicubic => Ok(resize(image, width, height, FilterType::CatmullRom)),
        Upscaler::Espcn => espcn(image, width, height),
    }
}

/// ESPCN: x4 while at least x3 remains, x2 while at least x1.5 remains, then bicubic to the
/// exact size (also for the last non-integer part and any shrinking).
fn espcn(image: &RgbImage, width: u32, height: u32) -> Result<RgbImage, UpscaleError> {
    let [x2, x4] = crate::nn::espcn_fast::pretrained().map_err(UpscaleError::Model)?;
    let mut current = image.clone();
    loop {
        let remaining = f64::from(width) / f64::from(current.width());
        let remaining = remaining.min(f64::from(height) / f64::from(current.height()));
        let net = if remaining >= 3.0 {
            x4
        } else if remaining >= 1.5 {
            x2
        } else {
            break;
        };
        current = net
            .upscale_image(&current)
            .map_err(|e| UpscaleError::Model(format!("ESPCN failed: {e}")))?;
    }
    if current.dimensions() == (width, height) {
        Ok(current)
    } else {
        Ok(resize(&current, width, height, FilterType::CatmullRom))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_image_stays_constant() {
        let img = RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
        for u in [Upscaler::Bilinear, Upscaler::Bicubic] {
            let out = upscale(&img, u, 32, 24).unwrap();
            assert_eq!(out.dimensions(), (32, 24));
            assert!(out.pixels().all(|p| p.0 == [10, 20, 30]), "{u}");
        }
    }

    #[test]
    fn bilinear_ramp_is_linear_inside() {
        // A horizontal ramp 0, 64, 128, 192 upscaled x2: interior samples fall halfway.
        let img = RgbImage::from_fn(4, 4, |x, _| image::Rgb([(x * 64) as u8; 3]));
        let out = upscale(&img, Upscaler::Bilinear, 8, 4).unwrap();
        // Output pixel 3 sits at source x = 1.25: 64 + 0.25 * 64 = 80.
        assert_eq!(out.get_pixel(3, 1).0[0], 80);
    }

    #[test]
    fn espcn_chains_networks_to_the_exact_size() {
        let img = RgbImage::from_fn(12, 10, |x, y| {
            image::Rgb([(x * 20) as u8, (y * 25) as u8, 60])
        });
        for (w, h) in [(24, 20), (48, 40), (96, 80), (50, 41)] {
            let out = upscale(&img, Upscaler::Espcn, w, h).unwrap();
            assert_eq!(out.dimensions(), (w, h));
        }
        // A flat image stays (nearly) flat: the residual of a constant input is small.
        let flat = RgbImage::from_pixel(16, 16, image::Rgb([120, 90, 70]));
        let out = upscale(&flat, Upscaler::Espcn, 64, 64).unwrap();
        let worst = out.pixels().map(|p| p.0[0].abs_diff(120)).max().unwrap();
        assert!(worst <= 6, "{worst}");
    }

    #[test]
    fn zero_target_is_an_error() {
        let img = RgbImage::new(4, 4);
        assert!(upscale(&img, Upscaler::Bicubic, 0, 4).is_err());
    }
}
