//! Which points of a mesh the camera sees: the mesh's front surface along the view axis,
//! rasterised once into a depth map ([`FrontSurface`]), against which every point is a lookup.

use crate::pipeline::mesh::Mesh;
use crate::pipeline::mesh::probe::bbox_xy;
use crate::pipeline::mesh::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};

/// Samples along the longer side of the mesh's x/y bounding box: about one per pixel of the
/// 128 px reconstruction crop. The test in [`FrontSurface::shows`] takes the farthest of four
/// samples, so a sample wider than a texel does not hide the texel's own surface.
const SAMPLES: f32 = 128.0;

/// A point behind the front surface by more than this fraction of the crop side is hidden.
const HIDDEN_DEPTH: f32 = 0.02;

/// The front (largest z) surface of a mesh in the crop frame (+X right, +Y up, +Z towards the
/// camera), sampled on a grid over the mesh's x/y bounding box.
#[derive(Clone, Debug)]
pub(super) struct FrontSurface {
    buffer: VisBuffer,
    /// Crop-frame x and y of the grid's corner (smallest x, largest y).
    origin: [f32; 2],
    /// Samples per crop pixel.
    scale: f32,
    /// Largest depth a point may lie behind the surface and count as on it.
    tolerance: f32,
}

impl FrontSurface {
    /// Rasterises `mesh` (crop frame of a crop `side` pixels wide).
    pub(super) fn new(mesh: &Mesh, side: f32) -> Self {
        let (lo, hi) = bbox_xy(mesh.positions.iter().map(|p| [p[0], p[1]]));
        let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]);
        let scale = if extent.is_finite() && extent > 0.0 {
            SAMPLES / extent
        } else {
            1.0
        };
        let origin = [lo[0], hi[1]];
        let size = |span: f32| {
            if span.is_finite() {
                (span * scale).ceil() as usize + 2
            } else {
                0
            }
        };
        let mut buffer =
            VisBuffer::new(size(hi[0] - lo[0]), size(hi[1] - lo[1]), DepthTest::Nearest);
        let screen: Vec<ScreenVertex> = (mesh.positions.iter())
            .map(|p| ScreenVertex {
                x: (p[0] - origin[0]) * scale + 0.5,
                y: (origin[1] - p[1]) * scale + 0.5,
                w: -p[2],
            })
            .collect();
        buffer.draw(
            &screen,
            &mesh.triangles,
            Projection::Orthographic,
            Cull::None,
            0.0,
        );
        Self {
            buffer,
            origin,
            scale,
            tolerance: HIDDEN_DEPTH * side,
        }
    }

    /// True when the crop-frame point `p` is not behind the front surface by more than the
    /// tolerance. The surface's depth is taken as the farthest of the (up to four) samples
    /// around `p`, and a point next to an empty sample (the silhouette) counts as seen, so that
    /// a point on a steep slope is not hidden by its own surface.
    pub(super) fn shows(&self, p: [f32; 3]) -> bool {
        let x = (p[0] - self.origin[0]) * self.scale;
        let y = (self.origin[1] - p[1]) * self.scale;
        if !(x.is_finite() && y.is_finite()) {
            return true;
        }
        let (w, h) = (self.buffer.width as f32, self.buffer.height as f32);
        // Outside the grid (or next to its border): off the mesh's silhouette.
        if !(x >= 0.0 && y >= 0.0 && x + 1.0 < w && y + 1.0 < h) {
            return true;
        }
        let (x0, y0, w) = (x as usize, y as usize, self.buffer.width);
        let mut farthest = f32::NEG_INFINITY;
        for row in y0..y0 + 2 {
            for col in x0..x0 + 2 {
                let depth = self.buffer.depth[row * w + col];
                if depth == f32::INFINITY {
                    return true;
                }
                farthest = farthest.max(depth);
            }
        }
        // `depth` is -z: the surface's z there is -farthest.
        -farthest - p[2] < self.tolerance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two parallel squares, 30 px apart in depth: the near one (z = 40) over x, y in 20..60,
    /// the far one (z = 10) over 0..100.
    fn two_planes() -> Mesh {
        let square =
            |lo: f32, hi: f32, z: f32| [[lo, lo, z], [hi, lo, z], [hi, hi, z], [lo, hi, z]];
        let positions = [square(20.0, 60.0, 40.0), square(0.0, 100.0, 10.0)].concat();
        let triangles = vec![[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]];
        Mesh::new(positions, triangles)
    }

    #[test]
    fn a_point_behind_the_near_plane_is_hidden() {
        let front = FrontSurface::new(&two_planes(), 128.0);
        assert!(front.shows([40.0, 40.0, 40.0]), "on the near plane");
        assert!(!front.shows([40.0, 40.0, 10.0]), "behind the near plane");
        assert!(
            front.shows([80.0, 80.0, 10.0]),
            "far plane, nothing in front"
        );
        assert!(
            front.shows([20.0, 40.0, 10.0]),
            "at the near plane's silhouette"
        );
        assert!(
            front.shows([40.0, 40.0, 38.0]),
            "within the tolerance (2.56)"
        );
        assert!(!front.shows([40.0, 40.0, 37.0]), "beyond the tolerance");
    }

    #[test]
    fn points_off_the_mesh_are_shown() {
        let front = FrontSurface::new(&two_planes(), 128.0);
        assert!(front.shows([-50.0, 40.0, 0.0]));
        assert!(front.shows([40.0, 500.0, 0.0]));
        assert!(front.shows([f32::NAN, 0.0, 0.0]));
        let empty = FrontSurface::new(&Mesh::new(Vec::new(), Vec::new()), 128.0);
        assert!(empty.shows([0.0, 0.0, 0.0]));
    }
}
