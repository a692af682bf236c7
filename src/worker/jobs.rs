//! The worker loop and the body of each job. Every job reports progress per stage, checks the
//! cancel flag between stages and ends with exactly one result, error or cancellation event.

use super::reconstruct::{Models, Request, detect_faces, face_sizes, reconstruct_timed};
use super::{
    CompareAxis, ComparedUpscaler, CropRect, Event, Job, Method, Panel3d, ReconstructJob,
    Simulation, UpscalerComparison,
};
use crate::figure::{Panel, side_by_side};
use crate::metrics::face3d::depth51;
use crate::pipeline::compare::compare_upscalers;
use crate::pipeline::degrade::factor_for_face_width;
use crate::pipeline::detect::landmarks68::to_68;
use crate::pipeline::export::{self, MeshFormat};
use crate::pipeline::import;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::mesh::probe::DepthProbe;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::face::face_width;
use crate::pipeline::reconstruct::{Shrink, prepare_face};
use crate::pipeline::upscale::{Upscaler, upscale};
use anyhow::{Context, bail};
use image::RgbImage;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

/// Upscaling factor of a comparison without a simulated capture.
const PLAIN_FACTOR: u32 = 4;

/// The job was cancelled (not an error the user needs explained).
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
struct Cancelled;

/// Sends events to the UI and repaints it; knows the cancel flag.
pub(super) struct Reporter {
    tx: SyncSender<Event>,
    ctx: egui::Context,
    cancel: Arc<AtomicBool>,
}

impl Reporter {
    pub(super) fn new(tx: SyncSender<Event>, ctx: egui::Context, cancel: Arc<AtomicBool>) -> Self {
        Self { tx, ctx, cancel }
    }

    /// Sends one event (dropped silently when the UI is gone) and wakes the UI.
    fn send(&self, event: Event) {
        let _ = self.tx.send(event);
        self.ctx.request_repaint();
    }

    /// Reports a stage, after checking the cancel flag.
    fn stage(&self, stage: &'static str, fraction: f32) -> anyhow::Result<()> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(Cancelled.into());
        }
        self.send(Event::Progress { stage, fraction });
        Ok(())
    }
}

/// Serves jobs until the UI closes the channel.
pub(super) fn serve(jobs: &Receiver<Job>, reporter: &Reporter) {
    let mut models = Models::default();
    let _span = tracing::info_span!("visage-worker").entered();
    let choice = crate::device::choice();
    let (description, error) = models.set_device(choice);
    reporter.send(Event::Device {
        choice,
        description,
    });
    if let Some(e) = error {
        reporter.send(Event::Error(format!("device: {e}")));
    }
    for job in jobs {
        reporter.cancel.store(false, Ordering::SeqCst);
        let name = job.name();
        reporter.send(Event::Started(name));
        let outcome = catch_unwind(AssertUnwindSafe(|| run(job, &mut models, reporter)));
        let event = outcome_event(name, outcome);
        if let Some(event) = event {
            reporter.send(event);
        }
        reporter.send(Event::Finished);
    }
}

/// The event that reports how a job ended: nothing more on success, [`Event::Cancelled`], or an
/// [`Event::Error`] for an error or a caught panic.
fn outcome_event(name: &str, outcome: std::thread::Result<anyhow::Result<()>>) -> Option<Event> {
    match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) if e.is::<Cancelled>() => Some(Event::Cancelled),
        Ok(Err(e)) => Some(Event::Error(format!("{name}: {e:#}"))),
        Err(panic) => Some(Event::Error(format!(
            "{name}: internal error (a bug, please report it): {}",
            panic_message(panic.as_ref())
        ))),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

fn run(job: Job, models: &mut Models, r: &Reporter) -> anyhow::Result<()> {
    let _span = tracing::info_span!("job", name = job.name()).entered();
    match job {
        Job::LoadPhoto(path) => {
            r.stage("decode", 0.0)?;
            let photo = Arc::new(Photo::load(&path)?);
            r.stage("detect faces", 0.5)?;
            let faces = detect_faces(models, &photo)?;
            r.stage("measure faces", 0.8)?;
            let sizes = face_sizes(models, &photo)?;
            r.send(Event::PhotoLoaded {
                photo,
                faces,
                sizes,
            });
        }
        Job::OpenMesh(path) => {
            r.stage("read mesh", 0.0)?;
            let mesh = import::load(&path)?;
            let source = file_name(&path);
            r.send(Event::Mesh {
                mesh: Arc::new(mesh),
                source,
                stages: Vec::new(),
            });
        }
        Job::Reconstruct(job) => run_reconstruct(&job, models, r)?,
        Job::Compare3d { job, axis } => run_compare3d(&job, axis, models, r)?,
        Job::SaveComparison3d { image, meshes, dir } => {
            r.stage("write", 0.0)?;
            r.send(Event::Saved(save_comparison3d(&image, &meshes, &dir)?));
        }
        Job::Compare {
            photo,
            crop,
            simulation,
        } => {
            r.stage("crop", 0.0)?;
            let face = crop_photo(&photo, crop)?;
            let width = match simulation {
                Some(_) => {
                    r.stage("measure the face", 0.1)?;
                    Some(face_width_in(models, &photo, crop)?)
                }
                None => None,
            };
            r.stage("upscale", 0.2)?;
            let comparison = compare(&face, simulation, width)?;
            r.send(Event::Comparison(Arc::new(comparison)));
        }
        Job::SaveMesh { mesh, path, format } => {
            r.stage("write", 0.0)?;
            r.send(Event::Saved(save_mesh(&mesh, &path, format)?));
        }
        Job::SaveComparison { comparison, path } => {
            r.stage("draw", 0.0)?;
            let figure = comparison_figure(&comparison)?;
            save_image(&figure, &path)?;
            r.send(Event::Saved(vec![path]));
        }
        Job::SaveImage { image, path } => {
            r.stage("write", 0.0)?;
            save_image(&image, &path)?;
            r.send(Event::Saved(vec![path]));
        }
        Job::SetDevice(choice) => {
            let (description, error) = models.set_device(choice);
            r.send(Event::Device {
                choice,
                description,
            });
            if let Some(e) = error {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// The request of a reconstruct job.
fn request(job: &ReconstructJob) -> Request {
    Request {
        face: job.crop,
        shrink: job.simulation.map(|sim| Shrink {
            face_width: sim.face_width as f32,
            method: sim.method,
        }),
        upscaler: job.upscaler,
        method: job.method,
    }
}

fn run_reconstruct(job: &ReconstructJob, models: &mut Models, r: &Reporter) -> anyhow::Result<()> {
    let timed = reconstruct_timed(models, &job.photo, &request(job), &|stage, f| {
        r.stage(stage, f)
    })?;
    timed
        .mesh
        .sanity_check()
        .context("the reconstruction produced an invalid mesh")?;
    r.send(Event::Mesh {
        mesh: Arc::new(timed.mesh),
        source: job.method.name().to_owned(),
        stages: stage_ms(&timed.stages),
    });
    Ok(())
}

/// Milliseconds per stage.
fn stage_ms(stages: &crate::timing::Stages) -> Vec<(&'static str, f64)> {
    stages
        .0
        .iter()
        .map(|(n, d)| (*n, d.as_secs_f64() * 1e3))
        .collect()
}

/// One face reconstructed per upscaler (or per method), panel by panel; with a simulated
/// capture each panel is scored against the same method on the original-resolution face.
fn run_compare3d(
    job: &ReconstructJob,
    axis: CompareAxis,
    models: &mut Models,
    r: &Reporter,
) -> anyhow::Result<()> {
    let items: Vec<(&'static str, Method, Upscaler)> = match axis {
        CompareAxis::Upscalers => Upscaler::ALL
            .iter()
            .map(|&u| (u.name(), job.method, u))
            .collect(),
        CompareAxis::Methods => Method::ALL
            .iter()
            .map(|&m| (m.name(), m, job.upscaler))
            .collect(),
    };
    let count = items.len();
    let mut references: Vec<(Method, crate::worker::reconstruct::Timed)> = Vec::new();
    for (index, (label, method, upscaler)) in items.into_iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        r.stage(label, index as f32 / count as f32)?;
        let mut req = request(job);
        (req.method, req.upscaler) = (method, upscaler);
        let timed = reconstruct_timed(models, &job.photo, &req, &|_, _| Ok(()))?;
        // Photo to mesh: the pipeline's stages (model loading, done once, excluded).
        let ms = timed
            .stages
            .0
            .iter()
            .map(|(_, d)| d.as_secs_f64())
            .sum::<f64>()
            * 1e3;
        let error_pct = match req.shrink {
            None => None,
            Some(_) => {
                if !references.iter().any(|(m, _)| *m == method) {
                    let full = Request {
                        shrink: None,
                        ..req
                    };
                    let t = reconstruct_timed(models, &job.photo, &full, &|_, _| Ok(()))?;
                    references.push((method, t));
                }
                references
                    .iter()
                    .find(|(m, _)| *m == method)
                    .and_then(|(_, reference)| depth_error(&timed, reference))
            }
        };
        r.send(Event::Panel(Panel3d {
            index,
            count,
            label: label.to_owned(),
            stages: stage_ms(&timed.stages),
            mesh: Arc::new(timed.mesh),
            ms,
            error_pct,
        }));
    }
    Ok(())
}

/// depth51 (the metric of `visage eval real`) of `timed`'s surface against `reference`'s own 68
/// points, both in the original photo's frame.
fn depth_error(
    timed: &crate::worker::reconstruct::Timed,
    reference: &crate::worker::reconstruct::Timed,
) -> Option<f32> {
    let probe = DepthProbe::new(&timed.image_positions, &timed.mesh.triangles);
    depth51(&probe, &reference.landmarks).map(|d| d.mean_pct)
}

/// Writes the grid image and each panel's mesh (OBJ, textured) into `dir`.
fn save_comparison3d(
    image: &RgbImage,
    meshes: &[(String, Arc<Mesh>)],
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let grid = dir.join("comparison.png");
    save_image(image, &grid)?;
    let mut written = vec![grid];
    for (label, mesh) in meshes {
        let path = dir.join(format!("{label}.obj"));
        written.extend(export::save_as(mesh, &path, MeshFormat::Obj)?);
    }
    Ok(written)
}

/// The crop of `photo` (clamped to the photo), or the whole photo.
///
/// # Errors
/// A rectangle outside the photo or of zero area.
pub fn crop_photo(photo: &Photo, crop: Option<CropRect>) -> anyhow::Result<RgbImage> {
    let Some(c) = crop else {
        return Ok(photo.rgb.clone());
    };
    let x = c.x.min(photo.width());
    let y = c.y.min(photo.height());
    let w = c.width.min(photo.width() - x);
    let h = c.height.min(photo.height() - y);
    if w < 8 || h < 8 {
        bail!(
            "the face rectangle {}x{} at ({}, {}) is too small or outside the {}x{} photo",
            c.width,
            c.height,
            c.x,
            c.y,
            photo.width(),
            photo.height()
        );
    }
    Ok(image::imageops::crop_imm(&photo.rgb, x, y, w, h).to_image())
}

/// The chosen face's width in `photo` (68-landmark x-extent, pixels).
///
/// # Errors
/// No face found.
fn face_width_in(
    models: &mut Models,
    photo: &Photo,
    rect: Option<CropRect>,
) -> anyhow::Result<f32> {
    let pick = super::reconstruct::pick(rect);
    let prepared = prepare_face(
        models.detector()?,
        &photo.rgb,
        pick,
        Upscaler::Bicubic,
        None,
    )?;
    let p68 = to_68(&prepared.landmarks.points).context("too few landmarks")?;
    Ok(face_width(
        &p68.iter().map(|p| [p[0], p[1]]).collect::<Vec<_>>(),
    ))
}

/// Every upscaler's output of `face`: scored against it after a simulated capture that brings
/// the face (`face_width` pixels wide, as measured by the landmarks; the rectangle's width when
/// unknown) to the simulation's width by the nearest integer factor, or plain x4.
///
/// # Errors
/// A face too small for the simulation, or a failing metric.
pub fn compare(
    face: &RgbImage,
    simulation: Option<Simulation>,
    face_width: Option<f32>,
) -> anyhow::Result<UpscalerComparison> {
    let Some(sim) = simulation else {
        let (w, h) = (face.width() * PLAIN_FACTOR, face.height() * PLAIN_FACTOR);
        let rows = Upscaler::ALL
            .iter()
            .map(|&upscaler| {
                Ok(ComparedUpscaler {
                    upscaler,
                    image: upscale(face, upscaler, w, h)?,
                    scores: None,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(UpscalerComparison {
            reference: face.clone(),
            low: face.clone(),
            factor: PLAIN_FACTOR,
            face_width: None,
            simulation: None,
            rows,
        });
    };
    let width = face_width.unwrap_or(face.width() as f32);
    let factor = factor_for_face_width(width, sim.face_width as f32);
    if factor < 2 {
        bail!(
            "the face is {width:.0} px wide, already no wider than {} px: nothing to simulate",
            sim.face_width
        );
    }
    let c = compare_upscalers(face, factor, sim.method, &Upscaler::ALL)?;
    let rows = c
        .rows
        .into_iter()
        .map(|row| ComparedUpscaler {
            upscaler: row.upscaler,
            scores: Some((row.psnr_rgb, row.ssim_rgb)),
            image: row.image,
        })
        .collect();
    Ok(UpscalerComparison {
        reference: c.reference,
        low: c.low,
        factor,
        face_width: Some(width / factor as f32),
        simulation: Some(sim),
        rows,
    })
}

fn save_image(image: &RgbImage, path: &Path) -> anyhow::Result<()> {
    image
        .save(path)
        .with_context(|| format!("{}: cannot write the image", path.display()))
}

/// The comparison as a labelled strip: original, input, then each upscaler with its scores.
///
/// # Errors
/// A broken bundled font.
pub fn comparison_figure(c: &UpscalerComparison) -> anyhow::Result<RgbImage> {
    // Every panel at the upscalers' output size, pixels kept sharp (nearest).
    let (w, h) = c
        .rows
        .first()
        .map_or(c.reference.dimensions(), |r| r.image.dimensions());
    let nearest =
        |img: &RgbImage| image::imageops::resize(img, w, h, image::imageops::FilterType::Nearest);
    let (reference, low) = (nearest(&c.reference), nearest(&c.low));
    let mut panels = vec![
        Panel {
            image: &reference,
            lines: vec!["original".into()],
        },
        Panel {
            image: &low,
            lines: vec![format!("input {}x{}", c.low.width(), c.low.height())],
        },
    ];
    for row in &c.rows {
        let mut lines = vec![row.upscaler.name().to_owned()];
        if let Some((p, s)) = row.scores {
            lines.push(format!("PSNR {p:.2} dB SSIM {s:.4}"));
        }
        panels.push(Panel {
            image: &row.image,
            lines,
        });
    }
    Ok(side_by_side(&panels)?)
}

/// Saves `mesh` as `format`, adding the format's extension when the path lacks it.
fn save_mesh(
    mesh: &Mesh,
    path: &Path,
    format: MeshFormat,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut path = path.to_path_buf();
    if MeshFormat::from_path(&path) != Some(format) {
        let name = format!("{}.{}", file_name(&path), format.extension());
        path.set_file_name(name);
    }
    Ok(export::save_as(mesh, &path, format)?)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_event() {
        let outcome = catch_unwind(|| -> anyhow::Result<()> { panic!("boom {}", 7) });
        match outcome_event("reconstruct", outcome) {
            Some(Event::Error(m)) => {
                assert!(m.contains("reconstruct") && m.contains("boom 7"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(outcome_event("x", Ok(Ok(()))).is_none());
    }

    #[test]
    fn a_cancelled_job_stops_at_its_first_stage() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let reporter = Reporter::new(
            tx,
            egui::Context::default(),
            Arc::new(AtomicBool::new(true)),
        );
        let job = Job::LoadPhoto("does-not-matter.png".into());
        let err = run(job, &mut Models::default(), &reporter).unwrap_err();
        assert!(err.is::<Cancelled>());
        assert!(matches!(
            outcome_event("open photo", Ok(Err(err))),
            Some(Event::Cancelled)
        ));
        assert!(rx.try_recv().is_err(), "no stage was reported");
    }

    #[test]
    fn crop_is_clamped_and_checked() {
        let photo = Photo::from_rgb(RgbImage::new(40, 30));
        let c = crop_photo(
            &photo,
            Some(CropRect {
                x: 30,
                y: 0,
                width: 50,
                height: 20,
            }),
        )
        .unwrap();
        assert_eq!(c.dimensions(), (10, 20));
        assert!(
            crop_photo(
                &photo,
                Some(CropRect {
                    x: 39,
                    y: 0,
                    width: 5,
                    height: 5
                })
            )
            .is_err()
        );
    }

    #[test]
    fn plain_comparison_upscales_by_four_without_scores() {
        let face = RgbImage::from_pixel(16, 12, image::Rgb([9, 9, 9]));
        let c = compare(&face, None, None).unwrap();
        assert_eq!(c.rows.len(), Upscaler::ALL.len());
        assert!(
            c.rows
                .iter()
                .all(|r| r.image.dimensions() == (64, 48) && r.scores.is_none())
        );
    }

    #[test]
    fn simulated_comparison_is_scored() {
        let face = RgbImage::from_fn(128, 128, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 2) as u8, 90])
        });
        let sim = Simulation {
            face_width: 32,
            method: crate::pipeline::degrade::DegradeMethod::Bicubic,
        };
        let c = compare(&face, Some(sim), None).unwrap();
        assert_eq!(c.factor, 4);
        assert_eq!(c.low.dimensions(), (32, 32));
        let (p, s) = c.rows[0].scores.unwrap();
        assert!(p > 20.0 && s > 0.5, "{p} {s}");
        assert!(compare(&RgbImage::new(20, 20), Some(sim), None).is_err());
    }
}
