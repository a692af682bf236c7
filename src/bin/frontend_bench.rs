//! Benchmark of the real-photo front end (not a test): detection + landmark time per photo,
//! optionally against the MediaPipe wheel's own runtime, and the low-resolution degradation
//! table. Prints Markdown (the source of `docs/frontend.md`).
//!
//! ```text
//! cargo run --release --bin frontend_bench -- --python /work/venv-tools/bin/python
//! ```
//!
//! Degradation: each fixture (and its mirror image, at 4 sub-sampling offsets: 16 samples) is
//! downscaled (Catmull-Rom, anti-aliased) until its face box is 64, 48, 32 or 24 px wide. A face
//! counts as found when a detection's box overlaps the full-resolution box (scaled) by IoU
//! >= 0.5; the landmark error is the mean distance of the 468 points to the full-resolution
//! result, in % of the interocular distance (outer eye corners 33-263) and in low-res pixels.

use anyhow::{Context, Result, bail};
use candle_core::Device;
use clap::Parser;
use image::{RgbImage, imageops};
use std::path::PathBuf;
use std::time::Instant;
use visage::pipeline::detect::{DetectOptions, Detector, Face, decode::iou};
use visage::pipeline::photo::Photo;

/// Arguments.
#[derive(Debug, Parser)]
struct Args {
    /// Photos to time and degrade (default: the two test fixtures).
    photos: Vec<PathBuf>,
    /// Timed repetitions per photo.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// A Python with mediapipe==0.10.14, to time the wheel (runs tools/reference_mediapipe.py
    /// --bench on the default fixtures).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Skip the degradation table.
    #[arg(long)]
    no_degradation: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let photos = if args.photos.is_empty() {
        vec![
            root.join("tests/fixtures/grace_hopper.webp"),
            root.join("tests/fixtures/astronaut.png"),
        ]
    } else {
        args.photos.clone()
    };
    let detector = Detector::new(&Device::Cpu).context("loading the networks")?;
    let wheel = match &args.python {
        Some(py) => wheel_times(py, &root)?,
        None => Vec::new(),
    };
    println!(
        "| photo | size | Visage detect | Visage landmarks | Visage total | wheel total | Visage / wheel |"
    );
    println!("|---|---|---|---|---|---|---|");
    for path in &photos {
        let img = Photo::load(path)?.rgb;
        let (det_ms, lm_ms) = time_photo(&detector, &img, args.repeats)?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let wheel_ms = wheel.iter().find(|(p, _)| *p == name).map(|(_, ms)| *ms);
        let total = det_ms + lm_ms;
        let (w_col, ratio) = wheel_ms.map_or(("-".into(), "-".into()), |w| {
            (format!("{w:.1} ms"), format!("{:.2}", total / w))
        });
        println!(
            "| {name} | {}x{} | {det_ms:.1} ms | {lm_ms:.1} ms | {total:.1} ms | {w_col} | {ratio} |",
            img.width(),
            img.height()
        );
    }
    if !args.no_degradation {
        degradation_table(&detector, &photos)?;
    }
    Ok(())
}

/// Median detection and landmark times in milliseconds.
fn time_photo(detector: &Detector, img: &RgbImage, repeats: usize) -> Result<(f64, f64)> {
    let (mut det, mut lm) = (Vec::new(), Vec::new());
    for _ in 0..repeats.max(1) + 1 {
        let t = Instant::now();
        let faces = detector.faces(img)?;
        let t1 = Instant::now();
        detector.landmarks(img, &faces[0])?;
        det.push((t1 - t).as_secs_f64() * 1e3);
        lm.push(t1.elapsed().as_secs_f64() * 1e3);
    }
    // The first (warm-up) run is dropped.
    Ok((median(&det[1..]), median(&lm[1..])))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `(photo file name, milliseconds)` from the wheel's runtime.
fn wheel_times(python: &PathBuf, root: &std::path::Path) -> Result<Vec<(String, f64)>> {
    let out = std::process::Command::new(python)
        .arg(root.join("tools/reference_mediapipe.py"))
        .arg("--bench")
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the wheel benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut times = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
    {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if let (Some(p), Some(ms)) = (v["photo"].as_str(), v["wheel_ms"].as_f64()) {
            times.push((p.to_string(), ms));
        }
    }
    Ok(times)
}

/// One degraded sample's outcome.
struct Outcome {
    found: bool,
    /// Mean landmark error in % of the interocular distance, and in low-res pixels.
    error: Option<(f32, f32)>,
}

fn degradation_table(detector: &Detector, photos: &[PathBuf]) -> Result<()> {
    let mut plain = detector.clone();
    plain.options = DetectOptions {
        whole_image_max_side: 0,
        min_tile_side: 0,
        ..DetectOptions::default()
    };
    println!();
    println!(
        "| face width | samples | found (MediaPipe rules) | found (Visage) | landmark error, % IOD (Visage) | landmark error, low-res px |"
    );
    println!("|---|---|---|---|---|---|");
    for target in [64.0f32, 48.0, 32.0, 24.0] {
        let (mut n, mut found_plain, mut found, mut errs) = (0, 0, 0, Vec::new());
        for path in photos {
            let base = Photo::load(path)?.rgb;
            for flip in [false, true] {
                let img = if flip {
                    imageops::flip_horizontal(&base)
                } else {
                    base.clone()
                };
                let Some(full) = full_result(detector, &img)? else {
                    continue;
                };
                for k in 0..4u32 {
                    let factor = full.0.bbox[2] / target;
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let q = (factor / 2.0).round() as u32;
                    let (dx, dy) = (q * (k % 2), q * (k / 2));
                    let shifted =
                        imageops::crop_imm(&img, dx, dy, img.width() - dx, img.height() - dy)
                            .to_image();
                    let Some(reference) = full_result(detector, &shifted)? else {
                        continue;
                    };
                    n += 1;
                    found_plain +=
                        usize::from(evaluate(&plain, &shifted, &reference, factor)?.found);
                    let outcome = evaluate(detector, &shifted, &reference, factor)?;
                    found += usize::from(outcome.found);
                    errs.extend(outcome.error);
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let mean =
            |f: fn(&(f32, f32)) -> f32| errs.iter().map(f).sum::<f32>() / errs.len().max(1) as f32;
        println!(
            "| {target} px | {n} | {found_plain}/{n} | {found}/{n} | {:.1} | {:.2} |",
            mean(|e| e.0),
            mean(|e| e.1)
        );
    }
    Ok(())
}

/// The best face and its landmarks at full resolution, if any.
fn full_result(detector: &Detector, img: &RgbImage) -> Result<Option<(Face, Vec<[f32; 3]>)>> {
    let Ok(faces) = detector.faces(img) else {
        return Ok(None);
    };
    let marks = detector.landmarks(img, &faces[0])?;
    Ok(Some((faces[0].clone(), marks.points)))
}

/// Downscales `img` by `factor` and compares the detector's result with `reference`.
fn evaluate(
    detector: &Detector,
    img: &RgbImage,
    reference: &(Face, Vec<[f32; 3]>),
    factor: f32,
) -> Result<Outcome> {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let (w, h) = (
        (img.width() as f32 / factor).round() as u32,
        (img.height() as f32 / factor).round() as u32,
    );
    let small = imageops::resize(img, w.max(16), h.max(16), imageops::FilterType::CatmullRom);
    #[allow(clippy::cast_precision_loss)]
    let (sx, sy) = (
        img.width() as f32 / small.width() as f32,
        img.height() as f32 / small.height() as f32,
    );
    let b = reference.0.bbox;
    let want = [b[0], b[1], b[0] + b[2], b[1] + b[3]];
    let Ok(faces) = detector.faces(&small) else {
        return Ok(Outcome {
            found: false,
            error: None,
        });
    };
    let Some(face) = faces.iter().find(|f| {
        let g = [
            f.bbox[0] * sx,
            f.bbox[1] * sy,
            (f.bbox[0] + f.bbox[2]) * sx,
            (f.bbox[1] + f.bbox[3]) * sy,
        ];
        iou(&g, &want) >= 0.5
    }) else {
        return Ok(Outcome {
            found: false,
            error: None,
        });
    };
    let Ok(marks) = detector.landmarks(&small, face) else {
        return Ok(Outcome {
            found: true,
            error: None,
        });
    };
    let full = &reference.1;
    let iod = (full[33][0] - full[263][0]).hypot(full[33][1] - full[263][1]);
    #[allow(clippy::cast_precision_loss)]
    let mean = marks
        .points
        .iter()
        .zip(full)
        .map(|(p, q)| (p[0] * sx - q[0]).hypot(p[1] * sy - q[1]))
        .sum::<f32>()
        / full.len() as f32;
    Ok(Outcome {
        found: true,
        error: Some((100.0 * mean / iod, mean / factor)),
    })
}
