//! The command line: one file per subcommand, each with its clap `Args` and a `run` function.
//! `visage` without a subcommand opens the desktop app.

pub mod batch;
pub mod bench;
pub mod compare;
pub mod degrade;
pub mod detect;
pub mod eval;
pub mod mesh_info;
pub mod morphable;
pub mod parity;
pub mod reconstruct;
pub mod refiner;
pub mod render;
pub mod synth;
pub mod train;
pub mod upscale;

use clap::{Parser, Subcommand};

/// Visage: reconstruct a 3D face mesh from a single photo, even a low-resolution one.
///
/// Run without a subcommand to open the desktop app.
#[derive(Debug, Parser)]
#[command(name = "visage", version, about, long_about = None)]
pub struct Cli {
    /// What to do; none opens the desktop app.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Where the networks run: auto (CUDA when built in and present, else CPU), cpu, cuda:N.
    #[arg(long, global = true, default_value = "auto")]
    pub device: crate::device::DeviceChoice,
    /// How faces are found (commands that detect faces).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub detector: crate::pipeline::detect::Policy,
    /// Smallest face width (pixels) the `auto` and `tiles` detectors look for in large photos.
    #[arg(long, global = true, default_value_t = 32)]
    pub min_face: u32,
    /// Start-up options of the desktop app (without a subcommand).
    #[command(flatten)]
    pub app: crate::app::Startup,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a low-resolution capture: downscale a photo by 2, 4 or 8.
    Degrade(degrade::Args),
    /// Upscale a photo with one of the upscalers.
    Upscale(upscale::Args),
    /// Degrade a photo, run every upscaler, print PSNR/SSIM and write a side-by-side PNG.
    Compare(compare::Args),
    /// Print counts, bounds and attributes of a mesh file (OBJ, PLY, STL, GLB).
    MeshInfo(mesh_info::Args),
    /// Evaluate upscalers and reconstructors on held-out faces (prints Markdown tables).
    Eval(eval::Args),
    /// Train one of the project's networks (checkpoints and resumes).
    Train(train::Args),
    /// Render synthetic training faces with exact 3D ground truth into safetensors shards.
    Synth(synth::Args),
    /// Find every face: print boxes, keypoints and scores as JSON, write an overlay PNG.
    Detect(detect::Args),
    /// Reconstruct a face mesh from a photo and write it (OBJ, PLY, STL, GLB).
    Reconstruct(reconstruct::Args),
    /// Reconstruct every photo of a collection (files, folders, globs): a mesh per face, a
    /// report, resumable, shardable over machines.
    Batch(batch::Args),
    /// Render a mesh file to a PNG with the viewport's renderer (no window needed).
    Render(render::Args),
    /// Run every network on the CPU and on `--device`: output difference and timing ratio.
    Parity(parity::Args),
    /// Per-stage latency of every method on a photo (median over repeated runs).
    Bench(bench::Args),
    /// Build the learned morphable face model from the ICT Face Model.
    Morphable(morphable::Args),
}

impl Command {
    /// Runs the subcommand.
    ///
    /// # Errors
    /// Whatever the subcommand reports; the binary prints it as one line and exits non-zero.
    pub fn run(&self) -> anyhow::Result<()> {
        match self {
            Self::Degrade(a) => degrade::run(a),
            Self::Upscale(a) => upscale::run(a),
            Self::Compare(a) => compare::run(a),
            Self::MeshInfo(a) => mesh_info::run(a),
            Self::Train(a) => train::run(a),
            Self::Eval(a) => eval::run(a),
            Self::Synth(a) => synth::run(a),
            Self::Detect(a) => detect::run(a),
            Self::Reconstruct(a) => reconstruct::run(a),
            Self::Batch(a) => batch::run_batch(a),
            Self::Render(a) => render::run(a),
            Self::Parity(a) => parity::run(a),
            Self::Bench(a) => bench::run(a),
            Self::Morphable(a) => morphable::run(a),
        }
    }
}

/// `method` as [`crate::pipeline::reconstruct::load`] loads it, with the face of `vrn` or
/// `pix2pix` pulled a fraction `fit_prior` of the way to the morphable fit when given
/// (`--fit-prior`; other methods ignore it).
///
/// # Errors
/// A `vrn_prior` outside [0, 1], or weights that do not load.
pub fn load_method(
    method: crate::pipeline::reconstruct::Method,
    device: &candle_core::Device,
    weights: Option<&std::path::Path>,
    fit_prior: Option<f32>,
) -> anyhow::Result<Box<dyn crate::pipeline::reconstruct::Reconstructor>> {
    use crate::pipeline::reconstruct::pix2pix::Pix2pixReconstructor;
    use crate::pipeline::reconstruct::{Method, load, vrn::VrnReconstructor};
    let fit_prior = fit_prior.map(checked_fit_prior).transpose()?;
    Ok(match (method, fit_prior) {
        (Method::Vrn, Some(w)) => {
            Box::new(VrnReconstructor::load(device, weights)?.with_prior_weight(w))
        }
        (Method::Pix2pix, Some(w)) => {
            Box::new(Pix2pixReconstructor::load(device, weights)?.with_prior_weight(w))
        }
        _ => load(method, device, weights)?,
    })
}

/// `--fit-prior`'s value when it lies in [0, 1].
///
/// # Errors
/// A value outside [0, 1].
pub fn checked_fit_prior(weight: f32) -> anyhow::Result<f32> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&weight),
        "--fit-prior must lie in [0, 1], got {weight}"
    );
    Ok(weight)
}

/// Saves an image as PNG (or the format its extension names), with the path in any error.
///
/// # Errors
/// The encoder's or the file system's error, with the path.
pub fn save_image(image: &image::RgbImage, path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    image
        .save(path)
        .with_context(|| format!("{}: cannot write the image", path.display()))
}

static DETECTOR: std::sync::OnceLock<crate::pipeline::detect::DetectOptions> =
    std::sync::OnceLock::new();

/// Records `--detector` and `--min-face` for [`detector`] (first call wins).
pub fn set_detector(policy: crate::pipeline::detect::Policy, min_face: u32) {
    let _ = DETECTOR.set(policy.options(min_face));
}

/// The detector settings from `--detector` and `--min-face` (defaults when not set).
#[must_use]
pub fn detect_options() -> crate::pipeline::detect::DetectOptions {
    DETECTOR.get().cloned().unwrap_or_default()
}

/// The face networks on `device`, set up as `--detector` and `--min-face` say.
///
/// # Errors
/// Weights that cannot be loaded on `device`.
pub fn detector(device: &candle_core::Device) -> anyhow::Result<crate::pipeline::detect::Detector> {
    use anyhow::Context;
    crate::pipeline::detect::Detector::with_options(device, detect_options())
        .context("loading the face networks")
}

/// The device chosen by `--device`, announced once on stderr ("device: CPU (...)").
///
/// # Errors
/// An explicit CUDA device that cannot be used.
pub fn device() -> anyhow::Result<candle_core::Device> {
    static ANNOUNCED: std::sync::Once = std::sync::Once::new();
    let selected = crate::device::current().map_err(anyhow::Error::msg)?;
    ANNOUNCED.call_once(|| eprintln!("device: {}", selected.description));
    Ok(selected.device.clone())
}
