//! `visage bench`: per-stage latency of every method on one photo, the median over repeated runs
//! after one warm-up run; or, for a folder, each photo once and the photos per second.
//!
//! Every run is the one photo-to-mesh path
//! ([`crate::pipeline::reconstruct::photo_to_mesh`]), timed by its `tracing` spans
//! ([`crate::timing`]): detect (BlazeFace on the photo), landmarks (FaceMesh on the face), crop
//! (the 128 px face crop, cut at the face's own resolution and enlarged with the upscaler when
//! the face is smaller), network (the method's network, fit or refinement), mesh (isosurface,
//! depth grid or triangulation, with smoothing and colours) and texture (the photo baked into
//! the UV layout, or laid on as it is).

use super::stats::median;
use crate::pipeline::degrade::{DegradeMethod, shrink_face};
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::reconstruct::face::face_width;
use crate::pipeline::reconstruct::{FacePick, Method, Reconstructor, photo_to_mesh};
use crate::pipeline::upscale::Upscaler;
use crate::timing::measure;
use anyhow::Context;
use image::RgbImage;
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
    /// Network, fit and refinement.
    pub reconstruct: f64,
    /// Meshing.
    pub mesh: f64,
    /// The texture from the photo (baked or projected).
    pub texture: f64,
    /// Median of the whole run.
    pub total: f64,
}

/// The photo shrunk ([`shrink_face`]) so its best face is `width` pixels wide (x-extent of the
/// 68 landmarks); returns the photo and the face width before.
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
    let p68 = to_68(&lm.points).context("the landmarks lack the 68-point subset")?;
    let now = face_width(&p68.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>());
    let (small, _) = shrink_face(photo, now, width as f32, DegradeMethod::Bicubic)?;
    Ok((small, now))
}

/// Times every method on `photo` (`repeats` timed runs after one warm-up).
///
/// # Errors
/// No face, or a method that fails on the photo.
pub fn bench(
    photo: &RgbImage,
    detector: &Detector,
    methods: &[Box<dyn Reconstructor>],
    upscaler: Upscaler,
    repeats: usize,
) -> anyhow::Result<Vec<StageMedians>> {
    let mut out = Vec::new();
    for reconstructor in methods {
        let method = reconstructor.method();
        let mut runs: Vec<[f64; 7]> = Vec::new();
        for k in 0..=repeats.max(1) {
            let run = run_once(photo, detector, reconstructor.as_ref(), upscaler)
                .with_context(|| format!("{method} on the benchmark photo"))?;
            if k > 0 {
                runs.push(run);
            }
        }
        let m = |i: usize| median(&runs.iter().map(|r| r[i]).collect::<Vec<_>>());
        out.push(StageMedians {
            method,
            detect: m(0),
            landmarks: m(1),
            upscale: m(2),
            reconstruct: m(3),
            mesh: m(4),
            texture: m(5),
            total: m(6),
        });
    }
    Ok(out)
}

/// One photo-to-mesh run: milliseconds of detect, landmarks, crop, network (+ fit, refine),
/// mesh, texture, total.
fn run_once(
    photo: &RgbImage,
    detector: &Detector,
    reconstructor: &dyn Reconstructor,
    upscaler: Upscaler,
) -> anyhow::Result<[f64; 7]> {
    let start = Instant::now();
    let (outcome, stages) = measure(|| {
        photo_to_mesh(
            detector,
            reconstructor,
            photo,
            FacePick::Rank(0),
            upscaler,
            None,
        )
    });
    let total = start.elapsed().as_secs_f64() * 1e3;
    outcome?;
    let ms = |names: &[&str]| {
        names
            .iter()
            .map(|n| stages.get(n).as_secs_f64() * 1e3)
            .sum::<f64>()
    };
    Ok([
        ms(&["detect"]),
        ms(&["landmarks"]),
        ms(&["crop"]),
        ms(&["network", "fit", "refine"]),
        ms(&["mesh"]),
        ms(&["texture", "texture_bake"]),
        total,
    ])
}

/// One method over a folder of photos: each photo once, through the whole path.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Throughput {
    /// The method.
    pub method: Method,
    /// Photos run.
    pub photos: usize,
    /// Photos that gave a mesh (the rest: no face, or the method failed).
    pub meshes: usize,
    /// Median detect milliseconds per photo.
    pub detect: f64,
    /// Median landmark milliseconds per photo.
    pub landmarks: f64,
    /// Median photo-to-mesh milliseconds per photo.
    pub total: f64,
    /// Photos per second over the whole folder, decoding included.
    pub per_second: f64,
}

/// Runs every method once on every photo in `photos` (after one warm-up run on the first):
/// per-photo stage medians and photos per second. Photos are decoded inside the timed loop, as
/// a batch would.
///
/// # Errors
/// An unreadable photo.
pub fn throughput(
    photos: &[std::path::PathBuf],
    detector: &Detector,
    methods: &[Box<dyn Reconstructor>],
    upscaler: Upscaler,
) -> anyhow::Result<Vec<Throughput>> {
    let mut out = Vec::new();
    for reconstructor in methods {
        if let Some(first) = photos.first() {
            let img = crate::pipeline::photo::Photo::load(first)?.rgb;
            let _ = run_once(&img, detector, reconstructor.as_ref(), upscaler);
        }
        let start = Instant::now();
        let mut runs: Vec<[f64; 7]> = Vec::new();
        for path in photos {
            let img = crate::pipeline::photo::Photo::load(path)?.rgb;
            if let Ok(run) = run_once(&img, detector, reconstructor.as_ref(), upscaler) {
                runs.push(run);
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let m = |i: usize| median(&runs.iter().map(|r| r[i]).collect::<Vec<_>>());
        out.push(Throughput {
            method: reconstructor.method(),
            photos: photos.len(),
            meshes: runs.len(),
            detect: m(0),
            landmarks: m(1),
            total: m(6),
            per_second: photos.len() as f64 / seconds.max(1e-9),
        });
    }
    Ok(out)
}

/// The folder results as a Markdown table.
#[must_use]
pub fn throughput_table(rows: &[Throughput]) -> String {
    let mut s = String::from(
        "| method | photos | meshes | detect ms (median) | landmarks ms (median) | photo to mesh ms (median) | photos / s |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} |",
            r.method, r.photos, r.meshes, r.detect, r.landmarks, r.total, r.per_second
        );
    }
    s
}

/// The medians as a Markdown table.
#[must_use]
pub fn table(rows: &[StageMedians]) -> String {
    let mut s = String::from(
        "| method | detect ms | landmarks ms | upscale ms | reconstruct ms | mesh ms | texture ms | total ms |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r.method, r.detect, r.landmarks, r.upscale, r.reconstruct, r.mesh, r.texture, r.total
        );
    }
    s
}
