//! `visage reconstruct PHOTO --method landmarks|pix2pix -o face.obj`: reconstruct the best (or a
//! chosen) face and write its mesh (OBJ, PLY, STL or GLB by extension).

use crate::pipeline::detect::{AlignedCrop, Detector};
use crate::pipeline::export;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::pix2pix_model::Pix2pixModel;
use crate::pipeline::reconstruct::{Method, landmarks, pix2pix};
use crate::pipeline::upscale::Upscaler;
use anyhow::Context;
use std::path::PathBuf;

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
    /// Side of the aligned face crop that defines the mesh frame and units, pixels (landmarks
    /// method; pix2pix always uses its 128 px crop).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub crop_size: u32,
    /// Also write the aligned crop image here.
    #[arg(long)]
    pub crop: Option<PathBuf>,
    /// How a small face is upscaled to the pix2pix crop.
    #[arg(long, value_enum, default_value_t = Upscaler::Bicubic)]
    pub upscaler: Upscaler,
    /// Taubin smoothing pairs applied to the pix2pix mesh (0 = none).
    #[arg(long, default_value_t = 5)]
    pub smooth: usize,
    /// 3x3 masked mean passes over the pix2pix depth before meshing (0 = none).
    #[arg(long, default_value_t = 2)]
    pub depth_blur: usize,
    /// pix2pix: also write a figure (crop, predicted depth, shaded depth) here.
    #[arg(long)]
    pub figure: Option<PathBuf>,
    /// pix2pix generator weights.
    #[arg(long, default_value = "weights/pix2pix.safetensors")]
    pub weights: PathBuf,
}

/// Runs `visage reconstruct`.
///
/// # Errors
/// Unreadable photo or weights, no face, network failure or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let detector = Detector::new(&candle_core::Device::Cpu).context("loading the face networks")?;
    let (mesh, crop): (_, AlignedCrop) = match args.method {
        Method::Landmarks => {
            let options = landmarks::Options {
                face_index: args.face,
                crop_size: args.crop_size,
            };
            let face = landmarks::reconstruct(&photo.rgb, &detector, &options)
                .with_context(|| format!("{}", args.photo.display()))?;
            (face.mesh, face.crop)
        }
        Method::Pix2pix => {
            let model = Pix2pixModel::load(&args.weights)?;
            let options = pix2pix::Options {
                face_index: args.face,
                upscaler: args.upscaler,
                smooth_iterations: args.smooth,
                depth_blur: args.depth_blur,
                ..pix2pix::Options::default()
            };
            let face = pix2pix::reconstruct(&photo.rgb, &detector, &model, &options)
                .with_context(|| format!("{}", args.photo.display()))?;
            let t = face.times;
            eprintln!(
                "times: detect {:?}, landmarks {:?}, crop {:?}, network {:?}, mesh {:?}",
                t.detect, t.landmarks, t.crop, t.network, t.mesh
            );
            if let Some(path) = &args.figure {
                write_figure(&face, args.depth_blur, path)?;
            }
            (face.mesh, face.crop)
        }
    };
    let written = export::save(&mesh, &args.output)?;
    if let Some(path) = &args.crop {
        super::save_image(&crop.image, path)?;
    }
    let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    println!(
        "{} -> {} ({} vertices, {} triangles)",
        args.photo.display(),
        files.join(", "),
        mesh.positions.len(),
        mesh.triangles.len()
    );
    Ok(())
}

/// Crop | depth | shaded depth (after `blur` passes, as meshed), side by side, labelled.
fn write_figure(
    face: &pix2pix::Pix2pixFace,
    blur: usize,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use crate::figure::{Panel, side_by_side};
    let (depth, shaded) = face
        .prediction
        .smoothed(blur)
        .pictures(face.crop.image.width() as usize, 4);
    let crop = image::imageops::resize(
        &face.crop.image,
        depth.width(),
        depth.height(),
        image::imageops::FilterType::Triangle,
    );
    let panel = |image, title: &str| Panel {
        image,
        lines: vec![title.to_string()],
    };
    let fig = side_by_side(&[
        panel(&crop, "face crop"),
        panel(&depth, "pix2pix depth"),
        panel(&shaded, "shaded depth"),
    ])?;
    super::save_image(&fig, path)
}
