//! `visage train vrn`: trains the landmark-guided VRN ([`crate::nn::vrn`]) on synthetic shards
//! with AdamW on the sigmoid cross-entropy of the occupancy volume, validating the volume IoU on
//! a fixed, unaugmented validation set, checkpointing (resumable) and stopping at a step count or
//! a time budget, then writing the weights file the app loads.

use super::adam::{Adam, AdamParams};
use super::checkpoint::TrainState;
use super::run::{LoopOptions, Part, Trainer, run};
use super::vrn_data::{Augment, Encoded, VrnSample, load_dir, make_pair};
use super::vrn_landmarks::load_or_build;
use crate::nn::vrn::{Vrn, VrnConfig, loss};
use crate::pipeline::detect::Detector;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

/// Options of a VRN training run.
#[derive(Clone, Debug)]
pub struct VrnTrainOptions {
    /// Network shape (its `input` must be half the shards' crop side).
    pub config: VrnConfig,
    /// Folder of training shards.
    pub train: PathBuf,
    /// Folder of validation shards.
    pub val: PathBuf,
    /// Validation samples used (the first ones).
    pub val_count: usize,
    /// Checkpoint folder (resumed when it holds `vrn.*`).
    pub checkpoint_dir: PathBuf,
    /// Final weights file.
    pub out: PathBuf,
    /// Stop after this many optimiser steps in total.
    pub steps: usize,
    /// Stop after this many minutes of this run.
    pub minutes: f64,
    /// Samples per batch.
    pub batch: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// Steps between validations and checkpoints.
    pub every: usize,
    /// Augmentation.
    pub augment: Augment,
    /// Random seed.
    pub seed: u64,
    /// Folder that keeps a copy of the weights at every checkpoint, as `vrn-<step>.safetensors`
    /// (for `visage train average`); `None` keeps only the latest checkpoint.
    pub snapshots: Option<PathBuf>,
}

/// A batch of encoded pairs as `(input [B, C, n, n], target [B, bins, n, n])`.
///
/// # Errors
/// Inconsistent samples or candle errors.
pub fn batch(
    samples: &[&VrnSample],
    cfg: &VrnConfig,
    aug: &Augment,
    rng: &mut impl Rng,
) -> anyhow::Result<(Tensor, Tensor)> {
    let n = cfg.input;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for s in samples {
        anyhow::ensure!(
            s.size == 2 * n,
            "shard crops are {} px, the network wants {}",
            s.size,
            2 * n
        );
        let Encoded { input, target } = make_pair(s, n, cfg.bins, cfg.guided, aug, rng)?;
        xs.extend(input);
        ys.extend(target);
    }
    let b = samples.len();
    Ok((
        Tensor::from_vec(xs, (b, cfg.in_channels(), n, n), &Device::Cpu)?,
        Tensor::from_vec(ys, (b, cfg.bins, n, n), &Device::Cpu)?,
    ))
}

/// Validation: `(mean loss, volume IoU at 0.5)` over `val` (unaugmented).
///
/// # Errors
/// Candle errors.
pub fn validate(net: &Vrn, val: &[VrnSample]) -> anyhow::Result<(f64, f64)> {
    let cfg = net.config();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let (mut loss_sum, mut inter, mut union, mut batches) = (0.0, 0.0, 0.0, 0usize);
    for chunk in val.chunks(8) {
        let refs: Vec<&VrnSample> = chunk.iter().collect();
        let (x, y) = batch(&refs, &cfg, &Augment::NONE, &mut rng)?;
        let logits = net.forward(&x)?;
        loss_sum += f64::from(loss(std::slice::from_ref(&logits), &y)?.to_scalar::<f32>()?);
        let pred = logits.ge(0.0)?.to_dtype(DType::F32)?;
        inter += f64::from((&pred * &y)?.sum_all()?.to_scalar::<f32>()?);
        union += f64::from(pred.maximum(&y)?.sum_all()?.to_scalar::<f32>()?);
        batches += 1;
    }
    let mean = loss_sum / batches.max(1) as f64;
    Ok((mean, inter / union.max(1.0)))
}

/// Runs (or resumes) training; returns the final state (`best_val` = best validation IoU).
///
/// # Errors
/// Bad data folders, checkpoint I/O, or candle errors.
pub fn train(opts: &VrnTrainOptions) -> anyhow::Result<TrainState> {
    let mut train_set = load_dir(&opts.train, usize::MAX)?;
    if opts.augment.facemesh > 0.0 {
        let detector = Detector::new(&Device::Cpu)?;
        let marks = load_or_build(&opts.train, train_set.len(), &detector)?;
        for (sample, m) in train_set.iter_mut().zip(marks) {
            sample.facemesh = m;
        }
    }
    let val_set = load_dir(&opts.val, opts.val_count)?;
    train_on(&train_set, &val_set, opts)
}

/// [`train`] on samples already in memory (`opts.train`, `opts.val` unused).
///
/// # Errors
/// Checkpoint I/O or candle errors.
pub fn train_on(
    train_set: &[VrnSample],
    val_set: &[VrnSample],
    opts: &VrnTrainOptions,
) -> anyhow::Result<TrainState> {
    anyhow::ensure!(
        !train_set.is_empty(),
        "{}: no samples",
        opts.train.display()
    );
    eprintln!(
        "vrn: {} training and {} validation samples, {:?}",
        train_set.len(),
        val_set.len(),
        opts.config
    );
    let dev = Device::Cpu;
    let vars = VarMap::new();
    let net = Vrn::new(
        opts.config,
        VarBuilder::from_varmap(&vars, DType::F32, &dev),
    )?;
    let params = AdamParams {
        lr: opts.learning_rate,
        weight_decay: 1e-4,
        ..AdamParams::default()
    };
    let opt = Adam::new(&vars, params)?;
    let mut trainer = VrnTrainer {
        net,
        vars,
        opt,
        train_set,
        val_set,
        opts,
        running: None,
    };
    let loop_opts = LoopOptions {
        checkpoint_dir: opts.checkpoint_dir.clone(),
        name: "vrn".to_owned(),
        out: opts.out.clone(),
        steps: opts.steps,
        minutes: opts.minutes,
        every: opts.every,
        snapshots: opts.snapshots.clone(),
    };
    run(&loop_opts, &mut trainer)
}

/// VRN for [`run`].
struct VrnTrainer<'a> {
    net: Vrn,
    vars: VarMap,
    opt: Adam,
    train_set: &'a [VrnSample],
    val_set: &'a [VrnSample],
    opts: &'a VrnTrainOptions,
    /// Exponential running mean of the training loss.
    running: Option<f64>,
}

impl Trainer for VrnTrainer<'_> {
    fn parts(&mut self) -> Vec<Part<'_>> {
        vec![Part {
            suffix: "",
            vars: &mut self.vars,
            opt: &mut self.opt,
        }]
    }

    fn step(&mut self, step: usize) -> anyhow::Result<String> {
        let o = self.opts;
        let mut rng = rand::rngs::StdRng::seed_from_u64(
            o.seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let picks: Vec<&VrnSample> = (0..o.batch)
            .map(|_| &self.train_set[rng.random_range(0..self.train_set.len())])
            .collect();
        let (x, y) = batch(&picks, &o.config, &o.augment, &mut rng)?;
        let l = loss(&self.net.forward_all(&x)?, &y)?;
        self.opt.backward_step(&l)?;
        let lv = f64::from(l.to_scalar::<f32>()?);
        let r = self.running.map_or(lv, |r| 0.95 * r + 0.05 * lv);
        self.running = Some(r);
        Ok(format!("train loss {r:.4}"))
    }

    fn validate(&mut self) -> anyhow::Result<(f64, String)> {
        let (vl, iou) = validate(&self.net, self.val_set)?;
        Ok((iou, format!("val loss {vl:.4}  val IoU {iou:.4}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` tiny 32 px "heads": a box of depth in the middle, shifted per sample.
    pub(crate) fn tiny_samples(n: usize) -> Vec<VrnSample> {
        let s = 32usize;
        (0..n)
            .map(|k| {
                let mut smp = VrnSample {
                    rgb_half: vec![30; 16 * 16 * 3],
                    front: vec![-16.0; s * s],
                    back: vec![-16.0; s * s],
                    mask: vec![0; s * s],
                    landmarks: vec![[16.0 + (k % 4) as f32, 16.0]; 68],
                    facemesh: None,
                    size: s,
                };
                for r in 6..26 {
                    for c in 8 + k % 4..24 + k % 4 {
                        let i = r * s + c;
                        smp.mask[i] = 1;
                        smp.front[i] = 6.0;
                        smp.back[i] = -8.0;
                        let j = (r / 2 * 16 + c / 2) * 3;
                        smp.rgb_half[j..j + 3].copy_from_slice(&[200; 3]);
                    }
                }
                smp
            })
            .collect()
    }

    #[test]
    fn learns_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let data = tiny_samples(8);
        let mut opts = VrnTrainOptions {
            config: VrnConfig::tiny(),
            train: PathBuf::new(),
            val: PathBuf::new(),
            val_count: 8,
            checkpoint_dir: dir.path().join("ckpt"),
            out: dir.path().join("vrn.safetensors"),
            steps: 60,
            minutes: 10.0,
            batch: 4,
            learning_rate: 3e-3,
            every: 20,
            augment: Augment::NONE,
            seed: 1,
            snapshots: Some(dir.path().join("snap")),
        };
        let first = train_on(&data, &data, &opts).unwrap();
        assert_eq!(first.step, 60);
        assert!(opts.out.exists());
        // A box volume is easy: the network gets most of it after a few steps.
        assert!(first.best_val.unwrap() > 0.7, "{first:?}");
        // A snapshot at every validation, and their mean has the final weights' tensors.
        let snaps: Vec<PathBuf> = [20, 40, 60]
            .iter()
            .map(|s| dir.path().join(format!("snap/vrn-{s}.safetensors")))
            .collect();
        let mean = crate::train::average::average_files(&snaps).unwrap();
        let last = candle_core::safetensors::load(&opts.out, &Device::Cpu).unwrap();
        let mut names: Vec<_> = mean.keys().collect();
        names.sort();
        let mut want: Vec<_> = last.keys().collect();
        want.sort();
        assert_eq!(names, want);
        opts.steps = 65;
        let second = train_on(&data, &data, &opts).unwrap();
        assert_eq!(second.step, 65, "resumed from 60, not from 0");
    }
}
