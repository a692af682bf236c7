//! `visage morphable build`: learns the morphable model of
//! [`crate::pipeline::reconstruct::morphable`] from the ICT Face Model, keeping only what is
//! learned (DESIGN.md section 4).
//!
//! 1. Embedding. Near-frontal neutral-expression faces of varied identity are rendered by the
//!    synthetic data engine (clean images, no occluders); the crate's own FaceMesh landmarks
//!    each render; each landmark is cast back onto the ICT face surface through the rasterised
//!    triangle under it (2D barycentrics in that triangle) and expressed on the *neutral*
//!    surface. The per-coordinate median over the renders is projected onto the neutral
//!    surface (closest point), as is each midpoint of a subdivided edge: every dense vertex is
//!    then an ICT triangle plus barycentrics, so any ICT shape maps to the dense topology.
//! 2. PCA. The map is linear, so the dense shapes of the synthetic data's shape distribution
//!    (identity ~ N(0, I), the engine's sparse random expressions, [`SampleParams::draw`]) are
//!    `mean + A c`; with the sampled coefficient covariance `C = L L^T`, the principal
//!    components are the left singular vectors of `A L` and the sigmas its singular values
//!    (exact, no need to form the `3V x 3V` covariance).

use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::reconstruct::landmarks::triangles as facemesh_triangles;
use crate::pipeline::reconstruct::morphable::MorphableModel;
use crate::pipeline::reconstruct::morphable::topology::{LANDMARKS, subdivide};
use crate::synth::params::{Degrade, Pose, SampleParams};
use crate::synth::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};
use crate::synth::{Engine, EngineOptions, FaceModel};
use anyhow::Context;
use image::RgbImage;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Options of [`build`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuildOptions {
    /// Frontal renders whose landmarks are cast onto the surface.
    pub renders: usize,
    /// Side of those renders, pixels.
    pub size: usize,
    /// Sampled coefficient vectors for the shape covariance.
    pub samples: usize,
    /// Principal components kept.
    pub components: usize,
    /// First sample id of the renders and draws (training range).
    pub seed: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            renders: 16,
            size: 256,
            samples: 20_000,
            components: 60,
            seed: 500_000,
        }
    }
}

/// What the build measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildReport {
    /// Renders whose landmarks were used.
    pub renders_used: usize,
    /// Median over landmarks of the median distance (cm) between one render's cast point and
    /// the final embedded point: how consistently FaceMesh lands on the same surface point.
    pub embedding_spread_cm: f32,
    /// Cumulative explained variance after each kept component (of the total shape variance).
    pub explained: Vec<f32>,
}

/// A point on the ICT surface: triangle corners and barycentrics.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SurfacePoint {
    tri: [u32; 3],
    bary: [f32; 3],
}

impl SurfacePoint {
    fn on(&self, positions: &[[f32; 3]]) -> [f32; 3] {
        std::array::from_fn(|k| {
            (0..3)
                .map(|j| self.bary[j] * positions[self.tri[j] as usize][k])
                .sum()
        })
    }
}

/// Learns the model from `ict` (see the module docs).
///
/// # Errors
/// No render gave landmarks, or numerical failure.
pub fn build(
    ict: FaceModel,
    detector: &Detector,
    options: &BuildOptions,
) -> anyhow::Result<(MorphableModel, BuildReport)> {
    let engine = Engine::new(
        ict,
        EngineOptions {
            size: options.size,
            depth_bins: 8,
        },
    );
    let model = &engine.model;
    let face_tris = model.face_triangles();
    let (casts, renders_used) = cast_landmarks(&engine, detector, &face_tris, options)?;
    let median: Vec<[f32; 3]> = (0..LANDMARKS)
        .map(|i| std::array::from_fn(|k| median_of(casts.iter().map(|c| c[i][k]))))
        .collect();
    let dense = subdivide(facemesh_triangles()?);
    let mut targets = median.clone();
    targets.extend(dense.edges.iter().map(|&[a, b]| {
        let (p, q) = (median[a as usize], median[b as usize]);
        std::array::from_fn(|k| 0.5 * (p[k] + q[k]))
    }));
    let embedding: Vec<SurfacePoint> = targets
        .par_iter()
        .map(|&p| closest_on_surface(&model.neutral, &face_tris, p))
        .collect();
    let embedded: Vec<[f32; 3]> = embedding.iter().map(|e| e.on(&model.neutral)).collect();
    let spread = median_of(
        (0..LANDMARKS).map(|i| median_of(casts.iter().map(|c| distance(c[i], embedded[i])))),
    );
    let (mean, basis, sigma, explained) = pca(model, &embedding, options)?;
    let out = MorphableModel {
        mean,
        basis,
        sigma,
        triangles: dense.triangles,
        edges: dense.edges,
    };
    Ok((
        out,
        BuildReport {
            renders_used,
            embedding_spread_cm: spread,
            explained,
        },
    ))
}

/// The neutral-surface point under each FaceMesh landmark, per usable render.
fn cast_landmarks(
    engine: &Engine,
    detector: &Detector,
    face_tris: &[[u32; 3]],
    options: &BuildOptions,
) -> anyhow::Result<(Vec<Vec<[f32; 3]>>, usize)> {
    let model = &engine.model;
    let size = options.size;
    let mut casts = Vec::new();
    for r in 0..options.renders {
        let id = options.seed + r as u64;
        let mut p = SampleParams::draw(model, id);
        p.expression.fill(0.0);
        let t = r as f32 / (options.renders.max(2) - 1) as f32;
        p.pose = Pose {
            yaw: -12.0 + 24.0 * t,
            pitch: 0.0,
            roll: 0.0,
        };
        p.occluder = None;
        p.degrade = Degrade {
            face_px: None,
            blur: 0.0,
            noise: 0.0,
            jpeg: None,
        };
        let sample = engine.render_params(p).context("render")?;
        let side = u32::try_from(size)?;
        let img = RgbImage::from_raw(side, side, sample.clean).context("render size")?;
        let marks = crop_landmarks(detector, &img)?;
        if marks.presence < 0.5 {
            eprintln!(
                "render {id}: FaceMesh presence {:.2}, skipped",
                marks.presence
            );
            continue;
        }
        let h = size as f32;
        let screen: Vec<ScreenVertex> = sample
            .mesh
            .iter()
            .map(|q| ScreenVertex {
                x: q[0],
                y: h - q[1],
                w: -q[2],
            })
            .collect();
        let mut vb = VisBuffer::new(size, size, DepthTest::Nearest);
        vb.draw(
            &screen,
            face_tris,
            Projection::Orthographic,
            Cull::None,
            0.0,
        );
        let points: Option<Vec<[f32; 3]>> = marks
            .points
            .iter()
            .map(|m| {
                let t = covered_near(&vb, m[0], m[1], 6)?;
                let tri = face_tris[t];
                let c = tri.map(|i| screen[i as usize]);
                let sp = SurfacePoint {
                    tri,
                    bary: barycentric_2d(c, m[0], m[1]),
                };
                Some(sp.on(&model.neutral))
            })
            .collect();
        match points {
            Some(p) => casts.push(p),
            None => eprintln!("render {id}: a landmark fell off the face surface, skipped"),
        }
    }
    anyhow::ensure!(!casts.is_empty(), "no render gave usable landmarks");
    let used = casts.len();
    Ok((casts, used))
}

/// The triangle at pixel `(x, y)` or, if uncovered, at the nearest covered pixel within
/// `radius`.
fn covered_near(vb: &VisBuffer, x: f32, y: f32, radius: i64) -> Option<usize> {
    let (cx, cy) = (x.floor() as i64, y.floor() as i64);
    let mut best: Option<(i64, usize)> = None;
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let (px, py) = (cx + dx, cy + dy);
            let (Ok(ux), Ok(uy)) = (usize::try_from(px), usize::try_from(py)) else {
                continue;
            };
            if ux >= vb.width || uy >= vb.height {
                continue;
            }
            let i = uy * vb.width + ux;
            let d = dx * dx + dy * dy;
            if vb.covered(i) && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, vb.triangle[i] as usize));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// Barycentrics of `(x, y)` in a screen triangle, clamped into the triangle.
fn barycentric_2d(c: [ScreenVertex; 3], x: f32, y: f32) -> [f32; 3] {
    let det = (c[1].y - c[2].y) * (c[0].x - c[2].x) + (c[2].x - c[1].x) * (c[0].y - c[2].y);
    if det.abs() < 1e-12 {
        return [1.0 / 3.0; 3];
    }
    let b0 = ((c[1].y - c[2].y) * (x - c[2].x) + (c[2].x - c[1].x) * (y - c[2].y)) / det;
    let b1 = ((c[2].y - c[0].y) * (x - c[2].x) + (c[0].x - c[2].x) * (y - c[2].y)) / det;
    let b = [b0, b1, 1.0 - b0 - b1].map(|v| v.max(0.0));
    let s = b.iter().sum::<f32>().max(1e-12);
    b.map(|v| v / s)
}

/// The closest point to `p` on the surface `triangles` over `positions` (brute force).
fn closest_on_surface(positions: &[[f32; 3]], triangles: &[[u32; 3]], p: [f32; 3]) -> SurfacePoint {
    let mut best = (
        f32::INFINITY,
        SurfacePoint {
            tri: triangles[0],
            bary: [1.0, 0.0, 0.0],
        },
    );
    for &tri in triangles {
        let [a, b, c] = tri.map(|i| positions[i as usize]);
        let bary = closest_barycentric(p, a, b, c);
        let q: [f32; 3] = std::array::from_fn(|k| bary[0] * a[k] + bary[1] * b[k] + bary[2] * c[k]);
        let d = distance(p, q);
        if d < best.0 {
            best = (d, SurfacePoint { tri, bary });
        }
    }
    best.1
}

/// Barycentrics of the point of triangle `abc` closest to `p` (Ericson, Real-Time Collision
/// Detection, 5.1.5).
fn closest_barycentric(p: [f32; 3], a: [f32; 3], b: [f32; 3], c: [f32; 3]) -> [f32; 3] {
    let sub = |u: [f32; 3], v: [f32; 3]| [u[0] - v[0], u[1] - v[1], u[2] - v[2]];
    let dot = |u: [f32; 3], v: [f32; 3]| u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    let (ab, ac, ap) = (sub(b, a), sub(c, a), sub(p, a));
    let (d1, d2) = (dot(ab, ap), dot(ac, ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return [1.0, 0.0, 0.0];
    }
    let bp = sub(p, b);
    let (d3, d4) = (dot(ab, bp), dot(ac, bp));
    if d3 >= 0.0 && d4 <= d3 {
        return [0.0, 1.0, 0.0];
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return [1.0 - v, v, 0.0];
    }
    let cp = sub(p, c);
    let (d5, d6) = (dot(ab, cp), dot(ac, cp));
    if d6 >= 0.0 && d5 <= d6 {
        return [0.0, 0.0, 1.0];
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return [1.0 - w, 0.0, w];
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return [0.0, 1.0 - w, w];
    }
    let denom = 1.0 / (va + vb + vc);
    let (v, w) = (vb * denom, vc * denom);
    [1.0 - v - w, v, w]
}

/// `(mean, basis [K, 3V], sigma [K], cumulative explained variance [K])` of the dense shapes.
#[allow(clippy::type_complexity)]
fn pca(
    model: &FaceModel,
    embedding: &[SurfacePoint],
    options: &BuildOptions,
) -> anyhow::Result<(Vec<[f32; 3]>, Vec<f32>, Vec<f32>, Vec<f32>)> {
    let n_id = model.n_identity;
    let n_ex = model.n_expression();
    let n_c = n_id + n_ex;
    let nv = model.vertex_count() * 3;
    let d = embedding.len() * 3;
    // A: every ICT mode mapped to the dense topology, [3V_dense, n_c].
    let modes: Vec<&[f32]> = model
        .identity
        .chunks_exact(nv)
        .take(n_id)
        .chain(model.expression.chunks_exact(nv).take(n_ex))
        .collect();
    anyhow::ensure!(modes.len() == n_c, "unexpected ICT mode count");
    let mut a = DMatrix::<f64>::zeros(d, n_c);
    for (j, mode) in modes.iter().enumerate() {
        let as_points: Vec<[f32; 3]> = mode.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        for (v, e) in embedding.iter().enumerate() {
            let q = e.on(&as_points);
            for k in 0..3 {
                a[(3 * v + k, j)] = f64::from(q[k]);
            }
        }
    }
    // Coefficient mean and covariance of the engine's shape distribution.
    let draws: Vec<Vec<f32>> = (0..options.samples as u64)
        .into_par_iter()
        .map(|i| {
            let p = SampleParams::draw(model, options.seed + i);
            let mut c = p.identity;
            c.extend(p.expression);
            c
        })
        .collect();
    let n = draws.len().max(2) as f64;
    let x = DMatrix::from_fn(draws.len(), n_c, |r, c| f64::from(draws[r][c]));
    let mean_c: DVector<f64> = x.row_mean().transpose();
    let centred = DMatrix::from_fn(x.nrows(), n_c, |r, c| x[(r, c)] - mean_c[c]);
    let cov = centred.transpose() * &centred / (n - 1.0);
    let eig = cov.symmetric_eigen();
    let sqrt = DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
    let l = &eig.eigenvectors * sqrt;
    let svd = (&a * l).svd(true, false);
    let u = svd.u.context("SVD failed")?;
    let s = &svd.singular_values;
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&i, &j| s[j].total_cmp(&s[i]));
    let total: f64 = s.iter().map(|v| v * v).sum();
    let k = options.components.min(order.len());
    let mut basis = Vec::with_capacity(k * d);
    let (mut sigma, mut explained, mut acc) = (Vec::new(), Vec::new(), 0.0);
    for &i in order.iter().take(k) {
        basis.extend(u.column(i).iter().map(|&v| v as f32));
        sigma.push(s[i] as f32);
        acc += s[i] * s[i];
        explained.push((acc / total.max(1e-12)) as f32);
    }
    let neutral: Vec<[f32; 3]> = embedding.iter().map(|e| e.on(&model.neutral)).collect();
    let offset = &a * mean_c;
    let mean = neutral
        .iter()
        .enumerate()
        .map(|(v, p)| std::array::from_fn(|k| p[k] + offset[3 * v + k] as f32))
        .collect();
    Ok((mean, basis, sigma, explained))
}

fn distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn median_of(values: impl Iterator<Item = f32>) -> f32 {
    let mut v: Vec<f32> = values.collect();
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_point_inside_and_outside_a_triangle() {
        let (a, b, c) = ([0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]);
        let inside = closest_barycentric([0.5, 0.5, 3.0], a, b, c);
        assert!((inside[1] - 0.25).abs() < 1e-6 && (inside[2] - 0.25).abs() < 1e-6);
        assert_eq!(
            closest_barycentric([-1.0, -1.0, 0.0], a, b, c),
            [1.0, 0.0, 0.0]
        );
        let edge = closest_barycentric([1.0, -3.0, 0.0], a, b, c);
        assert!((edge[1] - 0.5).abs() < 1e-6 && edge[2] == 0.0);
    }
}
