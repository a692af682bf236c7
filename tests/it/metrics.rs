//! PSNR and SSIM pinned against scikit-image 0.26 on a fixed image pair.
//!
//! Reference numbers printed by `tools/metric_reference.py`, which wrote the two fixtures:
//! ```python
//! peak_signal_noise_ratio(a, b, data_range=255)
//! structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//!                       data_range=255, channel_axis=-1)   # RGB; Y: rgb2ycbcr(img)[..., 0]
//! # border 0: rgb psnr 26.617200 ssim 0.741543 | y psnr 28.858000 ssim 0.804307
//! # border 4: rgb psnr 26.562131 ssim 0.741563 | y psnr 28.819649 ssim 0.805026
//! ```

use visage::metrics::image_quality::{Channels, MetricOptions, psnr, ssim};
use visage::pipeline::photo::Photo;

fn pair() -> (image::RgbImage, image::RgbImage) {
    let a = Photo::load("tests/fixtures/metric_a.png").unwrap().rgb;
    let b = Photo::load("tests/fixtures/metric_b.png").unwrap().rgb;
    (a, b)
}

fn check(channels: Channels, border: u32, want_psnr: f64, want_ssim: f64) {
    let (a, b) = pair();
    let o = MetricOptions { channels, border };
    let p = psnr(&a, &b, o).unwrap();
    let s = ssim(&a, &b, o).unwrap();
    assert!(
        (p - want_psnr).abs() < 1e-3,
        "{channels:?} border {border}: psnr {p} vs {want_psnr}"
    );
    assert!(
        (s - want_ssim).abs() < 1e-3,
        "{channels:?} border {border}: ssim {s} vs {want_ssim}"
    );
}

#[test]
fn rgb_matches_scikit_image() {
    check(Channels::Rgb, 0, 26.617_200, 0.741_543);
}

#[test]
fn rgb_with_border_matches_scikit_image() {
    check(Channels::Rgb, 4, 26.562_131, 0.741_563);
}

#[test]
fn luma_matches_scikit_image() {
    check(Channels::Y, 0, 28.858_000, 0.804_307);
}

#[test]
fn luma_with_border_matches_scikit_image() {
    check(Channels::Y, 4, 28.819_649, 0.805_026);
}
