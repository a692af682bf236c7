//! Mesh error against ground truth (DESIGN.md section 6): the distance from each ground-truth
//! vertex to the nearest point of the predicted surface, after a rigid alignment, divided by the
//! outer interocular distance (68-point landmarks 36 and 45), averaged: the NME.
//!
//! The alignment is a trimmed ICP: each round pairs every ground-truth point with its closest
//! point on the predicted triangles, keeps the closest `trim` fraction of the pairs (so parts the
//! prediction does not cover, e.g. the far side of a turned face, do not drag it) and solves the
//! best rotation and translation in closed form (Horn 1987, unit quaternions). Closest points use
//! a uniform grid of triangles, searched ring by ring.

use crate::pipeline::mesh::Mesh;
use std::collections::HashMap;

type V3 = [f32; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn add_scaled(a: V3, b: V3, s: f32) -> V3 {
    [a[0] + b[0] * s, a[1] + b[1] * s, a[2] + b[2] * s]
}

/// The point of triangle `(a, b, c)` closest to `p` (Ericson, "Real-Time Collision Detection",
/// 5.1.5: Voronoi regions of the vertices, then the edges, then the face).
#[must_use]
pub fn closest_on_triangle(p: V3, a: V3, b: V3, c: V3) -> V3 {
    let (ab, ac, ap) = (sub(b, a), sub(c, a), sub(p, a));
    let (d1, d2) = (dot(ab, ap), dot(ac, ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return a;
    }
    let bp = sub(p, b);
    let (d3, d4) = (dot(ab, bp), dot(ac, bp));
    if d3 >= 0.0 && d4 <= d3 {
        return b;
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return add_scaled(a, ab, d1 / (d1 - d3));
    }
    let cp = sub(p, c);
    let (d5, d6) = (dot(ab, cp), dot(ac, cp));
    if d6 >= 0.0 && d5 <= d6 {
        return c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return add_scaled(a, ac, d2 / (d2 - d6));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return add_scaled(b, sub(c, b), (d4 - d3) / ((d4 - d3) + (d5 - d6)));
    }
    let denom = 1.0 / (va + vb + vc);
    add_scaled(add_scaled(a, ab, vb * denom), ac, vc * denom)
}

/// Closest-point queries on a triangle mesh through a uniform grid.
#[derive(Debug)]
pub struct SurfaceIndex<'m> {
    mesh: &'m Mesh,
    cell: f32,
    cells: HashMap<[i32; 3], Vec<u32>>,
    lo: [i32; 3],
    hi: [i32; 3],
}

impl<'m> SurfaceIndex<'m> {
    /// Indexes `mesh` with cubic cells of side `cell` (mesh units).
    #[must_use]
    pub fn new(mesh: &'m Mesh, cell: f32) -> Self {
        let key = |p: V3| p.map(|v| (v / cell).floor() as i32);
        let mut cells: HashMap<[i32; 3], Vec<u32>> = HashMap::new();
        let (mut lo, mut hi) = ([i32::MAX; 3], [i32::MIN; 3]);
        for (t, tri) in mesh.triangles.iter().enumerate() {
            let ps = tri.map(|i| mesh.positions[i as usize]);
            let a = key(std::array::from_fn(|k| {
                ps.iter().map(|p| p[k]).fold(f32::MAX, f32::min)
            }));
            let b = key(std::array::from_fn(|k| {
                ps.iter().map(|p| p[k]).fold(f32::MIN, f32::max)
            }));
            for k in 0..3 {
                lo[k] = lo[k].min(a[k]);
                hi[k] = hi[k].max(b[k]);
            }
            for x in a[0]..=b[0] {
                for y in a[1]..=b[1] {
                    for z in a[2]..=b[2] {
                        cells.entry([x, y, z]).or_default().push(t as u32);
                    }
                }
            }
        }
        Self {
            mesh,
            cell,
            cells,
            lo,
            hi,
        }
    }

    /// The closest surface point to `p` and its distance; `None` for a mesh without triangles.
    #[must_use]
    pub fn closest(&self, p: V3) -> Option<(V3, f32)> {
        let c = p.map(|v| (v / self.cell).floor() as i32);
        // Rings beyond this reach cover no cell of the mesh.
        let reach = (0..3)
            .map(|k| (c[k] - self.lo[k]).abs().max((self.hi[k] - c[k]).abs()))
            .max()?;
        let mut best: Option<(V3, f32)> = None;
        for ring in 0..=reach {
            self.visit_ring(c, ring, p, &mut best);
            if best.is_some_and(|(_, d)| d <= ring as f32 * self.cell) {
                break;
            }
        }
        best
    }

    fn visit_ring(&self, c: [i32; 3], ring: i32, p: V3, best: &mut Option<(V3, f32)>) {
        for x in -ring..=ring {
            for y in -ring..=ring {
                for z in -ring..=ring {
                    if x.abs().max(y.abs()).max(z.abs()) != ring {
                        continue;
                    }
                    let Some(tris) = self.cells.get(&[c[0] + x, c[1] + y, c[2] + z]) else {
                        continue;
                    };
                    for &t in tris {
                        let [a, b, cc] = self.mesh.triangles[t as usize]
                            .map(|i| self.mesh.positions[i as usize]);
                        let q = closest_on_triangle(p, a, b, cc);
                        let d = dot(sub(p, q), sub(p, q)).sqrt();
                        if best.is_none_or(|(_, bd)| d < bd) {
                            *best = Some((q, d));
                        }
                    }
                }
            }
        }
    }
}

/// A rigid transform `p -> R p + t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rigid {
    /// Rotation, row-major.
    pub r: [[f32; 3]; 3],
    /// Translation.
    pub t: V3,
}

impl Rigid {
    /// Applies the transform.
    #[must_use]
    pub fn apply(&self, p: V3) -> V3 {
        let r = &self.r;
        std::array::from_fn(|i| r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2] + self.t[i])
    }
}

/// The rotation + translation that best maps `src` onto `dst` (least squares; Horn's
/// quaternion method with a Jacobi eigen-solver). Identity for fewer than 3 pairs.
#[must_use]
pub fn best_rigid(src: &[V3], dst: &[V3]) -> Rigid {
    let n = src.len().min(dst.len());
    let mut out = Rigid {
        r: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        t: [0.0; 3],
    };
    if n < 3 {
        return out;
    }
    let mean = |ps: &[V3]| -> [f64; 3] {
        std::array::from_fn(|k| ps[..n].iter().map(|p| f64::from(p[k])).sum::<f64>() / n as f64)
    };
    let (ms, md) = (mean(src), mean(dst));
    let mut s = [[0.0f64; 3]; 3];
    for (a, b) in src.iter().zip(dst).take(n) {
        for i in 0..3 {
            for j in 0..3 {
                s[i][j] += (f64::from(a[i]) - ms[i]) * (f64::from(b[j]) - md[j]);
            }
        }
    }
    let q = super::eigen::max_eigenvector(&horn_matrix(&s));
    let (w, x, y, z) = (q[0], q[1], q[2], q[3]);
    let r = [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ];
    out.r = r.map(|row| row.map(|v| v as f32));
    out.t = std::array::from_fn(|i| {
        (md[i] - (r[i][0] * ms[0] + r[i][1] * ms[1] + r[i][2] * ms[2])) as f32
    });
    out
}

/// Horn's symmetric 4x4 matrix of the cross-covariance `s` (`s[i][j] = sum src_i dst_j`).
fn horn_matrix(s: &[[f64; 3]; 3]) -> [[f64; 4]; 4] {
    let [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = *s;
    [
        [xx + yy + zz, yz - zy, zx - xz, xy - yx],
        [yz - zy, xx - yy - zz, xy + yx, zx + xz],
        [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
        [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
    ]
}

/// Distances (mesh units) from `truth` to the surface of `pred` after a trimmed-ICP rigid
/// alignment of `iterations` rounds keeping the closest `trim` fraction of pairs. Empty when
/// `pred` has no triangles.
#[must_use]
pub fn aligned_distances(truth: &[V3], pred: &Mesh, iterations: usize, trim: f32) -> Vec<f32> {
    let index = SurfaceIndex::new(pred, 8.0);
    let mut pts = truth.to_vec();
    let pairs = |pts: &[V3]| -> Option<Vec<(V3, V3, f32)>> {
        pts.iter()
            .map(|&p| index.closest(p).map(|(q, d)| (p, q, d)))
            .collect()
    };
    for _ in 0..iterations {
        let Some(mut pr) = pairs(&pts) else {
            return Vec::new();
        };
        pr.sort_by(|a, b| a.2.total_cmp(&b.2));
        let keep = ((pr.len() as f32 * trim).ceil() as usize).clamp(1, pr.len().max(1));
        let (src, dst): (Vec<V3>, Vec<V3>) = pr[..keep].iter().map(|x| (x.0, x.1)).unzip();
        let step = best_rigid(&src, &dst);
        for p in &mut pts {
            *p = step.apply(*p);
        }
    }
    pairs(&pts).map_or_else(Vec::new, |pr| pr.iter().map(|x| x.2).collect())
}

/// Outer interocular distance: between 68-point landmarks 36 and 45 (3D).
#[must_use]
pub fn interocular(landmarks: &[V3]) -> Option<f32> {
    let (a, b) = (landmarks.get(36)?, landmarks.get(45)?);
    Some(dot(sub(*a, *b), sub(*a, *b)).sqrt())
}

/// NME: the mean of [`aligned_distances`] divided by `iod`; `None` without a surface.
#[must_use]
pub fn nme(truth: &[V3], pred: &Mesh, iod: f32) -> Option<f32> {
    let d = aligned_distances(truth, pred, 8, 0.8);
    (!d.is_empty()).then(|| d.iter().sum::<f32>() / d.len() as f32 / iod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::mesh::from_depth::{DepthMap, DepthMeshOptions};

    fn bump(side: usize) -> Mesh {
        let depth = (0..side * side)
            .map(|i| {
                let (r, c) = ((i / side) as f32 - 10.0, (i % side) as f32 - 10.0);
                10.0 * (-(r * r + c * c) / 40.0).exp()
            })
            .collect();
        let map = DepthMap {
            width: side,
            height: side,
            depth,
            mask: vec![true; side * side],
        };
        Mesh::from_depth(&map, None, DepthMeshOptions { max_edge: 100.0 })
    }

    #[test]
    fn closest_point_regions() {
        let (a, b, c) = ([0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]);
        assert_eq!(
            closest_on_triangle([0.5, 0.5, 3.0], a, b, c),
            [0.5, 0.5, 0.0]
        );
        assert_eq!(closest_on_triangle([-1.0, -1.0, 0.0], a, b, c), a);
        assert_eq!(
            closest_on_triangle([1.0, -2.0, 1.0], a, b, c),
            [1.0, 0.0, 0.0]
        );
        assert_eq!(
            closest_on_triangle([2.0, 2.0, 0.0], a, b, c),
            [1.0, 1.0, 0.0]
        );
    }

    #[test]
    fn grid_matches_brute_force() {
        let mesh = bump(21);
        let index = SurfaceIndex::new(&mesh, 3.0);
        for p in [
            [5.3, 7.1, 12.0],
            [-4.0, 30.0, 2.0],
            [10.5, 10.5, 9.0],
            [40.0, -3.0, -9.0],
        ] {
            let brute = mesh
                .triangles
                .iter()
                .map(|t| {
                    let [a, b, c] = t.map(|i| mesh.positions[i as usize]);
                    let q = closest_on_triangle(p, a, b, c);
                    dot(sub(p, q), sub(p, q)).sqrt()
                })
                .fold(f32::MAX, f32::min);
            let (_, d) = index.closest(p).unwrap();
            assert!((d - brute).abs() < 1e-4, "{p:?}: {d} vs {brute}");
        }
    }

    #[test]
    fn icp_undoes_a_rigid_motion() {
        let mesh = bump(21);
        // Ground truth = the mesh's own vertices moved by a small rotation and translation.
        let (s, c) = (0.08f32.sin(), 0.08f32.cos());
        let motion = Rigid {
            r: [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]],
            t: [1.0, -0.7, 2.0],
        };
        let truth: Vec<V3> = mesh.positions.iter().map(|&p| motion.apply(p)).collect();
        let rigid = best_rigid(&mesh.positions, &truth);
        for (a, b) in rigid.r.iter().flatten().zip(motion.r.iter().flatten()) {
            assert!((a - b).abs() < 1e-4, "{rigid:?}");
        }
        let before = aligned_distances(&truth, &mesh, 0, 1.0);
        let after = aligned_distances(&truth, &mesh, 30, 0.9);
        let mean = |d: &[f32]| d.iter().sum::<f32>() / d.len() as f32;
        assert!(mean(&before) > 0.5, "{}", mean(&before));
        assert!(mean(&after) < 0.05, "{}", mean(&after));
    }
}
