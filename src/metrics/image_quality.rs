//! PSNR and SSIM between two 8-bit RGB images, on RGB or on the luma (Y) channel, with an
//! optional border crop, as super-resolution papers report them.
//!
//! SSIM follows Wang et al. 2004: an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03,
//! population (not sample) covariances, the mean taken over the positions where the whole window
//! fits, averaged over channels. This matches scikit-image's
//! `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! data_range=255, channel_axis=-1)`.

use image::RgbImage;

/// Which channels a metric compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Channels {
    /// All three RGB channels (face comparisons).
    #[default]
    Rgb,
    /// BT.601 luma `Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255` (SR-paper comparisons).
    Y,
}

/// Options shared by [`psnr`] and [`ssim`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricOptions {
    /// Channels to compare.
    pub channels: Channels,
    /// Pixels cropped from every side before comparing (SR papers crop `scale` pixels).
    pub border: u32,
}

/// Errors of the metrics.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetricError {
    /// The two images differ in size.
    #[error("images differ in size: {a:?} vs {b:?}")]
    SizeMismatch {
        /// First image size.
        a: (u32, u32),
        /// Second image size.
        b: (u32, u32),
    },
    /// Too little is left after the border crop.
    #[error("a {width}x{height} image with a {border} px border leaves less than {min} px")]
    TooSmall {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Border.
        border: u32,
        /// Minimum side needed.
        min: u32,
    },
}

const DATA_RANGE: f64 = 255.0;
const WINDOW_RADIUS: usize = 5;

/// Channel planes of `image` (cropped), values in [0, 255] as f64, row-major.
fn planes(image: &RgbImage, options: MetricOptions) -> Vec<Vec<f64>> {
    let b = options.border;
    let (w, h) = (image.width() - 2 * b, image.height() - 2 * b);
    let pixels = (0..h).flat_map(|y| (0..w).map(move |x| (x + b, y + b)));
    match options.channels {
        Channels::Rgb => (0..3)
            .map(|c| {
                pixels
                    .clone()
                    .map(|(x, y)| f64::from(image.get_pixel(x, y).0[c]))
                    .collect()
            })
            .collect(),
        Channels::Y => vec![
            pixels
                .map(|(x, y)| {
                    let [r, g, b] = image.get_pixel(x, y).0.map(f64::from);
                    16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
                })
                .collect(),
        ],
    }
}

fn checked(
    a: &RgbImage,
    b: &RgbImage,
    options: MetricOptions,
    min: u32,
) -> Result<(usize, usize), MetricError> {
    if a.dimensions() != b.dimensions() {
        return Err(MetricError::SizeMismatch {
            a: a.dimensions(),
            b: b.dimensions(),
        });
    }
    let (w, h) = a.dimensions();
    let border = options.border;
    if w < 2 * border + min || h < 2 * border + min {
        return Err(MetricError::TooSmall {
            width: w,
            height: h,
            border,
            min,
        });
    }
    Ok(((w - 2 * border) as usize, (h - 2 * border) as usize))
}

/// Peak signal-to-noise ratio in dB (data range 255), over all compared channels. Identical
/// images give `f64::INFINITY`.
///
/// # Errors
/// [`MetricError`] for different sizes or a border that leaves nothing.
pub fn psnr(a: &RgbImage, b: &RgbImage, options: MetricOptions) -> Result<f64, MetricError> {
    checked(a, b, options, 1)?;
    let (pa, pb) = (planes(a, options), planes(b, options));
    let (mut sum, mut n) = (0.0, 0usize);
    for (x, y) in pa.iter().zip(&pb) {
        sum += x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum::<f64>();
        n += x.len();
    }
    let mse = sum / n as f64;
    Ok(10.0 * (DATA_RANGE * DATA_RANGE / mse).log10())
}

/// Mean structural similarity in [-1, 1] (see the module docs), averaged over channels.
///
/// # Errors
/// [`MetricError`] for different sizes or less than 11 px left after the border crop.
pub fn ssim(a: &RgbImage, b: &RgbImage, options: MetricOptions) -> Result<f64, MetricError> {
    let (w, h) = checked(a, b, options, 2 * WINDOW_RADIUS as u32 + 1)?;
    let (pa, pb) = (planes(a, options), planes(b, options));
    let kernel = gaussian_kernel(1.5, WINDOW_RADIUS);
    let total: f64 = pa
        .iter()
        .zip(&pb)
        .map(|(x, y)| ssim_plane(x, y, w, h, &kernel))
        .sum();
    Ok(total / pa.len() as f64)
}

/// Normalised 1D Gaussian of `2 r + 1` taps.
fn gaussian_kernel(sigma: f64, radius: usize) -> Vec<f64> {
    let k: Vec<f64> = (0..=2 * radius)
        .map(|i| {
            let d = i as f64 - radius as f64;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let s: f64 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// Separable "valid" filtering: output `(w - 2r) x (h - 2r)`.
fn filter_valid(src: &[f64], w: usize, h: usize, k: &[f64]) -> Vec<f64> {
    let r = k.len() / 2;
    let (ow, oh) = (w - 2 * r, h - 2 * r);
    let mut rows = vec![0.0; ow * h];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = k
                .iter()
                .enumerate()
                .map(|(i, kv)| kv * src[y * w + x + i])
                .sum();
        }
    }
    let mut out = vec![0.0; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = k
                .iter()
                .enumerate()
                .map(|(i, kv)| kv * rows[(y + i) * ow + x])
                .sum();
        }
    }
    out
}

fn ssim_plane(x: &[f64], y: &[f64], w: usize, h: usize, k: &[f64]) -> f64 {
    let c1 = (0.01 * DATA_RANGE).powi(2);
    let c2 = (0.03 * DATA_RANGE).powi(2);
    let product = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).collect::<Vec<_>>();
    let mx = filter_valid(x, w, h, k);
    let my = filter_valid(y, w, h, k);
    let mxx = filter_valid(&product(x, x), w, h, k);
    let myy = filter_valid(&product(y, y), w, h, k);
    let mxy = filter_valid(&product(x, y), w, h, k);
    let mut sum = 0.0;
    for i in 0..mx.len() {
        let (ux, uy) = (mx[i], my[i]);
        let (vx, vy, cxy) = (mxx[i] - ux * ux, myy[i] - uy * uy, mxy[i] - ux * uy);
        sum +=
            ((2.0 * ux * uy + c1) * (2.0 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
    let n = mx.len() as f64;
    sum / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images() {
        let img = RgbImage::from_fn(20, 20, |x, y| {
            image::Rgb([(x * 10) as u8, (y * 10) as u8, 7])
        });
        let o = MetricOptions::default();
        assert!(psnr(&img, &img, o).unwrap().is_infinite());
        assert!((ssim(&img, &img, o).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn psnr_of_a_constant_offset() {
        let a = RgbImage::from_pixel(16, 16, image::Rgb([100; 3]));
        let b = RgbImage::from_pixel(16, 16, image::Rgb([110; 3]));
        // 10 log10(255^2 / 100) = 28.1308...
        let p = psnr(&a, &b, MetricOptions::default()).unwrap();
        assert!((p - 28.130_803_608_679_1).abs() < 1e-9, "{p}");
    }

    #[test]
    fn errors_for_mismatch_and_border() {
        let a = RgbImage::new(16, 16);
        let b = RgbImage::new(16, 15);
        assert!(matches!(
            psnr(&a, &b, MetricOptions::default()),
            Err(MetricError::SizeMismatch { .. })
        ));
        let o = MetricOptions {
            channels: Channels::Rgb,
            border: 4,
        };
        assert!(matches!(ssim(&a, &a, o), Err(MetricError::TooSmall { .. })));
    }
}
