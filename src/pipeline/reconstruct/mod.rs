//! Reconstruction methods: photo (and its detected face) in, [`crate::pipeline::mesh::Mesh`] out,
//! in the crop frame documented in [`crate::pipeline::mesh`].
//!
//! - [`landmarks`]: FaceMesh's 468 landmarks as a triangulated, photo-coloured mesh; the
//!   baseline every learned method must beat.
//! - [`pix2pix_model`]: the pix2pix depth network's conventions and inference.

pub mod crop;
pub mod landmarks;
pub mod pix2pix_model;
