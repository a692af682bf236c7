//! Evaluation: the numbers in the model cards and the report, computed by commands anyone can
//! rerun (`visage eval ...`).
//!
//! - [`faces`]: the held-out face sets (synthetic test split, real fixture portraits).
//! - [`sr`]: super-resolution PSNR/SSIM per upscaler and scale.
//! - [`stats`]: mean and spread.
//! - [`recon`]: reconstruction NME on the synthetic test split, per face width and upscaler
//!   (crop reconstructors such as VRN), with [`align`]'s closest points, rigid fit and ICP.
//! - [`pix2pix`]: the pix2pix method on the test shards, with [`depth`] (depth MAE on the face
//!   mask, Galteri et al. 2019) and the same NME as [`recon`].
//! - [`refiner`]: depth MAE of the 3DMM path's coarse fit against its CGAN refinement.

pub mod align;
pub mod depth;
pub mod faces;
pub mod pix2pix;
pub mod recon;
pub mod refiner;
pub mod sr;
pub mod stats;
