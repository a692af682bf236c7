//! Upscaler comparison: degrade an image, bring it back with every upscaler, and score each
//! result against the original (the seed report's PSNR/SSIM table). The CLI's `compare` and the
//! GUI's comparison view both call [`compare_upscalers`].

use super::degrade::{DegradeError, DegradeMethod, degrade};
use super::upscale::{UpscaleError, Upscaler, upscale};
use crate::metrics::image_quality::{Channels, MetricError, MetricOptions, psnr, ssim};
use image::RgbImage;

/// Errors of [`compare_upscalers`].
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Degradation failed.
    #[error(transparent)]
    Degrade(#[from] DegradeError),
    /// An upscaler failed.
    #[error(transparent)]
    Upscale(#[from] UpscaleError),
    /// A metric failed.
    #[error(transparent)]
    Metric(#[from] MetricError),
}

/// One upscaler's result and scores.
#[derive(Clone, Debug)]
pub struct ComparisonRow {
    /// The upscaler.
    pub upscaler: Upscaler,
    /// Its output, the size of [`Comparison::reference`].
    pub image: RgbImage,
    /// PSNR on RGB, dB.
    pub psnr_rgb: f64,
    /// SSIM on RGB.
    pub ssim_rgb: f64,
    /// PSNR on luma with a `factor`-pixel border crop, dB (SR-paper convention).
    pub psnr_y: f64,
    /// SSIM on luma with the same border crop.
    pub ssim_y: f64,
}

/// The outcome of a comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The original, cropped to a multiple of the factor ("modcrop").
    pub reference: RgbImage,
    /// The simulated low-resolution capture.
    pub low: RgbImage,
    /// Downscale factor.
    pub factor: u32,
    /// How `low` was made.
    pub method: DegradeMethod,
    /// One row per upscaler, in the order asked.
    pub rows: Vec<ComparisonRow>,
}

/// Degrades `original` by `factor` with `method`, upscales it back with each of `upscalers` and
/// scores every result.
///
/// # Errors
/// [`CompareError`] when the image is too small for the factor or the metrics' window.
pub fn compare_upscalers(
    original: &RgbImage,
    factor: u32,
    method: DegradeMethod,
    upscalers: &[Upscaler],
) -> Result<Comparison, CompareError> {
    let low = degrade(original, factor, method)?;
    let (w, h) = (low.width() * factor, low.height() * factor);
    let reference = image::imageops::crop_imm(original, 0, 0, w, h).to_image();
    let rgb = MetricOptions::default();
    let y = MetricOptions {
        channels: Channels::Y,
        border: factor,
    };
    let rows = upscalers
        .iter()
        .map(|&upscaler| {
            let image = upscale(&low, upscaler, w, h)?;
            Ok(ComparisonRow {
                upscaler,
                psnr_rgb: psnr(&reference, &image, rgb)?,
                ssim_rgb: ssim(&reference, &image, rgb)?,
                psnr_y: psnr(&reference, &image, y)?,
                ssim_y: ssim(&reference, &image, y)?,
                image,
            })
        })
        .collect::<Result<_, CompareError>>()?;
    Ok(Comparison {
        reference,
        low,
        factor,
        method,
        rows,
    })
}
