//! Super-resolution evaluation: every face is degraded by bicubic downscaling (x2, x4), brought
//! back by each upscaler and scored against the original with PSNR/SSIM, on RGB (face
//! comparisons) and on luma with a `scale`-pixel border crop (SR-paper convention).

use super::faces::NamedFace;
use super::stats::{mean_std, median};
use crate::pipeline::compare::compare_upscalers;
use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::upscale::{Upscaler, upscale};
use std::fmt::Write as _;
use std::time::Instant;

/// One face x scale x upscaler score.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SrScore {
    /// Face name.
    pub face: String,
    /// Scale factor.
    pub scale: u32,
    /// Upscaler.
    pub upscaler: Upscaler,
    /// PSNR on RGB, dB.
    pub psnr_rgb: f64,
    /// SSIM on RGB.
    pub ssim_rgb: f64,
    /// PSNR on Y with a `scale` px border crop, dB.
    pub psnr_y: f64,
    /// SSIM on Y with the same crop.
    pub ssim_y: f64,
}

/// Scores every face at every scale with every upscaler.
///
/// # Errors
/// A face too small for a scale.
pub fn evaluate(
    faces: &[NamedFace],
    scales: &[u32],
    upscalers: &[Upscaler],
) -> anyhow::Result<Vec<SrScore>> {
    let mut scores = Vec::new();
    for face in faces {
        for &scale in scales {
            let cmp = compare_upscalers(&face.image, scale, DegradeMethod::Bicubic, upscalers)?;
            scores.extend(cmp.rows.into_iter().map(|r| SrScore {
                face: face.name.clone(),
                scale,
                upscaler: r.upscaler,
                psnr_rgb: r.psnr_rgb,
                ssim_rgb: r.ssim_rgb,
                psnr_y: r.psnr_y,
                ssim_y: r.ssim_y,
            }));
        }
    }
    Ok(scores)
}

/// A Markdown table of mean +- std per scale and upscaler over the faces whose name passes
/// `keep`.
#[must_use]
pub fn aggregate_table(scores: &[SrScore], keep: impl Fn(&str) -> bool) -> String {
    let mut out = String::from(
        "| scale | upscaler | n | PSNR RGB (dB) | SSIM RGB | PSNR Y (dB) | SSIM Y |\n|---|---|---|---|---|---|---|\n",
    );
    let mut keys: Vec<(u32, Upscaler)> = scores.iter().map(|s| (s.scale, s.upscaler)).collect();
    keys.dedup();
    keys.sort_by_key(|&(s, u)| (s, Upscaler::ALL.iter().position(|&x| x == u)));
    keys.dedup();
    for (scale, upscaler) in keys {
        let rows: Vec<&SrScore> = scores
            .iter()
            .filter(|s| s.scale == scale && s.upscaler == upscaler && keep(&s.face))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let col = |f: fn(&SrScore) -> f64| mean_std(&rows.iter().map(|s| f(s)).collect::<Vec<_>>());
        let (pr, prs) = col(|s| s.psnr_rgb);
        let (sr, srs) = col(|s| s.ssim_rgb);
        let (py, pys) = col(|s| s.psnr_y);
        let (sy, sys) = col(|s| s.ssim_y);
        let _ = writeln!(
            out,
            "| x{scale} | {upscaler} | {} | {pr:.2} +- {prs:.2} | {sr:.4} +- {srs:.4} | {py:.2} +- {pys:.2} | {sy:.4} +- {sys:.4} |",
            rows.len()
        );
    }
    out
}

/// A Markdown table with one row per listed face and scale: PSNR / SSIM (RGB) of each upscaler.
#[must_use]
pub fn per_image_table(scores: &[SrScore], faces: &[&str], upscalers: &[Upscaler]) -> String {
    let mut out = String::from("| face | scale |");
    for u in upscalers {
        let _ = write!(out, " {u} PSNR / SSIM |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(upscalers.len()));
    out.push('\n');
    let mut scales: Vec<u32> = scores.iter().map(|s| s.scale).collect();
    scales.sort_unstable();
    scales.dedup();
    for face in faces {
        for &scale in &scales {
            let _ = write!(out, "| {face} | x{scale} |");
            for u in upscalers {
                match scores
                    .iter()
                    .find(|s| s.face == *face && s.scale == scale && s.upscaler == *u)
                {
                    Some(s) => {
                        let _ = write!(out, " {:.2} / {:.4} |", s.psnr_rgb, s.ssim_rgb);
                    }
                    None => out.push_str(" - |"),
                }
            }
            out.push('\n');
        }
    }
    out
}

/// Median wall time in milliseconds of upscaling a `side` px square face by `scale` with
/// `upscaler`, over `runs` runs after two warm-up runs.
///
/// # Errors
/// The upscaler fails.
pub fn bench_upscale(
    face: &image::RgbImage,
    side: u32,
    scale: u32,
    upscaler: Upscaler,
    runs: usize,
) -> anyhow::Result<f64> {
    let small = image::imageops::resize(face, side, side, image::imageops::FilterType::CatmullRom);
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs + 2 {
        let t = Instant::now();
        upscale(&small, upscaler, side * scale, side * scale)?;
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(median(&times))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_hold_every_upscaler() {
        let img = image::RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 4) as u8, ((x * y) % 255) as u8])
        });
        let faces = [NamedFace {
            name: "ramp".into(),
            image: img,
        }];
        let scores = evaluate(&faces, &[2, 4], &[Upscaler::Bilinear, Upscaler::Bicubic]).unwrap();
        assert_eq!(scores.len(), 4);
        let t = aggregate_table(&scores, |_| true);
        assert_eq!(t.lines().count(), 2 + 4, "{t}");
        assert!(t.contains("| x4 | bicubic | 1 |"), "{t}");
        let p = per_image_table(&scores, &["ramp"], &[Upscaler::Bilinear, Upscaler::Bicubic]);
        assert_eq!(p.lines().count(), 2 + 2, "{p}");
    }
}
