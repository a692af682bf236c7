//! Training loops for the project's own networks. Training never runs in CI; the tests run each
//! loop for a few steps on tiny data to prove it learns and resumes.
//!
//! - [`sr_data`]: super-resolution training pairs cut from a folder of images.
//! - [`espcn`]: `visage train espcn`.
//! - [`vrn_data`], [`vrn`]: `visage train vrn` on synthetic shards.
//! - [`pix2pix`], [`pix2pix_data`]: `visage train pix2pix` on synthetic shards.
//! - [`refiner`], [`refiner_data`]: `visage train refiner` (the 3DMM path's CGAN refiner) on
//!   coarse fits of synthetic shards.
//! - [`checkpoint`]: resumable checkpoints shared by every loop.

pub mod checkpoint;
pub mod espcn;
pub mod morphable;
pub mod pix2pix;
pub mod pix2pix_data;
pub mod refiner;
pub mod refiner_data;
pub mod sr_data;
pub mod vrn;
pub mod vrn_data;

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
