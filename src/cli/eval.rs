//! `visage eval ...`: the evaluation commands behind the model cards and the report
//! (`eval sr`: upscalers; `eval recon --method vrn`: reconstruction NME, see
//! [`crate::eval::recon`]).

use crate::eval::faces::{NamedFace, real_fixture_faces, synthetic_test_faces};
use crate::eval::recon::{CropReconstructor, LandmarkSource, Row, load_test, table};
use crate::eval::sr::{aggregate_table, bench_upscale, evaluate, per_image_table};
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
    pub target: Target,
}

/// The evaluations.
#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// Super-resolution: PSNR/SSIM of every upscaler at x2 and x4 on held-out faces.
    Sr(SrArgs),
    /// Reconstruction NME on the synthetic test split per face width and upscaler.
    Recon(ReconArgs),
    /// Depth MAE of the 3DMM coarse fit and of its CGAN refinement on synthetic shards.
    Refiner(super::refiner::EvalArgs),
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
        Target::Recon(a) => recon(a),
        Target::Refiner(a) => super::refiner::run_eval(a),
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

/// Arguments of `visage eval recon`.
#[derive(Debug, clap::Args)]
pub struct ReconArgs {
    /// Method to evaluate (methods that work on a face crop: `vrn`, `pix2pix`).
    #[arg(long, value_enum, default_value_t = Method::Vrn)]
    pub method: Method,
    /// Folder of test shards (`visage synth --seed 1000000 --size 128`).
    #[arg(long, default_value = "data/synth/test128")]
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

fn recon(a: &ReconArgs) -> anyhow::Result<()> {
    let method: Box<dyn CropReconstructor> = match a.method {
        Method::Vrn => Box::new(match &a.weights {
            Some(p) => VrnModel::from_file(p, &super::device()?)?,
            None => VrnModel::embedded(&super::device()?)?,
        }),
        Method::Pix2pix => return recon_pix2pix(a),
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
    let detector = Detector::new(&super::device()?)?;
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
            let row = crate::eval::recon::evaluate(method.as_ref(), &samples, w, u, source)?;
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

/// pix2pix has its own evaluation (depth MAE as well as NME; `eval::pix2pix`).
fn recon_pix2pix(a: &ReconArgs) -> anyhow::Result<()> {
    use crate::eval::pix2pix::{evaluate, standard_conditions};
    use crate::pipeline::reconstruct::pix2pix_model::Pix2pixModel;
    let weights = a
        .weights
        .clone()
        .unwrap_or_else(|| PathBuf::from("weights/pix2pix.safetensors"));
    let model = Pix2pixModel::load(&weights)?;
    let start = Instant::now();
    let rows = evaluate(
        &model,
        std::slice::from_ref(&a.data),
        a.count,
        &standard_conditions(),
        8,
    )?;
    println!(
        "method pix2pix ({}), {:.0} s",
        weights.display(),
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
    Ok(())
}
