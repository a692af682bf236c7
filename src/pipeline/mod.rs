//! The pipeline stages, each a plain function or struct shared by the GUI, the CLI, the tests
//! and the training code: photo loading, degradation, upscaling, meshes and their files.

pub mod compare;
pub mod degrade;
pub mod export;
pub mod import;
pub mod mesh;
pub mod photo;
pub mod upscale;
