//! `visage reconstruct PHOTO --method M -o face.obj`: the best (or a chosen) face of a photo
//! through the one photo-to-mesh path ([`crate::pipeline::reconstruct::photo_to_mesh`]), written
//! as OBJ, PLY, STL or GLB (by extension) in the crop or the photo frame. `--timings` prints the
//! time per stage (from the pipeline's `tracing` spans) of a second, warm run.

use crate::pipeline::degrade::DegradeMethod;
use crate::pipeline::export;
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::morphable::method::MorphableReconstructor;
use crate::pipeline::reconstruct::{
    FacePick, MeshFrame, Method, Prepared, Reconstruction, Reconstructor, Shrink, photo_to_mesh,
};
use crate::pipeline::upscale::Upscaler;
use crate::timing::measure;
use anyhow::Context;
use std::path::{Path, PathBuf};

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
    /// How a face smaller than the 128 px crop is enlarged before the method sees it.
    #[arg(long, value_enum, default_value_t = Upscaler::Bicubic)]
    pub upscaler: Upscaler,
    /// Simulate a low-resolution capture first: shrink the photo so the face's 68 landmarks
    /// span this many pixels (e.g. 32), then detect and reconstruct the small photo.
    #[arg(long)]
    pub face_width: Option<f32>,
    /// How the simulated low-resolution photo is formed (with --face-width).
    #[arg(long, value_enum, default_value_t = DegradeMethod::Bicubic)]
    pub degrade: DegradeMethod,
    /// Frame of the written mesh: `crop` (+X right, +Y up, +Z towards the camera, pixels of the
    /// 128 px face crop) or `photo` (X = photo column, Y = minus the photo row so +Y is up, +Z
    /// towards the camera, photo pixels; with --face-width, pixels of the shrunk photo).
    #[arg(long, value_enum, default_value_t = MeshFrame::Crop)]
    pub frame: MeshFrame,
    /// Also write the reconstruction's own 68 3D landmarks (JSON, in the mesh's frame): the
    /// mesh's landmark vertices (landmarks, 3dmm), or the front end's points lifted onto the
    /// mesh (null where the mesh does not cover one).
    #[arg(long)]
    pub landmarks: Option<PathBuf>,
    /// Also write the 128 px face crop the method saw here.
    #[arg(long)]
    pub crop: Option<PathBuf>,
    /// Print the time of each stage (of a second run; model loading excluded).
    #[arg(long)]
    pub timings: bool,
    /// Weights file instead of the committed ones (a training checkpoint: VRN, pix2pix
    /// generator, morphable model for 3dmm, refiner generator for 3dmm-cgan).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// `3dmm` only: write the fitted identity with a neutral expression (the expression
    /// components and the mean expression left out), in the fitted pose.
    #[arg(long)]
    pub neutral: bool,
    /// `vrn` and `pix2pix`: how far the network's face is pulled towards the `3dmm` method's
    /// fit, 0 (the network alone) to 1 (default: the methods', 0.5).
    #[arg(long)]
    pub fit_prior: Option<f32>,
}

/// Runs `visage reconstruct`.
///
/// # Errors
/// Unreadable photo, no face, network failure or unwritable output.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let device = super::device()?;
    let detector = super::detector(&device)?;
    let method: Box<dyn Reconstructor> = if args.neutral {
        anyhow::ensure!(
            args.method == Method::Morphable,
            "--neutral needs --method 3dmm (the expression-free identity of the morphable fit)"
        );
        let mut m = MorphableReconstructor::load(args.weights.as_deref(), None, &device)?;
        m.neutral = true;
        Box::new(m)
    } else {
        super::load_method(
            args.method,
            &device,
            args.weights.as_deref(),
            args.fit_prior,
        )?
    };
    let shrink = args.face_width.map(|w| Shrink {
        face_width: w,
        method: args.degrade,
    });
    let once = || {
        photo_to_mesh(
            &detector,
            method.as_ref(),
            &photo.rgb,
            FacePick::Rank(args.face),
            args.upscaler,
            shrink,
        )
    };
    // A first run warms the allocator and caches; the timed run is the second.
    if args.timings {
        let _ = once();
    }
    let (outcome, stages) = measure(once);
    let (prepared, result) = outcome.with_context(|| format!("{}", args.photo.display()))?;
    if args.timings {
        println!("{}: {}", args.method, stages.line());
    }
    let mesh = match args.frame {
        MeshFrame::Crop => result.mesh.clone(),
        MeshFrame::Photo => prepared.face.to_photo_frame(&result.mesh),
    };
    let written = export::save(&mesh, &args.output)?;
    if let Some(path) = &args.crop {
        super::save_image(&prepared.face.crop.image, path)?;
    }
    if let Some(path) = &args.landmarks {
        write_landmarks(path, args, &prepared, &result)?;
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

/// The reconstruction's 68 landmarks as JSON, in the frame of the written mesh.
fn write_landmarks(
    path: &Path,
    args: &Args,
    prepared: &Prepared,
    result: &Reconstruction,
) -> anyhow::Result<()> {
    let points: Vec<Option<[f32; 3]>> = result
        .landmarks68(&prepared.face)
        .into_iter()
        .map(|p| {
            p.map(|p| match args.frame {
                MeshFrame::Crop => p,
                MeshFrame::Photo => prepared.face.photo_frame_point(p),
            })
        })
        .collect();
    let json = serde_json::json!({
        "method": args.method.name(),
        "frame": match args.frame { MeshFrame::Crop => "crop", MeshFrame::Photo => "photo" },
        "convention": "68 points, iBUG order; null where the mesh does not cover the point",
        "points": points,
    });
    let text = serde_json::to_string_pretty(&json)?;
    std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
}
