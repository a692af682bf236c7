//! The `pix2pix` method: the prepared face ([`FaceCrop`]: the crop framed like the synthetic
//! training samples, enlarged with the user's upscaler when smaller) -> the U-Net's depth map
//! and head mask ([`super::pix2pix_model`]) -> the face pulled halfway to the `3dmm` fit inside
//! the fit's coverage, which also joins the mask ([`super::fit_prior`],
//! [`DepthPrediction::pulled_towards`]) -> a masked grid mesh (after a light masked blur of the
//! depth) with long edges rejected outside the fit's coverage ([`Mesh::from_depth_within`]) ->
//! optional Taubin smoothing -> vertex colours from the photo.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the [`CROP_SIDE`] crop: +X right,
//! +Y up, +Z towards the camera, crop pixels; z is centred on the mean over the predicted mask
//! (a single image gives depth only up to an offset).

use super::fit_prior::{FitFront, PriorOptions};
use super::morphable::{MorphableError, MorphableModel};
use super::pix2pix_model::{CROP_SIDE, DepthPrediction, NET_SIDE, Pix2pixError, Pix2pixModel};
use super::{FaceCrop, Method, MethodError, Reconstruction, Reconstructor};
use crate::pipeline::mesh::from_depth::{DepthMap, DepthMeshOptions};
use crate::pipeline::mesh::smooth::TaubinOptions;
use crate::pipeline::mesh::{Mesh, MeshError};
use candle_core::Device;
use image::RgbImage;
use image::imageops::{FilterType, resize};
use std::path::Path;

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum Pix2pixReconError {
    /// The network failed.
    #[error(transparent)]
    Model(#[from] Pix2pixError),
    /// The morphable-model fit of the prior failed.
    #[error(transparent)]
    Fit(#[from] MorphableError),
    /// The predicted mask is empty or the mesh is invalid.
    #[error("invalid depth mesh: {0}")]
    Mesh(#[from] MeshError),
    /// No triangle survived the mask and the edge test.
    #[error("the predicted depth map holds no face surface")]
    EmptyMesh,
}

/// How the depth map becomes a mesh.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Longest triangle edge kept, in crop pixels (3D).
    pub max_edge: f32,
    /// Taubin smoothing pairs (0 = none).
    pub smooth_iterations: usize,
    /// 3x3 masked mean passes over the predicted depth before meshing (0 = none).
    pub depth_blur: usize,
    /// How far the face is pulled towards the morphable-model fit ([`super::fit_prior`]);
    /// `None`: the network's depth alone. Inside the fit's coverage the mesh is one sheet (no
    /// edge test there).
    pub prior: Option<PriorOptions>,
    /// 3x3 mean passes over the gap between the network's and the fit's surfaces before the
    /// pull ([`DepthPrediction::pulled_towards`]).
    pub prior_smoothing: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_edge: 8.0,
            smooth_iterations: 5,
            depth_blur: 2,
            prior: Some(PriorOptions::default()),
            prior_smoothing: 8,
        }
    }
}

/// The mesh of a prediction (blurred by `options.depth_blur`) in the crop frame of a
/// `crop_side` crop, coloured from `crop` (any size; resized to the prediction grid). Triangles
/// over `continuous` cells (the prediction's grid; the fit's coverage) escape the edge test.
/// Also answers the depth map the mesh was built from (on the prediction's grid, crop pixels).
///
/// # Errors
/// [`Pix2pixReconError::EmptyMesh`] when nothing survives; an invalid mesh.
pub fn mesh_from_prediction(
    pred: &DepthPrediction,
    crop: &RgbImage,
    crop_side: usize,
    options: &Options,
    continuous: Option<&[bool]>,
) -> Result<(Mesh, DepthMap), Pix2pixReconError> {
    let map = pred
        .one_piece()
        .smoothed(options.depth_blur)
        .depth_map(crop_side);
    let k = crop_side as f32 / map.width.max(1) as f32;
    // Build on the grid in grid units, then scale everything to crop pixels.
    let grid = DepthMap {
        depth: map.depth.iter().map(|z| z / k).collect(),
        ..map.clone()
    };
    let side = u32::try_from(grid.width).unwrap_or(u32::MAX);
    let colors = resize(crop, side, side, FilterType::Triangle);
    let grid_options = DepthMeshOptions {
        max_edge: options.max_edge / k,
    };
    let mut mesh =
        Mesh::from_depth_within(&grid, Some(&colors), grid_options, continuous).largest_component();
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
    Ok((mesh, map))
}

/// The `pix2pix` method: the generator and how its depth map is meshed.
#[derive(Debug)]
pub struct Pix2pixReconstructor {
    /// The generator.
    pub model: Pix2pixModel,
    /// Blur, edge rejection, smoothing and the prior's weight.
    pub options: Options,
    /// The morphable model whose fit guides the face ([`Options::prior`]).
    pub morphable: &'static MorphableModel,
}

impl Pix2pixReconstructor {
    /// The committed generator, or the file `weights`, on `device` (a file loads on the CPU).
    ///
    /// # Errors
    /// [`MethodError::Load`] for weights that do not load.
    pub fn load(device: &Device, weights: Option<&Path>) -> Result<Self, MethodError> {
        let model = match weights {
            Some(p) => Pix2pixModel::load(p),
            None => Pix2pixModel::embedded_on(device),
        }
        .map_err(|e| MethodError::load(Method::Pix2pix, e))?;
        let morphable =
            MorphableModel::shared().map_err(|e| MethodError::load(Method::Pix2pix, e))?;
        Ok(Self {
            model,
            options: Options::default(),
            morphable,
        })
    }

    /// The same method with the face pulled a fraction `weight` of the way to the morphable
    /// fit ([`super::fit_prior`]; 0: the network's depth alone).
    #[must_use]
    pub fn with_prior_weight(mut self, weight: f32) -> Self {
        self.options.prior = PriorOptions::at(weight);
        self
    }

    fn run(&self, photo: &RgbImage, face: &FaceCrop) -> Result<Reconstruction, Pix2pixReconError> {
        let prediction = {
            let _span = tracing::info_span!("network").entered();
            self.model.predict(&face.crop.image)?
        };
        let (prediction, coverage) = match &self.options.prior {
            Some(opts) => {
                let _span = tracing::info_span!("prior").entered();
                let fit = FitFront::of_face(self.morphable, face, NET_SIDE)?;
                let side = face.crop.image.width() as usize;
                let coverage: Vec<bool> = fit.z.iter().map(|z| z.is_finite()).collect();
                let pulled = (prediction.one_piece()).pulled_towards(
                    &fit,
                    side,
                    opts,
                    self.options.prior_smoothing,
                );
                (pulled, Some(coverage))
            }
            None => (prediction, None),
        };
        let _span = tracing::info_span!("mesh").entered();
        let side = CROP_SIDE as usize;
        let (mut mesh, depth) = mesh_from_prediction(
            &prediction,
            &face.crop.image,
            side,
            &self.options,
            coverage.as_deref(),
        )?;
        mesh.colors = face.colours(photo, &mesh.positions);
        Ok(Reconstruction {
            mesh,
            landmark_vertices: None,
            uv_layout: None,
            depth: Some(depth),
        })
    }
}

impl Reconstructor for Pix2pixReconstructor {
    fn method(&self) -> Method {
        Method::Pix2pix
    }

    fn reconstruct(
        &self,
        photo: &RgbImage,
        face: &FaceCrop,
    ) -> Result<Reconstruction, MethodError> {
        self.run(photo, face)
            .map_err(|e| MethodError::failed(Method::Pix2pix, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::reconstruct::pix2pix_model::NET_SIDE;

    /// The mesh, without blur or smoothing, of a `NET_SIDE` prediction whose normalised depth
    /// at (row, column) is `depth(r, c)` where that is some (head) and background elsewhere,
    /// coloured from a uniform 128 px crop.
    fn unsmoothed_mesh(depth: impl Fn(usize, usize) -> Option<f32>) -> Mesh {
        let n = NET_SIDE;
        let cells: Vec<Option<f32>> = (0..n * n).map(|i| depth(i / n, i % n)).collect();
        let pred = DepthPrediction {
            depth: cells.iter().map(|d| d.unwrap_or(-1.0)).collect(),
            mask: cells.iter().map(Option::is_some).collect(),
        };
        let crop = RgbImage::from_pixel(128, 128, image::Rgb([200, 150, 120]));
        let opts = Options {
            smooth_iterations: 0,
            depth_blur: 0,
            ..Options::default()
        };
        mesh_from_prediction(&pred, &crop, 128, &opts, None)
            .unwrap()
            .0
    }

    #[test]
    fn dome_prediction_becomes_a_dome_mesh_in_crop_pixels() {
        // A hemisphere of radius 20 grid px in normalised depth units of a 128 crop.
        let unit = crate::pipeline::reconstruct::pix2pix_model::depth_unit(128);
        let mesh = unsmoothed_mesh(|r, c| {
            let d2 = (r as f32 - 31.5).powi(2) + (c as f32 - 31.5).powi(2);
            (d2 < 400.0).then(|| 2.0 * (400.0 - d2).sqrt() / unit)
        });
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

    /// A flat disc with a hole in it and a far blob beside it: the mesh is one piece (the blob
    /// dropped) with no hole (one border loop), at the disc's depth where the hole was.
    #[test]
    fn islands_are_dropped_and_holes_filled() {
        let mesh = unsmoothed_mesh(|r, c| {
            let d2 = (r as f32 - 31.5).powi(2) + (c as f32 - 31.5).powi(2);
            let hole = (28..32).contains(&r) && (28..32).contains(&c);
            let blob = (2..6).contains(&r) && (2..6).contains(&c);
            ((d2 < 400.0 && !hole) || blob).then_some(0.1)
        });
        let labels = mesh.component_labels();
        assert!(labels.iter().all(|&l| l == labels[0]), "one piece");
        let loops =
            crate::pipeline::reconstruct::morphable::topology::boundary_loops(&mesh.triangles);
        assert_eq!(loops.len(), 1, "no hole");
        let (lo, hi) = mesh.bounds().unwrap();
        assert!(
            lo[0] > 20.0 && lo[1] > 20.0,
            "the blob near the corner is gone: {lo:?}"
        );
        assert!(hi[2] - lo[2] < 1e-3, "flat: {lo:?} {hi:?}");
    }
}
