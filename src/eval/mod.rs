//! Evaluation protocols (DESIGN.md section 6) shared by the CLI and the model cards.
//!
//! - [`recon`]: reconstruction NME on the synthetic test split, per face width and upscaler.
//! - [`align`]: closest-point queries, rigid fitting and ICP used by the metrics.

pub mod align;
pub mod recon;
