//! The `landmarks` method: FaceMesh's 468 3D landmarks, triangulated with MediaPipe's own
//! 852-triangle tessellation (`assets/facemesh_triangles.json`, recovered from the wheel's
//! `FACEMESH_TESSELATION` edge list by `tools/convert_mediapipe.py`), coloured from the photo.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the face's [`FaceCrop`]: +X right,
//! +Y up, +Z towards the camera, crop pixels. FaceMesh's z (smaller is nearer) is negated and
//! scaled like x and y.

use super::morphable::{LANDMARKS, MorphableModel};
use super::{FaceCrop, Method, MethodError, Reconstruction, Reconstructor};
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::mesh::Mesh;
use image::RgbImage;
use std::sync::OnceLock;

/// The triangulation as committed (852 triangles over 468 vertices, counter-clockwise seen
/// from the camera).
const TRIANGLES_JSON: &str = include_str!("../../../assets/facemesh_triangles.json");

/// The embedded triangulation is unreadable (a build problem).
#[derive(Debug, thiserror::Error)]
#[error("the embedded FaceMesh triangulation is corrupt: {0}")]
pub struct TopologyError(String);

/// FaceMesh's triangles, parsed once.
///
/// # Errors
/// [`TopologyError`] if the embedded JSON is not a list of in-range triples.
pub fn triangles() -> Result<&'static [[u32; 3]], TopologyError> {
    static CELL: OnceLock<Result<Vec<[u32; 3]>, String>> = OnceLock::new();
    let parsed = CELL.get_or_init(|| {
        let tris: Vec<[u32; 3]> =
            serde_json::from_str(TRIANGLES_JSON).map_err(|e| e.to_string())?;
        match tris.iter().flatten().find(|&&i| i >= 468) {
            Some(i) => Err(format!("vertex index {i} >= 468")),
            None => Ok(tris),
        }
    });
    parsed.as_deref().map_err(|e| TopologyError(e.clone()))
}

/// The 68 landmark ids among FaceMesh's 468 (the front end's fixed map).
#[must_use]
pub fn landmark_ids() -> Vec<u32> {
    let all: Vec<u32> = (0..468).collect();
    to_68(&all).unwrap_or_default()
}

/// The `landmarks` method: FaceMesh's points, triangulated.
#[derive(Clone, Copy, Debug, Default)]
pub struct LandmarkMesh;

impl Reconstructor for LandmarkMesh {
    fn method(&self) -> Method {
        Method::Landmarks
    }

    fn reconstruct(
        &self,
        photo: &RgbImage,
        face: &FaceCrop,
    ) -> Result<Reconstruction, MethodError> {
        let _span = tracing::info_span!("mesh").entered();
        let fail = |e| MethodError::failed(Method::Landmarks, e);
        let positions = face.points_crop_frame();
        let colors = face.colours(photo, &positions);
        let mut mesh = Mesh::new(positions, triangles().map_err(fail)?.to_vec());
        mesh.colors = colors;
        mesh.compute_normals();
        mesh.sanity_check()
            .map_err(|e| MethodError::failed(Method::Landmarks, e))?;
        // FaceMesh's 468 points are the morphable model's first vertices: its layout fits
        // (without the model, the photo is laid on the mesh as it is).
        let layout = MorphableModel::shared()
            .ok()
            .and_then(|m| m.uvs.get(..LANDMARKS))
            .map(<[_]>::to_vec);
        Ok(Reconstruction {
            mesh,
            landmark_vertices: Some(landmark_ids()),
            depth: None,
            uv_layout: layout,
        })
    }
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
