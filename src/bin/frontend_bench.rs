//! Benchmark of the real-photo front end (not a test): detection + landmark time per photo,
//! optionally against the MediaPipe wheel's own runtime, and the low-resolution degradation
//! table. Prints Markdown (the source of `docs/frontend.md`).
//!
//! ```text
//! /work/venv-tools/bin/python tools/time_mediapipe.py PHOTOS... --repeats 20 --json wheel.json
//! RAYON_NUM_THREADS=1 cargo run --release --bin frontend_bench -- PHOTOS... --wheel wheel.json
//! ```
//!
//! Degradation: each fixture (and its mirror image, at 4 sub-sampling offsets: 16 samples) is
//! downscaled (Catmull-Rom, anti-aliased) until its face box is 64, 48, 32 or 24 px wide, either
//! as a whole ("small photo") or pasted back, small, into a grey canvas of the original size
//! ("small face in a large photo"). A face counts as found when a detection's box overlaps the
//! full-resolution box (mapped to the same frame) by IoU >= 0.5; the landmark error is the mean
//! distance of the 468 points to the full-resolution result, in % of the interocular distance
//! (outer eye corners 33-263) and in low-resolution pixels.
//!
//! Timings are medians; set `RAYON_NUM_THREADS` to pin candle's thread count (the matrices here
//! are small, and on a busy machine one thread is often fastest).

use anyhow::{Context, Result};
use candle_core::Device;
use clap::Parser;
use image::{RgbImage, imageops};
use std::path::PathBuf;
use std::time::Instant;
use visage::pipeline::detect::{
    DetectOptions, Detector, Tiles,
    decode::{Network, iou},
};
use visage::pipeline::photo::Photo;

/// Arguments.
#[derive(Debug, Parser)]
struct Args {
    /// Photos to time and degrade (default: the two test fixtures).
    photos: Vec<PathBuf>,
    /// Timed repetitions per photo.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// The wheel's timings of the same photos (`tools/time_mediapipe.py --json`), for the
    /// ratio columns.
    #[arg(long)]
    wheel: Option<PathBuf>,
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
    let plain = with_options(&detector, Network::ShortRange, 0, Tiles::Never);
    let full = with_options(&detector, Network::FullRange, 0, Tiles::Never);
    let wheel = match &args.wheel {
        Some(path) => wheel_times(path)?,
        None => Vec::new(),
    };
    println!(
        "| photo | size | megapixels | faces | detect (auto) | landmarks | detect + landmarks | wheel FaceMesh (detect + landmarks) | ratio | full range alone | wheel full range | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for path in &photos {
        let img = Photo::load(path)?.rgb;
        let faces = detector.faces(&img).map_or(0, |f| f.len());
        let (det_ms, lm_ms) = time_photo(&detector, &img, args.repeats)?;
        let (full_ms, _) = time_photo(&full, &img, args.repeats)?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let row = wheel.iter().find(|r| r.0 == name);
        let total = det_ms + lm_ms;
        let cols = |ours: f64, theirs: Option<f64>| {
            theirs.map_or(("-".into(), "-".into()), |w| {
                (format!("{w:.1} ms"), format!("{:.2}", ours / w))
            })
        };
        let (mesh_col, mesh_ratio) = cols(total, row.map(|r| r.1));
        let (full_col, full_ratio) = cols(full_ms, row.map(|r| r.2));
        println!(
            "| {name} | {}x{} | {:.2} | {faces} | {det_ms:.1} ms | {lm_ms:.1} ms | {total:.1} ms | {mesh_col} | {mesh_ratio} | {full_ms:.1} ms | {full_col} | {full_ratio} |",
            img.width(),
            img.height(),
            f64::from(img.width()) * f64::from(img.height()) / 1e6,
        );
    }
    if !args.no_degradation {
        let variants = [
            ("MediaPipe short range", plain),
            (
                "MediaPipe full range",
                with_options(&detector, Network::FullRange, 0, Tiles::Never),
            ),
            ("Visage", detector.clone()),
            (
                "no small-photo fallback",
                with_options(&detector, Network::ShortRange, 0, Tiles::Auto),
            ),
        ];
        for mode in [Mode::SmallPhoto, Mode::Canvas, Mode::TightCrop] {
            degradation_table(&variants, &detector, &photos, mode)?;
        }
    }
    Ok(())
}

/// A copy of `detector` with the whole-photo network, the whole-image fallback (0: off) and the
/// tile policy changed.
fn with_options(
    detector: &Detector,
    network: Network,
    whole_image_max_side: u32,
    tiles: Tiles,
) -> Detector {
    let mut d = detector.clone();
    d.options = DetectOptions {
        whole_image_max_side,
        tiles,
        ..DetectOptions::wheel(network)
    };
    d
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

/// `(photo file name, FaceMesh ms, full-range detection ms)` from `tools/time_mediapipe.py`.
fn wheel_times(path: &std::path::Path) -> Result<Vec<(String, f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let rows = v["rows"]
        .as_array()
        .context("no `rows` in the wheel's timings")?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let name = std::path::Path::new(r["photo"].as_str()?)
                .file_name()?
                .to_string_lossy()
                .into_owned();
            Some((name, r["mesh_ms"].as_f64()?, r["full_ms"].as_f64()?))
        })
        .collect())
}

/// The full-resolution reference: best face box `[x0, y0, x1, y1]` and its 468 landmarks.
type Reference = ([f32; 4], Vec<[f32; 3]>);

/// A degraded image and the map from its pixels back to the full-resolution photo.
struct Degraded {
    image: RgbImage,
    /// `full = small * scale + offset`.
    scale: [f32; 2],
    offset: [f32; 2],
}

/// How a degraded sample is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The whole photo shrunk.
    SmallPhoto,
    /// The shrunk photo pasted into a grey canvas of the original size.
    Canvas,
    /// A square crop of 1.2 x the face box, shrunk: the face fills the image.
    TightCrop,
}

impl Mode {
    fn title(self) -> &'static str {
        match self {
            Self::SmallPhoto => "Small photo (the whole photo shrunk):",
            Self::Canvas => {
                "Small face in a large photo (the shrunk photo pasted into a grey canvas of the original size):"
            }
            Self::TightCrop => {
                "Tight face crop (a square of 1.2 x the face box, shrunk; the face fills the image):"
            }
        }
    }
}

fn degradation_table(
    variants: &[(&str, Detector)],
    reference: &Detector,
    photos: &[PathBuf],
    mode: Mode,
) -> Result<()> {
    println!();
    println!("{}", mode.title());
    println!();
    let names: Vec<&str> = variants.iter().map(|v| v.0).collect();
    println!(
        "| face width | samples | found: {} | landmark error, % IOD | landmark error, low-res px |",
        names.join(" / ")
    );
    println!("|---|---|---|---|---|");
    for target in [64.0f32, 48.0, 32.0, 24.0] {
        let mut n = 0usize;
        let mut found = vec![0usize; variants.len()];
        let mut errs: Vec<(f32, f32)> = Vec::new();
        for path in photos {
            let base = Photo::load(path)?.rgb;
            for flip in [false, true] {
                let img = if flip {
                    imageops::flip_horizontal(&base)
                } else {
                    base.clone()
                };
                let Some(full) = full_result(reference, &img)? else {
                    continue;
                };
                let factor = (full.0[2] - full.0[0]) / target;
                for k in 0..4u32 {
                    let q = (factor / 2.0).round() as u32;
                    let (dx, dy) = (q * (k % 2), q * (k / 2));
                    let (x0, y0, cw, ch) = if mode == Mode::TightCrop {
                        let b = full.0;
                        let side = 1.2 * (b[2] - b[0]).max(b[3] - b[1]);
                        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                        let (x, y, s) = (
                            (cx - side / 2.0).max(0.0) as u32 + dx,
                            (cy - side / 2.0).max(0.0) as u32 + dy,
                            side as u32,
                        );
                        (x, y, s.min(img.width() - x), s.min(img.height() - y))
                    } else {
                        (dx, dy, img.width() - dx, img.height() - dy)
                    };
                    let shifted = imageops::crop_imm(&img, x0, y0, cw, ch).to_image();
                    // The full-resolution result, moved into the crop's frame.
                    let (ox, oy) = (x0 as f32, y0 as f32);
                    let b = full.0;
                    let want: Reference = (
                        [b[0] - ox, b[1] - oy, b[2] - ox, b[3] - oy],
                        full.1
                            .iter()
                            .map(|p| [p[0] - ox, p[1] - oy, p[2]])
                            .collect(),
                    );
                    let small = degrade(&shifted, factor, mode == Mode::Canvas);
                    n += 1;
                    for (i, (_, det)) in variants.iter().enumerate() {
                        let (hit, err) = evaluate(det, &small, &want)?;
                        found[i] += usize::from(hit);
                        // Landmark errors are reported for the default detector (index 2).
                        if i == 2 {
                            errs.extend(err);
                        }
                    }
                }
            }
        }
        let mean =
            |f: fn(&(f32, f32)) -> f32| errs.iter().map(f).sum::<f32>() / errs.len().max(1) as f32;
        let found: Vec<String> = found.iter().map(|f| format!("{f}/{n}")).collect();
        println!(
            "| {target} px | {n} | {} | {:.1} | {:.2} |",
            found.join(" / "),
            mean(|e| e.0),
            mean(|e| e.1)
        );
    }
    Ok(())
}

/// Shrinks `img` by `factor`; with `canvas`, pastes the result at the centre of a grey image of
/// the original size.
fn degrade(img: &RgbImage, factor: f32, canvas: bool) -> Degraded {
    let (w, h) = (
        ((img.width() as f32 / factor).round() as u32).max(16),
        ((img.height() as f32 / factor).round() as u32).max(16),
    );
    let small = imageops::resize(img, w, h, imageops::FilterType::CatmullRom);
    let scale = [
        img.width() as f32 / w as f32,
        img.height() as f32 / h as f32,
    ];
    if !canvas {
        return Degraded {
            image: small,
            scale,
            offset: [0.0, 0.0],
        };
    }
    let mut out = RgbImage::from_pixel(img.width(), img.height(), image::Rgb([128, 128, 128]));
    let (ox, oy) = ((img.width() - w) / 2, (img.height() - h) / 2);
    imageops::replace(&mut out, &small, i64::from(ox), i64::from(oy));
    let offset = [-(ox as f32) * scale[0], -(oy as f32) * scale[1]];
    Degraded {
        image: out,
        scale,
        offset,
    }
}

/// The best face box and its landmarks at full resolution, if any.
fn full_result(detector: &Detector, img: &RgbImage) -> Result<Option<Reference>> {
    let Ok(faces) = detector.faces(img) else {
        return Ok(None);
    };
    let marks = detector.landmarks(img, &faces[0])?;
    let b = faces[0].bbox;
    Ok(Some(([b[0], b[1], b[0] + b[2], b[1] + b[3]], marks.points)))
}

/// Whether the face was found on the degraded image, and the landmark error (% IOD, low-res px).
fn evaluate(
    detector: &Detector,
    small: &Degraded,
    want: &Reference,
) -> Result<(bool, Option<(f32, f32)>)> {
    let to_full = |p: [f32; 2]| {
        [
            p[0] * small.scale[0] + small.offset[0],
            p[1] * small.scale[1] + small.offset[1],
        ]
    };
    let Ok(faces) = detector.faces(&small.image) else {
        return Ok((false, None));
    };
    let Some(face) = faces.iter().find(|f| {
        let (a, b) = (
            to_full([f.bbox[0], f.bbox[1]]),
            to_full([f.bbox[0] + f.bbox[2], f.bbox[1] + f.bbox[3]]),
        );
        iou(&[a[0], a[1], b[0], b[1]], &want.0) >= 0.5
    }) else {
        return Ok((false, None));
    };
    let Ok(marks) = detector.landmarks(&small.image, face) else {
        return Ok((true, None));
    };
    let full = &want.1;
    let iod = (full[33][0] - full[263][0]).hypot(full[33][1] - full[263][1]);
    let mean = marks
        .points
        .iter()
        .zip(full)
        .map(|(p, q)| {
            let r = to_full([p[0], p[1]]);
            (r[0] - q[0]).hypot(r[1] - q[1])
        })
        .sum::<f32>()
        / full.len() as f32;
    Ok((true, Some((100.0 * mean / iod, mean / small.scale[0]))))
}
