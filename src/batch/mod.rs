//! `visage batch`: many photos through the one photo-to-mesh path, on `jobs` worker threads,
//! with a progress bar, one mesh per face named after its photo, and a report.
//!
//! - Failures never stop the run: an unreadable photo, a photo without a face or a failed method
//!   is one report row with its status and message.
//! - Nothing is lost on interruption: every mesh is written atomically, and each photo's row is
//!   appended to `DIR/report.jsonl` (and flushed) as soon as the photo is done. Running the same
//!   command again skips every photo already in that file (and whose meshes still exist), so a
//!   stopped run resumes and a finished one does nothing.
//! - `--shard I/N` keeps the photos whose output stem hashes to slice `I` ([`inputs::Shard`]), so
//!   N machines split a collection without coordinating.
//! - At the end `DIR/report.json` and `DIR/report.csv` hold every row of the folder, sorted by
//!   photo.

pub mod inputs;
pub mod report;

use crate::pipeline::detect::{DetectError, Detector};
use crate::pipeline::export::{MeshFormat, save_as};
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::face::face_width;
use crate::pipeline::reconstruct::{
    MeshFrame, Method, MethodError, Prepared, load, prepare_all, reconstruct_prepared,
};
use crate::pipeline::upscale::Upscaler;
use crate::timing::measure;
use anyhow::Context;
use inputs::{Input, Shard};
use report::{FaceRecord, PhotoRecord, Status};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Which faces of a photo become meshes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Faces {
    /// The face with the highest detection score: `STEM.EXT`.
    #[default]
    Best,
    /// Every face found: `STEM_face0.EXT`, `STEM_face1.EXT`, ... best first.
    All,
}

/// What a batch does.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Output folder (meshes, `report.jsonl`, `report.json`, `report.csv`).
    pub out: PathBuf,
    /// The method.
    pub method: Method,
    /// How faces smaller than the crop are enlarged.
    pub upscaler: Upscaler,
    /// Mesh file format.
    pub format: MeshFormat,
    /// Mesh frame.
    pub frame: MeshFrame,
    /// Best face or every face.
    pub faces: Faces,
    /// Worker threads, each with its own networks.
    pub jobs: usize,
    /// Only this slice of the photos.
    pub shard: Option<Shard>,
    /// Weights instead of the committed ones.
    pub weights: Option<PathBuf>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Detector settings.
    pub detect: crate::pipeline::detect::DetectOptions,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Photos in the inputs (after the shard).
    pub photos: usize,
    /// Photos skipped as already done.
    pub skipped: usize,
    /// Photos processed now, by status.
    pub ok: usize,
    /// Photos without a face.
    pub no_face: usize,
    /// Photos that failed.
    pub errors: usize,
    /// Meshes written now.
    pub meshes: usize,
    /// Wall time of this run, seconds.
    pub seconds: f64,
}

/// The mesh file of face `k` of `input`.
fn mesh_path(options: &BatchOptions, input: &Input, k: Option<usize>) -> PathBuf {
    let mut name = input.stem.as_os_str().to_owned();
    if let Some(k) = k {
        name.push(format!("_face{k}"));
    }
    options
        .out
        .join(PathBuf::from(name).with_extension(options.format.extension()))
}

/// One photo, start to finish; never fails (a failure is the record's status).
fn process(
    input: &Input,
    options: &BatchOptions,
    detector: &Detector,
    method: &dyn crate::pipeline::reconstruct::Reconstructor,
) -> PhotoRecord {
    let start = Instant::now();
    let (outcome, stages) = measure(|| run_photo(input, options, detector, method));
    let mut record = PhotoRecord::new(input);
    match outcome {
        Ok((found, faces)) => {
            record.faces_found = found;
            record.status = Status::Ok;
            record.faces = faces;
            if record.faces.iter().all(|f| f.error.is_some()) {
                // A detection FaceMesh then rejects (a face-like pattern) is no face.
                record.status = if record.faces.iter().all(|f| f.no_face) {
                    Status::NoFace
                } else {
                    Status::Error
                };
                record.message = record.faces.first().and_then(|f| f.error.clone());
            }
        }
        Err(e) => {
            let no_face = e
                .downcast_ref::<MethodError>()
                .is_some_and(|m| matches!(m, MethodError::Detect(DetectError::NoFace { .. })));
            record.status = if no_face {
                Status::NoFace
            } else {
                Status::Error
            };
            record.message = Some(format!("{e:#}"));
        }
    }
    record.ms = stages
        .0
        .iter()
        .map(|(n, d)| ((*n).to_owned(), d.as_secs_f64() * 1e3))
        .collect();
    record.total_ms = start.elapsed().as_secs_f64() * 1e3;
    record.rss_mb = report::rss_mb();
    record
}

/// Loads, detects, reconstructs and writes the chosen faces: (faces found, face records).
fn run_photo(
    input: &Input,
    options: &BatchOptions,
    detector: &Detector,
    method: &dyn crate::pipeline::reconstruct::Reconstructor,
) -> anyhow::Result<(usize, Vec<FaceRecord>)> {
    let photo = Photo::load(&input.path)?;
    let prepared = prepare_all(detector, &photo.rgb, options.upscaler)?;
    let found = prepared.len();
    let chosen: Vec<(usize, Result<Prepared, MethodError>)> = match options.faces {
        Faces::Best => prepared.into_iter().take(1).enumerate().collect(),
        Faces::All => prepared.into_iter().enumerate().collect(),
    };
    let faces = chosen
        .into_iter()
        .map(|(k, p)| {
            let suffix = (options.faces == Faces::All).then_some(k);
            let path = mesh_path(options, input, suffix);
            write_face(k, p, &path, options, method)
        })
        .collect();
    Ok((found, faces))
}

/// One face: reconstruct, move to the frame, write; the record says what happened.
fn write_face(
    k: usize,
    prepared: Result<Prepared, MethodError>,
    path: &Path,
    options: &BatchOptions,
    method: &dyn crate::pipeline::reconstruct::Reconstructor,
) -> FaceRecord {
    let mut record = FaceRecord {
        index: k,
        width_px: None,
        files: Vec::new(),
        error: None,
        no_face: matches!(
            prepared,
            Err(MethodError::Detect(DetectError::NoLandmarks { .. }))
        ),
    };
    let result = prepared.map_err(anyhow::Error::from).and_then(|p| {
        let width = face_width(&p.face.landmarks68);
        record.width_px = Some(width / p.face.crop.crop_from_photo.scale());
        let r = reconstruct_prepared(method, &p)?;
        let mesh = match options.frame {
            MeshFrame::Crop => r.mesh,
            MeshFrame::Photo => p.face.to_photo_frame(&r.mesh),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let _span = tracing::info_span!("write").entered();
        Ok(save_as(&mesh, path, options.format)?)
    });
    match result {
        Ok(files) => record.files = files.iter().map(|f| f.display().to_string()).collect(),
        Err(e) => record.error = Some(format!("{e:#}")),
    }
    record
}

/// Runs the batch over `inputs` (already expanded, see [`inputs::expand`]).
///
/// # Errors
/// An output folder that cannot be written, or networks that cannot be loaded.
pub fn run(inputs: &[Input], options: &BatchOptions) -> anyhow::Result<Summary> {
    let start = Instant::now();
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("{}: cannot create", options.out.display()))?;
    let journal = options.out.join("report.jsonl");
    let done = report::read_journal(&journal)?;
    let mine: Vec<&Input> = inputs
        .iter()
        .filter(|i| options.shard.is_none_or(|s| s.contains(i)))
        .collect();
    let todo: Vec<&Input> = mine
        .iter()
        .copied()
        .filter(|i| !done.get(&i.stem).is_some_and(PhotoRecord::complete))
        .collect();
    let mut summary = Summary {
        photos: mine.len(),
        skipped: mine.len() - todo.len(),
        ..Summary::default()
    };
    let bar = progress_bar(options.progress, todo.len());
    let device = crate::device::current()
        .map_err(anyhow::Error::msg)?
        .device
        .clone();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<PhotoRecord>();
    let mut writer = report::Journal::open(&journal)?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut workers = Vec::new();
        for _ in 0..options.jobs.clamp(1, todo.len().max(1)) {
            let (tx, next, todo, device) = (tx.clone(), &next, &todo, device.clone());
            workers.push(scope.spawn(move || -> anyhow::Result<()> {
                let detector = Detector::with_options(&device, options.detect.clone())
                    .context("loading the face networks")?;
                let method = load(options.method, &device, options.weights.as_deref())?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = todo.get(i) else {
                        return Ok(());
                    };
                    if tx
                        .send(process(input, options, &detector, method.as_ref()))
                        .is_err()
                    {
                        return Ok(());
                    }
                }
            }));
        }
        drop(tx);
        for record in rx {
            match record.status {
                Status::Ok => summary.ok += 1,
                Status::NoFace => summary.no_face += 1,
                Status::Error => summary.errors += 1,
            }
            summary.meshes += record.faces.iter().filter(|f| !f.files.is_empty()).count();
            if let Some(bar) = &bar {
                bar.set_message(record.photo.clone());
                bar.inc(1);
            }
            writer.append(&record)?;
        }
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a batch worker panicked"))??;
        }
        Ok(())
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let all = report::read_journal(&journal)?;
    report::write_reports(&options.out, &all)?;
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// An `indicatif` bar on stderr, or none.
fn progress_bar(show: bool, len: usize) -> Option<indicatif::ProgressBar> {
    show.then(|| {
        let bar = indicatif::ProgressBar::new(len as u64);
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} photos, {per_sec}, eta {eta}  {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    })
}
