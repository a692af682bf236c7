//! Losses shared by the networks' trainers.

use candle_core::{Result, Tensor};

/// Numerically stable binary cross-entropy with logits, averaged over every element:
/// `max(x, 0) - x * t + log(1 + exp(-|x|))` for logits `x` and targets `t` in [0, 1].
///
/// # Errors
/// Shape mismatch between `logits` and `targets`.
pub fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let softplus = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    let loss = ((logits.relu()? - (logits * targets)?)? + softplus)?;
    loss.mean_all()
}

/// [`bce_with_logits`] against a constant target (1 = real, 0 = fake).
///
/// # Errors
/// Candle errors.
pub fn bce_with_logits_const(logits: &Tensor, target: f64) -> Result<Tensor> {
    let t = logits.ones_like()?.affine(target, 0.0)?;
    bce_with_logits(logits, &t)
}
