//! `visage train refiner`: trains the CGAN refiner of the 3DMM path ([`crate::nn::refiner`])
//! as Galteri et al. (2019) do: `lambda * L1` on all three DCE channels plus a conditional
//! PatchGAN term whose discriminator sees the depth channel only. Both count the region where
//! the coarse and the true masks overlap ([`super::refiner_data`]). Adam (beta1 = 0.5) as in
//! pix2pix ([`super::pix2pix`]), periodic validation (depth MAE in crop pixels of the coarse
//! input and of the refined output, at the network side), resumable checkpoints of both
//! networks, a time budget; writes the generator's weights at the end.

use super::checkpoint::TrainState;
use super::pix2pix::Gan;
use super::refiner_data::RefinerSet;
use super::run::{LoopOptions, Part, Trainer, run};
use crate::metrics::depth::centred_mae;
use crate::nn::patch_gan::bce_with_logits_const;
use crate::nn::refiner::{Refiner, RefinerConfig, discriminator};
use crate::pipeline::dce::DEPTH_SCALE;
use crate::pipeline::reconstruct::refiner_model::NET_SIDE;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::path::PathBuf;

/// Options of a refiner training run.
#[derive(Clone, Debug)]
pub struct RefinerTrainOptions {
    /// Network shapes (and whether the input carries RGB).
    pub config: RefinerConfig,
    /// Train with L1 only, without the discriminator (the ablation).
    pub l1_only: bool,
    /// Weight of the L1 term.
    pub lambda: f64,
    /// Checkpoint folder (resumed when it holds this run's checkpoint).
    pub checkpoint_dir: PathBuf,
    /// Final generator weights file.
    pub out: PathBuf,
    /// Stop after this many optimiser steps in total.
    pub steps: usize,
    /// Stop after this many minutes of this session.
    pub minutes: f64,
    /// Pairs per batch.
    pub batch: usize,
    /// Adam learning rate of both networks.
    pub learning_rate: f64,
    /// Steps between validations and checkpoints.
    pub every: usize,
    /// Random seed.
    pub seed: u64,
}

impl RefinerTrainOptions {
    /// Checkpoint name stem: `refiner`, with `_rgb` and `_l1` when those apply.
    #[must_use]
    pub fn run_name(&self) -> String {
        format!(
            "refiner{}{}",
            if self.config.rgb { "_rgb" } else { "" },
            if self.l1_only { "_l1" } else { "" }
        )
    }
}

/// Losses of one step.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepLosses {
    /// Mean L1 over the region and the three channels.
    pub l1: f32,
    /// Generator adversarial term (0 when L1 only).
    pub adv: f32,
    /// Discriminator loss (0 when L1 only).
    pub disc: f32,
}

/// Validation numbers (means over samples).
#[derive(Clone, Copy, Debug)]
pub struct Validation {
    /// Mean L1 over the region and the three channels.
    pub l1: f32,
    /// Depth MAE of the coarse input on the region, crop pixels, maps centred.
    pub coarse_px: f32,
    /// Depth MAE of the refined output, same measure.
    pub refined_px: f32,
    /// `refined_px` per sample divided by its interocular distance, averaged.
    pub refined_iod: f32,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Final state (steps and seconds over all sessions).
    pub state: TrainState,
    /// Validation at the start of this session.
    pub first: Validation,
    /// Validation at the end.
    pub last: Validation,
}

/// The refiner and its discriminator.
type Nets = Gan<Refiner>;

/// Mean of `|a - b|` over the region `m` `[B, 1, S, S]` and every channel.
fn masked_l1(a: &Tensor, b: &Tensor, m: &Tensor) -> candle_core::Result<Tensor> {
    let channels = a.dim(1)? as f64;
    let sum = (a - b)?.abs()?.broadcast_mul(m)?.sum_all()?;
    sum.div(&m.sum_all()?.affine(channels, 1e-6)?)
}

/// One optimisation step on a batch (`x` input, `y` target DCE, `m` region).
fn train_step(
    nets: &mut Nets,
    opts: &RefinerTrainOptions,
    x: &Tensor,
    y: &Tensor,
    m: &Tensor,
) -> anyhow::Result<StepLosses> {
    let out = nets.g.forward_t(x, true)?;
    let l1 = masked_l1(&out, y, m)?;
    let mut losses = StepLosses {
        l1: l1.to_scalar()?,
        ..StepLosses::default()
    };
    let mut g_loss = (l1 * opts.lambda)?;
    if !opts.l1_only {
        let fake = out.narrow(1, 0, 1)?.mul(m)?;
        let real = y.narrow(1, 0, 1)?.mul(m)?;
        let d_real = nets.d.forward(x, &real)?;
        let d_fake = nets.d.forward(x, &fake.detach())?;
        let d_loss =
            ((bce_with_logits_const(&d_real, 1.0)? + bce_with_logits_const(&d_fake, 0.0)?)? * 0.5)?;
        nets.opt_d.backward_step(&d_loss)?;
        let adv = bce_with_logits_const(&nets.d.forward(x, &fake)?, 1.0)?;
        losses.disc = d_loss.to_scalar()?;
        losses.adv = adv.to_scalar()?;
        g_loss = (g_loss + adv)?;
    }
    nets.opt_g.backward_step(&g_loss)?;
    Ok(losses)
}

/// Runs the generator over `val` in batches and averages the metrics.
///
/// # Errors
/// Candle errors.
pub fn validate(g: &Refiner, val: &RefinerSet) -> anyhow::Result<Validation> {
    let n = NET_SIDE * NET_SIDE;
    let (mut l1, mut coarse, mut refined, mut iod) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let idx: Vec<usize> = (0..val.len()).collect();
    for chunk in idx.chunks(32) {
        let (x, y, m) = val.batch(chunk, &[])?;
        let out = g.forward(&x)?;
        let b = chunk.len() as f64;
        l1 += f64::from(masked_l1(&out, &y, &m)?.to_scalar::<f32>()?) * b;
        let depth = |t: &Tensor| -> candle_core::Result<Vec<f32>> {
            t.narrow(1, 0, 1)?.flatten_all()?.to_vec1()
        };
        let (pv, xv, yv) = (depth(&out)?, depth(&x)?, depth(&y)?);
        let mv: Vec<f32> = m.flatten_all()?.to_vec1()?;
        for (k, &i) in chunk.iter().enumerate() {
            let s = k * n..(k + 1) * n;
            let region: Vec<bool> = mv[s.clone()].iter().map(|&v| v > 0.5).collect();
            let mae =
                |p: &[f32]| centred_mae(p, &yv[s.clone()], &region).unwrap_or(0.0) * DEPTH_SCALE;
            let r = mae(&pv[s.clone()]);
            coarse += f64::from(mae(&xv[s.clone()]));
            refined += f64::from(r);
            iod += f64::from(r / val.eye_px[i].max(1e-3));
        }
    }
    let count = val.len().max(1) as f64;
    Ok(Validation {
        l1: (l1 / count) as f32,
        coarse_px: (coarse / count) as f32,
        refined_px: (refined / count) as f32,
        refined_iod: (iod / count) as f32,
    })
}

/// The CGAN refiner for [`run`].
struct RefinerTrainer<'a> {
    nets: Nets,
    opts: &'a RefinerTrainOptions,
    train_set: &'a RefinerSet,
    val_set: &'a RefinerSet,
    order: Vec<usize>,
    /// Validation of the weights the session started from.
    first: Option<Validation>,
}

impl Trainer for RefinerTrainer<'_> {
    fn parts(&mut self) -> Vec<Part<'_>> {
        self.nets.parts(self.opts.l1_only)
    }

    fn fresh(&mut self) -> anyhow::Result<()> {
        // A fresh generator starts as the identity: its U-Net head is zeroed.
        super::zero_vars(&self.nets.g_vars, "head.")
    }

    fn started(&mut self) -> anyhow::Result<()> {
        let v = validate(&self.nets.g, self.val_set)?;
        eprintln!(
            "{}: start | val l1 {:.4} coarse MAE {:.3} px, refined {:.3} px",
            self.opts.run_name(),
            v.l1,
            v.coarse_px,
            v.refined_px
        );
        self.first = Some(v);
        Ok(())
    }

    fn step(&mut self, step: usize) -> anyhow::Result<String> {
        let o = self.opts;
        let (idx, flip) =
            super::next_batch(&mut self.order, self.train_set.len(), o.batch, o.seed, step);
        let (x, y, m) = self.train_set.batch(&idx, &flip)?;
        let l = train_step(&mut self.nets, o, &x, &y, &m)?;
        Ok(format!("l1 {:.4} adv {:.3} D {:.3}", l.l1, l.adv, l.disc))
    }

    fn validate(&mut self) -> anyhow::Result<(f64, String)> {
        let v = validate(&self.nets.g, self.val_set)?;
        Ok((
            -f64::from(v.refined_px),
            format!(
                "val l1 {:.4} depth MAE coarse {:.3} px -> refined {:.3} px ({:.4} IOD)",
                v.l1, v.coarse_px, v.refined_px, v.refined_iod
            ),
        ))
    }
}

/// Runs (or resumes) training on `train_set`, validating on `val_set`.
///
/// # Errors
/// Checkpoint I/O or candle errors.
pub fn train(
    opts: &RefinerTrainOptions,
    train_set: &RefinerSet,
    val_set: &RefinerSet,
) -> anyhow::Result<TrainReport> {
    anyhow::ensure!(!train_set.is_empty(), "no training pairs");
    let dev = Device::Cpu;
    let (g_vars, d_vars) = (VarMap::new(), VarMap::new());
    let g = Refiner::new(
        &opts.config,
        VarBuilder::from_varmap(&g_vars, DType::F32, &dev),
    )?;
    let d = discriminator(
        &opts.config,
        VarBuilder::from_varmap(&d_vars, DType::F32, &dev),
    )?;
    let mut trainer = RefinerTrainer {
        nets: Gan::new(g, d, g_vars, d_vars, opts.learning_rate)?,
        opts,
        train_set,
        val_set,
        order: Vec::new(),
        first: None,
    };
    let loop_opts = LoopOptions {
        checkpoint_dir: opts.checkpoint_dir.clone(),
        name: opts.run_name(),
        out: opts.out.clone(),
        steps: opts.steps,
        minutes: opts.minutes,
        every: opts.every,
        snapshots: None,
    };
    let state = run(&loop_opts, &mut trainer)?;
    let last = validate(&trainer.nets.g, val_set)?;
    let first = trainer.first.unwrap_or(last);
    Ok(TrainReport { state, first, last })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::reconstruct::refiner_model::coarse_input;
    use rand::{Rng, SeedableRng};

    /// Domes on discs whose coarse version is a flat-topped (clipped) dome: the refiner has to
    /// put the top back.
    fn toy_set(n: usize, seed: u64, rgb: bool) -> RefinerSet {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut set = RefinerSet::default();
        let side = NET_SIDE;
        for _ in 0..n {
            let (cx, cy, r) = (
                rng.random_range(24.0..40.0f32),
                rng.random_range(24.0..40.0f32),
                rng.random_range(14.0..20.0f32),
            );
            let mut truth = vec![0.0; side * side];
            let mut mask = vec![false; side * side];
            for i in 0..side * side {
                let d2 = ((i % side) as f32 - cx).powi(2) + ((i / side) as f32 - cy).powi(2);
                if d2 < r * r {
                    truth[i] = 2.0 * (r * r - d2).sqrt();
                    mask[i] = true;
                }
            }
            let coarse: Vec<f32> = truth.iter().map(|z| z.min(r)).collect();
            let img = image::RgbImage::new(64, 64);
            let input = coarse_input(&coarse, &mask, side, rgb.then_some(&img)).unwrap();
            assert!(set.push(input, &truth, &mask, side, 20.0).unwrap());
        }
        set
    }

    fn tiny_opts(dir: &std::path::Path, l1_only: bool, steps: usize) -> RefinerTrainOptions {
        RefinerTrainOptions {
            config: RefinerConfig {
                generator: crate::nn::unet::UNetConfig {
                    widths: vec![8, 16, 16, 16],
                    ..RefinerConfig::dce64(false).generator
                },
                ..RefinerConfig::tiny(false)
            },
            l1_only,
            lambda: 100.0,
            checkpoint_dir: dir.join("ckpt"),
            out: dir.join("refiner.safetensors"),
            steps,
            minutes: 10.0,
            batch: 8,
            learning_rate: 2e-3,
            every: 20,
            seed: 3,
        }
    }

    #[test]
    fn refiner_learns_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let (train_set, val_set) = (toy_set(32, 1, false), toy_set(8, 2, false));
        let opts = tiny_opts(dir.path(), false, 40);
        let report = train(&opts, &train_set, &val_set).unwrap();
        // A fresh refiner is the identity, so it starts at the coarse error.
        assert!((report.first.refined_px - report.first.coarse_px).abs() < 1e-4);
        assert!(
            report.last.refined_px < 0.8 * report.first.refined_px,
            "{:?} -> {:?}",
            report.first,
            report.last
        );
        assert!(dir.path().join("ckpt/refiner_d.safetensors").exists());
        let more = RefinerTrainOptions { steps: 45, ..opts };
        let again = train(&more, &train_set, &val_set).unwrap();
        assert_eq!(again.state.step, 45, "resumed from 40, not from 0");
        assert!((again.first.l1 - report.last.l1).abs() < 1e-5);
    }
}
