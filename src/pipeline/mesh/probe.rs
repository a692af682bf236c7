//! A ray caster along the view axis over a triangle mesh: for a point (x, y), the largest
//! (nearest) z of the mesh surface above it. Used to lift 2D landmarks onto a reconstruction and
//! by the real-photo depth metrics. Frame-agnostic: x and y are any two in-plane axes and larger
//! z is nearer (the crop, photo and image frames of Visage all qualify).

/// Barycentric tolerance of the point-in-triangle test (a point on an edge counts).
const EDGE_TOL: f64 = 1e-7;

/// Triangles with `|2 * area| <= DEGENERATE * longest_edge^2` are skipped as degenerate.
const DEGENERATE: f64 = 1e-9;

/// Largest grid size per axis of [`DepthProbe`].
const MAX_CELLS: usize = 1024;

/// Component-wise (min, max) of 2D points; (+inf, -inf) when empty.
pub fn bbox_xy(points: impl Iterator<Item = [f32; 2]>) -> ([f32; 2], [f32; 2]) {
    let init = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    points.fold(init, |(lo, hi), p| {
        (
            [lo[0].min(p[0]), lo[1].min(p[1])],
            [hi[0].max(p[0]), hi[1].max(p[1])],
        )
    })
}

/// A triangle prepared for x/y point location: its corners (image frame, f64) and its doubled
/// signed x/y area.
#[derive(Clone, Copy, Debug)]
struct FlatTri {
    v: [[f64; 3]; 3],
    area: f64,
}

impl FlatTri {
    /// The triangle `tri` of `positions`; `None` when an index is out of range, a coordinate is
    /// not finite or the x/y projection is degenerate.
    fn new(positions: &[[f32; 3]], tri: &[u32; 3]) -> Option<Self> {
        let mut v = [[0.0; 3]; 3];
        for (slot, &i) in v.iter_mut().zip(tri) {
            let p = positions.get(usize::try_from(i).ok()?)?;
            if !p.iter().all(|c| c.is_finite()) {
                return None;
            }
            *slot = p.map(f64::from);
        }
        let area = edge(v[0], v[1], [v[2][0], v[2][1]]);
        let longest = (0..3)
            .map(|k| dist2(v[k], v[(k + 1) % 3]))
            .fold(0.0, f64::max);
        (area.abs() > DEGENERATE * longest).then_some(Self { v, area })
    }

    /// Interpolated z at (x, y) when the x/y projection contains it (edges included).
    fn depth_at(&self, p: [f64; 2]) -> Option<f64> {
        let [a, b, c] = self.v;
        let w = [edge(b, c, p), edge(c, a, p), edge(a, b, p)];
        let tol = -EDGE_TOL * self.area.abs();
        if w.iter().any(|&wi| wi * self.area.signum() < tol) {
            return None;
        }
        Some((w[0] * a[2] + w[1] * b[2] + w[2] * c[2]) / self.area)
    }

    /// The x/y bounding box (min, max).
    fn bbox(&self) -> ([f64; 2], [f64; 2]) {
        let xs = self.v.map(|p| p[0]);
        let ys = self.v.map(|p| p[1]);
        let lo = [
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            ys.iter().copied().fold(f64::INFINITY, f64::min),
        ];
        let hi = [
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ];
        (lo, hi)
    }
}

/// Doubled signed area of (a, b, p) in x/y (positive when p is left of a -> b in x-right,
/// y-up terms).
fn edge(a: [f64; 3], b: [f64; 3], p: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// Squared x/y distance.
fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// A uniform x/y grid over the triangles' bounding box; each cell lists (CSR) the triangles
/// whose bounding box overlaps it.
#[derive(Clone, Debug, Default)]
struct Grid {
    origin: [f64; 2],
    cell: [f64; 2],
    dims: [usize; 2],
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Grid {
    /// Bins `tris` into about one cell per triangle (at most [`MAX_CELLS`] per axis).
    fn build(tris: &[FlatTri]) -> Self {
        let Some((lo, hi)) = tris.iter().map(FlatTri::bbox).reduce(|(l0, h0), (l1, h1)| {
            (
                [l0[0].min(l1[0]), l0[1].min(l1[1])],
                [h0[0].max(h1[0]), h0[1].max(h1[1])],
            )
        }) else {
            return Self::default();
        };
        let size = [hi[0] - lo[0], hi[1] - lo[1]];
        let dims = grid_dims(tris.len(), size);
        let mut grid = Self {
            origin: lo,
            cell: [size[0] / dims[0] as f64, size[1] / dims[1] as f64],
            dims,
            starts: Vec::new(),
            items: Vec::new(),
        };
        grid.fill(tris);
        grid
    }

    /// Fills `starts` and `items` (two passes: count, then place).
    fn fill(&mut self, tris: &[FlatTri]) {
        let mut counts = vec![0usize; self.dims[0] * self.dims[1] + 1];
        for t in tris {
            self.for_cells(t, |c| counts[c + 1] += 1);
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let mut cursor = counts.clone();
        let mut items = vec![0u32; counts[counts.len() - 1]];
        for (ti, t) in tris.iter().enumerate() {
            self.for_cells(t, |c| {
                items[cursor[c]] = ti as u32;
                cursor[c] += 1;
            });
        }
        self.starts = counts;
        self.items = items;
    }

    /// Calls `f` with every cell index the (slightly widened) bbox of `t` overlaps.
    fn for_cells(&self, t: &FlatTri, mut f: impl FnMut(usize)) {
        let (lo, hi) = t.bbox();
        let margin = [self.cell[0] * 1e-6, self.cell[1] * 1e-6];
        let x0 = self.axis_cell(0, lo[0] - margin[0]);
        let x1 = self.axis_cell(0, hi[0] + margin[0]);
        let y0 = self.axis_cell(1, lo[1] - margin[1]);
        let y1 = self.axis_cell(1, hi[1] + margin[1]);
        for y in y0..=y1 {
            for x in x0..=x1 {
                f(y * self.dims[0] + x);
            }
        }
    }

    /// The cell index along `axis` of coordinate `v`, clamped into the grid.
    fn axis_cell(&self, axis: usize, v: f64) -> usize {
        let k = ((v - self.origin[axis]) / self.cell[axis]).floor();
        (k.max(0.0) as usize).min(self.dims[axis] - 1)
    }

    /// The triangles listed for the cell holding `p`; empty outside the grid.
    fn candidates(&self, p: [f64; 2]) -> &[u32] {
        if self.dims[0] == 0 {
            return &[];
        }
        let inside = |axis: usize| {
            let rel = (p[axis] - self.origin[axis]) / self.cell[axis];
            (-1e-6..=self.dims[axis] as f64 + 1e-6).contains(&rel)
        };
        if !(inside(0) && inside(1)) {
            return &[];
        }
        let c = self.axis_cell(1, p[1]) * self.dims[0] + self.axis_cell(0, p[0]);
        &self.items[self.starts[c]..self.starts[c + 1]]
    }
}

/// Grid size for `n` triangles over a box of `size`: about `n` square-ish cells.
fn grid_dims(n: usize, size: [f64; 2]) -> [usize; 2] {
    let aspect = (size[0] / size[1]).clamp(1e-3, 1e3);
    let nx = ((n as f64 * aspect).sqrt().ceil() as usize).clamp(1, MAX_CELLS);
    let ny = (n.div_ceil(nx)).clamp(1, MAX_CELLS);
    [nx, ny]
}

/// Casts rays along the view axis (z) through a triangle mesh in the image frame, with a
/// uniform x/y grid so that each probe only tests a few triangles.
#[derive(Clone, Debug)]
pub struct DepthProbe {
    tris: Vec<FlatTri>,
    grid: Grid,
}

impl DepthProbe {
    /// Prepares `triangles` (indices into `positions`, either winding). Triangles with an index
    /// out of range, a non-finite corner or a degenerate x/y projection are skipped.
    #[must_use]
    pub fn new(positions: &[[f32; 3]], triangles: &[[u32; 3]]) -> Self {
        let tris: Vec<FlatTri> = triangles
            .iter()
            .filter_map(|t| FlatTri::new(positions, t))
            .collect();
        let grid = Grid::build(&tris);
        Self { tris, grid }
    }

    /// Triangles kept (non-degenerate).
    #[must_use]
    pub fn triangle_count(&self) -> usize {
        self.tris.len()
    }

    /// The largest (nearest) interpolated z among the triangles whose x/y projection contains
    /// (x, y), a point on an edge included; `None` when no triangle covers it.
    #[must_use]
    pub fn front_z(&self, x: f32, y: f32) -> Option<f32> {
        let p = [f64::from(x), f64::from(y)];
        self.grid
            .candidates(p)
            .iter()
            .filter_map(|&i| self.tris[i as usize].depth_at(p))
            .reduce(f64::max)
            .map(|z| z as f32)
    }
}
