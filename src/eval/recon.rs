//! Reconstruction error on the synthetic test split (ids >= 1,000,000): the one per-sample loop
//! behind `visage eval recon` and `visage eval report`.
//!
//! Protocol (DESIGN.md section 6): for each test sample and [`Condition`], the clean 128 px
//! render is degraded to the condition's face width and enlarged back with its upscaler
//! ([`at_face_width`]); FaceMesh runs once on that crop (or the ground-truth landmarks are used,
//! [`LandmarkSource`]) and every method then reconstructs the same crop ([`CropReconstructor`]).
//! Its mesh (crop frame) is compared with the ground-truth face-area vertices: trimmed ICP
//! (10 iterations, best 90 % of pairs) aligns the ground truth to the predicted surface, then
//! every ground-truth vertex's distance to the closest surface point is averaged and divided by
//! the outer interocular distance (3D, landmarks 36-45). That is the NME ([`nme`]). Methods
//! with a depth map also report its error on the face mask ([`super::depth`]).
//!
//! Face width: the x-extent of the 68 landmarks in the 128 px crop. "Width w" scales the crop so
//! the face is `w` pixels wide (nothing happens when it is already narrower), then enlarges it
//! back to 128 px with the upscaler; widths of 128 and more use the crop as rendered (its faces
//! are 45-109 px wide).
//!
//! The methods themselves are in [`super::methods`].

use super::align::{SurfaceIndex, icp};
use super::visible::visible_vertices;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::detect::{Detector, Landmarks};
use crate::pipeline::mesh::Mesh;
use crate::pipeline::reconstruct::Method;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::upscale::{Upscaler, upscale};
use crate::synth::Sample;
use crate::synth::shard::Shard;
use anyhow::Context;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// What a method sees of one face crop.
pub struct CropInput<'a> {
    /// The 128 px face crop, framed like a synthetic sample.
    pub crop: &'a RgbImage,
    /// 68 landmarks, crop pixels (v down).
    pub landmarks68: &'a [[f32; 2]],
    /// FaceMesh's full result on the crop (crop pixels), when FaceMesh supplied the landmarks.
    pub facemesh: Option<&'a Landmarks>,
}

/// The ground-truth depth of a sample, for methods that predict a depth map.
pub struct DepthTruth<'a> {
    /// Crop-frame z of the head surface per pixel (larger = closer), `side x side`.
    pub depth: &'a [f32],
    /// 1 where the head covers the pixel.
    pub mask: &'a [u8],
    /// Side of the maps, pixels.
    pub side: usize,
}

/// What a method returns for one crop.
pub struct CropOutput {
    /// The mesh in the crop frame of the 128 px crop.
    pub mesh: Mesh,
    /// Depth error on the head mask in crop pixels ([`super::depth::centred_mae`]), for methods
    /// with a depth map and when the truth was given.
    pub depth_mae_px: Option<f32>,
    /// Wall time of the network (or fit), seconds.
    pub network_s: f64,
    /// Wall time of meshing, seconds.
    pub mesh_s: f64,
}

/// A method evaluated on face crops framed like the synthetic samples.
pub trait CropReconstructor {
    /// The mesh (crop frame) of a face crop, with the depth error when `truth` is given.
    ///
    /// # Errors
    /// Whatever the method reports (e.g. an empty volume, no FaceMesh landmarks).
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput>;

    /// True when the mesh's depth has no absolute offset (z = 0 at the head's mean depth); the
    /// evaluation then places it at the ground truth's mean head depth before ICP.
    fn relative_depth(&self) -> bool {
        false
    }
}

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

    /// Its depth truth.
    #[must_use]
    pub fn depth_truth(&self) -> DepthTruth<'_> {
        DepthTruth {
            depth: &self.depth,
            mask: &self.mask,
            side: self.clean.width() as usize,
        }
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
        #[allow(clippy::cast_precision_loss)]
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
    for f in crate::train::pix2pix_data::shard_files(dir)? {
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

/// The crop as if the face had been `width` pixels wide: downscaled (Catmull-Rom, antialiased) so
/// the face spans `width` pixels, then enlarged back with `upscaler`. Unchanged when the face is
/// already at most `width` wide.
///
/// # Errors
/// Upscaling errors (none for valid sizes).
pub fn at_face_width(
    crop: &RgbImage,
    face_width: f32,
    width: f32,
    upscaler: Upscaler,
) -> anyhow::Result<RgbImage> {
    if face_width <= width {
        return Ok(crop.clone());
    }
    let side = crop.width();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let small = ((side as f32 * width / face_width).round() as u32).max(4);
    let lr = resize(crop, small, small, FilterType::CatmullRom);
    Ok(upscale(&lr, upscaler, side, side)?)
}

/// Width of the face: x-extent of its 68 landmarks, pixels.
#[must_use]
pub fn face_width(landmarks: &[[f32; 2]]) -> f32 {
    let (lo, hi) = landmarks
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), p| (l.min(p[0]), h.max(p[0])));
    (hi - lo).max(0.0)
}

/// Outer interocular distance: between 68-point landmarks 36 and 45 (3D); `None` for fewer
/// than 46 landmarks.
#[must_use]
pub fn interocular(landmarks: &[[f32; 3]]) -> Option<f32> {
    let (l, r) = (landmarks.get(36)?, landmarks.get(45)?);
    Some(((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2) + (l[2] - r[2]).powi(2)).sqrt())
}

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
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let mean = (total / gt.len().max(1) as f64) as f32;
    Some(mean / interocular.max(1e-6))
}

/// Where the methods' landmarks come from.
#[derive(Clone, Copy)]
pub enum LandmarkSource<'a> {
    /// The sample's ground truth (isolates the reconstructor).
    Truth,
    /// FaceMesh run on the (degraded, enlarged) crop, as on a real photo.
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

    /// The face crop of `sample` under this condition.
    ///
    /// # Errors
    /// Upscaling errors.
    pub fn crop(&self, sample: &TestSample) -> anyhow::Result<RgbImage> {
        match self.upscaler {
            #[allow(clippy::cast_precision_loss)]
            Some(u) => at_face_width(
                &sample.clean,
                face_width(&sample.landmarks_2d),
                self.width as f32,
                u,
            ),
            None => Ok(sample.clean.clone()),
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

    /// Mean milliseconds per call of each stage.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn mean_ms(&self) -> Vec<(String, f64, usize)> {
        self.stages
            .iter()
            .map(|(k, &(s, n))| (k.clone(), 1e3 * s / n.max(1) as f64, n))
            .collect()
    }
}

/// Evaluates every method on every sample under every condition; FaceMesh and the degradation
/// run once per sample and condition and are shared by the methods. Progress goes to stderr.
///
/// # Errors
/// Image errors (a method's failure on a sample is a failed score, not an error).
pub fn evaluate(
    methods: &[(Method, Box<dyn CropReconstructor>)],
    samples: &[TestSample],
    conditions: &[Condition],
    landmarks: LandmarkSource,
    clock: &mut StageClock,
) -> anyhow::Result<Vec<Score>> {
    let start = Instant::now();
    let mut scores = Vec::new();
    for (k, &condition) in conditions.iter().enumerate() {
        for s in samples {
            let t = Instant::now();
            let crop = condition.crop(s)?;
            let up = format!("degrade + upscale ({})", condition.upscaler_name());
            clock.add(&up, t.elapsed().as_secs_f64());
            let t = Instant::now();
            let facemesh = match landmarks {
                LandmarkSource::Truth => None,
                LandmarkSource::FaceMesh(d) => Some(crop_landmarks(d, &crop)),
            };
            clock.add("FaceMesh on the crop", t.elapsed().as_secs_f64());
            let lms = match &facemesh {
                None => Ok(s.landmarks_2d.clone()),
                Some(Ok(l)) => subset_68(l),
                Some(Err(e)) => Err(anyhow::anyhow!("{e}")),
            };
            for (method, reconstructor) in methods {
                let score = match &lms {
                    Ok(l) => {
                        let input = CropInput {
                            crop: &crop,
                            landmarks68: l,
                            facemesh: facemesh.as_ref().and_then(|f| f.as_ref().ok()),
                        };
                        score_one(*method, reconstructor.as_ref(), &input, s, clock)
                    }
                    Err(_) => (None, None, None),
                };
                scores.push(Score {
                    method: *method,
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

/// NME, visible NME and depth MAE of one method on one crop (`None`s for a failure).
fn score_one(
    method: Method,
    reconstructor: &dyn CropReconstructor,
    input: &CropInput,
    s: &TestSample,
    clock: &mut StageClock,
) -> (Option<f32>, Option<f32>, Option<f32>) {
    let Ok(mut out) = reconstructor.reconstruct_crop(input, Some(&s.depth_truth())) else {
        return (None, None, None);
    };
    clock.add(&format!("{method}: network"), out.network_s);
    clock.add(&format!("{method}: mesh"), out.mesh_s);
    if reconstructor.relative_depth() {
        let offset = s.mean_head_depth();
        for p in &mut out.mesh.positions {
            p[2] += offset;
        }
    }
    let t = Instant::now();
    let iod = interocular(&s.landmarks_3d).unwrap_or(f32::NAN);
    let e = nme(&out.mesh, &s.mesh, iod);
    let visible = e.and_then(|_| nme(&out.mesh, &s.visible, iod));
    clock.add(
        &format!("{method}: NME (ICP + distances)"),
        t.elapsed().as_secs_f64(),
    );
    (e, visible, out.depth_mae_px)
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
    fn narrow_faces_are_left_alone() {
        let img = RgbImage::from_fn(32, 32, |x, y| image::Rgb([(x * 8) as u8, (y * 8) as u8, 9]));
        assert_eq!(
            at_face_width(&img, 20.0, 64.0, Upscaler::Bicubic).unwrap(),
            img
        );
        let small = at_face_width(&img, 20.0, 5.0, Upscaler::Bilinear).unwrap();
        assert_eq!(small.dimensions(), (32, 32));
        assert_ne!(small, img);
    }

    #[test]
    fn the_grid_has_one_clean_condition_and_every_upscaler_below_128() {
        let g = Condition::grid(&[128, 64, 32], &Upscaler::ALL);
        assert_eq!(g.len(), 1 + 2 * Upscaler::ALL.len());
        assert_eq!(g[0].upscaler, None);
        assert!(g[1..].iter().all(|c| c.upscaler.is_some() && c.width < 128));
    }
}
