//! Fitting the morphable model to FaceMesh's 468 3D landmarks: a scaled-orthographic pose
//! (similarity: scale, rotation, translation) and shape coefficients under the PCA prior.
//!
//! Alternation, a few iterations: weighted similarity Procrustes (Umeyama 1991) of the current
//! model landmarks onto the targets; Huber weights from the residuals (scale = 1.4826 x median,
//! so a few gross landmark errors lose their pull); ridge regression of the coefficients on the
//! residuals brought back to the model frame, `(B^T W V^-1 B + I) a = B^T W V^-1 r`: `V` holds
//! each landmark's noise variance (cm^2; FaceMesh's own, measured on renders when the model was
//! built, [`MorphableModel::landmark_noise`], or a uniform `lambda`), against the unit prior
//! `a ~ N(0, I)`; `W` the robust weights. Residuals are compared in units of their landmark's
//! noise, so a landmark FaceMesh places loosely (the silhouette) pulls less. Each iteration is a
//! 3x3 SVD, a rank-3 update of the Gram matrix per down-weighted landmark and a K x K solve.

use super::{LANDMARKS, MorphableError, MorphableModel};
use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

/// Options of [`fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    /// Alternations of pose and coefficients.
    pub iterations: usize,
    /// Landmark noise variance in model units (cm^2) assumed at every landmark when the model
    /// carries no measured noise or [`Self::measured_noise`] is off: larger = stronger pull to
    /// the mean.
    pub lambda: f32,
    /// Use the model's measured per-landmark noise ([`MorphableModel::landmark_noise`]).
    pub measured_noise: bool,
    /// Huber threshold in robust standard deviations of the residuals.
    pub huber: f32,
    /// Identity components used (at most the model's).
    pub identity: usize,
    /// Expression components used (at most the model's).
    pub expression: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            iterations: 6,
            lambda: 0.05,
            measured_noise: true,
            huber: 2.0,
            identity: usize::MAX,
            expression: usize::MAX,
        }
    }
}

/// A fitted face: `crop = scale * rotation * shape(coefficients) + translation`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Crop pixels per centimetre.
    pub scale: f32,
    /// `crop_from_model` rotation, row-major.
    pub rotation: [[f32; 3]; 3],
    /// Translation, crop pixels.
    pub translation: [f32; 3],
    /// Shape coefficients in sigmas.
    pub coefficients: Vec<f32>,
    /// Final robust weight of each landmark (1 = inlier).
    pub weights: Vec<f32>,
    /// Weighted RMS landmark residual, crop pixels.
    pub rms: f32,
}

impl Fit {
    /// The fitted dense vertices in the crop frame.
    #[must_use]
    pub fn vertices(&self, model: &MorphableModel) -> Vec<[f32; 3]> {
        self.posed(model.shape(&self.coefficients))
    }

    /// The neutral face of the fitted identity (no expression), in the fitted pose, crop frame.
    #[must_use]
    pub fn neutral_vertices(&self, model: &MorphableModel) -> Vec<[f32; 3]> {
        self.posed(model.neutral_shape(&self.coefficients))
    }

    /// Model-frame points in the fitted pose (crop frame).
    fn posed(&self, shape: Vec<[f32; 3]>) -> Vec<[f32; 3]> {
        shape.into_iter().map(|p| self.apply(p)).collect()
    }

    /// A model-frame point in the crop frame.
    #[must_use]
    pub fn apply(&self, p: [f32; 3]) -> [f32; 3] {
        let r = &self.rotation;
        std::array::from_fn(|i| {
            self.scale * (r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2]) + self.translation[i]
        })
    }
}

/// A similarity transform `y = s R x + t`.
#[derive(Clone, Copy, Debug)]
struct Similarity {
    s: f64,
    r: Matrix3<f64>,
    t: Vector3<f64>,
}

/// Weighted Umeyama: the similarity that best maps `x` onto `y` (least squares).
fn umeyama(x: &[Vector3<f64>], y: &[Vector3<f64>], w: &[f64]) -> Option<Similarity> {
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mean =
        |p: &[Vector3<f64>]| p.iter().zip(w).map(|(v, &k)| v * k).sum::<Vector3<f64>>() / total;
    let (mx, my) = (mean(x), mean(y));
    let mut cov = Matrix3::zeros();
    let mut var = 0.0;
    for ((a, b), &k) in x.iter().zip(y).zip(w) {
        let (da, db) = (a - mx, b - my);
        cov += k * db * da.transpose();
        var += k * da.norm_squared();
    }
    let svd = cov.svd(true, true);
    let (u, vt) = (svd.u?, svd.v_t?);
    let d = if (u * vt).determinant() < 0.0 {
        -1.0
    } else {
        1.0
    };
    let signs = Matrix3::from_diagonal(&Vector3::new(1.0, 1.0, d));
    let r = u * signs * vt;
    let trace = svd.singular_values[0] + svd.singular_values[1] + d * svd.singular_values[2];
    let s = trace / var.max(1e-12);
    (s.is_finite() && s > 0.0).then(|| Similarity {
        s,
        r,
        t: my - s * r * mx,
    })
}

/// The distance of each of `points` (model frame) from its target after the similarity that
/// best maps `points` onto `targets` (least squares), in model units; `None` for mismatched or
/// degenerate inputs.
#[must_use]
pub fn similarity_residuals(points: &[[f32; 3]], targets: &[[f32; 3]]) -> Option<Vec<f32>> {
    if points.len() != targets.len() || points.len() < 3 {
        return None;
    }
    let v = |p: &[f32; 3]| Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
    let x: Vec<Vector3<f64>> = points.iter().map(v).collect();
    let y: Vec<Vector3<f64>> = targets.iter().map(v).collect();
    let sim = umeyama(&x, &y, &vec![1.0; x.len()])?;
    Some(
        x.iter()
            .zip(&y)
            .map(|(p, q)| ((sim.s * sim.r * p + sim.t - q).norm() / sim.s) as f32)
            .collect(),
    )
}

/// Robust fit of `model` to `targets`: the 468 FaceMesh landmarks in the crop frame (crop
/// pixels, +Y up, +Z towards the camera).
///
/// # Errors
/// [`MorphableError::Fit`] for fewer than 468 points, non-finite points or a degenerate pose.
pub fn fit(
    model: &MorphableModel,
    targets: &[[f32; 3]],
    options: &FitOptions,
) -> Result<Fit, MorphableError> {
    if targets.len() < LANDMARKS || targets.iter().flatten().any(|v| !v.is_finite()) {
        return Err(MorphableError::Fit(format!(
            "need {LANDMARKS} finite landmarks, got {}",
            targets.len()
        )));
    }
    let n = LANDMARKS;
    let k_id = options.identity.min(model.identity_components);
    let k_ex = options
        .expression
        .min(model.components() - model.identity_components);
    // Columns: the used identity components, then the used expression ones.
    let used: Vec<usize> = (0..k_id)
        .chain(model.identity_components..model.identity_components + k_ex)
        .collect();
    let k = used.len();
    let y: Vec<Vector3<f64>> = targets[..n]
        .iter()
        .map(|p| Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2])))
        .collect();
    // B: the landmark rows of the scaled basis, [3n, k].
    let b = DMatrix::from_fn(3 * n, k, |row, col| {
        f64::from(model.component(used[col])[row] * model.sigma[used[col]])
    });
    // Inverse noise variance of each landmark (per axis), cm^-2.
    let precision: Vec<f64> = if options.measured_noise && model.landmark_noise.len() == n {
        model
            .landmark_noise
            .iter()
            .map(|&v| 1.0 / f64::from(v))
            .collect()
    } else {
        vec![1.0 / f64::from(options.lambda.max(1e-12)); n]
    };
    let gram = {
        let scaled = DMatrix::from_fn(3 * n, k, |row, col| {
            b[(row, col)] * precision[row / 3].sqrt()
        });
        scaled.transpose() * scaled
    };
    let mean = DVector::from_iterator(
        3 * n,
        model.mean[..n].iter().flatten().map(|&v| f64::from(v)),
    );
    let mut a = DVector::zeros(k);
    let mut w = vec![1.0f64; n];
    let mut pose = None;
    for _ in 0..options.iterations.max(1) {
        let shape = &mean + &b * &a;
        let x: Vec<Vector3<f64>> = (0..n)
            .map(|i| Vector3::new(shape[3 * i], shape[3 * i + 1], shape[3 * i + 2]))
            .collect();
        let pull: Vec<f64> = w.iter().zip(&precision).map(|(w, p)| w * p).collect();
        let sim =
            umeyama(&x, &y, &pull).ok_or_else(|| MorphableError::Fit("degenerate pose".into()))?;
        // Residuals in units of each landmark's noise (model frame: divided by the scale).
        let residuals: Vec<f64> = x
            .iter()
            .zip(&y)
            .zip(&precision)
            .map(|((p, q), prec)| (sim.s * sim.r * p + sim.t - q).norm() / sim.s * prec.sqrt())
            .collect();
        w = huber_weights(&residuals, f64::from(options.huber));
        // Residuals in the model frame, relative to the mean shape.
        let rt = sim.r.transpose();
        let mut r = DVector::zeros(3 * n);
        for i in 0..n {
            let m = rt * (y[i] - sim.t) / sim.s;
            for c in 0..3 {
                r[3 * i + c] = m[c] - mean[3 * i + c];
            }
        }
        // B^T W B = B^T B - sum over down-weighted landmarks of (1 - w) B_l^T B_l: the Gram
        // matrix once, then a rank-3 correction per outlier (most weights are exactly 1).
        let mut lhs = gram.clone();
        for (i, &wi) in w.iter().enumerate().filter(|(_, w)| **w < 1.0) {
            let rows = b.rows(3 * i, 3);
            lhs -= (1.0 - wi) * precision[i] * rows.transpose() * rows;
        }
        for d in 0..k {
            lhs[(d, d)] += 1.0;
        }
        let wr = DVector::from_fn(3 * n, |row, _| r[row] * w[row / 3] * precision[row / 3]);
        let rhs = b.transpose() * wr;
        a = lhs
            .cholesky()
            .ok_or_else(|| MorphableError::Fit("singular normal equations".into()))?
            .solve(&rhs);
        pose = Some(sim);
    }
    let sim = pose.ok_or_else(|| MorphableError::Fit("no iteration".into()))?;
    // Final residuals with the final coefficients.
    let shape = &mean + &b * &a;
    let (mut se, mut sw) = (0.0, 0.0);
    for i in 0..n {
        let p = Vector3::new(shape[3 * i], shape[3 * i + 1], shape[3 * i + 2]);
        se += w[i] * (sim.s * sim.r * p + sim.t - y[i]).norm_squared();
        sw += w[i];
    }
    Ok(Fit {
        scale: sim.s as f32,
        rotation: std::array::from_fn(|i| std::array::from_fn(|j| sim.r[(i, j)] as f32)),
        translation: std::array::from_fn(|i| sim.t[i] as f32),
        coefficients: {
            let mut all = vec![0.0; model.components()];
            for (&c, &v) in used.iter().zip(a.iter()) {
                all[c] = v as f32;
            }
            all
        },
        weights: w.iter().map(|&v| v as f32).collect(),
        rms: (se / sw.max(1e-12)).sqrt() as f32,
    })
}

/// Huber weights `min(1, c / r)` with `c = huber x 1.4826 x median(r)` (a floor keeps exact
/// fits from dividing by zero).
fn huber_weights(residuals: &[f64], huber: f64) -> Vec<f64> {
    let mut sorted = residuals.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let c = (huber * 1.4826 * median).max(1e-6);
    residuals
        .iter()
        .map(|&r| if r <= c { 1.0 } else { c / r })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random rotation from Euler angles (radians).
    fn rotation(yaw: f64, pitch: f64, roll: f64) -> Matrix3<f64> {
        *nalgebra::Rotation3::from_euler_angles(pitch, yaw, roll).matrix()
    }

    fn pose_points(
        model: &MorphableModel,
        a: &[f32],
        s: f64,
        r: Matrix3<f64>,
        t: Vector3<f64>,
    ) -> Vec<[f32; 3]> {
        model.shape(a)[..LANDMARKS]
            .iter()
            .map(|p| {
                let v = s * r * Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2])) + t;
                [v[0] as f32, v[1] as f32, v[2] as f32]
            })
            .collect()
    }

    fn case(outliers: bool) {
        let model = MorphableModel::embedded().unwrap();
        let truth: Vec<f32> = (0..model.components())
            .map(|k| {
                if k < 20 {
                    ((k as f32) * 0.7).sin()
                } else {
                    0.0
                }
            })
            .collect();
        let (s, r, t) = (
            4.0,
            rotation(0.4, -0.2, 0.15),
            Vector3::new(64.0, 60.0, 3.0),
        );
        let mut pts = pose_points(&model, &truth, s, r, t);
        if outliers {
            // ~5 % of the landmarks thrown 15-40 px away.
            for (j, i) in (0..LANDMARKS).step_by(20).enumerate() {
                let d = 15.0 + (j % 5) as f32 * 6.0;
                pts[i][0] += d;
                pts[i][1] -= d * 0.7;
                pts[i][2] += d * 0.3;
            }
        }
        let f = fit(
            &model,
            &pts,
            &FitOptions {
                lambda: 1e-4,
                measured_noise: false,
                iterations: 30,
                ..FitOptions::default()
            },
        )
        .unwrap();
        // The model's components include near-similarity modes (head size, tilt), so pose and
        // shape trade off a little: the pose is checked loosely, the dense surface tightly.
        assert!(
            (f64::from(f.scale) - s).abs() < 0.05 * s,
            "scale {}",
            f.scale
        );
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    (f64::from(f.rotation[i][j]) - r[(i, j)]).abs() < 0.05,
                    "rotation {:?}",
                    f.rotation
                );
            }
        }
        // The landmark vertices land within 0.5 px (1 px with outliers) of the true ones (a face
        // is ~60 px across here); the rest of the face area (ears, neck, hairline), which no
        // landmark reaches, follows the prior: 95 % of it within twice that, all within four
        // times.
        let want: Vec<[f32; 3]> = model
            .shape(&truth)
            .iter()
            .map(|p| {
                let v = s * r * Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2])) + t;
                [v[0] as f32, v[1] as f32, v[2] as f32]
            })
            .collect();
        let got = f.vertices(&model);
        let mut errors: Vec<f32> = got
            .iter()
            .zip(&want)
            .map(|(a, b)| {
                ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
            })
            .collect();
        let on_landmarks = errors[..LANDMARKS].iter().copied().fold(0.0f32, f32::max);
        errors.sort_by(f32::total_cmp);
        let p95 = errors[errors.len() * 95 / 100];
        let worst = errors[errors.len() - 1];
        let limit = if outliers { 1.0 } else { 0.5 };
        eprintln!("vertex error: landmarks worst {on_landmarks} px, all p95 {p95}, worst {worst}");
        assert!(
            on_landmarks < limit,
            "landmark vertex error {on_landmarks} px"
        );
        assert!(p95 < 2.0 * limit, "95th percentile vertex error {p95} px");
        assert!(worst < 4.0 * limit, "worst vertex error {worst} px");
        if outliers {
            let down = (0..LANDMARKS)
                .step_by(20)
                .filter(|&i| f.weights[i] < 0.5)
                .count();
            assert!(down >= 20, "{down} outliers down-weighted");
        }
    }

    #[test]
    fn recovers_known_pose_and_shape() {
        case(false);
    }

    #[test]
    fn recovers_known_pose_and_shape_with_five_percent_outliers() {
        case(true);
    }

    #[test]
    fn refuses_too_few_landmarks() {
        let model = MorphableModel::embedded().unwrap();
        assert!(fit(&model, &[[0.0; 3]; 68], &FitOptions::default()).is_err());
    }

    #[test]
    fn similarity_residuals_ignore_the_similarity_and_keep_the_rest() {
        let points: Vec<[f32; 3]> = (0..10)
            .map(|i| {
                let t = i as f32;
                [t.sin() * 3.0, t.cos() * 2.0, t * 0.3]
            })
            .collect();
        let r = rotation(0.3, 0.2, -0.1);
        let mut targets: Vec<[f32; 3]> = points
            .iter()
            .map(|p| {
                let v = 2.5 * r * Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]))
                    + Vector3::new(10.0, -4.0, 1.0);
                [v[0] as f32, v[1] as f32, v[2] as f32]
            })
            .collect();
        let exact = similarity_residuals(&points, &targets).unwrap();
        assert!(exact.iter().all(|&d| d < 1e-4), "{exact:?}");
        // One target moved by 2.5 units = 1 model unit: its residual is the largest, about 1
        // (the similarity absorbs a little of it).
        targets[4][0] += 2.5;
        let moved = similarity_residuals(&points, &targets).unwrap();
        let worst = (0..10)
            .max_by(|&a, &b| moved[a].total_cmp(&moved[b]))
            .unwrap();
        assert_eq!(worst, 4);
        assert!((0.7..1.0).contains(&moved[4]), "{}", moved[4]);
        assert!(similarity_residuals(&points, &targets[..9]).is_none());
    }

    #[test]
    fn a_noisy_landmark_pulls_less() {
        // The same displaced landmarks fitted with a uniform noise and with the model's noise
        // raised 100-fold at those landmarks: the fitted surface follows them far less.
        let mut model = MorphableModel::embedded().unwrap();
        let truth = vec![0.0; model.components()];
        let (s, r, t) = (4.0, rotation(0.1, 0.0, 0.0), Vector3::new(64.0, 64.0, 0.0));
        let mut pts = pose_points(&model, &truth, s, r, t);
        let moved: Vec<usize> = (0..40).map(|i| i * 11).collect();
        for &i in &moved {
            pts[i][2] += 6.0;
        }
        let options = FitOptions {
            huber: 1e6,
            ..FitOptions::default()
        };
        let pull = |model: &MorphableModel| {
            let f = fit(model, &pts, &options).unwrap();
            let v = f.vertices(model);
            let clean = pose_points(model, &truth, s, r, t);
            moved.iter().map(|&i| v[i][2] - clean[i][2]).sum::<f32>() / moved.len() as f32
        };
        model.landmark_noise = vec![0.05; LANDMARKS];
        let uniform = pull(&model);
        for &i in &moved {
            model.landmark_noise[i] = 5.0;
        }
        let noisy = pull(&model);
        assert!(uniform > 0.4, "uniform pull {uniform}");
        assert!(noisy < 0.25 * uniform, "noisy pull {noisy} vs {uniform}");
    }
}
