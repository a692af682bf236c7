//! `visage upscale PHOTO --method M --scale N -o OUT`: enlarge a photo with one upscaler.

use crate::pipeline::photo::Photo;
use crate::pipeline::upscale::{Upscaler, upscale};
use std::path::PathBuf;

/// Arguments of `visage upscale`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo to upscale.
    pub photo: PathBuf,
    /// Upscaling method.
    #[arg(long, value_enum, default_value_t = Upscaler::Bicubic)]
    pub method: Upscaler,
    /// Enlargement factor.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub scale: u32,
    /// Output image.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `visage upscale`.
///
/// # Errors
/// Unreadable photo, a result over the size limit, or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let (w, h) = (photo.width() * args.scale, photo.height() * args.scale);
    anyhow::ensure!(
        w <= crate::pipeline::photo::MAX_SIDE && h <= crate::pipeline::photo::MAX_SIDE,
        "{}: x{} would give {w}x{h} pixels, over the {} px limit",
        args.photo.display(),
        args.scale,
        crate::pipeline::photo::MAX_SIDE
    );
    let out = upscale(&photo.rgb, args.method, w, h)?;
    super::save_image(&out, &args.output)?;
    println!(
        "{} -> {} ({w}x{h}, {})",
        args.photo.display(),
        args.output.display(),
        args.method
    );
    Ok(())
}
