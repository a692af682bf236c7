//! Mesh from a depth map: a masked pixel grid, with triangles across depth discontinuities
//! rejected (the pix2pix and 3DMM paths produce depth maps).

use super::{Mesh, normals::length, normals::sub};
use image::RgbImage;

/// A depth map over an image grid, in crop-pixel units, larger = closer to the camera.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthMap {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major depth values, `width * height` of them.
    pub depth: Vec<f32>,
    /// Row-major validity mask (face pixels), same size as `depth`.
    pub mask: Vec<bool>,
}

/// Options of [`Mesh::from_depth`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthMeshOptions {
    /// Triangles with an edge longer than this many pixels (in 3D) are dropped: they would
    /// bridge a depth discontinuity.
    pub max_edge: f32,
}

impl Default for DepthMeshOptions {
    fn default() -> Self {
        Self { max_edge: 4.0 }
    }
}

impl Mesh {
    /// One vertex per masked pixel at `(col + 0.5, height - row - 0.5, depth)` (the crop frame:
    /// +Y up, +Z towards the camera), two triangles per fully masked 2x2 block, long edges
    /// rejected, unused vertices removed. Vertex colours come from `colors` when given (same size
    /// as the map).
    #[must_use]
    pub fn from_depth(
        map: &DepthMap,
        colors: Option<&RgbImage>,
        options: DepthMeshOptions,
    ) -> Self {
        Self::from_depth_within(map, colors, options, None)
    }

    /// [`Mesh::from_depth`], except that triangles whose three pixels are all `continuous`
    /// (same layout as the map) are kept whatever their edge lengths: where the surface is known
    /// to be one sheet (e.g. inside a fitted face model's coverage) a steep slope is geometry,
    /// not a discontinuity.
    #[must_use]
    pub fn from_depth_within(
        map: &DepthMap,
        colors: Option<&RgbImage>,
        options: DepthMeshOptions,
        continuous: Option<&[bool]>,
    ) -> Self {
        let (w, h) = (map.width, map.height);
        let mut positions = Vec::with_capacity(w * h);
        for row in 0..h {
            for col in 0..w {
                positions.push([
                    col as f32 + 0.5,
                    h as f32 - row as f32 - 0.5,
                    map.depth[row * w + col],
                ]);
            }
        }
        let ok = |i: usize| map.mask[i] && map.depth[i].is_finite();
        let short = |t: [u32; 3]| {
            (0..3).all(|k| {
                let a = positions[t[k] as usize];
                let b = positions[t[(k + 1) % 3] as usize];
                length(sub(a, b)) <= options.max_edge
            })
        };
        let mut triangles = Vec::new();
        for row in 0..h.saturating_sub(1) {
            for col in 0..w.saturating_sub(1) {
                let i = row * w + col;
                let q = [i, i + 1, i + w, i + w + 1];
                let [a, b, c, d] = q.map(|j| u32::try_from(j).unwrap_or(u32::MAX));
                // Rows go down the image while +Y goes up, so (a, c, b) is counter-clockwise
                // seen from +Z.
                for (t, corners) in [
                    ([a, c, b], [q[0], q[2], q[1]]),
                    ([b, c, d], [q[1], q[2], q[3]]),
                ] {
                    let sheet = continuous.is_some_and(|c| corners.iter().all(|&j| c[j]));
                    if corners.iter().all(|&j| ok(j)) && (sheet || short(t)) {
                        triangles.push(t);
                    }
                }
            }
        }
        let mut mesh = Mesh {
            positions,
            triangles,
            ..Mesh::default()
        };
        if let Some(img) =
            colors.filter(|img| img.width() as usize == w && img.height() as usize == h)
        {
            mesh.colors = img
                .pixels()
                .map(|p| p.0.map(|c| f32::from(c) / 255.0))
                .collect();
        }
        let mut used = vec![false; w * h];
        for t in &mesh.triangles {
            for &i in t {
                used[i as usize] = true;
            }
        }
        let keep: Vec<u32> = (0..w * h)
            .filter(|&i| used[i])
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let mut mesh = mesh.select_vertices(&keep);
        mesh.compute_normals();
        mesh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_faces_the_camera() {
        let map = DepthMap {
            width: 4,
            height: 3,
            depth: vec![2.0; 12],
            mask: vec![true; 12],
        };
        let m = Mesh::from_depth(&map, None, DepthMeshOptions::default());
        m.sanity_check().unwrap();
        assert_eq!(m.vertex_count(), 12);
        assert_eq!(m.triangles.len(), 2 * 3 * 2);
        for n in &m.normals {
            assert!((n[2] - 1.0).abs() < 1e-6, "{n:?}");
        }
    }

    #[test]
    fn a_continuous_region_keeps_its_steep_triangles() {
        // A 4 x 2 map with a 50 px step between columns 1 and 2: cut without the region, kept
        // when every pixel is in it, and cut again where the region stops short of the step.
        let map = DepthMap {
            width: 4,
            height: 2,
            depth: vec![0.0, 0.0, 50.0, 50.0, 0.0, 0.0, 50.0, 50.0],
            mask: vec![true; 8],
        };
        let opts = DepthMeshOptions::default();
        assert_eq!(Mesh::from_depth(&map, None, opts).triangles.len(), 4);
        let all = vec![true; 8];
        let kept = Mesh::from_depth_within(&map, None, opts, Some(&all));
        assert_eq!(kept.triangles.len(), 6);
        let left = [true, true, false, false, true, true, false, false];
        let cut = Mesh::from_depth_within(&map, None, opts, Some(&left));
        assert_eq!(cut.triangles.len(), 4);
    }

    #[test]
    fn mask_and_long_edges_remove_triangles() {
        let mut depth = vec![0.0; 9];
        depth[8] = 100.0; // a spike in the bottom-right corner
        let mut mask = vec![true; 9];
        mask[0] = false;
        let map = DepthMap {
            width: 3,
            height: 3,
            depth,
            mask,
        };
        let m = Mesh::from_depth(&map, None, DepthMeshOptions::default());
        // 8 triangles in total; the masked top-left corner removes the one triangle that uses
        // it, the spike removes the one that uses the bottom-right vertex.
        assert_eq!(m.triangles.len(), 6);
        assert!(m.positions.iter().all(|p| p[2] == 0.0));
    }

    #[test]
    fn colours_follow_pixels() {
        let img = RgbImage::from_fn(2, 2, |x, y| {
            image::Rgb([(x * 255) as u8, (y * 255) as u8, 0])
        });
        let map = DepthMap {
            width: 2,
            height: 2,
            depth: vec![0.0; 4],
            mask: vec![true; 4],
        };
        let m = Mesh::from_depth(&map, Some(&img), DepthMeshOptions::default());
        assert_eq!(m.colors.len(), 4);
        // Vertex 3 is the bottom-right pixel (x = 1, y = 1).
        assert_eq!(m.colors[3], [1.0, 1.0, 0.0]);
        assert_eq!(m.positions[3], [1.5, 0.5, 0.0]);
    }
}
