//! `visage train MODEL ...`: the training loops (never run in CI). Each run checkpoints and
//! resumes, so a long training spreads over several sessions.

use crate::nn::patch_gan::PatchGanConfig;
use crate::nn::unet::UNetConfig;
use crate::nn::vrn::VrnConfig;
use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::reconstruct::pix2pix_model::NET_SIDE;
use crate::train::espcn::{EspcnTrainOptions, train};
use crate::train::pix2pix::{self, Pix2pixTrainOptions};
use crate::train::pix2pix_data::load_dirs;
use crate::train::vrn::VrnTrainOptions;
use crate::train::vrn_data::Augment;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `visage train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which network to train.
    #[command(subcommand)]
    pub model: Model,
}

/// The trainable networks.
#[derive(Debug, clap::Subcommand)]
pub enum Model {
    /// ESPCN super-resolution (x2 or x4) on folders of images.
    Espcn(EspcnArgs),
    /// The landmark-guided VRN volumetric reconstructor on synthetic shards.
    Vrn(VrnArgs),
    /// pix2pix depth generator (U-Net + PatchGAN) on synthetic shards.
    Pix2pix(Pix2pixArgs),
    /// The 3DMM path's CGAN refiner on coarse fits of synthetic shards.
    Refiner(super::refiner::TrainArgs),
    /// Not a network: the element-wise mean of several checkpoints of one network (weight
    /// averaging, e.g. of the snapshots `train vrn --snapshots` keeps).
    Average(AverageArgs),
    /// The ridge map from FaceMesh's 468 points to the 68 landmarks in the 3D-contour
    /// convention (AFLW2000-3D's jaw line), on synthetic shards run through FaceMesh.
    Contour68(Contour68Args),
}

/// Arguments of `visage train contour68`.
#[derive(Debug, clap::Args)]
pub struct Contour68Args {
    /// Folder of synthetic shards (`visage synth --size 128`).
    #[arg(long, default_value = "data/synth/train128")]
    pub data: PathBuf,
    /// Samples used (the first ones); the last 15 % choose the ridge weight.
    #[arg(long, default_value_t = 3000)]
    pub count: usize,
    /// Ridge weights tried (per sample).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1e-6,1e-5,1e-4,1e-3,1e-2"
    )]
    pub lambdas: Vec<f64>,
    /// Output model.
    #[arg(long, default_value = "weights/contour68.safetensors")]
    pub out: PathBuf,
}

/// Arguments of `visage train average`.
#[derive(Debug, clap::Args)]
pub struct AverageArgs {
    /// Weights files (safetensors) of the same network.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Output weights file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `visage train vrn`.
#[derive(Debug, clap::Args)]
pub struct VrnArgs {
    /// Folder of training shards (`visage synth --size 128`).
    #[arg(long, default_value = "data/synth/train128")]
    pub train: PathBuf,
    /// Folder of validation shards, never trained on.
    #[arg(long, default_value = "data/synth/val128")]
    pub val: PathBuf,
    /// Validation samples used (the first ones of the folder).
    #[arg(long, default_value_t = 64)]
    pub val_count: usize,
    /// Checkpoint folder; an existing `vrn` checkpoint is resumed.
    #[arg(long, default_value = "checkpoints")]
    pub checkpoint_dir: PathBuf,
    /// Output weights.
    #[arg(long, default_value = "weights/vrn.safetensors")]
    pub out: PathBuf,
    /// Total optimiser steps to reach (counting resumed ones).
    #[arg(long, default_value_t = 100_000)]
    pub steps: usize,
    /// Wall-clock budget of this run, in minutes.
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// Samples per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// AdamW learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Steps between validation and checkpoint.
    #[arg(long, default_value_t = 100)]
    pub every: usize,
    /// Probability of guiding a training sample with FaceMesh's landmarks (computed once and
    /// cached as `<TRAIN>-facemesh68.safetensors`) instead of the true ones; 0 trains on true
    /// landmarks only.
    #[arg(long, default_value_t = 0.75)]
    pub facemesh: f64,
    /// Keep a copy of the weights at every checkpoint in this folder, as
    /// `vrn-<step>.safetensors` (to average with `visage train average`).
    #[arg(long)]
    pub snapshots: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Arguments of `visage train espcn`.
#[derive(Debug, clap::Args)]
pub struct EspcnArgs {
    /// Upscaling factor: 2 or 4.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(2..=4))]
    pub scale: u16,
    /// Folder of training images (repeatable; searched recursively).
    #[arg(long, required = true)]
    pub train: Vec<PathBuf>,
    /// Folder of validation images (repeatable), never trained on.
    #[arg(long, required = true)]
    pub val: Vec<PathBuf>,
    /// Checkpoint folder; an existing checkpoint for this scale is resumed.
    #[arg(long, default_value = "checkpoints")]
    pub checkpoint_dir: PathBuf,
    /// Output weights (default weights/espcn_x{scale}.safetensors).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Total optimiser steps to reach (counting resumed ones).
    #[arg(long, default_value_t = 100_000)]
    pub steps: usize,
    /// Wall-clock budget of this run, in minutes.
    #[arg(long, default_value_t = 60.0)]
    pub minutes: f64,
    /// Patches per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Low-resolution patch side, pixels.
    #[arg(long, default_value_t = 24)]
    pub patch: u32,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Steps between validation and checkpoint.
    #[arg(long, default_value_t = 200)]
    pub every: usize,
    /// How low-resolution patches are made.
    #[arg(long, value_enum, default_value_t = DegradeMethod::Bicubic)]
    pub degrade: DegradeMethod,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs `visage train`.
///
/// # Errors
/// Bad data folders, checkpoint I/O or candle errors.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.model {
        Model::Pix2pix(a) => run_pix2pix(a),
        Model::Vrn(a) => run_vrn(a),
        Model::Refiner(a) => super::refiner::run_train(a),
        Model::Contour68(a) => {
            let detector = crate::pipeline::detect::Detector::new(&super::device()?)?;
            let t = std::time::Instant::now();
            let pairs = crate::train::contour68::pairs(&a.data, a.count, &detector)?;
            eprintln!(
                "FaceMesh on {} samples: {} faces in {:.0} s",
                a.count,
                pairs.len(),
                t.elapsed().as_secs_f64()
            );
            let (model, report) = crate::train::contour68::train(&pairs, &a.lambdas)?;
            print!("{report}");
            model.save(&a.out)?;
            println!("wrote {}", a.out.display());
            Ok(())
        }
        Model::Average(a) => {
            let mean = crate::train::average::average_files(&a.inputs)?;
            candle_core::safetensors::save(&mean, &a.out)
                .with_context(|| format!("{}: cannot write", a.out.display()))?;
            println!(
                "wrote {}: the mean of {} files ({} tensors)",
                a.out.display(),
                a.inputs.len(),
                mean.len()
            );
            Ok(())
        }
        Model::Espcn(a) => {
            let opts = EspcnTrainOptions {
                scale: usize::from(a.scale),
                train: a.train.clone(),
                val: a.val.clone(),
                checkpoint_dir: a.checkpoint_dir.clone(),
                out: a.out.clone().unwrap_or_else(|| {
                    PathBuf::from(format!("weights/espcn_x{}.safetensors", a.scale))
                }),
                steps: a.steps,
                minutes: a.minutes,
                batch: a.batch,
                patch: a.patch,
                learning_rate: a.lr,
                every: a.every,
                degrade: a.degrade,
                seed: a.seed,
            };
            let state = train(&opts, &super::device()?)?;
            println!(
                "espcn x{}: {} steps, {:.0} s, best validation gain over bicubic {:+.3} dB",
                a.scale,
                state.step,
                state.seconds,
                state.best_val.unwrap_or(f64::NAN)
            );
            Ok(())
        }
    }
}

fn run_vrn(a: &VrnArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.facemesh),
        "--facemesh is a probability in [0, 1], got {}",
        a.facemesh
    );
    let opts = VrnTrainOptions {
        config: VrnConfig::compact(),
        train: a.train.clone(),
        val: a.val.clone(),
        val_count: a.val_count,
        checkpoint_dir: a.checkpoint_dir.clone(),
        out: a.out.clone(),
        steps: a.steps,
        minutes: a.minutes,
        batch: a.batch,
        learning_rate: a.lr,
        every: a.every,
        augment: Augment {
            facemesh: a.facemesh,
            ..Augment::TRAIN
        },
        seed: a.seed,
        snapshots: a.snapshots.clone(),
    };
    let state = crate::train::vrn::train(&opts)?;
    println!(
        "vrn: {} steps, {:.0} s, best validation volume IoU {:.4}",
        state.step,
        state.seconds,
        state.best_val.unwrap_or(f64::NAN)
    );
    Ok(())
}

/// Arguments of `visage train pix2pix`.
#[derive(Debug, clap::Args)]
pub struct Pix2pixArgs {
    /// Folder of training shards (repeatable), from `visage synth`.
    #[arg(long, required = true)]
    pub train: Vec<PathBuf>,
    /// Folder of validation shards (repeatable), never trained on.
    #[arg(long, required = true)]
    pub val: Vec<PathBuf>,
    /// Use at most this many training samples (all by default).
    #[arg(long)]
    pub train_count: Option<usize>,
    /// Use at most this many validation samples.
    #[arg(long, default_value_t = 256)]
    pub val_count: usize,
    /// Train with L1 only (no discriminator): the ablation.
    #[arg(long)]
    pub l1_only: bool,
    /// Weight of the L1 term against the adversarial one.
    #[arg(long, default_value_t = 100.0)]
    pub lambda: f64,
    /// Checkpoint folder; an existing checkpoint of this run is resumed.
    #[arg(long, default_value = "checkpoints")]
    pub checkpoint_dir: PathBuf,
    /// Output generator weights (default weights/pix2pix.safetensors, or
    /// weights/pix2pix_l1.safetensors with --l1-only).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Total optimiser steps to reach (counting resumed ones).
    #[arg(long, default_value_t = 100_000)]
    pub steps: usize,
    /// Wall-clock budget of this run, in minutes.
    #[arg(long, default_value_t = 60.0)]
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

fn run_pix2pix(a: &Pix2pixArgs) -> anyhow::Result<()> {
    let train_set = load_dirs(&a.train, NET_SIDE, a.train_count)?;
    let val_set = load_dirs(&a.val, NET_SIDE, Some(a.val_count))?;
    eprintln!(
        "pix2pix: {} training and {} validation pairs at {NET_SIDE} px",
        train_set.len(),
        val_set.len()
    );
    let opts = Pix2pixTrainOptions {
        generator: UNetConfig::depth64(),
        discriminator: PatchGanConfig::depth64(),
        l1_only: a.l1_only,
        lambda: a.lambda,
        checkpoint_dir: a.checkpoint_dir.clone(),
        out: a.out.clone().unwrap_or_else(|| {
            PathBuf::from(if a.l1_only {
                "weights/pix2pix_l1.safetensors"
            } else {
                "weights/pix2pix.safetensors"
            })
        }),
        steps: a.steps,
        minutes: a.minutes,
        batch: a.batch,
        learning_rate: a.lr,
        every: a.every,
        seed: a.seed,
    };
    let r = pix2pix::train(&opts, &train_set, &val_set)?;
    println!(
        "{}: {} steps, {:.0} s; validation depth MAE {:.3} px ({:.4} of the interocular distance), L1 {:.4}",
        opts.run_name(),
        r.state.step,
        r.state.seconds,
        r.last.mae_px,
        r.last.mae_iod,
        r.last.l1
    );
    Ok(())
}
