//! Evaluation: the numbers in the model cards and the report, computed by commands anyone can
//! rerun (`visage eval ...`, `visage bench`).
//!
//! - [`faces`]: the held-out face sets (synthetic test split, real fixture portraits).
//! - [`sr`]: super-resolution PSNR/SSIM per upscaler and scale.
//! - [`stats`]: mean and spread.
//! - [`visible`]: the ground-truth vertices a single view sees (the "visible NME").
//! - [`parity`]: every network on the CPU and on another device (CUDA): output difference and
//!   time per pass.
//! - [`real`]: the real-photo evaluation that every accuracy claim leads with (AFLW2000-3D
//!   photos and a real head scan, `visage eval real`).
//! - [`recon`]: reconstruction NME (and depth MAE) on the synthetic test split, per face width
//!   and upscaler, through the app's own photo-to-mesh path, with [`align`]'s closest points,
//!   rigid fit and ICP and [`depth`]'s depth MAE (Galteri et al. 2019).
//! - [`bench`]: per-stage latency of every method on a photo.
//! - [`report`]: all of the above as one Markdown report with plots (`visage eval report`).
//! - [`refiner`]: depth MAE of the 3DMM path's coarse fit against its CGAN refinement.

pub mod align;
pub mod bench;
pub mod faces;
pub mod parity;
pub mod real;
pub mod recon;
pub mod refiner;
pub mod report;
pub mod sr;
pub mod stats;
pub mod visible;
