//! The triangle mesh every stage of Visage shares: reconstructors produce it, the viewport draws
//! it, the exporters write it.
//!
//! Frame convention of a reconstructed face (the "crop frame"): +X to the image's right, +Y up
//! (image rows flipped), +Z towards the camera, units of crop pixels, origin at the crop's
//! top-left corner on the image plane. Meshes loaded from elsewhere keep their own frame.
//!
//! Sub-modules hold the operations: [`normals`], [`components`] (largest connected component),
//! [`smooth`] (Taubin smoothing), [`from_volume`] (isosurface), [`from_depth`] (depth grid), [`probe`]
//! (ray casts along the view axis) and [`raster`] (the software rasterizer the synthetic renders and the depth maps use).

pub mod components;
pub mod from_depth;
pub mod from_volume;
pub mod normals;
pub mod probe;
pub mod raster;
pub mod smooth;

use image::RgbImage;

/// Errors found by [`Mesh::sanity_check`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MeshError {
    /// A triangle names a vertex that does not exist.
    #[error("triangle {triangle} refers to vertex {index}, but the mesh has only {len} vertices")]
    IndexOutOfBounds {
        /// Triangle number.
        triangle: usize,
        /// Offending vertex index.
        index: u32,
        /// Number of vertices.
        len: usize,
    },
    /// A per-vertex attribute has the wrong length.
    #[error("{attribute} has {got} entries, expected one per vertex ({expected})")]
    AttributeLength {
        /// Attribute name.
        attribute: &'static str,
        /// Entries present.
        got: usize,
        /// Number of vertices.
        expected: usize,
    },
    /// A position, normal or UV is NaN or infinite.
    #[error("{attribute} of vertex {index} is not finite")]
    NotFinite {
        /// Attribute name.
        attribute: &'static str,
        /// Vertex index.
        index: usize,
    },
    /// UVs were given without a texture or a texture without UVs.
    #[error("a texture needs UVs and UVs need a texture")]
    TextureWithoutUvs,
    /// The mesh has no triangles.
    #[error("the mesh has no triangles")]
    Empty,
}

/// A CPU triangle mesh. Triangles are counter-clockwise seen from outside.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    /// Vertex positions, in the mesh's frame (see the module docs).
    pub positions: Vec<[f32; 3]>,
    /// Unit vertex normals, one per vertex, or empty until [`Mesh::compute_normals`] runs.
    pub normals: Vec<[f32; 3]>,
    /// Optional linear RGB-ish display colours in [0, 1], one per vertex (empty when absent).
    pub colors: Vec<[f32; 3]>,
    /// Optional texture coordinates, one per vertex, (0, 0) = top-left of `texture`.
    pub uvs: Vec<[f32; 2]>,
    /// Texture image sampled through `uvs`.
    pub texture: Option<RgbImage>,
    /// Triangles as vertex index triples.
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    /// A mesh of positions and triangles; normals are computed, no colours.
    #[must_use]
    pub fn new(positions: Vec<[f32; 3]>, triangles: Vec<[u32; 3]>) -> Self {
        let mut mesh = Self {
            positions,
            triangles,
            ..Self::default()
        };
        mesh.compute_normals();
        mesh
    }

    /// Number of vertices.
    #[must_use]
    pub fn vertex_count(&self) -> usize {
        self.positions.len()
    }

    /// True when every vertex has a colour.
    #[must_use]
    pub fn has_colors(&self) -> bool {
        !self.colors.is_empty()
    }

    /// True when the mesh carries UVs and a texture.
    #[must_use]
    pub fn has_texture(&self) -> bool {
        self.texture.is_some() && !self.uvs.is_empty()
    }

    /// Checks the invariants every consumer relies on: indices in range, attribute lengths,
    /// finite values, at least one triangle. Run before upload and export.
    ///
    /// # Errors
    /// The first violated invariant.
    pub fn sanity_check(&self) -> Result<(), MeshError> {
        let n = self.positions.len();
        if self.triangles.is_empty() {
            return Err(MeshError::Empty);
        }
        for (attribute, got) in [
            ("normals", self.normals.len()),
            ("colors", self.colors.len()),
            ("uvs", self.uvs.len()),
        ] {
            if got != 0 && got != n {
                return Err(MeshError::AttributeLength {
                    attribute,
                    got,
                    expected: n,
                });
            }
        }
        if self.uvs.is_empty() != self.texture.is_none() {
            return Err(MeshError::TextureWithoutUvs);
        }
        for (triangle, tri) in self.triangles.iter().enumerate() {
            if let Some(&index) = tri.iter().find(|&&i| i as usize >= n) {
                return Err(MeshError::IndexOutOfBounds {
                    triangle,
                    index,
                    len: n,
                });
            }
        }
        check_finite("positions", self.positions.iter().map(|p| p.as_slice()))?;
        check_finite("normals", self.normals.iter().map(|p| p.as_slice()))?;
        check_finite("uvs", self.uvs.iter().map(|p| p.as_slice()))?;
        Ok(())
    }

    /// Axis-aligned bounds `(min, max)`; `None` for a mesh without vertices.
    #[must_use]
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let first = *self.positions.first()?;
        Some(self.positions.iter().fold((first, first), |(lo, hi), p| {
            (
                [lo[0].min(p[0]), lo[1].min(p[1]), lo[2].min(p[2])],
                [hi[0].max(p[0]), hi[1].max(p[1]), hi[2].max(p[2])],
            )
        }))
    }

    /// Keeps only the listed vertices (in the given order) and the triangles whose three corners
    /// are all kept; every per-vertex attribute follows.
    #[must_use]
    pub fn select_vertices(&self, keep: &[u32]) -> Self {
        let mut remap = vec![u32::MAX; self.positions.len()];
        for (new, &old) in keep.iter().enumerate() {
            remap[old as usize] = u32::try_from(new).unwrap_or(u32::MAX);
        }
        let pick = |v: &Vec<[f32; 3]>| -> Vec<[f32; 3]> {
            if v.is_empty() {
                Vec::new()
            } else {
                keep.iter().map(|&i| v[i as usize]).collect()
            }
        };
        let triangles = self
            .triangles
            .iter()
            .filter_map(|t| {
                let m = [
                    remap[t[0] as usize],
                    remap[t[1] as usize],
                    remap[t[2] as usize],
                ];
                (!m.contains(&u32::MAX)).then_some(m)
            })
            .collect();
        Self {
            positions: pick(&self.positions),
            normals: pick(&self.normals),
            colors: pick(&self.colors),
            uvs: if self.uvs.is_empty() {
                Vec::new()
            } else {
                keep.iter().map(|&i| self.uvs[i as usize]).collect()
            },
            texture: self.texture.clone(),
            triangles,
        }
    }
}

fn check_finite<'a>(
    attribute: &'static str,
    values: impl Iterator<Item = &'a [f32]>,
) -> Result<(), MeshError> {
    for (index, v) in values.enumerate() {
        if v.iter().any(|x| !x.is_finite()) {
            return Err(MeshError::NotFinite { attribute, index });
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A unit cube of 8 vertices and 12 outward-facing triangles.
    pub fn cube() -> Mesh {
        let positions = vec![
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0],
            [1.0, 1.0, 1.0],
            [0.0, 1.0, 1.0],
        ];
        let triangles = vec![
            [0, 2, 1],
            [0, 3, 2],
            [4, 5, 6],
            [4, 6, 7],
            [0, 1, 5],
            [0, 5, 4],
            [2, 3, 7],
            [2, 7, 6],
            [1, 2, 6],
            [1, 6, 5],
            [0, 4, 7],
            [0, 7, 3],
        ];
        Mesh::new(positions, triangles)
    }

    #[test]
    fn cube_is_sane() {
        assert_eq!(cube().sanity_check(), Ok(()));
    }

    #[test]
    fn sanity_check_finds_bad_index() {
        let mut m = cube();
        m.triangles.push([0, 1, 8]);
        assert_eq!(
            m.sanity_check(),
            Err(MeshError::IndexOutOfBounds {
                triangle: 12,
                index: 8,
                len: 8
            })
        );
    }

    #[test]
    fn sanity_check_finds_nan_and_lengths() {
        let mut m = cube();
        m.positions[3][1] = f32::NAN;
        assert!(matches!(
            m.sanity_check(),
            Err(MeshError::NotFinite { index: 3, .. })
        ));
        let mut m = cube();
        m.colors = vec![[1.0; 3]; 7];
        assert!(matches!(
            m.sanity_check(),
            Err(MeshError::AttributeLength {
                attribute: "colors",
                ..
            })
        ));
    }

    #[test]
    fn select_vertices_drops_open_triangles() {
        let m = cube().select_vertices(&[0, 1, 2, 3]);
        assert_eq!(m.vertex_count(), 4);
        assert_eq!(m.triangles, vec![[0, 2, 1], [0, 3, 2]]);
    }

    #[test]
    fn bounds_of_cube() {
        assert_eq!(cube().bounds(), Some(([0.0; 3], [1.0; 3])));
    }
}
