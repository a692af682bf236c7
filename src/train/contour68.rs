//! `visage train contour68`: the ridge regression from FaceMesh's 468 points to the 68
//! landmarks in the 3D-contour convention ([`crate::pipeline::detect::contour68`]), fitted on
//! synthetic renders on which FaceMesh itself was run (the degraded `rgb` input of each sample,
//! as a photo would be seen), against their true 68 landmarks (fixed vertices of the head
//! model, so the jaw points lie on the 3D jaw line). The ridge weight is chosen on the last
//! 15 % of the samples, held out; the final map is refitted on all of them.

use crate::dataset::shard_files;
use crate::metrics::face3d::nme_2d;
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::contour68::{
    Contour68, FEATURES, FaceFrame, OUTPUTS, features, image_frame,
};
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::synth::Shard;
use anyhow::Context;
use image::RgbImage;
use nalgebra::DMatrix;
use std::path::Path;

/// One training pair: FaceMesh's 468 points and the true 68, both in the image frame.
pub type Pair = (Vec<[f32; 3]>, Vec<[f32; 3]>);

/// FaceMesh on the first `count` samples of the shards in `dir`; samples where FaceMesh finds no
/// face are skipped.
///
/// # Errors
/// Unreadable shards.
pub fn pairs(dir: &Path, count: usize, detector: &Detector) -> anyhow::Result<Vec<Pair>> {
    let mut out = Vec::new();
    let mut seen = 0;
    for file in shard_files(dir)? {
        let shard = Shard::open(&file)?;
        let side = u32::try_from(shard.info.size)?;
        for i in 0..shard.len() {
            if seen >= count {
                return Ok(out);
            }
            seen += 1;
            let rgb = RgbImage::from_raw(side, side, shard.u8s("rgb", i)?)
                .context("a sample of the wrong size")?;
            let Ok(marks) = crop_landmarks(detector, &rgb) else {
                continue;
            };
            let l2 = shard.f32s("landmarks_2d", i)?;
            let l3 = shard.f32s("landmarks_3d", i)?;
            let truth = l2
                .chunks_exact(2)
                .zip(l3.chunks_exact(3))
                .map(|(a, b)| [a[0], a[1], b[2]])
                .collect();
            out.push((image_frame(&marks.points), truth));
        }
    }
    Ok(out)
}

/// The ridge fit (`lambda` per sample, the constant feature unpenalised).
///
/// # Errors
/// A singular system.
pub fn fit(pairs: &[Pair], lambda: f64) -> anyhow::Result<Contour68> {
    let rows: Vec<(Vec<f32>, Vec<f32>)> = pairs
        .iter()
        .filter_map(|(fm, truth)| {
            let frame = FaceFrame::of(fm)?;
            let y = truth.iter().flat_map(|&p| frame.to_face(p)).collect();
            Some((features(fm, &frame), y))
        })
        .collect();
    anyhow::ensure!(!rows.is_empty(), "no usable training pairs");
    let n = rows.len();
    let x = DMatrix::<f64>::from_fn(n, FEATURES, |r, c| f64::from(rows[r].0[c]));
    let y = DMatrix::<f64>::from_fn(n, OUTPUTS, |r, c| f64::from(rows[r].1[c]));
    let xt = x.transpose();
    let mut a = &xt * &x;
    #[allow(clippy::cast_precision_loss)]
    let penalty = lambda * n as f64;
    for k in 0..FEATURES - 1 {
        a[(k, k)] += penalty;
    }
    let b = &xt * &y;
    let w = a
        .cholesky()
        .context("the ridge system is singular")?
        .solve(&b);
    #[allow(clippy::cast_possible_truncation)]
    let weights = (0..FEATURES)
        .flat_map(|r| (0..OUTPUTS).map(move |c| (r, c)))
        .map(|(r, c)| w[(r, c)] as f32)
        .collect();
    Ok(Contour68::new(weights)?)
}

/// Mean 2D NME (%, AFLW2000-3D normalisation) of `model` on `pairs`.
#[must_use]
pub fn mean_nme(model: &Contour68, pairs: &[Pair]) -> f32 {
    mean(pairs.iter().filter_map(|(fm, truth)| {
        let p = model.predict(fm)?;
        nme_2d(&xy(&p), truth)
    }))
}

/// Mean 2D NME of the learned jaw (0-16) with the fixed map's inner 51 points on `pairs` (what
/// the front end uses, [`crate::pipeline::detect::contour68::contour_68`]).
#[must_use]
pub fn jaw_only_nme(model: &Contour68, pairs: &[Pair]) -> f32 {
    mean(pairs.iter().filter_map(|(fm, truth)| {
        let mut p = model.predict(fm)?;
        let fixed = crate::pipeline::detect::landmarks68::to_68(fm)?;
        p[17..].copy_from_slice(&fixed[17..]);
        nme_2d(&xy(&p), truth)
    }))
}

/// Mean 2D NME of the fixed 468 -> 68 map on `pairs` (the baseline).
#[must_use]
pub fn fixed_map_nme(pairs: &[Pair]) -> f32 {
    mean(pairs.iter().filter_map(|(fm, truth)| {
        let p = crate::pipeline::detect::landmarks68::to_68(fm)?;
        nme_2d(&xy(&p), truth)
    }))
}

fn xy(p: &[[f32; 3]]) -> Vec<[f32; 2]> {
    p.iter().map(|q| [q[0], q[1]]).collect()
}

fn mean(v: impl Iterator<Item = f32>) -> f32 {
    let v: Vec<f32> = v.collect();
    #[allow(clippy::cast_precision_loss)]
    let n = v.len().max(1) as f32;
    v.iter().sum::<f32>() / n
}

/// Fits on `pairs`, choosing the ridge weight among `lambdas` on the held-out last 15 %;
/// returns the model refitted on everything and a report of the choice.
///
/// # Errors
/// Too few pairs or a singular system.
pub fn train(pairs: &[Pair], lambdas: &[f64]) -> anyhow::Result<(Contour68, String)> {
    anyhow::ensure!(
        pairs.len() >= 20,
        "{} training pairs are too few",
        pairs.len()
    );
    let split = pairs.len() * 85 / 100;
    let (fit_set, val) = pairs.split_at(split);
    let mut report = format!(
        "{} pairs ({} fit, {} held out); fixed 468->68 map: held-out 2D NME {:.3} %\n",
        pairs.len(),
        fit_set.len(),
        val.len(),
        fixed_map_nme(val)
    );
    let mut best: Option<(f64, f32)> = None;
    for &lambda in lambdas {
        let model = fit(fit_set, lambda)?;
        let e = mean_nme(&model, val);
        report.push_str(&format!(
            "lambda {lambda:e}: held-out 2D NME {e:.3} % (learned jaw + fixed inner 51: {:.3} %)\n",
            jaw_only_nme(&model, val)
        ));
        if best.is_none_or(|(_, b)| e < b) {
            best = Some((lambda, e));
        }
    }
    let (lambda, _) = best.context("no ridge weight given")?;
    report.push_str(&format!(
        "chosen lambda {lambda:e}, refitted on all pairs\n"
    ));
    Ok((fit(pairs, lambda)?, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_truth_is_learned() {
        // Truth = a fixed affine function of FaceMesh's points (in the face frame): the ridge
        // fit recovers it and beats the fixed map.
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
        let base: Vec<[f32; 3]> = (0..468)
            .map(|i| {
                let t = i as f32;
                [
                    (t * 0.7).sin() * 40.0,
                    (t * 0.3).cos() * 50.0,
                    (t * 0.2).sin() * 10.0,
                ]
            })
            .collect();
        let pairs: Vec<Pair> = (0..200)
            .map(|_| {
                let fm: Vec<[f32; 3]> = base
                    .iter()
                    .map(|p| {
                        let mut j = |s: f32| rand::Rng::random_range(&mut rng, -s..s);
                        [p[0] + 100.0 + j(2.0), p[1] + 120.0 + j(2.0), p[2] + j(1.0)]
                    })
                    .collect();
                let truth = (0..68)
                    .map(|k| {
                        let a = fm[k * 5];
                        let b = fm[k * 5 + 2];
                        [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0 + 3.0, a[2]]
                    })
                    .collect();
                (fm, truth)
            })
            .collect();
        let (model, report) = train(&pairs, &[1e-6, 1e-3]).unwrap();
        let e = mean_nme(&model, &pairs[170..]);
        assert!(e < 0.5, "{e} {report}");
        assert!(e < fixed_map_nme(&pairs[170..]));
    }
}
