//! AdamW (Loshchilov and Hutter 2019: Adam with decoupled weight decay) whose state can be
//! saved and restored, so a resumed training run continues exactly where it stopped. candle's
//! own `AdamW` keeps its moments private; this one holds them by variable name.
//!
//! Update per variable `p` with gradient `g`, at step `t` (counted from 1):
//! `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
//! `p = p (1 - lr wd) - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.

use anyhow::Context;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use std::collections::HashMap;
use std::path::Path;

/// Hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamParams {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// One variable and its moments.
struct Slot {
    name: String,
    var: Var,
    m: Tensor,
    v: Tensor,
}

/// The optimiser over every variable of a [`VarMap`] (sorted by name).
pub struct Adam {
    slots: Vec<Slot>,
    /// Steps taken.
    pub t: usize,
    /// Hyper-parameters (the learning rate may change between steps).
    pub params: AdamParams,
}

impl Adam {
    /// Fresh moments for every variable of `vars`.
    ///
    /// # Errors
    /// A poisoned variable map or candle errors.
    pub fn new(vars: &VarMap, params: AdamParams) -> anyhow::Result<Self> {
        let data = vars
            .data()
            .lock()
            .map_err(|_| anyhow::anyhow!("variable map lock poisoned"))?;
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        let slots = names
            .into_iter()
            .map(|name| {
                let var = data[name].clone();
                let zeros = var.as_tensor().zeros_like()?;
                Ok(Slot {
                    name: name.clone(),
                    var,
                    m: zeros.clone(),
                    v: zeros,
                })
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            slots,
            t: 0,
            params,
        })
    }

    /// Back-propagates `loss` and updates every variable that has a gradient.
    ///
    /// # Errors
    /// Candle errors.
    pub fn backward_step(&mut self, loss: &Tensor) -> candle_core::Result<()> {
        let grads = loss.backward()?;
        self.t += 1;
        let p = self.params;
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let t = self.t as i32;
        let (c1, c2) = (1.0 - p.beta1.powi(t), 1.0 - p.beta2.powi(t));
        for s in &mut self.slots {
            let Some(g) = grads.get(s.var.as_tensor()) else {
                continue;
            };
            // A parameter's gradient can still carry the backward graph of this step (candle
            // detaches gradients only as it walks through them), so the moments are detached:
            // otherwise each step's moments hold the previous step's graph, and through it every
            // earlier step's activations (training grew by ~100 MB a step).
            let g = g.detach();
            s.m = ((&s.m * p.beta1)? + (&g * (1.0 - p.beta1))?)?.detach();
            s.v = ((&s.v * p.beta2)? + (g.sqr()? * (1.0 - p.beta2))?)?.detach();
            let step = ((&s.m / c1)? / ((&s.v / c2)?.sqrt()? + p.eps)?)?;
            let decayed = (s.var.as_tensor() * (1.0 - p.lr * p.weight_decay))?;
            s.var.set(&(decayed - (step * p.lr)?)?)?;
        }
        Ok(())
    }

    /// Writes the moments (`m.NAME`, `v.NAME`) and the step count (`t`) as safetensors.
    ///
    /// # Errors
    /// I/O failures, with the path.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut map: HashMap<String, Tensor> = HashMap::new();
        for s in &self.slots {
            map.insert(format!("m.{}", s.name), s.m.clone());
            map.insert(format!("v.{}", s.name), s.v.clone());
        }
        #[allow(clippy::cast_precision_loss)]
        let t = Tensor::new(&[self.t as f64], &Device::Cpu)?;
        map.insert("t".to_owned(), t);
        candle_core::safetensors::save(&map, path)
            .with_context(|| format!("{}: cannot write the optimiser state", path.display()))
    }

    /// Restores moments and step count written by [`Adam::save`] for the same variables.
    ///
    /// # Errors
    /// An unreadable file, or one whose tensors do not match the variables.
    pub fn load(&mut self, path: &Path) -> anyhow::Result<()> {
        let what = || format!("{}: not this run's optimiser state", path.display());
        let device = self
            .slots
            .first()
            .map_or(Device::Cpu, |s| s.var.device().clone());
        let map = candle_core::safetensors::load(path, &device).with_context(what)?;
        for s in &mut self.slots {
            for (key, slot) in [("m", &mut s.m), ("v", &mut s.v)] {
                let t = map
                    .get(&format!("{key}.{}", s.name))
                    .with_context(what)?
                    .to_dtype(DType::F32)?;
                anyhow::ensure!(
                    t.dims() == slot.dims(),
                    "{}: {key}.{} shape",
                    what(),
                    s.name
                );
                *slot = t;
            }
        }
        let t = map.get("t").with_context(what)?.to_vec1::<f64>()?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let steps = t.first().copied().unwrap_or(0.0) as usize;
        self.t = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::{Init, VarBuilder};

    /// A map with one variable `w` of four ones.
    fn one_var() -> (VarMap, Var) {
        let vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        vb.get_with_hints(4, "w", Init::Const(1.0)).unwrap();
        let var = vars.data().lock().unwrap()["w"].clone();
        (vars, var)
    }

    /// The moments never hold a backward graph, even when a gradient does (a product of the
    /// parameter with a tensor computed from it): held graphs chained every step's activations
    /// together, and training ran out of memory after a few hundred steps.
    #[test]
    fn moments_hold_no_graph() {
        let (vars, w) = one_var();
        let mut opt = Adam::new(&vars, AdamParams::default()).unwrap();
        for _ in 0..3 {
            let t = w.as_tensor();
            let loss = (t * t.sqr().unwrap()).unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            assert!(
                grads.get(t).unwrap().track_op(),
                "the case this test is about"
            );
            opt.backward_step(&loss).unwrap();
        }
        for s in &opt.slots {
            assert!(!s.m.track_op() && !s.v.track_op(), "{}", s.name);
        }
    }

    #[test]
    fn it_minimises_and_a_restored_state_continues_exactly() {
        let params = AdamParams {
            lr: 0.1,
            ..AdamParams::default()
        };
        let (vars, w) = one_var();
        let loss = |w: &Var| {
            let target = Tensor::new(&[3f32, -1.0, 0.5, 2.0], &Device::Cpu).unwrap();
            (w.as_tensor() - target)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
        };
        let mut opt = Adam::new(&vars, params).unwrap();
        let first: f32 = loss(&w).to_scalar().unwrap();
        for _ in 0..5 {
            opt.backward_step(&loss(&w)).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opt.safetensors");
        opt.save(&path).unwrap();
        let snapshot = w.as_tensor().copy().unwrap();
        // Path A: keep going.
        for _ in 0..5 {
            opt.backward_step(&loss(&w)).unwrap();
        }
        let a = w.as_tensor().to_vec1::<f32>().unwrap();
        // Path B: restore weights and optimiser state, then the same 5 steps.
        w.set(&snapshot).unwrap();
        let mut resumed = Adam::new(&vars, params).unwrap();
        resumed.load(&path).unwrap();
        assert_eq!(resumed.t, 5);
        for _ in 0..5 {
            resumed.backward_step(&loss(&w)).unwrap();
        }
        let b = w.as_tensor().to_vec1::<f32>().unwrap();
        assert_eq!(a, b, "a resumed optimiser must continue exactly");
        let last: f32 = loss(&w).to_scalar().unwrap();
        assert!(last < 0.5 * first, "{first} -> {last}");
        // A fresh optimiser (moments lost) takes a different path.
        w.set(&snapshot).unwrap();
        let mut fresh = Adam::new(&vars, params).unwrap();
        for _ in 0..5 {
            fresh.backward_step(&loss(&w)).unwrap();
        }
        assert_ne!(w.as_tensor().to_vec1::<f32>().unwrap(), a);
    }
}
