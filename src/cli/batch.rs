//! `visage batch INPUT... --out DIR`: reconstruct every face of a collection of photos (see
//! [`crate::batch`]): files, folders (recursive) or glob patterns; one mesh per face named after
//! its photo; `DIR/report.json` and `report.csv`; resumable; `--shard I/N` for N machines.

use crate::batch::inputs::{Shard, expand};
use crate::batch::{BatchOptions, Faces, run};
use crate::pipeline::export::MeshFormat;
use crate::pipeline::reconstruct::{MeshFrame, Method};
use crate::pipeline::upscale::Upscaler;
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// Arguments of `visage batch`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    visage batch photos/ --out meshes/ --method 3dmm --jobs 2\n  \
    visage batch 'frames/*.png' --out meshes/ --faces all --frame photo\n\n\
    Split a collection over N machines or processes (each writes its own rows; the same --out on \
    a shared disk gives one report):\n  \
    Slurm array:     visage batch photos/ --out meshes/ --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n  \
    GNU parallel:    parallel visage batch photos/ --out meshes/{}/ --shard {}/4 ::: 0 1 2 3\n  \
    Kubernetes Job:  visage batch /data --out /out --shard $JOB_COMPLETION_INDEX/$N (Indexed Job)")]
pub struct Args {
    /// Photos: files, folders (searched recursively) or glob patterns (quote them).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder: meshes (named after each photo, sub-folders kept), report.json,
    /// report.csv and the report.jsonl journal that lets a stopped run resume.
    #[arg(long)]
    pub out: PathBuf,
    /// Reconstruction method.
    #[arg(long, value_enum, default_value_t = Method::Morphable)]
    pub method: Method,
    /// How faces smaller than the 128 px crop are enlarged.
    #[arg(long, value_enum, default_value_t = Upscaler::Bicubic)]
    pub upscaler: Upscaler,
    /// Mesh file format.
    #[arg(long, value_enum, default_value_t = MeshFormat::Obj)]
    pub format: MeshFormat,
    /// Mesh frame (see `visage reconstruct --help`).
    #[arg(long, value_enum, default_value_t = MeshFrame::Crop)]
    pub frame: MeshFrame,
    /// The best face of each photo (STEM.EXT), or all of them (STEM_face0.EXT, ...).
    #[arg(long, value_enum, default_value_t = Faces::Best)]
    pub faces: Faces,
    /// Worker threads, each with its own copy of the networks.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,
    /// Process only slice I of N (0-based): photos are assigned by a hash of their name, so N
    /// runs with 0/N .. N-1/N cover the collection exactly once.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Weights file instead of the committed ones (see `visage reconstruct --help`).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// No progress bar (also off when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `visage batch`.
///
/// # Errors
/// Inputs that do not exist, an unwritable output folder, or networks that do not load.
pub fn run_batch(args: &Args) -> anyhow::Result<()> {
    let inputs = expand(&args.inputs)?;
    anyhow::ensure!(!inputs.is_empty(), "no photos in the inputs");
    super::device()?;
    let options = BatchOptions {
        out: args.out.clone(),
        method: args.method,
        upscaler: args.upscaler,
        format: args.format,
        frame: args.frame,
        faces: args.faces,
        jobs: args.jobs as usize,
        shard: args.shard,
        weights: args.weights.clone(),
        progress: !args.quiet && std::io::stderr().is_terminal(),
        detect: super::detect_options(),
    };
    let s = run(&inputs, &options)?;
    let done = s.ok + s.no_face + s.errors;
    #[allow(clippy::cast_precision_loss)]
    let rate = done as f64 / s.seconds.max(1e-9);
    println!(
        "{} photos{}: {} done now ({} ok, {} no face, {} errors; {} meshes), {} already done; \
         {:.1} s, {rate:.2} photos/s; report: {}",
        s.photos,
        args.shard.map_or(String::new(), |sh| format!(
            " in shard {}/{}",
            sh.index, sh.count
        )),
        done,
        s.ok,
        s.no_face,
        s.errors,
        s.meshes,
        s.skipped,
        s.seconds,
        args.out.join("report.json").display()
    );
    Ok(())
}
