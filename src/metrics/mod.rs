//! Quality metrics, pure functions without I/O: image fidelity for the upscalers
//! ([`image_quality`]: PSNR and SSIM) depth-map error ([`depth`]),
//! landmark normalisation ([`nme`]) and the real-photo 3D face metrics ([`face3d`]: 2D / 3D
//! NME, depth51, flat51).

pub mod depth;
pub mod face3d;
pub mod image_quality;
pub mod nme;
