//! Upscalers: the classic resampling filters, behind the one [`Upscaler`] enum that the CLI, the
//! GUI and the tests share.
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
}

impl Upscaler {
    /// Every upscaler, in display order.
    pub const ALL: [Self; 2] = [Self::Bilinear, Self::Bicubic];

    /// Short lowercase name, as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Bilinear => "bilinear",
            Self::Bicubic => "bicubic",
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
    let filter = match upscaler {
        Upscaler::Bilinear => FilterType::Triangle,
        Upscaler::Bicubic => FilterType::CatmullRom,
    };
    Ok(resize(image, width, height, filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_image_stays_constant() {
        let img = RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
        for u in Upscaler::ALL {
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
    fn zero_target_is_an_error() {
        let img = RgbImage::new(4, 4);
        assert!(upscale(&img, Upscaler::Bicubic, 0, 4).is_err());
    }
}
