//! What the app remembers between runs (eframe persistence, serde), kept apart from transient
//! state (the photo, the mesh, progress) and GPU state (the viewport's textures).

use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::export::MeshFormat;
use crate::pipeline::upscale::Upscaler;
use crate::viewport::Shading;
use crate::worker::{CompareAxis, Method, Simulation};
use std::path::PathBuf;

/// Face widths offered by "simulate low resolution", pixels.
pub const FACE_WIDTHS: [u32; 4] = [128, 64, 32, 24];

/// The central view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    /// The 3D viewport.
    #[default]
    Viewport,
    /// The upscaler comparison.
    Compare,
    /// Reconstructions side by side in 3D.
    Compare3d,
}

/// Persisted settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Central view shown.
    pub tab: Tab,
    /// Viewport shading.
    pub shading: Shading,
    /// Wireframe overlay on any shading.
    pub wireframe: bool,
    /// Turntable auto-orbit.
    pub turntable: bool,
    /// Simulate a low-resolution capture before reconstructing.
    pub simulate: bool,
    /// Simulated face width, pixels (one of [`FACE_WIDTHS`]).
    pub face_width: u32,
    /// How the low-resolution image is formed.
    pub degrade: DegradeMethod,
    /// Upscaler of the reconstruction input.
    pub upscaler: Upscaler,
    /// Reconstruction method.
    pub method: Method,
    /// Format of "Save mesh".
    pub mesh_format: MeshFormat,
    /// Folder of the last file dialog.
    pub last_dir: Option<PathBuf>,
    /// What the 3D comparison varies.
    pub compare_axis: CompareAxis,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            tab: Tab::Viewport,
            shading: Shading::Lit,
            wireframe: false,
            turntable: false,
            simulate: false,
            face_width: 32,
            degrade: DegradeMethod::Bicubic,
            upscaler: Upscaler::Bicubic,
            method: Method::Landmarks,
            mesh_format: MeshFormat::Obj,
            last_dir: None,
            compare_axis: CompareAxis::Upscalers,
        }
    }
}

impl Settings {
    /// The simulation to run, if enabled.
    #[must_use]
    pub fn simulation(&self) -> Option<Simulation> {
        self.simulate.then_some(Simulation {
            face_width: self.face_width,
            method: self.degrade,
        })
    }
}
