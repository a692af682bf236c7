//! `visage train pix2pix`: trains the U-Net depth generator with the pix2pix objective
//! (Isola et al. 2017): a conditional PatchGAN adversarial term plus `lambda * L1` on the
//! normalised depth (lambda = 100 as in the paper), plus a head-mask cross-entropy. `--l1-only`
//! drops the discriminator (the ablation). Adam (beta1 = 0.5), periodic validation (L1 and depth
//! MAE in crop pixels on the face mask), resumable checkpoints for both networks, a time budget;
//! writes the generator's weights file at the end.

use super::adam::{Adam, AdamParams};
use super::checkpoint::TrainState;
use super::pix2pix_data::DepthSet;
use super::run::{LoopOptions, Part, Trainer, run};
use crate::metrics::depth::centred_mae;
use crate::nn::patch_gan::{PatchGan, PatchGanConfig, bce_with_logits, bce_with_logits_const};
use crate::nn::unet::{UNet, UNetConfig};
use crate::pipeline::reconstruct::pix2pix_model::depth_unit;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::path::PathBuf;

/// Weight of the head-mask cross-entropy in the generator loss.
const MASK_WEIGHT: f64 = 10.0;

/// Options of a pix2pix training run.
#[derive(Clone, Debug)]
pub struct Pix2pixTrainOptions {
    /// Generator shape.
    pub generator: UNetConfig,
    /// Discriminator shape.
    pub discriminator: PatchGanConfig,
    /// Train with L1 (+ mask) only, without the discriminator.
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

impl Pix2pixTrainOptions {
    /// Checkpoint name stem: `pix2pix` or `pix2pix_l1`.
    #[must_use]
    pub fn run_name(&self) -> &'static str {
        if self.l1_only {
            "pix2pix_l1"
        } else {
            "pix2pix"
        }
    }
}

/// Losses of one step.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepLosses {
    /// Mean L1 on normalised depth.
    pub l1: f32,
    /// Mask cross-entropy.
    pub mask: f32,
    /// Generator adversarial term (0 when L1 only).
    pub adv: f32,
    /// Discriminator loss (0 when L1 only).
    pub disc: f32,
}

/// Validation numbers.
#[derive(Clone, Copy, Debug)]
pub struct Validation {
    /// Mean L1 on normalised depth over whole maps.
    pub l1: f32,
    /// Depth MAE on the ground-truth mask, crop pixels, maps centred on the mask.
    pub mae_px: f32,
    /// The same per sample divided by its interocular distance, averaged.
    pub mae_iod: f32,
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

/// A conditional GAN's generator `G` and PatchGAN discriminator, with their variables and
/// optimisers (pix2pix and the CGAN refiner).
pub(crate) struct Gan<G> {
    pub g: G,
    pub d: PatchGan,
    pub g_vars: VarMap,
    pub d_vars: VarMap,
    pub opt_g: Adam,
    pub opt_d: Adam,
}

impl<G> Gan<G> {
    /// The networks built on `g_vars` and `d_vars`, each with its own Adam at `lr`.
    ///
    /// # Errors
    /// A poisoned variable map or candle errors.
    pub fn new(g: G, d: PatchGan, g_vars: VarMap, d_vars: VarMap, lr: f64) -> anyhow::Result<Self> {
        let (opt_g, opt_d) = (adam(&g_vars, lr)?, adam(&d_vars, lr)?);
        Ok(Self {
            g,
            d,
            g_vars,
            d_vars,
            opt_g,
            opt_d,
        })
    }

    /// The parts for [`run`]: the generator, and the discriminator unless L1 only.
    pub fn parts(&mut self, l1_only: bool) -> Vec<Part<'_>> {
        let mut parts = vec![Part {
            suffix: "_g",
            vars: &mut self.g_vars,
            opt: &mut self.opt_g,
        }];
        if !l1_only {
            parts.push(Part {
                suffix: "_d",
                vars: &mut self.d_vars,
                opt: &mut self.opt_d,
            });
        }
        parts
    }
}

type Nets = Gan<UNet>;

/// One optimisation step on a batch (`x` [B,3,S,S], `y` depth and `m` mask [B,1,S,S]).
fn train_step(
    nets: &mut Nets,
    opts: &Pix2pixTrainOptions,
    x: &Tensor,
    y: &Tensor,
    m: &Tensor,
) -> anyhow::Result<StepLosses> {
    let out = nets.g.forward_t(x, true)?;
    let depth = out.narrow(1, 0, 1)?;
    let l1 = (&depth - y)?.abs()?.mean_all()?;
    let mask = bce_with_logits(&out.narrow(1, 1, 1)?, m)?;
    let mut losses = StepLosses {
        l1: l1.to_scalar()?,
        mask: mask.to_scalar()?,
        ..StepLosses::default()
    };
    let mut g_loss = ((l1 * opts.lambda)? + (mask * MASK_WEIGHT)?)?;
    if !opts.l1_only {
        let real = nets.d.forward(x, y)?;
        let fake = nets.d.forward(x, &depth.detach())?;
        let d_loss =
            ((bce_with_logits_const(&real, 1.0)? + bce_with_logits_const(&fake, 0.0)?)? * 0.5)?;
        nets.opt_d.backward_step(&d_loss)?;
        let adv = bce_with_logits_const(&nets.d.forward(x, &depth)?, 1.0)?;
        losses.disc = d_loss.to_scalar()?;
        losses.adv = adv.to_scalar()?;
        g_loss = (g_loss + adv)?;
    }
    nets.opt_g.backward_step(&g_loss)?;
    Ok(losses)
}

/// Runs the generator (no dropout) over `val` in batches and averages the metrics.
///
/// # Errors
/// Candle errors.
pub fn validate(g: &UNet, val: &DepthSet) -> anyhow::Result<Validation> {
    let n = val.side * val.side;
    let unit = depth_unit(val.crop);
    let (mut l1, mut mae, mut mae_iod) = (0.0f64, 0.0f64, 0.0f64);
    let idx: Vec<usize> = (0..val.len()).collect();
    for chunk in idx.chunks(32) {
        let (x, y, _) = val.batch(chunk, &[])?;
        let pred = g.forward(&x)?.narrow(1, 0, 1)?;
        l1 += f64::from((&pred - &y)?.abs()?.mean_all()?.to_scalar::<f32>()?) * chunk.len() as f64;
        let pv: Vec<f32> = pred.flatten_all()?.to_vec1()?;
        for (k, &i) in chunk.iter().enumerate() {
            let mask: Vec<bool> = val.mask[i * n..(i + 1) * n]
                .iter()
                .map(|&v| v > 0.0)
                .collect();
            let e = centred_mae(
                &pv[k * n..(k + 1) * n],
                &val.depth[i * n..(i + 1) * n],
                &mask,
            )
            .unwrap_or(0.0)
                * unit;
            mae += f64::from(e);
            mae_iod += f64::from(e / val.eye_px[i].max(1e-3));
        }
    }
    let count = val.len().max(1) as f64;
    Ok(Validation {
        l1: (l1 / count) as f32,
        mae_px: (mae / count) as f32,
        mae_iod: (mae_iod / count) as f32,
    })
}

/// Adam as pix2pix uses it (beta1 = 0.5, no weight decay) over every variable of `vars`.
///
/// # Errors
/// A poisoned variable map or candle errors.
pub(crate) fn adam(vars: &VarMap, lr: f64) -> anyhow::Result<Adam> {
    Adam::new(
        vars,
        AdamParams {
            lr,
            beta1: 0.5,
            beta2: 0.999,
            ..AdamParams::default()
        },
    )
}

/// pix2pix for [`run`].
struct Pix2pixTrainer<'a> {
    nets: Nets,
    opts: &'a Pix2pixTrainOptions,
    train_set: &'a DepthSet,
    val_set: &'a DepthSet,
    order: Vec<usize>,
    /// Validation of the weights the session started from.
    first: Option<Validation>,
}

impl Trainer for Pix2pixTrainer<'_> {
    fn parts(&mut self) -> Vec<Part<'_>> {
        self.nets.parts(self.opts.l1_only)
    }

    fn started(&mut self) -> anyhow::Result<()> {
        self.first = Some(validate(&self.nets.g, self.val_set)?);
        Ok(())
    }

    fn step(&mut self, step: usize) -> anyhow::Result<String> {
        let o = self.opts;
        let (idx, flip) =
            super::next_batch(&mut self.order, self.train_set.len(), o.batch, o.seed, step);
        let (x, y, m) = self.train_set.batch(&idx, &flip)?;
        let l = train_step(&mut self.nets, o, &x, &y, &m)?;
        Ok(format!(
            "l1 {:.4} mask {:.4} adv {:.3} D {:.3}",
            l.l1, l.mask, l.adv, l.disc
        ))
    }

    fn validate(&mut self) -> anyhow::Result<(f64, String)> {
        let v = validate(&self.nets.g, self.val_set)?;
        Ok((
            -f64::from(v.mae_px),
            format!(
                "val l1 {:.4} MAE {:.3} px ({:.4} IOD)",
                v.l1, v.mae_px, v.mae_iod
            ),
        ))
    }
}

/// Runs (or resumes) training on `train_set`, validating on `val_set`.
///
/// # Errors
/// Checkpoint I/O or candle errors.
pub fn train(
    opts: &Pix2pixTrainOptions,
    train_set: &DepthSet,
    val_set: &DepthSet,
) -> anyhow::Result<TrainReport> {
    anyhow::ensure!(!train_set.is_empty(), "no training pairs");
    let dev = Device::Cpu;
    let (g_vars, d_vars) = (VarMap::new(), VarMap::new());
    let g = UNet::new(
        opts.generator.clone(),
        VarBuilder::from_varmap(&g_vars, DType::F32, &dev),
    )?;
    let d = PatchGan::new(
        &opts.discriminator,
        VarBuilder::from_varmap(&d_vars, DType::F32, &dev),
    )?;
    let mut trainer = Pix2pixTrainer {
        nets: Gan::new(g, d, g_vars, d_vars, opts.learning_rate)?,
        opts,
        train_set,
        val_set,
        order: Vec::new(),
        first: None,
    };
    let loop_opts = LoopOptions {
        checkpoint_dir: opts.checkpoint_dir.clone(),
        name: opts.run_name().to_owned(),
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
    use rand::{Rng, SeedableRng};

    /// Discs with a dome-shaped depth whose shading (brightness) encodes the depth.
    fn toy_set(n: usize, seed: u64) -> DepthSet {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut set = DepthSet {
            side: 16,
            crop: 16,
            ..DepthSet::default()
        };
        for _ in 0..n {
            let (cx, cy, r) = (
                rng.random_range(5.0..11.0f32),
                rng.random_range(5.0..11.0f32),
                rng.random_range(3.0..5.0f32),
            );
            let mut depth = vec![-8.0; 256];
            let mut mask = vec![0u8; 256];
            let img = image::RgbImage::from_fn(16, 16, |x, y| {
                let d2 = (x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2);
                let i = (y * 16 + x) as usize;
                if d2 < r * r {
                    depth[i] = 3.0 * (r * r - d2).sqrt();
                    mask[i] = 1;
                    image::Rgb([(80.0 + 12.0 * depth[i]).min(255.0) as u8; 3])
                } else {
                    image::Rgb([20, 40, 60])
                }
            });
            set.push(&img, &depth, &mask, 8.0);
        }
        set
    }

    fn tiny_opts(dir: &std::path::Path, l1_only: bool, steps: usize) -> Pix2pixTrainOptions {
        Pix2pixTrainOptions {
            generator: UNetConfig::tiny(),
            discriminator: PatchGanConfig::tiny(),
            l1_only,
            lambda: 100.0,
            checkpoint_dir: dir.join("ckpt"),
            out: dir.join("p2p.safetensors"),
            steps,
            minutes: 10.0,
            batch: 8,
            learning_rate: 2e-3,
            every: 20,
            seed: 3,
        }
    }

    #[test]
    fn gan_learns_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let (train_set, val_set) = (toy_set(64, 1), toy_set(16, 2));
        let opts = tiny_opts(dir.path(), false, 60);
        let report = train(&opts, &train_set, &val_set).unwrap();
        assert_eq!(report.state.step, 60);
        assert!(opts.out.exists());
        assert!(dir.path().join("ckpt/pix2pix_d.safetensors").exists());
        assert!(
            report.last.l1 < 0.6 * report.first.l1,
            "{:?} -> {:?}",
            report.first,
            report.last
        );
        let more = Pix2pixTrainOptions { steps: 70, ..opts };
        let again = train(&more, &train_set, &val_set).unwrap();
        assert_eq!(again.state.step, 70, "resumed from 60, not from 0");
        // Resumed weights: the session starts where the last one ended.
        assert!((again.first.l1 - report.last.l1).abs() < 1e-5);
    }

    #[test]
    fn l1_only_learns_without_a_discriminator() {
        let dir = tempfile::tempdir().unwrap();
        let (train_set, val_set) = (toy_set(64, 1), toy_set(16, 2));
        let opts = tiny_opts(dir.path(), true, 40);
        let report = train(&opts, &train_set, &val_set).unwrap();
        assert!(report.last.l1 < 0.6 * report.first.l1, "{report:?}");
        assert!(dir.path().join("ckpt/pix2pix_l1_g.safetensors").exists());
        assert!(!dir.path().join("ckpt/pix2pix_l1_d.safetensors").exists());
    }
}
