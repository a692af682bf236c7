//! Real-photo metrics of the `../shared/real-eval` protocol (see its README): 2D NME, depth51,
//! flat51 and 3D NME, plus the pieces they need: a ray caster over a triangle mesh
//! ([`DepthProbe`]) and a surface through 68 3D landmarks ([`mesh_from_points_68`]). Pure
//! functions, no I/O.
//!
//! Frame everywhere ("image frame"): x right (photo column) and y down (photo row), continuous
//! pixel coordinates; z in the same pixel scale, larger z = nearer the camera, with an arbitrary
//! offset. Every error is in percent of [`box_norm`] (`sqrt(w * h)` of the ground-truth
//! 68-landmark x/y box). Landmarks follow the iBUG 68-point order.

pub use crate::pipeline::mesh::probe::DepthProbe;
use crate::pipeline::mesh::probe::bbox_xy;
use std::ops::Range;

/// Number of landmarks in the iBUG 68-point scheme.
pub const N_LANDMARKS: usize = 68;

/// The inner 51 landmarks (17..68: brows, eyes, nose, mouth) that depth51 and flat51 score.
pub const INNER_51: Range<usize> = 17..68;

/// Fewest covered inner landmarks for which [`depth51`] still gives a score.
pub const MIN_COVERED: usize = 10;

/// Triangles of [`mesh_from_points_68`] whose circumradius (in the points' plane) exceeds this
/// multiple of the diagonal of the points' box in that plane are hull slivers and are dropped.
pub const SLIVER_RATIO: f64 = 2.0;

/// `sqrt(w * h)` of the x/y bounding box of `truth` (pixels); 0 for an empty or flat set.
#[must_use]
pub fn box_norm(truth: &[[f32; 3]]) -> f32 {
    let (lo, hi) = bbox_xy(truth.iter().map(|p| [p[0], p[1]]));
    ((hi[0] - lo[0]).max(0.0) * (hi[1] - lo[1]).max(0.0)).sqrt()
}

/// 2D NME in percent: the mean x/y distance between `pred` and `truth` over [`box_norm`].
/// `None` when the lengths differ, the sets are empty or the norm is degenerate.
#[must_use]
pub fn nme_2d(pred: &[[f32; 2]], truth: &[[f32; 3]]) -> Option<f32> {
    if pred.len() != truth.len() || pred.is_empty() {
        return None;
    }
    let norm = valid_norm(truth)?;
    let sum: f32 = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| (p[0] - t[0]).hypot(p[1] - t[1]))
        .sum();
    Some(percent(sum / pred.len() as f32, norm))
}

/// [`nme_2d`] of the 51 inner points of 68 (17-67: brows, nose, eyes, mouth), still normalised
/// by the box of all 68 true points: the error without the jaw line, whose 3D convention the
/// face models disagree on. `None` unless both hold 68 points (or the norm is degenerate).
#[must_use]
pub fn nme_2d_inner(pred: &[[f32; 2]], truth: &[[f32; 3]]) -> Option<f32> {
    if pred.len() != 68 || truth.len() != 68 {
        return None;
    }
    let norm = valid_norm(truth)?;
    let sum: f32 = (pred[17..].iter().zip(&truth[17..]))
        .map(|(p, t)| (p[0] - t[0]).hypot(p[1] - t[1]))
        .sum();
    Some(percent(sum / 51.0, norm))
}

/// 3D NME in percent: `pred` (x, y, z in the image frame) against `truth` after removing the
/// median of `z_pred - z_true` from `z_pred`; mean 3D distance over [`box_norm`]. `None` when
/// the lengths differ, the sets are empty or the norm is degenerate.
#[must_use]
pub fn nme_3d(pred: &[[f32; 3]], truth: &[[f32; 3]]) -> Option<f32> {
    if pred.len() != truth.len() || pred.is_empty() {
        return None;
    }
    let norm = valid_norm(truth)?;
    let dz: Vec<f32> = pred.iter().zip(truth).map(|(p, t)| p[2] - t[2]).collect();
    let offset = median(&dz)?;
    let sum: f32 = pred
        .iter()
        .zip(truth)
        .map(|(p, t)| {
            let d = [p[0] - t[0], p[1] - t[1], p[2] - t[2] - offset];
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
        })
        .sum();
    Some(percent(sum / pred.len() as f32, norm))
}

/// A depth score over the inner 51 landmarks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthScore {
    /// Mean absolute depth error after removing the median offset, in percent of [`box_norm`].
    pub mean_pct: f32,
    /// Inner landmarks the mesh covers (the ones averaged).
    pub covered: usize,
    /// Inner landmarks in all (51).
    pub total: usize,
}

/// depth51: the front-most surface of the probed mesh at each inner true landmark's (x, y),
/// residual `z_mesh - z_true`, minus the residuals' median, mean absolute value over the covered
/// landmarks, in percent of [`box_norm`]. `None` unless `truth` has 68 points, the norm is sound
/// and at least [`MIN_COVERED`] inner landmarks are covered.
#[must_use]
pub fn depth51(probe: &DepthProbe, truth: &[[f32; 3]]) -> Option<DepthScore> {
    if truth.len() != N_LANDMARKS {
        return None;
    }
    let norm = valid_norm(truth)?;
    let residuals: Vec<f32> = truth[INNER_51]
        .iter()
        .filter_map(|t| probe.front_z(t[0], t[1]).map(|z| z - t[2]))
        .collect();
    if residuals.len() < MIN_COVERED {
        return None;
    }
    Some(DepthScore {
        mean_pct: percent(median_abs_dev(&residuals)?, norm),
        covered: residuals.len(),
        total: INNER_51.len(),
    })
}

/// flat51: [`depth51`] for a plane `z = constant` (no 3D at all): the mean absolute deviation of
/// the inner 51 true z from their median, in percent of [`box_norm`]. `None` unless `truth` has
/// 68 points and a sound norm.
#[must_use]
pub fn flat51(truth: &[[f32; 3]]) -> Option<f32> {
    if truth.len() != N_LANDMARKS {
        return None;
    }
    let norm = valid_norm(truth)?;
    let z: Vec<f32> = truth[INNER_51].iter().map(|t| t[2]).collect();
    Some(percent(median_abs_dev(&z)?, norm))
}

/// flat51 restricted to the inner landmarks `probe` covers (the same subset [`depth51`]
/// averages), for comparing a method with the flat floor on equal terms. `None` under the same
/// conditions as [`depth51`].
#[must_use]
pub fn flat51_covered(probe: &DepthProbe, truth: &[[f32; 3]]) -> Option<f32> {
    if truth.len() != N_LANDMARKS {
        return None;
    }
    let norm = valid_norm(truth)?;
    let z: Vec<f32> = truth[INNER_51]
        .iter()
        .filter(|t| probe.front_z(t[0], t[1]).is_some())
        .map(|t| t[2])
        .collect();
    if z.len() < MIN_COVERED {
        return None;
    }
    Some(percent(median_abs_dev(&z)?, norm))
}

/// `value / norm` in percent.
fn percent(value: f32, norm: f32) -> f32 {
    value / norm * 100.0
}

/// [`box_norm`] when it is finite and positive.
fn valid_norm(truth: &[[f32; 3]]) -> Option<f32> {
    let norm = box_norm(truth);
    (norm.is_finite() && norm > 0.0).then_some(norm)
}

/// Median (mean of the two middle values for an even count); `None` when empty.
fn median(values: &[f32]) -> Option<f32> {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some(0.5 * (v[n / 2 - 1] + v[n / 2])),
    }
}

/// Mean absolute deviation of `values` from their median; `None` when empty.
fn median_abs_dev(values: &[f32]) -> Option<f32> {
    let m = median(values)?;
    Some(values.iter().map(|v| (v - m).abs()).sum::<f32>() / values.len() as f32)
}

/// A circle by centre and squared radius.
#[derive(Clone, Copy, Debug)]
struct Circle {
    c: [f64; 2],
    r2: f64,
}

impl Circle {
    /// The circumcircle of a, b, c; `None` when they are (nearly) collinear.
    fn through(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> Option<Self> {
        let (bx, by, cx, cy) = (b[0] - a[0], b[1] - a[1], c[0] - a[0], c[1] - a[1]);
        let d = 2.0 * (bx * cy - by * cx);
        let scale = (bx * bx + by * by).max(cx * cx + cy * cy);
        let sound = d.abs() > 1e-12 * scale;
        if !sound {
            return None;
        }
        let (b2, c2) = (bx * bx + by * by, cx * cx + cy * cy);
        let ux = (cy * b2 - by * c2) / d;
        let uy = (bx * c2 - cx * b2) / d;
        Some(Self {
            c: [a[0] + ux, a[1] + uy],
            r2: ux * ux + uy * uy,
        })
    }

    /// Whether `p` lies strictly inside.
    fn contains(&self, p: [f64; 2]) -> bool {
        let d2 = (p[0] - self.c[0]).powi(2) + (p[1] - self.c[1]).powi(2);
        d2 < self.r2 * (1.0 - 1e-12)
    }
}

/// A Delaunay triangle under construction: corner indices and circumcircle.
#[derive(Clone, Copy, Debug)]
struct DelTri {
    v: [usize; 3],
    circle: Circle,
}

impl DelTri {
    /// The triangle `v` of `pts`; `None` when degenerate.
    fn new(pts: &[[f64; 2]], v: [usize; 3]) -> Option<Self> {
        let circle = Circle::through(pts[v[0]], pts[v[1]], pts[v[2]])?;
        Some(Self { v, circle })
    }
}

/// 2D Delaunay triangulation (Bowyer-Watson) of `pts`; exact duplicates are skipped and
/// co-circular ties are broken arbitrarily. Corner indices refer to `pts`.
fn delaunay(pts: &[[f64; 2]]) -> Vec<[usize; 3]> {
    let n = pts.len();
    let mut all = pts.to_vec();
    all.extend(super_triangle(pts));
    let mut tris: Vec<DelTri> = DelTri::new(&all, [n, n + 1, n + 2]).into_iter().collect();
    for i in 0..n {
        if !pts[..i].contains(&pts[i]) {
            insert_point(&all, &mut tris, i);
        }
    }
    tris.into_iter()
        .map(|t| t.v)
        .filter(|v| v.iter().all(|&k| k < n))
        .collect()
}

/// Three points enclosing `pts` far away (a triangle about 1,000 times their box), so that
/// even hull triangles with a large circumradius come out before the sliver filter.
fn super_triangle(pts: &[[f64; 2]]) -> [[f64; 2]; 3] {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in pts {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    let c = [0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])];
    let d = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1.0) * 1000.0;
    [
        [c[0] - 2.0 * d, c[1] - d],
        [c[0] + 2.0 * d, c[1] - d],
        [c[0], c[1] + 2.0 * d],
    ]
}

/// Bowyer-Watson step: removes the triangles whose circumcircle holds point `i` and fans the
/// cavity's boundary to it.
fn insert_point(all: &[[f64; 2]], tris: &mut Vec<DelTri>, i: usize) {
    let p = all[i];
    let (bad, good): (Vec<DelTri>, Vec<DelTri>) =
        tris.drain(..).partition(|t| t.circle.contains(p));
    *tris = good;
    for [a, b] in cavity_boundary(&bad) {
        tris.extend(DelTri::new(all, [a, b, i]));
    }
}

/// The edges that belong to exactly one of `bad`.
fn cavity_boundary(bad: &[DelTri]) -> Vec<[usize; 2]> {
    let edges: Vec<[usize; 2]> = bad
        .iter()
        .flat_map(|t| (0..3).map(move |k| [t.v[k], t.v[(k + 1) % 3]]))
        .collect();
    let key = |e: &[usize; 2]| [e[0].min(e[1]), e[0].max(e[1])];
    edges
        .iter()
        .filter(|e| edges.iter().filter(|o| key(o) == key(e)).count() == 1)
        .copied()
        .collect()
}

/// A surface through 68 (or any number of) 3D landmarks in the image frame, for the peer
/// reference row. The points are projected onto their least-squares plane (the face plane, so a
/// turned face is triangulated as if frontal and the far jaw contour stays on the border instead
/// of folding over the cheek), triangulated there by 2D Delaunay (Bowyer-Watson), and the hull
/// slivers dropped (circumradius over [`SLIVER_RATIO`] times the diagonal of the projected box).
/// z is interpolated linearly over each triangle (no smoothing subdivision); the vertices are
/// the input points unchanged, in order. Probe the result with [`DepthProbe`], which takes the
/// front-most of overlapping parts.
#[must_use]
pub fn mesh_from_points_68(points: &[[f32; 3]]) -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
    let uv = plane_coords(points);
    let (lo, hi) = bbox_xy(uv.iter().map(|p| [p[0] as f32, p[1] as f32]));
    let diagonal = f64::from((hi[0] - lo[0]).hypot(hi[1] - lo[1]));
    let triangles = drop_slivers(&uv, delaunay(&uv), SLIVER_RATIO * diagonal)
        .into_iter()
        .map(|v| v.map(|k| k as u32))
        .collect();
    (points.to_vec(), triangles)
}

/// Coordinates of `points` in their least-squares plane: along the image x axis projected onto
/// the plane, and along the plane normal crossed with that.
fn plane_coords(points: &[[f32; 3]]) -> Vec<[f64; 2]> {
    let p: Vec<[f64; 3]> = points.iter().map(|q| q.map(f64::from)).collect();
    let n = plane_normal(&p);
    let u = project_out([1.0, 0.0, 0.0], n).or_else(|| project_out([0.0, 1.0, 0.0], n));
    let u = u.unwrap_or([1.0, 0.0, 0.0]);
    let v = cross(n, u);
    p.iter().map(|q| [dot(*q, u), dot(*q, v)]).collect()
}

/// `a` without its component along unit `n`, normalised; `None` when (nearly) parallel.
fn project_out(a: [f64; 3], n: [f64; 3]) -> Option<[f64; 3]> {
    let d = dot(a, n);
    let r = [a[0] - d * n[0], a[1] - d * n[1], a[2] - d * n[2]];
    let len = dot(r, r).sqrt();
    (len > 1e-6).then(|| r.map(|c| c / len))
}

/// Dot product.
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product.
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Unit normal of the least-squares plane through `p`: the eigenvector of their covariance with
/// the smallest eigenvalue; +z when `p` is empty.
fn plane_normal(p: &[[f64; 3]]) -> [f64; 3] {
    if p.is_empty() {
        return [0.0, 0.0, 1.0];
    }
    let n = p.len() as f64;
    let mean = [0, 1, 2].map(|k| p.iter().map(|q| q[k]).sum::<f64>() / n);
    let mut cov = [[0.0; 3]; 3];
    for q in p {
        let d = [q[0] - mean[0], q[1] - mean[1], q[2] - mean[2]];
        for (r, row) in cov.iter_mut().enumerate() {
            for (c, cell) in row.iter_mut().enumerate() {
                *cell += d[r] * d[c] / n;
            }
        }
    }
    let (values, vectors) = jacobi_eigen(cov);
    let k = (0..3)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(2);
    [vectors[0][k], vectors[1][k], vectors[2][k]]
}

/// Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi rotations: eigenvalues and
/// the matrix whose columns are the matching unit eigenvectors.
fn jacobi_eigen(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..32 {
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() <= 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let c = 1.0 / (t * t + 1.0).sqrt();
            let mut j = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
            (j[p][p], j[q][q], j[p][q], j[q][p]) = (c, c, t * c, -t * c);
            a = mat_mul(mat_mul(transpose(j), a), j);
            v = mat_mul(v, j);
        }
    }
    ([a[0][0], a[1][1], a[2][2]], v)
}

/// 3x3 matrix product.
fn mat_mul(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

/// 3x3 transpose.
fn transpose(a: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    [0, 1, 2].map(|r| [0, 1, 2].map(|c| a[c][r]))
}

/// The triangles of `tris` (indices into `xy`) whose circumradius is at most `limit`.
fn drop_slivers(xy: &[[f64; 2]], tris: Vec<[usize; 3]>, limit: f64) -> Vec<[usize; 3]> {
    tris.into_iter()
        .filter(|v| {
            Circle::through(xy[v[0]], xy[v[1]], xy[v[2]]).is_some_and(|c| c.r2.sqrt() <= limit)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test layout's box is [0, 120] x [0, 100].
    fn norm() -> f32 {
        (120.0f32 * 100.0).sqrt()
    }

    /// 68 x/y landmarks: the 17 jaw points on the border of [0, 120] x [0, 100] (its four
    /// corners included), inner point k at x = 10 + 2k, y = 20 + 15 (k mod 5).
    fn layout() -> Vec<[f32; 2]> {
        let corners = [[0.0, 0.0], [120.0, 0.0], [0.0, 100.0], [120.0, 100.0]];
        let jaw = (4..17).map(|j| [8.0 * (j - 3) as f32, 100.0]);
        let inner = (0..51).map(|k| [10.0 + 2.0 * k as f32, 20.0 + 15.0 * (k % 5) as f32]);
        corners.into_iter().chain(jaw).chain(inner).collect()
    }

    fn lift(xy: &[[f32; 2]], f: impl Fn(f32, f32) -> f32) -> Vec<[f32; 3]> {
        xy.iter().map(|p| [p[0], p[1], f(p[0], p[1])]).collect()
    }

    /// z = f(x, y) sampled on an (n + 1) x (n + 1) grid over `x` x `y`, quads split in two.
    fn grid_mesh(f: impl Fn(f32, f32) -> f32, x: [f32; 2], y: [f32; 2], n: usize) -> DepthProbe {
        let at = |i: usize, range: [f32; 2]| range[0] + (range[1] - range[0]) * i as f32 / n as f32;
        let mut pos = Vec::new();
        for j in 0..=n {
            for i in 0..=n {
                let (px, py) = (at(i, x), at(j, y));
                pos.push([px, py, f(px, py)]);
            }
        }
        let id = |i: usize, j: usize| (j * (n + 1) + i) as u32;
        let mut tris = Vec::new();
        for j in 0..n {
            for i in 0..n {
                tris.push([id(i, j), id(i + 1, j), id(i + 1, j + 1)]);
                tris.push([id(i, j), id(i, j + 1), id(i + 1, j + 1)]);
            }
        }
        DepthProbe::new(&pos, &tris)
    }

    fn full_plane(f: impl Fn(f32, f32) -> f32) -> DepthProbe {
        grid_mesh(f, [0.0, 120.0], [0.0, 100.0], 24)
    }

    /// Mean |v - median(v)| computed independently of the module's helpers (odd count).
    fn mad_odd(values: &[f32]) -> f32 {
        let mut v = values.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let m = v[v.len() / 2];
        v.iter().map(|x| (x - m).abs()).sum::<f32>() / v.len() as f32
    }

    #[test]
    fn box_norm_is_sqrt_of_box_area() {
        let truth = lift(&layout(), |_, _| 0.0);
        assert!((box_norm(&truth) - norm()).abs() < 1e-4);
        assert_eq!(box_norm(&[]), 0.0);
    }

    #[test]
    fn flat_mesh_and_flat_landmarks_give_zero_with_full_coverage() {
        let probe = full_plane(|_, _| 5.0);
        let truth = lift(&layout(), |_, _| -33.0);
        let s = depth51(&probe, &truth).unwrap();
        assert!(s.mean_pct.abs() < 1e-5, "{s:?}");
        assert_eq!((s.covered, s.total), (51, 51));
    }

    #[test]
    fn flat_mesh_against_tilted_landmarks_gives_the_analytic_value() {
        // Residual 5 - 0.5 x with x = 10 + 2k: |r - median| = |k - 25|, whose mean over
        // k = 0..50 is 2 (1 + ... + 25) / 51 = 650 / 51 pixels.
        let expected = 650.0 / 51.0 / norm() * 100.0;
        let probe = full_plane(|_, _| 5.0);
        let truth = lift(&layout(), |x, _| 0.5 * x);
        let s = depth51(&probe, &truth).unwrap();
        assert!(
            (s.mean_pct - expected).abs() < 1e-4,
            "{} vs {expected}",
            s.mean_pct
        );
        let flat = flat51(&truth).unwrap();
        assert!((flat - expected).abs() < 1e-4, "{flat} vs {expected}");
    }

    #[test]
    fn tilted_mesh_against_offset_tilted_landmarks_gives_zero() {
        let probe = full_plane(|x, y| 0.5 * x + 0.3 * y + 7.0);
        let truth = lift(&layout(), |x, y| 0.5 * x + 0.3 * y - 40.0);
        let s = depth51(&probe, &truth).unwrap();
        assert!(s.mean_pct.abs() < 1e-4, "{s:?}");
        assert_eq!(s.covered, 51);
    }

    #[test]
    fn sphere_mesh_scores_its_own_points_near_zero_and_a_flattened_copy_as_expected() {
        let (r, c) = (90.0f32, 10.0f32);
        let h = move |x: f32, y: f32| (r * r - (x - 60.0).powi(2) - (y - 50.0).powi(2)).sqrt();
        let probe = grid_mesh(move |x, y| h(x, y) + c, [0.0, 120.0], [0.0, 100.0], 150);
        let on_sphere = lift(&layout(), move |x, y| h(x, y) + c);
        let s = depth51(&probe, &on_sphere).unwrap();
        assert!(s.mean_pct < 0.01, "{s:?}");
        // Flattened about z = c by half: residual = h / 2, so the score is mad(h) / 2.
        let flattened = lift(&layout(), move |x, y| c + 0.5 * h(x, y));
        let inner_h: Vec<f32> = layout()[17..].iter().map(|p| h(p[0], p[1])).collect();
        let expected = 0.5 * mad_odd(&inner_h) / norm() * 100.0;
        let s = depth51(&probe, &flattened).unwrap();
        assert!(expected > 1.0, "{expected}");
        assert!(
            (s.mean_pct - expected).abs() < 0.01,
            "{} vs {expected}",
            s.mean_pct
        );
    }

    #[test]
    fn points_outside_the_mesh_reduce_coverage() {
        let truth = lift(&layout(), |_, _| 1.0);
        // Inner x = 10 + 2k <= 60 for k <= 25 (k = 25 lies on the mesh's border edge).
        let half = grid_mesh(|_, _| 1.0, [0.0, 60.0], [0.0, 100.0], 10);
        let s = depth51(&half, &truth).unwrap();
        assert_eq!((s.covered, s.total), (26, 51));
        let sliver = grid_mesh(|_, _| 1.0, [0.0, 20.0], [0.0, 100.0], 4);
        assert!(
            depth51(&sliver, &truth).is_none(),
            "6 covered < MIN_COVERED"
        );
    }

    #[test]
    fn nme_on_shifted_points_is_the_shift_over_the_norm() {
        let truth = lift(&layout(), |x, y| 0.2 * x - 0.1 * y);
        let pred2: Vec<[f32; 2]> = truth.iter().map(|t| [t[0] + 3.0, t[1] - 4.0]).collect();
        let e2 = nme_2d(&pred2, &truth).unwrap();
        assert!((e2 - 5.0 / norm() * 100.0).abs() < 1e-4, "{e2}");
        let pred3: Vec<[f32; 3]> = truth
            .iter()
            .map(|t| [t[0] + 3.0, t[1] - 4.0, t[2] + 100.0])
            .collect();
        let e3 = nme_3d(&pred3, &truth).unwrap();
        assert!((e3 - 5.0 / norm() * 100.0).abs() < 1e-4, "{e3}");
        assert!(nme_2d(&pred2[1..], &truth).is_none());
        assert!(nme_3d(&pred3[1..], &truth).is_none());
    }

    /// Moving only the jaw leaves the inner-51 NME at zero; moving every point gives the
    /// shift over the 68-point norm, the same as the full NME.
    #[test]
    fn inner_nme_leaves_the_jaw_out_and_keeps_the_norm() {
        let truth = lift(&layout(), |x, y| 0.2 * x - 0.1 * y);
        assert_eq!(truth.len(), 68);
        let shifted = |from: usize| -> Vec<[f32; 2]> {
            (truth.iter().enumerate())
                .map(|(i, t)| {
                    let d = if i >= from { [3.0, -4.0] } else { [0.0, 0.0] };
                    [t[0] + d[0], t[1] + d[1]]
                })
                .collect()
        };
        let jaw_only: Vec<[f32; 2]> = (truth.iter().enumerate())
            .map(|(i, t)| [t[0] + if i < 17 { 9.0 } else { 0.0 }, t[1]])
            .collect();
        assert!(nme_2d_inner(&jaw_only, &truth).unwrap().abs() < 1e-6);
        assert!(nme_2d(&jaw_only, &truth).unwrap() > 1.0);
        let all = nme_2d_inner(&shifted(0), &truth).unwrap();
        assert!((all - 5.0 / norm() * 100.0).abs() < 1e-4, "{all}");
        assert!(nme_2d_inner(&shifted(0)[1..], &truth).is_none());
    }

    #[test]
    fn nme_3d_removes_the_median_z_offset_not_the_mean() {
        let truth = lift(&layout(), |x, _| x);
        // 34 points at +106, 34 at +94: median 100 (the mean of 106 and 94), |dz - 100| = 6.
        let pred: Vec<[f32; 3]> = truth
            .iter()
            .enumerate()
            .map(|(i, t)| [t[0], t[1], t[2] + if i % 2 == 0 { 106.0 } else { 94.0 }])
            .collect();
        let e = nme_3d(&pred, &truth).unwrap();
        assert!((e - 6.0 / norm() * 100.0).abs() < 1e-4, "{e}");
    }

    #[test]
    fn front_z_picks_the_nearer_of_two_stacked_surfaces_in_either_winding() {
        let pos = [
            [0.0, 0.0, 0.0],
            [10.0, 0.0, 0.0],
            [0.0, 10.0, 0.0],
            [0.0, 0.0, 7.0],
            [10.0, 0.0, 7.0],
            [0.0, 10.0, 7.0],
        ];
        for tris in [[[0, 1, 2], [3, 4, 5]], [[5, 4, 3], [2, 1, 0]]] {
            let probe = DepthProbe::new(&pos, &tris);
            assert_eq!(probe.front_z(2.0, 3.0), Some(7.0));
            assert_eq!(probe.front_z(5.0, 5.0), Some(7.0), "on the hypotenuse");
            assert_eq!(probe.front_z(0.0, 0.0), Some(7.0), "on a corner");
            assert_eq!(probe.front_z(6.0, 6.0), None);
            assert_eq!(probe.front_z(-0.1, 3.0), None);
        }
    }

    #[test]
    fn front_z_interpolates_and_skips_bad_triangles() {
        let pos = [
            [0.0, 0.0, 0.0],
            [10.0, 0.0, 10.0],
            [0.0, 10.0, 20.0],
            [5.0, 5.0, 99.0],
        ];
        let probe = DepthProbe::new(&pos, &[[0, 1, 2], [0, 3, 0], [0, 1, 9]]);
        assert_eq!(probe.triangle_count(), 1);
        let z = probe.front_z(2.0, 3.0).unwrap();
        assert!((z - (2.0 + 6.0)).abs() < 1e-5, "{z}");
        let line = DepthProbe::new(&pos, &[[0, 3, 3]]);
        assert_eq!(line.triangle_count(), 0);
        assert_eq!(line.front_z(1.0, 1.0), None);
    }

    /// Doubled absolute x/y area of triangle `t` of `pos`.
    fn area2(pos: &[[f32; 3]], t: &[u32; 3]) -> f64 {
        let [a, b, c] = t.map(|i| pos[i as usize].map(f64::from));
        ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])).abs()
    }

    /// Layout with the inner points jittered (no co-circular ties).
    fn jittered() -> Vec<[f32; 2]> {
        let mut xy = layout();
        for (k, p) in xy.iter_mut().enumerate().skip(17) {
            p[0] += ((k * 37) % 11) as f32 * 0.13;
            p[1] += ((k * 53) % 7) as f32 * 0.29;
        }
        xy
    }

    #[test]
    fn delaunay_tiles_the_hull_with_empty_circumcircles() {
        let pts = lift(&jittered(), |_, _| 0.0);
        let (pos, tris) = mesh_from_points_68(&pts);
        assert_eq!(pos, pts);
        let total: f64 = tris.iter().map(|t| area2(&pos, t)).sum::<f64>() / 2.0;
        assert!((total - 12000.0).abs() < 1e-6 * 12000.0, "area {total}");
        for t in &tris {
            let [a, b, c] =
                t.map(|i| [f64::from(pos[i as usize][0]), f64::from(pos[i as usize][1])]);
            let circle = Circle::through(a, b, c).unwrap();
            let d = circle.r2.sqrt();
            for p in &pos {
                let q = [f64::from(p[0]), f64::from(p[1])];
                let inside = ((q[0] - circle.c[0]).powi(2) + (q[1] - circle.c[1]).powi(2)).sqrt();
                assert!(inside >= d * (1.0 - 1e-6), "{t:?} holds {p:?}");
            }
        }
    }

    #[test]
    fn mesh_from_points_reproduces_a_plane() {
        let plane = |x: f32, y: f32| 0.25 * x - 0.5 * y + 3.0;
        let pts = lift(&jittered(), plane);
        let (pos, tris) = mesh_from_points_68(&pts);
        let probe = DepthProbe::new(&pos, &tris);
        for p in &pts[17..] {
            let (x, y) = (p[0] + 0.05, p[1] + 0.05);
            let z = probe.front_z(x, y).unwrap();
            assert!((z - plane(x, y)).abs() < 1e-3, "{z} at {x}, {y}");
        }
    }

    #[test]
    fn slivers_over_the_limit_are_dropped() {
        // A fat triangle (circumradius about 7) and a sliver with sagitta 0.1 over a chord of
        // 100 (circumradius 12,500).
        let xy = [
            [0.0, 0.0],
            [10.0, 0.0],
            [5.0, 8.0],
            [50.0, -0.1],
            [100.0, 0.0],
        ];
        let kept = drop_slivers(&xy, vec![[0, 1, 2], [0, 3, 4]], 300.0);
        assert_eq!(kept, vec![[0, 1, 2]]);
        let all = drop_slivers(&xy, vec![[0, 1, 2], [0, 3, 4]], 13000.0);
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn flat51_covered_uses_only_the_covered_landmarks() {
        // Covered k = 0..=25, z = 0.5 (10 + 2k): median at k = 12.5 and mean |k - 12.5| =
        // 169 / 26 = 6.5, so the mean deviation is 6.5 pixels.
        let truth = lift(&layout(), |x, _| 0.5 * x);
        let half = grid_mesh(|_, _| 1.0, [0.0, 60.0], [0.0, 100.0], 10);
        let f = flat51_covered(&half, &truth).unwrap();
        assert!((f - 6.5 / norm() * 100.0).abs() < 1e-4, "{f}");
    }

    #[test]
    fn jacobi_eigen_diagonalises_a_symmetric_matrix() {
        let a = [[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 1.0]];
        let (values, v) = jacobi_eigen(a);
        for k in 0..3 {
            let col = [v[0][k], v[1][k], v[2][k]];
            let av = [0, 1, 2].map(|r| dot(a[r], col));
            for r in 0..3 {
                assert!((av[r] - values[k] * col[r]).abs() < 1e-9, "{values:?}");
            }
            assert!((dot(col, col) - 1.0).abs() < 1e-9);
        }
    }

    /// A sphere cap (radius 100, polar angle up to 75 degrees) turned by `yaw` degrees about
    /// the y axis, nearer = larger z, centred at (200, 200, 0).
    fn turned_cap(yaw: f32) -> Vec<[f32; 3]> {
        let (r, (sy, cy)) = (100.0f32, yaw.to_radians().sin_cos());
        let mut pts = vec![[200.0 + r * sy, 200.0, r * cy]];
        for ring in 1..=5 {
            let polar = (15.0 * ring as f32).to_radians();
            for k in 0..(6 * ring) {
                let az = (360.0 / (6 * ring) as f32 * k as f32).to_radians();
                let (x, y, z) = (
                    r * polar.sin() * az.cos(),
                    r * polar.sin() * az.sin(),
                    r * polar.cos(),
                );
                pts.push([200.0 + x * cy + z * sy, 200.0 + y, z * cy - x * sy]);
            }
        }
        pts
    }

    #[test]
    fn mesh_from_points_keeps_a_turned_surface_in_front() {
        // Turned by 40 degrees, the far rim projects over the visible cap; a triangulation of
        // the image x/y would pull the surface down to it.
        let pts = turned_cap(40.0);
        let (pos, tris) = mesh_from_points_68(&pts);
        let probe = DepthProbe::new(&pos, &tris);
        let sphere_z = |x: f32, y: f32| (1e4 - (x - 200.0).powi(2) - (y - 200.0).powi(2)).sqrt();
        let mut worst = 0.0f32;
        for a in &pts[..19] {
            for b in &pts[..19] {
                let (x, y) = (0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]));
                if let Some(z) = probe.front_z(x, y) {
                    worst = worst.max((z - sphere_z(x, y)).abs());
                }
            }
        }
        // Chords of 15-degree steps sag by at most 100 (1 - cos 15) = 3.4 pixels.
        assert!(worst < 3.5, "worst depth error {worst}");
    }
}
