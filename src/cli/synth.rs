//! `visage synth`: renders synthetic training samples into safetensors shards (see
//! [`crate::synth`]), optionally a contact sheet, or measures the engine's speed with `--bench`.
//!
//! `visage synth --count 1000 --seed 0 --size 128 --out data/synth --preview grid.png`
//! writes `data/synth/shard_00000.safetensors`, ... Ids from
//! [`crate::synth::TEST_SPLIT_START`] on are the test split.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use rayon::prelude::*;

use super::save_image;
use crate::synth::engine::Style;
use crate::synth::preview::contact_sheet;
use crate::synth::procedural;
use crate::synth::shard::{self, ShardInfo};
use crate::synth::{
    Engine, EngineOptions, FaceModel, ICT_DEFAULT, Sample, TEST_SPLIT_START, ict_path,
};

/// Arguments of `visage synth`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Number of samples to render.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// First sample id (the seed of sample i is `seed + i`); ids >= 1000000 are the test split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Side of the square face crop in pixels.
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Depth bins of the occupancy volume (default: size / 2).
    #[arg(long)]
    pub depth_bins: Option<usize>,
    /// How the renders look: `classic` (procedural appearance, what the committed models were
    /// trained on) or `photo` (plus natural-photo backdrops, hair with volume, clothing, harsh
    /// lights and a camera response; the same shapes, poses and ground truth per id).
    #[arg(long, value_enum, default_value_t = Style::Classic)]
    pub style: Style,
    /// Output directory for the shards (required unless --bench).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Samples per shard file.
    #[arg(long, default_value_t = 256)]
    pub shard_size: u64,
    /// Write a contact sheet of the first (up to 24) samples with their depth maps here.
    #[arg(long)]
    pub preview: Option<PathBuf>,
    /// Tiles per row of the contact sheet.
    #[arg(long, default_value_t = 4)]
    pub preview_columns: usize,
    /// Path of ict_face_model.safetensors (default: $VISAGE_ICT, else ../shared/ict-face-model/).
    #[arg(long)]
    pub ict: Option<PathBuf>,
    /// Use the built-in procedural test head instead of the ICT model (tests, no shared data).
    #[arg(long)]
    pub procedural: bool,
    /// Measure samples per second (rendering only, nothing written) instead of writing shards.
    #[arg(long)]
    pub bench: bool,
}

/// Runs `visage synth`.
///
/// # Errors
/// A missing ICT model (one line naming the path), an unwritable output, a failed render.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.size < 16 || !args.size.is_multiple_of(8) {
        bail!(
            "--size must be a multiple of 8 and at least 16, got {}",
            args.size
        );
    }
    let options = EngineOptions {
        size: args.size,
        depth_bins: args.depth_bins.unwrap_or(args.size / 2).max(1),
        style: args.style,
    };
    let model = load_model(args)?;
    let engine = Engine::new(model, options);
    if args.bench {
        return bench(&engine, args);
    }
    let out = args
        .out
        .as_deref()
        .context("--out DIR is required (or use --bench)")?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let end = args.seed + args.count;
    if args.seed < TEST_SPLIT_START && end > TEST_SPLIT_START {
        eprintln!(
            "warning: ids {}..{} cross into the test split (ids >= {TEST_SPLIT_START})",
            args.seed, end
        );
    }
    let preview = write_shards(&engine, args, out)?;
    eprintln!("wrote {} samples to {}", args.count, out.display());
    if let Some(path) = &args.preview {
        write_preview(path, &preview, args)?;
    }
    Ok(())
}

/// Renders and writes every shard; shard `k` is written on a second thread while shard
/// `k + 1` renders. Returns the first (up to 24) samples for the contact sheet.
fn write_shards(engine: &Engine, args: &Args, out: &Path) -> anyhow::Result<Vec<Sample>> {
    let triangles = engine.model.face_triangles();
    let (end, step) = (args.seed + args.count, args.shard_size.max(1));
    let t0 = Instant::now();
    let mut preview: Vec<Sample> = Vec::new();
    std::thread::scope(|scope| {
        let mut writing: Option<std::thread::ScopedJoinHandle<'_, anyhow::Result<()>>> = None;
        for (k, first) in (args.seed..end).step_by(step as usize).enumerate() {
            let last = (first + step).min(end);
            let samples = render_range(engine, first, last)?;
            preview.extend(samples.iter().take(24 - preview.len().min(24)).cloned());
            if let Some(handle) = writing.take() {
                join(handle)?;
            }
            let info = ShardInfo {
                version: 1,
                size: engine.options.size,
                depth_bins: engine.options.depth_bins,
                count: samples.len(),
                expressions: engine.model.expression_names.clone(),
            };
            let path = out.join(format!("shard_{k:05}.safetensors"));
            let (triangles, done) = (&triangles, last - args.seed);
            writing = Some(scope.spawn(move || {
                shard::write(&path, &samples, triangles, &info)?;
                let rate = done as f64 / t0.elapsed().as_secs_f64();
                eprintln!(
                    "{}: {done}/{} samples, {rate:.1} samples/s",
                    path.display(),
                    args.count
                );
                Ok(())
            }));
        }
        writing.map_or(Ok(()), join)
    })?;
    Ok(preview)
}

fn join(handle: std::thread::ScopedJoinHandle<'_, anyhow::Result<()>>) -> anyhow::Result<()> {
    handle
        .join()
        .map_err(|_| anyhow::anyhow!("the shard writer thread panicked"))?
}

fn load_model(args: &Args) -> anyhow::Result<FaceModel> {
    if args.procedural {
        return Ok(procedural::head());
    }
    let t0 = Instant::now();
    let model = FaceModel::load_ict(&find_ict(args.ict.as_deref()))?;
    eprintln!(
        "loaded the ICT model ({} vertices, {} triangles) in {:.2} s",
        model.vertex_count(),
        model.triangles.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(model)
}

fn render_range(engine: &Engine, first: u64, last: u64) -> anyhow::Result<Vec<Sample>> {
    (first..last)
        .into_par_iter()
        .map(|id| {
            engine
                .render(id)
                .with_context(|| format!("rendering sample {id}"))
        })
        .collect()
}

fn write_preview(path: &Path, samples: &[Sample], args: &Args) -> anyhow::Result<()> {
    save_image(
        &contact_sheet(samples, args.size, args.preview_columns),
        path,
    )?;
    eprintln!("wrote the contact sheet {}", path.display());
    Ok(())
}

/// The ICT model path: `--ict`, else `$VISAGE_ICT`, else `../shared/...` from the working
/// directory, else from the crate's source directory.
pub fn find_ict(explicit: Option<&Path>) -> PathBuf {
    let cwd = ict_path(explicit, Path::new("."));
    if explicit.is_some() || cwd.exists() {
        return cwd;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fallback = repo.join(ICT_DEFAULT);
    if fallback.exists() { fallback } else { cwd }
}

fn bench(engine: &Engine, args: &Args) -> anyhow::Result<()> {
    let n = args.count.clamp(8, 512);
    let first = args.seed;
    engine.render(first).context("warm-up render")?;
    let t0 = Instant::now();
    for id in first..first + n.min(16) {
        engine.render(id)?;
    }
    let single = n.min(16) as f64 / t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let samples = render_range(engine, first, first + n)?;
    let parallel = n as f64 / t0.elapsed().as_secs_f64();
    println!(
        "synth bench: {n} samples at {0}x{0}: {parallel:.1} samples/s on {1} threads ({single:.1} samples/s on one thread)",
        args.size,
        rayon::current_num_threads()
    );
    if let Some(path) = &args.preview {
        write_preview(path, &samples[..samples.len().min(24)], args)?;
    }
    Ok(())
}
