//! The synthetic face data engine every learned reconstructor trains on (DESIGN.md section 3).
//!
//! Shapes come from the ICT Face Model (identity ~ N(0,1) over its modes, a sparse mix of its
//! expressions), posed with yaw up to +-90, pitch and roll up to +-30 degrees in front of a
//! perspective camera, given a generated appearance (skin tones from very light to very dark,
//! lips, brows, hair, eyes, stubble, freckles, sheen), lit by directional lights with a shadow
//! map, composited over procedural backgrounds, partly occluded, and degraded for the network
//! input. Every sample carries exact ground truth from the same rasterizer: depth, normals,
//! masks, the occupancy volume, 68 landmarks, parameters and the face-area mesh. See
//! `docs/synth.md` for the design and the measured speed.
//!
//! Sample ids are global seeds: sample `id` is the same bytes whatever the run's count. Ids from
//! [`TEST_SPLIT_START`] on are the held-out test split; training uses ids below it.
//!
//! Run: `visage synth --count 1000 --seed 0 --out data/synth --preview grid.png`.

pub mod appearance;
pub mod background;
pub mod camera;
mod colour;
pub mod degrade;
pub mod engine;
pub mod math;
pub mod model;
pub mod noise;
pub mod occluder;
pub mod params;
pub mod photo;
pub mod preview;
pub mod procedural;
pub mod regions;
pub mod rng;
pub use crate::pipeline::mesh::raster;
pub mod sample;
pub mod shade;
pub mod shard;
pub mod volume;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use model::FaceModel;
pub use sample::{Engine, EngineOptions, Sample};
pub use shard::Shard;

/// First sample id of the test split: ids `0..TEST_SPLIT_START` train, ids from here on test.
pub const TEST_SPLIT_START: u64 = 1_000_000;

/// Environment variable that overrides the ICT model path.
pub const ICT_ENV: &str = "VISAGE_ICT";

/// Default ICT model location, relative to the repository root.
pub const ICT_DEFAULT: &str = "../shared/ict-face-model/ict_face_model.safetensors";

/// Errors of the synthetic data engine.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The head model file is missing or unreadable.
    #[error(
        "ICT face model not found at {path} ({source}); put it there, set {ICT_ENV} or pass --ict"
    )]
    ModelMissing {
        /// Path tried.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The head model file is not the expected layout.
    #[error("{path} is not the ICT face model safetensors: {what}")]
    ModelFormat {
        /// Path read.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// JPEG encoding or decoding of the degradation failed.
    #[error("JPEG degradation failed: {0}")]
    Jpeg(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A shard could not be written or read.
    #[error("shard: {0}")]
    Shard(String),
}

/// The ICT model path: `explicit` if given, else `$VISAGE_ICT`, else [`ICT_DEFAULT`] relative to
/// `repo_root`.
#[must_use]
pub fn ict_path(explicit: Option<&Path>, repo_root: &Path) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(ICT_ENV).map(PathBuf::from))
        .unwrap_or_else(|| repo_root.join(ICT_DEFAULT))
}
