//! Transient state of the app: what is open now (photo, face rectangle, mesh, comparison) and
//! what the worker is doing. Never persisted; settings live in [`super::settings`].

use super::compare_view::ComparisonTextures;
use crate::device::DeviceChoice;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::worker::{CropRect, Faces};
use std::sync::Arc;

/// Transient state: what is open now. Never persisted.
#[derive(Default)]
pub struct Session {
    /// The open photo.
    pub photo: Option<Arc<Photo>>,
    /// Its texture.
    pub photo_texture: Option<egui::TextureHandle>,
    /// Faces found in it.
    pub faces: Faces,
    /// The face rectangle; `None` is the whole photo.
    pub crop: Option<CropRect>,
    /// Photo point where the current rectangle drag began.
    pub drag_start: Option<egui::Pos2>,
    /// The mesh shown.
    pub mesh: Option<Arc<Mesh>>,
    /// Where the mesh came from.
    pub mesh_source: String,
    /// The last upscaler comparison.
    pub comparison: Option<ComparisonTextures>,
    /// Name of the running job.
    pub busy: Option<&'static str>,
    /// Jobs sent and not finished.
    pub pending: usize,
    /// Current stage and fraction of the running job.
    pub progress: Option<(&'static str, f32)>,
    /// Last status line ("Saved …").
    pub status: String,
    /// Errors to show until dismissed.
    pub errors: Vec<String>,
    /// The device asked for (`--device` at start, then the side panel's choice).
    pub device: DeviceChoice,
    /// The size of each detected face (landmark width, eye distance).
    pub face_sizes: Vec<Option<crate::worker::FaceSize>>,
    /// Milliseconds per stage of the last reconstruction.
    pub stages: Vec<(&'static str, f64)>,
    /// The device the networks run on, as the worker reported it ("CUDA device 0",
    /// "CPU (this build has no CUDA support)"); empty until it reports.
    pub device_label: String,
}
