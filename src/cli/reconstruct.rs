//! `visage reconstruct PHOTO --method landmarks|vrn|pix2pix|3dmm|3dmm-cgan -o face.obj`: reconstruct the best (or a
//! chosen) face and write its mesh (OBJ, PLY, STL or GLB by extension). `--timings` prints the
//! per-stage wall time (the CPU benchmark of the photo-to-mesh path).

use crate::pipeline::detect::{AlignedCrop, Detector};
use crate::pipeline::export;
use crate::pipeline::mesh::Mesh;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::pix2pix_model::Pix2pixModel;
use crate::pipeline::reconstruct::{Method, landmarks, pix2pix, vrn};
use crate::pipeline::upscale::Upscaler;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Instant;

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
    /// Side of the aligned face crop that defines the mesh frame and units, pixels (`landmarks`
    /// only; `vrn` always works in its 128 px crop).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=4096))]
    pub crop_size: u32,
    /// How `vrn`, `pix2pix`, `3dmm` and `3dmm-cgan` enlarge a face smaller than their 128 px crop.
    #[arg(long, value_enum, default_value_t = Upscaler::Bicubic)]
    pub upscaler: Upscaler,
    /// Also write the aligned crop image here.
    #[arg(long)]
    pub crop: Option<PathBuf>,
    /// Print the wall time of each stage (model loading excluded).
    #[arg(long)]
    pub timings: bool,
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
/// Unreadable photo, no face, network failure or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let detector = Detector::new(&super::device()?).context("loading the face networks")?;
    let (mesh, crop) = match args.method {
        Method::Landmarks => {
            let options = landmarks::Options {
                face_index: args.face,
                crop_size: args.crop_size,
            };
            let t = Instant::now();
            let face = landmarks::reconstruct(&photo.rgb, &detector, &options)
                .with_context(|| format!("{}", args.photo.display()))?;
            if args.timings {
                println!("landmarks: total {:.1} ms", ms(t.elapsed()));
            }
            (face.mesh, face.crop)
        }
        Method::Vrn => run_vrn(args, &photo, &detector)?,
        Method::Morphable | Method::MorphableCgan => run_morphable(args, &photo, &detector)?,
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

fn run_vrn(args: &Args, photo: &Photo, detector: &Detector) -> anyhow::Result<(Mesh, AlignedCrop)> {
    let model = vrn::VrnModel::embedded(&super::device()?)?;
    let options = vrn::Options {
        face_index: args.face,
        upscaler: args.upscaler,
        ..vrn::Options::default()
    };
    // A first run warms the allocator and caches; the timed run is the second.
    let runs = if args.timings { 2 } else { 1 };
    let mut face = None;
    for _ in 0..runs {
        let t = Instant::now();
        let f = model
            .reconstruct(&photo.rgb, detector, &options)
            .with_context(|| format!("{}", args.photo.display()))?;
        if args.timings {
            let s = f.timings;
            println!(
                "vrn: detect {:.1} ms, landmarks {:.1} ms, crop {:.1} ms, network {:.1} ms, \
                 mesh {:.1} ms, total {:.1} ms",
                ms(s.detect),
                ms(s.landmarks),
                ms(s.crop),
                ms(s.network),
                ms(s.mesh),
                ms(t.elapsed())
            );
        }
        face = Some(f);
    }
    let face = face.context("no run")?;
    Ok((face.mesh, face.crop))
}

fn run_morphable(
    args: &Args,
    photo: &Photo,
    detector: &Detector,
) -> anyhow::Result<(Mesh, AlignedCrop)> {
    use crate::pipeline::reconstruct::morphable::{MorphableModel, method};
    use crate::pipeline::reconstruct::refiner_model::RefinerModel;
    let t = Instant::now();
    let model = MorphableModel::embedded()?;
    let refiner = (args.method == Method::MorphableCgan)
        .then(RefinerModel::embedded)
        .transpose()?;
    let load = t.elapsed();
    let options = method::Options {
        face_index: args.face,
        upscaler: args.upscaler,
        ..method::Options::default()
    };
    let runs = if args.timings { 2 } else { 1 };
    let mut face = None;
    for _ in 0..runs {
        let t = Instant::now();
        let f = method::reconstruct(&photo.rgb, detector, &model, refiner.as_ref(), &options)
            .with_context(|| format!("{}", args.photo.display()))?;
        if args.timings {
            let s = f.times;
            let refine = if refiner.is_some() {
                format!("refine {:.1} ms, ", ms(s.refine))
            } else {
                String::new()
            };
            println!(
                "{}: model load {:.1} ms; detect {:.1} ms, landmarks {:.1} ms, crop {:.1} ms, \
                 fit {:.1} ms, {refine}mesh {:.1} ms, total {:.1} ms",
                args.method,
                ms(load),
                ms(s.detect),
                ms(s.landmarks),
                ms(s.crop),
                ms(s.fit),
                ms(s.mesh),
                ms(t.elapsed())
            );
        }
        face = Some(f);
    }
    let face = face.context("no run")?;
    Ok((face.mesh, face.crop))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
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
