//! Evaluation of the reconstruction methods on the synthetic test split (DESIGN.md section 6).
//!
//! - [`depth`]: depth MAE on the face mask (Galteri et al. 2019).
//! - [`nme`]: nearest-surface error of a mesh after rigid (trimmed ICP) alignment, / interocular.
//! - [`eigen`]: the small symmetric eigen-solver the alignment uses.
//! - [`pix2pix`]: the pix2pix method on the test shards at several input widths and upscalers.

pub mod depth;
pub mod eigen;
pub mod nme;
pub mod pix2pix;
