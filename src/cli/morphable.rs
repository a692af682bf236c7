//! `visage morphable build`: learns the morphable model of the `3dmm` methods from the ICT Face
//! Model ([`crate::train::morphable`]) and writes `weights/morphable.safetensors`.

use crate::train::morphable::{BuildOptions, build};
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `visage morphable`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The actions.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Embed the dense FaceMesh topology on the ICT surface and learn the PCA shape model.
    Build(BuildArgs),
}

/// Arguments of `visage morphable build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// ICT model file or folder (default: $VISAGE_ICT, else ../shared/ict-face-model/).
    #[arg(long)]
    pub ict: Option<PathBuf>,
    /// Output model file.
    #[arg(long, default_value = "weights/morphable.safetensors")]
    pub out: PathBuf,
    /// Frontal renders whose FaceMesh landmarks are cast onto the ICT surface.
    #[arg(long, default_value_t = 16)]
    pub renders: usize,
    /// Sampled shape coefficient vectors for the covariance.
    #[arg(long, default_value_t = 20_000)]
    pub samples: usize,
    /// Principal components kept.
    #[arg(long, default_value_t = 60)]
    pub components: usize,
}

/// Runs `visage morphable`.
///
/// # Errors
/// A missing ICT model, a failing build or an unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let Action::Build(a) = &args.action;
    let path = super::synth::find_ict(a.ict.as_deref());
    let ict = crate::synth::FaceModel::load_ict(&path)?;
    let detector = crate::pipeline::detect::Detector::new(&super::device()?)?;
    let options = BuildOptions {
        renders: a.renders,
        samples: a.samples,
        components: a.components,
        ..BuildOptions::default()
    };
    let (model, report) = build(ict, &detector, &options)?;
    model
        .save(&a.out)
        .with_context(|| format!("{}: cannot write the model", a.out.display()))?;
    println!(
        "{} vertices, {} triangles, {} components; {} renders, embedding spread {:.3} cm",
        model.vertex_count(),
        model.triangles.len(),
        model.components(),
        report.renders_used,
        report.embedding_spread_cm
    );
    for k in [5, 10, 20, 30, 40, 60] {
        if let Some(e) = report.explained.get(k - 1) {
            println!("explained variance, {k} components: {:.4}", e);
        }
    }
    println!(
        "sigma[0..5] (cm): {:?}",
        &model.sigma[..model.sigma.len().min(5)]
    );
    println!("wrote {}", a.out.display());
    Ok(())
}
