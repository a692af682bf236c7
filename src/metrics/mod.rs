//! Quality metrics, pure functions without I/O: image fidelity for the upscalers
//! ([`image_quality`]: PSNR and SSIM) depth-map error ([`depth`]) and
//! landmark normalisation ([`nme`]).

pub mod depth;
pub mod image_quality;
pub mod nme;
