//! `visage train espcn`: trains ESPCN (with its bicubic skip) on patches from folders of images,
//! with Adam on the mean squared error, periodic validation, resumable checkpoints and a time
//! budget, then writes the weights file the app loads.

use super::adam::{Adam, AdamParams};
use super::checkpoint::TrainState;
use super::run::{LoopOptions, Part, Trainer, run};
use super::sr_data::{SrBatch, load_images, sample_batch};
use crate::nn::espcn::{Espcn, EspcnConfig};
use crate::pipeline::degrade::DegradeMethod;
use anyhow::Context;
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use std::path::PathBuf;

/// Options of an ESPCN training run.
#[derive(Clone, Debug)]
pub struct EspcnTrainOptions {
    /// Upscaling factor (2 or 4).
    pub scale: usize,
    /// Folders of training images (searched recursively).
    pub train: Vec<PathBuf>,
    /// Folders of validation images.
    pub val: Vec<PathBuf>,
    /// Checkpoint folder (resumed when it holds a checkpoint for this scale).
    pub checkpoint_dir: PathBuf,
    /// Final weights file.
    pub out: PathBuf,
    /// Stop after this many optimiser steps in total.
    pub steps: usize,
    /// Stop after this many minutes of this session.
    pub minutes: f64,
    /// Patches per batch.
    pub batch: usize,
    /// Low-resolution patch side in pixels.
    pub patch: u32,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Steps between validations and checkpoints.
    pub every: usize,
    /// How the low-resolution patches are made.
    pub degrade: DegradeMethod,
    /// Random seed.
    pub seed: u64,
}

/// Mean PSNR (dB, [0, 1] data) of the network and of bicubic on a fixed validation batch.
fn validate(net: &Espcn, val: &SrBatch) -> anyhow::Result<(f64, f64)> {
    let psnr = |mse: f32| -10.0 * f64::from(mse).log10();
    let out = net.forward(&val.lr, &val.base)?.clamp(0f32, 1f32)?;
    let mse_net = (out - &val.hr)?.sqr()?.mean_all()?.to_scalar::<f32>()?;
    let mse_bic = (&val.base - &val.hr)?
        .sqr()?
        .mean_all()?
        .to_scalar::<f32>()?;
    Ok((psnr(mse_net), psnr(mse_bic)))
}

/// ESPCN for [`run`]: the network, its optimiser, the data.
struct EspcnTrainer<'a> {
    net: Espcn,
    vars: VarMap,
    opt: Adam,
    images: Vec<image::RgbImage>,
    val: SrBatch,
    opts: &'a EspcnTrainOptions,
    scale: u32,
}

impl Trainer for EspcnTrainer<'_> {
    fn parts(&mut self) -> Vec<Part<'_>> {
        vec![Part {
            suffix: "",
            vars: &mut self.vars,
            opt: &mut self.opt,
        }]
    }

    fn fresh(&mut self) -> anyhow::Result<()> {
        // The last layer starts at zero, so the network starts as its bicubic skip.
        super::zero_vars(&self.vars, "conv3.")
    }

    fn step(&mut self, step: usize) -> anyhow::Result<String> {
        let o = self.opts;
        let mut rng =
            rand::rngs::StdRng::seed_from_u64(o.seed ^ (step as u64).wrapping_mul(0x9E37_79B9));
        let b = sample_batch(
            &self.images,
            o.batch,
            o.patch,
            self.scale,
            o.degrade,
            &mut rng,
        )?;
        let loss = (self.net.forward(&b.lr, &b.base)? - &b.hr)?
            .sqr()?
            .mean_all()?;
        self.opt.backward_step(&loss)?;
        Ok(format!("loss {:.5}", loss.to_scalar::<f32>()?))
    }

    fn validate(&mut self) -> anyhow::Result<(f64, String)> {
        let (p_net, p_bic) = validate(&self.net, &self.val)?;
        let gain = p_net - p_bic;
        Ok((
            gain,
            format!("val PSNR {p_net:.3} dB (bicubic {p_bic:.3}, gain {gain:+.3})"),
        ))
    }
}

/// Runs (or resumes) training; returns the final state (`best_val`: the best PSNR gain over
/// bicubic, dB).
///
/// # Errors
/// Bad data folders, checkpoint I/O, or candle errors.
pub fn train(opts: &EspcnTrainOptions, dev: &Device) -> anyhow::Result<TrainState> {
    let cfg = EspcnConfig::for_scale(opts.scale).context("ESPCN supports --scale 2 or 4")?;
    let scale = u32::try_from(opts.scale)?;
    let images = load_images(&opts.train)?;
    let val_images = load_images(&opts.val)?;
    eprintln!(
        "espcn x{scale}: {} training and {} validation images",
        images.len(),
        val_images.len()
    );
    let mut val_rng = rand::rngs::StdRng::seed_from_u64(12_345);
    let val = sample_batch(
        &val_images,
        64,
        opts.patch,
        scale,
        opts.degrade,
        &mut val_rng,
    )?;
    let vars = VarMap::new();
    let net = Espcn::new(cfg, VarBuilder::from_varmap(&vars, DType::F32, dev))?;
    let params = AdamParams {
        lr: opts.learning_rate,
        ..AdamParams::default()
    };
    let opt = Adam::new(&vars, params)?;
    let mut trainer = EspcnTrainer {
        net,
        vars,
        opt,
        images,
        val,
        opts,
        scale,
    };
    let loop_opts = LoopOptions {
        checkpoint_dir: opts.checkpoint_dir.clone(),
        name: format!("espcn_x{scale}"),
        out: opts.out.clone(),
        steps: opts.steps,
        minutes: opts.minutes,
        every: opts.every,
        snapshots: None,
    };
    run(&loop_opts, &mut trainer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_images(dir: &std::path::Path) {
        std::fs::create_dir_all(dir).unwrap();
        for k in 0..3u32 {
            let img = image::RgbImage::from_fn(48, 48, |x, y| {
                let v = ((x * (k + 1) + y * 3) % 64) * 4;
                image::Rgb([v as u8, (255 - v) as u8, (x * 5) as u8])
            });
            img.save(dir.join(format!("{k}.png"))).unwrap();
        }
    }

    #[test]
    fn learns_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        write_images(&data);
        let mut opts = EspcnTrainOptions {
            scale: 2,
            train: vec![data.clone()],
            val: vec![data],
            checkpoint_dir: dir.path().join("ckpt"),
            out: dir.path().join("espcn_x2.safetensors"),
            steps: 80,
            minutes: 10.0,
            batch: 8,
            patch: 8,
            learning_rate: 1e-3,
            every: 40,
            degrade: DegradeMethod::Bicubic,
            seed: 1,
        };
        let first = train(&opts, &Device::Cpu).unwrap();
        assert_eq!(first.step, 80);
        assert!(opts.out.exists());
        // The network improves on bicubic on its own training patterns.
        assert!(first.best_val.unwrap() > 0.0, "{first:?}");
        opts.steps = 100;
        let second = train(&opts, &Device::Cpu).unwrap();
        assert_eq!(second.step, 100, "resumed from 80, not from 0");
    }
}
