//! `visage bench`: per-stage latency of every method on one photo, the median over repeated runs
//! after one warm-up run.
//!
//! Stages: detect (BlazeFace on the photo), landmarks (FaceMesh on the face), upscale (the
//! 128 px face crop, cut at the face's own resolution and enlarged with the upscaler when the
//! face is smaller), reconstruct (the method's network or fit) and mesh (isosurface, depth grid
//! or triangulation, with smoothing). Every method runs through
//! [`super::methods::crop_reconstructor`], as in the evaluation.

use super::recon::{CropInput, CropReconstructor, face_width, subset_68};
use super::stats::median;
use crate::pipeline::detect::{Detector, Landmarks};
use crate::pipeline::reconstruct::Method;
use crate::pipeline::reconstruct::vrn::crop_with_upscaler;
use crate::pipeline::upscale::Upscaler;
use anyhow::Context;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::fmt::Write as _;
use std::time::Instant;

/// Median milliseconds of each stage of one method.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StageMedians {
    /// The method.
    pub method: Method,
    /// BlazeFace.
    pub detect: f64,
    /// FaceMesh.
    pub landmarks: f64,
    /// Crop and upscale to 128 px.
    pub upscale: f64,
    /// Network or fit.
    pub reconstruct: f64,
    /// Meshing.
    pub mesh: f64,
    /// Median of the whole run.
    pub total: f64,
}

/// The photo scaled (Catmull-Rom) so its best face is `width` pixels wide (x-extent of the 68
/// landmarks); returns the photo and the face width before scaling.
///
/// # Errors
/// No face in the photo.
pub fn with_face_width(
    photo: &RgbImage,
    detector: &Detector,
    width: u32,
) -> anyhow::Result<(RgbImage, f32)> {
    let face = detector
        .faces(photo)?
        .into_iter()
        .next()
        .context("no face in the photo")?;
    let lm = detector.landmarks(photo, &face)?;
    let now = face_width(&subset_68(&lm)?);
    #[allow(clippy::cast_precision_loss)]
    let k = width as f32 / now.max(1.0);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let size = |s: u32| ((s as f32 * k).round() as u32).max(16);
    let scaled = resize(
        photo,
        size(photo.width()),
        size(photo.height()),
        FilterType::CatmullRom,
    );
    Ok((scaled, now))
}

/// Times every method on `photo` (`repeats` timed runs after one warm-up).
///
/// # Errors
/// No face, or a method that fails on the photo.
pub fn bench(
    photo: &RgbImage,
    detector: &Detector,
    methods: &[(Method, Box<dyn CropReconstructor>)],
    upscaler: Upscaler,
    repeats: usize,
) -> anyhow::Result<Vec<StageMedians>> {
    let mut out = Vec::new();
    for (method, reconstructor) in methods {
        let mut runs: Vec<[f64; 6]> = Vec::new();
        for k in 0..=repeats.max(1) {
            let run = run_once(photo, detector, reconstructor.as_ref(), upscaler)
                .with_context(|| format!("{method} on the benchmark photo"))?;
            if k > 0 {
                runs.push(run);
            }
        }
        let m = |i: usize| median(&runs.iter().map(|r| r[i]).collect::<Vec<_>>());
        out.push(StageMedians {
            method: *method,
            detect: m(0),
            landmarks: m(1),
            upscale: m(2),
            reconstruct: m(3),
            mesh: m(4),
            total: m(5),
        });
    }
    Ok(out)
}

/// One photo-to-mesh run: milliseconds of detect, landmarks, upscale, reconstruct, mesh, total.
fn run_once(
    photo: &RgbImage,
    detector: &Detector,
    reconstructor: &dyn CropReconstructor,
    upscaler: Upscaler,
) -> anyhow::Result<[f64; 6]> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let start = Instant::now();
    let t = Instant::now();
    let face = detector
        .faces(photo)?
        .into_iter()
        .next()
        .context("no face in the photo")?;
    let detect = ms(t);
    let t = Instant::now();
    let lm = detector.landmarks(photo, &face)?;
    let landmarks = ms(t);
    let t = Instant::now();
    let crop = crop_with_upscaler(photo, &lm, upscaler)?;
    let m = crop.crop_from_photo;
    let in_crop = Landmarks {
        points: lm
            .points
            .iter()
            .map(|p| {
                let q = m.apply([p[0], p[1]]);
                [q[0], q[1], p[2] * m.scale()]
            })
            .collect(),
        ..lm
    };
    let lms = subset_68(&in_crop)?;
    let upscale = ms(t);
    let input = CropInput {
        crop: &crop.image,
        landmarks68: &lms,
        facemesh: Some(&in_crop),
    };
    let result = reconstructor.reconstruct_crop(&input, None)?;
    Ok([
        detect,
        landmarks,
        upscale,
        result.network_s * 1e3,
        result.mesh_s * 1e3,
        ms(start),
    ])
}

/// The medians as a Markdown table.
#[must_use]
pub fn table(rows: &[StageMedians]) -> String {
    let mut s = String::from(
        "| method | detect ms | landmarks ms | upscale ms | reconstruct ms | mesh ms | total ms |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.method, r.detect, r.landmarks, r.upscale, r.reconstruct, r.mesh, r.total
        );
    }
    s
}
