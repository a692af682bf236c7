//! `visage degrade PHOTO --scale N -o OUT`: simulate a low-resolution capture.

use crate::pipeline::degrade::{DegradeMethod, degrade};
use crate::pipeline::photo::Photo;
use std::path::PathBuf;

/// Arguments of `visage degrade`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo to degrade (JPEG, PNG, WebP, BMP, TIFF or GIF).
    pub photo: PathBuf,
    /// Downscale factor.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub scale: u32,
    /// How the low-resolution image is formed.
    #[arg(long, value_enum, default_value_t = DegradeMethod::Bicubic)]
    pub method: DegradeMethod,
    /// Output image (PNG recommended).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `visage degrade`.
///
/// # Errors
/// Unreadable photo, too small for the factor, or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let low = degrade(&photo.rgb, args.scale, args.method)?;
    super::save_image(&low, &args.output)?;
    println!(
        "{} ({}x{}) -> {} ({}x{}, x{} {})",
        args.photo.display(),
        photo.width(),
        photo.height(),
        args.output.display(),
        low.width(),
        low.height(),
        args.scale,
        args.method.name()
    );
    Ok(())
}
