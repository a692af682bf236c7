//! `visage detect PHOTO`: print every face as JSON (box, keypoints, score, crop region, and
//! optionally the 468 or 68 landmarks) and write an overlay PNG.

use crate::pipeline::detect::contour68::contour_68;
use crate::pipeline::detect::{Landmarks, Roi, landmarks68, overlay};
use crate::pipeline::photo::Photo;
use crate::pipeline::reconstruct::morphable::MorphableModel;
use crate::pipeline::reconstruct::morphable::landmarks::fitted_68;
use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `visage detect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The photo (JPEG, PNG, WebP, BMP, TIFF or GIF).
    pub photo: PathBuf,
    /// Overlay image to write (boxes, keypoints, landmarks); default `<photo stem>_faces.png`
    /// in the current folder.
    #[arg(long)]
    pub overlay: Option<PathBuf>,
    /// Do not write the overlay.
    #[arg(long)]
    pub no_overlay: bool,
    /// Which landmarks to print per face: none, the 68-point subset, or all 468.
    #[arg(long, value_enum, default_value_t = PrintLandmarks::None)]
    pub landmarks: PrintLandmarks,
}

/// Landmarks included in the JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintLandmarks {
    /// None (the overlay still shows all 468).
    None,
    /// The 68 points (x, y, z image frame, z larger = nearer) in the 3D-contour convention of
    /// AFLW2000-3D (the jaw on the 3D jaw line): the landmark vertices of the morphable model
    /// fitted to the 468 points (`pipeline::reconstruct::morphable::landmarks`).
    P68,
    /// The 68 points from the ridge map of FaceMesh's points (`pipeline::detect::contour68`:
    /// the jaw regressed, the inner 51 FaceMesh's own), same frame as `p68`.
    P68Ridge,
    /// The fixed 468 -> 68 vertex map (`pipeline::detect::landmarks68`; FaceMesh's own z,
    /// smaller = nearer), the points the networks were trained with.
    P68Fixed,
    /// All 468 FaceMesh points.
    All,
}

#[derive(serde::Serialize)]
struct FaceJson<'a> {
    #[serde(flatten)]
    face: &'a crate::pipeline::detect::Face,
    roi: Roi,
    landmark_presence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    landmarks: Option<Vec<[f32; 3]>>,
}

/// Runs `visage detect`.
///
/// # Errors
/// Unreadable photo, no face, network failure or unwritable overlay.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let photo = Photo::load(&args.photo)?;
    let detector = super::detector(&super::device()?)?;
    let faces = detector
        .faces(&photo.rgb)
        .with_context(|| format!("{}", args.photo.display()))?;
    let marks: Vec<Option<Landmarks>> = faces
        .iter()
        .map(|f| detector.landmarks(&photo.rgb, f).ok())
        .collect();
    let json: Vec<FaceJson> = faces
        .iter()
        .zip(&marks)
        .map(|(face, m)| FaceJson {
            face,
            roi: Roi::from_face(face),
            landmark_presence: m.as_ref().map(|m| m.presence),
            landmarks: m.as_ref().and_then(|m| match args.landmarks {
                PrintLandmarks::None => None,
                PrintLandmarks::P68 => MorphableModel::shared()
                    .and_then(|model| fitted_68(model, &m.points))
                    .ok(),
                PrintLandmarks::P68Ridge => contour_68(&m.points).ok().flatten(),
                PrintLandmarks::P68Fixed => landmarks68::to_68(&m.points),
                PrintLandmarks::All => Some(m.points.clone()),
            }),
        })
        .collect();
    let doc = serde_json::json!({
        "photo": args.photo.display().to_string(),
        "width": photo.width(),
        "height": photo.height(),
        "faces": json,
    });
    println!("{}", serde_json::to_string(&doc)?);
    if !args.no_overlay {
        let path = args
            .overlay
            .clone()
            .unwrap_or_else(|| default_overlay(&args.photo));
        super::save_image(&overlay::draw(&photo.rgb, &faces, &marks, 512), &path)?;
        eprintln!("overlay: {}", path.display());
    }
    Ok(())
}

fn default_overlay(photo: &std::path::Path) -> PathBuf {
    let stem = photo
        .file_stem()
        .map_or_else(|| "photo".into(), |s| s.to_string_lossy());
    PathBuf::from(format!("{stem}_faces.png"))
}
