//! `visage bench [PHOTO|FOLDER] [--repeats 10] [--face-width 32]`: per-stage latency (detect,
//! landmarks, upscale, reconstruct, mesh) of every method on a photo, the median over repeated
//! runs after a warm-up, printed as a Markdown table; for a folder, every photo once, the
//! per-photo medians and the photos per second (see [`crate::eval::bench`]).

use crate::eval::bench::{bench, table, throughput, throughput_table, with_face_width};
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::{Method, Reconstructor, load};
use crate::pipeline::upscale::Upscaler;
use std::path::PathBuf;

/// Arguments of `visage bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo, or a folder of photos (throughput: each photo once).
    #[arg(default_value = "tests/fixtures/astronaut.png")]
    pub photo: PathBuf,
    /// Timed runs per method (after one warm-up run).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeats: u32,
    /// Scale the photo first so its face is this many pixels wide (e.g. 32 to time upscaling).
    #[arg(long)]
    pub face_width: Option<u32>,
    /// How a face smaller than the 128 px crop is enlarged.
    #[arg(long, value_enum, default_value_t = Upscaler::Espcn)]
    pub upscaler: Upscaler,
    /// Methods to time (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub methods: Vec<Method>,
}

/// Runs `visage bench`.
///
/// # Errors
/// Unreadable photo, no face, or a failing method.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let device = super::device()?;
    let detector = super::detector(&device)?;
    let chosen = if args.methods.is_empty() {
        Method::ALL.to_vec()
    } else {
        args.methods.clone()
    };
    let methods: Vec<Box<dyn Reconstructor>> = chosen
        .iter()
        .map(|&m| load(m, &device, None))
        .collect::<Result<_, _>>()?;
    if args.photo.is_dir() {
        anyhow::ensure!(
            args.face_width.is_none(),
            "--face-width applies to one photo, not a folder"
        );
        let photos: Vec<PathBuf> = crate::batch::inputs::expand(std::slice::from_ref(&args.photo))?
            .into_iter()
            .map(|i| i.path)
            .collect();
        anyhow::ensure!(
            !photos.is_empty(),
            "{}: no photos in the folder",
            args.photo.display()
        );
        let rows = throughput(&photos, &detector, &methods, args.upscaler)?;
        println!(
            "{}: {} photos, {} upscaler, each photo once:\n",
            args.photo.display(),
            photos.len(),
            args.upscaler
        );
        print!("{}", throughput_table(&rows));
        return Ok(());
    }
    let mut photo = Photo::load(&args.photo)?.rgb;
    if let Some(w) = args.face_width {
        let (scaled, before) = with_face_width(&photo, &detector, w)?;
        eprintln!(
            "scaled {}x{} -> {}x{} (face {before:.0} -> {w} px wide)",
            photo.width(),
            photo.height(),
            scaled.width(),
            scaled.height()
        );
        photo = scaled;
    }
    let rows = bench(
        &photo,
        &detector,
        &methods,
        args.upscaler,
        args.repeats as usize,
    )?;
    println!(
        "{} ({}x{}), {} upscaler, median of {} runs:\n",
        args.photo.display(),
        photo.width(),
        photo.height(),
        args.upscaler,
        args.repeats
    );
    print!("{}", table(&rows));
    Ok(())
}
