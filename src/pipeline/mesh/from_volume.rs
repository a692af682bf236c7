//! Mesh from a voxel volume: the isosurface of an occupancy grid, as VRN produces.
//!
//! Uses the `fast-surface-nets` crate (naive surface nets, a well-kept, fast isosurface
//! extractor) rather than a hand-written marching cubes. The volume is padded with one voxel of
//! "outside" on every side so the surface always closes.

use super::{Mesh, normals::sub};
use fast_surface_nets::ndshape::{RuntimeShape, Shape};
use fast_surface_nets::{SurfaceNetsBuffer, surface_nets};

/// A dense scalar volume, `x` varying fastest: `data[(z * ny + y) * nx + x]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    /// Voxel counts `[nx, ny, nz]`.
    pub dims: [usize; 3],
    /// Values, typically occupancy probabilities in [0, 1].
    pub data: Vec<f32>,
}

/// Maps voxel coordinates to the mesh frame: `world = voxel * scale + offset`, per axis.
/// A negative scale flips an axis (e.g. image rows to +Y up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorldFromVoxel {
    /// Per-axis scale.
    pub scale: [f32; 3],
    /// Per-axis offset, added after scaling.
    pub offset: [f32; 3],
}

impl Default for WorldFromVoxel {
    fn default() -> Self {
        Self {
            scale: [1.0; 3],
            offset: [0.0; 3],
        }
    }
}

impl WorldFromVoxel {
    /// Applies the transform to one point.
    #[must_use]
    pub fn apply(&self, v: [f32; 3]) -> [f32; 3] {
        [
            v[0] * self.scale[0] + self.offset[0],
            v[1] * self.scale[1] + self.offset[1],
            v[2] * self.scale[2] + self.offset[2],
        ]
    }

    fn flips_handedness(&self) -> bool {
        self.scale.iter().filter(|s| **s < 0.0).count() % 2 == 1
    }
}

/// Errors of [`Volume`] construction and meshing.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VolumeError {
    /// `data` does not hold `nx * ny * nz` values.
    #[error("volume of {dims:?} needs {expected} values, got {got}")]
    Size {
        /// Requested dims.
        dims: [usize; 3],
        /// Product of dims.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// No voxel is above the iso level.
    #[error("the volume has no voxel above the iso level {0}")]
    NoSurface(f32),
}

impl Volume {
    /// A volume from its values (`x` fastest).
    ///
    /// # Errors
    /// [`VolumeError::Size`] when `data.len() != nx * ny * nz`.
    pub fn new(dims: [usize; 3], data: Vec<f32>) -> Result<Self, VolumeError> {
        let expected = dims.iter().product();
        if data.len() == expected {
            Ok(Self { dims, data })
        } else {
            Err(VolumeError::Size {
                dims,
                expected,
                got: data.len(),
            })
        }
    }

    /// Value at a voxel.
    #[must_use]
    pub fn at(&self, x: usize, y: usize, z: usize) -> f32 {
        self.data[(z * self.dims[1] + y) * self.dims[0] + x]
    }
}

impl Mesh {
    /// The isosurface `value == iso` of `volume` (inside where `value > iso`), mapped by
    /// `world_from_voxel`, triangles wound counter-clockwise seen from outside.
    ///
    /// # Errors
    /// [`VolumeError::NoSurface`] when nothing is inside.
    pub fn from_volume(
        volume: &Volume,
        iso: f32,
        world_from_voxel: WorldFromVoxel,
    ) -> Result<Self, VolumeError> {
        let [nx, ny, nz] = volume.dims;
        let padded = [nx + 2, ny + 2, nz + 2].map(|d| u32::try_from(d).unwrap_or(u32::MAX));
        let shape = RuntimeShape::<u32, 3>::new(padded);
        // Signed distance stand-in: negative inside. Border voxels are outside.
        let mut sdf = vec![1.0f32; shape.usize()];
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let i = shape.linearize([x + 1, y + 1, z + 1].map(|c| c as u32)) as usize;
                    sdf[i] = iso - volume.at(x, y, z);
                }
            }
        }
        let mut buffer = SurfaceNetsBuffer::default();
        surface_nets(&sdf, &shape, [0; 3], padded.map(|d| d - 1), &mut buffer);
        if buffer.indices.is_empty() {
            return Err(VolumeError::NoSurface(iso));
        }
        let positions = buffer
            .positions
            .iter()
            .map(|p| world_from_voxel.apply([p[0] - 1.0, p[1] - 1.0, p[2] - 1.0]))
            .collect();
        let mut triangles: Vec<[u32; 3]> = buffer
            .indices
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        // The crate's winding is checked against its (outward) SDF-gradient normal on the first
        // triangle; the volume-to-world map may flip handedness as well.
        let t = triangles[0];
        let [a, b, c] = t.map(|i| buffer.positions[i as usize]);
        let face = super::normals::cross(sub(b, a), sub(c, a));
        let g = buffer.normals[t[0] as usize];
        let outward = face[0] * g[0] + face[1] * g[1] + face[2] * g[2] > 0.0;
        if outward == world_from_voxel.flips_handedness() {
            for t in &mut triangles {
                t.swap(1, 2);
            }
        }
        Ok(Self::new(positions, triangles))
    }
}

/// The voxel-to-crop-frame transform of an `[S, S, D]`-dims occupancy volume `[D, S, S]` (voxel
/// `(k, row, col)` at crop-frame `(col + 0.5, S - row - 0.5, -S/2 + (k + 0.5) S/D)`; the depth
/// axis spans `[-S/2, S/2]` crop pixels around the head pivot, `k = 0` farthest) (`x` = column, `y` = row,
/// `z` = bin), for [`crate::pipeline::mesh::Mesh::from_volume`].
#[must_use]
pub fn world_from_voxel(size: usize, bins: usize) -> WorldFromVoxel {
    let s = size as f32;
    let dz = s / bins as f32;
    WorldFromVoxel {
        scale: [1.0, -1.0, dz],
        offset: [0.5, s - 0.5, -s / 2.0 + 0.5 * dz],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sphere(n: usize, r: f32) -> Volume {
        let c = (n as f32 - 1.0) / 2.0;
        let mut data = Vec::with_capacity(n * n * n);
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let d =
                        ((x as f32 - c).powi(2) + (y as f32 - c).powi(2) + (z as f32 - c).powi(2))
                            .sqrt();
                    data.push(if d < r { 1.0 } else { 0.0 });
                }
            }
        }
        Volume::new([n, n, n], data).unwrap()
    }

    fn check_sphere(flip: bool) {
        let n = 24;
        let r = 8.0;
        let s = if flip { -1.0 } else { 1.0 };
        let xf = WorldFromVoxel {
            scale: [1.0, s, 1.0],
            offset: [0.0; 3],
        };
        let m = Mesh::from_volume(&sphere(n, r), 0.5, xf).unwrap();
        m.sanity_check().unwrap();
        let c = (n as f32 - 1.0) / 2.0;
        let centre = [c, s * c, c];
        let mut outward = 0;
        for (p, nrm) in m.positions.iter().zip(&m.normals) {
            let d = sub(*p, centre);
            let radius = super::super::normals::length(d);
            assert!((radius - r).abs() < 1.0, "radius {radius}");
            if d[0] * nrm[0] + d[1] * nrm[1] + d[2] * nrm[2] > 0.0 {
                outward += 1;
            }
        }
        assert_eq!(outward, m.vertex_count(), "all normals point outwards");
    }

    #[test]
    fn sphere_surface_is_round_and_outward() {
        check_sphere(false);
    }

    #[test]
    fn flipped_axis_keeps_normals_outward() {
        check_sphere(true);
    }

    #[test]
    fn empty_volume_has_no_surface() {
        let v = Volume::new([4, 4, 4], vec![0.0; 64]).unwrap();
        assert_eq!(
            Mesh::from_volume(&v, 0.5, WorldFromVoxel::default()),
            Err(VolumeError::NoSurface(0.5))
        );
    }

    #[test]
    fn wrong_size_is_refused() {
        assert!(matches!(
            Volume::new([2, 2, 2], vec![0.0; 7]),
            Err(VolumeError::Size { expected: 8, .. })
        ));
    }
}
