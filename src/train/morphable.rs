//! `visage morphable build`: learns the morphable model of
//! [`crate::pipeline::reconstruct::morphable`] from the ICT Face Model, keeping only what is
//! learned (DESIGN.md section 4).
//!
//! 1. Embedding. Near-frontal neutral-expression faces of varied identity are rendered by the
//!    synthetic data engine (clean images, no occluders); the crate's own FaceMesh landmarks
//!    each render; each landmark is cast back onto the ICT face surface through the rasterised
//!    triangle under it (2D barycentrics in that triangle) and expressed on the *neutral*
//!    surface. The per-coordinate median over the renders is projected onto the neutral
//!    surface (closest point).
//! 2. Topology ([`crate::train::dense_topology`]): the landmarks inserted into the ICT face
//!    area, its eye and mouth holes closed; every dense vertex is a fixed combination of ICT
//!    vertices, so any ICT shape maps linearly onto it.
//! 3. PCA, identity and expression apart. The map is linear, so the dense shapes of the
//!    synthetic data's shape distribution (identity ~ N(0, I), the engine's sparse random
//!    expressions, [`SampleParams::draw`]) are `neutral + A_id c_id + A_ex c_ex`; identity
//!    components are the left singular vectors of `A_id` (sigmas its singular values), expression
//!    ones those of `A_ex L` with the sampled expression covariance `C = L L^T` (exact, no
//!    `3V x 3V` covariance is formed); the mean carries `A_ex mean(c_ex)`.
//! 4. Landmark noise ([`MorphableModel::landmark_noise`]): faces of the engine's own variety of
//!    identity, expression and pose (yaw within +-45 degrees; no occluders, no degradation) are
//!    rendered, FaceMesh runs on each, and the true surface points of its 468 landmarks (the
//!    dense vertices, on the render's ICT shape) are brought onto FaceMesh's points by the best
//!    similarity. Per landmark, the median squared residual (cm^2) / 2.366 (the median of a
//!    chi-square with 3 degrees of freedom) is a robust per-axis noise variance; the fit weighs
//!    each landmark by its inverse.

use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::reconstruct::morphable::MorphableModel;
use crate::pipeline::reconstruct::morphable::fit::similarity_residuals;
use crate::pipeline::reconstruct::morphable::topology::LANDMARKS;
use crate::synth::params::{Degrade, Pose, SampleParams};
use crate::synth::raster::{Cull, DepthTest, Projection, ScreenVertex, VisBuffer};
use crate::synth::{Engine, EngineOptions, FaceModel, Sample};
use crate::train::dense_topology::{self, Combo, Embedded};
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
    /// Identity components kept.
    pub identity: usize,
    /// Expression components kept.
    pub expression: usize,
    /// First sample id of the renders and draws (training range).
    pub seed: u64,
    /// Renders that measure FaceMesh's landmark noise (0: none, the fit assumes a uniform one).
    pub noise_renders: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            renders: 16,
            size: 256,
            samples: 20_000,
            identity: 80,
            expression: 40,
            seed: 500_000,
            noise_renders: 200,
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
    /// Cumulative explained variance after each kept identity component (of the identity
    /// shape variance).
    pub explained_identity: Vec<f32>,
    /// The same for the expression components (of the expression shape variance).
    pub explained_expression: Vec<f32>,
    /// Renders whose FaceMesh landmarks measured the landmark noise.
    pub noise_renders_used: usize,
    /// The landmark noise's standard deviation per axis (mm): 10th, 50th and 90th percentile
    /// over the 468 landmarks (zeros when not measured).
    pub noise_mm: [f32; 3],
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
            ..EngineOptions::default()
        },
    );
    let model = &engine.model;
    let face_tris = model.face_triangles();
    let (casts, renders_used) = cast_landmarks(&engine, detector, &face_tris, options)?;
    let median: Vec<[f32; 3]> = (0..LANDMARKS)
        .map(|i| std::array::from_fn(|k| median_of(casts.iter().map(|c| c[i].1[k]))))
        .collect();
    // Each median goes onto the closest of the triangles its casts hit (not of every
    // triangle: where the lips touch, the closest point could be on the other lip).
    let embedding: Vec<Embedded> = (0..LANDMARKS)
        .into_par_iter()
        .map(|i| {
            let mut hit: Vec<usize> = casts.iter().map(|c| c[i].0).collect();
            hit.sort_unstable();
            hit.dedup();
            let candidates: Vec<[u32; 3]> = hit.iter().map(|&t| face_tris[t]).collect();
            let e = closest_on_surface(&model.neutral, &candidates, median[i]);
            Embedded {
                triangle: hit[e.triangle],
                bary: e.bary,
            }
        })
        .collect();
    let topology = dense_topology::build(model, &embedding)?;
    let spread = median_of((0..LANDMARKS).map(|i| {
        let at = topology.points[i].on(&model.neutral);
        median_of(casts.iter().map(|c| distance(c[i].1, at)))
    }));
    let bases = pca(model, &topology.points, options)?;
    let (landmark_noise, noise_renders_used) = if options.noise_renders > 0 {
        landmark_noise(&engine, detector, &topology.points[..LANDMARKS], options)?
    } else {
        (Vec::new(), 0)
    };
    let noise_mm = {
        let mut sd: Vec<f32> = landmark_noise.iter().map(|v| 10.0 * v.sqrt()).collect();
        sd.sort_by(f32::total_cmp);
        let at = |q: f32| sd.get((q * (sd.len().max(1) - 1) as f32) as usize).copied();
        [0.1, 0.5, 0.9].map(|q| at(q).unwrap_or(0.0))
    };
    let out = MorphableModel {
        landmark_noise,
        mean: bases.mean,
        basis: bases.basis,
        sigma: bases.sigma,
        identity_components: bases.identity_components,
        expression_mean: bases.expression_mean,
        triangles: topology.triangles,
        uvs: topology.uvs,
        landmarks68: topology.landmarks68,
    };
    Ok((
        out,
        BuildReport {
            renders_used,
            embedding_spread_cm: spread,
            explained_identity: bases.explained_identity,
            explained_expression: bases.explained_expression,
            noise_renders_used,
            noise_mm,
        },
    ))
}

/// Renders `p` without occluders or degradations: the sample and its clean image.
fn clean_render(engine: &Engine, mut p: SampleParams) -> anyhow::Result<(Sample, RgbImage)> {
    p.occluder = None;
    p.degrade = Degrade {
        face_px: None,
        blur: 0.0,
        noise: 0.0,
        jpeg: None,
    };
    let sample = engine.render_params(p).context("render")?;
    let side = u32::try_from(engine.options.size)?;
    let img = RgbImage::from_raw(side, side, sample.clean.clone()).context("render size")?;
    Ok((sample, img))
}

/// Median of a chi-square distribution with 3 degrees of freedom.
const CHI2_3_MEDIAN: f32 = 2.366;

/// FaceMesh's noise variance (cm^2, per axis) at each landmark whose true surface point is
/// `points` (ICT vertex combinations), and the renders used; see the module docs (step 4).
fn landmark_noise(
    engine: &Engine,
    detector: &Detector,
    points: &[Combo],
    options: &BuildOptions,
) -> anyhow::Result<(Vec<f32>, usize)> {
    let model = &engine.model;
    let size = options.size;
    let mut squared: Vec<Vec<f32>> = vec![Vec::new(); points.len()];
    let mut used = 0;
    for r in 0..options.noise_renders {
        let id = options.seed + 100_000 + r as u64;
        let mut p = SampleParams::draw(model, id);
        p.pose.yaw = p.pose.yaw.clamp(-45.0, 45.0);
        let shape = model.shape(&p.identity, &p.expression);
        let (_, img) = clean_render(engine, p)?;
        let Ok(marks) = crop_landmarks(detector, &img) else {
            continue;
        };
        if marks.presence < 0.5 {
            continue;
        }
        let h = size as f32;
        let targets: Vec<[f32; 3]> = marks
            .points
            .iter()
            .map(|m| [m[0], h - m[1], -m[2]])
            .collect();
        let truth: Vec<[f32; 3]> = points.iter().map(|c| c.on(&shape)).collect();
        let Some(residuals) = similarity_residuals(&truth, &targets) else {
            continue;
        };
        for (list, d) in squared.iter_mut().zip(residuals) {
            list.push(d * d);
        }
        used += 1;
    }
    anyhow::ensure!(
        used > 0,
        "no render gave landmarks for the noise measurement"
    );
    let noise = squared
        .into_iter()
        .map(|d| median_of(d.into_iter()) / CHI2_3_MEDIAN)
        .collect();
    Ok((noise, used))
}

/// One landmark of one render: the face triangle under it and its point on the neutral surface.
type Cast = (usize, [f32; 3]);

/// The face triangle under each FaceMesh landmark and the landmark's point on the neutral
/// surface, per usable render.
fn cast_landmarks(
    engine: &Engine,
    detector: &Detector,
    face_tris: &[[u32; 3]],
    options: &BuildOptions,
) -> anyhow::Result<(Vec<Vec<Cast>>, usize)> {
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
        let (sample, img) = clean_render(engine, p)?;
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
        let points: Option<Vec<Cast>> = marks
            .points
            .iter()
            .map(|m| {
                let t = covered_near(&vb, m[0], m[1], 6)?;
                let tri = face_tris[t];
                let c = tri.map(|i| screen[i as usize]);
                let bary = barycentric_2d(c, m[0], m[1]);
                Some((
                    t,
                    std::array::from_fn(|k| {
                        (0..3)
                            .map(|j| bary[j] * model.neutral[tri[j] as usize][k])
                            .sum()
                    }),
                ))
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

/// The closest point to `p` on the surface `triangles` over `positions` (brute force): its
/// triangle index and barycentrics.
fn closest_on_surface(positions: &[[f32; 3]], triangles: &[[u32; 3]], p: [f32; 3]) -> Embedded {
    let mut best = (
        f32::INFINITY,
        Embedded {
            triangle: 0,
            bary: [1.0, 0.0, 0.0],
        },
    );
    for (t, &tri) in triangles.iter().enumerate() {
        let [a, b, c] = tri.map(|i| positions[i as usize]);
        let bary = closest_barycentric(p, a, b, c);
        let q: [f32; 3] = std::array::from_fn(|k| bary[0] * a[k] + bary[1] * b[k] + bary[2] * c[k]);
        let d = distance(p, q);
        if d < best.0 {
            best = (d, Embedded { triangle: t, bary });
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

/// The learned bases (see the module docs).
struct Bases {
    mean: Vec<[f32; 3]>,
    basis: Vec<f32>,
    sigma: Vec<f32>,
    identity_components: usize,
    expression_mean: Vec<[f32; 3]>,
    explained_identity: Vec<f32>,
    explained_expression: Vec<f32>,
}

/// Every mode of `modes` (each `[V_ict * 3]`) mapped to the dense points, as the columns of a
/// `[3 V_dense, modes]` matrix.
fn mapped(modes: &[&[f32]], points: &[Combo]) -> DMatrix<f64> {
    let d = points.len() * 3;
    let columns: Vec<Vec<f64>> = modes
        .par_iter()
        .map(|mode| {
            let as_points: Vec<[f32; 3]> =
                mode.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            points
                .iter()
                .flat_map(|e| e.on(&as_points).map(f64::from))
                .collect()
        })
        .collect();
    DMatrix::from_fn(d, modes.len(), |r, c| columns[c][r])
}

/// The leading `k` left singular vectors of `m` (rows of the result), their singular values and
/// the cumulative explained variance.
fn principal(m: &DMatrix<f64>, k: usize) -> anyhow::Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let svd = m.clone().svd(true, false);
    let u = svd.u.context("SVD failed")?;
    let s = &svd.singular_values;
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&i, &j| s[j].total_cmp(&s[i]));
    let total: f64 = s.iter().map(|v| v * v).sum();
    let (mut basis, mut sigma, mut explained, mut acc) = (Vec::new(), Vec::new(), Vec::new(), 0.0);
    for &i in order.iter().take(k) {
        basis.extend(u.column(i).iter().map(|&v| v as f32));
        sigma.push(s[i] as f32);
        acc += s[i] * s[i];
        explained.push((acc / total.max(1e-12)) as f32);
    }
    Ok((basis, sigma, explained))
}

fn pca(model: &FaceModel, points: &[Combo], options: &BuildOptions) -> anyhow::Result<Bases> {
    let (n_id, n_ex) = (model.n_identity, model.n_expression());
    let nv = model.vertex_count() * 3;
    let id_modes: Vec<&[f32]> = model.identity.chunks_exact(nv).take(n_id).collect();
    let ex_modes: Vec<&[f32]> = model.expression.chunks_exact(nv).take(n_ex).collect();
    anyhow::ensure!(
        id_modes.len() == n_id && ex_modes.len() == n_ex,
        "unexpected ICT mode count"
    );
    // The engine draws identity ~ N(0, I): the identity shape covariance is A_id A_id^T.
    let (mut basis, mut sigma, explained_identity) =
        principal(&mapped(&id_modes, points), options.identity)?;
    let identity_components = sigma.len();
    // Expression weights: mean and covariance of the engine's draws.
    let draws: Vec<Vec<f32>> = (0..options.samples as u64)
        .into_par_iter()
        .map(|i| SampleParams::draw(model, options.seed + i).expression)
        .collect();
    let n = draws.len().max(2) as f64;
    let x = DMatrix::from_fn(draws.len(), n_ex, |r, c| f64::from(draws[r][c]));
    let mean_c: DVector<f64> = x.row_mean().transpose();
    let centred = DMatrix::from_fn(x.nrows(), n_ex, |r, c| x[(r, c)] - mean_c[c]);
    let cov = centred.transpose() * &centred / (n - 1.0);
    let eig = cov.symmetric_eigen();
    let sqrt = DMatrix::from_diagonal(&eig.eigenvalues.map(|l| l.max(0.0).sqrt()));
    let a_ex = mapped(&ex_modes, points);
    let (ex_basis, ex_sigma, explained_expression) =
        principal(&(&a_ex * (&eig.eigenvectors * sqrt)), options.expression)?;
    basis.extend(ex_basis);
    sigma.extend(ex_sigma);
    let offset = &a_ex * mean_c;
    let expression_mean: Vec<[f32; 3]> = (0..points.len())
        .map(|v| std::array::from_fn(|k| offset[3 * v + k] as f32))
        .collect();
    let mean = points
        .iter()
        .zip(&expression_mean)
        .map(|(e, o)| {
            let p = e.on(&model.neutral);
            std::array::from_fn(|k| p[k] + o[k])
        })
        .collect();
    Ok(Bases {
        mean,
        basis,
        sigma,
        identity_components,
        expression_mean,
        explained_identity,
        explained_expression,
    })
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
