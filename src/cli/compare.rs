//! `visage compare PHOTO --scale N --out DIR`: the seed report's upscaler table. Degrades the
//! photo, runs every upscaler, prints PSNR/SSIM and writes a labelled side-by-side PNG.

use crate::figure::{Panel, side_by_side};
use crate::pipeline::compare::{Comparison, compare_upscalers};
use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::photo::Photo;
use crate::pipeline::upscale::Upscaler;
use std::path::PathBuf;

/// Arguments of `visage compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo to degrade and restore.
    pub photo: PathBuf,
    /// Downscale factor of the simulated capture.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(2..=16))]
    pub scale: u32,
    /// How the low-resolution image is formed.
    #[arg(long, value_enum, default_value_t = DegradeMethod::Bicubic)]
    pub degrade: DegradeMethod,
    /// Output folder: compare.png, lowres.png, one PNG per upscaler and metrics.json.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `visage compare`.
///
/// # Errors
/// Unreadable photo, a photo too small for the factor, or unwritable outputs.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let cmp = compare_upscalers(&photo.rgb, args.scale, args.degrade, &Upscaler::ALL)?;
    print_table(&args.photo.display().to_string(), &cmp);
    super::save_image(&cmp.low, &args.out.join("lowres.png"))?;
    for row in &cmp.rows {
        super::save_image(&row.image, &args.out.join(format!("{}.png", row.upscaler)))?;
    }
    let strip = figure(&cmp)?;
    let strip_path = args.out.join("compare.png");
    super::save_image(&strip, &strip_path)?;
    let json = serde_json::json!({
        "photo": args.photo,
        "scale": cmp.factor,
        "degrade": cmp.method.name(),
        "rows": cmp.rows.iter().map(|r| serde_json::json!({
            "upscaler": r.upscaler.name(),
            "psnr_rgb": r.psnr_rgb, "ssim_rgb": r.ssim_rgb,
            "psnr_y": r.psnr_y, "ssim_y": r.ssim_y,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(
        args.out.join("metrics.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    println!("wrote {}", strip_path.display());
    Ok(())
}

fn print_table(name: &str, cmp: &Comparison) {
    println!(
        "{name}: {}x{} -> x{} {} -> {}x{}",
        cmp.reference.width(),
        cmp.reference.height(),
        cmp.factor,
        cmp.method.name(),
        cmp.low.width(),
        cmp.low.height()
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9}",
        "upscaler", "PSNR RGB", "SSIM RGB", "PSNR Y", "SSIM Y"
    );
    for r in &cmp.rows {
        println!(
            "{:<10} {:>9.3} {:>9.4} {:>9.3} {:>9.4}",
            r.upscaler.name(),
            r.psnr_rgb,
            r.ssim_rgb,
            r.psnr_y,
            r.ssim_y
        );
    }
    println!("(Y: BT.601 luma with a {} px border crop)", cmp.factor);
}

fn figure(cmp: &Comparison) -> anyhow::Result<image::RgbImage> {
    let (w, h) = cmp.reference.dimensions();
    // The low-resolution input shown with nearest-neighbour blocks, at the same zoom.
    let blocks = image::imageops::resize(&cmp.low, w, h, image::imageops::FilterType::Nearest);
    let mut panels = vec![
        Panel {
            image: &cmp.reference,
            lines: vec!["original".into(), format!("{w}x{h}")],
        },
        Panel {
            image: &blocks,
            lines: vec![
                format!("input x{} {}", cmp.factor, cmp.method.name()),
                format!("{}x{}", cmp.low.width(), cmp.low.height()),
            ],
        },
    ];
    for r in &cmp.rows {
        panels.push(Panel {
            image: &r.image,
            lines: vec![
                r.upscaler.name().into(),
                format!("{:.2} dB  SSIM {:.3}", r.psnr_rgb, r.ssim_rgb),
            ],
        });
    }
    Ok(side_by_side(&panels)?)
}
