//! Evaluation of the reconstruction methods on the synthetic test split (DESIGN.md section 6).
//!
//! - [`depth`]: depth MAE on the face mask (Galteri et al. 2019).

pub mod depth;
