//! Mesh files users save: OBJ (+ MTL + PNG texture, vertex colours), PLY (binary, vertex
//! colours), STL (binary) and GLB (vertex colours and texture).
//!
//! The formats are small and fixed, so the writers are written here rather than pulled in as
//! four crates; the tests read every file back with an independent parser crate. Every write is
//! atomic (a temporary file in the target folder, renamed into place), so a failure never leaves
//! a partial file behind.

mod atomic;
mod glb;
mod obj;
mod ply;
mod stl;

use super::mesh::{Mesh, MeshError};
use std::path::{Path, PathBuf};

/// A mesh file format.
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
pub enum MeshFormat {
    /// Wavefront OBJ with an MTL and a PNG texture when the mesh has one.
    #[default]
    Obj,
    /// Binary little-endian PLY with vertex normals and colours.
    Ply,
    /// Binary STL (geometry only).
    Stl,
    /// Binary glTF 2.0 with vertex colours and an embedded PNG texture.
    Glb,
}

impl MeshFormat {
    /// Every format, in display order.
    pub const ALL: [Self; 4] = [Self::Obj, Self::Ply, Self::Stl, Self::Glb];

    /// The file extension, lowercase, without the dot.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Obj => "obj",
            Self::Ply => "ply",
            Self::Stl => "stl",
            Self::Glb => "glb",
        }
    }

    /// The format named by a path's extension (case-insensitive).
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

/// Why a mesh could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The mesh breaks an invariant.
    #[error("refusing to save an invalid mesh: {0}")]
    InvalidMesh(#[from] MeshError),
    /// The extension names no known format.
    #[error("{path}: unknown mesh format; use .obj, .ply, .stl or .glb")]
    UnknownFormat {
        /// Target path.
        path: PathBuf,
    },
    /// Writing failed.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// Target path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The texture could not be encoded.
    #[error("{path}: cannot encode the texture: {source}")]
    Texture {
        /// Target path.
        path: PathBuf,
        /// Underlying error.
        source: image::ImageError,
    },
    /// The mesh is too big for the format's 32-bit counts.
    #[error("the mesh is too large for the format")]
    TooLarge,
}

/// Saves `mesh` to `path` in the format its extension names. Returns every file written (OBJ
/// may add an `.mtl` and a `.png` beside it).
///
/// # Errors
/// [`ExportError`]: unknown extension, invalid mesh or I/O failure (nothing partial is left).
pub fn save(mesh: &Mesh, path: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let format = MeshFormat::from_path(path).ok_or_else(|| ExportError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    save_as(mesh, path, format)
}

/// Saves `mesh` to `path` as `format`, whatever the extension. Returns every file written.
///
/// # Errors
/// As [`save`].
pub fn save_as(mesh: &Mesh, path: &Path, format: MeshFormat) -> Result<Vec<PathBuf>, ExportError> {
    mesh.sanity_check()?;
    match format {
        MeshFormat::Obj => obj::write(mesh, path),
        MeshFormat::Ply => {
            atomic::write(path, |w| ply::write(mesh, w)).map(|()| vec![path.to_path_buf()])
        }
        MeshFormat::Stl => {
            atomic::write(path, |w| stl::write(mesh, w)).map(|()| vec![path.to_path_buf()])
        }
        MeshFormat::Glb => {
            let png = mesh
                .texture
                .as_ref()
                .map(|t| encode_png(t, path))
                .transpose()?;
            atomic::write(path, |w| glb::write(mesh, png.as_deref(), w))
                .map(|()| vec![path.to_path_buf()])
        }
    }
}

/// PNG bytes of a texture.
fn encode_png(texture: &image::RgbImage, path: &Path) -> Result<Vec<u8>, ExportError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    texture
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|source| ExportError::Texture {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes.into_inner())
}

/// A colour in [0, 1] as a byte.
fn to_u8(c: f32) -> u8 {
    (c.clamp(0.0, 1.0) * 255.0).round() as u8
}
