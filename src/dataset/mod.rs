//! Shard plumbing shared by training and evaluation, so that neither imports the other: the
//! shard files of a folder and per-sample facts ([`shards`]), and the cache of coarse
//! morphable-model fits of a folder of renders ([`coarse`]).

pub mod coarse;
pub mod shards;

pub use coarse::{CoarseCache, CoarseFit, blurred_truth, build_cache, load_or_build};
pub use shards::{eye_px, shard_files};
