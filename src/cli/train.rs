//! `visage train MODEL ...`: the training loops (never run in CI). Each run checkpoints and
//! resumes, so a long training spreads over several sessions.

use crate::pipeline::degrade::DegradeMethod;
use crate::train::espcn::{EspcnTrainOptions, train};
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
