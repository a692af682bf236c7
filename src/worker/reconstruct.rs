//! The reconstruction methods the app offers and the one place that calls them. Adding a method
//! is one [`Method`] variant and one arm in [`reconstruct`]; heavy models go in [`Models`], loaded
//! on first use inside the worker thread (so loading shows progress and never blocks the UI).
//!
//! This build has no face detector and no reconstructor yet: [`detect_faces`] reports
//! [`Faces::NoDetector`] (the user draws the face rectangle) and [`reconstruct`] answers
//! [`ReconstructError::NotAvailable`]. Meshes can still be opened from files.

use super::Faces;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use image::RgbImage;

/// A reconstruction method.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Method {
    /// The 468 FaceMesh landmarks, triangulated and coloured from the photo.
    #[default]
    Landmarks,
}

impl Method {
    /// Every method, in display order.
    pub const ALL: [Self; 1] = [Self::Landmarks];

    /// Display name.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Landmarks => "landmarks",
        }
    }
}

/// Why a reconstruction did not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconstructError {
    /// The method is not part of this build.
    #[error(
        "no reconstruction method available yet: `{0}` is not built in; open a mesh file instead"
    )]
    NotAvailable(&'static str),
}

/// The networks the worker has loaded so far (each on first use). Empty until the first learned
/// method lands.
#[derive(Debug, Default)]
pub struct Models {}

/// A progress callback: `(stage, fraction of the method done)`; an error stops the method
/// (the job was cancelled).
pub type StageFn<'a> = dyn Fn(&'static str, f32) -> anyhow::Result<()> + 'a;

/// The faces in `photo`.
///
/// # Errors
/// A detector failure (missing weights, for one).
pub fn detect_faces(_models: &mut Models, _photo: &Photo) -> anyhow::Result<Faces> {
    Ok(Faces::NoDetector)
}

/// Reconstructs a mesh from the prepared face crop `face` with `method`, reporting stages.
///
/// # Errors
/// [`ReconstructError`] or the method's own error.
pub fn reconstruct(
    _models: &mut Models,
    method: Method,
    _face: &RgbImage,
    _stage: &StageFn<'_>,
) -> anyhow::Result<Mesh> {
    match method {
        Method::Landmarks => Err(ReconstructError::NotAvailable(method.label()).into()),
    }
}
