//! `visage eval recon --method pix2pix --data DIR`: evaluates a reconstruction method on the
//! synthetic test split (`visage synth --seed 1000000 --size 128`) and prints a table (and
//! optionally JSON) of depth MAE and mesh NME per input width and upscaler.

use crate::eval::pix2pix::{evaluate, standard_conditions};
use crate::pipeline::reconstruct::Method;
use crate::pipeline::reconstruct::pix2pix_model::Pix2pixModel;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `visage eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to evaluate.
    #[command(subcommand)]
    pub what: What,
}

/// The evaluations.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// 3D reconstruction on synthetic test shards: depth MAE and mesh NME.
    Recon(ReconArgs),
}

/// Arguments of `visage eval recon`.
#[derive(Debug, clap::Args)]
pub struct ReconArgs {
    /// Reconstruction method.
    #[arg(long, value_enum)]
    pub method: Method,
    /// Folder of test shards (repeatable); use seeds >= 1000000, never trained on.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Evaluate at most this many samples.
    #[arg(long, default_value_t = 200)]
    pub count: usize,
    /// Generator weights (pix2pix).
    #[arg(long, default_value = "weights/pix2pix.safetensors")]
    pub weights: PathBuf,
    /// Keep every n-th ground-truth mesh vertex for the NME.
    #[arg(long, default_value_t = 8)]
    pub mesh_stride: usize,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `visage eval`.
///
/// # Errors
/// Unreadable data or weights, an unsupported method, network failures.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.what {
        What::Recon(a) => recon(a),
    }
}

fn recon(a: &ReconArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.method == Method::Pix2pix,
        "eval recon supports --method pix2pix here"
    );
    let model = Pix2pixModel::load(&a.weights)?;
    let start = Instant::now();
    let rows = evaluate(
        &model,
        &a.data,
        a.count,
        &standard_conditions(),
        a.mesh_stride,
    )?;
    println!(
        "method {} ({}), {:.0} s",
        a.method,
        a.weights.display(),
        start.elapsed().as_secs_f64()
    );
    println!("| input | upscaler | samples | depth MAE px | depth MAE / IOD | NME | empty |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let up = r.condition.upscaler.map_or("-", |u| u.name());
        println!(
            "| {} px | {up} | {} | {:.3} | {:.4} | {:.4} | {} |",
            r.condition.width, r.samples, r.depth_mae_px, r.depth_mae_iod, r.nme, r.empty_meshes
        );
    }
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&rows)?;
        std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(())
}
