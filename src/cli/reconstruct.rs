//! `visage reconstruct PHOTO --method landmarks -o face.obj`: reconstruct the best (or a
//! chosen) face and write its mesh (OBJ, PLY, STL or GLB by extension).

use crate::pipeline::detect::Detector;
use crate::pipeline::export;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::landmarks;
use anyhow::Context;
use std::path::PathBuf;

/// Reconstruction methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// FaceMesh's 468 landmarks, triangulated and coloured (the baseline).
    Landmarks,
}

/// Arguments of `visage reconstruct`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo (JPEG, PNG, WebP, BMP, TIFF or GIF).
    pub photo: PathBuf,
    /// Reconstruction method.
    #[arg(long, value_enum, default_value_t = Method::Landmarks)]
    pub method: Method,
    /// Output mesh; the extension picks the format (.obj, .ply, .stl, .glb).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Which face, by rank (0 = highest detection score).
    #[arg(long, default_value_t = 0)]
    pub face: usize,
    /// Side of the aligned face crop that defines the mesh frame and units, pixels.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub crop_size: u32,
    /// Also write the aligned crop image here.
    #[arg(long)]
    pub crop: Option<PathBuf>,
}

/// Runs `visage reconstruct`.
///
/// # Errors
/// Unreadable photo, no face, network failure or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let detector = Detector::new(&super::device()?).context("loading the face networks")?;
    let options = landmarks::Options {
        face_index: args.face,
        crop_size: args.crop_size,
    };
    let face = match args.method {
        Method::Landmarks => landmarks::reconstruct(&photo.rgb, &detector, &options),
    }
    .with_context(|| format!("{}", args.photo.display()))?;
    let written = export::save(&face.mesh, &args.output)?;
    if let Some(path) = &args.crop {
        super::save_image(&face.crop.image, path)?;
    }
    let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    println!(
        "{} -> {} ({} vertices, {} triangles)",
        args.photo.display(),
        files.join(", "),
        face.mesh.positions.len(),
        face.mesh.triangles.len()
    );
    Ok(())
}
