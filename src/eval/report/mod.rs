//! `visage eval report`: the whole evaluation as one Markdown report with PNG plots, the study
//! of the seed report rerun over every method.
//!
//! 0. Real photos first ([`crate::eval::real`]): every method on the AFLW2000-3D development
//!    photos and the james scan renders, at full width and shrunk, with each upscaler
//!    (`real.json`).
//! 1. Super-resolution: PSNR/SSIM of every upscaler at x2 and x4 on the test faces and the real
//!    fixture portraits ([`crate::eval::sr`]).
//! 2. Reconstruction: NME (and depth MAE where a method has a depth map) of every method x
//!    upscaler x face width on the synthetic test split ([`crate::eval::recon`]), with per-image
//!    rows, mean +- std aggregates and the headline ratio per method (NME at 32 px with the best
//!    upscaler / NME at 128 px, goal <= 1.25).
//! 3. Plots ([`plots`]): NME against face width, and rendered meshes of one face.
//! 4. Time: mean time per evaluation stage and `visage bench`'s per-stage medians on a fixture
//!    photo ([`crate::eval::bench`]).
//!
//! Files written into the output folder: `report.md`, `report.json` (every score),
//! `nme_vs_width.png`, `meshes.png`.

pub mod plots;
pub mod tables;

use super::bench::{bench, with_face_width};
use super::faces::{NamedFace, real_fixture_faces};
use super::recon::{
    Condition, LandmarkSource, StageClock, TestSample, evaluate, face_width, load_test, rows, table,
};
use super::sr;
use crate::pipeline::detect::Detector;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::{Method, Reconstructor, load};
use crate::pipeline::upscale::Upscaler;
use crate::synth::{Engine, EngineOptions, TEST_SPLIT_START, procedural};
use anyhow::Context;
use candle_core::Device;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the reconstruction test samples come from.
#[derive(Clone, Debug)]
pub enum SampleSource {
    /// Shards of the synthetic test split (`visage synth --seed 1000000 --size 128`).
    Shards(PathBuf),
    /// Test-split ids rendered in memory from the built-in procedural head (no data needed:
    /// the quick mode in CI).
    Procedural,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Output folder.
    pub out: PathBuf,
    /// The test samples.
    pub source: SampleSource,
    /// How many test samples.
    pub count: usize,
    /// Face widths, pixels (128 = the crop as rendered).
    pub widths: Vec<u32>,
    /// Folder with the real fixture portraits.
    pub fixtures: PathBuf,
    /// Timed runs per method in the benchmark.
    pub bench_repeats: usize,
    /// The command line that produced the report, for its header.
    pub command: String,
    /// The real-photo evaluation data (`../shared/real-eval`); its section is skipped, with a
    /// note, when the folder is missing.
    pub real: PathBuf,
    /// Face widths of the real-photo section.
    pub real_widths: Vec<super::real::Width>,
}

/// Saves a PNG, creating its folder, with the path in any error.
///
/// # Errors
/// The encoder's or the file system's error.
pub fn save_png(image: &image::RgbImage, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    image
        .save(path)
        .with_context(|| format!("{}: cannot write the image", path.display()))
}

/// The test samples of `source`.
///
/// # Errors
/// Unreadable shards or a failed render.
pub fn load_samples(source: &SampleSource, count: usize) -> anyhow::Result<Vec<TestSample>> {
    match source {
        SampleSource::Shards(dir) => {
            load_test(dir, count).with_context(|| format!("{}: test shards", dir.display()))
        }
        SampleSource::Procedural => {
            let engine = Engine::new(procedural::head(), EngineOptions::default());
            let side = u32::try_from(engine.options.size)?;
            (TEST_SPLIT_START..TEST_SPLIT_START + count as u64)
                .map(|id| TestSample::from_sample(i64::try_from(id)?, &engine.render(id)?, side))
                .collect()
        }
    }
}

/// Runs the whole evaluation and writes the report; returns the path of `report.md`.
///
/// # Errors
/// Missing data, failing stages or unwritable files.
pub fn run(options: &ReportOptions, device: &Device) -> anyhow::Result<PathBuf> {
    let start = Instant::now();
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("{}: cannot create the folder", options.out.display()))?;
    let samples = load_samples(&options.source, options.count)?;
    anyhow::ensure!(!samples.is_empty(), "no test samples");
    let detector = Detector::new(device).context("loading the face networks")?;
    let methods: Vec<Box<dyn Reconstructor>> = Method::ALL
        .iter()
        .map(|&m| load(m, device, None))
        .collect::<Result<_, _>>()?;
    let names: Vec<Method> = methods.iter().map(|m| m.method()).collect();

    let real = real_section(options, &detector, &methods)?;

    eprintln!(
        "super-resolution on {} test faces + fixtures",
        samples.len()
    );
    let t = Instant::now();
    let mut faces: Vec<NamedFace> = samples
        .iter()
        .map(|s| NamedFace {
            name: format!("synth:{}", s.id),
            image: s.clean.clone(),
        })
        .collect();
    faces.extend(real_fixture_faces(&detector, &options.fixtures, 128)?);
    let sr_scores = sr::evaluate(&faces, &[2, 4], &Upscaler::ALL)?;
    let sr_seconds = t.elapsed().as_secs_f64();

    eprintln!("reconstruction: {} methods", methods.len());
    let t = Instant::now();
    let conditions = Condition::grid(&options.widths, &Upscaler::ALL);
    let mut clock = StageClock::default();
    let scores = evaluate(
        &methods,
        &samples,
        &conditions,
        LandmarkSource::FaceMesh(&detector),
        &mut clock,
    )?;
    let recon_seconds = t.elapsed().as_secs_f64();
    let recon_rows = rows(&scores, &names, &conditions);
    let headlines = tables::headlines(&recon_rows, &names);

    eprintln!("plots");
    plots::nme_vs_width(&recon_rows, &names, &options.out.join("nme_vs_width.png"))?;
    let grid = plots::mesh_grid(
        &samples[0],
        &methods,
        &options.widths,
        Upscaler::Espcn,
        &detector,
        &options.out.join("meshes.png"),
    )?;

    eprintln!("benchmark");
    let photo_path = options.fixtures.join("astronaut.png");
    let photo = Photo::load(&photo_path)?.rgb;
    let bench_full = bench(
        &photo,
        &detector,
        &methods,
        Upscaler::Espcn,
        options.bench_repeats,
    )?;
    let (small, native_width) = with_face_width(&photo, &detector, 32)?;
    let bench_small = bench(
        &small,
        &detector,
        &methods,
        Upscaler::Espcn,
        options.bench_repeats,
    )?;
    let upscale_ms: Vec<(Upscaler, f64)> = Upscaler::ALL
        .iter()
        .map(|&u| Ok((u, sr::bench_upscale(&faces[0].image, 32, 4, u, 20)?)))
        .collect::<anyhow::Result<_>>()?;

    let report = Report {
        real: &real,
        options,
        samples: &samples,
        sr_scores: &sr_scores,
        recon_rows: &recon_rows,
        scores: &scores,
        names: &names,
        headlines: &headlines,
        clock: &clock,
        grid_adapter: &grid,
        bench: [bench_full.as_slice(), bench_small.as_slice()],
        native_width,
        photo_size: [photo.dimensions(), small.dimensions()],
        upscale_ms: &upscale_ms,
        seconds: [sr_seconds, recon_seconds, start.elapsed().as_secs_f64()],
    };
    let md = report.markdown();
    let path = options.out.join("report.md");
    std::fs::write(&path, md).with_context(|| format!("{}: cannot write", path.display()))?;
    let json = serde_json::json!({
        "command": options.command,
        "samples": samples.iter().map(|s| s.id).collect::<Vec<_>>(),
        "headlines": headlines,
        "reconstruction": recon_rows,
        "reconstruction_scores": scores,
        "super_resolution": sr_scores,
        "bench_photo": bench_full,
        "bench_face_32px": bench_small,
        "stage_clock": clock,
        "seconds": start.elapsed().as_secs_f64(),
    });
    let jpath = options.out.join("report.json");
    std::fs::write(&jpath, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("{}: cannot write", jpath.display()))?;
    eprintln!(
        "wrote {} in {:.0} s",
        path.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(path)
}

/// The real-photo section (Markdown) first: `visage eval real` on the options' data, its rows
/// written to `real.json`; a note when the data is missing.
fn real_section(
    options: &ReportOptions,
    detector: &Detector,
    methods: &[Box<dyn Reconstructor>],
) -> anyhow::Result<String> {
    use super::real::{RealOptions, Runner, evaluate, summary_table, tables, write_json};
    if !options.real.is_dir() {
        return Ok(format!(
            "## Real photos\n\nThe real-photo data was not found at `{}`: this section is \
             empty. Run with the data in place (see `visage eval real --help`).\n\n",
            options.real.display()
        ));
    }
    eprintln!("real photos");
    let t = Instant::now();
    let real = RealOptions {
        data: options.real.clone(),
        widths: options.real_widths.clone(),
        upscalers: vec![Upscaler::Bicubic, Upscaler::Bilinear, Upscaler::Espcn],
        james: true,
        james_upscaler: Upscaler::Espcn,
    };
    let runner = Runner { detector, methods };
    let rows = evaluate(&runner, &real)?;
    write_json(&options.out.join("real.json"), &rows, &options.command)?;
    let mut s = format!(
        "## Real photos\n\nEvery accuracy claim is measured here first: the six AFLW2000-3D \
         development photos of `{}` (3D landmarks from a model fit to each photo) and 14 \
         renders of the real textured james head scan (7 poses x 2 lights, exact dense ground \
         truth), through the app's own photo-to-mesh path, at full width and with the face \
         shrunk to each width (the true 68-landmark box that wide) and each upscaler ({:.0} s). \
         Protocol and metrics: `visage eval real --help` and the README of the data. Every row \
         is in `real.json`.\n\n",
        options.real.display(),
        t.elapsed().as_secs_f64()
    );
    s.push_str(&summary_table(&rows, &real));
    s.push_str(&tables(&rows, "aflw"));
    s.push_str(&tables(&rows, "james"));
    s.push('\n');
    Ok(s)
}

/// Everything the Markdown needs.
struct Report<'a> {
    real: &'a str,
    options: &'a ReportOptions,
    samples: &'a [TestSample],
    sr_scores: &'a [sr::SrScore],
    recon_rows: &'a [super::recon::Row],
    scores: &'a [super::recon::Score],
    names: &'a [Method],
    headlines: &'a [tables::Headline],
    clock: &'a StageClock,
    grid_adapter: &'a str,
    bench: [&'a [super::bench::StageMedians]; 2],
    native_width: f32,
    photo_size: [(u32, u32); 2],
    upscale_ms: &'a [(Upscaler, f64)],
    /// Super-resolution, reconstruction, whole run.
    seconds: [f64; 3],
}

impl Report<'_> {
    fn markdown(&self) -> String {
        let mut s = String::new();
        self.header(&mut s);
        s.push_str(self.real);
        s.push_str(
            "# Synthetic renders\n\nThe sections below are measured on the project's own \
                    synthetic renders (second to the real photos above).\n\n",
        );
        self.headline(&mut s);
        self.super_resolution(&mut s);
        self.reconstruction(&mut s);
        self.timing(&mut s);
        s
    }

    fn source_line(&self) -> String {
        let (first, last) = (
            self.samples.first().map_or(0, |x| x.id),
            self.samples.last().map_or(0, |x| x.id),
        );
        let from = match &self.options.source {
            SampleSource::Shards(d) => format!("shards in `{}`", d.display()),
            SampleSource::Procedural => "the built-in procedural head (quick mode)".into(),
        };
        format!(
            "{} synthetic test samples, ids {first}..={last}, from {from}",
            self.samples.len()
        )
    }

    fn header(&self, s: &mut String) {
        let _ = write!(
            s,
            "# Visage evaluation report\n\n\
             Generated by `{}` in {:.1} min on this machine (CPU; super-resolution {:.0} s, \
             reconstruction {:.0} s, the rest plots and benchmarks). Data: {}; real faces: the \
             fixture portraits `astronaut.png` and `grace_hopper.jpg` in `{}` (super-resolution \
             only: they have no 3D ground truth). Methods: {}. Upscalers: {}.\n\n",
            self.options.command,
            self.seconds[2] / 60.0,
            self.seconds[0],
            self.seconds[1],
            self.source_line(),
            self.options.fixtures.display(),
            self.names
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join(", "),
            Upscaler::ALL.map(Upscaler::name).join(", "),
        );
    }

    fn headline(&self, s: &mut String) {
        s.push_str("## Headline (synthetic)\n\n");
        s.push_str(
            "Per method, NME at a 32 px face width with the best upscaler divided by NME on the \
             crops as rendered (\"128 px\"); the goal is at most 1.25.\n\n",
        );
        s.push_str(&tables::headline_table(self.headlines));
        s.push('\n');
    }

    fn super_resolution(&self, s: &mut String) {
        s.push_str(
            "## Super-resolution\n\n\
             Each 128 px face crop is downscaled (bicubic, antialiased) by 2 or 4 and brought back \
             by each upscaler; PSNR/SSIM against the original on RGB, and on luma (Y) with a \
             `scale`-pixel border crop (SR-paper convention). Mean +- std over the faces.\n\n\
             ### Synthetic test faces\n\n",
        );
        s.push_str(&sr::aggregate_table(self.sr_scores, |f| {
            f.starts_with("synth:")
        }));
        s.push_str("\n### Real faces (fixture portraits, front-end crops)\n\n");
        s.push_str(&sr::aggregate_table(self.sr_scores, |f| {
            !f.starts_with("synth:")
        }));
        let mut five: Vec<String> = self
            .samples
            .iter()
            .take(3)
            .map(|x| format!("synth:{}", x.id))
            .collect();
        five.extend(["astronaut.png".to_string(), "grace_hopper.jpg".to_string()]);
        let five: Vec<&str> = five.iter().map(String::as_str).collect();
        s.push_str("\n### Per image (PSNR dB / SSIM, RGB)\n\n");
        s.push_str(&sr::per_image_table(self.sr_scores, &five, &Upscaler::ALL));
        s.push('\n');
    }

    fn reconstruction(&self, s: &mut String) {
        let widths: Vec<f64> = self
            .samples
            .iter()
            .map(|x| f64::from(face_width(&x.landmarks_2d)))
            .collect();
        let (lo, hi) = widths
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), &w| (l.min(w), h.max(w)));
        let _ = write!(
            s,
            "## Reconstruction\n\n\
             Protocol (`src/eval/recon.rs`): the clean 128 px render is downscaled so the face \
             (x-extent of its 68 landmarks) is the given width, then enlarged back to 128 px by \
             the upscaler (\"128\": the crop as rendered, where these faces are {lo:.0}-{hi:.0} px \
             wide, {:.0} on average; faces already narrower than a width are left as rendered). \
             FaceMesh runs on that crop, as on a photo, and every method reconstructs it. NME = \
             mean distance from the ground-truth face-area vertices to the mesh after trimmed \
             rigid ICP, / the 3D outer interocular distance. NME visible: the same over the \
             ground-truth vertices on the visible surface only (`src/eval/visible.rs`); about \
             38 % of the face-area vertices are hidden in a test view, so a depth-map method \
             cannot score a full NME below about 0.17 even with the true depth (`visage eval \
             recon --method pix2pix --oracle-depth`). Depth MAE (pix2pix, 3dmm): mean |depth \
             error| on the true head mask, both maps centred, crop pixels. Failures (no mesh) \
             are counted and left out of the statistics.\n\n### Aggregates (mean +- std over \
             the samples)\n\n",
            super::stats::mean_std(&widths).0
        );
        s.push_str(&table(self.recon_rows));
        s.push_str("\n### Per image (NME, first 5 samples)\n\n");
        let ids: Vec<i64> = self.samples.iter().take(5).map(|x| x.id).collect();
        s.push_str(&tables::per_image_table(
            self.scores,
            &ids,
            self.names,
            &self.options.widths,
        ));
        let _ = write!(
            s,
            "\n### Plots\n\n\
             ![NME vs face width](nme_vs_width.png)\n\n\
             Mean NME against face width, one line per method x upscaler (solid: ESPCN, long \
             dashes: bilinear, short dashes: bicubic); the 128 px point is shared.\n\n\
             ![meshes](meshes.png)\n\n\
             Sample {}: the input crop at each width (ESPCN below 128 px) and each method's mesh \
             (rendered by `visage render`'s headless renderer on {}; a blank tile is a failure).\n\n",
            self.samples.first().map_or(0, |x| x.id),
            self.grid_adapter
        );
    }

    fn timing(&self, s: &mut String) {
        s.push_str(
            "## Time per stage\n\n\
             ### Evaluation stages (mean per call, this run)\n\n",
        );
        s.push_str(&tables::clock_table(self.clock));
        s.push_str("\n### Upscaling a 32 px face to 128 px (median of 20 runs)\n\n");
        for (u, ms) in self.upscale_ms {
            let _ = writeln!(s, "- {u}: {ms:.2} ms");
        }
        let _ = write!(
            s,
            "\n### `visage bench` (photo to mesh, median of {} runs after a warm-up)\n\n\
             `astronaut.png` as is ({}x{}, face {:.0} px wide):\n\n{}\n\
             The same photo scaled to {}x{} so the face is 32 px wide (ESPCN brings the crop to \
             128 px):\n\n{}",
            self.options.bench_repeats,
            self.photo_size[0].0,
            self.photo_size[0].1,
            self.native_width,
            super::bench::table(self.bench[0]),
            self.photo_size[1].0,
            self.photo_size[1].1,
            super::bench::table(self.bench[1]),
        );
    }
}
