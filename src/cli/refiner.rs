//! `visage train refiner` and `visage eval refiner`: the CGAN refiner of the 3DMM path, trained
//! and measured on coarse fits of synthetic shards. The coarse fits of a folder are computed
//! once and cached (`<cache-dir>/<folder name>_<source>.safetensors`).

use crate::dataset::{CoarseCache, CoarseFit, blurred_truth, load_or_build};
use crate::nn::refiner::RefinerConfig;
use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::morphable::{MorphableModel, coarse_depth};
use crate::pipeline::reconstruct::refiner_model::RefinerModel;
use crate::synth::Shard;
use crate::train::refiner::{RefinerTrainOptions, train};
use crate::train::refiner_data::load_set;
use image::RgbImage;
use std::path::{Path, PathBuf};

/// Where the coarse depth maps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CoarseSource {
    /// The morphable-model fit to FaceMesh landmarks of the rendered face (the real input).
    #[value(name = "3dmm")]
    Fit3dmm,
    /// The true depth, blurred: a stand-in to debug the loop.
    Blur,
}

impl CoarseSource {
    fn name(self) -> &'static str {
        match self {
            Self::Fit3dmm => "3dmm",
            Self::Blur => "blur",
        }
    }
}

/// A coarse fitter of shard samples.
type FitFn = Box<dyn FnMut(&Shard, usize) -> anyhow::Result<Option<CoarseFit>>>;

/// The coarse fits of the first `limit` samples of `dir`, cached in `cache_dir`.
fn coarse_cache(
    dir: &Path,
    cache_dir: &Path,
    source: CoarseSource,
    limit: Option<usize>,
) -> anyhow::Result<CoarseCache> {
    let stem = dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    let path = cache_dir.join(format!("{stem}_{}.safetensors", source.name()));
    let fit: FitFn = match source {
        CoarseSource::Blur => Box::new(blurred_truth),
        CoarseSource::Fit3dmm => {
            let detector = Detector::new(&super::device()?)?;
            let model = MorphableModel::embedded()?;
            let mut reported = 0usize;
            Box::new(move |shard: &Shard, i: usize| {
                let side = u32::try_from(shard.info.size)?;
                let crop = RgbImage::from_raw(side, side, shard.u8s("rgb", i)?)
                    .ok_or_else(|| anyhow::anyhow!("rgb sample {i} of the wrong size"))?;
                match coarse_depth(&crop, &detector, &model) {
                    Ok(c) => Ok(Some((c.depth, c.mask, c.side))),
                    Err(e) => {
                        if reported < 5 {
                            eprintln!("sample {i}: no coarse fit ({e})");
                            reported += 1;
                        }
                        Ok(None)
                    }
                }
            })
        }
    };
    load_or_build(dir, &path, source.name(), limit, fit)
}

/// Arguments of `visage train refiner`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Folder of training shards (`visage synth --size 128`).
    #[arg(long, default_value = "data/synth/train128")]
    pub train: PathBuf,
    /// Folder of validation shards, never trained on.
    #[arg(long, default_value = "data/synth/val128")]
    pub val: PathBuf,
    /// Use at most this many training samples (all by default).
    #[arg(long)]
    pub train_count: Option<usize>,
    /// Validation samples used (the first ones of the folder).
    #[arg(long, default_value_t = 128)]
    pub val_count: usize,
    /// Where the coarse depth maps come from.
    #[arg(long, value_enum, default_value_t = CoarseSource::Fit3dmm)]
    pub coarse: CoarseSource,
    /// Folder of the coarse-fit caches.
    #[arg(long, default_value = "data/refiner")]
    pub cache_dir: PathBuf,
    /// Give the refiner the RGB crop as well (the paper's variant).
    #[arg(long)]
    pub rgb: bool,
    /// Train with L1 only (no discriminator): the ablation.
    #[arg(long)]
    pub l1_only: bool,
    /// Weight of the L1 term against the adversarial one.
    #[arg(long, default_value_t = 100.0)]
    pub lambda: f64,
    /// Checkpoint folder; an existing checkpoint of this run is resumed.
    #[arg(long, default_value = "checkpoints")]
    pub checkpoint_dir: PathBuf,
    /// Output generator weights (default weights/<run name>.safetensors).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Total optimiser steps to reach (counting resumed ones).
    #[arg(long, default_value_t = 100_000)]
    pub steps: usize,
    /// Wall-clock budget of this run, in minutes.
    #[arg(long, default_value_t = 45.0)]
    pub minutes: f64,
    /// Pairs per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Adam learning rate (both networks; beta1 = 0.5).
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    /// Steps between validation and checkpoint.
    #[arg(long, default_value_t = 100)]
    pub every: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs `visage train refiner`.
///
/// # Errors
/// Missing data, failing fits, checkpoint I/O or candle errors.
pub fn run_train(a: &TrainArgs) -> anyhow::Result<()> {
    let train_cache = coarse_cache(&a.train, &a.cache_dir, a.coarse, a.train_count)?;
    let val_cache = coarse_cache(&a.val, &a.cache_dir, a.coarse, Some(a.val_count))?;
    let train_set = load_set(&a.train, &train_cache, a.rgb, a.train_count)?;
    let val_set = load_set(&a.val, &val_cache, a.rgb, Some(a.val_count))?;
    eprintln!(
        "refiner: {} training and {} validation pairs ({} coarse fits)",
        train_set.len(),
        val_set.len(),
        a.coarse.name()
    );
    let mut opts = RefinerTrainOptions {
        config: RefinerConfig::dce64(a.rgb),
        l1_only: a.l1_only,
        lambda: a.lambda,
        checkpoint_dir: a.checkpoint_dir.clone(),
        out: PathBuf::new(),
        steps: a.steps,
        minutes: a.minutes,
        batch: a.batch,
        learning_rate: a.lr,
        every: a.every,
        seed: a.seed,
    };
    opts.out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("weights/{}.safetensors", opts.run_name())));
    let r = train(&opts, &train_set, &val_set)?;
    println!(
        "{}: {} steps, {:.0} s; validation depth MAE coarse {:.3} px -> refined {:.3} px ({:.4} of the interocular distance), L1 {:.4}",
        opts.run_name(),
        r.state.step,
        r.state.seconds,
        r.last.coarse_px,
        r.last.refined_px,
        r.last.refined_iod,
        r.last.l1
    );
    Ok(())
}

/// Arguments of `visage eval refiner`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Folder of test shards.
    #[arg(long, default_value = "data/synth/test128")]
    pub data: PathBuf,
    /// Samples evaluated (the first ones of the folder).
    #[arg(long, default_value_t = 200)]
    pub count: usize,
    /// Where the coarse depth maps come from.
    #[arg(long, value_enum, default_value_t = CoarseSource::Fit3dmm)]
    pub coarse: CoarseSource,
    /// Folder of the coarse-fit caches.
    #[arg(long, default_value = "data/refiner")]
    pub cache_dir: PathBuf,
    /// Generator weights to evaluate instead of the embedded ones (with or without the RGB
    /// input: the file says which).
    #[arg(long)]
    pub weights: Option<PathBuf>,
}

/// Runs `visage eval refiner`.
///
/// # Errors
/// Missing data, failing fits or inference errors.
pub fn run_eval(a: &EvalArgs) -> anyhow::Result<()> {
    let device = super::device()?;
    let model = match &a.weights {
        Some(w) => RefinerModel::load_dce64(w, &device)?,
        None => RefinerModel::embedded(&device)?,
    };
    let cache = coarse_cache(&a.data, &a.cache_dir, a.coarse, Some(a.count))?;
    let started = std::time::Instant::now();
    let (scores, failed) = crate::eval::refiner::evaluate(&model, &a.data, &cache, a.count)?;
    println!(
        "## Depth MAE on the coarse and true mask overlap, {} ({} coarse fits, refiner {}{})\n",
        a.data.display(),
        a.coarse.name(),
        a.weights
            .as_ref()
            .map_or_else(|| "embedded".into(), |w| w.display().to_string()),
        if model.uses_rgb() { ", with RGB" } else { "" }
    );
    println!("{}", crate::eval::refiner::table(&scores, failed));
    eprintln!("{:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
