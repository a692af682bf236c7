//! Surface distances and rigid alignment for reconstruction metrics: an R*-tree index over a
//! mesh answering "closest point on the surface", Horn's closed-form absolute orientation
//! (Horn 1987, unit quaternions; the 4x4 eigenproblem solved by Jacobi rotations), and a trimmed
//! point-to-surface ICP built from the two.

use crate::pipeline::mesh::Mesh;
use rstar::RTree;
use rstar::primitives::GeomWithData;

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

/// Closest point to `p` on triangle `(a, b, c)` (Ericson, "Real-Time Collision Detection" 5.1.5).
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

/// Closest-point queries against a mesh: the nearest vertex from an R*-tree (`rstar`), then the
/// closest point on the triangles around it (exact for the fine, even meshes of isosurfaces).
/// Points far from the surface cost no more than near ones.
pub struct SurfaceIndex<'a> {
    mesh: &'a Mesh,
    around: Vec<Vec<u32>>,
    tree: RTree<GeomWithData<V3, u32>>,
}

impl<'a> SurfaceIndex<'a> {
    /// Indexes `mesh`.
    #[must_use]
    pub fn new(mesh: &'a Mesh) -> Self {
        let mut around = vec![Vec::new(); mesh.positions.len()];
        for (t, tri) in mesh.triangles.iter().enumerate() {
            for &v in tri {
                around[v as usize].push(u32::try_from(t).unwrap_or(u32::MAX));
            }
        }
        let points = mesh
            .positions
            .iter()
            .enumerate()
            .map(|(i, &p)| GeomWithData::new(p, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Self {
            mesh,
            around,
            tree: RTree::bulk_load(points),
        }
    }

    fn nearest_vertex(&self, p: V3) -> Option<u32> {
        self.tree.nearest_neighbor(&p).map(|g| g.data)
    }

    /// The closest surface point to `p`, `None` for an empty mesh.
    #[must_use]
    pub fn closest(&self, p: V3) -> Option<V3> {
        let v = self.nearest_vertex(p)?;
        let pos = &self.mesh.positions;
        let mut best = (
            dot(sub(pos[v as usize], p), sub(pos[v as usize], p)),
            pos[v as usize],
        );
        for &t in &self.around[v as usize] {
            let [a, b, c] = self.mesh.triangles[t as usize].map(|i| pos[i as usize]);
            let q = closest_on_triangle(p, a, b, c);
            let d = sub(q, p);
            if dot(d, d) < best.0 {
                best = (dot(d, d), q);
            }
        }
        Some(best.1)
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
    /// The identity.
    pub const IDENTITY: Self = Self {
        r: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        t: [0.0; 3],
    };

    /// Applies the transform.
    #[must_use]
    pub fn apply(&self, p: V3) -> V3 {
        let r = &self.r;
        [
            dot(r[0], p) + self.t[0],
            dot(r[1], p) + self.t[1],
            dot(r[2], p) + self.t[2],
        ]
    }
}

/// The rigid transform minimising `sum |R src_i + t - dst_i|^2` (Horn's quaternion method).
#[must_use]
pub fn fit_rigid(src: &[V3], dst: &[V3]) -> Rigid {
    let n = src.len().min(dst.len());
    if n == 0 {
        return Rigid::IDENTITY;
    }
    let mean = |v: &[V3]| {
        let s = v[..n].iter().fold([0f64; 3], |a, p| {
            [
                a[0] + f64::from(p[0]),
                a[1] + f64::from(p[1]),
                a[2] + f64::from(p[2]),
            ]
        });
        s.map(|c| c / n as f64)
    };
    let (cs, cd) = (mean(src), mean(dst));
    let mut m = [[0f64; 3]; 3];
    for (p, q) in src[..n].iter().zip(&dst[..n]) {
        for a in 0..3 {
            for b in 0..3 {
                m[a][b] += (f64::from(p[a]) - cs[a]) * (f64::from(q[b]) - cd[b]);
            }
        }
    }
    let [[sxx, sxy, sxz], [syx, syy, syz], [szx, szy, szz]] = m;
    let k = [
        [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
        [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
        [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
        [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
    ];
    let [w, x, y, z] = top_eigenvector(k);
    let r = [
        [
            w * w + x * x - y * y - z * z,
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y),
        ],
        [
            2.0 * (x * y + w * z),
            w * w - x * x + y * y - z * z,
            2.0 * (y * z - w * x),
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            w * w - x * x - y * y + z * z,
        ],
    ];
    let rc = [0, 1, 2].map(|i| r[i][0] * cs[0] + r[i][1] * cs[1] + r[i][2] * cs[2]);
    Rigid {
        r: r.map(|row| row.map(|v| v as f32)),
        t: [0, 1, 2].map(|i| (cd[i] - rc[i]) as f32),
    }
}

/// Unit eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi).
#[allow(clippy::needless_range_loop)] // Index form mirrors the rotation formulas.
fn top_eigenvector(mut a: [[f64; 4]; 4]) -> [f64; 4] {
    let mut v = [[0f64; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _ in 0..50 {
        let off: f64 = (0..4)
            .flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-24 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                if a[p][q].abs() < 1e-30 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..4 {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in &mut v {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let best = (0..4).fold(0, |b, i| if a[i][i] > a[b][b] { i } else { b });
    let e = [v[0][best], v[1][best], v[2][best], v[3][best]];
    let norm = e.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-30);
    e.map(|x| x / norm)
}

/// Trimmed ICP of `points` onto `index`'s surface, starting from the identity: each iteration
/// pairs every point with its closest surface point and fits [`fit_rigid`] to the best
/// `keep` fraction of pairs. Returns the transform that moves `points` onto the surface.
#[must_use]
pub fn icp(points: &[V3], index: &SurfaceIndex, iterations: usize, keep: f32) -> Rigid {
    let mut xf = Rigid::IDENTITY;
    for _ in 0..iterations {
        let moved: Vec<V3> = points.iter().map(|&p| xf.apply(p)).collect();
        let mut pairs: Vec<(f32, V3, V3)> = moved
            .iter()
            .zip(points)
            .filter_map(|(&m, &p)| index.closest(m).map(|q| (dot(sub(q, m), sub(q, m)), p, q)))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = ((pairs.len() as f32 * keep) as usize)
            .max(3)
            .min(pairs.len());
        let (src, dst): (Vec<V3>, Vec<V3>) = pairs[..n].iter().map(|&(_, p, q)| (p, q)).unzip();
        xf = fit_rigid(&src, &dst);
    }
    xf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horn_recovers_a_known_rotation() {
        let (a, c) = (0.4f32.sin(), 0.4f32.cos());
        let truth = Rigid {
            r: [[c, 0.0, a], [0.0, 1.0, 0.0], [-a, 0.0, c]],
            t: [3.0, -2.0, 1.0],
        };
        let src: Vec<V3> = (0..20)
            .map(|i| {
                let f = i as f32;
                [f.sin() * 10.0, (f * 0.7).cos() * 5.0, f * 0.3]
            })
            .collect();
        let dst: Vec<V3> = src.iter().map(|&p| truth.apply(p)).collect();
        let got = fit_rigid(&src, &dst);
        for (p, q) in src.iter().zip(&dst) {
            let e = sub(got.apply(*p), *q);
            assert!(dot(e, e).sqrt() < 1e-3, "{got:?}");
        }
    }

    #[test]
    fn closest_point_on_a_cube() {
        let cube = crate::pipeline::mesh::tests::cube();
        let idx = SurfaceIndex::new(&cube);
        let q = idx.closest([0.5, 0.5, 3.0]).unwrap();
        assert!(
            (q[2] - 1.0).abs() < 1e-6 && (q[0] - 0.5).abs() < 1e-6,
            "{q:?}"
        );
        // ICP of the cube's vertices, shifted off it, brings them closer to the surface.
        let pts: Vec<V3> = cube
            .positions
            .iter()
            .map(|p| [p[0] + 0.05, p[1], p[2] - 0.03])
            .collect();
        let mean_dist = |xf: &Rigid| {
            pts.iter()
                .map(|&p| {
                    let m = xf.apply(p);
                    let d = sub(idx.closest(m).unwrap(), m);
                    dot(d, d).sqrt()
                })
                .sum::<f32>()
                / 8.0
        };
        let before = mean_dist(&Rigid::IDENTITY);
        let after = mean_dist(&icp(&pts, &idx, 20, 1.0));
        assert!(after < 0.5 * before, "{before} -> {after}");
    }
}
