//! Reconstruction methods: photo (and its detected face) in, [`crate::pipeline::mesh::Mesh`] out,
//! in the crop frame documented in [`crate::pipeline::mesh`].
//!
//! - [`landmarks`]: FaceMesh's 468 landmarks as a triangulated, photo-coloured mesh; the
//!   baseline every learned method must beat.
//! - [`vrn`]: the landmark-guided volumetric regression network (isosurface of a predicted
//!   occupancy volume), with its input encoding in [`vrn_input`].
//! - [`pix2pix`]: a U-Net's depth map of the face crop as a masked grid mesh
//!   ([`pix2pix_model`] holds the network's conventions and inference).
//! - [`morphable`]: the learned morphable model, its robust fit to FaceMesh's landmarks (the
//!   `3dmm` method) and the coarse depth map the CGAN refiner starts from.
//! - [`refiner_model`]: the CGAN refiner of a coarse morphable-model depth map (network input,
//!   inference, embedded weights).
//! - [`crop`]: the face crop framed like the synthetic training samples.
//!
//! [`Method`] names them for the CLI, the GUI and the evaluation; a new method adds a variant.

pub mod crop;
pub mod landmarks;
pub mod morphable;
pub mod pix2pix;
pub mod pix2pix_model;
pub mod refiner_model;
pub mod vrn;
pub mod vrn_input;

/// A reconstruction method, shared by `visage reconstruct --method`, `visage eval recon --method`
/// and the GUI. Add a variant (and its module above) to add a method.
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
