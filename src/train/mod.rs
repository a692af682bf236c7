//! Training loops for the project's own networks. Training never runs in CI; the tests run each
//! loop for a few steps on tiny data to prove it learns and resumes.
//!
//! - [`sr_data`]: super-resolution training pairs cut from a folder of images.
//! - [`espcn`]: `visage train espcn`.
//! - [`vrn_data`], [`vrn_landmarks`], [`vrn`]: `visage train vrn` on synthetic shards.
//! - [`pix2pix`], [`pix2pix_data`]: `visage train pix2pix` on synthetic shards.
//! - [`refiner`], [`refiner_data`]: `visage train refiner` (the 3DMM path's CGAN refiner) on
//!   coarse fits of synthetic shards.
//! - [`run`]: the one training loop (resume with the optimiser state, step, validate,
//!   checkpoint, snapshot, write the weights); each trainer implements [`run::Trainer`].
//! - [`adam`]: AdamW whose moments are saved with the checkpoints.
//! - [`checkpoint`]: resumable checkpoints shared by every loop.
//! - [`average`]: `visage train average`, the mean of several checkpoints.
//! - [`contour68`]: `visage train contour68`, the ridge map from FaceMesh to the 68 landmarks
//!   in the 3D-contour convention.

pub mod adam;
pub mod average;
pub mod checkpoint;
pub mod contour68;
pub mod dense_topology;
pub mod espcn;
pub mod morphable;
pub mod pix2pix;
pub mod pix2pix_data;
pub mod refiner;
pub mod refiner_data;
pub mod run;
pub mod sr_data;
pub mod vrn;
pub mod vrn_data;
pub mod vrn_landmarks;

/// Zeroes every variable of `vars` whose name starts with `prefix` (a last layer, so that a
/// residual network starts as the identity: ESPCN returns bicubic, the refiner its input).
///
/// # Errors
/// A poisoned variable map, or candle errors.
pub fn zero_vars(vars: &candle_nn::VarMap, prefix: &str) -> anyhow::Result<()> {
    let data = vars
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("variable map lock poisoned"))?;
    for (name, var) in data.iter() {
        if name.starts_with(prefix) {
            var.set(&var.zeros_like()?)?;
        }
    }
    Ok(())
}

/// The next training batch of a GAN trainer (pix2pix, refiner): sample indices drawn without
/// replacement from `order` (refilled with a fresh shuffle of `0..len` when fewer than `batch`
/// remain) and a horizontal-flip flag per sample, both from a generator seeded by `seed` and
/// `step`, so a resumed run continues the same stream.
pub fn next_batch(
    order: &mut Vec<usize>,
    len: usize,
    batch: usize,
    seed: u64,
    step: usize,
) -> (Vec<usize>, Vec<bool>) {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (step as u64).wrapping_mul(0x9E37_79B9));
    if order.len() < batch {
        *order = (0..len).collect();
        order.shuffle(&mut rng);
    }
    let idx = order.split_off(order.len() - batch.min(order.len()));
    let flip = idx.iter().map(|_| rng.random_bool(0.5)).collect();
    (idx, flip)
}
