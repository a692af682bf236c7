//! The neural networks, one per file, each a config + `new(cfg, vb)` + `forward` in candle.
//!
//! - [`espcn`]: ESPCN sub-pixel super-resolution (x2, x4), with a global bicubic skip.

pub mod espcn;
pub mod espcn_fast;
