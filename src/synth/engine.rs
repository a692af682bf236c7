//! The synthetic data engine's state (the head model, its appearance regions, the image
//! options) and the posed geometry the render passes share; the passes themselves are in
//! [`super::sample`] (geometry and ground truth) and `colour` (the colour image).

use super::model::FaceModel;
use super::regions::Regions;

/// Nearest depth (cm) a triangle corner may have.
pub(crate) const NEAR: f32 = 1.0;

/// How the renders look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// Procedural backgrounds and appearance (the data every committed model was trained on).
    #[default]
    Classic,
    /// The classic render plus natural-photo backdrops, hair with volume, clothing, harsh
    /// lights and a camera response ([`crate::synth::photo`]).
    Photo,
}

/// Image-space options of the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineOptions {
    /// Side of the square crop in pixels.
    pub size: usize,
    /// Depth bins of the occupancy volume.
    pub depth_bins: usize,
    /// How the renders look.
    pub style: Style,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            size: 128,
            depth_bins: 64,
            style: Style::Classic,
        }
    }
}

/// The renderer of samples for one head model.
#[derive(Clone, Debug)]
pub struct Engine {
    /// The head model.
    pub model: FaceModel,
    /// Its appearance regions.
    pub regions: Regions,
    /// Image options.
    pub options: EngineOptions,
    /// The head pivot (model frame, cm).
    pub(crate) pivot: [f32; 3],
    /// Centre of the face area (model frame, cm).
    pub(crate) face_centre: [f32; 3],
}

/// Camera-frame geometry of a posed head.
pub(crate) struct Posed {
    /// Vertex positions, cm.
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals.
    pub normals: Vec<[f32; 3]>,
}
