//! The `pix2pix` method: photo -> face detection -> FaceMesh landmarks -> a crop framed like the
//! synthetic training samples ([`super::crop`]) -> upscaling of small faces with the chosen
//! [`Upscaler`] -> the U-Net's depth map and head mask ([`super::pix2pix_model`]) -> a masked
//! grid mesh (after a light masked blur of the depth) with long edges rejected ([`Mesh::from_depth`]) -> optional Taubin smoothing ->
//! vertex colours from the crop.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the [`CROP_SIDE`] crop: +X right,
//! +Y up, +Z towards the camera, crop pixels; z is centred on the mean over the predicted mask
//! (a single image gives depth only up to an offset).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use visage::pipeline::reconstruct::{pix2pix, pix2pix_model::Pix2pixModel};
//! let photo = visage::pipeline::photo::Photo::load("face.jpg")?;
//! let detector = visage::pipeline::detect::Detector::new(&candle_core::Device::Cpu)?;
//! let model = Pix2pixModel::load(std::path::Path::new("weights/pix2pix.safetensors"))?;
//! let face = pix2pix::reconstruct(&photo.rgb, &detector, &model, &pix2pix::Options::default())?;
//! visage::pipeline::export::save(&face.mesh, std::path::Path::new("face.obj"))?;
//! # Ok(()) }
//! ```

use super::crop::face_roi;
use super::pix2pix_model::{CROP_SIDE, DepthPrediction, Pix2pixError, Pix2pixModel};
use crate::pipeline::detect::warp::Affine2;
use crate::pipeline::detect::{AlignedCrop, DetectError, Detector, Landmarks, aligned_crop};
use crate::pipeline::mesh::from_depth::{DepthMap, DepthMeshOptions};
use crate::pipeline::mesh::smooth::TaubinOptions;
use crate::pipeline::mesh::{Mesh, MeshError};
use crate::pipeline::upscale::{UpscaleError, Upscaler, upscale};
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::time::{Duration, Instant};

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum Pix2pixReconError {
    /// Detection or landmarking failed (e.g. no face).
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// The requested face does not exist.
    #[error("face {index} requested, but only {count} found")]
    NoSuchFace {
        /// Requested index (0 = best score).
        index: usize,
        /// Faces found.
        count: usize,
    },
    /// The landmarks cannot frame a crop (degenerate eye corners).
    #[error("the landmarks do not frame a face crop")]
    NoCrop,
    /// Upscaling failed.
    #[error(transparent)]
    Upscale(#[from] UpscaleError),
    /// The network failed.
    #[error(transparent)]
    Model(#[from] Pix2pixError),
    /// The predicted mask is empty or the mesh is invalid.
    #[error("invalid depth mesh: {0}")]
    Mesh(#[from] MeshError),
    /// No triangle survived the mask and the edge test.
    #[error("the predicted depth map holds no face surface")]
    EmptyMesh,
}

/// Options of the method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Which face, by rank (0 = highest score).
    pub face_index: usize,
    /// How a face smaller than the crop is brought up to [`CROP_SIDE`].
    pub upscaler: Upscaler,
    /// Longest triangle edge kept, in crop pixels (3D).
    pub max_edge: f32,
    /// Taubin smoothing pairs (0 = none).
    pub smooth_iterations: usize,
    /// 3x3 masked mean passes over the predicted depth before meshing (0 = none).
    pub depth_blur: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            face_index: 0,
            upscaler: Upscaler::Bicubic,
            max_edge: 8.0,
            smooth_iterations: 5,
            depth_blur: 2,
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
    /// The U-Net.
    pub network: Duration,
    /// Mesh, smoothing and colours.
    pub mesh: Duration,
}

/// A reconstruction and what it was made from.
#[derive(Clone, Debug)]
pub struct Pix2pixFace {
    /// The mesh in the crop frame.
    pub mesh: Mesh,
    /// The [`CROP_SIDE`] crop (after upscaling) whose frame the mesh lives in.
    pub crop: AlignedCrop,
    /// The landmarks in photo pixels.
    pub landmarks: Landmarks,
    /// The raw network output.
    pub prediction: DepthPrediction,
    /// Time per stage.
    pub times: StageTimes,
}

/// The face crop at [`CROP_SIDE`]: cut at the face's own resolution when that is smaller and
/// brought up with `upscaler`, so low-resolution faces go through the chosen upscaler.
///
/// # Errors
/// [`Pix2pixReconError::NoCrop`] for degenerate landmarks; upscaling errors.
pub fn model_crop(
    photo: &RgbImage,
    landmarks: &Landmarks,
    upscaler: Upscaler,
) -> Result<AlignedCrop, Pix2pixReconError> {
    let roi = face_roi(landmarks).ok_or(Pix2pixReconError::NoCrop)?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let native = roi.size.round().clamp(8.0, CROP_SIDE as f32) as u32;
    if native >= CROP_SIDE {
        return Ok(aligned_crop(photo, &roi, CROP_SIDE));
    }
    let small = aligned_crop(photo, &roi, native);
    let image = upscale(&small.image, upscaler, CROP_SIDE, CROP_SIDE)?;
    let s = CROP_SIDE as f32 / native as f32;
    let crop_from_photo = Affine2::similarity(s, 0.0, [0.0, 0.0]).compose(&small.crop_from_photo);
    Ok(AlignedCrop {
        image,
        crop_from_photo,
    })
}

/// The mesh of a prediction (blurred by `options.depth_blur`) in the crop frame of a
/// `crop_side` crop, coloured from `crop` (any size; resized to the prediction grid).
///
/// # Errors
/// [`Pix2pixReconError::EmptyMesh`] when nothing survives; an invalid mesh.
pub fn mesh_from_prediction(
    pred: &DepthPrediction,
    crop: &RgbImage,
    crop_side: usize,
    options: &Options,
) -> Result<Mesh, Pix2pixReconError> {
    let map = pred.smoothed(options.depth_blur).depth_map(crop_side);
    let k = crop_side as f32 / map.width.max(1) as f32;
    // Build on the grid in grid units, then scale everything to crop pixels.
    let grid = DepthMap {
        depth: map.depth.iter().map(|z| z / k).collect(),
        ..map
    };
    let side = u32::try_from(grid.width).unwrap_or(u32::MAX);
    let colors = resize(crop, side, side, FilterType::Triangle);
    let grid_options = DepthMeshOptions {
        max_edge: options.max_edge / k,
    };
    let mut mesh = Mesh::from_depth(&grid, Some(&colors), grid_options);
    if mesh.triangles.is_empty() {
        return Err(Pix2pixReconError::EmptyMesh);
    }
    for p in &mut mesh.positions {
        *p = p.map(|v| v * k);
    }
    if options.smooth_iterations > 0 {
        mesh.taubin_smooth(TaubinOptions {
            iterations: options.smooth_iterations,
            ..TaubinOptions::default()
        });
    } else {
        mesh.compute_normals();
    }
    mesh.sanity_check()?;
    Ok(mesh)
}

/// Detects the faces, landmarks the chosen one, predicts its depth and builds the mesh.
///
/// # Errors
/// No face, no such face index, a degenerate crop, network failure or an empty mesh.
pub fn reconstruct(
    img: &RgbImage,
    detector: &Detector,
    model: &Pix2pixModel,
    options: &Options,
) -> Result<Pix2pixFace, Pix2pixReconError> {
    let mut times = StageTimes::default();
    let t = Instant::now();
    let faces = detector.faces(img)?;
    times.detect = t.elapsed();
    let face = faces
        .get(options.face_index)
        .ok_or(Pix2pixReconError::NoSuchFace {
            index: options.face_index,
            count: faces.len(),
        })?;
    let t = Instant::now();
    let landmarks = detector.landmarks(img, face)?;
    times.landmarks = t.elapsed();
    let t = Instant::now();
    let crop = model_crop(img, &landmarks, options.upscaler)?;
    times.crop = t.elapsed();
    let t = Instant::now();
    let prediction = model.predict(&crop.image)?;
    times.network = t.elapsed();
    let t = Instant::now();
    let mesh = mesh_from_prediction(&prediction, &crop.image, CROP_SIDE as usize, options)?;
    times.mesh = t.elapsed();
    Ok(Pix2pixFace {
        mesh,
        crop,
        landmarks,
        prediction,
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::reconstruct::pix2pix_model::NET_SIDE;

    #[test]
    fn dome_prediction_becomes_a_dome_mesh_in_crop_pixels() {
        // A hemisphere of radius 20 grid px in normalised depth units of a 128 crop.
        let n = NET_SIDE;
        let unit = crate::pipeline::reconstruct::pix2pix_model::depth_unit(128);
        let (mut depth, mut mask) = (vec![-1.0; n * n], vec![false; n * n]);
        for r in 0..n {
            for c in 0..n {
                let d2 = (r as f32 - 31.5).powi(2) + (c as f32 - 31.5).powi(2);
                if d2 < 400.0 {
                    depth[r * n + c] = 2.0 * (400.0 - d2).sqrt() / unit;
                    mask[r * n + c] = true;
                }
            }
        }
        let pred = DepthPrediction { depth, mask };
        let crop = RgbImage::from_pixel(128, 128, image::Rgb([200, 150, 120]));
        let opts = Options {
            smooth_iterations: 0,
            depth_blur: 0,
            ..Options::default()
        };
        let mesh = mesh_from_prediction(&pred, &crop, 128, &opts).unwrap();
        let (lo, hi) = mesh.bounds().unwrap();
        // 40 grid px across = 80 crop px; up to 40 crop px high (2 x radius 20 grid px), less
        // the steep rim whose long edges are cut.
        assert!((hi[0] - lo[0] - 78.0).abs() < 3.0, "{lo:?} {hi:?}");
        let height = hi[2] - lo[2];
        assert!((28.0..=40.0).contains(&height), "{lo:?} {hi:?}");
        // The highest point is at the centre.
        let top = mesh
            .positions
            .iter()
            .max_by(|a, b| a[2].total_cmp(&b[2]))
            .unwrap();
        assert!(
            (top[0] - 64.0).abs() < 3.0 && (top[1] - 64.0).abs() < 3.0,
            "{top:?}"
        );
        assert!((mesh.colors[0][0] - 200.0 / 255.0).abs() < 1e-3);
    }
}
