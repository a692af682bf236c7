//! A small CPU rasterizer that produces a visibility buffer: for every sample, the nearest (or
//! farthest) triangle, its perspective-correct barycentrics and its view depth.
//!
//! Shading is deferred: callers interpolate whatever attributes they need from the buffer
//! (colour, normals, positions), so the same pass serves the colour render, the exact ground
//! truth maps and the shadow map. Coverage follows the usual top-left fill rule, so a pixel on an
//! edge shared by two triangles is drawn exactly once. Samples sit at pixel centres
//! `(col + 0.5, row + 0.5)`; supersample by scaling the vertices and using a larger buffer.

/// A projected vertex: pixel position (x right, y down, pixel centres at `+0.5`) and its view
/// depth `w` (distance along the optical axis, > 0 for perspective; any value for orthographic).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScreenVertex {
    /// Column coordinate in pixels.
    pub x: f32,
    /// Row coordinate in pixels (down).
    pub y: f32,
    /// View depth (larger = farther from the camera).
    pub w: f32,
}

/// How depth and attributes vary across a triangle on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    /// Pinhole camera: `1/w` and `attribute/w` are linear in screen space.
    Perspective,
    /// Parallel projection: depth and attributes are linear in screen space.
    Orthographic,
}

/// Which surface a sample keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepthTest {
    /// The nearest surface (smallest `w`): the visible one.
    Nearest,
    /// The farthest surface (largest `w`): the back of a closed object.
    Farthest,
}

/// Which triangles are skipped by their screen winding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cull {
    /// Draw every triangle.
    None,
    /// Skip triangles that face away: counter-clockwise seen from outside (in a +Y-up frame)
    /// is front-facing, i.e. clockwise in pixel coordinates with rows going down.
    Back,
    /// Skip front-facing triangles (for the farthest surface of a closed object).
    Front,
}

/// Marks a sample that no triangle covers.
pub const NO_TRIANGLE: u32 = u32::MAX;

/// A `width x height` visibility buffer, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct VisBuffer {
    /// Width in samples.
    pub width: usize,
    /// Height in samples.
    pub height: usize,
    /// Depth test of this buffer.
    pub test: DepthTest,
    /// View depth of the kept surface; `+inf` (nearest) or `-inf` (farthest) where empty.
    pub depth: Vec<f32>,
    /// Index of the kept triangle in the slice given to [`VisBuffer::draw`], or [`NO_TRIANGLE`].
    pub triangle: Vec<u32>,
    /// Barycentric weights of corners 1 and 2 (corner 0 gets `1 - b1 - b2`), perspective-correct
    /// under [`Projection::Perspective`].
    pub bary: Vec<[f32; 2]>,
}

impl VisBuffer {
    /// An empty buffer.
    #[must_use]
    pub fn new(width: usize, height: usize, test: DepthTest) -> Self {
        let n = width * height;
        let empty = match test {
            DepthTest::Nearest => f32::INFINITY,
            DepthTest::Farthest => f32::NEG_INFINITY,
        };
        Self {
            width,
            height,
            test,
            depth: vec![empty; n],
            triangle: vec![NO_TRIANGLE; n],
            bary: vec![[0.0; 2]; n],
        }
    }

    /// True where some triangle covers sample `i`.
    #[must_use]
    pub fn covered(&self, i: usize) -> bool {
        self.triangle[i] != NO_TRIANGLE
    }

    /// Draws `triangles` (indices into `vertices`) into the buffer. Triangles with an index out
    /// of range, a non-finite corner or (perspective) a corner at `w <= near` are skipped.
    pub fn draw(
        &mut self,
        vertices: &[ScreenVertex],
        triangles: &[[u32; 3]],
        projection: Projection,
        cull: Cull,
        near: f32,
    ) {
        for (id, tri) in triangles.iter().enumerate() {
            let Some(corners) = fetch(vertices, *tri) else {
                continue;
            };
            if projection == Projection::Perspective && corners.iter().any(|v| v.w <= near) {
                continue;
            }
            let id = u32::try_from(id).unwrap_or(NO_TRIANGLE - 1);
            self.draw_triangle(corners, id, projection, cull);
        }
    }

    fn draw_triangle(&mut self, v: [ScreenVertex; 3], id: u32, proj: Projection, cull: Cull) {
        let Some(t) = Setup::new(v, cull) else {
            return;
        };
        let (x0, x1, y0, y1) = t.bounds();
        let (Some(c0), Some(c1)) = (first_sample(x0, self.width), last_sample(x1, self.width))
        else {
            return;
        };
        let (Some(r0), Some(r1)) = (first_sample(y0, self.height), last_sample(y1, self.height))
        else {
            return;
        };
        for row in r0..=r1 {
            for col in c0..=c1 {
                let Some((depth, b)) = t.sample(col as f32 + 0.5, row as f32 + 0.5, proj) else {
                    continue;
                };
                let i = row * self.width + col;
                let wins = match self.test {
                    DepthTest::Nearest => depth < self.depth[i],
                    DepthTest::Farthest => depth > self.depth[i],
                };
                if wins {
                    self.depth[i] = depth;
                    self.triangle[i] = id;
                    self.bary[i] = b;
                }
            }
        }
    }
}

/// A triangle prepared for coverage tests: corners reordered to positive area.
struct Setup {
    v: [ScreenVertex; 3],
    area: f32,
    top_left: [bool; 3],
    inv_w: [f32; 3],
    swapped: bool,
}

impl Setup {
    /// `None` for degenerate or culled triangles.
    fn new(v: [ScreenVertex; 3], cull: Cull) -> Option<Self> {
        let area = edge(v[0], v[1], v[2].x, v[2].y);
        let culled = (cull == Cull::Back && area > 0.0) || (cull == Cull::Front && area < 0.0);
        if area == 0.0 || !area.is_finite() || culled {
            return None;
        }
        // Normalise to positive area so "inside" means all edge values >= 0.
        let swapped = area < 0.0;
        let v = if swapped { [v[0], v[2], v[1]] } else { v };
        Some(Self {
            v,
            area: area.abs(),
            top_left: [
                top_left(v[1], v[2]),
                top_left(v[2], v[0]),
                top_left(v[0], v[1]),
            ],
            inv_w: v.map(|p| 1.0 / p.w),
            swapped,
        })
    }

    /// Bounding box `(x0, x1, y0, y1)` in pixels.
    fn bounds(&self) -> (f32, f32, f32, f32) {
        let xs = self.v.map(|p| p.x);
        let ys = self.v.map(|p| p.y);
        let lo = |a: [f32; 3]| a[0].min(a[1]).min(a[2]);
        let hi = |a: [f32; 3]| a[0].max(a[1]).max(a[2]);
        (lo(xs), hi(xs), lo(ys), hi(ys))
    }

    /// Depth and barycentrics (of the caller's corners 1 and 2) at `(px, py)` if covered.
    fn sample(&self, px: f32, py: f32, proj: Projection) -> Option<(f32, [f32; 2])> {
        let v = &self.v;
        let e = [
            edge(v[1], v[2], px, py),
            edge(v[2], v[0], px, py),
            edge(v[0], v[1], px, py),
        ];
        if !(0..3).all(|k| e[k] > 0.0 || (e[k] == 0.0 && self.top_left[k])) {
            return None;
        }
        let l = e.map(|x| x / self.area);
        let (depth, b) = match proj {
            Projection::Perspective => {
                let q = [
                    l[0] * self.inv_w[0],
                    l[1] * self.inv_w[1],
                    l[2] * self.inv_w[2],
                ];
                let s = q[0] + q[1] + q[2];
                (1.0 / s, [q[1] / s, q[2] / s])
            }
            Projection::Orthographic => {
                (l[0] * v[0].w + l[1] * v[1].w + l[2] * v[2].w, [l[1], l[2]])
            }
        };
        Some((depth, if self.swapped { [b[1], b[0]] } else { b }))
    }
}

/// Edge function of the directed edge `a -> b` at `(px, py)`: positive on its inner side for a
/// positively oriented triangle (pixel coordinates, rows down).
fn edge(a: ScreenVertex, b: ScreenVertex, px: f32, py: f32) -> f32 {
    (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x)
}

/// Top-left rule for a positively oriented triangle: the top edge (horizontal, going right) and
/// left edges (going up) own the samples lying exactly on them.
fn top_left(a: ScreenVertex, b: ScreenVertex) -> bool {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    (dy == 0.0 && dx > 0.0) || dy < 0.0
}

fn fetch(vertices: &[ScreenVertex], tri: [u32; 3]) -> Option<[ScreenVertex; 3]> {
    let get = |i: u32| vertices.get(i as usize).copied();
    let v = [get(tri[0])?, get(tri[1])?, get(tri[2])?];
    v.iter()
        .all(|p| p.x.is_finite() && p.y.is_finite() && p.w.is_finite())
        .then_some(v)
}

/// First sample index whose centre is >= `lo`, if inside `0..n`.
fn first_sample(lo: f32, n: usize) -> Option<usize> {
    let i = (lo - 0.5).ceil().max(0.0);
    (i < n as f32).then_some(i as usize)
}

/// Last sample index whose centre is <= `hi`, if inside `0..n`.
fn last_sample(hi: f32, n: usize) -> Option<usize> {
    let i = (hi - 0.5).floor().min(n as f32 - 1.0);
    (i >= 0.0).then_some(i as usize)
}

/// Depth value of background pixels: the far end of the occupancy volume, `-size / 2`.
#[must_use]
pub fn background_z(size: usize) -> f32 {
    -(size as f32) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(x: f32, y: f32, w: f32) -> ScreenVertex {
        ScreenVertex { x, y, w }
    }

    #[test]
    fn right_triangle_covers_exactly_its_half() {
        // Lower-left half of an 8x8 square: samples with col < row are inside, the diagonal
        // (col == row) lies exactly on an edge.
        let mut vb = VisBuffer::new(8, 8, DepthTest::Nearest);
        let v = [sv(0.0, 0.0, 1.0), sv(0.0, 8.0, 1.0), sv(8.0, 8.0, 1.0)];
        vb.draw(&v, &[[0, 1, 2]], Projection::Perspective, Cull::None, 0.0);
        let count = (0..64).filter(|&i| vb.covered(i)).count();
        let strictly_inside = (0..64).filter(|i| i % 8 < i / 8).count();
        assert_eq!(strictly_inside, 28);
        assert!(count == 28 || count == 36, "count {count}");
        assert!(vb.covered(7 * 8) && !vb.covered(7));
    }

    #[test]
    fn shared_edge_is_drawn_once() {
        // Two triangles of a square, sharing the diagonal: every sample covered exactly once.
        let v = [
            sv(0.0, 0.0, 1.0),
            sv(6.0, 0.0, 1.0),
            sv(6.0, 6.0, 1.0),
            sv(0.0, 6.0, 1.0),
        ];
        let mut a = VisBuffer::new(6, 6, DepthTest::Nearest);
        a.draw(&v, &[[0, 1, 2]], Projection::Perspective, Cull::None, 0.0);
        let mut b = VisBuffer::new(6, 6, DepthTest::Nearest);
        b.draw(&v, &[[0, 2, 3]], Projection::Perspective, Cull::None, 0.0);
        for i in 0..36 {
            assert!(a.covered(i) ^ b.covered(i), "sample {i}");
        }
    }

    #[test]
    fn back_faces_are_culled() {
        // Clockwise in pixel coordinates (rows down) is front-facing.
        let front = [sv(0.0, 0.0, 1.0), sv(4.0, 0.0, 1.0), sv(0.0, 4.0, 1.0)];
        let mut vb = VisBuffer::new(4, 4, DepthTest::Nearest);
        vb.draw(
            &front,
            &[[0, 2, 1]],
            Projection::Perspective,
            Cull::Back,
            0.0,
        );
        assert!(vb.covered(0));
        let mut vb = VisBuffer::new(4, 4, DepthTest::Nearest);
        vb.draw(
            &front,
            &[[0, 1, 2]],
            Projection::Perspective,
            Cull::Back,
            0.0,
        );
        assert!(!vb.covered(0));
    }

    /// A tilted plane `w = 10 + 0.5 X` seen by a pinhole camera with focal `f` and principal
    /// point `(c, c)`: every covered sample must report the analytic ray-plane depth
    /// `w = 10 / (1 - 0.5 (x - c) / f)`.
    #[test]
    fn depth_of_a_known_plane_is_exact() {
        let (f, c, n) = (20.0f32, 16.0f32, 32usize);
        let world = [[-8.0f32, -8.0], [8.0, -8.0], [8.0, 8.0], [-8.0, 8.0]];
        let v: Vec<ScreenVertex> = world
            .iter()
            .map(|&[x, y]| {
                let w = 10.0 + 0.5 * x;
                sv(f * x / w + c, f * y / w + c, w)
            })
            .collect();
        let mut vb = VisBuffer::new(n, n, DepthTest::Nearest);
        vb.draw(
            &v,
            &[[0, 1, 2], [0, 2, 3]],
            Projection::Perspective,
            Cull::None,
            0.0,
        );
        let mut checked = 0;
        for i in (0..n * n).filter(|&i| vb.covered(i)) {
            let x = (i % n) as f32 + 0.5;
            let expected = 10.0 / (1.0 - 0.5 * (x - c) / f);
            assert!((vb.depth[i] - expected).abs() < 1e-4 * expected, "{i}");
            checked += 1;
        }
        assert!(checked > 300, "{checked}");
    }

    /// Perspective-correct barycentrics reproduce the world position of the sample: interpolate
    /// the corners' world coordinates and reproject.
    #[test]
    fn barycentrics_are_perspective_correct() {
        let f = 30.0f32;
        let world = [[-3.0f32, -2.0, 8.0], [4.0, -1.0, 12.0], [0.0, 5.0, 20.0]];
        let v: Vec<ScreenVertex> = world
            .iter()
            .map(|p| sv(f * p[0] / p[2] + 16.0, f * p[1] / p[2] + 16.0, p[2]))
            .collect();
        let mut vb = VisBuffer::new(32, 32, DepthTest::Nearest);
        vb.draw(&v, &[[0, 1, 2]], Projection::Perspective, Cull::None, 0.0);
        let mut checked = 0;
        for i in (0..32 * 32).filter(|&i| vb.covered(i)) {
            let [b1, b2] = vb.bary[i];
            let b = [1.0 - b1 - b2, b1, b2];
            let p: [f32; 3] =
                std::array::from_fn(|k| (0..3).map(|j| b[j] * world[j][k]).sum::<f32>());
            assert!((p[2] - vb.depth[i]).abs() < 1e-3);
            assert!((f * p[0] / p[2] + 16.0 - ((i % 32) as f32 + 0.5)).abs() < 1e-3);
            assert!((f * p[1] / p[2] + 16.0 - ((i / 32) as f32 + 0.5)).abs() < 1e-3);
            checked += 1;
        }
        assert!(checked > 20, "{checked}");
    }

    #[test]
    fn nearest_and_farthest_keep_the_right_surface() {
        let quad = |w: f32| {
            [
                sv(0.0, 0.0, w),
                sv(4.0, 0.0, w),
                sv(4.0, 4.0, w),
                sv(0.0, 4.0, w),
            ]
        };
        let mut v = quad(5.0).to_vec();
        v.extend(quad(3.0));
        let tris = [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]];
        let mut near = VisBuffer::new(4, 4, DepthTest::Nearest);
        near.draw(&v, &tris, Projection::Perspective, Cull::None, 0.0);
        let mut far = VisBuffer::new(4, 4, DepthTest::Farthest);
        far.draw(&v, &tris, Projection::Perspective, Cull::None, 0.0);
        assert!(near.depth.iter().all(|&d| (d - 3.0).abs() < 1e-6));
        assert!(far.depth.iter().all(|&d| (d - 5.0).abs() < 1e-6));
        assert!(near.triangle.iter().all(|&t| t >= 2));
    }
}
