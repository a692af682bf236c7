//! The `3dmm` and `3dmm-cgan` methods: the prepared face ([`FaceCrop`]: FaceMesh's 468
//! landmarks in the 128 px crop, enlarged with the user's upscaler when the face is smaller) ->
//! the robust morphable-model fit to the landmarks -> (`3dmm-cgan` only: the CGAN refiner's
//! depth correction, [`super::refine`]) -> the dense mesh (about 10,000 vertices, eyes and
//! mouth closed), coloured from the photo.
//!
//! Frame: the crop frame of [`crate::pipeline::mesh`] for the 128 px crop (+X right, +Y up,
//! +Z towards the camera, crop pixels).

use super::depth::rasterise;
use super::fit::{FitOptions, fit};
use super::refine::refine_vertices;
use super::{MorphableError, MorphableModel};
use crate::pipeline::detect::warp;
use crate::pipeline::mesh::from_depth::DepthMap;
use crate::pipeline::mesh::{Mesh, MeshError};
use crate::pipeline::reconstruct::refiner_model::{RefinerError, RefinerModel};
use crate::pipeline::reconstruct::{FaceCrop, Method, MethodError, Reconstruction, Reconstructor};
use candle_core::Device;
use image::RgbImage;
use std::path::Path;

/// Why the method failed.
#[derive(Debug, thiserror::Error)]
pub enum MorphableReconError {
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

/// The `3dmm` method (and `3dmm-cgan`, with a refiner).
#[derive(Debug)]
pub struct MorphableReconstructor {
    /// The morphable model.
    pub model: MorphableModel,
    /// The CGAN refiner (`3dmm-cgan`), or none (`3dmm`).
    pub refiner: Option<RefinerModel>,
    /// The fit's settings.
    pub fit: FitOptions,
    /// Return the fitted identity with a neutral expression (`visage reconstruct --neutral`;
    /// ignored with a refiner, whose correction belongs to the photo's expression).
    pub neutral: bool,
}

impl MorphableReconstructor {
    fn with(model: MorphableModel, refiner: Option<RefinerModel>) -> Self {
        Self {
            model,
            refiner,
            fit: FitOptions::default(),
            neutral: false,
        }
    }

    /// The committed model, or the file `model`; with a refiner generator file `refiner`,
    /// `3dmm-cgan` on that model, the refiner on `device` (see [`Self::load_cgan`] for the
    /// committed refiner). The fit itself runs on the CPU.
    ///
    /// # Errors
    /// [`MethodError::Load`] for files that do not load.
    pub fn load(
        model: Option<&Path>,
        refiner: Option<&Path>,
        device: &Device,
    ) -> Result<Self, MethodError> {
        let method = Method::Morphable;
        let m = match model {
            Some(p) => MorphableModel::load(p),
            None => MorphableModel::embedded(),
        }
        .map_err(|e| MethodError::load(method, e))?;
        let r = refiner
            .map(|p| RefinerModel::load_dce64(p, device))
            .transpose()
            .map_err(|e| MethodError::load(Method::MorphableCgan, e))?;
        Ok(Self::with(m, r))
    }

    /// `3dmm-cgan`: the committed model with the committed refiner, or the generator file
    /// `refiner`, the refiner on `device`.
    ///
    /// # Errors
    /// [`MethodError::Load`] for files that do not load.
    pub fn load_cgan(refiner: Option<&Path>, device: &Device) -> Result<Self, MethodError> {
        let method = Method::MorphableCgan;
        let m = MorphableModel::embedded().map_err(|e| MethodError::load(method, e))?;
        let r = match refiner {
            Some(p) => RefinerModel::load_dce64(p, device),
            None => RefinerModel::embedded(device),
        }
        .map_err(|e| MethodError::load(method, e))?;
        Ok(Self::with(m, Some(r)))
    }

    fn run(
        &self,
        photo: &RgbImage,
        face: &FaceCrop,
    ) -> Result<Reconstruction, MorphableReconError> {
        let fitted = {
            let _span = tracing::info_span!("fit").entered();
            fit(&self.model, &face.points_crop_frame(), &self.fit)?
        };
        let vertices = if self.neutral && self.refiner.is_none() {
            fitted.neutral_vertices(&self.model)
        } else {
            fitted.vertices(&self.model)
        };
        let side = face.crop.image.width() as usize;
        let (positions, depth, mask) = match &self.refiner {
            Some(r) => {
                let _span = tracing::info_span!("refine").entered();
                let r = refine_vertices(&vertices, &self.model.triangles, &face.crop.image, r)?;
                let depth = r.refined.iter().map(|z| z + r.offset).collect();
                (r.vertices, depth, r.coarse.mask)
            }
            None => {
                let (depth, mask) = rasterise(&vertices, &self.model.triangles, side);
                (vertices, depth, mask)
            }
        };
        let _span = tracing::info_span!("mesh").entered();
        let mut mesh = Mesh::new(positions, self.model.triangles.clone());
        mesh.colors = face.colours(photo, &mesh.positions);
        mesh.compute_normals();
        mesh.sanity_check()?;
        Ok(Reconstruction {
            mesh,
            landmark_vertices: Some(self.model.landmarks68.clone()),
            uv_layout: Some(self.model.uvs.clone()),
            depth: Some(DepthMap {
                width: side,
                height: side,
                depth,
                mask,
            }),
        })
    }
}

impl Reconstructor for MorphableReconstructor {
    fn method(&self) -> Method {
        if self.refiner.is_some() {
            Method::MorphableCgan
        } else {
            Method::Morphable
        }
    }

    fn reconstruct(
        &self,
        photo: &RgbImage,
        face: &FaceCrop,
    ) -> Result<Reconstruction, MethodError> {
        let method = self.method();
        self.run(photo, face)
            .map_err(|e| MethodError::failed(method, e))
    }
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
