//! `visage eval recon`: reconstruction error on the synthetic test split (ids >= 1,000,000).
//!
//! Protocol (DESIGN.md section 6): for each test sample, the method sees the clean 128 px render
//! (degraded to a chosen face width, then enlarged back with an upscaler) and 68 landmarks, either
//! FaceMesh's on that crop (as on a real photo, the default) or the ground truth; its mesh (crop frame) is compared with the ground-truth face-area
//! mesh: trimmed ICP (10 iterations, best 90 % of pairs) aligns the ground-truth vertices to the
//! predicted surface, then every ground-truth vertex's distance to the closest surface point is
//! averaged and divided by the outer interocular distance (3D, landmarks 36-45). That is the NME.
//!
//! Face width: the x-extent of the 68 landmarks in the 128 px crop. "Width w" scales the crop so
//! the face is `w` pixels wide (nothing happens when it is already narrower), then enlarges it
//! back to 128 px with the upscaler.
//!
//! Methods plug in through [`CropReconstructor`].

use super::align::{SurfaceIndex, icp};
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::reconstruct::crop::crop_landmarks;
use crate::pipeline::reconstruct::vrn::{Options, VrnModel};
use crate::pipeline::upscale::{Upscaler, upscale};
use crate::synth::shard::Shard;
use anyhow::Context;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::path::Path;

/// A method evaluated on face crops framed like the synthetic samples.
pub trait CropReconstructor {
    /// The mesh (crop frame of the crop) of a 128 px face crop and its 68 landmarks (crop pixels).
    ///
    /// # Errors
    /// Whatever the method reports (e.g. an empty volume).
    fn reconstruct_crop(&self, crop: &RgbImage, landmarks68: &[[f32; 2]]) -> anyhow::Result<Mesh>;
}

impl CropReconstructor for VrnModel {
    fn reconstruct_crop(&self, crop: &RgbImage, landmarks68: &[[f32; 2]]) -> anyhow::Result<Mesh> {
        Ok(self.mesh_from_crop(crop, landmarks68, &Options::default())?)
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
}

/// The first `count` samples of the shards in `dir` (sorted by file name).
///
/// # Errors
/// Unreadable shards.
pub fn load_test(dir: &Path, count: usize) -> anyhow::Result<Vec<TestSample>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
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
            out.push(TestSample {
                id,
                clean: RgbImage::from_raw(side, side, shard.u8s("clean", i)?)
                    .context("sample of the wrong size")?,
                landmarks_2d: pairs(shard.f32s("landmarks_2d", i)?),
                landmarks_3d: triples(shard.f32s("landmarks_3d", i)?),
                mesh: triples(shard.f32s("mesh", i)?),
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
    let index = SurfaceIndex::new(pred, 4.0);
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

/// Where the method's 68 landmarks come from.
#[derive(Clone, Copy)]
pub enum LandmarkSource<'a> {
    /// The sample's ground truth (isolates the reconstructor).
    Truth,
    /// FaceMesh run on the (degraded, enlarged) crop, as on a real photo.
    FaceMesh(&'a Detector),
}

/// FaceMesh's 68-point subset on a face crop framed like a synthetic sample: one pass on the
/// whole crop, a second on the ROI of the first pass's landmarks.
///
/// # Errors
/// No face seen by FaceMesh.
pub fn facemesh_68(detector: &Detector, crop: &RgbImage) -> anyhow::Result<Vec<[f32; 2]>> {
    let marks = crop_landmarks(detector, crop)?;
    let p68 = to_68(&marks.points).context("FaceMesh returned too few points")?;
    Ok(p68.iter().map(|p| [p[0], p[1]]).collect())
}

/// One row of the result table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Target face width, pixels.
    pub width: u32,
    /// Upscaler (`None`: the width needs no enlarging, the crop is used as rendered).
    pub upscaler: Option<Upscaler>,
    /// Mean NME over the samples that produced a mesh.
    pub mean: f32,
    /// Median NME.
    pub median: f32,
    /// Samples evaluated.
    pub count: usize,
    /// Samples where the method produced no mesh (not in the mean).
    pub failures: usize,
}

/// Evaluates `method` on `samples` at one face width and upscaler (`None`: the clean crop).
///
/// # Errors
/// Image errors.
pub fn evaluate(
    method: &dyn CropReconstructor,
    samples: &[TestSample],
    width: u32,
    upscaler: Option<Upscaler>,
    landmarks: LandmarkSource,
) -> anyhow::Result<Row> {
    let mut errors = Vec::new();
    let mut failures = 0;
    for s in samples {
        #[allow(clippy::cast_precision_loss)]
        let crop = match upscaler {
            Some(u) => at_face_width(&s.clean, face_width(&s.landmarks_2d), width as f32, u)?,
            None => s.clean.clone(),
        };
        let iod = interocular(&s.landmarks_3d).unwrap_or(f32::NAN);
        let lms = match landmarks {
            LandmarkSource::Truth => Ok(s.landmarks_2d.clone()),
            LandmarkSource::FaceMesh(d) => facemesh_68(d, &crop),
        };
        match lms.and_then(|l| method.reconstruct_crop(&crop, &l)) {
            Ok(mesh) => match nme(&mesh, &s.mesh, iod) {
                Some(e) => errors.push(e),
                None => failures += 1,
            },
            Err(_) => failures += 1,
        }
    }
    errors.sort_by(f32::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let mean = errors.iter().sum::<f32>() / errors.len().max(1) as f32;
    Ok(Row {
        width,
        upscaler,
        mean,
        median: errors.get(errors.len() / 2).copied().unwrap_or(f32::NAN),
        count: samples.len(),
        failures,
    })
}

/// The rows as a Markdown table.
#[must_use]
pub fn table(method: &str, rows: &[Row]) -> String {
    let mut s = String::from(
        "| method | face width (px) | upscaler | NME mean | NME median | samples | failures |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s += &format!(
            "| {method} | {} | {} | {:.4} | {:.4} | {} | {} |\n",
            r.width,
            r.upscaler.map_or("-", Upscaler::name),
            r.mean,
            r.median,
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
}
