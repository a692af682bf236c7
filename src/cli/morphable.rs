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
    /// Embed FaceMesh's landmarks on the ICT face surface, build the dense topology (landmarks
    /// inserted, eyes and mouth closed, UV layout) and learn the identity and expression bases.
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
    /// Identity components kept.
    #[arg(long, default_value_t = 80)]
    pub identity: usize,
    /// Expression components kept (the 53 ICT expressions span at most 53).
    #[arg(long, default_value_t = 40)]
    pub expression: usize,
    /// Renders (varied identity, expression, pose) that measure FaceMesh's noise at each
    /// landmark, which the fit weighs by; 0 leaves it out (a uniform noise is assumed).
    #[arg(long, default_value_t = 200)]
    pub noise_renders: usize,
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
        identity: a.identity,
        expression: a.expression,
        noise_renders: a.noise_renders,
        ..BuildOptions::default()
    };
    let (model, report) = build(ict, &detector, &options)?;
    model
        .save(&a.out)
        .with_context(|| format!("{}: cannot write the model", a.out.display()))?;
    println!(
        "{} vertices, {} triangles, {} identity + {} expression components; {} renders, \
         embedding spread {:.3} cm",
        model.vertex_count(),
        model.triangles.len(),
        model.identity_components,
        model.components() - model.identity_components,
        report.renders_used,
        report.embedding_spread_cm
    );
    for (name, explained) in [
        ("identity", &report.explained_identity),
        ("expression", &report.explained_expression),
    ] {
        let at: Vec<String> = [5, 10, 20, 40, 60, 80]
            .iter()
            .filter_map(|&k| explained.get(k - 1).map(|e| format!("{k}: {e:.4}")))
            .collect();
        println!("explained {name} variance by components, {}", at.join(", "));
    }
    println!(
        "landmark noise from {} renders: per-axis sd 10th / 50th / 90th percentile over the \
         landmarks {:.2} / {:.2} / {:.2} mm",
        report.noise_renders_used, report.noise_mm[0], report.noise_mm[1], report.noise_mm[2]
    );
    let k = model.identity_components;
    println!(
        "sigma (cm): identity {:?}, expression {:?}",
        &model.sigma[..k.min(5)],
        &model.sigma[k..model.components().min(k + 5)]
    );
    println!("wrote {}", a.out.display());
    Ok(())
}
