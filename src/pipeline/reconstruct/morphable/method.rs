//! The `3dmm` and `3dmm-cgan` methods: photo -> face detection -> FaceMesh's 468 landmarks ->
//! the face crop the learned methods use ([`crate::pipeline::reconstruct::pix2pix::model_crop`],
//! 128 px, upscaled with the chosen upscaler when the face is smaller) -> the robust
//! morphable-model fit to the landmarks mapped into that crop -> (`3dmm-cgan` only: the CGAN
//! refiner's depth correction, [`super::refine`]) -> the dense mesh (1790 vertices), coloured
//! from the crop.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the 128 px crop (+X right, +Y up,
//! +Z towards the camera, crop pixels).

use super::fit::{Fit, FitOptions, fit};
use super::refine::{Refinement, refine_vertices};
use super::{MorphableError, MorphableModel, crop_frame_points};
use crate::pipeline::detect::{AlignedCrop, Detector, Landmarks, warp};
use crate::pipeline::mesh::{Mesh, MeshError};
use crate::pipeline::reconstruct::pix2pix::{Pix2pixReconError, model_crop};
use crate::pipeline::reconstruct::pix2pix_model::CROP_SIDE;
use crate::pipeline::reconstruct::refiner_model::{RefinerError, RefinerModel};
use crate::pipeline::upscale::Upscaler;
use image::RgbImage;
use std::time::{Duration, Instant};

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum MorphableReconError {
    /// Detection, landmarking or cropping failed.
    #[error(transparent)]
    Crop(#[from] Pix2pixReconError),
    /// The requested face does not exist.
    #[error("face {index} requested, but only {count} found")]
    NoSuchFace {
        /// Requested index (0 = best score).
        index: usize,
        /// Faces found.
        count: usize,
    },
    /// The fit failed.
    #[error(transparent)]
    Fit(#[from] MorphableError),
    /// The refiner failed.
    #[error(transparent)]
    Refine(#[from] RefinerError),
    /// The mesh failed its sanity check.
    #[error("invalid 3DMM mesh: {0}")]
    Mesh(#[from] MeshError),
}

/// Options of the method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Which face, by rank (0 = highest score).
    pub face_index: usize,
    /// How a face smaller than the crop is brought up to 128 px.
    pub upscaler: Upscaler,
    /// The fit's settings.
    pub fit: FitOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            face_index: 0,
            upscaler: Upscaler::Bicubic,
            fit: FitOptions::default(),
        }
    }
}

/// Wall time of each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// BlazeFace.
    pub detect: Duration,
    /// FaceMesh.
    pub landmarks: Duration,
    /// Crop and upscale.
    pub crop: Duration,
    /// The model fit.
    pub fit: Duration,
    /// The CGAN refinement (zero for `3dmm`).
    pub refine: Duration,
    /// Mesh and colours.
    pub mesh: Duration,
}

/// A reconstruction and what it was made from.
#[derive(Clone, Debug)]
pub struct MorphableFace {
    /// The fitted dense mesh in the crop frame.
    pub mesh: Mesh,
    /// The 128 px crop whose frame the mesh lives in.
    pub crop: AlignedCrop,
    /// The landmarks in photo pixels.
    pub landmarks: Landmarks,
    /// The fit.
    pub fit: Fit,
    /// The refinement, for `3dmm-cgan`.
    pub refinement: Option<Refinement>,
    /// Time per stage.
    pub times: StageTimes,
}

/// The landmarks of a photo in the crop frame of `crop` (z scaled like x and y).
#[must_use]
pub fn landmarks_in_crop(landmarks: &Landmarks, crop: &AlignedCrop) -> Vec<[f32; 3]> {
    let m = crop.crop_from_photo;
    let s = m.scale();
    let pts: Vec<[f32; 3]> = landmarks
        .points
        .iter()
        .map(|p| {
            let q = m.apply([p[0], p[1]]);
            [q[0], q[1], p[2] * s]
        })
        .collect();
    #[allow(clippy::cast_precision_loss)]
    crop_frame_points(&pts, crop.image.height() as f32)
}

/// The fitted dense mesh, vertex colours sampled from `crop` (the image whose frame it is in).
///
/// # Errors
/// [`MorphableReconError::Mesh`] when the mesh is invalid (non-finite fit).
pub fn fitted_mesh(
    model: &MorphableModel,
    fitted: &Fit,
    crop: &RgbImage,
) -> Result<Mesh, MorphableReconError> {
    dense_mesh(fitted.vertices(model), model, crop)
}

/// The model's dense topology on `positions` (crop frame of `crop`), vertex colours sampled from
/// `crop`.
///
/// # Errors
/// [`MorphableReconError::Mesh`] when the mesh is invalid (non-finite positions).
pub fn dense_mesh(
    positions: Vec<[f32; 3]>,
    model: &MorphableModel,
    crop: &RgbImage,
) -> Result<Mesh, MorphableReconError> {
    #[allow(clippy::cast_precision_loss)]
    let h = crop.height() as f32;
    let colors = positions
        .iter()
        .map(|p| warp::sample_bilinear(crop, [p[0], h - p[1]]).map(|v| v / 255.0))
        .collect();
    let mut mesh = Mesh::new(positions, model.triangles.clone());
    mesh.colors = colors;
    mesh.compute_normals();
    mesh.sanity_check()?;
    Ok(mesh)
}

/// Detects the faces, landmarks the chosen one, fits the model, refines the fit when a `refiner`
/// is given (`3dmm-cgan`) and builds the mesh.
///
/// # Errors
/// No face, no such face index, a degenerate crop or fit, a refiner failure.
pub fn reconstruct(
    img: &RgbImage,
    detector: &Detector,
    model: &MorphableModel,
    refiner: Option<&RefinerModel>,
    options: &Options,
) -> Result<MorphableFace, MorphableReconError> {
    let mut times = StageTimes::default();
    let t = Instant::now();
    let faces = detector.faces(img).map_err(Pix2pixReconError::from)?;
    times.detect = t.elapsed();
    let face = faces
        .get(options.face_index)
        .ok_or(MorphableReconError::NoSuchFace {
            index: options.face_index,
            count: faces.len(),
        })?;
    let t = Instant::now();
    let landmarks = detector
        .landmarks(img, face)
        .map_err(Pix2pixReconError::from)?;
    times.landmarks = t.elapsed();
    let t = Instant::now();
    let crop = model_crop(img, &landmarks, options.upscaler)?;
    debug_assert_eq!(crop.image.width(), CROP_SIDE);
    times.crop = t.elapsed();
    let t = Instant::now();
    let fitted = fit(model, &landmarks_in_crop(&landmarks, &crop), &options.fit)?;
    let vertices = fitted.vertices(model);
    times.fit = t.elapsed();
    let t = Instant::now();
    let refinement = refiner
        .map(|r| refine_vertices(&vertices, &model.triangles, &crop.image, r))
        .transpose()?;
    times.refine = t.elapsed();
    let t = Instant::now();
    let positions = refinement.as_ref().map_or(vertices, |r| r.vertices.clone());
    let mesh = dense_mesh(positions, model, &crop.image)?;
    times.mesh = t.elapsed();
    Ok(MorphableFace {
        mesh,
        crop,
        landmarks,
        fit: fitted,
        refinement,
        times,
    })
}
