//! Evaluation: the numbers in the model cards and the report, computed by commands anyone can
//! rerun (`visage eval ...`).
//!
//! - [`faces`]: the held-out face sets (synthetic test split, real fixture portraits).
//! - [`sr`]: super-resolution PSNR/SSIM per upscaler and scale.
//! - [`stats`]: mean and spread.

pub mod faces;
pub mod sr;
pub mod stats;
