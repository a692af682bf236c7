//! Runs `visage synth` before the subcommand is wired into the main binary:
//! `cargo run --release --example synth -- --count 24 --out /tmp/synth --preview grid.png`.

use clap::Parser;

/// `visage synth` arguments.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: visage::cli::synth::Args,
}

fn main() -> anyhow::Result<()> {
    visage::cli::synth::run(&Cli::parse().args)
}
