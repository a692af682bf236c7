//! Quality metrics: image fidelity for the upscalers ([`image_quality`]: PSNR and SSIM).

pub mod image_quality;
