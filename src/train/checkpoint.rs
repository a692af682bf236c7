//! Resumable checkpoints: the variables as safetensors plus a small JSON with the step count
//! and the best validation score, written atomically so an interrupted run never corrupts them.

use anyhow::Context;
use candle_nn::VarMap;
use std::path::{Path, PathBuf};

/// Progress saved beside the weights.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Optimiser steps done.
    pub step: usize,
    /// Best validation score so far (higher is better), if any.
    pub best_val: Option<f64>,
    /// Wall-clock seconds spent training, over all sessions.
    pub seconds: f64,
}

/// A checkpoint location: `<dir>/<name>.safetensors` + `<dir>/<name>.json`.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    weights: PathBuf,
    state: PathBuf,
}

impl Checkpoint {
    /// A checkpoint named `name` in `dir` (created on first save).
    #[must_use]
    pub fn new(dir: &Path, name: &str) -> Self {
        Self {
            weights: dir.join(format!("{name}.safetensors")),
            state: dir.join(format!("{name}.json")),
        }
    }

    /// Where the optimiser state of this checkpoint goes (`<dir>/<name>.opt.safetensors`).
    #[must_use]
    pub fn optimiser_path(&self) -> PathBuf {
        self.weights.with_extension("opt.safetensors")
    }

    /// Loads the variables into `vars` and returns the saved state, or `None` when there is no
    /// checkpoint yet.
    ///
    /// # Errors
    /// A checkpoint that exists but cannot be read.
    pub fn resume(&self, vars: &mut VarMap) -> anyhow::Result<Option<TrainState>> {
        if !self.weights.exists() || !self.state.exists() {
            return Ok(None);
        }
        vars.load(&self.weights)
            .with_context(|| format!("{}: cannot load the checkpoint", self.weights.display()))?;
        let text = std::fs::read_to_string(&self.state)
            .with_context(|| format!("{}: cannot read", self.state.display()))?;
        Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!("{}: not a checkpoint state", self.state.display())
        })?))
    }

    /// Saves variables and state, each through a temporary file and a rename.
    ///
    /// # Errors
    /// I/O failures, with the path.
    pub fn save(&self, vars: &VarMap, state: &TrainState) -> anyhow::Result<()> {
        if let Some(dir) = self.weights.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let tmp = self.weights.with_extension("safetensors.tmp");
        vars.save(&tmp)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &self.weights)
            .with_context(|| format!("{}: cannot write", self.weights.display()))?;
        let tmp = self.state.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(state)?)
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &self.state)
            .with_context(|| format!("{}: cannot write", self.state.display()))?;
        Ok(())
    }
}
