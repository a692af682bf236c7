//! Reconstruction: one prepared face in, one mesh out, for every method.
//!
//! The one photo-to-mesh path: [`face::prepare`] detects, landmarks and crops the face once
//! (with the user's upscaler), [`load`] gives the [`Reconstructor`] of a [`Method`], and
//! [`Reconstructor::reconstruct`] turns the [`FaceCrop`] into a mesh in the crop frame of
//! [`crate::pipeline::mesh`] ([`FaceCrop::to_photo_frame`] moves it to the photo's frame). The
//! app's worker, `visage reconstruct`, `visage bench` and `visage eval` all go through here.
//!
//! Adding a method: its network file under [`crate::nn`], its module here (a type implementing
//! [`Reconstructor`]), one [`Method`] variant and one arm in [`load`], and its trainer under
//! `train/`.
//!
//! - [`landmarks`]: FaceMesh's 468 landmarks as a triangulated, photo-coloured mesh; the
//!   baseline every learned method must beat.
//! - [`vrn`]: the landmark-guided volumetric regression network (isosurface of a predicted
//!   occupancy volume), with its input encoding in [`vrn_input`].
//! - [`pix2pix`]: a U-Net's depth map of the face crop as a masked grid mesh
//!   ([`pix2pix_model`] holds the network's conventions and inference).
//! - [`morphable`]: the learned morphable model, its robust fit to FaceMesh's landmarks (the
//!   `3dmm` method), refined by the CGAN of [`refiner_model`] for `3dmm-cgan`.
//! - [`crop`]: how the face crop is framed (like the synthetic training samples).

pub mod crop;
pub mod face;
pub mod fit_prior;
pub mod landmarks;
pub mod measured;
pub mod morphable;
pub mod pix2pix;
pub mod pix2pix_model;
pub mod refiner_model;
pub mod texture;
pub mod vrn;
pub mod vrn_input;
pub mod vrn_prior;

pub use face::{
    CROP_SIDE, FaceCrop, FacePick, Prepared, Shrink, prepare, prepare_all, prepare_face,
};

use crate::pipeline::detect::{DetectError, Detector};
use crate::pipeline::mesh::Mesh;
use crate::pipeline::mesh::from_depth::DepthMap;
use crate::pipeline::mesh::probe::DepthProbe;
use crate::pipeline::upscale::{UpscaleError, Upscaler};
use candle_core::Device;
use image::RgbImage;
use std::path::Path;

/// Why a reconstruction failed.
#[derive(Debug, thiserror::Error)]
pub enum MethodError {
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
    /// The landmarks cannot frame a face crop (too few or degenerate).
    #[error("the landmarks cannot frame a face crop")]
    Crop,
    /// Enlarging a small face failed.
    #[error(transparent)]
    Upscale(#[from] UpscaleError),
    /// Shrinking the photo for a simulated low resolution failed.
    #[error(transparent)]
    Shrink(#[from] crate::pipeline::degrade::DegradeError),
    /// The method's weights could not be loaded.
    #[error("{method}: cannot load the weights: {source}")]
    Load {
        /// The method.
        method: Method,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The method itself failed (network, empty surface, invalid mesh).
    #[error("{method}: {source}")]
    Failed {
        /// The method.
        method: Method,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl MethodError {
    /// A failure of `method`.
    pub fn failed(method: Method, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Failed {
            method,
            source: Box::new(e),
        }
    }

    /// A failure to load the weights of `method`.
    pub fn load(method: Method, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Load {
            method,
            source: Box::new(e),
        }
    }
}

/// What a reconstructor returns for one face.
#[derive(Clone, Debug)]
pub struct Reconstruction {
    /// The mesh in the crop frame of the face's [`CROP_SIDE`] crop, coloured from the photo.
    pub mesh: Mesh,
    /// The mesh vertices that are the 68 landmarks (iBUG order), for methods whose mesh has them
    /// (`landmarks`, `3dmm`, `3dmm-cgan`).
    pub landmark_vertices: Option<Vec<u32>>,
    /// The method's depth map of the crop (crop-frame z in crop pixels, larger = nearer, on the
    /// method's own grid over the crop), for methods that make one; the evaluation scores it.
    pub depth: Option<DepthMap>,
    /// A UV layout (one per mesh vertex, mirror symmetric), for methods on the morphable
    /// model's topology: the photo is baked into it ([`texture::bake`]) instead of being laid
    /// on the mesh as it is ([`texture::apply`]).
    pub uv_layout: Option<Vec<[f32; 2]>>,
}

impl Reconstruction {
    /// The reconstruction's own 68 landmarks (iBUG order) in the crop frame: the mesh's
    /// landmark vertices where it has them, otherwise the front end's 68 points of `face`
    /// lifted onto the front-most surface of the mesh (`None` where the mesh does not cover a
    /// point).
    #[must_use]
    pub fn landmarks68(&self, face: &FaceCrop) -> Vec<Option<[f32; 3]>> {
        if let Some(ids) = &self.landmark_vertices {
            return ids
                .iter()
                .map(|&i| self.mesh.positions.get(i as usize).copied())
                .collect();
        }
        let probe = DepthProbe::new(&self.mesh.positions, &self.mesh.triangles);
        let side = face.side();
        face.landmarks68
            .iter()
            .map(|p| {
                let (x, y) = (p[0], side - p[1]);
                probe.front_z(x, y).map(|z| [x, y, z])
            })
            .collect()
    }
}

/// Which frame a mesh is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MeshFrame {
    /// The face crop's frame: +X right, +Y up, +Z towards the camera, in pixels of the 128 px
    /// face crop.
    #[default]
    Crop,
    /// The photo's frame: X = photo column, Y = minus the photo row (+Y up), +Z towards the
    /// camera, all in photo pixels.
    Photo,
}

/// The one photo-to-mesh path: [`prepare_face`], then `method`, then the photo as the mesh's UV
/// texture ([`texture::apply`]). Returns the prepared face (with the photo it was cut from) and
/// the reconstruction (crop frame).
///
/// # Errors
/// No face, no such face, a failed crop or a failed method.
pub fn photo_to_mesh<'a>(
    detector: &Detector,
    method: &dyn Reconstructor,
    photo: &'a RgbImage,
    pick: FacePick,
    upscaler: Upscaler,
    shrink: Option<Shrink>,
) -> Result<(Prepared<'a>, Reconstruction), MethodError> {
    let prepared = prepare_face(detector, photo, pick, upscaler, shrink)?;
    let result = reconstruct_prepared(method, &prepared)?;
    Ok((prepared, result))
}

/// `method` on a prepared face, the photo then laid on the mesh as its UV texture
/// ([`texture::apply`]): the second half of [`photo_to_mesh`], for callers that prepared the
/// faces themselves (every face of a photo, say).
///
/// # Errors
/// The method's failure.
pub fn reconstruct_prepared(
    method: &dyn Reconstructor,
    prepared: &Prepared,
) -> Result<Reconstruction, MethodError> {
    let mut result = method.reconstruct(&prepared.photo, &prepared.face)?;
    match &result.uv_layout {
        Some(layout) => texture::bake(&mut result.mesh, layout, &prepared.photo, &prepared.face),
        None => texture::apply(&mut result.mesh, &prepared.photo, &prepared.face),
    }
    Ok(result)
}

/// A reconstruction method, ready to run.
pub trait Reconstructor: Send {
    /// Which method this is.
    fn method(&self) -> Method;

    /// The mesh of a prepared face of `photo`.
    ///
    /// # Errors
    /// [`MethodError::Failed`] when the method cannot give a valid mesh.
    fn reconstruct(&self, photo: &RgbImage, face: &FaceCrop)
    -> Result<Reconstruction, MethodError>;
}

/// The reconstructor of `method` on `device`, with the committed weights or the file `weights`
/// (a checkpoint: the VRN, the pix2pix generator, the morphable model for `3dmm`, the refiner
/// generator for `3dmm-cgan`; `landmarks` has none).
///
/// # Errors
/// [`MethodError::Load`] for weights that cannot be loaded.
pub fn load(
    method: Method,
    device: &Device,
    weights: Option<&Path>,
) -> Result<Box<dyn Reconstructor>, MethodError> {
    let _span = tracing::info_span!("load", method = method.name()).entered();
    Ok(match method {
        Method::Landmarks => Box::new(landmarks::LandmarkMesh),
        Method::Vrn => Box::new(vrn::VrnReconstructor::load(device, weights)?),
        Method::Pix2pix => Box::new(pix2pix::Pix2pixReconstructor::load(device, weights)?),
        Method::Morphable => Box::new(morphable::method::MorphableReconstructor::load(
            weights, None, device,
        )?),
        Method::MorphableCgan => Box::new(morphable::method::MorphableReconstructor::load_cgan(
            weights, device,
        )?),
    })
}

/// A reconstruction method, shared by `visage reconstruct --method`, `visage eval --method` and
/// the GUI. Add a variant (and its arm in [`load`]) to add a method.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Method {
    /// FaceMesh's 468 landmarks, triangulated and coloured (the baseline).
    #[default]
    Landmarks,
    /// The landmark-guided VRN: an occupancy volume from the face crop, meshed at its isosurface.
    Vrn,
    /// pix2pix: a U-Net depth map of the face crop, meshed as a masked grid.
    Pix2pix,
    /// The learned morphable model fitted to FaceMesh's 468 landmarks (coarse 3DMM).
    #[value(name = "3dmm")]
    #[serde(rename = "3dmm")]
    Morphable,
    /// The morphable-model fit refined by the conditional GAN (Galteri et al. 2019).
    #[value(name = "3dmm-cgan")]
    #[serde(rename = "3dmm-cgan")]
    MorphableCgan,
}

impl Method {
    /// Every method, in display order.
    pub const ALL: [Self; 5] = [
        Self::Landmarks,
        Self::Vrn,
        Self::Pix2pix,
        Self::Morphable,
        Self::MorphableCgan,
    ];

    /// Short lowercase name, as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Landmarks => "landmarks",
            Self::Vrn => "vrn",
            Self::Pix2pix => "pix2pix",
            Self::Morphable => "3dmm",
            Self::MorphableCgan => "3dmm-cgan",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
