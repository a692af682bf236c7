//! `visage eval ...`: the evaluation commands behind the model cards and the report
//! (`eval sr`: upscalers; `eval recon --method vrn`: reconstruction NME, see
//! [`crate::eval::recon`]).

use crate::eval::faces::{NamedFace, real_fixture_faces, synthetic_test_faces};
use crate::eval::real::Width;
use crate::eval::recon::{
    Condition, LandmarkSource, StageClock, TestSample, load_test, rows, table,
};
use crate::eval::sr::{aggregate_table, bench_upscale, evaluate, per_image_table};
use crate::pipeline::reconstruct::vrn::{self, VrnReconstructor};
use crate::pipeline::reconstruct::{Method, Reconstructor};
use crate::pipeline::upscale::Upscaler;
use anyhow::Context;
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
    /// Real photos first: every method on the AFLW2000-3D development photos and renders of a
    /// real head scan (2D NME, depth51, 3D NME, scan distance), at full width and shrunk to 64 /
    /// 32 / 24 px with each upscaler; Markdown tables on stdout, every row as JSON.
    Real(RealArgs),
    /// Reconstruction NME on the synthetic test split per face width and upscaler.
    Recon(ReconArgs),
    /// Everything: super-resolution, every method x upscaler x face width, plots and
    /// per-stage timings, written as a Markdown report with PNG plots.
    Report(ReportArgs),
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
        Target::Real(a) => real(a),
        Target::Recon(a) => recon(a),
        Target::Report(a) => report(a),
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
    let detector = super::detector(&super::device()?)?;
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

/// Arguments of `visage eval real`.
#[derive(Debug, clap::Args)]
pub struct RealArgs {
    /// The real-eval folder (`aflw-dev/`, `james/`, `peer-3ddfa_v2/`; see its README).
    #[arg(long, default_value = "../shared/real-eval")]
    pub data: PathBuf,
    /// Face widths: `full` (the photo as it is) or pixels (the photo shrunk so the true
    /// 68-landmark box is that wide, antialiased).
    #[arg(long, value_delimiter = ',', default_value = "full,64,32,24")]
    pub widths: Vec<crate::eval::real::Width>,
    /// Upscalers that enlarge the shrunk faces (the full width uses the first, when the face is
    /// smaller than the 128 px crop at all).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "bicubic,bilinear,espcn"
    )]
    pub upscalers: Vec<Upscaler>,
    /// Methods (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub methods: Vec<Method>,
    /// Weights file (e.g. a training checkpoint) for the one method given with --methods,
    /// instead of the committed weights.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Skip the renders of the james scan.
    #[arg(long)]
    pub no_james: bool,
    /// vrn and pix2pix: how far the network's face is pulled towards the 3dmm method's fit, 0
    /// (the network alone) to 1 (default: the methods', 0.5).
    #[arg(long)]
    pub fit_prior: Option<f32>,
    /// Upscaler of the james renders at shrunk widths.
    #[arg(long, value_enum, default_value_t = Upscaler::Espcn)]
    pub james_upscaler: Upscaler,
    /// Write every per-image row (and the summaries) here as JSON.
    #[arg(long, default_value = "real-eval.json")]
    pub json: PathBuf,
    /// Also write a contact sheet of the james renders (PNG) here.
    #[arg(long)]
    pub sheet: Option<PathBuf>,
}

fn real(a: &RealArgs) -> anyhow::Result<()> {
    use crate::eval::real::{RealOptions, Runner, evaluate, tables, write_json};
    let start = std::time::Instant::now();
    let device = super::device()?;
    let detector = super::detector(&device)?;
    let chosen = if a.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        a.methods.clone()
    };
    anyhow::ensure!(
        a.weights.is_none() || chosen.len() == 1,
        "--weights needs exactly one method in --methods"
    );
    let methods: Vec<Box<dyn Reconstructor>> = chosen
        .iter()
        .map(|&m| super::load_method(m, &device, a.weights.as_deref(), a.fit_prior))
        .collect::<Result<_, _>>()?;
    let options = RealOptions {
        data: a.data.clone(),
        widths: a.widths.clone(),
        upscalers: a.upscalers.clone(),
        james: !a.no_james,
        james_upscaler: a.james_upscaler,
    };
    let runner = Runner {
        detector: &detector,
        methods: &methods,
    };
    let rows = evaluate(&runner, &options)?;
    let command = std::iter::once("visage".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "# Real-photo evaluation\n\n`{command}` at commit {}, {:.0} s\n\nNormalisation: \
         sqrt(w * h) of the true 68-landmark box, in %. depth51: the mesh's depth at the true \
         inner-51 landmarks, median offset removed; flat51 = a plane. 3D NME: the method's \
         own 68 points.",
        crate::eval::real::commit(),
        start.elapsed().as_secs_f64()
    );
    println!("{}", crate::eval::real::summary_table(&rows, &options));
    println!("{}", tables(&rows, "aflw"));
    if options.james {
        println!("{}", tables(&rows, "james"));
    }
    write_json(&a.json, &rows, &command)?;
    eprintln!("wrote {}", a.json.display());
    if let Some(path) = &a.sheet {
        let scan = crate::eval::real::james::Scan::load(&a.data)?;
        super::save_image(&crate::eval::real::james::contact_sheet(&scan), path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Arguments of `visage eval recon`.
#[derive(Debug, clap::Args)]
pub struct ReconArgs {
    /// Method to evaluate.
    #[arg(long, value_enum, default_value_t = Method::Vrn)]
    pub method: Method,
    /// Folder of test shards (`visage synth --seed 1000000 --size 128`).
    #[arg(long, default_value = "data/synth/test128")]
    pub data: PathBuf,
    /// Test samples used (the first ones).
    #[arg(long, default_value_t = 200)]
    pub count: usize,
    /// Face widths in pixels; a width of 128 or more uses the crop as rendered.
    #[arg(long, value_delimiter = ',', default_value = "128,64,32")]
    pub widths: Vec<u32>,
    /// Weights file to evaluate instead of the committed ones (e.g. a checkpoint).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Give the method the ground-truth landmarks instead of FaceMesh's on the crop.
    #[arg(long)]
    pub truth_landmarks: bool,
    /// Upscalers for the enlarged widths (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub upscalers: Vec<Upscaler>,
    /// vrn only: occupancy probability of the isosurface (default: the method's, 0.4).
    #[arg(long)]
    pub iso: Option<f32>,
    /// vrn only: Taubin smoothing iterations of the isosurface (default: the method's).
    #[arg(long)]
    pub smooth: Option<usize>,
    /// vrn only: test-time augmentation (default: the method's, mirror).
    #[arg(long, value_enum)]
    pub tta: Option<vrn::Tta>,
    /// vrn and pix2pix: how far the network's face is pulled towards the 3dmm method's fit, 0
    /// (the network alone) to 1 (default: the methods', 0.5).
    #[arg(long)]
    pub fit_prior: Option<f32>,
    /// Also write every sample's scores to this CSV file, with the face's yaw (degrees, from
    /// the true eye corners) to see where the errors are.
    #[arg(long)]
    pub per_sample: Option<PathBuf>,
}

fn recon(a: &ReconArgs) -> anyhow::Result<()> {
    let device = super::device()?;
    let method: Box<dyn Reconstructor> = if a.iso.is_some() || a.smooth.is_some() || a.tta.is_some()
    {
        anyhow::ensure!(
            a.method == Method::Vrn,
            "--iso, --smooth and --tta apply to the vrn method only"
        );
        let mut vrn = VrnReconstructor::load(&device, a.weights.as_deref())?;
        if let Some(w) = a.fit_prior {
            vrn = vrn.with_prior_weight(super::checked_fit_prior(w)?);
        }
        if let Some(iso) = a.iso {
            anyhow::ensure!(
                iso > 0.0 && iso < 1.0,
                "--iso must lie in (0, 1), got {iso}"
            );
            vrn.options.iso = iso;
        }
        if let Some(iterations) = a.smooth {
            vrn.options.smooth.iterations = iterations;
        }
        if let Some(tta) = a.tta {
            vrn.model = vrn.model.with_tta(tta);
        }
        Box::new(vrn)
    } else {
        super::load_method(a.method, &device, a.weights.as_deref(), a.fit_prior)?
    };
    let samples = load_test(&a.data, a.count)
        .with_context(|| format!("{}: test shards", a.data.display()))?;
    anyhow::ensure!(!samples.is_empty(), "{}: no samples", a.data.display());
    let upscalers = if a.upscalers.is_empty() {
        Upscaler::ALL.to_vec()
    } else {
        a.upscalers.clone()
    };
    let detector = super::detector(&device)?;
    let source = if a.truth_landmarks {
        LandmarkSource::Truth(&detector)
    } else {
        LandmarkSource::FaceMesh(&detector)
    };
    let conditions = Condition::grid(&a.widths, &upscalers);
    let mut clock = StageClock::default();
    let scores =
        crate::eval::recon::evaluate(&[method], &samples, &conditions, source, &mut clock)?;
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
    print!("{}", table(&rows(&scores, &[a.method], &conditions)));
    if let Some(path) = &a.per_sample {
        std::fs::write(path, per_sample_csv(&scores, &samples))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        println!("\nper-sample scores: {}", path.display());
    }
    Ok(())
}

/// One CSV line per score: method, condition, sample id, the sample's yaw, NME, visible NME and
/// depth MAE (empty when absent).
fn per_sample_csv(scores: &[crate::eval::recon::Score], samples: &[TestSample]) -> String {
    let opt = |v: Option<f32>| v.map_or(String::new(), |v| format!("{v:.5}"));
    let mut out =
        String::from("method,face_width,upscaler,sample,yaw_deg,nme,nme_visible,depth_mae_px\n");
    let yaw: std::collections::HashMap<i64, Option<f32>> =
        samples.iter().map(|t| (t.id, t.yaw_degrees())).collect();
    for s in scores {
        let yaw = yaw.get(&s.sample).copied().flatten();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            s.method,
            s.condition.width,
            s.condition.upscaler_name(),
            s.sample,
            opt(yaw),
            opt(s.nme),
            opt(s.nme_visible),
            opt(s.depth_mae_px)
        ));
    }
    out
}

/// Arguments of `visage eval report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Small and fast (3 samples, 1 benchmark run): for the tests. Without `--test` it renders
    /// its samples from the built-in procedural head, so it needs no data.
    #[arg(long)]
    pub quick: bool,
    /// Output folder (report.md, report.json, PNG plots).
    #[arg(long, default_value = "docs/eval")]
    pub out: PathBuf,
    /// Folder of test shards (`visage synth --seed 1000000 --size 128`); default
    /// data/synth/test128, or the procedural head with `--quick`.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Test samples used (the first ones); default 60 (the full run then fits in 20 minutes on
    /// a busy 2-core CPU), or 3 with `--quick`.
    #[arg(long)]
    pub count: Option<usize>,
    /// Face widths in pixels (128 = the crop as rendered).
    #[arg(long, value_delimiter = ',', default_value = "128,64,32,24")]
    pub widths: Vec<u32>,
    /// Folder with the real fixture portraits.
    #[arg(long, default_value = "tests/fixtures")]
    pub fixtures: PathBuf,
    /// The real-photo evaluation data (its section comes first; skipped with a note when
    /// missing).
    #[arg(long, default_value = "../shared/real-eval")]
    pub real: PathBuf,
}

fn report(a: &ReportArgs) -> anyhow::Result<()> {
    use crate::eval::report::{ReportOptions, SampleSource, run};
    let source = match (&a.test, a.quick) {
        (Some(dir), _) => SampleSource::Shards(dir.clone()),
        (None, true) => SampleSource::Procedural,
        (None, false) => SampleSource::Shards(PathBuf::from("data/synth/test128")),
    };
    let command = std::iter::once("visage".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let options = ReportOptions {
        out: a.out.clone(),
        source,
        count: a.count.unwrap_or(if a.quick { 3 } else { 60 }),
        widths: a.widths.clone(),
        fixtures: a.fixtures.clone(),
        bench_repeats: if a.quick { 1 } else { 10 },
        command,
        real: a.real.clone(),
        real_widths: if a.quick {
            vec![Width::Full, Width::Px(32)]
        } else {
            vec![Width::Full, Width::Px(64), Width::Px(32), Width::Px(24)]
        },
    };
    let path = run(&options, &super::device()?)?;
    println!("{}", path.display());
    Ok(())
}
