//! Reconstruction error on the synthetic test split (ids >= 1,000,000): the one per-sample loop
//! behind `visage eval recon` and `visage eval report` (the synthetic sections; real photos come
//! first, in [`super::real`]).
//!
//! Protocol (DESIGN.md section 6): each test sample's clean 128 px render is treated as a photo.
//! For each [`Condition`] it is shrunk so its face is the condition's width wide
//! ([`crate::pipeline::degrade::shrink_face`], the same function as the app's "Simulate low
//! resolution"), FaceMesh runs on that image as on a photo (the render is already a face crop,
//! so BlazeFace is not needed) and [`FaceCrop::from_landmarks`] cuts and enlarges the face with
//! the condition's upscaler: from there every method runs exactly as in the app
//! ([`crate::pipeline::reconstruct::Reconstructor`]). The mesh is mapped back into the sample's
//! crop frame, placed in depth by the median offset at the visible ground-truth vertices, and
//! compared with the ground-truth face-area vertices: trimmed ICP (10 iterations, best 90 % of
//! pairs), then every ground-truth vertex's distance to the closest surface point is averaged and
//! divided by the outer interocular distance (3D, landmarks 36-45). That is the NME ([`nme`]).
//! Methods with a depth map also report its error on the face mask.
//!
//! Face width: the x-extent of the 68 landmarks. Widths of 128 and more use the render as it is
//! (its faces are 45-109 px wide).

use super::align::{SurfaceIndex, icp};
use super::visible::visible_vertices;
use crate::metrics::depth::centred_mae;
use crate::pipeline::degrade::{DegradeMethod, shrink_face};
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::detect::{Detector, Landmarks};
use crate::pipeline::mesh::Mesh;
use crate::pipeline::mesh::from_depth::DepthMap;
use crate::pipeline::mesh::probe::DepthProbe;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::reconstruct::{FaceCrop, Method, Reconstructor};
use crate::pipeline::upscale::Upscaler;
use crate::synth::Sample;
use crate::synth::shard::Shard;
use crate::timing::{Stages, measure};
use anyhow::Context;
use image::RgbImage;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// One test sample.
#[derive(Clone, Debug)]
pub struct TestSample {
    /// Sample id (seed).
    pub id: i64,
    /// Clean 128 px render.
    pub clean: RgbImage,
    /// 68 landmarks, crop pixels (v down).
    pub landmarks_2d: Vec<[f32; 2]>,
    /// 68 landmarks, crop frame.
    pub landmarks_3d: Vec<[f32; 3]>,
    /// Ground-truth face-area vertices, crop frame.
    pub mesh: Vec<[f32; 3]>,
    /// Crop-frame depth per pixel (see [`Sample::depth`]).
    pub depth: Vec<f32>,
    /// Head mask per pixel.
    pub mask: Vec<u8>,
    /// The vertices of `mesh` on the visible surface ([`super::visible`]).
    pub visible: Vec<[f32; 3]>,
}

impl TestSample {
    /// A sample rendered in memory (e.g. from the procedural head).
    ///
    /// # Errors
    /// A sample whose image does not match its size.
    pub fn from_sample(id: i64, s: &Sample, side: u32) -> anyhow::Result<Self> {
        Ok(Self {
            id,
            clean: RgbImage::from_raw(side, side, s.clean.clone())
                .context("sample of the wrong size")?,
            landmarks_2d: s.landmarks_2d.clone(),
            landmarks_3d: s.landmarks_3d.clone(),
            mesh: s.mesh.clone(),
            depth: s.depth.clone(),
            mask: s.mask.clone(),
            visible: visible_vertices(&s.mesh, &s.depth, &s.mask, side as usize),
        })
    }

    /// The head's yaw in degrees: the angle of the outer eye corners' line (landmarks 36 to 45)
    /// out of the image plane, positive when the face's left eye (45) is nearer the camera;
    /// `None` without 68 landmarks.
    #[must_use]
    pub fn yaw_degrees(&self) -> Option<f32> {
        let (a, b) = (self.landmarks_3d.get(36)?, self.landmarks_3d.get(45)?);
        Some((b[2] - a[2]).atan2(b[0] - a[0]).to_degrees())
    }

    /// Mean crop-frame depth over the head mask (0 for an empty mask).
    #[must_use]
    pub fn mean_head_depth(&self) -> f32 {
        let head: Vec<f32> = (0..self.mask.len())
            .filter(|&i| self.mask[i] > 0)
            .map(|i| self.depth[i])
            .collect();
        let n = head.len().max(1) as f32;
        head.iter().sum::<f32>() / n
    }
}

/// The first `count` samples of the shards in `dir` (sorted by file name).
///
/// # Errors
/// Unreadable shards.
pub fn load_test(dir: &Path, count: usize) -> anyhow::Result<Vec<TestSample>> {
    let mut out = Vec::new();
    for f in crate::dataset::shard_files(dir)? {
        let shard = Shard::open(&f)?;
        let side = u32::try_from(shard.info.size)?;
        for i in 0..shard.len() {
            if out.len() >= count {
                return Ok(out);
            }
            let id_bytes = shard.bytes("ids", i)?;
            let id = i64::from_le_bytes(id_bytes.try_into().unwrap_or([0; 8]));
            let pairs = |v: Vec<f32>| v.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
            let triples = |v: Vec<f32>| v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            let mesh: Vec<[f32; 3]> = triples(shard.f32s("mesh", i)?);
            let (depth, mask) = (shard.f32s("depth", i)?, shard.u8s("mask", i)?);
            let visible = visible_vertices(&mesh, &depth, &mask, shard.info.size);
            out.push(TestSample {
                id,
                clean: RgbImage::from_raw(side, side, shard.u8s("clean", i)?)
                    .context("sample of the wrong size")?,
                landmarks_2d: pairs(shard.f32s("landmarks_2d", i)?),
                landmarks_3d: triples(shard.f32s("landmarks_3d", i)?),
                mesh,
                visible,
                depth,
                mask,
            });
        }
    }
    Ok(out)
}

pub use crate::pipeline::reconstruct::face::face_width;

pub use crate::metrics::nme::interocular;

/// NME of `pred` against the ground-truth vertices `gt` (see the module docs); `None` when
/// `pred` has no surface to measure against.
#[must_use]
pub fn nme(pred: &Mesh, gt: &[[f32; 3]], interocular: f32) -> Option<f32> {
    if pred.triangles.is_empty() || gt.is_empty() {
        return None;
    }
    let index = SurfaceIndex::new(pred);
    // Every 5th vertex drives the alignment (the face-area vertices are dense); all are measured.
    let sparse: Vec<[f32; 3]> = gt.iter().step_by(5).copied().collect();
    let xf = icp(&sparse, &index, 10, 0.9);
    let total: f64 = gt
        .iter()
        .filter_map(|&p| {
            let m = xf.apply(p);
            index.closest(m).map(|q| {
                let d = [q[0] - m[0], q[1] - m[1], q[2] - m[2]];
                f64::from((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
            })
        })
        .sum();
    let mean = (total / gt.len().max(1) as f64) as f32;
    Some(mean / interocular.max(1e-6))
}

/// Where the methods' landmarks come from.
#[derive(Clone, Copy)]
pub enum LandmarkSource<'a> {
    /// The sample's true 68 landmarks for the networks (isolates the reconstructor); FaceMesh
    /// still frames the crop and drives the fits.
    Truth(&'a Detector),
    /// FaceMesh run on the (shrunk) render, as on a real photo.
    FaceMesh(&'a Detector),
}

/// FaceMesh's 68-point subset (x, y) of `landmarks`.
///
/// # Errors
/// Too few points.
pub fn subset_68(landmarks: &Landmarks) -> anyhow::Result<Vec<[f32; 2]>> {
    let p68 = to_68(&landmarks.points).context("FaceMesh returned too few points")?;
    Ok(p68.iter().map(|p| [p[0], p[1]]).collect())
}

/// One evaluated input: a face width and the upscaler that brings it back to 128 px.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Condition {
    /// Target face width, pixels.
    pub width: u32,
    /// Upscaler (`None`: the crop as rendered, for widths of 128 px and more).
    pub upscaler: Option<Upscaler>,
}

impl Condition {
    /// Every width with every upscaler; a width of 128 or more is one condition, the crop as
    /// rendered. Widths keep the given order.
    #[must_use]
    pub fn grid(widths: &[u32], upscalers: &[Upscaler]) -> Vec<Self> {
        widths
            .iter()
            .flat_map(|&width| {
                let list: Vec<Option<Upscaler>> = if width >= 128 {
                    vec![None]
                } else {
                    upscalers.iter().copied().map(Some).collect()
                };
                list.into_iter()
                    .map(move |upscaler| Self { width, upscaler })
            })
            .collect()
    }

    /// The sample's render as a photo under this condition: shrunk so its face is `width` wide
    /// (unchanged as rendered), and the factor applied.
    ///
    /// # Errors
    /// A width that leaves no pixels.
    pub fn photo(&self, sample: &TestSample) -> anyhow::Result<(RgbImage, f32)> {
        match self.upscaler {
            Some(_) => Ok(shrink_face(
                &sample.clean,
                face_width(&sample.landmarks_2d),
                self.width as f32,
                DegradeMethod::Bicubic,
            )?),
            None => Ok((sample.clean.clone(), 1.0)),
        }
    }

    /// The upscaler's name, `-` for none.
    #[must_use]
    pub fn upscaler_name(&self) -> &'static str {
        self.upscaler.map_or("-", Upscaler::name)
    }
}

/// One method on one sample under one condition.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Score {
    /// The method.
    pub method: Method,
    /// The condition.
    pub condition: Condition,
    /// Sample id.
    pub sample: i64,
    /// NME; `None` when the method produced no mesh (a failure).
    pub nme: Option<f32>,
    /// NME over the visible ground-truth vertices only ([`super::visible`]).
    pub nme_visible: Option<f32>,
    /// Depth MAE on the head mask, crop pixels (methods with a depth map).
    pub depth_mae_px: Option<f32>,
}

/// Accumulated wall time per named stage.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StageClock {
    /// Stage name -> (total seconds, calls).
    pub stages: BTreeMap<String, (f64, usize)>,
}

impl StageClock {
    /// Adds one call of `stage` that took `seconds`.
    pub fn add(&mut self, stage: &str, seconds: f64) {
        let e = self.stages.entry(stage.to_string()).or_insert((0.0, 0));
        e.0 += seconds;
        e.1 += 1;
    }

    /// Adds one run's [`Stages`], each stage name prefixed with `prefix`.
    pub fn absorb(&mut self, prefix: &str, stages: &Stages) {
        for (name, d) in &stages.0 {
            self.add(&format!("{prefix}{name}"), d.as_secs_f64());
        }
    }

    /// Mean milliseconds per call of each stage.
    #[must_use]
    pub fn mean_ms(&self) -> Vec<(String, f64, usize)> {
        self.stages
            .iter()
            .map(|(k, &(s, n))| (k.clone(), 1e3 * s / n.max(1) as f64, n))
            .collect()
    }
}

/// The prepared face of one sample under one condition (see the module docs), and the factor
/// its photo was shrunk by.
///
/// # Errors
/// FaceMesh failures, landmarks that cannot frame a crop.
pub fn prepare_sample(
    sample: &TestSample,
    condition: Condition,
    landmarks: LandmarkSource,
    clock: &mut StageClock,
) -> anyhow::Result<(FaceCrop, f32, RgbImage)> {
    let t = Instant::now();
    let (photo, s) = condition.photo(sample)?;
    clock.add("shrink", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let (marks, truth) = match landmarks {
        LandmarkSource::FaceMesh(d) => (crop_landmarks(d, &photo)?, None),
        LandmarkSource::Truth(d) => (crop_landmarks(d, &photo)?, Some(&sample.landmarks_2d)),
    };
    clock.add("FaceMesh", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let upscaler = condition.upscaler.unwrap_or_default();
    let mut face = FaceCrop::from_landmarks(&photo, &marks, upscaler)?;
    if let Some(truth) = truth {
        let m = face.crop.crop_from_photo;
        face.landmarks68 = truth
            .iter()
            .map(|p| m.apply([p[0] * s, p[1] * s]))
            .collect();
    }
    clock.add(
        &format!("crop + upscale ({})", condition.upscaler_name()),
        t.elapsed().as_secs_f64(),
    );
    Ok((face, s, photo))
}

/// Evaluates every method on every sample under every condition; the shrink, FaceMesh and the
/// crop run once per sample and condition and are shared by the methods. Progress goes to
/// stderr.
///
/// # Errors
/// Image errors (a method's failure on a sample is a failed score, not an error).
pub fn evaluate(
    methods: &[Box<dyn Reconstructor>],
    samples: &[TestSample],
    conditions: &[Condition],
    landmarks: LandmarkSource,
    clock: &mut StageClock,
) -> anyhow::Result<Vec<Score>> {
    let start = Instant::now();
    let mut scores = Vec::new();
    for (k, &condition) in conditions.iter().enumerate() {
        for s in samples {
            let prepared = prepare_sample(s, condition, landmarks, clock);
            for reconstructor in methods {
                let method = reconstructor.method();
                let score = match &prepared {
                    Ok((face, scale, photo)) => score_one(
                        reconstructor.as_ref(),
                        &SampleFace {
                            face,
                            scale: *scale,
                            photo,
                        },
                        s,
                        clock,
                    ),
                    Err(_) => (None, None, None),
                };
                scores.push(Score {
                    method,
                    condition,
                    sample: s.id,
                    nme: score.0,
                    nme_visible: score.1,
                    depth_mae_px: score.2,
                });
            }
        }
        eprintln!(
            "[{}/{}] width {} px, upscaler {}: {} samples x {} methods done, {:.0} s elapsed",
            k + 1,
            conditions.len(),
            condition.width,
            condition.upscaler_name(),
            samples.len(),
            methods.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(scores)
}

/// A prepared sample: the face, the shrink factor of its photo, the photo.
pub struct SampleFace<'a> {
    /// The prepared face.
    pub face: &'a FaceCrop,
    /// Pixels of the shrunk photo per pixel of the render.
    pub scale: f32,
    /// The shrunk photo.
    pub photo: &'a RgbImage,
}

impl SampleFace<'_> {
    /// A point of the face crop's frame in the sample's crop frame (the render's pixels, +Y up,
    /// +Z towards the camera).
    #[must_use]
    pub fn to_sample(&self, p: [f32; 3], side: f32) -> [f32; 3] {
        let q = self.face.photo_frame_point(p);
        [
            q[0] / self.scale,
            side + q[1] / self.scale,
            q[2] / self.scale,
        ]
    }
}

/// The mesh of `reconstructor` on a prepared sample, in the sample's crop frame, placed in depth
/// by the median offset to the visible ground truth (a start for ICP), and its depth map.
///
/// # Errors
/// The method's failure.
pub fn sample_mesh(
    reconstructor: &dyn Reconstructor,
    sf: &SampleFace,
    s: &TestSample,
    clock: &mut StageClock,
) -> anyhow::Result<(Mesh, Option<DepthMap>)> {
    let (out, stages) = measure(|| reconstructor.reconstruct(sf.photo, sf.face));
    clock.absorb(&format!("{}: ", reconstructor.method()), &stages);
    let out = out?;
    let side = s.clean.width() as f32;
    let mut mesh = out.mesh;
    for p in &mut mesh.positions {
        *p = sf.to_sample(*p, side);
    }
    let probe = DepthProbe::new(&mesh.positions, &mesh.triangles);
    let mut offsets: Vec<f32> = s
        .visible
        .iter()
        .filter_map(|p| probe.front_z(p[0], p[1]).map(|z| p[2] - z))
        .collect();
    if !offsets.is_empty() {
        offsets.sort_by(f32::total_cmp);
        let shift = offsets[offsets.len() / 2];
        for p in &mut mesh.positions {
            p[2] += shift;
        }
    }
    Ok((mesh, out.depth))
}

/// NME, visible NME and depth MAE of one method on one prepared sample (`None`s for a failure).
fn score_one(
    reconstructor: &dyn Reconstructor,
    sf: &SampleFace,
    s: &TestSample,
    clock: &mut StageClock,
) -> (Option<f32>, Option<f32>, Option<f32>) {
    let Ok((mesh, depth)) = sample_mesh(reconstructor, sf, s, clock) else {
        return (None, None, None);
    };
    let t = Instant::now();
    let iod = interocular(&s.landmarks_3d).unwrap_or(f32::NAN);
    let e = nme(&mesh, &s.mesh, iod);
    let visible = e.and_then(|_| nme(&mesh, &s.visible, iod));
    clock.add(
        &format!("{}: NME (ICP + distances)", reconstructor.method()),
        t.elapsed().as_secs_f64(),
    );
    let mae = depth.and_then(|d| depth_mae(&d, sf, s));
    (e, visible, mae)
}

/// Depth error of a method's depth map (over its crop) against the sample's true depth, on the
/// pixels both cover, both centred there ([`centred_mae`]), in pixels of the render.
#[must_use]
pub fn depth_mae(map: &DepthMap, sf: &SampleFace, s: &TestSample) -> Option<f32> {
    let side = s.clean.width() as usize;
    let k = sf.face.side() / map.width.max(1) as f32;
    let (mut pred, mut truth, mut both) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..map.height {
        for c in 0..map.width {
            let i = r * map.width + c;
            let centre = [
                (c as f32 + 0.5) * k,
                sf.face.side() - (r as f32 + 0.5) * k,
                0.0,
            ];
            let q = sf.to_sample(centre, side as f32);
            let (x, y) = (q[0].floor() as usize, (side as f32 - q[1]).floor() as usize);
            let j = (x < side && y < side).then_some(y * side + x);
            let covered = j.is_some_and(|j| s.mask[j] > 0) && map.mask[i];
            let z = sf.to_sample([0.0, 0.0, map.depth[i]], side as f32)[2];
            pred.push(z);
            truth.push(j.map_or(0.0, |j| s.depth[j]));
            both.push(covered);
        }
    }
    centred_mae(&pred, &truth, &both)
}

/// Aggregate of the scores of one method under one condition.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// The method.
    pub method: Method,
    /// The condition.
    pub condition: Condition,
    /// Mean and standard deviation of the NME over the samples that produced a mesh.
    pub nme: (f64, f64),
    /// Median NME.
    pub median: f64,
    /// Mean and standard deviation of the visible NME ([`super::visible`]).
    pub nme_visible: (f64, f64),
    /// Mean and standard deviation of the depth MAE (crop pixels), for depth methods.
    pub depth_mae_px: Option<(f64, f64)>,
    /// Samples evaluated.
    pub count: usize,
    /// Samples where the method produced no mesh (not in the statistics).
    pub failures: usize,
}

/// One [`Row`] per method and condition, in the order of `methods` then `conditions`.
#[must_use]
pub fn rows(scores: &[Score], methods: &[Method], conditions: &[Condition]) -> Vec<Row> {
    use super::stats::{mean_std, median};
    let mut out = Vec::new();
    for &method in methods {
        for &condition in conditions {
            let mine: Vec<&Score> = scores
                .iter()
                .filter(|s| s.method == method && s.condition == condition)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let nmes: Vec<f64> = mine.iter().filter_map(|s| s.nme.map(f64::from)).collect();
            let visible: Vec<f64> = mine
                .iter()
                .filter_map(|s| s.nme_visible.map(f64::from))
                .collect();
            let maes: Vec<f64> = mine
                .iter()
                .filter_map(|s| s.depth_mae_px.map(f64::from))
                .collect();
            out.push(Row {
                method,
                condition,
                nme: mean_std(&nmes),
                median: median(&nmes),
                nme_visible: mean_std(&visible),
                depth_mae_px: (!maes.is_empty()).then(|| mean_std(&maes)),
                count: mine.len(),
                failures: mine.len() - nmes.len(),
            });
        }
    }
    out
}

/// The rows as a Markdown table (NME mean +- std, median, visible NME, depth MAE, samples,
/// failures).
#[must_use]
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| method | face width (px) | upscaler | NME mean +- std | NME median | NME visible | depth MAE px | samples | failures |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let mae = r
            .depth_mae_px
            .map_or_else(|| "-".to_string(), |(m, d)| format!("{m:.3} +- {d:.3}"));
        s += &format!(
            "| {} | {} | {} | {:.4} +- {:.4} | {:.4} | {:.4} | {mae} | {} | {} |\n",
            r.method,
            r.condition.width,
            r.condition.upscaler_name(),
            r.nme.0,
            r.nme.1,
            r.median,
            r.nme_visible.0,
            r.count,
            r.failures
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mesh_on_the_points_scores_zero_and_a_shift_scores_its_length() {
        let cube = crate::pipeline::mesh::tests::cube();
        let gt = vec![
            [0.5, 0.5, 1.0],
            [0.2, 0.7, 1.0],
            [0.0, 0.5, 0.5],
            [1.0, 0.3, 0.6],
        ];
        assert!(nme(&cube, &gt, 1.0).unwrap() < 1e-5);
        assert_eq!(nme(&Mesh::default(), &gt, 1.0), None);
        // Points 0.1 outside the top face only: ICP may slide them back, never worse than 0.1.
        let off: Vec<[f32; 3]> = gt.iter().map(|p| [p[0], p[1], p[2] + 0.1]).collect();
        let e = nme(&cube, &off, 2.0).unwrap();
        assert!(e <= 0.05, "{e}");
    }

    #[test]
    fn yaw_is_the_eye_line_out_of_the_image_plane() {
        let mut s = TestSample {
            id: 0,
            clean: RgbImage::new(4, 4),
            landmarks_2d: Vec::new(),
            landmarks_3d: vec![[0.0; 3]; 68],
            mesh: Vec::new(),
            depth: Vec::new(),
            mask: Vec::new(),
            visible: Vec::new(),
        };
        s.landmarks_3d[36] = [10.0, 5.0, 0.0];
        s.landmarks_3d[45] = [30.0, 5.0, 20.0];
        assert!((s.yaw_degrees().unwrap() - 45.0).abs() < 1e-4);
        s.landmarks_3d[45] = [30.0, 5.0, 0.0];
        assert!(s.yaw_degrees().unwrap().abs() < 1e-4);
        s.landmarks_3d.truncate(40);
        assert_eq!(s.yaw_degrees(), None);
    }

    #[test]
    fn the_grid_has_one_clean_condition_and_every_upscaler_below_128() {
        let g = Condition::grid(&[128, 64, 32], &Upscaler::ALL);
        assert_eq!(g.len(), 1 + 2 * Upscaler::ALL.len());
        assert_eq!(g[0].upscaler, None);
        assert!(g[1..].iter().all(|c| c.upscaler.is_some() && c.width < 128));
    }
}
