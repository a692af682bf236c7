//! `visage eval recon --method vrn`: reconstruction NME on the synthetic test split at several
//! face widths, with every upscaler, printed as a Markdown table (see [`crate::eval::recon`]).

use crate::eval::recon::{CropReconstructor, LandmarkSource, Row, evaluate, load_test, table};
use crate::pipeline::detect::Detector;
use crate::pipeline::reconstruct::{Method, vrn::VrnModel};
use crate::pipeline::upscale::Upscaler;
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
    /// Reconstruction NME on the synthetic test split.
    Recon(ReconArgs),
}

/// Arguments of `visage eval recon`.
#[derive(Debug, clap::Args)]
pub struct ReconArgs {
    /// Method to evaluate (methods that work on a face crop: `vrn`).
    #[arg(long, value_enum, default_value_t = Method::Vrn)]
    pub method: Method,
    /// Folder of test shards (`visage synth --seed 1000000 --size 128`).
    #[arg(long, default_value = "/work/data/synth/test128")]
    pub data: PathBuf,
    /// Test samples used (the first ones).
    #[arg(long, default_value_t = 200)]
    pub count: usize,
    /// Face widths in pixels; a width at least the rendered face width uses the clean crop.
    #[arg(long, value_delimiter = ',', default_value = "128,64,32")]
    pub widths: Vec<u32>,
    /// VRN weights file to evaluate instead of the committed ones (e.g. a checkpoint).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Give the method the ground-truth landmarks instead of FaceMesh's on the crop.
    #[arg(long)]
    pub truth_landmarks: bool,
    /// Upscalers for the enlarged widths (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub upscalers: Vec<Upscaler>,
}

/// Runs `visage eval`.
///
/// # Errors
/// Unreadable data, a method that cannot be evaluated on crops, or model failures.
pub fn run(args: &Args) -> anyhow::Result<()> {
    match &args.what {
        What::Recon(a) => recon(a),
    }
}

fn recon(a: &ReconArgs) -> anyhow::Result<()> {
    let method: Box<dyn CropReconstructor> = match a.method {
        Method::Vrn => Box::new(match &a.weights {
            Some(p) => VrnModel::from_file(p, &candle_core::Device::Cpu)?,
            None => VrnModel::embedded(&candle_core::Device::Cpu)?,
        }),
        Method::Landmarks => anyhow::bail!(
            "the landmarks method works on photos, not on crops with given landmarks; \
             no crop evaluation for it yet"
        ),
    };
    let samples = load_test(&a.data, a.count)
        .with_context(|| format!("{}: test shards", a.data.display()))?;
    anyhow::ensure!(!samples.is_empty(), "{}: no samples", a.data.display());
    let upscalers = if a.upscalers.is_empty() {
        Upscaler::ALL.to_vec()
    } else {
        a.upscalers.clone()
    };
    let detector = Detector::new(&candle_core::Device::Cpu)?;
    let source = if a.truth_landmarks {
        LandmarkSource::Truth
    } else {
        LandmarkSource::FaceMesh(&detector)
    };
    let mut rows: Vec<Row> = Vec::new();
    let t = Instant::now();
    for &w in &a.widths {
        let list: Vec<Option<Upscaler>> = if w >= 128 {
            vec![None]
        } else {
            upscalers.iter().copied().map(Some).collect()
        };
        for u in list {
            let row = evaluate(method.as_ref(), &samples, w, u, source)?;
            eprintln!(
                "width {w} {u:?}: NME {:.4} ({:.0} s)",
                row.mean,
                t.elapsed().as_secs_f64()
            );
            rows.push(row);
        }
    }
    let ids = (samples.first().map(|s| s.id), samples.last().map(|s| s.id));
    println!(
        "{} test samples (ids {:?}..={:?}) from {}, {} landmarks\n",
        samples.len(),
        ids.0.unwrap_or(0),
        ids.1.unwrap_or(0),
        a.data.display(),
        if a.truth_landmarks {
            "ground-truth"
        } else {
            "FaceMesh"
        }
    );
    print!("{}", table(a.method.name(), &rows));
    Ok(())
}
