//! The one training loop every trainer uses: resume from a checkpoint (weights, optimiser
//! moments and step count), step until a step count or a time budget, validate and checkpoint
//! every `every` steps (keeping snapshots when asked), write the final weights. A trainer
//! supplies only its variables, its step and its validation ([`Trainer`]).

use super::adam::Adam;
use super::checkpoint::{Checkpoint, TrainState};
use anyhow::Context;
use candle_nn::VarMap;
use std::path::PathBuf;
use std::time::Instant;

/// Where and how long a run goes.
#[derive(Clone, Debug)]
pub struct LoopOptions {
    /// Checkpoint folder (resumed when it holds this run's checkpoint).
    pub checkpoint_dir: PathBuf,
    /// Checkpoint name stem (`vrn`, `espcn_x4`, `pix2pix`, ...).
    pub name: String,
    /// Final weights file (the first part's variables).
    pub out: PathBuf,
    /// Stop after this many optimiser steps in total.
    pub steps: usize,
    /// Stop after this many minutes of this session.
    pub minutes: f64,
    /// Steps between validations and checkpoints.
    pub every: usize,
    /// Keep a copy of the first part's weights at every checkpoint here (for averaging).
    pub snapshots: Option<PathBuf>,
}

/// One set of variables with its optimiser, saved as `<name><suffix>.*`.
pub struct Part<'a> {
    /// File-name suffix (`""`, `"_g"`, `"_d"`).
    pub suffix: &'static str,
    /// The variables.
    pub vars: &'a mut VarMap,
    /// Their optimiser.
    pub opt: &'a mut Adam,
}

/// What a trainer supplies to [`run`].
pub trait Trainer {
    /// The variable sets and optimisers to checkpoint; the first one is the network written to
    /// [`LoopOptions::out`].
    fn parts(&mut self) -> Vec<Part<'_>>;

    /// Called when no checkpoint exists (e.g. to zero a last layer).
    ///
    /// # Errors
    /// Candle errors.
    fn fresh(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    /// Called once the weights to start from are in place (resumed or fresh), before the
    /// first step (e.g. to validate the starting point).
    ///
    /// # Errors
    /// Candle errors.
    fn started(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    /// One optimiser step; `step` is the number of steps done before it (seeds the batch, so a
    /// resumed run draws the same batches). Returns the training losses as a log fragment.
    ///
    /// # Errors
    /// Candle or data errors.
    fn step(&mut self, step: usize) -> anyhow::Result<String>;

    /// The validation score (higher is better) and a log fragment.
    ///
    /// # Errors
    /// Candle errors.
    fn validate(&mut self) -> anyhow::Result<(f64, String)>;
}

/// The checkpoint of each part.
fn checkpoints(opts: &LoopOptions, trainer: &mut impl Trainer) -> Vec<Checkpoint> {
    trainer
        .parts()
        .iter()
        .map(|p| Checkpoint::new(&opts.checkpoint_dir, &format!("{}{}", opts.name, p.suffix)))
        .collect()
}

/// Loads every part's checkpoint; the state of the first, or `None` for a fresh run.
fn resume(ckpts: &[Checkpoint], trainer: &mut impl Trainer) -> anyhow::Result<Option<TrainState>> {
    let mut state = None;
    for (ckpt, part) in ckpts.iter().zip(trainer.parts()) {
        let Some(s) = ckpt.resume(part.vars)? else {
            continue;
        };
        let opt = ckpt.optimiser_path();
        if opt.exists() {
            part.opt.load(&opt)?;
        } else {
            eprintln!(
                "{}: no optimiser state: Adam's moments restart",
                opt.display()
            );
        }
        state.get_or_insert(s);
    }
    Ok(state)
}

/// Saves every part (weights, optimiser, state).
fn save(
    ckpts: &[Checkpoint],
    trainer: &mut impl Trainer,
    state: &TrainState,
) -> anyhow::Result<()> {
    for (ckpt, part) in ckpts.iter().zip(trainer.parts()) {
        ckpt.save(part.vars, state)?;
        part.opt.save(&ckpt.optimiser_path())?;
    }
    Ok(())
}

/// Runs (or resumes) `trainer`; returns the final state (`best_val` = the best validation).
///
/// # Errors
/// Checkpoint I/O, data or candle errors.
pub fn run(opts: &LoopOptions, trainer: &mut impl Trainer) -> anyhow::Result<TrainState> {
    let ckpts = checkpoints(opts, trainer);
    let mut state = match resume(&ckpts, trainer)? {
        Some(s) => {
            eprintln!(
                "{}: resumed at step {} ({:.0} s trained)",
                opts.name, s.step, s.seconds
            );
            s
        }
        None => {
            trainer.fresh()?;
            TrainState::default()
        }
    };
    if let Some(dir) = &opts.snapshots {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    trainer.started()?;
    let (start, mut last) = (Instant::now(), Instant::now());
    let every = opts.every.max(1);
    while state.step < opts.steps && start.elapsed().as_secs_f64() < opts.minutes * 60.0 {
        let losses = trainer.step(state.step)?;
        state.step += 1;
        if state.step % every == 0 || state.step == opts.steps {
            state.seconds += last.elapsed().as_secs_f64();
            last = Instant::now();
            let (score, line) = trainer.validate()?;
            eprintln!(
                "step {:>6}  {losses} | {line}  {:.0} s",
                state.step, state.seconds
            );
            if state.best_val.is_none_or(|b| score > b) {
                state.best_val = Some(score);
            }
            save(&ckpts, trainer, &state)?;
            if let Some(dir) = &opts.snapshots {
                let path = dir.join(format!("{}-{}.safetensors", opts.name, state.step));
                if let Some(part) = trainer.parts().first() {
                    part.vars
                        .save(&path)
                        .with_context(|| format!("{}: cannot write", path.display()))?;
                }
            }
        }
    }
    state.seconds += last.elapsed().as_secs_f64();
    save(&ckpts, trainer, &state)?;
    if let Some(dir) = opts.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if let Some(part) = trainer.parts().first() {
        part.vars
            .save(&opts.out)
            .with_context(|| format!("{}: cannot write the weights", opts.out.display()))?;
    }
    eprintln!("wrote {} after {} steps", opts.out.display(), state.step);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::adam::AdamParams;
    use candle_core::{DType, Device, Tensor};
    use candle_nn::{Init, VarBuilder};

    /// Least squares `w . x = y` on batches drawn from the step number.
    struct Toy {
        vars: VarMap,
        opt: Adam,
        w: Tensor,
    }

    impl Toy {
        fn new() -> Self {
            let vars = VarMap::new();
            let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
            let w = vb.get_with_hints(3, "w", Init::Const(0.0)).unwrap();
            let params = AdamParams {
                lr: 0.05,
                ..AdamParams::default()
            };
            let opt = Adam::new(&vars, params).unwrap();
            Self { vars, opt, w }
        }

        fn error(&self) -> f32 {
            let want = Tensor::new(&[1f32, -2.0, 0.5], &Device::Cpu).unwrap();
            (&self.w - want)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar()
                .unwrap()
        }
    }

    impl Trainer for Toy {
        fn parts(&mut self) -> Vec<Part<'_>> {
            vec![Part {
                suffix: "",
                vars: &mut self.vars,
                opt: &mut self.opt,
            }]
        }

        fn step(&mut self, step: usize) -> anyhow::Result<String> {
            #[allow(clippy::cast_precision_loss)]
            let s = step as f32;
            let x = Tensor::new(
                &[[1f32, s.sin(), s.cos()], [s.cos(), 1.0, -s]],
                &Device::Cpu,
            )?;
            let y = x.matmul(&Tensor::new(&[[1f32], [-2.0], [0.5]], &Device::Cpu)?)?;
            let pred = x.matmul(&self.w.unsqueeze(1)?)?;
            let loss = (pred - y)?.sqr()?.mean_all()?;
            self.opt.backward_step(&loss)?;
            Ok(format!("loss {:.4}", loss.to_scalar::<f32>()?))
        }

        fn validate(&mut self) -> anyhow::Result<(f64, String)> {
            Ok((-f64::from(self.error()), String::new()))
        }
    }

    fn options(dir: &std::path::Path, steps: usize) -> LoopOptions {
        LoopOptions {
            checkpoint_dir: dir.join("ckpt"),
            name: "toy".into(),
            out: dir.join("toy.safetensors"),
            steps,
            minutes: 10.0,
            every: 5,
            snapshots: Some(dir.join("snaps")),
        }
    }

    #[test]
    fn a_resumed_run_ends_exactly_where_an_uninterrupted_one_does() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut straight = Toy::new();
        let state = run(&options(a.path(), 20), &mut straight).unwrap();
        assert_eq!(state.step, 20);
        assert!(straight.error() < 5.25, "it learns: {}", straight.error());
        // The same 20 steps in two sessions of 10, the second from the checkpoint alone.
        run(&options(b.path(), 10), &mut Toy::new()).unwrap();
        let mut resumed = Toy::new();
        let state = run(&options(b.path(), 20), &mut resumed).unwrap();
        assert_eq!(state.step, 20);
        assert_eq!(
            straight.w.to_vec1::<f32>().unwrap(),
            resumed.w.to_vec1::<f32>().unwrap(),
            "weights, optimiser moments and batches all resume"
        );
        // Snapshots every 5 steps and the final weights file.
        assert!(b.path().join("snaps/toy-15.safetensors").exists());
        assert!(b.path().join("toy.safetensors").exists());
        assert!(b.path().join("ckpt/toy.opt.safetensors").exists());
    }
}
