//! `visage eval ...`: the evaluation commands behind the model cards and the report.

use crate::eval::faces::{NamedFace, real_fixture_faces, synthetic_test_faces};
use crate::eval::sr::{aggregate_table, bench_upscale, evaluate, per_image_table};
use crate::pipeline::upscale::Upscaler;
use std::path::PathBuf;

/// Arguments of `visage eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to evaluate.
    #[command(subcommand)]
    pub target: Target,
}

/// The evaluations.
#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// Super-resolution: PSNR/SSIM of every upscaler at x2 and x4 on held-out faces.
    Sr(SrArgs),
}

/// Arguments of `visage eval sr`.
#[derive(Debug, clap::Args)]
pub struct SrArgs {
    /// Synthetic test-split faces to render (needs the ICT model; 0 = real fixtures only).
    #[arg(long, default_value_t = 100)]
    pub synth: u64,
    /// Side of the face crops, pixels.
    #[arg(long, default_value_t = 128)]
    pub size: u32,
    /// ICT model path (default: $VISAGE_ICT, else ../shared/ict-face-model/).
    #[arg(long)]
    pub ict: Option<PathBuf>,
    /// Folder with the real fixture portraits.
    #[arg(long, default_value = "tests/fixtures")]
    pub fixtures: PathBuf,
    /// Write every score as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `visage eval`.
///
/// # Errors
/// Missing data or failing stages.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.target {
        Target::Sr(a) => run_sr(a),
    }
}

fn run_sr(a: &SrArgs) -> anyhow::Result<()> {
    let mut faces: Vec<NamedFace> = Vec::new();
    if a.synth > 0 {
        let ict = super::synth::find_ict(a.ict.as_deref());
        faces.extend(synthetic_test_faces(
            &ict,
            a.synth,
            usize::try_from(a.size)?,
        )?);
    }
    let detector = crate::pipeline::detect::Detector::new(&super::device()?)?;
    faces.extend(real_fixture_faces(&detector, &a.fixtures, a.size)?);
    eprintln!("evaluating {} faces at x2 and x4", faces.len());
    let scores = evaluate(&faces, &[2, 4], &Upscaler::ALL)?;
    println!(
        "## Synthetic test split ({} faces, ids from 1000000)\n",
        a.synth
    );
    println!("{}", aggregate_table(&scores, |f| f.starts_with("synth:")));
    println!("## Real faces (astronaut, Grace Hopper; front-end crops)\n");
    println!("{}", aggregate_table(&scores, |f| !f.starts_with("synth:")));
    let mut five: Vec<&str> = faces
        .iter()
        .filter(|f| f.name.starts_with("synth:"))
        .take(3)
        .map(|f| f.name.as_str())
        .collect();
    five.extend(
        faces
            .iter()
            .filter(|f| !f.name.starts_with("synth:"))
            .map(|f| f.name.as_str()),
    );
    println!("## Per image (PSNR dB / SSIM, RGB)\n");
    println!("{}", per_image_table(&scores, &five, &Upscaler::ALL));
    if let Some(face) = faces.first() {
        println!("## Speed (median of 100 runs, this machine)\n");
        for u in Upscaler::ALL {
            let ms = bench_upscale(&face.image, 32, 4, u, 100)?;
            println!("- {u}: 32x32 -> 128x128 in {ms:.2} ms");
        }
    }
    if let Some(path) = &a.json {
        std::fs::write(path, serde_json::to_string_pretty(&scores)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
