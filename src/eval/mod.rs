//! Evaluation: the numbers in the model cards and the report, computed by commands anyone can
//! rerun (`visage eval ...`).
//!
//! - [`faces`]: the held-out face sets (synthetic test split, real fixture portraits).
//! - [`sr`]: super-resolution PSNR/SSIM per upscaler and scale.
//! - [`stats`]: mean and spread.
//! - [`recon`]: reconstruction NME on the synthetic test split, per face width and upscaler.
//! - [`align`]: closest-point queries, rigid fitting and ICP used by the metrics.

pub mod align;
pub mod faces;
pub mod recon;
pub mod sr;
pub mod stats;
