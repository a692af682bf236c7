//! Every reconstruction method as the evaluation runs it: [`crop_reconstructor`] maps a
//! [`Method`] to its [`CropReconstructor`] on a 128 px face crop. A new method is one match arm
//! there and one `impl CropReconstructor` here; `visage eval recon`, `visage eval report` and
//! `visage bench` pick it up through [`Method::ALL`].
//!
//! - `landmarks`: FaceMesh's 468 points on the crop, triangulated (relative depth).
//! - `vrn`: the occupancy volume's isosurface (absolute crop-frame depth).
//! - `pix2pix`: the depth map's masked grid (relative depth), with its depth MAE on the head
//!   mask at the network's 64 px grid, after the pipeline's masked blur, in crop pixels.
//! - `3dmm`: the morphable-model fit's dense mesh ([`super::morphable`]), with its depth MAE on
//!   the face region.
//! - `3dmm-cgan`: the same fit refined by the CGAN (`--weights`: a refiner generator), same
//!   measures on the same pixels.
//! - [`DepthOracle`]: pix2pix's meshing applied to the *true* depth and mask, the floor of the
//!   depth-map representation (`visage eval recon --method pix2pix --oracle-depth`).

use super::depth::centred_mae;
use super::recon::{CropInput, CropOutput, CropReconstructor, DepthTruth};
use crate::nn::refiner::RefinerConfig;
use crate::pipeline::detect::AlignedCrop;
use crate::pipeline::detect::Detector;
use crate::pipeline::detect::warp::Affine2;
use crate::pipeline::reconstruct::morphable::MorphableModel;
use crate::pipeline::reconstruct::pix2pix::{self, mesh_from_prediction};
use crate::pipeline::reconstruct::pix2pix_model::{
    CROP_SIDE, DepthPrediction, NET_SIDE, Pix2pixModel, depth_unit, normalised_target,
};
use crate::pipeline::reconstruct::refiner_model::{RefinerModel, SHIPPED_RGB};
use crate::pipeline::reconstruct::vrn::{self, VrnModel, mesh_from_volume};
use crate::pipeline::reconstruct::{Method, landmarks};
use anyhow::Context;
use candle_core::Device;
use std::path::Path;
use std::time::Instant;

/// The crop reconstructor of `method` on `device`, with the committed weights or the file
/// `weights` (a checkpoint; methods without weights ignore it).
///
/// # Errors
/// Weights that cannot be loaded.
pub fn crop_reconstructor(
    method: Method,
    device: &Device,
    weights: Option<&Path>,
) -> anyhow::Result<Box<dyn CropReconstructor>> {
    let reconstructor: Box<dyn CropReconstructor> = match method {
        Method::Landmarks => Box::new(LandmarkCrop),
        Method::Vrn => Box::new(VrnCrop::load(device, weights, vrn::Options::default())?),
        Method::Pix2pix => Box::new(match weights {
            Some(p) => Pix2pixModel::load(p)?,
            None => Pix2pixModel::embedded()?,
        }),
        Method::Morphable => Box::new(super::morphable::MorphableCrop {
            detector: Detector::new(device)?,
            model: match weights {
                Some(p) => MorphableModel::load(p)?,
                None => MorphableModel::embedded()?,
            },
            refiner: None,
        }),
        Method::MorphableCgan => Box::new(super::morphable::MorphableCrop {
            detector: Detector::new(device)?,
            model: MorphableModel::embedded()?,
            refiner: Some(match weights {
                Some(p) => RefinerModel::load(p, &RefinerConfig::dce64(SHIPPED_RGB))?,
                None => RefinerModel::embedded()?,
            }),
        }),
    };
    Ok(reconstructor)
}

/// The `landmarks` method on a crop: needs FaceMesh's full result.
pub struct LandmarkCrop;

impl CropReconstructor for LandmarkCrop {
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        _truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput> {
        let lm = input
            .facemesh
            .context("the landmarks method needs FaceMesh's 468 points on the crop")?;
        let t = Instant::now();
        let frame = AlignedCrop {
            image: input.crop.clone(),
            crop_from_photo: Affine2::IDENTITY,
        };
        let mesh = landmarks::mesh_from_landmarks(input.crop, lm, &frame)?;
        Ok(CropOutput {
            mesh,
            depth_mae_px: None,
            network_s: 0.0,
            mesh_s: t.elapsed().as_secs_f64(),
        })
    }

    fn relative_depth(&self) -> bool {
        true
    }
}

/// The `vrn` method on a crop, meshed with `options` (the iso level and smoothing; the face
/// index and upscaler do not apply to a crop).
pub struct VrnCrop {
    /// The network.
    pub model: VrnModel,
    /// How the volume is meshed.
    pub options: vrn::Options,
}

impl VrnCrop {
    /// The committed weights, or the file `weights`, on `device`.
    ///
    /// # Errors
    /// Weights that cannot be loaded.
    pub fn load(
        device: &Device,
        weights: Option<&Path>,
        options: vrn::Options,
    ) -> anyhow::Result<Self> {
        let model = match weights {
            Some(p) => VrnModel::from_file(p, device)?,
            None => VrnModel::embedded(device)?,
        };
        Ok(Self { model, options })
    }
}

impl CropReconstructor for VrnCrop {
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        _truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput> {
        let t = Instant::now();
        let volume = self.model.volume(input.crop, input.landmarks68)?;
        let network_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mesh = mesh_from_volume(&volume, input.crop.width(), &self.options)?;
        Ok(CropOutput {
            mesh,
            depth_mae_px: None,
            network_s,
            mesh_s: t.elapsed().as_secs_f64(),
        })
    }
}

impl CropReconstructor for Pix2pixModel {
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput> {
        let options = pix2pix::Options::default();
        let t = Instant::now();
        let pred = self.predict(input.crop)?;
        let network_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mesh = mesh_from_prediction(&pred, input.crop, CROP_SIDE as usize, &options)?;
        let mesh_s = t.elapsed().as_secs_f64();
        let depth_mae_px = truth.and_then(|truth| {
            let (z, m) = normalised_target(truth.depth, truth.mask, truth.side, NET_SIDE);
            let mask: Vec<bool> = m.iter().map(|&v| v > 0.0).collect();
            let blurred = pred.smoothed(options.depth_blur);
            centred_mae(&blurred.depth, &z, &mask).map(|e| e * depth_unit(truth.side))
        });
        Ok(CropOutput {
            mesh,
            depth_mae_px,
            network_s,
            mesh_s,
        })
    }

    fn relative_depth(&self) -> bool {
        true
    }
}

/// pix2pix's meshing of the ground-truth depth and mask at the network's grid: what any
/// pix2pix network could at best give (needs the truth; fails without it).
pub struct DepthOracle;

impl CropReconstructor for DepthOracle {
    fn reconstruct_crop(
        &self,
        input: &CropInput,
        truth: Option<&DepthTruth>,
    ) -> anyhow::Result<CropOutput> {
        let truth = truth.context("the depth oracle needs the ground-truth depth")?;
        let t = Instant::now();
        let (depth, m) = normalised_target(truth.depth, truth.mask, truth.side, NET_SIDE);
        let pred = DepthPrediction {
            depth,
            mask: m.iter().map(|&v| v > 0.0).collect(),
        };
        let options = pix2pix::Options::default();
        let mesh = mesh_from_prediction(&pred, input.crop, CROP_SIDE as usize, &options)?;
        Ok(CropOutput {
            mesh,
            depth_mae_px: None,
            network_s: 0.0,
            mesh_s: t.elapsed().as_secs_f64(),
        })
    }

    fn relative_depth(&self) -> bool {
        true
    }
}
