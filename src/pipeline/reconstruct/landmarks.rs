//! The `landmarks` method: FaceMesh's 468 3D landmarks, triangulated with MediaPipe's own
//! 852-triangle tessellation (`assets/facemesh_triangles.json`, recovered from the wheel's
//! `FACEMESH_TESSELATION` edge list by `tools/convert_mediapipe.py`), coloured from the photo.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the face's aligned crop (the FaceMesh
//! ROI, eyes level, `crop_size` pixels): +X right, +Y up (`crop_size - row`), +Z towards the
//! camera, crop pixels. FaceMesh's z (smaller is nearer) is negated and scaled like x and y.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use visage::pipeline::{detect::Detector, photo::Photo, reconstruct::landmarks};
//! let photo = Photo::load("face.jpg")?;
//! let detector = Detector::new(&candle_core::Device::Cpu)?;
//! let face = landmarks::reconstruct(&photo.rgb, &detector, &landmarks::Options::default())?;
//! visage::pipeline::export::save(&face.mesh, std::path::Path::new("face.obj"))?;
//! # Ok(()) }
//! ```

use crate::pipeline::detect::{self, AlignedCrop, DetectError, Detector, Landmarks, warp};
use crate::pipeline::mesh::{Mesh, MeshError};
use image::RgbImage;
use std::sync::OnceLock;

/// The triangulation as committed (852 triangles over 468 vertices, counter-clockwise seen
/// from the camera).
const TRIANGLES_JSON: &str = include_str!("../../../assets/facemesh_triangles.json");

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum LandmarkMeshError {
    /// Detection or landmarking failed (e.g. no face).
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// The requested face does not exist.
    #[error("face {index} requested, but only {count} found")]
    NoSuchFace {
        /// Requested index (0 = best score).
        index: usize,
        /// Faces found.
        count: usize,
    },
    /// The embedded triangulation is unreadable (a build problem).
    #[error("the embedded FaceMesh triangulation is corrupt: {0}")]
    Topology(String),
    /// The mesh failed its sanity check.
    #[error("invalid landmark mesh: {0}")]
    Mesh(#[from] MeshError),
}

/// Options of the method.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Which face, by rank (0 = highest score).
    pub face_index: usize,
    /// Side of the aligned crop that defines the mesh frame, pixels.
    pub crop_size: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            face_index: 0,
            crop_size: 256,
        }
    }
}

/// A reconstruction and what it was made from.
#[derive(Clone, Debug)]
pub struct LandmarkFace {
    /// The mesh (468 vertices, 852 triangles, colours, normals) in the crop frame.
    pub mesh: Mesh,
    /// The aligned crop whose frame the mesh lives in.
    pub crop: AlignedCrop,
    /// The landmarks in photo pixels.
    pub landmarks: Landmarks,
}

/// FaceMesh's triangles, parsed once.
///
/// # Errors
/// [`LandmarkMeshError::Topology`] if the embedded JSON is not a list of in-range triples.
pub fn triangles() -> Result<&'static [[u32; 3]], LandmarkMeshError> {
    static CELL: OnceLock<Result<Vec<[u32; 3]>, String>> = OnceLock::new();
    let parsed = CELL.get_or_init(|| {
        let tris: Vec<[u32; 3]> =
            serde_json::from_str(TRIANGLES_JSON).map_err(|e| e.to_string())?;
        match tris.iter().flatten().find(|&&i| i >= 468) {
            Some(i) => Err(format!("vertex index {i} >= 468")),
            None => Ok(tris),
        }
    });
    parsed
        .as_deref()
        .map_err(|e| LandmarkMeshError::Topology(e.clone()))
}

/// Detects the faces, landmarks the chosen one and builds its mesh.
///
/// # Errors
/// No face, no such face index, landmarks rejected, or an invalid mesh.
pub fn reconstruct(
    img: &RgbImage,
    detector: &Detector,
    options: &Options,
) -> Result<LandmarkFace, LandmarkMeshError> {
    let faces = detector.faces(img)?;
    let face = faces
        .get(options.face_index)
        .ok_or(LandmarkMeshError::NoSuchFace {
            index: options.face_index,
            count: faces.len(),
        })?;
    let landmarks = detector.landmarks(img, face)?;
    let crop = detect::aligned_crop(img, &landmarks.roi, options.crop_size);
    let mesh = mesh_from_landmarks(img, &landmarks, &crop)?;
    Ok(LandmarkFace {
        mesh,
        crop,
        landmarks,
    })
}

/// The landmark mesh in `crop`'s frame, vertex colours sampled from the photo at each landmark.
///
/// # Errors
/// Bad topology or a mesh that fails [`Mesh::sanity_check`].
pub fn mesh_from_landmarks(
    img: &RgbImage,
    landmarks: &Landmarks,
    crop: &AlignedCrop,
) -> Result<Mesh, LandmarkMeshError> {
    let m = crop.crop_from_photo;
    let (scale, side) = (m.scale(), crop.image.height() as f32);
    let positions = landmarks
        .points
        .iter()
        .map(|p| {
            let q = m.apply([p[0], p[1]]);
            [q[0], side - q[1], -p[2] * scale]
        })
        .collect();
    let colors = landmarks
        .points
        .iter()
        .map(|p| warp::sample_bilinear(img, [p[0], p[1]]).map(|v| v / 255.0))
        .collect();
    let mut mesh = Mesh::new(positions, triangles()?.to_vec());
    mesh.colors = colors;
    mesh.sanity_check()?;
    Ok(mesh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_is_a_disc_with_three_holes() {
        let tris = triangles().unwrap();
        assert_eq!(tris.len(), 852);
        let mut edges = std::collections::HashSet::new();
        for t in tris {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                // Consistent winding: every directed edge is used once.
                assert!(edges.insert((a, b)), "directed edge {a}->{b} twice");
            }
        }
        let undirected: std::collections::HashSet<_> =
            edges.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        // Euler characteristic V - E + F = 1 - holes (eyes and mouth).
        assert_eq!(468 - undirected.len() as i64 + 852, -2);
    }
}
