//! The 3D viewport: a wgpu renderer for [`Mesh`] that knows nothing but the mesh type.
//!
//! [`MeshRenderer`] draws into its own colour + depth textures. The app shows the resolved
//! colour texture as an egui image; [`headless`] creates a device without a window and reads the
//! same texture back, for `visage render` and the tests. [`OrbitCamera`] is the camera all of them
//! share. Shading modes: lit clay (key, fill and rim lights with a highlight, so small surface
//! detail shows), albedo (texture or vertex colour), depth colormap, plus a wireframe overlay.

pub mod camera;
pub mod gpu_mesh;
pub mod headless;
pub mod renderer;

pub use camera::OrbitCamera;
pub use gpu_mesh::GpuMesh;
pub use renderer::MeshRenderer;

use crate::pipeline::mesh::{Mesh, MeshError};

/// Errors of the viewport.
#[derive(Debug, thiserror::Error)]
pub enum ViewportError {
    /// The mesh breaks an invariant and is not uploaded.
    #[error("cannot display an invalid mesh: {0}")]
    InvalidMesh(#[from] MeshError),
    /// The mesh does not fit in one GPU buffer.
    #[error("the mesh needs {bytes} bytes of vertex data, more than this GPU allows")]
    TooLarge {
        /// Bytes needed.
        bytes: u64,
    },
    /// No GPU adapter or device could be created.
    #[error("no GPU device for rendering: {0}")]
    NoDevice(String),
    /// Reading the rendered image back failed.
    #[error("cannot read the rendered image back: {0}")]
    Readback(String),
}

/// How surfaces are coloured.
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
pub enum Shading {
    /// Clay with key, fill and rim lights: shows the shape.
    #[default]
    Lit,
    /// The mesh's texture or vertex colours.
    Color,
    /// Lit clay with the triangle edges drawn over it.
    Wire,
    /// Distance from the camera as a colormap (near red, far blue).
    Depth,
    /// Distance from the camera as grey levels (near white, far black): the saved depth map.
    DepthGray,
}

impl Shading {
    /// The modes offered in the app, in display order.
    pub const ALL: [Self; 4] = [Self::Lit, Self::Color, Self::Wire, Self::Depth];

    /// Display name.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Lit => "Lit",
            Self::Color => "Colour / texture",
            Self::Wire => "Wireframe",
            Self::Depth => "Depth",
            Self::DepthGray => "Depth (grey)",
        }
    }

    /// The shader's `mode.x`.
    fn shader_mode(self) -> u32 {
        match self {
            Self::Lit | Self::Wire => 0,
            Self::Color => 1,
            Self::Depth => 2,
            Self::DepthGray => 3,
        }
    }

    fn is_depth(self) -> bool {
        matches!(self, Self::Depth | Self::DepthGray)
    }
}

/// What the viewport draws, besides the mesh and camera.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ViewOptions {
    /// Surface shading.
    pub shading: Shading,
    /// Draw triangle edges over any shading (always on for [`Shading::Wire`]).
    pub wireframe: bool,
}

impl ViewOptions {
    /// Options for `shading` alone.
    #[must_use]
    pub fn new(shading: Shading) -> Self {
        Self {
            shading,
            wireframe: false,
        }
    }

    /// True when edges are drawn.
    #[must_use]
    pub fn draws_edges(&self) -> bool {
        self.wireframe || self.shading == Shading::Wire
    }
}

/// The camera framing `mesh` from the front, or the default camera for an empty mesh.
#[must_use]
pub fn framing_camera(mesh: &Mesh) -> OrbitCamera {
    mesh.bounds().map_or_else(OrbitCamera::default, |(lo, hi)| {
        OrbitCamera::framing(lo, hi)
    })
}
