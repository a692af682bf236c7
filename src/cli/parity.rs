//! `visage parity --device cuda:0`: run every network on the CPU and on the chosen device, print
//! the largest output difference and the time per forward pass on each (Markdown table), and fail
//! when a difference is above the tolerance. See [`crate::eval::parity`].

use crate::eval::parity::{Network, compare};
use anyhow::bail;
use candle_core::Device;

/// Arguments of `visage parity`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Timed forward passes per network and device (after one untimed warm-up pass).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Largest allowed |CPU - device| difference, relative to max(1, largest |CPU output|).
    #[arg(long, default_value_t = 1e-3)]
    pub tolerance: f32,
    /// Networks to check (repeatable); default all.
    #[arg(long = "network", value_enum)]
    pub networks: Vec<Network>,
}

/// Runs `visage parity`.
///
/// # Errors
/// The device cannot be opened, a network fails on a device, or a difference is above the
/// tolerance.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let device = super::device()?;
    let networks = if args.networks.is_empty() {
        Network::ALL.to_vec()
    } else {
        args.networks.clone()
    };
    println!(
        "| network | outputs | max abs diff | max abs CPU output | CPU ms | device ms | CPU / device |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut failed = Vec::new();
    for network in networks {
        let row = compare(network, &Device::Cpu, &device, args.repeats as usize)?;
        println!(
            "| {} | {} | {:.3e} | {:.3} | {:.2} | {:.2} | {:.2} |",
            network.name(),
            row.outputs,
            row.max_abs_diff,
            row.max_abs_reference,
            row.reference_ms,
            row.device_ms,
            row.speedup()
        );
        if !row.within(args.tolerance) {
            failed.push(network.name());
        }
    }
    if !failed.is_empty() {
        bail!(
            "outputs differ beyond the tolerance {} on: {}",
            args.tolerance,
            failed.join(", ")
        );
    }
    Ok(())
}
